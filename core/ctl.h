/* poshtactl's parts: the command line, configuration and backends
 * (poshtactl.c), domains and aliases (ctl_domains.c), users
 * (ctl_users.c), quota and mailboxes (ctl_store.c), passwords
 * (ctl_password.c), mbox files (ctl_mbox.c, ctl_import.c,
 * ctl_export.c), storage indexes (ctl_index.c), DKIM keys (ctl_dkim.c),
 * the mail queue (ctl_queue.c, ctl_queue_admin.c, ctl_queue_json.c) and
 * moving mail between storage backends (ctl_migrate*.c). A command
 * returns the process's exit status. */
#ifndef PS_CORE_CTL_H
#define PS_CORE_CTL_H

#include <poshta/auth.h>
#include <poshta/queue.h>
#include <poshta/storage.h>
#include <stdio.h>
#include <sys/types.h>

/* Exit statuses. */
#define CTL_OK 0
#define CTL_FAIL 1
#define CTL_USAGE 2

/* One command, checked by the dispatcher and with its backends started. */
struct ctl {
	struct ps_auth_ops auth;     /* zeroed unless the command uses it */
	struct ps_storage_ops store; /* likewise */
	struct ps_queue_ops queue;   /* likewise */
	char **args;                 /* positional arguments */
	int nargs;
	int password_stdin;          /* --password-stdin */
	int hash_stdin;              /* --hash-stdin */
	int purge;                   /* --purge */
	const char *mailbox;         /* --mailbox, else "INBOX" */
	FILE *file;                  /* import's input, export's output,
				      * the new key file */
	const char *file_name;       /* for messages */
	const char *key_type;        /* dkim keygen --type */
	const char *key_bits;        /* --bits */
	const char *key_out;         /* --out */
	int held;                    /* queue list --held */
	int json;                    /* queue list --json */
	int body;                    /* queue show --body */
	const char *state_dir;       /* the configuration's */
	const char *migrate_from;    /* migrate --from */
	const char *migrate_to;      /* migrate --to */
	int replies;                 /* migrate-dump, migrate-load --replies:
				      * the target's replies (ctl_migrate.h)
				      * on the source's stdin, from the
				      * target's CTL_MIGRATE_REPLY_FD */
};

/* "poshtactl: " and the message on stderr; returns CTL_FAIL. */
int ctl_fail(const char *fmt, ...) PS_PRINTF(1, 2);

/* Room for element n of the array v of *cap elements of size bytes: v,
 * or a larger copy (*cap updated), or NULL with v left as it was. */
void *ctl_grow(void *v, size_t *cap, size_t n, size_t size);

/* A backend's answer r as an exit status, saying why on failure. */
int ctl_done(int r, const struct ps_error *err);

/* A backend may lack an operation (a read-only one, or one built for an
 * older table, which reads NULL): CTL_LACKS(c->auth, user_add) says so
 * on stderr and is true. */
