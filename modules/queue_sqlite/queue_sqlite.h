/* queue_sqlite's internals shared by its files: the worker's
 * configuration, the database helpers (db.c, pool.c, group.c, schema.c),
 * rows as the SDK reports them (read.c) and each file's entry points.
 * Every call borrows a connection for one transaction and gives it back;
 * nothing holds one between calls. */
#ifndef QS_QUEUE_SQLITE_H
#define QS_QUEUE_SQLITE_H

#include <poshta/poshta.h>
#include <poshta/queue.h>
#include <sqlite3.h>

#define QS_CHUNK (64 * 1024) /* body rows: reads and writes stay bounded
			      * whatever a message's size */
#define QS_DB_NAME "queue.db"

/* The module block, read in worker_init (module.c). */
struct qs_config {
	char *path;        /* the queue's folder */
	char *file;        /* path/queue.db */
	int busy_ms;       /* how long a writer waits for another */
	long long cache_kib;
	unsigned idle_max; /* idle connections kept (pool.c) */
};
extern struct qs_config qs_config;

/* db.c */
int qs_err(struct ps_error *err, int code, const char *fmt, ...)
	PS_PRINTF(3, 4);
int qs_dberr(sqlite3 *db, struct ps_error *err);
int qs_take(sqlite3 **db_r, struct ps_error *err);
void qs_give(sqlite3 *db);
int qs_read_begin(sqlite3 **db_r, struct ps_error *err);
void qs_read_end(sqlite3 *db);
int qs_write_begin(sqlite3 **db_r, int durable, struct ps_error *err);
int qs_write_end(sqlite3 *db, int durable, int r, struct ps_error *err);
sqlite3_stmt *qs_prep(sqlite3 *db, struct ps_error *err, const char *sql,
		      const char *fmt, ...);
int qs_rebind(sqlite3 *db, sqlite3_stmt *st, struct ps_error *err,
	      const char *fmt, ...);
int qs_step(sqlite3 *db, sqlite3_stmt *st, struct ps_error *err);
int qs_exec(sqlite3 *db, struct ps_error *err, const char *sql,
	    const char *fmt, ...);
int qs_query_int(sqlite3 *db, struct ps_error *err, int64_t *v_r,
		 const char *sql, const char *fmt, ...);
uint64_t qs_random(void);

/* pool.c */
sqlite3 *qs_pool_take(void);
void qs_pool_put(sqlite3 *db);
void qs_pool_forget(void);

/* group.c: fn makes one change on db, inside a shared transaction. */
typedef int (*qs_group_fn)(void *arg, sqlite3 *db, struct ps_error *err);
int qs_group_commit(qs_group_fn fn, void *arg, struct ps_error *err);

/* schema.c */
int qs_schema_migrate(struct ps_error *err);

/* read.c: rows as reported. The SELECT lists below fill a struct
 * ps_queue_msg from column 0 and a struct ps_queue_rcpt from column
 * QS_MSG_NCOLS, with the message as m and the recipient as r. */
#define QS_MSG_COLS                                                     \
	"m.id, m.sender, m.ret, m.envid, m.flags, m.arrival, m.size, "  \
	"m.user, m.client, m.held, m.nrcpts"
#define QS_MSG_NCOLS 11
#define QS_RCPT_COLS                                                    \
	"r.idx, r.address, r.kind, r.user, r.route, r.orcpt, r.notify, " \
	"r.state, r.attempts, r.next_attempt, r.last_attempt, r.diag, "  \
	"r.report, r.lease, r.lease_until"
void qs_msg_row(sqlite3_stmt *st, struct ps_queue_msg *m);
void qs_rcpt_row(sqlite3_stmt *st, int col, struct ps_queue_rcpt *r);
int qs_msg_each(sqlite3 *db, sqlite3_stmt *msgs, const char *rcpt_sql,
		int64_t lease, ps_queue_msg_fn fn, void *arg,
		unsigned *count_r, struct ps_error *err);
int qs_mid(sqlite3 *db, const char *id, int64_t *mid_r,
	   struct ps_error *err);
int qs_settle(sqlite3 *db, int64_t mid, struct ps_error *err);

/* module.c */
void qs_notify(const char *topic, const char *id);

/* The queue calls, one file per family. */
int qs_enq_begin(const struct ps_queue_envelope *env,
		 const struct ps_queue_rcpt_in *rcpts, size_t n,
		 struct ps_queue_enq **e_r, char id_r[PS_QUEUE_ID_LEN + 1],
		 struct ps_error *err);
int qs_enq_data(struct ps_queue_enq *e, const void *data, size_t len,
		struct ps_error *err);
int qs_enq_commit(struct ps_queue_enq *e, struct ps_error *err);
void qs_enq_abort(struct ps_queue_enq *e);
int qs_lease(const struct ps_queue_lease_args *a, ps_queue_rcpt_fn fn,
	     void *arg, uint64_t *lease_r, unsigned *count_r,
	     struct ps_error *err);
int qs_next_due(unsigned kinds, int64_t *when_r, struct ps_error *err);
int qs_results(struct ps_queue_result *v, size_t n, int64_t now,
	       struct ps_error *err);
int qs_report_lease(int64_t now, unsigned seconds, unsigned limit,
		    ps_queue_msg_fn fn, void *arg, uint64_t *lease_r,
		    struct ps_error *err);
int qs_report_done(const char *id, uint64_t lease, struct ps_error *err);
int qs_msg_get(const char *id, ps_queue_msg_fn fn, void *arg,
	       struct ps_error *err);
int qs_msg_read(const char *id, uint64_t offset, void *buf, size_t len,
		size_t *got_r, struct ps_error *err);
int qs_list(ps_queue_msg_fn fn, void *arg, struct ps_error *err);
int qs_hold(const char *id, int held, struct ps_error *err);
int qs_flush(const char *id, int64_t now, struct ps_error *err);
int qs_remove(const char *id, struct ps_error *err);

#endif
