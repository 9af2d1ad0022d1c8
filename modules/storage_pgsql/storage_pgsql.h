/* storage_pgsql's internals shared by its files: the configuration, the
 * connection pool (pool.c) and the per-handle connection (db.c), the
 * schema (schema.c), mailbox rows (mailbox.c), change notices (notify.c,
 * listen.c) and user names (names.c); the rules for mailbox names,
 * keywords and UID sets are modules/storekit's libpsstore. Every user
 * lives in one database that several workers and several front ends
 * share; a write transaction locks the user's row first, so UIDs and
 * MODSEQs of a user are given out one transaction at a time
 * (docs/architecture.md, "storage_pgsql"). */
#ifndef SP_STORAGE_PGSQL_H
#define SP_STORAGE_PGSQL_H

#include <poshta/poshta.h>
#include <libpq-fe.h>

#include "storekit.h" /* keywords, UID sets, names: libpsstore */

#define SP_CHUNK (256 * 1024)        /* body rows: reads and writes stay
				      * bounded whatever a message's size */
#define SP_NAME_MAX PST_NAME_MAX      /* bytes of a mailbox name */
#define SP_KEYWORD_MAX PST_KEYWORD_MAX /* keywords on one message */
#define SP_CACHE_MAX (16 * 1024 * 1024) /* a message's cached structure */
#define SP_DELIM '/'
#define SP_CHANNEL "poshta_store"    /* NOTIFY channel of change notices */
#define SP_NODE_LEN 16               /* hex digits of a node id */
/* Each connection's settings: durable commits unless a call says
 * otherwise (SET LOCAL), UTF-8 names, no chatter in the log. */
#define SP_SESSION_SETUP                                                  \
	"SET synchronous_commit = on; SET client_encoding = 'UTF8';"      \
	" SET client_min_messages = warning"

/* The module block, read in worker_init (module.c). */
struct sp_config {
	char *conninfo;
	char *blob_dir;       /* NULL: bodies in store_body_chunks */
	unsigned connections; /* pool bound per worker */
	char node[SP_NODE_LEN + 1]; /* this front end, made in init */
};
extern struct sp_config sp_config;

/* A notice to announce on the bus once its transaction commits. */
struct sp_notice {
	struct sp_notice *next;
	size_t len;
	char data[]; /* the mailbox name, or old NUL new for a rename */
};

/* A handle's hold on a pooled connection: taken at the outermost call,
 * given back when it ends, unless mailbox_hold keeps it (and, while no
 * change goes through it, a REPEATABLE READ snapshot). */
struct sp_conn {
	PGconn *pg;
	unsigned depth; /* nested calls: callbacks may read */
	int held;       /* sp_conn_hold */
	int snap;       /* a read snapshot is open (held only) */
	int writing;    /* inside sp_write_begin .. sp_write_end */
	int broken;     /* give the connection back to be closed */
	const char *topic_user; /* for the notices of this transaction */
	struct sp_notice *notices, **tail;
};

struct ps_store_user {
	struct sp_conn c;
	char *name; /* lower case: the bus topic's suffix */
	int64_t id; /* store_user.id */
	uint64_t quota;
};

struct ps_mbox {
	struct sp_conn c;
	struct ps_store_user *u;
	int64_t id;
	uint32_t uidvalidity; /* as opened: a new one is another mailbox */
	unsigned mode;        /* PS_OPEN_* */
};

/* A mailbox row as stored. */
struct sp_mbox_row {
	int64_t id;
	char name[SP_NAME_MAX + 1];
	uint32_t uidvalidity, uidnext, recent_uid, messages, unseen;
	uint64_t modseq, bytes;
	unsigned special_use;
	int noselect;
};

/* How far a change must have gone when its call returns. */
enum sp_sync {
	SP_SYNC_FULL, /* flushed to the WAL on disk: new mail */
	SP_SYNC_LAZY, /* synchronous_commit off: flags, expunges, \Recent
		       * claims, the cache (a server crash may undo the
		       * last ones, never lose mail) */
};

