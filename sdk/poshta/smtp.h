/* smtp.so's public interface: the events its filter hooks receive, and
 * the "smtp.ext" interface through which another module adds EHLO
 * keywords and verbs. Both are structs that begin with their size and
 * only grow at the end. Since smtp.so 1.0 (SDK ABI 1.1).
 *
 * Hooks (register from init: ps_hook_register(PS_SMTP_HOOK_RCPT, ...)).
 * smtp.so runs each chain after its own checks passed, with input paused,
 * so a pipelining client's next command waits for the verdict:
 *
 *   smtp.connect  a client connected, before the greeting
 *   smtp.helo     HELO or EHLO, syntax checked
 *   smtp.mail     MAIL, accepted by smtp.so (syntax, size, login, owner)
 *   smtp.rcpt     RCPT, accepted by smtp.so (a local user, not over quota)
 *   smtp.data     the whole message is in (after the end of data, or BDAT
 *                 LAST), before delivery: headers, read, add_header
 *   smtp.queued   the message was delivered: informational, the verdict
 *                 is ignored and nothing waits for it
 *
 * Verdicts: CONTINUE and ACCEPT let the command through (ACCEPT skips the
 * rest of the chain); REJECT refuses it permanently and DEFER temporarily.
 * The text given with ps_hook_reply() is sent as it is when it begins
 * with a reply code of the verdict's class and a space ("550 5.7.1
 * Greylisted", "451 4.7.1 Try again later"); any other text follows a
 * default code: "550 5.7.1" for REJECT, "451 4.7.1" for DEFER (at
 * smtp.connect: "554 5.7.1", after which only QUIT is served, and "421
 * 4.7.1", after which the connection closes; there the code must be 554
 * or 421 to be kept). CR and LF in the text become spaces. A refused RCPT
 * drops that recipient only; a refused smtp.data drops the message.
 *
 * Everything an event points to is valid until the handler's verdict
 * (ps_hook_resume for PENDING), and only on the loop thread unless a
 * field says otherwise. */
#ifndef POSHTA_SMTP_H
#define POSHTA_SMTP_H

#include <poshta/types.h>

#define PS_SMTP_HOOK_CONNECT "smtp.connect"
#define PS_SMTP_HOOK_HELO "smtp.helo"
#define PS_SMTP_HOOK_MAIL "smtp.mail"
#define PS_SMTP_HOOK_RCPT "smtp.rcpt"
#define PS_SMTP_HOOK_DATA "smtp.data"
#define PS_SMTP_HOOK_QUEUED "smtp.queued"

/* A listener's "role". */
enum ps_smtp_role {
	PS_SMTP_ROLE_MX = 0,         /* mail for local users, from anyone */
	PS_SMTP_ROLE_SUBMISSION = 1, /* mail from logged-in users */
};

/* The most of the header block an smtp.data event carries. */
#define PS_SMTP_HEADERS_MAX (64 * 1024)

struct ps_smtp_event {
	size_t size;           /* sizeof(struct ps_smtp_event) */
	const char *event;     /* the hook's name, PS_SMTP_HOOK_* */

	/* The connection: every event. */
	const char *client_ip; /* as ps_conn_peer() */
	const char *listener;  /* the listen block's name */
	int role;              /* enum ps_smtp_role */
	const char *helo;      /* the HELO/EHLO argument; NULL before one */
	int esmtp;             /* 1 after EHLO, 0 after HELO */
	int tls;               /* 1 when the connection is encrypted */
	const char *tls_info;  /* "TLSv1.3 TLS_AES_256_GCM_SHA384", or NULL */
	const char *user;      /* the authenticated user, or NULL */

	/* The transaction: from smtp.mail on. */
	const char *sender;      /* MAIL's address, "" for <>; NULL before */
	uint64_t declared_size;  /* MAIL's SIZE=, 0 when not given */
	const char *rcpt;        /* smtp.rcpt: the recipient being decided,
				  * as the client wrote it (a source route
				  * dropped); NULL elsewhere */
	const char *const *rcpts;/* smtp.data, smtp.queued: the accepted
				  * recipients, in order */
	size_t nrcpts;

