/* smtp.so's internals shared by its files: the worker's configuration,
 * the session the core allocates per connection, and each file's entry
 * points. The grammar (command.h) and the message data (body.h) are pure
 * and live apart, for the unit test and the fuzzer. */
#ifndef SMTPD_H
#define SMTPD_H

#include <poshta/poshta.h>
#include <poshta/queue.h>
#include <poshta/smtp.h>

#include "body.h"
#include "command.h"

#define SMTP_CMD_LINE 998     /* 1000 octets with CRLF: RFC 5321 4.5.3.1.4
			       * allows extensions to pass 512, and 1000
			       * covers MAIL with every parameter */
#define SMTP_DATA_LINE 65536  /* a text line in DATA: 4.5.3.1.6 says 1000,
			       * real mail has longer; past this the
			       * message is refused and the session ends */
#define SMTP_DATA_LINE_TEXT "65536"
#define SMTP_TIMEOUT_MS (5 * 60 * 1000) /* 4.5.3.2.7 */
#define SMTP_ID_MAX 48

/* The smtp block and the backends, read in each worker (module.c). */
struct smtp_config {
	uint64_t max_size;
	size_t max_rcpts;
	unsigned max_errors;
	unsigned max_hops;
	uint64_t rcpt_cache_ms; /* recipient_cache_ttl; 0: off */
	int vrfy;
	int sender_login_match;
	const char *hostname;
	const char *state_dir;
	int have_auth, have_store, have_queue;
	struct ps_auth_ops auth;
	struct ps_storage_ops store;
	struct ps_queue_ops queue;       /* submission's remote recipients */
	struct smtp_dkim *dkim;          /* dkim_sign keys (dkim_sign.c) */
	size_t ndkim;
};
extern struct smtp_config smtp_cfg;

enum smtp_state {
	SMTP_INIT,    /* greeted, no HELO/EHLO yet */
	SMTP_REFUSED, /* smtp.connect refused: only QUIT (RFC 5321 3.1) */
	SMTP_READY,   /* HELO/EHLO done, no transaction */
	SMTP_MAIL,    /* MAIL accepted */
	SMTP_RCPT,    /* at least one RCPT accepted */
	SMTP_DATA,    /* reading DATA lines */
	SMTP_BDAT,    /* BDAT chunks accepted, LAST not yet */
};

/* An accepted recipient and the local users it reaches. */
struct smtp_rcpt_entry {
	char *addr;
	char **users;
	uint64_t *quotas;
	size_t nusers;
	unsigned notify;  /* RFC 3461, kept for the relay's DSNs */
	char *orcpt;
	int remote;       /* another server's: enqueued (enqueue.c) */
	char **forwards;  /* remote targets of its aliases: enqueued */
	size_t nforwards;
};

struct smtp_session {
	struct ps_conn *conn;
	enum smtp_state state;
	int esmtp;
	int role;                        /* enum ps_smtp_role */
	char helo[SMTP_DOMAIN_MAX + 1];  /* "" before HELO/EHLO */
	char user[PS_AUTH_NAME_MAX + 1]; /* "" until AUTH succeeds */
	struct ps_sasl *sasl;
	int sasl_reply;                  /* a 334 is out: the next line
					  * answers it */
	int sasl_wait;                   /* smtp_wait for the core's report */
	unsigned errors;
	unsigned waiting;                /* asynchronous steps in flight */
	int closed;                      /* on_close ran */
	int shutdown;                    /* the server is going down */
	int reading;                     /* inside DATA or a BDAT chunk */
	unsigned nqueued;                /* messages, for queue IDs */

	/* The transaction. */
	struct smtp_mail mail;
	struct smtp_rcpt pending;        /* the RCPT being decided */
	struct smtp_rcpt_entry next_rcpt;/* ...and what it resolved to */
	struct smtp_rcpt_entry *rcpts;
	const char **rcpt_addrs;         /* rcpts' addresses, for events */
	size_t nrcpts;
	unsigned rcpt_tried;
	char *added;                     /* header fields from filters */
	size_t added_len;

	/* The message. */
	struct smtp_body body;
	struct smtp_spool spool;
	int too_big;
	int toolong;                     /* a DATA line passed SMTP_DATA_LINE */
	int bdat_discard;                /* the chunk being read is refused */
	int bdat_last;
	uint64_t bdat_size;
	const char *bdat_error;          /* the refusal, once it is read */
	char queue_id[SMTP_ID_MAX];
	char *headers;                   /* ev.headers */

