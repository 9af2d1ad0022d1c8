/* imap.so's internals shared by its files: the worker's configuration,
 * the session the core allocates per connection, the selected mailbox's
 * view, and each file's entry points. The grammar (parser.h, seqset.h,
 * section.h...) is pure and lives apart, for the unit test and the
 * fuzzer.
 *
 * Threads: everything here runs on the loop thread except the work
 * functions of jobs (imap_job_start), which may call the storage and
 * auth backends and touch only their job's data and the session fields
 * the loop leaves alone while a job is out (input is paused: s->waiting). */
#ifndef IMAPD_H
#define IMAPD_H

#include <poshta/poshta.h>
#include <poshta/imap.h>

#include "buffer.h"
#include "parser.h"
#include "seqset.h"

#define IMAP_LINE_MAX 65536       /* a command line (literals apart) */
#define IMAP_TIMEOUT_MS (30 * 60 * 1000) /* RFC 9051 5.4: at least 30
					  * minutes of inactivity */
#define IMAP_OUT_CHUNK (256 * 1024) /* output a job builds before the loop
				     * writes it: long FETCHes go in
				     * pieces, with backpressure */
#define IMAP_NAME_MAX 1000        /* octets of a mailbox name (UTF-8) */
#define IMAP_ID_MAX 64

/* The imap block and the backends, read in each worker (module.c). */
struct imap_config {
	uint64_t append_limit;    /* RFC 7889 APPENDLIMIT */
	unsigned max_user_sessions; /* per user, in this worker */
	unsigned max_bad;         /* BAD replies before BYE */
	struct imap_limits limits;
	const char *hostname;
	int have_auth, have_store;
	struct ps_auth_ops auth;
	struct ps_storage_ops store;
	char delim;               /* the store's hierarchy delimiter */
};
extern struct imap_config imap_cfg;

enum imap_state {
	IMAP_NOTAUTH,   /* RFC 9051 3.1 */
	IMAP_AUTH,      /* 3.2 */
	IMAP_SELECTED,  /* 3.3 */
	IMAP_LOGOUT,    /* 3.4 */
};

/* ENABLE (RFC 5161) and what implies it. */
#define IMAP_EN_CONDSTORE 0x1 /* RFC 7162 3.1: also by any CONDSTORE use */
#define IMAP_EN_QRESYNC 0x2   /* RFC 7162 3.2, implies CONDSTORE */
#define IMAP_EN_UTF8 0x4      /* UTF8=ACCEPT, RFC 6855 */
#define IMAP_EN_REV2 0x8      /* IMAP4rev2, RFC 9051 */
/* UTF-8 in quoted strings and mailbox names: UTF8=ACCEPT, and IMAP4rev2
 * (RFC 9051 5.1: its mailbox names are UTF-8, never mUTF-7). */
#define IMAP_EN_ANY_UTF8 (IMAP_EN_UTF8 | IMAP_EN_REV2)

/* The selected mailbox as this session sees it: message sequence
 * numbers are positions in uids (RFC 9051 2.3.1.2). Changes by others
 * are learnt from the store (changes_since) and reported by
 * imap_view_sync() when the protocol allows. */
struct imap_view {
	struct ps_mbox *mb;
	char *name;               /* as stored (UTF-8) */
	char *renamed;            /* its new name, from the bus while a
				   * job was out (it may read name) */
	int readonly;             /* EXAMINE, or the store said so */
	uint32_t uidvalidity;
	uint32_t uidnext;         /* as last reported */
	uint64_t modseq;          /* changes up to this were reported */
	uint32_t first_recent;    /* UIDs from here were new to this
				   * session (\Recent, RFC 3501 2.3.2) */
	uint32_t *uids;           /* ascending; seq n is uids[n - 1] */
	size_t n, cap;
	/* Learnt, not yet reported (filled by a job's work, sent on the
	 * loop): expunged UIDs wait while 7.4.1 of RFC 3501 forbids them. */
	struct imap_seqset expunged;
	struct imap_seqset saved; /* SEARCHRES "$" (RFC 5182) */
	int dirty;                /* the bus said the mailbox changed */
	int gone;                 /* the store says it was deleted */
	/* Flags this command already sent (FETCH's implicit \Seen) or must
	 * not send (STORE .SILENT): the next sync leaves out a message
	 * still at that MODSEQ. UIDs
	 * ascending; the sync empties it. */
	struct imap_told {
		uint32_t uid;
		uint64_t modseq;
	} *told;
	size_t ntold, told_cap;
	/* A sync's FETCHes stop at about IMAP_OUT_CHUNK octets; the rest,
	 * messages it knew from UID pend_uid to pend_last whose MODSEQ is
	 * in (pend_from, pend_to], go out in later steps of the same job
	 * (imap_view_continue), after the client read the first ones.
	 * pend_uid 0: nothing pending. told stays until then. */
	uint32_t pend_uid, pend_last;
	uint64_t pend_from, pend_to;
};