#define CTL_LACKS(table, op) \
	(!(table).op && ctl_fail("the backend has no " #op " operation"))

/* ctl_domains.c */
int ctl_domain_add(struct ctl *c);
int ctl_domain_del(struct ctl *c);
int ctl_domain_list(struct ctl *c);
int ctl_alias_add(struct ctl *c);
int ctl_alias_del(struct ctl *c);
int ctl_alias_list(struct ctl *c);
int ctl_alias_resolve(struct ctl *c);

/* ctl_users.c */
int ctl_user_add(struct ctl *c);
int ctl_user_passwd(struct ctl *c);
int ctl_user_del(struct ctl *c);
int ctl_user_list(struct ctl *c);
int ctl_user_enable(struct ctl *c);
int ctl_user_disable(struct ctl *c);
int ctl_user_verify(struct ctl *c);

/* ctl_store.c */
int ctl_quota_set(struct ctl *c);
int ctl_quota_get(struct ctl *c);
int ctl_mailbox_list(struct ctl *c);
/* "1G", "512K" or bytes: the largest unit that divides n exactly. */
void ctl_format_size(char buf[32], uint64_t n);
/* Look address up (auth) and open its store; *u_r to user_close. The
 * canonical name goes to name (PS_AUTH_NAME_MAX + 1 bytes). */
int ctl_open_user(struct ctl *c, const char *address, char *name,
		  struct ps_store_user **u_r);

/* ctl_password.c: a new password, read as --password-stdin says (one
 * line of stdin, or twice from the terminal with echo off), hashed with
 * the core's ps_password_hash into hash (128 bytes or more). */
int ctl_password_new(const struct ctl *c, char *hash, size_t len);
#define CTL_PASSWORD_MAX 1024 /* bytes, with the line end */
/* A password to check, read the same way but asked only once, into buf
 * (wiped by the caller). */
int ctl_password_read(const struct ctl *c, const char *prompt, char *buf,
		      size_t len);

/* ctl_mbox.c: what reading and writing mbox files (RFC 4155, the mboxrd
 * variant) share. A line reader hands out pieces: a whole line with its
 * LF, or CTL_LINE_PIECE bytes of a longer one (never splitting CR LF),
 * or a last line without a line end; memory stays bounded whatever the
 * input. */
#define CTL_LINE_PIECE 65536
typedef ssize_t (*ctl_read_fn)(void *src, void *buf, size_t len);
struct ctl_lines {
	ctl_read_fn read;   /* bytes read, 0 at the end, -1 on error */
	void *src;
	size_t start, end;
	int eof;
	int bol;            /* the next piece begins a line */
	unsigned long line; /* the line the last piece belongs to, from 1 */
	char buf[2 * CTL_LINE_PIECE];
};
struct ctl_lines *ctl_lines_new(ctl_read_fn read, void *src);
/* Start again from the source's current position (a new message). */
void ctl_lines_reset(struct ctl_lines *r);
/* 1 with the next piece (bol: it begins a line), 0 at the end, -1 when
 * read failed. The piece is valid until the next call. */
int ctl_lines_next(struct ctl_lines *r, const char **p_r, size_t *len_r,
		   int *bol_r);
/* An empty line: LF or CR LF. */
int ctl_mbox_blank(const char *p, size_t len);
/* A line starting "From ", and one starting ">"* "From " (which mboxrd
 * writes with one more '>'). */
int ctl_mbox_from(const char *p, size_t len);
int ctl_mbox_quoted(const char *p, size_t len);
/* The date of a From_ line (UTC), or -1 when it does not parse. */
int64_t ctl_mbox_from_date(const char *p, size_t len);
/* "From MAILER-DAEMON Thu Jan  1 00:00:00 1970\n" for date. */
void ctl_mbox_from_line(char buf[80], int64_t date);
/* Whether a header line is Status: or X-Status:, adding the flags its
 * letters stand for to *flags. */
int ctl_mbox_status_header(const char *p, size_t len, unsigned *flags);
/* The Status: and X-Status: lines for flags ("" when none apply). */
void ctl_mbox_status_lines(char buf[64], unsigned flags);

/* ctl_import.c, ctl_export.c */
int ctl_import_mbox(struct ctl *c);
int ctl_export_mbox(struct ctl *c);

/* ctl_index.c: a storage index rebuilt from the mail (user_reindex). */
int ctl_index_rebuild(struct ctl *c);

/* ctl_dkim.c: the arguments checked, the key made and --out created
 * (prepare, with the invoking user's rights); then the key written and
 * its DNS record printed. */
int ctl_dkim_prepare(struct ctl *c);
int ctl_dkim_keygen(struct ctl *c);

/* ctl_queue.c: reading the queue, and what its other files share. */
int ctl_queue_list(struct ctl *c);
int ctl_queue_show(struct ctl *c);
/* Every positional argument is a queue id (16 lower-case hex digits);
 * else each one that is not is named on stderr and CTL_FAIL returned. */
int ctl_queue_check_ids(const struct ctl *c);
/* "2026-01-02T03:04:05Z" (ISO 8601, UTC) for t, "-" for 0. */
void ctl_format_time(char buf[32], int64_t t);
/* Names of bits, in tables ending with a NULL name. */
struct ctl_name {
	unsigned bit;
	const char *name;
};
extern const struct ctl_name ctl_queue_flags[], ctl_queue_notify[],
	ctl_queue_report[];
const char *ctl_queue_state(enum ps_queue_state s);
const char *ctl_queue_ret(int ret);
const char *ctl_queue_kind(unsigned kind);

/* ctl_queue_json.c: octets of the valid UTF-8 sequence at s (libpsmime's
 * check, RFC 3629 4), or 0. */
size_t ctl_utf8_len(const char *s);
/* One message and its recipients as one line of JSON
 * (RFC 8259); times in seconds since the epoch, 0 for none. */
void ctl_queue_json(FILE *f, const struct ps_queue_msg *m,
		    const struct ps_queue_rcpt *rcpts, size_t n);

/* ctl_migrate.c (the command), ctl_migrate_dump.c (the hidden source
 * side), ctl_migrate_load.c (the hidden target side); the stream between
 * them is ctl_migrate.h's. */
int ctl_migrate(struct ctl *c);
int ctl_migrate_dump(struct ctl *c);
int ctl_migrate_load(struct ctl *c);
/* ctl_migrate_progress.c: the last source UID committed into a mailbox
 * (0: none yet, and *mode_r 0) and how: CTL_MIGRATE_KEPT (the source's
 * UIDs) or CTL_MIGRATE_NEW (new ones). */
#define CTL_MIGRATE_REPLY_FD 3
#define CTL_MIGRATE_KEPT 'K'
#define CTL_MIGRATE_NEW 'N'
int ctl_migrate_progress_load(const char *state_dir, const char *user,
			      const char *mailbox, uint32_t uidvalidity,
			      char *mode_r, uint32_t *last_r,
			      struct ps_error *err);
int ctl_migrate_progress_save(const char *state_dir, const char *user,
			      const char *mailbox, uint32_t uidvalidity,
			      char mode, uint32_t last, struct ps_error *err);

/* ctl_queue_admin.c */
int ctl_queue_flush(struct ctl *c);
int ctl_queue_hold(struct ctl *c);
int ctl_queue_release(struct ctl *c);
int ctl_queue_delete(struct ctl *c);

#endif