	struct ps_smtp_event ev;         /* what the running chain sees */
	void (*hook_next)(struct smtp_session *s, int pass);
};

/* session.c: replies, the command table, asynchronous steps. */
int smtp_reply(struct smtp_session *s, const char *fmt, ...) PS_PRINTF(2, 3);
void smtp_wait(struct smtp_session *s);
void smtp_unwait(struct smtp_session *s);
void smtp_boundary(struct smtp_session *s);
void smtp_goodbye(struct smtp_session *s);
int smtp_command(struct smtp_session *s, const char *line, size_t len,
		 unsigned flags);
void smtp_txn_reset(struct smtp_session *s);
void smtp_rcpt_entry_free(struct smtp_rcpt_entry *e);
void smtp_session_free(struct smtp_session *s);
int smtp_greet(struct smtp_session *s);
int smtp_tls_required(struct smtp_session *s);

/* ehlo.c */
int smtp_cmd_ehlo(struct smtp_session *s, const char *args, size_t len,
		  int esmtp);
int smtp_cmd_help(struct smtp_session *s);

/* envelope.c: MAIL, RCPT, VRFY. */
int smtp_cmd_mail(struct smtp_session *s, const char *args, size_t len);
int smtp_cmd_rcpt(struct smtp_session *s, const char *args, size_t len);
int smtp_cmd_vrfy(struct smtp_session *s, const char *args, size_t len);

/* lookup.c: resolve and quota on the thread pool. */
enum smtp_lookup_kind { SMTP_LOOK_RCPT, SMTP_LOOK_SENDER, SMTP_LOOK_VRFY };
struct smtp_lookup {
	struct smtp_session *s;
	enum smtp_lookup_kind kind;
	char addr[PS_AUTH_NAME_MAX + 1];
	char user[PS_AUTH_NAME_MAX + 1]; /* SENDER: who must own addr */
	int postmaster; /* RCPT: "<Postmaster>", no domain (RFC 5321
			 * 4.1.1.3) */
	uint64_t size;  /* RCPT: MAIL's SIZE=, 0 when not declared */
	int result;     /* 0, PS_ENOENT, PS_AUTH_ENOTLOCAL, PS_EINVAL, ... */
	int remote;     /* a target is another server's */
	int owned;      /* SENDER: user is among the targets */
	int full;       /* RCPT: no local target has room */
	int cached;     /* RCPT: answered by the recipient cache */
	size_t checked; /* RCPT: users whose quota the backend told */
	char **users;
	uint64_t *quotas;
	size_t nusers;
	char **forwards; /* RCPT: remote targets of aliases */
	size_t nforwards;
	struct ps_error err;
	void (*done)(struct smtp_session *s, struct smtp_lookup *l);
};
int smtp_lookup_start(struct smtp_lookup *l);
void smtp_lookup_free(struct smtp_lookup *l);

/* rcpt_cache.c: recent RCPT answers, recipient_cache_ttl long. */
int smtp_rcpt_cache_get(struct smtp_lookup *l);
void smtp_rcpt_cache_put(const struct smtp_lookup *l);
void smtp_rcpt_cache_free(void);

/* auth.c */
int smtp_cmd_auth(struct smtp_session *s, const char *args, size_t len);
int smtp_auth_answer(struct smtp_session *s, const char *line, size_t len,
		     unsigned flags);

/* data.c: DATA and BDAT. */
int smtp_cmd_data(struct smtp_session *s, const char *args, size_t len);
int smtp_data_line(struct smtp_session *s, const char *line, size_t len,
		   unsigned flags);
int smtp_cmd_bdat(struct smtp_session *s, const char *args, size_t len);
int smtp_bdat_bytes(struct smtp_session *s, const char *data, size_t len,
		    size_t left);

/* deliver.c: the message into each user's INBOX, then the reply. */
void smtp_deliver(struct smtp_session *s);

/* enqueue.c: the remote recipients into the queue, durable before the
 * reply. head is the trace and filters' fields without Return-Path; sp
 * and head stay until done(arg, result) runs on the loop. */
