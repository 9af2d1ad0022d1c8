/* SQLite connections for storage_sqlite: opening with the pragmas that
 * make a commit durable, transactions that callbacks may nest reads in,
 * and statements prepared and bound in one call. Every change runs in a
 * BEGIN IMMEDIATE transaction, so writers of one user queue on SQLite's
 * busy timeout instead of racing for UIDs. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "storage_sqlite.h"

int
ss_dberr(struct ss_conn *c, struct ps_error *err)
{
	int code = c->db ? sqlite3_errcode(c->db) : SQLITE_NOMEM;

	if (code == SQLITE_NOMEM)
		return ss_err(err, PS_ENOMEM, "sqlite: out of memory");
	return ss_err(err, PS_EIO, "sqlite: %s", sqlite3_errmsg(c->db));
}

/* After a checkpoint, the WAL a big append grew shrinks back to this. */
#define SS_WAL_KEEP (4 * 1024 * 1024)

/* WAL lets readers work beside the one writer; synchronous=FULL syncs
 * the WAL at every commit, which is what makes a change "durable when it
 * returns" even if the machine loses power right after. */
static int
ss_conn_pragmas(struct ss_conn *c, struct ps_error *err)
{
	char sql[200];
	int wal = 0;

	/* Two processes creating the same new database race for the switch
	 * to WAL; the loser sees the old mode, without waiting on the busy
	 * handler. Try again for as long as the busy timeout allows. */
	for (long long waited = 0; !wal && waited <= ss_config.busy_ms;
	     waited += 10) {
		sqlite3_stmt *st = ss_prep(c, err, "PRAGMA journal_mode = WAL",
					   "");
		if (!st)
			return PS_EIO;
		wal = ss_step(c, st, err) == 1 && sqlite3_column_text(st, 0) &&
		      strcmp((const char *)sqlite3_column_text(st, 0),
			     "wal") == 0;
		ss_done(c, st);
		if (!wal)
			sqlite3_sleep(10);
	}
	if (!wal)
		return ss_err(err, PS_EIO, "sqlite: cannot use WAL for %s",
			      sqlite3_db_filename(c->db, "main"));
	snprintf(sql, sizeof(sql),
		 "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; "
		 "PRAGMA cache_size = -%lld; "
		 "PRAGMA journal_size_limit = %d",
		 ss_config.cache_kib, SS_WAL_KEEP);
	if (sqlite3_exec(c->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return ss_dberr(c, err);
	return 0;
}

/* Wait for another process's transaction on the same database. SQLite's
 * own handler sleeps in steps of up to 100 ms; a commit takes a few ms,
 * so this one polls every quarter of a millisecond at first, then every
 * two, until busy_timeout has passed (count is how often it was called
 * for this lock). */
static int
ss_busy(void *arg, int count)
{
	long long waited = count < 20 ? count * 250LL
				      : 5000LL + (count - 20) * 2000LL;

	(void)arg;
	if (waited >= ss_config.busy_ms * 1000LL)
		return 0;
	usleep(count < 20 ? 250 : 2000);
	return 1;
}

/* Connections. A handle (user, mailbox, append) holds one only during
 * a call: idle sessions, thousands of them, would otherwise each keep a
 * page cache and a WAL-index mapping for nothing. A call takes one from
 * the pool (pool.c) or opens one, and gives it back when its outermost
 * transaction ends. Connections are used by one thread at a time, so
 * SQLite's own mutexes would only add cost (NOMUTEX). */
static int
ss_db_open(struct ss_conn *c, int create, struct ps_error *err)
{
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX |
		    SQLITE_OPEN_NOFOLLOW | (create ? SQLITE_OPEN_CREATE : 0);
	size_t len = strlen(c->file) + 1;
	int r;

	c->d = malloc(sizeof(*c->d) + len);
	if (!c->d)
		return ss_err(err, PS_ENOMEM, "out of memory");
	c->d->next = NULL;
	c->d->nstmt = 0;
	c->d->sync = SS_SYNC_FULL; /* ss_conn_pragmas */
	c->d->blob = NULL;
	memcpy(c->d->file, c->file, len);
	if (sqlite3_open_v2(c->file, &c->d->db, flags, ss_walbuf_vfs()) !=
	    SQLITE_OK) {
		c->db = c->d->db;
		/* Only user_open creates: a handle's database that is gone
		 * was deleted (user_delete) under it. */
		r = !create && sqlite3_errcode(c->db) == SQLITE_CANTOPEN
			? ss_err(err, PS_ENOENT, "the user's store was deleted")
			: ss_dberr(c, err);
	} else {
		c->db = c->d->db;
		sqlite3_busy_handler(c->db, ss_busy, NULL);
		r = ss_conn_pragmas(c, err);
		if (r == 0)
			ss_walbuf_set(c->db, 1); /* synchronous = FULL */
	}
	if (r < 0) {
		/* Half set up: closed, never pooled. */
		ss_db_free(c->d);
		c->d = NULL;
		c->db = NULL;
	}
	return r;
}

/* Close a connection and the statements it kept. */
void
ss_db_free(struct ss_db *d)
{
	if (!d)
		return;
	sqlite3_blob_close(d->blob);
	for (unsigned i = 0; i < d->nstmt; i++)
		sqlite3_finalize(d->stmt[i].st);
	sqlite3_close_v2(d->db);
	free(d);
}

void
ss_conn_init(struct ss_conn *c, const char *file)
{
	c->db = NULL;
	c->d = NULL;
	c->file = file;
	c->depth = 0;
	c->held = 0;
}

/* Take an idle connection to the handle's file, if the pool has one: 1
 * then, else 0. */
int
ss_conn_pooled(struct ss_conn *c)
{
	if (!c->d)
		c->d = ss_pool_take(c->file);
	c->db = c->d ? c->d->db : NULL;
	return c->d != NULL;
}

/* For user_open: the database made if need be, and kept open until
 * ss_conn_close so that it can be migrated. */
int
ss_conn_create(struct ss_conn *c, struct ps_error *err)
{
	return ss_conn_pooled(c) ? 0 : ss_db_open(c, 1, err);
}

static int
ss_conn_acquire(struct ss_conn *c, struct ps_error *err)
{
	if (c->d)
		return 0;
	return ss_conn_pooled(c) ? 0 : ss_db_open(c, 0, err);
}

/* A connection left without a transaction goes back to the pool. */
void
ss_conn_close(struct ss_conn *c)
{
	if (c->d && !c->depth && sqlite3_get_autocommit(c->db)) {
		sqlite3_blob_close(c->d->blob);
		c->d->blob = NULL;
		ss_pool_put(c->d);
	} else {
		ss_db_free(c->d);
	}
	c->d = NULL;
	c->db = NULL;
}

/* BEGIN, COMMIT and the like, from the statement cache too: SQLite's
 * exec would compile them at every call. An SQLite result code. */
static int
ss_txn(struct ss_conn *c, const char *sql)
{
	struct ps_error scratch;
	sqlite3_stmt *st = ss_prep_sql(c, &scratch, sql, "");
	int rc;

	if (!st)
		return sqlite3_errcode(c->db) != SQLITE_OK
			       ? sqlite3_errcode(c->db) : SQLITE_ERROR;
	rc = sqlite3_step(st);
	ss_done(c, st);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* A snapshot for the reads of one call; a callback that reads through
 * the same handle nests inside it, and the next call of a held handle
 * goes on with it. */
int
ss_read_begin(struct ss_conn *c, struct ps_error *err)
{
	int r;

	if (c->depth++)
		return 0;
	r = ss_conn_acquire(c, err);
	if (r == 0 && sqlite3_get_autocommit(c->db) &&
	    ss_txn(c, "BEGIN") != SQLITE_OK)
		r = ss_dberr(c, err);
	if (r < 0) {
		c->depth = 0;
		ss_conn_close(c);
	}
	return r;
}

/* End the read snapshot, if one is open (a read commits nothing), and
 * the blob handle that reads in it. */
static void
ss_read_finish(struct ss_conn *c)
{
	sqlite3_blob_close(c->d->blob);
	c->d->blob = NULL;
	if (!sqlite3_get_autocommit(c->db) && ss_txn(c, "COMMIT") != SQLITE_OK)
		ss_txn(c, "ROLLBACK");
}

void
ss_read_end(struct ss_conn *c)
{
	if (--c->depth || c->held)
		return;
	ss_read_finish(c);
	ss_conn_close(c);
}

/* Between ss_conn_hold and ss_conn_release the handle keeps its
 * connection and the snapshot its first read opened, so the calls of
 * one command pay once for what each would pay: the pool, the check
 * that the file was not deleted (a stat), BEGIN and COMMIT and the
 * locks they take and drop (four fcntl). A SEARCH that reads 200
 * headers made 200 of each. A change ends the snapshot first, so it
 * starts from the newest state, and the reads after it see it. */
void
ss_conn_hold(struct ss_conn *c)
{
	c->held = 1;
}

void
ss_conn_release(struct ss_conn *c)
{
	c->held = 0;
	if (!c->d || c->depth)
		return;
	ss_read_finish(c);
	ss_conn_close(c);
}

/* Commit the next transaction with sync. WAL with synchronous=NORMAL
 * writes the commit to the WAL without fsync: atomic and consistent
 * still, and WAL recovery keeps a prefix of the commits (each frame's
 * checksum covers those before it), so a later FULL commit makes the
 * lazy ones before it durable too, and a power loss can only undo the
 * last lazy ones. The pragma takes effect when compiled, so it is run
 * with exec, and only when the level changes. */
static int
ss_sync_set(struct ss_conn *c, enum ss_sync sync)
{
	if (c->d->sync == (int)sync)
		return SQLITE_OK;
	/* WAL writes wait in a buffer only while each commit syncs: off
	 * until the pragma is known to have taken. */
	ss_walbuf_set(c->db, 0);
	c->d->sync = -1; /* unknown, should the pragma fail */
	if (sqlite3_exec(c->db, sync == SS_SYNC_FULL
				? "PRAGMA synchronous = FULL"
				: "PRAGMA synchronous = NORMAL",
			 NULL, NULL, NULL) != SQLITE_OK)
		return sqlite3_errcode(c->db);
	ss_walbuf_set(c->db, sync == SS_SYNC_FULL);
	c->d->sync = (int)sync;
	return SQLITE_OK;
}

/* Refuses a change inside a callback of the same handle, and a change
 * to a store user_delete removed while the handle was open (it would
 * vanish with the unlinked file). sync: how the commit reaches the
 * disk. */
static void
ss_turn_end(struct ss_conn *c)
{
	if (c->turn)
		ss_turn_leave(c->file);
	c->turn = 0;
}

int
ss_write_begin(struct ss_conn *c, enum ss_sync sync, struct ps_error *err)
{
	int moved = 0, r;

	if (c->depth)
		return ss_err(err, PS_ESTATE, "a change cannot be made from a "
			      "callback of the same handle");
	r = ss_conn_acquire(c, err);
	if (r == 0)
		ss_read_finish(c); /* a held handle's snapshot */
	if (r == 0 && sqlite3_file_control(c->db, "main",
					   SQLITE_FCNTL_HAS_MOVED, &moved) ==
	    SQLITE_OK && moved)
		r = ss_err(err, PS_ENOENT, "the user's store was deleted");
	if (r == 0 && ss_sync_set(c, sync) != SQLITE_OK)
		r = ss_dberr(c, err);
	if (r == 0)
		c->turn = ss_turn_enter(c->file);
	if (r == 0 && ss_txn(c, "BEGIN IMMEDIATE") != SQLITE_OK)
		r = ss_dberr(c, err);
	if (r < 0) {
		ss_turn_end(c);
		ss_conn_close(c);
		return r;
	}
	c->depth = 1;
	return 0;
}

/* Commit when r is 0 and something changed, else roll back; returns r,
 * or the commit's error. */
int
ss_write_end(struct ss_conn *c, int r, int changed, struct ps_error *err)
{
	c->depth = 0;
	if (r == 0 && changed && ss_txn(c, "COMMIT") != SQLITE_OK)
		r = ss_dberr(c, err);
	if (!sqlite3_get_autocommit(c->db))
		ss_txn(c, "ROLLBACK");
	ss_turn_end(c);
	if (!c->held)
		ss_conn_close(c);
	return r;
}

/* Bind fmt's parameters from 1 on: 'i' int64_t, 'u' unsigned, 's' text
 * (NULL binds NULL), 'b' a blob as pointer and size_t (NULL binds NULL). */
static int
ss_bindv(sqlite3_stmt *st, const char *fmt, va_list ap)
{
	int rc = SQLITE_OK;

	for (int i = 1; *fmt && rc == SQLITE_OK; fmt++, i++) {
		const void *p;
		size_t len;

		switch (*fmt) {
		case 'i':
			rc = sqlite3_bind_int64(st, i, va_arg(ap, int64_t));
			break;
		case 'u':
			rc = sqlite3_bind_int64(st, i, va_arg(ap, unsigned));
			break;
		case 's':
			rc = sqlite3_bind_text(st, i, va_arg(ap, const char *),
					       -1, SQLITE_STATIC);
			break;
		default:
			p = va_arg(ap, const void *);
			len = va_arg(ap, size_t);
			rc = p ? sqlite3_bind_blob64(st, i, p, len,
						     SQLITE_STATIC)
			       : sqlite3_bind_null(st, i);
			break;
		}
	}
	return rc;
}

/* The cached statement for sql, prepared on first use. One that is
 * handed out already (the same call nested in a callback) or one past
 * the cache's room is prepared for this use alone. */
static sqlite3_stmt *
ss_stmt_get(struct ss_conn *c, const char *sql)
{
	struct ss_db *d = c->d;
	struct ss_stmt *e = NULL;
	sqlite3_stmt *st = NULL;

	for (unsigned i = 0; i < d->nstmt; i++)
		if (d->stmt[i].sql == sql) {
			e = &d->stmt[i];
			break;
		}
	if (e && !e->busy) {
		e->busy = 1;
		return e->st;
	}
	if (sqlite3_prepare_v2(c->db, sql, -1, &st, NULL) != SQLITE_OK)
		return NULL;
	if (!e && d->nstmt < SS_STMTS) {
		d->stmt[d->nstmt++] = (struct ss_stmt){
			.sql = sql, .st = st, .busy = 1};
	}
	return st;
}

/* Give back a statement from ss_prep: reset for its next use (which
 * also ends its read of the database), its values unbound so that no
 * pointer to the caller's memory stays behind, or finalized if it was
 * prepared for one use. NULL is ignored. */
void
ss_done(struct ss_conn *c, sqlite3_stmt *st)
{
	struct ss_db *d = c->d;

	if (!st)
		return;
	for (unsigned i = 0; d && i < d->nstmt; i++)
		if (d->stmt[i].st == st) {
			sqlite3_reset(st);
			sqlite3_clear_bindings(st);
			d->stmt[i].busy = 0;
			return;
		}
	sqlite3_finalize(st);
}

static sqlite3_stmt *
ss_prepv(struct ss_conn *c, struct ps_error *err, const char *sql,
	 const char *fmt, va_list ap)
{
	sqlite3_stmt *st = ss_stmt_get(c, sql);

	if (!st) {
		ss_dberr(c, err);
		return NULL;
	}
	if (ss_bindv(st, fmt, ap) != SQLITE_OK) {
		ss_dberr(c, err);
		ss_done(c, st);
		return NULL;
	}
	return st;
}

sqlite3_stmt *
ss_prep_sql(struct ss_conn *c, struct ps_error *err, const char *sql,
	    const char *fmt, ...)
{
	sqlite3_stmt *st;
	va_list ap;

	va_start(ap, fmt);
	st = ss_prepv(c, err, sql, fmt, ap);
	va_end(ap);
	return st;
}

/* Reset st and bind new values, for a statement run in a loop. */
int
ss_rebind(struct ss_conn *c, sqlite3_stmt *st, struct ps_error *err,
	  const char *fmt, ...)
{
	va_list ap;
	int rc;

	sqlite3_reset(st);
	va_start(ap, fmt);
	rc = ss_bindv(st, fmt, ap);
	va_end(ap);
	return rc == SQLITE_OK ? 0 : ss_dberr(c, err);
}

/* 1: a row, 0: done, negative: an error (in err). */
int
ss_step(struct ss_conn *c, sqlite3_stmt *st, struct ps_error *err)
{
	switch (sqlite3_step(st)) {
	case SQLITE_ROW:
		return 1;
	case SQLITE_DONE:
		return 0;
	default:
		return ss_dberr(c, err);
	}
}

/* Run a statement to its end: the rows it gave (the first one's first
 * column in *v_r, if given) or an error. */
static int
ss_runv(struct ss_conn *c, struct ps_error *err, int64_t *v_r,
	const char *sql, const char *fmt, va_list ap)
{
	sqlite3_stmt *st = ss_prepv(c, err, sql, fmt, ap);
	int rows = 0, r;

	if (!st)
		return PS_EIO;
	while ((r = ss_step(c, st, err)) == 1)
		if (rows++ == 0 && v_r)
			*v_r = sqlite3_column_int64(st, 0);
	ss_done(c, st);
	return r < 0 ? r : rows;
}

/* Run a statement; the rows it changed or an error. */
int
ss_exec_sql(struct ss_conn *c, struct ps_error *err, const char *sql,
	    const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = ss_runv(c, err, NULL, sql, fmt, ap);
	va_end(ap);
	return r < 0 ? r : sqlite3_changes(c->db);
}

/* The first column of a query's first row: 1 with *v_r set, 0 when there
 * is no row, or an error. */
int
ss_query_int_sql(struct ss_conn *c, struct ps_error *err, int64_t *v_r,
		 const char *sql, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = ss_runv(c, err, v_r, sql, fmt, ap);
	va_end(ap);
	return r < 0 ? r : r > 0;
}