/* db.c. Parameters are described by fmt, one letter each: i int64_t,
 * u uint32_t, s a string (NULL: SQL NULL), b a pointer and a size_t
 * (bytea, sent in binary). SQL is always a constant; user data only
 * ever travels as a parameter. */
/* err's message from fmt (err may be NULL), code returned: libpsstore's. */
#define sp_err pst_err
int sp_pgmsg(struct ps_error *err, int code, const char *prefix,
	     const char *msg);
int sp_pgerr(struct sp_conn *c, const PGresult *res, struct ps_error *err);
void sp_conn_init(struct sp_conn *c);
int sp_conn_take(struct sp_conn *c, struct ps_error *err);
void sp_conn_give(struct sp_conn *c);
void sp_conn_hold(struct sp_conn *c);
void sp_conn_release(struct sp_conn *c);
void sp_conn_close(struct sp_conn *c);
int sp_read_begin(struct sp_conn *c, struct ps_error *err);
void sp_read_end(struct sp_conn *c);
int sp_write_begin(struct sp_conn *c, const struct ps_store_user *u,
		   enum sp_sync sync, struct ps_error *err);
int sp_write_start(struct sp_conn *c, const struct ps_store_user *u,
		   enum sp_sync sync, int lock, struct ps_error *err);
int sp_lock_user(struct sp_conn *c, const struct ps_store_user *u,
		 struct ps_error *err);
int sp_write_end(struct sp_conn *c, int r, struct ps_error *err);
PGresult *sp_query_fmt(struct sp_conn *c, struct ps_error *err, int binary,
		       const char *sql, const char *fmt, ...);
#define sp_query(c, err, sql, ...) \
	sp_query_fmt(c, err, 0, "" sql, __VA_ARGS__)
#define sp_query_bin(c, err, sql, ...) \
	sp_query_fmt(c, err, 1, "" sql, __VA_ARGS__)
int sp_exec_fmt(struct sp_conn *c, struct ps_error *err, const char *sql,
		const char *fmt, ...);
#define sp_exec(c, err, sql, ...) sp_exec_fmt(c, err, "" sql, __VA_ARGS__)
int sp_query_int_fmt(struct sp_conn *c, struct ps_error *err, int64_t *v_r,
		     const char *sql, const char *fmt, ...);
#define sp_query_int(c, err, v_r, sql, ...) \
	sp_query_int_fmt(c, err, v_r, "" sql, __VA_ARGS__)
int64_t sp_int(const PGresult *res, int row, int col);
int sp_simple(PGconn *pg, const char *sql, struct ps_error *err);

/* group.c: fn makes one change on c, inside a shared transaction. */
typedef int (*sp_group_fn)(void *arg, struct sp_conn *c,
			   struct ps_error *err);
int sp_group_commit(struct sp_conn *c, const struct ps_store_user *u,
		    sp_group_fn fn, void *arg, struct ps_error *err);

/* pool.c */
int sp_pool_start(const char *conninfo, unsigned max);
PGconn *sp_pool_take(struct ps_error *err);
void sp_pool_put(PGconn *pg, int broken);
void sp_pool_stop(void);
PGconn *sp_connect(struct ps_error *err);

/* schema.c */
int sp_schema_migrate(PGconn *pg, struct ps_error *err);

/* notify.c */
int sp_announce(struct sp_conn *c, const char *mailbox, struct ps_error *err);
int sp_announce_rename(struct sp_conn *c, const char *old, const char *to,
		       const char *rest, struct ps_error *err);
void sp_notices_publish(struct sp_conn *c);
void sp_notices_drop(struct sp_conn *c);
void sp_node_make(char node[SP_NODE_LEN + 1]);
int sp_payload_parse(const char *payload, char **topic_r, char **data_r,
		     size_t *len_r);

/* listen.c */
void sp_listen_start(void);
void sp_listen_stop(void);

/* blob.c: bodies as files below blob_dir. */
int sp_blob_write(int spool_fd, const unsigned char *mem, uint64_t off,
		  uint64_t size, char *name_r, size_t name_cap,
		  struct ps_error *err);
