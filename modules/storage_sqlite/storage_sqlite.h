/* storage_sqlite's internals shared by its files: the handles, the
 * database helpers (db.c, schema.c), mailbox rows (mailbox.c) and the
 * rules for names, keywords and UID sets (names.c; the rules every
 * backend shares are modules/storekit's libpsstore).
 * A handle holds a SQLite connection only during a call (db.c). */
#ifndef SS_STORAGE_SQLITE_H
#define SS_STORAGE_SQLITE_H

#include <poshta/poshta.h>
#include <sqlite3.h>

#include "storekit.h" /* keywords, UID sets, names: libpsstore */

#define SS_CHUNK (64 * 1024)         /* body rows: reads and writes stay
				      * bounded whatever a message's size */
#define SS_NAME_MAX PST_NAME_MAX      /* bytes of a mailbox name */
#define SS_KEYWORD_MAX PST_KEYWORD_MAX /* keywords on one message */
#define SS_CACHE_MAX (16 * 1024 * 1024) /* a message's cached structure */
#define SS_DELIM '/'

/* The module block, read in worker_init (module.c). */
struct ss_config {
	char *path;        /* folder of the users' databases */
	int busy_ms;       /* how long a writer waits for another */
	long long cache_kib;
	unsigned idle_max; /* idle connections kept (pool.c) */
};
extern struct ss_config ss_config;

/* Statements a connection keeps prepared (db.c): the SQL every call
 * runs is a few dozen constant strings, and compiling one costs more
 * than running it. */
#define SS_STMTS 64

struct ss_stmt {
	const char *sql;  /* the caller's constant text: the key */
	sqlite3_stmt *st;
	int busy;         /* handed out, not given back yet */
};

/* An open database with what it keeps between handles: its prepared
 * statements and, while idle, its place in the pool (pool.c). */
struct ss_db {
	sqlite3 *db;
	struct ss_db *next; /* pool.c's list */
	int sync;           /* enum ss_sync the connection commits with */
	sqlite3_blob *blob; /* message.c's, open only inside a snapshot */
	unsigned nstmt;
	struct ss_stmt stmt[SS_STMTS];
	char file[];
};

struct ss_conn {
	sqlite3 *db;      /* d->db while the handle holds d */
	struct ss_db *d;
	const char *file; /* the handle's user's database */
	unsigned depth; /* open transaction levels: callbacks may read */
	int held;       /* ss_conn_hold: d and a read snapshot stay */
	int turn;       /* in the writers' turnstile (turnstile.c) */
};

/* turnstile.c: around a write transaction on file. */
int ss_turn_enter(const char *file);
void ss_turn_leave(const char *file);

struct ps_store_user {
	struct ss_conn c;
	char *name; /* lower case: the bus topic's suffix */
	char *file; /* the database */
	char *dir;  /* its folder, where append spools live */
	uint64_t quota;
};

struct ps_mbox {
	struct ss_conn c;
	struct ps_store_user *u;
	int64_t id;
	uint32_t uidvalidity; /* as opened: a new one is another mailbox */
	unsigned mode; /* PS_OPEN_* */
};

/* A mailbox row as stored. */
struct ss_mbox_row {
	int64_t id;
	char name[SS_NAME_MAX + 1];
	uint32_t uidvalidity, uidnext, recent_uid, messages, unseen;
	uint64_t modseq, bytes;
	unsigned special_use;
	int noselect;
};

/* How far a change must have gone when its call returns (db.c). */
enum ss_sync {
	SS_SYNC_FULL, /* on the disk (the WAL fsynced): what a power loss
		       * must not undo, new mail above all */
	SS_SYNC_LAZY, /* in the WAL, not fsynced: survives the process's
		       * crash, a power loss may undo it (flags, expunges,
		       * \Recent claims, the cache) */
};

/* db.c */
/* err's message from fmt (err may be NULL), code returned: libpsstore's. */
#define ss_err pst_err
int ss_dberr(struct ss_conn *c, struct ps_error *err);
void ss_db_free(struct ss_db *d);
void ss_conn_init(struct ss_conn *c, const char *file);
int ss_conn_pooled(struct ss_conn *c);
int ss_conn_create(struct ss_conn *c, struct ps_error *err);
void ss_conn_close(struct ss_conn *c);
void ss_conn_hold(struct ss_conn *c);
void ss_conn_release(struct ss_conn *c);
int ss_read_begin(struct ss_conn *c, struct ps_error *err);
void ss_read_end(struct ss_conn *c);
int ss_write_begin(struct ss_conn *c, enum ss_sync sync,
		   struct ps_error *err);
int ss_write_end(struct ss_conn *c, int r, int changed, struct ps_error *err);
/* Statements come from the connection's cache, keyed by the address of
 * their text: the macros accept only string literals ("" sql does not
 * compile otherwise), so a key never stands for two texts. Give a
 * statement back with ss_done, never sqlite3_finalize. */