struct imap_session;

/* A job: work on the pool (storage calls; output into out), then done
 * on the loop. A job with more to do sets more and is run again once
 * the client has read what was written (backpressure). */
struct imap_job {
	struct imap_session *s;
	void (*work)(struct imap_job *j);
	void (*done)(struct imap_job *j);
	void *arg;
	struct imap_buf out;      /* written to the client before done */
	int result;               /* 0 or a negative code */
	struct ps_error err;
	int more;
};

struct imap_session {
	struct ps_conn *conn;
	enum imap_state state;
	struct imap_parser *parser;
	unsigned enabled;               /* IMAP_EN_* */
	char user[PS_AUTH_NAME_MAX + 1];/* "" before login */
	uint64_t quota;                 /* the user's, from the auth backend */
	struct ps_store_user *store;    /* open while authenticated */
	struct imap_view *view;         /* SELECTED only */
	struct imap_session *next_of_user; /* module.c's registry */

	/* The command in progress: its parsed form stays valid while input
	 * is paused (the parser is not fed). */
	const char *tag;
	const char *cmd;                /* upper case */
	int uid;                        /* "UID" prefix */
	const struct imap_arg *args;
	size_t nargs;
	int in_command;                 /* between a command and its tag */
	int expunge_ok;                 /* EXPUNGE may be sent now (RFC
					 * 3501 7.4.1) */

	unsigned waiting;               /* asynchronous steps in flight */
	int closed, shutdown, logout;
	unsigned bad;                   /* BAD replies so far */
	struct imap_job *job;           /* the job in flight, if any */
	struct imap_job *drain_job;     /* waiting for the client to read */

	struct ps_sasl *sasl;
	int sasl_reply;                 /* a "+" is out: the next line
					 * answers it */
	int sasl_wait;
	int idling;                     /* IDLE (RFC 2177) until DONE */
	int compressed;                 /* COMPRESS DEFLATE is on */
	int ext_pending;                /* an added command will finish */
	int ext_finished;
	void *append;                   /* append.c's transfer, if any */
	int stream;                     /* literal octets go to append.c */
};

/* ---- session.c: replies, commands, asynchronous steps ---------------- */
int imap_printf(struct imap_session *s, const char *fmt, ...)
	PS_PRINTF(2, 3);
int imap_write(struct imap_session *s, const void *data, size_t len);
/* The tagged reply ends the command: untagged updates go first
 * (imap_view_report). status is "OK", "NO" or "BAD"; code may be NULL
 * or the text inside the brackets. */
int imap_tagged(struct imap_session *s, const char *status,
		const char *code, const char *fmt, ...) PS_PRINTF(4, 5);
int imap_ok(struct imap_session *s, const char *text);
int imap_bad(struct imap_session *s, const char *text);
int imap_no(struct imap_session *s, const char *code, const char *text);
void imap_wait(struct imap_session *s);
void imap_unwait(struct imap_session *s);
/* Run j->work on the pool, then write j->out and call j->done. Input
 * stays paused until the last step of the job. 0 or PS_ENOMEM (then j is
 * the caller's and nothing waits). */
int imap_job_start(struct imap_session *s, struct imap_job *j);
struct imap_job *imap_job_new(struct imap_session *s,
			      void (*work)(struct imap_job *j),
			      void (*done)(struct imap_job *j), void *arg);
void imap_job_free(struct imap_job *j);
/* For a done: the store's error or "OK NAME completed". */
void imap_job_status(struct imap_job *j);
/* After a done with j->more set: run work again when the output queue
 * has drained (module.c's on_drain calls imap_job_drained). */
void imap_job_drained(struct imap_session *s);
int imap_input_line(struct imap_session *s, const char *line, size_t len,
		    unsigned flags);
int imap_input_bytes(struct imap_session *s, const char *data, size_t len,
		     size_t left);