int sp_blob_read(const char *name, uint64_t off, void *buf, size_t len,
		 size_t *got_r, struct ps_error *err);
void sp_blob_unlink(const char *name);
void sp_blob_sweep(struct sp_conn *c);

/* names.c; a mailbox name's rules are libpsstore's, as the other
 * backends' (out: SP_NAME_MAX + 1 bytes). */
static inline int
sp_name_canon(const char *name, char *out, struct ps_error *err)
{
	return pst_name_canon(name, out, NULL, "", err);
}
int sp_user_name(const char *user, char **name_r, struct ps_error *err);

/* mailbox.c: rows inside a caller's transaction. */
int sp_mbox_get(struct sp_conn *c, int64_t user, const char *name,
		int64_t id, int selectable, struct sp_mbox_row *r,
		struct ps_error *err);
int sp_mbox_bump(struct sp_conn *c, int64_t id, uint64_t *modseq_r,
		 struct ps_error *err);
int sp_mbox_take_uids(struct sp_conn *c, int64_t id, uint32_t n,
		      uint32_t *first_r, struct ps_error *err);
int sp_mbox_insert(struct sp_conn *c, int64_t user, const char *name,
		   unsigned special_use, int64_t *id_r, struct ps_error *err);
int sp_mbox_parents(struct sp_conn *c, int64_t user, const char *name,
		    struct ps_error *err);
int sp_mbox_has_children(struct sp_conn *c, int64_t user, const char *name,
			 int *yes_r, struct ps_error *err);
int sp_usage(struct sp_conn *c, int64_t user, uint64_t *bytes_r,
	     uint64_t *messages_r, struct ps_error *err);

/* select.c */
int sp_mbox_writable(const struct ps_mbox *mb, struct ps_error *err);
int sp_mbox_current(struct ps_mbox *mb, struct sp_mbox_row *row,
		    struct ps_error *err);
int sp_mbox_change(struct ps_mbox *mb, const struct ps_uid_range *set,
		   size_t nset, enum sp_sync sync, struct pst_uidset *u,
		   struct sp_mbox_row *row, struct ps_error *err);

/* message.c */
#define SP_MSG_SELECT                                                    \
	"SELECT m.uid, m.flags, m.keywords, m.internal_date, "           \
	"m.internal_tz, m.size, m.modseq, b.cache FROM store_message m " \
	"JOIN store_body b ON b.id = m.body_id "
struct sp_msg_rows {
	PGresult *res;
	struct pst_kw kw;
	unsigned char *cache; /* the current row's, unescaped */
};
int sp_msg_row(struct sp_msg_rows *rows, int i, struct ps_msg *m);
void sp_msg_rows_free(struct sp_msg_rows *rows);
#define SP_BATCH 1000 /* message rows per query */
#define SP_BATCH_SQL "1000"
typedef int (*sp_msg_row_fn)(struct sp_msg_rows *rows, int i, void *arg,
			     struct ps_error *err);
int sp_msg_batches(struct sp_conn *c, int64_t mbox, uint32_t first,
		   uint32_t last, uint64_t modseq, struct sp_msg_rows *rows,
		   sp_msg_row_fn fn, void *arg, struct ps_error *err);
int sp_uid_each(PGresult *res, ps_store_uid_fn fn, void *arg);

/* expunge.c */
int sp_expunge_range(struct sp_conn *c, int64_t mbox, uint32_t first,
		     uint32_t last, int deleted_only, uint64_t modseq,
		     size_t *n_r, struct ps_error *err);

/* copy.c */
int sp_copy_rows(struct sp_conn *c, int64_t user, int64_t src,
		 const struct pst_uidset *set, const struct sp_mbox_row *dst,
		 int move, uint64_t quota, ps_store_uidmap_fn map, void *arg,
		 size_t *n_r, struct ps_error *err);

/* The storage calls, one file per family. */
int sp_user_open(const char *user, uint64_t quota_bytes,
		 struct ps_store_user **u_r, struct ps_error *err);