#define ss_prep(c, err, sql, ...) ss_prep_sql(c, err, "" sql, __VA_ARGS__)
#define ss_exec(c, err, sql, ...) ss_exec_sql(c, err, "" sql, __VA_ARGS__)
#define ss_query_int(c, err, v_r, sql, ...)                              \
	ss_query_int_sql(c, err, v_r, "" sql, __VA_ARGS__)
sqlite3_stmt *ss_prep_sql(struct ss_conn *c, struct ps_error *err,
			  const char *sql, const char *fmt, ...);
void ss_done(struct ss_conn *c, sqlite3_stmt *st);
int ss_rebind(struct ss_conn *c, sqlite3_stmt *st, struct ps_error *err,
	      const char *fmt, ...);
int ss_step(struct ss_conn *c, sqlite3_stmt *st, struct ps_error *err);
int ss_exec_sql(struct ss_conn *c, struct ps_error *err, const char *sql,
		const char *fmt, ...);
int ss_query_int_sql(struct ss_conn *c, struct ps_error *err, int64_t *v_r,
		     const char *sql, const char *fmt, ...);

/* walbuf.c: the VFS that gathers WAL writes (NULL: SQLite's default),
 * and whether db's commits may use it (only with synchronous=FULL). */
const char *ss_walbuf_vfs(void);
void ss_walbuf_set(sqlite3 *db, int on);

/* group.c: fn makes one change on c, inside a shared transaction. */
typedef int (*ss_group_fn)(void *arg, struct ss_conn *c,
			   struct ps_error *err);
int ss_group_commit(struct ss_conn *c, ss_group_fn fn, void *arg,
		    struct ps_error *err);

/* pool.c */
struct ss_db *ss_pool_take(const char *file);
void ss_pool_put(struct ss_db *d);
void ss_pool_forget(const char *file);

/* schema.c */
int ss_schema_migrate(struct ss_conn *c, struct ps_error *err);

/* names.c; a mailbox name's rules are libpsstore's, as the other
 * backends' (out: SS_NAME_MAX + 1 bytes). */
static inline int
ss_name_canon(const char *name, char *out, struct ps_error *err)
{
	return pst_name_canon(name, out, NULL, "", err);
}
int ss_name_parent(const char *name, size_t *len_r);
int ss_user_path(const char *user, char **name_r, char **dir_r,
		 char **file_r, struct ps_error *err);
int ss_mkdirs(const char *dir, struct ps_error *err);

/* mailbox.c: rows inside a caller's transaction */
/* SQL for the names below name: those in [name + '/', name + '0'), '0'
 * being the character after '/', so the unique index on name answers. */
#define SS_CHILDREN_OF(n) "name > " n " || '/' AND name < " n " || '0'"
int ss_mbox_get(struct ss_conn *c, const char *name, int64_t id,
		int selectable, struct ss_mbox_row *r, struct ps_error *err);
int ss_mbox_bump(struct ss_conn *c, int64_t id, uint64_t *modseq_r,
		 struct ps_error *err);
int ss_mbox_take_uids(struct ss_conn *c, int64_t id, uint32_t n,
		      uint32_t *first_r, struct ps_error *err);
int ss_mbox_insert(struct ss_conn *c, const char *name, unsigned special_use,
		   int64_t *id_r, struct ps_error *err);
int ss_mbox_parents(struct ss_conn *c, const char *name,
		    struct ps_error *err);
int ss_mbox_has_children(struct ss_conn *c, const char *name, int *yes_r,
			 struct ps_error *err);
int ss_usage(struct ss_conn *c, uint64_t *bytes_r, uint64_t *messages_r,
	     struct ps_error *err);
void ss_notify(const struct ps_store_user *u, const char *mailbox);
void ss_notify_rename(const struct ps_store_user *u, const char *old,
		      const char *to, const char *rest);

/* select.c */
int ss_mbox_writable(const struct ps_mbox *mb, struct ps_error *err);
int ss_mbox_current(struct ps_mbox *mb, struct ss_mbox_row *row,
		    struct ps_error *err);
int ss_mbox_change(struct ps_mbox *mb, const struct ps_uid_range *set,
		   size_t nset, enum ss_sync sync, struct pst_uidset *u,
		   struct ss_mbox_row *row, struct ps_error *err);

/* message.c. SS_MSG_FROM(index) names the index of message to use. */
#define SS_MSG_FROM(index)                                               \
	"SELECT m.uid, m.flags, m.keywords, m.internal_date, "           \
	"m.internal_tz, m.size, m.modseq, b.cache FROM message m "       \
	index "JOIN body b ON b.id = m.body_id "