/* Go on with the literal just announced: want 1 streams its octets to
 * append.c, 0 buffers them in the parser, -1 means append.c failed the
 * command (imap_parser_fail): a synchronizing literal is then never
 * asked for, a non-synchronizing one is read and dropped. Sends "+"
 * when the client waits. 0, or a negative code (then close). */
int imap_literal_go(struct imap_session *s, int want);
void imap_goodbye(struct imap_session *s, const char *text);
void imap_boundary(struct imap_session *s);
void imap_session_free(struct imap_session *s);
unsigned imap_quote_flags(const struct imap_session *s);
/* Log and reply NO for a backend error (the text is the store's). */
int imap_store_error(struct imap_session *s, int r,
		     const struct ps_error *err);

/* ---- capability.c: CAPABILITY, ENABLE, ID, NAMESPACE, NOOP... -------- */
void imap_capabilities(struct imap_session *s, struct imap_buf *b);
int imap_greet(struct imap_session *s);
int imap_cmd_capability(struct imap_session *s);
int imap_cmd_enable(struct imap_session *s);
int imap_cmd_id(struct imap_session *s);
int imap_cmd_namespace(struct imap_session *s);
int imap_cmd_logout(struct imap_session *s);

/* ---- login.c: LOGIN, AUTHENTICATE, STARTTLS, the user's store -------- */
int imap_cmd_login(struct imap_session *s);
int imap_cmd_authenticate(struct imap_session *s);
int imap_cmd_starttls(struct imap_session *s);
int imap_auth_answer(struct imap_session *s, const char *line, size_t len,
		     unsigned flags);
void imap_logout_store(struct imap_session *s);

/* ---- names.c: mailbox names between the client and the store --------- */
/* The stored (UTF-8) name of a client's mailbox argument: mUTF-7
 * decoded unless UTF8=ACCEPT, INBOX in any case made "INBOX". 0, or -1
 * after a BAD/NO reply was sent. */
int imap_name_in(struct imap_session *s, const struct imap_arg *a,
		 char *out, size_t outsize);
/* The same without a reply, for a command that cannot reply yet (APPEND
 * while its message literal is announced): 0, or -1 with *bad_r (1: the
 * reply is BAD, 0: NO [CANNOT]) and the reply's text. */
int imap_name_decode(const struct imap_session *s, const struct imap_arg *a,
		     char *out, size_t outsize, int *bad_r,
		     const char **text_r);
/* A stored name as the client must see it (mUTF-7 unless UTF8=ACCEPT),
 * as an astring. */
int imap_name_out(const struct imap_session *s, const char *name,
		  struct imap_buf *b);

/* ---- select.c: SELECT, EXAMINE -------------------------------------- */
int imap_cmd_select(struct imap_session *s);

/* ---- view.c: the view, change reports, CLOSE, UNSELECT, NOOP -------- */
/* "(\Seen \Flagged kw)" for m; recent adds \Recent. */
void imap_flags_out(struct imap_buf *b, const struct ps_msg *m, int recent);
/* Whether uid is shown \Recent in v to s: new to this session, and
 * never under IMAP4rev2, which has no \Recent (RFC 9051 2.3.2). */
int imap_recent(const struct imap_session *s, const struct imap_view *v,
		uint32_t uid);
/* How many messages of the view are \Recent for this session. */
uint32_t imap_view_recent(const struct imap_view *v);
int imap_cmd_close(struct imap_session *s);
int imap_cmd_unselect(struct imap_session *s);
int imap_cmd_noop(struct imap_session *s);
void imap_view_free(struct imap_view *v);
/* On the pool: learn what changed since v->modseq; untagged responses
 * for it go to out (EXPUNGEs kept back unless expunge_ok). */
int imap_view_sync(struct imap_session *s, struct imap_buf *out,
		   int expunge_ok, struct ps_error *err);
/* The selected mailbox was deleted by another session (v->gone): BYE
 * and close (RFC 2180 3.3). */
void imap_view_gone(struct imap_session *s);
/* On the pool: the next FETCHes a sync held back (v->pend_uid), up to
 * about IMAP_OUT_CHUNK octets, as a job step (session.c runs it until
 * none is left, before the job's done). */
void imap_view_continue(struct imap_job *j);
/* Run a sync (all updates allowed) as a job, then done. */
int imap_sync_start(struct imap_session *s,
		    void (*done)(struct imap_job *j));
/* RFC 3501 7.4.1: no EXPUNGE while answering FETCH, STORE or SEARCH
 * (their UID forms allow it). */