int smtp_has_remote(const struct smtp_session *s);
int smtp_enqueue(struct smtp_session *s, const struct smtp_spool *sp,
		 const char *head, size_t head_len, int64_t now,
		 void (*done)(void *arg, int result), void *arg);

/* dkim_sign.c: the dkim_sign directive's keys and the signing (RFC
 * 6376), on a pool thread. */
struct smtp_dkim;
int smtp_dkim_load(struct ps_error *err);
void smtp_dkim_free(void);
const struct smtp_dkim *smtp_dkim_find(const char *headers, size_t len);
const char *smtp_dkim_domain(const struct smtp_dkim *k);
int smtp_dkim_sign(const struct smtp_dkim *k, const char *head,
		   size_t head_len, const struct smtp_spool *sp, int64_t now,
		   char **field_r, struct ps_error *err);
int smtp_from_domain(const char *headers, size_t len, char *out,
		     size_t size);

/* append.c: a message as head + spool into a store, on a pool thread
 * (deliver.c, bounce.c). buf is SMTP_APPEND_CHUNK octets of scratch. */
#define SMTP_APPEND_CHUNK (64 * 1024)
struct smtp_append {
	const char *head;          /* the trace fields, in front */
	size_t head_len;
	const struct smtp_spool *spool; /* the rest, flushed */
	const void *blob;          /* its structure, or NULL */
	size_t blob_len;
	int64_t now;               /* the internal date */
	int tz;                    /* minutes east of UTC */
};
/* The structure of head and spool as libpsmime's cache blob (malloc'ed,
 * *len_r octets), or NULL (no memory): the message still goes in, and
 * IMAP parses it when asked. */
void *smtp_append_structure(const char *head, size_t head_len,
			    const struct smtp_spool *sp, char *buf,
			    size_t *len_r);
/* One message into the append transaction a: 0 or a storage error. */
int smtp_append_spool(struct ps_store_append *a, const struct smtp_append *m,
		      char *buf, struct ps_error *err);

/* bounce.c: delivery status notifications for the reports the queue says
 * are owed (RFC 3464, RFC 3461). Blocking: on the pool. Leases owed
 * reports, builds each message's DSN with libpsdsn, appends it to the
 * local sender's INBOX or enqueues it for a remote sender (the null
 * sender, one REMOTE recipient), then report_done. lifetime is
 * queue_lifetime in seconds (Will-Retry-Until of a delay). Returns the
 * DSNs made (>= 0) or a negative code with err when the queue could not
 * be read; a message that failed is left owed (its report lease runs
 * out, and a later run tries again), and err says why, even with a
 * result >= 0 (err->msg is "" when nothing failed). */
int smtp_bounce_run(const struct ps_queue_ops *q, int64_t now,
		    int64_t lifetime, struct ps_error *err);

/* trace.c: Return-Path and Received (RFC 5321 4.4), pure. */
struct smtp_trace {
	const char *sender;    /* "" for <> */
	const char *helo;
	const char *client_ip; /* NULL: made here, no "from" clause */
	const char *hostname;
	const char *with;      /* RFC 3848 / 6531 protocol type, or NULL */
	const char *tls_info;  /* "VERSION CIPHER", or NULL */
	const char *user;      /* or NULL */
	const char *id;
	const char *rcpt;      /* the only recipient, or NULL */
	int64_t now;           /* seconds since the epoch */
	int tz_minutes;        /* east of UTC */
};
const char *smtp_trace_with(int esmtp, int utf8, int tls, int auth);
char *smtp_trace_headers(const struct smtp_trace *t, size_t *len_r);
/* The Received fields of a header block (NUL-terminated). */
unsigned smtp_trace_hops(const char *headers);

/* hooks.c */
void smtp_hook(struct smtp_session *s, const char *event,
	       void (*next)(struct smtp_session *s, int pass));
void smtp_event_fill(struct smtp_session *s, const char *event);
void smtp_hook_queued(struct smtp_session *s, uint64_t size);

/* ext.c: the "smtp.ext" interface. */
extern const struct ps_smtp_ext smtp_ext;
const char *smtp_ext_keyword(size_t i);
const char *smtp_ext_verb_name(size_t i);
int smtp_ext_verb(struct smtp_session *s, const char *line, size_t len);

#endif
