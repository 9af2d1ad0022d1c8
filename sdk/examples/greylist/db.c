/* greylist.so's triplets in SQLite: one row per (network, sender,
 * recipient) with when it was first and last seen and whether it passed.
 * Every worker process opens the file; WAL lets them read while one
 * writes, and busy_timeout queues writers. Inside a worker, pool threads
 * share one connection behind a mutex: each lookup is a few rows. */
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "greylist.h"

/* How long a statement waits for another worker's write. */
#define BUSY_MS 5000

/* A schema change would need a migration numbered by PRAGMA user_version
 * (see modules/auth_sqlite/db.c in the Poshta tree); this is version 1.
 * Times are milliseconds since the epoch, so they survive restarts. */
static const char schema[] =
	"CREATE TABLE IF NOT EXISTS triplet ("
	"  net TEXT NOT NULL,"
	"  sender TEXT NOT NULL,"
	"  rcpt TEXT NOT NULL,"
	"  first_seen INTEGER NOT NULL,"
	"  last_seen INTEGER NOT NULL,"
	"  passed INTEGER NOT NULL DEFAULT 0,"
	"  PRIMARY KEY (net, sender, rcpt)) WITHOUT ROWID;";

static pthread_mutex_t db_lock = PTHREAD_MUTEX_INITIALIZER;
static sqlite3 *db; /* under db_lock; NULL when closed */

static int
db_fail(sqlite3 *h, const char *what, char *why, size_t whylen)
{
	snprintf(why, whylen, "%s: %s", what,
		 h ? sqlite3_errmsg(h) : "out of memory");
	return -1;
}

/* Two workers creating the file at once race for the switch to WAL; the
 * loser sees the old mode without waiting on the busy handler, so ask
 * again for as long as a statement would wait. */
static int
use_wal(sqlite3 *h)
{
	for (int waited = 0; waited <= BUSY_MS; waited += 10) {
		sqlite3_stmt *st = NULL;
		int wal = 0;

		if (sqlite3_prepare_v2(h, "PRAGMA journal_mode=WAL", -1, &st,
				       NULL) == SQLITE_OK &&
		    sqlite3_step(st) == SQLITE_ROW)
			wal = sqlite3_column_text(st, 0) &&
			      strcmp((const char *)sqlite3_column_text(st, 0),
				     "wal") == 0;
		sqlite3_finalize(st);
		if (wal)
			return 0;
		sqlite3_sleep(10);
	}
	return -1;
}

int
greylist_db_open(const char *path, char *why, size_t whylen)
{
	sqlite3 *h = NULL;
	int fd;

	/* Envelope addresses are personal data: only the server reads
	 * them. SQLite gives its -wal and -shm files the same mode. */
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) >= 0)
		close(fd);
	if (sqlite3_open_v2(path, &h, SQLITE_OPEN_READWRITE |
			    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK ||
	    sqlite3_busy_timeout(h, BUSY_MS) != SQLITE_OK)
		goto fail;
	if (use_wal(h) < 0) {
		snprintf(why, whylen, "%s: cannot switch to WAL", path);
		sqlite3_close(h);
		return -1;
	}
	/* NORMAL: in WAL mode a crash of the process loses nothing, a power
	 * failure at most the last lookups, and a lost row only means one
	 * more deferral. */
	if (sqlite3_exec(h, "PRAGMA synchronous=NORMAL", NULL, NULL,
			 NULL) != SQLITE_OK ||
	    sqlite3_exec(h, schema, NULL, NULL, NULL) != SQLITE_OK)
		goto fail;
	pthread_mutex_lock(&db_lock);
	db = h;
	pthread_mutex_unlock(&db_lock);
	return 0;
fail:
	db_fail(h, path, why, whylen);
	sqlite3_close(h);
	return -1;
}

/* Taking the lock waits for a job that is using the connection: a worker
 * may exit while its pool threads still run. */
void
greylist_db_close(void)
{
	pthread_mutex_lock(&db_lock);
	sqlite3_close(db);
	db = NULL;
	pthread_mutex_unlock(&db_lock);
}