	/* The message: smtp.data and smtp.queued. */
	const char *queue_id;  /* as in "250 2.0.0 Ok: queued as ID" */
	uint64_t message_size; /* octets received, before our headers */
	/* smtp.data: the header block as received, CRLF lines up to the
	 * empty line (excluded), NUL-terminated; cut at PS_SMTP_HEADERS_MAX
	 * octets (headers_cut 1). The whole message when it has no empty
	 * line. NULL in other events. */
	const char *headers;
	size_t headers_len;
	int headers_cut;
	/* smtp.data: up to len octets of the message as received (after
	 * dot-unstuffing) from offset into buf; *got_r is 0 at the end.
	 * Returns 0 or PS_EIO. It reads a file: call it from a job's work
	 * function for more than a few KiB (any thread, until the verdict).
	 * NULL in other events. */
	int (*read)(const struct ps_smtp_event *ev, uint64_t offset,
		    void *buf, size_t len, size_t *got_r);
	/* smtp.mail, smtp.rcpt, smtp.data: add a header field to the message
	 * as delivered, after smtp.so's Return-Path and Received. name is a
	 * field name (RFC 5322 3.6.8 ftext), value its body: printable
	 * UTF-8, tabs allowed, no CR or LF (one line, written as given).
	 * Copied; dropped with the transaction if it does not deliver.
	 * Returns 0, PS_EINVAL or PS_ENOMEM. Loop thread. NULL elsewhere. */
	int (*add_header)(const struct ps_smtp_event *ev, const char *name,
			  const char *value);

	void *smtp_private; /* smtp.so's own: leave it alone */
};

/* ---- The extension interface ------------------------------------------
 *
 * smtp.so publishes a struct ps_smtp_ext as PS_SMTP_EXT_KIND /
 * PS_SMTP_EXT_NAME. Look it up with
 *
 *     struct ps_smtp_ext ext;
 *     if (ps_iface_get(PS_SMTP_EXT_KIND, PS_SMTP_EXT_NAME, &ext,
 *                      sizeof(ext)) == 0 && ext.add_verb)
 *             ext.add_verb("XPING", xping, NULL);
 *
 * either from init, with "smtp" among the module's requires (what is
 * added there holds in every worker), or from worker_init (each worker
 * adds its own). */

#define PS_SMTP_EXT_KIND "smtp.ext"
#define PS_SMTP_EXT_NAME "smtp"

/* A verb's handler. args is the rest of the command line after the verb
 * and its spaces ("" when none), NUL-terminated, valid during the call;
 * ev holds the connection's and the transaction's facts as above (no
 * message fields, no add_header). Write one complete reply with
 * ps_conn_printf (code, enhanced code, CRLF: "250 2.0.0 Ok\r\n") and
 * return PS_OK, or return PS_DECLINED to let smtp.so answer as it does an
 * unknown command; a negative return closes the connection. It runs on
 * the loop between commands, never during DATA or an AUTH exchange, and
 * must answer before it returns. */
typedef int (*ps_smtp_verb_fn)(struct ps_conn *c, const char *args,
			       const struct ps_smtp_event *ev, void *arg);

struct ps_smtp_ext {
	size_t size; /* sizeof(struct ps_smtp_ext) */
	/* Add a line to the EHLO reply: a keyword and its parameters
	 * ("XFOO BAR"), printable ASCII, at most 500 octets. Copied.
	 * Returns 0, PS_EEXIST (that keyword is offered already), PS_EINVAL
	 * or PS_ENOMEM (more than 32 added). */
	int (*add_keyword)(const char *keyword);
	/* Serve verb (1 to 32 letters, digits and '-', any case) with fn.
	 * Returns 0, PS_EEXIST (smtp.so's own verbs and those added
	 * before), PS_EINVAL or PS_ENOMEM (more than 32 added). */
	int (*add_verb)(const char *verb, ps_smtp_verb_fn fn, void *arg);
};

#endif