void sp_user_close(struct ps_store_user *u);
int sp_user_delete(const char *user, struct ps_error *err);
int sp_quota_get(struct ps_store_user *u, uint64_t *bytes_r,
		 uint64_t *messages_r, struct ps_error *err);
int sp_mailbox_list(struct ps_store_user *u, ps_store_mailbox_fn fn,
		    void *arg, struct ps_error *err);
int sp_mailbox_create(struct ps_store_user *u, const char *name,
		      unsigned special_use, struct ps_error *err);
int sp_mailbox_subscribe(struct ps_store_user *u, const char *name,
			 int subscribe, struct ps_error *err);
int sp_mailbox_delete(struct ps_store_user *u, const char *name,
		      struct ps_error *err);
int sp_mailbox_rename(struct ps_store_user *u, const char *from,
		      const char *to, struct ps_error *err);
int sp_mailbox_status(struct ps_store_user *u, const char *name,
		      struct ps_mailbox_status *st_r, struct ps_error *err);
int sp_mailbox_set_uidvalidity(struct ps_store_user *u, const char *name,
			       uint32_t uidvalidity, struct ps_error *err);
int sp_mailbox_open(struct ps_store_user *u, const char *name, unsigned mode,
		    struct ps_mbox **mb_r, struct ps_mailbox_status *st_r,
		    uint32_t *first_recent_r, struct ps_error *err);
void sp_mailbox_close(struct ps_mbox *mb);
void sp_mailbox_hold(struct ps_mbox *mb);
void sp_mailbox_release(struct ps_mbox *mb);
int sp_msg_fetch(struct ps_mbox *mb, const struct ps_uid_range *set,
		 size_t nset, ps_store_msg_fn fn, void *arg,
		 struct ps_error *err);
int sp_msg_read(struct ps_mbox *mb, uint32_t uid, uint64_t offset, void *buf,
		size_t len, size_t *got_r, struct ps_error *err);
int sp_msg_set_cache(struct ps_mbox *mb, uint32_t uid, const void *cache,
		     size_t len, struct ps_error *err);
int sp_changes_since(struct ps_mbox *mb, uint64_t modseq,
		     ps_store_msg_fn changed, ps_store_uid_fn expunged,
		     void *arg, struct ps_error *err);
int sp_msg_store(struct ps_mbox *mb, const struct ps_uid_range *set,
		 size_t nset, enum ps_store_mode mode, unsigned flags,
		 const char *const *keywords, size_t nkeywords,
		 uint64_t unchangedsince, ps_store_msg_fn changed,
		 ps_store_uid_fn refused, void *arg, struct ps_error *err);
int sp_msg_copy(struct ps_mbox *mb, const struct ps_uid_range *set,
		size_t nset, const char *dest, int move,
		ps_store_uidmap_fn map, void *arg,
		uint32_t *dest_uidvalidity_r, struct ps_error *err);
int sp_expunge(struct ps_mbox *mb, const struct ps_uid_range *set,
	       size_t nset, ps_store_uid_fn removed, void *arg,
	       struct ps_error *err);
int sp_append_begin(struct ps_store_user *u, const char *mailbox,
		    struct ps_store_append **a_r, struct ps_error *err);
int sp_append_msg_begin(struct ps_store_append *a, unsigned flags,
			const char *const *keywords, size_t nkeywords,
			int64_t internal_date, int internal_tz,
			struct ps_error *err);
int sp_append_msg_uid(struct ps_store_append *a, uint32_t uid,
		      struct ps_error *err);
int sp_append_data(struct ps_store_append *a, const void *data, size_t len,
		   struct ps_error *err);
int sp_append_msg_end(struct ps_store_append *a, const void *cache,
		      size_t cache_len, struct ps_error *err);
int sp_append_commit(struct ps_store_append *a, uint32_t *uids_r,
		     uint32_t *uidvalidity_r, struct ps_error *err);
void sp_append_abort(struct ps_store_append *a);

#endif
