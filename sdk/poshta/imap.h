/* imap.so's extension interface: another module adds IMAP commands and
 * CAPABILITY words. imap.so publishes a struct ps_imap_ext as
 * PS_IMAP_EXT_KIND / PS_IMAP_EXT_NAME; look it up with
 *
 *     struct ps_imap_ext ext;
 *     if (ps_iface_get(PS_IMAP_EXT_KIND, PS_IMAP_EXT_NAME, &ext,
 *                      sizeof(ext)) == 0 && ext.add_command)
 *             ext.add_command("XCOUNT", PS_IMAP_SELECTED, xcount, NULL);
 *
 * from init, with "imap" among the module's requires (what is added there
 * holds in every worker), or from worker_init (each worker adds its own).
 * The struct begins with its size and only grows at the end. Since
 * imap.so 1.0 (SDK ABI 1.2).
 *
 * A command runs on the loop with the session's input paused. It answers
 * with untagged lines and exactly one finish(); finish may come later
 * (from a job's done callback, a timer...): the handler then returns
 * PS_IMAP_PENDING and the session waits, pipelined commands included.
 * Storage calls block, so make them in a job (ps_job_submit): the store
 * and mailbox handles below may be used from the job's work function
 * while the command is pending, and by nobody else meanwhile. */
#ifndef POSHTA_IMAP_H
#define POSHTA_IMAP_H

#include <poshta/types.h>
#include <poshta/storage.h>

#define PS_IMAP_EXT_KIND "imap.ext"
#define PS_IMAP_EXT_NAME "imap"

/* The states a command may run in (RFC 9051 3), or-ed. */
#define PS_IMAP_NOTAUTH 0x1
#define PS_IMAP_AUTH 0x2     /* logged in, no mailbox selected */
#define PS_IMAP_SELECTED 0x4 /* logged in, a mailbox selected */

/* A handler's return: it will call finish() later. */
#define PS_IMAP_PENDING 1

/* One command in progress; valid until its finish() returns. */
struct ps_imap_cmd;

/* Runs when a client sends the command in one of its states; other
 * states get BAD from imap.so. Return 0 once finish() was called,
 * PS_IMAP_PENDING if it will be, or a negative code to close the
 * connection. */
typedef int (*ps_imap_cmd_fn)(struct ps_imap_cmd *cmd, void *arg);

struct ps_imap_ext {
	size_t size; /* sizeof(struct ps_imap_ext) */

	/* Registration. A CAPABILITY word: an atom of printable ASCII, at
	 * most 100 octets ("XCOUNT", "X-FOO=1"). A command: an atom of
	 * letters, digits and '-' up to 32 octets, any case, not one of
	 * imap.so's. Both copied. 0, PS_EEXIST, PS_EINVAL or PS_ENOMEM
	 * (more than 32 of either). */
	int (*add_capability)(const char *word);
	int (*add_command)(const char *name, unsigned states,
			   ps_imap_cmd_fn fn, void *arg);

	/* The command's arguments after its name, parsed (RFC 9051 9): the
	 * text of argument i when it is an atom, a quoted string, a literal
	 * or NIL ("NIL"), with *len_r its octets (literals may hold NUL);
	 * NULL when it is a parenthesized list or there is no such
	 * argument. Valid until finish(). */
	size_t (*nargs)(struct ps_imap_cmd *cmd);
	const char *(*arg)(struct ps_imap_cmd *cmd, size_t i, size_t *len_r);

	/* The session: the logged-in user (NULL before login), that user's
	 * store, and the selected mailbox and its name (NULL when none). */
	const char *(*user)(struct ps_imap_cmd *cmd);
	struct ps_store_user *(*store)(struct ps_imap_cmd *cmd);
	struct ps_mbox *(*mailbox)(struct ps_imap_cmd *cmd);
	const char *(*mailbox_name)(struct ps_imap_cmd *cmd);
	/* The connection, for logging and ps_conn_* queries. */
	struct ps_conn *(*conn)(struct ps_imap_cmd *cmd);

	/* Answers, on the loop only. untagged() sends "* " text CRLF (the
	 * text must hold no CR or LF; use literals yourself if you need
	 * them). finish() sends the tagged status, "OK", "NO" or "BAD",
	 * with an optional response code ("ALERT", without brackets) and a
	 * text, and ends the command. */
	int (*untagged)(struct ps_imap_cmd *cmd, const char *text);
	void (*finish)(struct ps_imap_cmd *cmd, const char *status,
		       const char *code, const char *text);
};

#endif