#define SS_MSG_SELECT SS_MSG_FROM("")
int ss_msg_row(sqlite3_stmt *st, struct pst_kw *kw, struct ps_msg *m);
int ss_uid_each(struct ss_conn *c, sqlite3_stmt *st, ps_store_uid_fn fn,
		void *arg, struct ps_error *err);

/* expunge.c */
int ss_expunge_range(struct ss_conn *c, int64_t mbox, uint32_t first,
		     uint32_t last, int deleted_only, uint64_t modseq,
		     size_t *n_r, struct ps_error *err);

/* copy.c */
int ss_copy_rows(struct ss_conn *c, int64_t src, const struct pst_uidset *set,
		 const struct ss_mbox_row *dst, int move, uint64_t quota,
		 ps_store_uidmap_fn map, void *arg, size_t *n_r,
		 struct ps_error *err);

/* The storage calls, one file per family. */
int ss_user_open(const char *user, uint64_t quota_bytes,
		 struct ps_store_user **u_r, struct ps_error *err);
void ss_user_close(struct ps_store_user *u);
int ss_user_delete(const char *user, struct ps_error *err);
int ss_quota_get(struct ps_store_user *u, uint64_t *bytes_r,
		 uint64_t *messages_r, struct ps_error *err);
int ss_mailbox_list(struct ps_store_user *u, ps_store_mailbox_fn fn,
		    void *arg, struct ps_error *err);
int ss_mailbox_create(struct ps_store_user *u, const char *name,
		      unsigned special_use, struct ps_error *err);
int ss_mailbox_subscribe(struct ps_store_user *u, const char *name,
			 int subscribe, struct ps_error *err);
int ss_mailbox_delete(struct ps_store_user *u, const char *name,
		      struct ps_error *err);
int ss_mailbox_rename(struct ps_store_user *u, const char *from,
		      const char *to, struct ps_error *err);
int ss_mailbox_status(struct ps_store_user *u, const char *name,
		      struct ps_mailbox_status *st_r, struct ps_error *err);
int ss_mailbox_open(struct ps_store_user *u, const char *name, unsigned mode,
		    struct ps_mbox **mb_r, struct ps_mailbox_status *st_r,
		    uint32_t *first_recent_r, struct ps_error *err);
void ss_mailbox_close(struct ps_mbox *mb);
void ss_mailbox_hold(struct ps_mbox *mb);
void ss_mailbox_release(struct ps_mbox *mb);
int ss_msg_fetch(struct ps_mbox *mb, const struct ps_uid_range *set,
		 size_t nset, ps_store_msg_fn fn, void *arg,
		 struct ps_error *err);
int ss_msg_read(struct ps_mbox *mb, uint32_t uid, uint64_t offset, void *buf,
		size_t len, size_t *got_r, struct ps_error *err);
int ss_msg_set_cache(struct ps_mbox *mb, uint32_t uid, const void *cache,
		     size_t len, struct ps_error *err);
int ss_changes_since(struct ps_mbox *mb, uint64_t modseq,
		     ps_store_msg_fn changed, ps_store_uid_fn expunged,
		     void *arg, struct ps_error *err);
int ss_msg_store(struct ps_mbox *mb, const struct ps_uid_range *set,
		 size_t nset, enum ps_store_mode mode, unsigned flags,
		 const char *const *keywords, size_t nkeywords,
		 uint64_t unchangedsince, ps_store_msg_fn changed,
		 ps_store_uid_fn refused, void *arg, struct ps_error *err);
int ss_msg_copy(struct ps_mbox *mb, const struct ps_uid_range *set,
		size_t nset, const char *dest, int move,
		ps_store_uidmap_fn map, void *arg,
		uint32_t *dest_uidvalidity_r, struct ps_error *err);
int ss_expunge(struct ps_mbox *mb, const struct ps_uid_range *set,
	       size_t nset, ps_store_uid_fn removed, void *arg,
	       struct ps_error *err);
int ss_append_begin(struct ps_store_user *u, const char *mailbox,
		    struct ps_store_append **a_r, struct ps_error *err);
int ss_append_msg_begin(struct ps_store_append *a, unsigned flags,
			const char *const *keywords, size_t nkeywords,
			int64_t internal_date, int internal_tz,
			struct ps_error *err);
int ss_append_data(struct ps_store_append *a, const void *data, size_t len,
		   struct ps_error *err);
int ss_append_msg_end(struct ps_store_append *a, const void *cache,
		      size_t cache_len, struct ps_error *err);
int ss_append_commit(struct ps_store_append *a, uint32_t *uids_r,
		     uint32_t *uidvalidity_r, struct ps_error *err);
void ss_append_abort(struct ps_store_append *a);
/* SDK 1.6: restore.c, append.c */
int ss_mailbox_set_uidvalidity(struct ps_store_user *u, const char *name,
			       uint32_t uidvalidity, struct ps_error *err);
int ss_append_msg_uid(struct ps_store_append *a, uint32_t uid,
		      struct ps_error *err);

#endif
