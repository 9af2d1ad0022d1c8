/* SQLite connections for queue_sqlite: opening with the pragmas that make
 * a commit durable, read and write transactions on a borrowed connection,
 * statements prepared and bound in one call (every value a parameter),
 * and the random numbers ids and leases are made of. Every change runs in
 * a BEGIN IMMEDIATE transaction, so writers in every process queue on
 * SQLite's lock instead of racing for the same recipients. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "queue_sqlite.h"

int
qs_err(struct ps_error *err, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return code;
}

int
qs_dberr(sqlite3 *db, struct ps_error *err)
{
	int code = db ? sqlite3_errcode(db) : SQLITE_NOMEM;

	if (code == SQLITE_NOMEM)
		return qs_err(err, PS_ENOMEM, "sqlite: out of memory");
	return qs_err(err, PS_EIO, "sqlite: %s", sqlite3_errmsg(db));
}

/* After a checkpoint, the WAL a big message grew shrinks back to this. */
#define QS_WAL_KEEP (4 * 1024 * 1024)

/* WAL lets readers (list, msg_read) work beside the one writer;
 * synchronous=FULL syncs the WAL at every commit, which is what makes an
 * enqueue "durable when it returns" even if the machine loses power right
 * after. Leases lower it for their own transaction (qs_write_begin). */
static int
qs_pragmas(sqlite3 *db, struct ps_error *err)
{
	char sql[200];
	int wal = 0;

	/* Two processes creating the database race for the switch to WAL;
	 * the loser sees the old mode without waiting on the busy handler.
	 * Try again for as long as the busy timeout allows. */
	for (long long waited = 0; !wal && waited <= qs_config.busy_ms;
	     waited += 10) {
		sqlite3_stmt *st = qs_prep(db, err, "PRAGMA journal_mode = WAL",
					   "");
		if (!st)
			return PS_EIO;
		wal = qs_step(db, st, err) == 1 && sqlite3_column_text(st, 0) &&
		      strcmp((const char *)sqlite3_column_text(st, 0),
			     "wal") == 0;
		sqlite3_finalize(st);
		if (!wal)
			sqlite3_sleep(10);
	}
	if (!wal)
		return qs_err(err, PS_EIO, "sqlite: cannot use WAL for %s",
			      qs_config.file);
	snprintf(sql, sizeof(sql),
		 "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; "
		 "PRAGMA cache_size = -%lld; "
		 "PRAGMA journal_size_limit = %d",
		 qs_config.cache_kib, QS_WAL_KEEP);
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return qs_dberr(db, err);
	return 0;
}

/* Wait for another process's transaction. SQLite's own handler sleeps in
 * steps of up to 100 ms; a commit takes a few ms, so this one polls every
 * quarter of a millisecond at first, then every two, until busy_timeout
 * has passed. */
static int
qs_busy(void *arg, int count)
{
	long long waited = count < 20 ? count * 250LL
				      : 5000LL + (count - 20) * 2000LL;

	(void)arg;
	if (waited >= qs_config.busy_ms * 1000LL)
		return 0;
	usleep(count < 20 ? 250 : 2000);
	return 1;
}

/* A connection is used by one thread at a time (NOMUTEX): a call borrows
 * one from the pool, or opens one, for one transaction. */
static int
qs_open(sqlite3 **db_r, struct ps_error *err)
{
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
		    SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW;
	sqlite3 *db = NULL;
	int r;

	*db_r = NULL;
	if (!qs_config.file)
		return qs_err(err, PS_ESTATE, "the queue is not started");
	if (sqlite3_open_v2(qs_config.file, &db, flags, NULL) != SQLITE_OK) {
		r = qs_dberr(db, err);
	} else {
		sqlite3_busy_handler(db, qs_busy, NULL);
		r = qs_pragmas(db, err);
	}
	if (r < 0) {
		sqlite3_close_v2(db);
		return r;
	}
	*db_r = db;
	return 0;
}

int
qs_take(sqlite3 **db_r, struct ps_error *err)
{
	*db_r = qs_pool_take();
	return *db_r ? 0 : qs_open(db_r, err);
}

/* A connection without a transaction goes back to the pool. */
void
qs_give(sqlite3 *db)
{
	if (db && sqlite3_get_autocommit(db))
		qs_pool_put(db);
	else
		sqlite3_close_v2(db);
}

/* A snapshot for the reads of one call. */
int
qs_read_begin(sqlite3 **db_r, struct ps_error *err)
{
	sqlite3 *db;
	int r = qs_take(&db, err);

	*db_r = NULL;
	if (r < 0)
		return r;
	if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
		r = qs_dberr(db, err);
		sqlite3_close_v2(db);
		return r;
	}
	*db_r = db;
	return 0;
}

void
qs_read_end(sqlite3 *db)
{
	if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	qs_give(db);
}

/* A change: BEGIN IMMEDIATE takes the write lock at once, so two writers
 * never both read the same due rows and then both claim them. Without
 * durable the commit does not sync the WAL (synchronous=NORMAL): a power
 * failure may then lose it, never a process crash; leases use that, since
 * a lost claim only makes recipients due again. */
int
qs_write_begin(sqlite3 **db_r, int durable, struct ps_error *err)
{
	sqlite3 *db;
	int r = qs_take(&db, err);

	*db_r = NULL;
	if (r < 0)
		return r;
	if (!durable && sqlite3_exec(db, "PRAGMA synchronous = NORMAL", NULL,
				     NULL, NULL) != SQLITE_OK)
		r = qs_dberr(db, err);
	if (r == 0 && sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) !=
	    SQLITE_OK)
		r = qs_dberr(db, err);
	if (r < 0) {
		sqlite3_close_v2(db);
		return r;
	}
	*db_r = db;
	return 0;
}