int imap_expunge_ok(const struct imap_session *s);
/* Send the EXPUNGEs held back (when the protocol allows it now). */
void imap_view_flush_expunged(struct imap_session *s, struct imap_buf *out);
/* Sequence numbers and UIDs: a "sequence-set" argument as UID ranges,
 * against the view (uid: it was a UID set). 0, or -1 after a BAD. */
int imap_view_set(struct imap_session *s, const struct imap_arg *a,
		  int uid, struct imap_seqset *uids_r);
uint32_t imap_view_seq(const struct imap_view *v, uint32_t uid);
/* On the pool: this command showed uid's flags as of modseq (FETCH), or
 * must not show them (STORE .SILENT), so imap_view_sync leaves them out
 * (call in ascending UID order).
 * 0 or PS_ENOMEM (then the sync reports it again, which is harmless). */
int imap_view_told(struct imap_view *v, uint32_t uid, uint64_t modseq);
/* The view learnt that these UIDs arrived: append them (ascending). */
int imap_view_add(struct imap_view *v, uint32_t uid);
/* The bus said user's mailbox name changed (module.c); renamed: RENAME
 * moved it there. */
void imap_view_changed(struct imap_session *s, const char *mailbox,
		       const char *renamed);
/* No job is out: a new name the bus gave becomes the view's. */
void imap_view_rename(struct imap_view *v);

/* ---- ext.c: the "imap.ext" interface (<poshta/imap.h>) ------------- */
extern const struct ps_imap_ext imap_ext;
void imap_ext_capabilities(struct imap_buf *b);
int imap_ext_find(const char *name);
int imap_ext_run(struct imap_session *s, int id, unsigned state);
/* session.c: whether name is one of imap.so's own commands. */
int imap_command_known(const char *name);

/* ---- compress.c: COMPRESS (RFC 4978) ----------------------------- */
int imap_cmd_compress(struct imap_session *s);
/* ---- envelope.c, bodystructure.c, structure.c: what FETCH describes -- */
struct mime_part;
struct mime_envelope;
/* ENVELOPE's fields, without the parentheses (RFC 9051 7.5.2); NULL e
 * gives all NIL. qflags: imap_quote_flags(). 0 or PS_ENOMEM. */
int imap_envelope_write(struct imap_buf *b, const struct mime_envelope *e,
			unsigned qflags);
/* BODY or BODYSTRUCTURE (flags IMAP_BS_EXTENDED) of root, without the
 * outer parentheses, as Dovecot writes them; message/global as a
 * body-type-msg with IMAP_BS_GLOBAL (IMAP4rev2 enabled, RFC 9051
 * 7.5.2). 0 or PS_ENOMEM. */
#define IMAP_BS_EXTENDED 0x1
#define IMAP_BS_GLOBAL 0x2
int imap_bodystructure_write(struct imap_buf *b, const struct mime_part *root,
			     unsigned flags, unsigned qflags);
/* Reads up to len octets of a message at offset; *got_r 0 at the end.
 * 0 or a negative code. Called on the pool. */
typedef int (*imap_read_fn)(void *arg, uint64_t offset, void *buf,
			    size_t len, size_t *got_r);
/* The tree of a message read through read in 64 KiB chunks (memory
 * bounded by the headers kept, not the message). *read_r (may be NULL)
 * gets the octets read. 0, PS_ENOMEM or read's error. */
int imap_structure_parse(imap_read_fn read, void *arg,
			 struct mime_part **root_r, uint64_t *read_r);
/* The cache blob (mime_cache_write) of a message read through read: what
 * APPEND hands to append_msg_end, so FETCH never parses the message.
 * *blob_r is for free(). 0, PS_ENOMEM or read's error. */
int imap_structure_blob(imap_read_fn read, void *arg, void **blob_r,
			size_t *len_r);
/* The tree of message uid: from its cache blob when valid, else parsed
 * through msg_read and the new blob given to msg_set_cache. *parsed_r:
 * octets read to parse it (0 when the cache served). For
 * mime_tree_free(). 0 or a negative code (the store's in err). */
int imap_structure_get(struct ps_mbox *mb, uint32_t uid, const void *cache,
		       size_t cache_len, struct mime_part **root_r,
		       uint64_t *parsed_r, struct ps_error *err);

