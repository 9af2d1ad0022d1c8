/* pop3.so: the POP3 server (RFC 1939) with CAPA (RFC 2449), STLS (RFC
 * 2595), SASL (RFC 5034), response codes (RFC 2449 8, RFC 3206) and UTF8
 * (RFC 6856). Shared declarations of the module's files; see
 * docs/architecture.md, "POP3". */
#ifndef POP3D_H
#define POP3D_H

#include <stdint.h>

#include <poshta/poshta.h>
#include <poshta/storage.h>

#include "command.h"
#include "stuff.h"

/* RFC 1939 3: the autologout timer is at least 10 minutes. */
#define POP3_TIMEOUT_MS (10 * 60 * 1000)
/* Room for AUTH PLAIN with a long name and password in base64; RFC 2449
 * 4's 255 octets is what clients send, not what we must refuse. */
#define POP3_LINE_MAX 4096
/* pop3_lock: another session has the maildrop. */
#define POP3_EINUSE (-200)
/* Bytes of a message one read job takes from the store. */
#define POP3_CHUNK (32 * 1024)

struct pop3_config {
	unsigned max_bad;
	int mark_seen;
	char lock_dir[4096];
	const char *hostname;
	int have_auth, have_store;
	struct ps_auth_ops auth;
	struct ps_storage_ops store;
};

extern struct pop3_config pop3_cfg;

enum pop3_state {
	POP3_AUTHORIZATION,
	POP3_TRANSACTION,
	POP3_UPDATE, /* QUIT taken: deleting, then goodbye */
};

/* pop3_msg.flags */
#define POP3_MSG_DELETED 0x1   /* DELE'd in this session */
#define POP3_MSG_RETRIEVED 0x2 /* sent whole by RETR */
#define POP3_MSG_SEEN 0x4      /* \Seen in the store at login */

/* One message of the maildrop, numbered by its place + 1. */
struct pop3_msg {
	uint32_t uid;
	unsigned flags;
	uint64_t size;
};

/* The snapshot of INBOX taken at login (RFC 1939 8: messages added later
 * are not in it). */
struct pop3_drop {
	struct pop3_msg *msgs;
	uint32_t count, cap;
	uint32_t uidvalidity;
	uint32_t ndeleted;
	uint64_t size, deleted_size;
};

struct pop3_job;
struct retr_batch;

struct pop3_session {
	struct ps_conn *conn;
	enum pop3_state state;
	char user[PS_AUTH_NAME_MAX + 1];  /* after USER; the canonical
					   * name after login */
	unsigned user_given : 1;          /* USER accepted: PASS may follow */
	unsigned utf8 : 1;                /* RFC 6856 UTF8 given */
	unsigned closed : 1;              /* on_close ran */
	unsigned shutdown : 1;            /* SIGTERM: leave at a boundary */
	unsigned sasl_reply : 1;          /* next line answers a "+" */
	unsigned sasl_wait : 1;           /* the core works on the exchange */
	unsigned bad;                     /* bad commands in a row */
	unsigned waiting;                 /* steps in flight (input paused) */
	struct ps_sasl *sasl;
	struct pop3_job *drain_job;       /* a RETR waiting for on_drain */
	struct retr_batch *retr;          /* RETR/TOP being sent: input
					   * flows, for more to join */
	char *held;                       /* a line waiting for the batch */
	size_t held_len;
	unsigned held_flags;
	int lock_fd;                      /* the maildrop's lock, or -1 */
	struct ps_store_user *store;
	struct ps_mbox *mbox;             /* INBOX, opened read-only */
	struct pop3_drop drop;
	unsigned nretr;                   /* for the logout line */
};

/* Replies (session.c). pop3_err's code is an RFC 2449/3206 response code
 * ("AUTH", "IN-USE", "SYS/TEMP") or NULL. */
int pop3_ok(struct pop3_session *s, const char *fmt, ...) PS_PRINTF(2, 3);
int pop3_err(struct pop3_session *s, const char *code, const char *fmt, ...)
	PS_PRINTF(3, 4);
int pop3_bad(struct pop3_session *s, const char *fmt, ...) PS_PRINTF(2, 3);
int pop3_line(struct pop3_session *s, const char *line, size_t len,
	      unsigned flags);
void pop3_greet(struct pop3_session *s);
void pop3_boundary(struct pop3_session *s);
void pop3_session_free(struct pop3_session *s);
int pop3_plaintext_allowed(struct pop3_session *s);

/* Steps off the loop (job.c). work runs on the pool; done on the loop
 * returns POP3_JOB_DONE, or POP3_JOB_MORE to run work again once the
 * client has read what done wrote. A job's arg is freed with free_arg when
 * it ends, however it ends. */
#define POP3_JOB_DONE 0
#define POP3_JOB_MORE 1

struct pop3_job {
	struct pop3_session *s;
	void (*work)(struct pop3_job *j);
	int (*done)(struct pop3_job *j);
	void (*free_arg)(void *arg);
	void *arg;
	int result;
	struct ps_error err;
};

void pop3_wait(struct pop3_session *s);
void pop3_unwait(struct pop3_session *s);
int pop3_job_start(struct pop3_session *s, void (*work)(struct pop3_job *),
		   int (*done)(struct pop3_job *), void (*free_arg)(void *),
		   void *arg);
void pop3_job_drained(struct pop3_session *s);

/* Commands: each returns 0, or negative to close the connection. */
int pop3_cmd_capa(struct pop3_session *s, const struct pop3_cmd *cmd);
int pop3_cmd_user(struct pop3_session *s, const struct pop3_cmd *cmd);
int pop3_cmd_pass(struct pop3_session *s, const struct pop3_cmd *cmd);
int pop3_cmd_auth(struct pop3_session *s, const struct pop3_cmd *cmd);
int pop3_cmd_stls(struct pop3_session *s, const struct pop3_cmd *cmd);
int pop3_auth_answer(struct pop3_session *s, const char *line, size_t len,
		     unsigned flags);
int pop3_cmd_stat(struct pop3_session *s, const struct pop3_cmd *cmd);
int pop3_cmd_list(struct pop3_session *s, const struct pop3_cmd *cmd);
int pop3_cmd_uidl(struct pop3_session *s, const struct pop3_cmd *cmd);
int pop3_cmd_dele(struct pop3_session *s, const struct pop3_cmd *cmd);
int pop3_cmd_rset(struct pop3_session *s, const struct pop3_cmd *cmd);
int pop3_cmd_quit(struct pop3_session *s, const struct pop3_cmd *cmd);
int pop3_cmd_retr(struct pop3_session *s, const struct pop3_cmd *cmd);
int pop3_cmd_top(struct pop3_session *s, const struct pop3_cmd *cmd);
int pop3_retr_join(struct pop3_session *s, const char *line, size_t len);

/* The maildrop (maildrop.c, lock.c). */
int pop3_drop_load(struct pop3_session *s, struct ps_error *err);
struct pop3_msg *pop3_drop_msg(struct pop3_session *s,
			       const struct pop3_cmd *cmd, uint32_t *n_r);
void pop3_drop_close(struct pop3_session *s);
int pop3_lock(const char *user, int *fd_r, struct ps_error *err);
void pop3_unlock(struct pop3_session *s);

#endif