static sqlite3_stmt *
prepare(const char *sql, const char *net, const char *sender,
	const char *rcpt)
{
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_bind_text(st, 1, net, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_text(st, 2, sender, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_text(st, 3, rcpt, -1, SQLITE_STATIC) != SQLITE_OK) {
		sqlite3_finalize(st);
		return NULL;
	}
	return st;
}

struct row {
	int found, passed;
	int64_t first_seen, last_seen;
};

static int
row_read(const char *net, const char *sender, const char *rcpt,
	 struct row *r)
{
	sqlite3_stmt *st = prepare("SELECT first_seen, last_seen, passed "
				   "FROM triplet WHERE net = ?1 AND "
				   "sender = ?2 AND rcpt = ?3",
				   net, sender, rcpt);
	int rc;

	if (!st)
		return -1;
	memset(r, 0, sizeof(*r));
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		r->found = 1;
		r->first_seen = sqlite3_column_int64(st, 0);
		r->last_seen = sqlite3_column_int64(st, 1);
		r->passed = sqlite3_column_int(st, 2);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

/* The heart of greylisting (RFC 6647 section 2): a new triplet waits out
 * the delay; a retry within the window after it passes, and keeps
 * passing while it is seen at least once per expire. */
static enum greylist_result
decide(const struct row *r, int64_t now)
{
	const struct greylist_config *c = &greylist_config;
	int64_t age = now - r->first_seen;

	if (!r->found)
		return GREYLIST_NEW;
	if (r->passed)
		return now - r->last_seen <= c->expire_ms ? GREYLIST_KNOWN :
							   GREYLIST_NEW;
	if (age < c->delay_ms)
		return GREYLIST_EARLY;
	return age <= c->delay_ms + c->window_ms ? GREYLIST_PASSED :
						   GREYLIST_NEW;
}

/* Record the decision: a new triplet starts its clock again, a passing
 * one is refreshed; an early retry changes nothing, so retrying faster
 * never shortens the delay. */
static int
row_write(enum greylist_result res, const char *net, const char *sender,
	  const char *rcpt, int64_t now)
{
	sqlite3_stmt *st;
	int rc;

	if (res == GREYLIST_EARLY)
		return 0;
	st = prepare(res == GREYLIST_NEW ?
		     "INSERT OR REPLACE INTO triplet (net, sender, rcpt, "
		     "first_seen, last_seen, passed) "
		     "VALUES (?1, ?2, ?3, ?4, ?4, 0)" :
		     "UPDATE triplet SET passed = 1, last_seen = ?4 "
		     "WHERE net = ?1 AND sender = ?2 AND rcpt = ?3",
		     net, sender, rcpt);
	if (!st || sqlite3_bind_int64(st, 4, now) != SQLITE_OK) {
		sqlite3_finalize(st);
		return -1;
	}
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

enum greylist_result
greylist_db_check(const char *net, const char *sender, const char *rcpt,
		  int64_t now, int64_t *age_r, char *why, size_t whylen)
{
	enum greylist_result res = GREYLIST_ERROR;
	struct row r;

	pthread_mutex_lock(&db_lock);
	if (!db) {
		snprintf(why, whylen, "the database is closed");
		goto out;
	}
	/* IMMEDIATE: take the write lock first, so that two workers seeing
	 * the same new triplet write it one after the other. */
	if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) !=
	    SQLITE_OK) {
		db_fail(db, "begin", why, whylen);
		goto out;
	}
	if (row_read(net, sender, rcpt, &r) == 0) {
		res = decide(&r, now);
		*age_r = r.found && res != GREYLIST_NEW ? now - r.first_seen : 0;
		if (row_write(res, net, sender, rcpt, now) < 0 ||
		    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
			res = GREYLIST_ERROR;
	}
	if (res == GREYLIST_ERROR) {
		db_fail(db, "lookup", why, whylen);
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	}
out:
	pthread_mutex_unlock(&db_lock);
	return res;
}

int
greylist_db_cleanup(int64_t now, char *why, size_t whylen)
{
	const struct greylist_config *c = &greylist_config;
	sqlite3_stmt *st = NULL;
	int n = -1;

	pthread_mutex_lock(&db_lock);
	if (!db) {
		snprintf(why, whylen, "the database is closed");
		goto out;
	}
	/* Exactly the rows decide() would call new. */
	if (sqlite3_prepare_v2(db, "DELETE FROM triplet WHERE "
			       "(passed AND last_seen < ?1) OR "
			       "(NOT passed AND first_seen < ?2)", -1, &st,
			       NULL) == SQLITE_OK &&
	    sqlite3_bind_int64(st, 1, now - c->expire_ms) == SQLITE_OK &&
	    sqlite3_bind_int64(st, 2, now - c->delay_ms - c->window_ms) ==
		    SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_DONE)
		n = sqlite3_changes(db);
	else
		db_fail(db, "cleanup", why, whylen);
	sqlite3_finalize(st);
out:
	pthread_mutex_unlock(&db_lock);
	return n;
}