/* ---- idle.c: IDLE (RFC 2177) ----------------------------------------- */
int imap_cmd_idle(struct imap_session *s);
int imap_idle_line(struct imap_session *s, const char *line, size_t len);
void imap_idle_wake(struct imap_session *s);

/* ---- module.c: the per-user registry ----------------------------------- */
int imap_user_register(struct imap_session *s);
void imap_user_unregister(struct imap_session *s);

/* ---- The command families, one file each ---------------------------- */
/* list.c: LIST, LSUB (RFC 9051 6.3.9; LIST-EXTENDED, LIST-STATUS,
 * SPECIAL-USE, CHILDREN). mailbox.c: CREATE, DELETE, RENAME, SUBSCRIBE,
 * UNSUBSCRIBE, STATUS (RFC 9051 6.3; CREATE-SPECIAL-USE, STATUS=SIZE). */
int imap_cmd_list(struct imap_session *s);
int imap_cmd_lsub(struct imap_session *s);
int imap_cmd_create(struct imap_session *s);
int imap_cmd_delete(struct imap_session *s);
int imap_cmd_rename(struct imap_session *s);
int imap_cmd_subscribe(struct imap_session *s);
int imap_cmd_unsubscribe(struct imap_session *s);
int imap_cmd_status(struct imap_session *s);
/* STATUS items (RFC 9051 6.3.11), shared with LIST-STATUS (list.c). */
struct imap_status_req {
	unsigned char order[16]; /* items as first asked */
	size_t n;
	unsigned mask;
};
/* Add the items of a STATUS list to r: 0, or -1 after a BAD. Asking
 * for HIGHESTMODSEQ enables CONDSTORE (RFC 7162 3.1). */
int imap_status_parse(struct imap_session *s, const struct imap_arg *list,
		      size_t n, struct imap_status_req *r);
/* On the pool: "* STATUS name (...)" for mailbox name into out, or a
 * store error (and nothing written). */
int imap_status_build(struct imap_session *s, const char *name,
		      const struct imap_status_req *r, struct imap_buf *out,
		      struct ps_error *err);
/* The special-use attributes among attrs (RFC 6154 2), each after a
 * space unless *first. */
void imap_special_use_out(unsigned attrs, struct imap_buf *out, int *first);

/* Selected state (RFC 9051 6.4); each runs as a job whose work ends
 * with imap_view_sync(s, &j->out, imap_expunge_ok(s), ...). */
int imap_cmd_fetch(struct imap_session *s);   /* fetch.c */
int imap_cmd_store(struct imap_session *s);   /* store.c */
/* store.c, for STORE and APPEND: the flags a[0..n) as PS_FLAG_* bits and
 * keywords (pointing into the arguments; kw has room for n). \Recent
 * and unknown "\" flags are refused (RFC 9051 2.3.2). 0, or -1 with
 * the text of a BAD reply. */
int imap_flags_parse(const struct imap_arg *a, size_t n, unsigned *flags_r,
		     const char **kw, size_t *nkw_r, const char **why_r);
int imap_cmd_copy(struct imap_session *s);    /* copy.c: COPY, MOVE */
int imap_cmd_expunge(struct imap_session *s); /* expunge.c */
int imap_cmd_search(struct imap_session *s);  /* search.c */
/* quota.c: GETQUOTA, GETQUOTAROOT, SETQUOTA (RFC 9208). */
int imap_cmd_getquota(struct imap_session *s);
int imap_cmd_getquotaroot(struct imap_session *s);
int imap_cmd_setquota(struct imap_session *s);

/* append.c: APPEND and MULTIAPPEND (RFC 9051 6.3.12, RFC 3502), the
 * message literals streamed into the store (APPENDLIMIT, RFC 7889). */
int imap_cmd_append(struct imap_session *s);
/* Whether the literal just announced is an APPEND message that append.c
 * takes itself (then its octets come to imap_append_bytes): 1 yes, 0
 * no, -1 refused (append.c called imap_parser_fail), or
 * IMAP_APPEND_LATER: append.c asks the store first, with input paused,
 * and then calls imap_literal_go itself. */
#define IMAP_APPEND_LATER 2
int imap_append_wants(struct imap_session *s, const struct imap_literal *li);
int imap_append_bytes(struct imap_session *s, const char *data, size_t len,
		      size_t left);
/* The command failed or the session ends: abort the store's transaction
 * of an APPEND in progress (on the loop: nothing is in flight then, and
 * an abort only closes files) and forget it. */
void imap_append_abort(struct imap_session *s);

#endif