/* Commit when r is 0, else roll back; returns r, or the commit's error. */
int
qs_write_end(sqlite3 *db, int durable, int r, struct ps_error *err)
{
	if (r == 0 && sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) !=
	    SQLITE_OK)
		r = qs_dberr(db, err);
	if (!sqlite3_get_autocommit(db))
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	if (!durable && sqlite3_exec(db, "PRAGMA synchronous = FULL", NULL,
				     NULL, NULL) != SQLITE_OK) {
		/* Never pool a connection that would commit lazily. */
		sqlite3_close_v2(db);
		return r;
	}
	qs_give(db);
	return r;
}

/* Bind fmt's parameters from 1 on: 'i' int64_t, 'u' unsigned, 's' text
 * (NULL binds NULL), 'b' a blob as pointer and size_t. */
static int
qs_bindv(sqlite3_stmt *st, const char *fmt, va_list ap)
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
			rc = sqlite3_bind_blob64(st, i, p, len, SQLITE_STATIC);
			break;
		}
	}
	return rc;
}

static sqlite3_stmt *
qs_prepv(sqlite3 *db, struct ps_error *err, const char *sql, const char *fmt,
	 va_list ap)
{
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		qs_dberr(db, err);
		return NULL;
	}
	if (qs_bindv(st, fmt, ap) != SQLITE_OK) {
		qs_dberr(db, err);
		sqlite3_finalize(st);
		return NULL;
	}
	return st;
}

sqlite3_stmt *
qs_prep(sqlite3 *db, struct ps_error *err, const char *sql, const char *fmt,
	...)
{
	sqlite3_stmt *st;
	va_list ap;

	va_start(ap, fmt);
	st = qs_prepv(db, err, sql, fmt, ap);
	va_end(ap);
	return st;
}

/* Reset st and bind new values, for a statement run in a loop. */
int
qs_rebind(sqlite3 *db, sqlite3_stmt *st, struct ps_error *err,
	  const char *fmt, ...)
{
	va_list ap;
	int rc;

	sqlite3_reset(st);
	va_start(ap, fmt);
	rc = qs_bindv(st, fmt, ap);
	va_end(ap);
	return rc == SQLITE_OK ? 0 : qs_dberr(db, err);
}

/* 1: a row, 0: done, negative: an error (in err). */
int
qs_step(sqlite3 *db, sqlite3_stmt *st, struct ps_error *err)
{
	switch (sqlite3_step(st)) {
	case SQLITE_ROW:
		return 1;
	case SQLITE_DONE:
		return 0;
	default:
		return qs_dberr(db, err);
	}
}

/* Run a statement to its end: the rows it gave (the first one's first
 * column in *v_r, if given) or an error. */
static int
qs_runv(sqlite3 *db, struct ps_error *err, int64_t *v_r, const char *sql,
	const char *fmt, va_list ap)
{
	sqlite3_stmt *st = qs_prepv(db, err, sql, fmt, ap);
	int rows = 0, r;

	if (!st)
		return PS_EIO;
	while ((r = qs_step(db, st, err)) == 1)
		if (rows++ == 0 && v_r)
			*v_r = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return r < 0 ? r : rows;
}

/* Run a statement; the rows it changed or an error. */
int
qs_exec(sqlite3 *db, struct ps_error *err, const char *sql, const char *fmt,
	...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = qs_runv(db, err, NULL, sql, fmt, ap);
	va_end(ap);
	return r < 0 ? r : sqlite3_changes(db);
}

/* The first column of a query's first row: 1 with *v_r set, 0 when there
 * is no row (or it is NULL), or an error. */
int
qs_query_int(sqlite3 *db, struct ps_error *err, int64_t *v_r,
	     const char *sql, const char *fmt, ...)
{
	sqlite3_stmt *st;
	va_list ap;
	int r;

	va_start(ap, fmt);
	st = qs_prepv(db, err, sql, fmt, ap);
	va_end(ap);
	if (!st)
		return PS_EIO;
	r = qs_step(db, st, err);
	if (r == 1 && sqlite3_column_type(st, 0) == SQLITE_NULL)
		r = 0;
	if (r == 1)
		*v_r = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return r;
}

/* 64 random bits for ids and lease numbers: unique, not secret. Should
 * the kernel refuse (no getrandom), the process, a counter and the clock
 * are mixed instead; the clock here is entropy, not queue time. */
uint64_t
qs_random(void)
{
	static uint64_t counter;
	struct timespec ts;
	uint64_t v;
	ssize_t n;

	do
		n = getrandom(&v, sizeof(v), 0);
	while (n < 0 && errno == EINTR);
	if (n == (ssize_t)sizeof(v))
		return v;
	clock_gettime(CLOCK_REALTIME, &ts);
	v = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	v ^= (uint64_t)getpid() << 40;
	v += __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED) *
	     0x9e3779b97f4a7c15ull;
	/* splitmix64's finaliser, so neighbours differ in every digit. */
	v = (v ^ (v >> 30)) * 0xbf58476d1ce4e5b9ull;
	v = (v ^ (v >> 27)) * 0x94d049bb133111ebull;
	return v ^ (v >> 31);
}
