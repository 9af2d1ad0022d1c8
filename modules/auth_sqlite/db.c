/* auth_sqlite's database: the schema with its versioned migrations
 * (PRAGMA user_version), and a mutex-protected pool of connections. Pool
 * threads call the backend at once; each call borrows a connection, so a
 * connection serves one thread at a time and the pool grows to the
 * number of concurrent callers. WAL, synchronous=FULL, busy_timeout. */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "auth_sqlite.h"

/* Idle connections kept for reuse; more are closed when given back. */
#define AUTH_DB_IDLE_MAX 16

/* Migration N (1-based) takes a database of user_version N-1 to N. Only
 * ever append: a database carries the number of the last one applied. */
static const char *const migrations[] = {
	/* 1: domains, users and aliases. Deleting a domain deletes its
	 * users and aliases through the foreign keys. */
	"CREATE TABLE domains ("
	"  name TEXT PRIMARY KEY NOT NULL);"
	"CREATE TABLE users ("
	"  address TEXT PRIMARY KEY NOT NULL,"
	"  domain TEXT NOT NULL REFERENCES domains(name) ON DELETE CASCADE,"
	"  hash TEXT NOT NULL,"
	"  enabled INTEGER NOT NULL DEFAULT 1,"
	"  quota INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX users_domain ON users(domain);"
	"CREATE TABLE aliases ("
	"  alias TEXT NOT NULL,"
	"  target TEXT NOT NULL,"
	"  domain TEXT NOT NULL REFERENCES domains(name) ON DELETE CASCADE,"
	"  PRIMARY KEY (alias, target));"
	"CREATE INDEX aliases_domain ON aliases(domain);",
};
#define AUTH_SCHEMA_VERSION \
	((int)(sizeof(migrations) / sizeof(migrations[0])))

static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static sqlite3 *idle[AUTH_DB_IDLE_MAX];
static size_t nidle;
static int started;
static char db_path[4096];
static int db_busy_ms;

int
auth_db_error(sqlite3 *db, struct ps_error *err)
{
	return authkit_fail(err, PS_EIO, "%s: %s", db_path,
			    db ? sqlite3_errmsg(db) : "out of memory");
}

/* A new connection with this module's settings. SQLite opens the file
 * at the first statement, so errors about the file show up there. */
static sqlite3 *
db_open(struct ps_error *err)
{
	sqlite3 *db = NULL;
	int rc = sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READWRITE |
				 SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
				 NULL);

	if (rc == SQLITE_OK)
		rc = sqlite3_extended_result_codes(db, 1);
	if (rc == SQLITE_OK)
		rc = sqlite3_busy_timeout(db, db_busy_ms);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(db, "PRAGMA synchronous=FULL;"
				  "PRAGMA foreign_keys=ON;", NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		auth_db_error(db, err);
		sqlite3_close(db);
		return NULL;
	}
	return db;
}

static int
exec(sqlite3 *db, const char *sql, struct ps_error *err)
{
	return sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 :
		auth_db_error(db, err);
}

static int
user_version(sqlite3 *db, int *v_r, struct ps_error *err)
{
	sqlite3_stmt *st = auth_db_prepare(db, err, "PRAGMA user_version", "");
	int rc;

	if (!st)
		return PS_EIO;
	rc = sqlite3_step(st);
	*v_r = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : auth_db_error(db, err);
}

/* Bring the schema up to date in one write transaction, so workers
 * starting together apply each migration once. */
static int
migrate(sqlite3 *db, struct ps_error *err)
{
	char sql[64];
	int v, r;

	/* The journal mode is kept in the file; it cannot change inside a
	 * transaction. */
	if ((r = exec(db, "PRAGMA journal_mode=WAL", err)) < 0 ||
	    (r = exec(db, "BEGIN IMMEDIATE", err)) < 0)
		return r;
	if ((r = user_version(db, &v, err)) < 0)
		goto fail;
	if (v > AUTH_SCHEMA_VERSION) {
		r = authkit_fail(err, PS_EFAIL, "%s: schema version %d is "
				 "newer than this module's (%d)", db_path, v,
				 AUTH_SCHEMA_VERSION);
		goto fail;
	}
	for (; v < AUTH_SCHEMA_VERSION; v++)
		if ((r = exec(db, migrations[v], err)) < 0)
			goto fail;
	snprintf(sql, sizeof(sql), "PRAGMA user_version=%d", v);
	if ((r = exec(db, sql, err)) < 0 || (r = exec(db, "COMMIT", err)) < 0)
		goto fail;
	return 0;
fail:
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return r;
}

int
auth_db_start(const char *path, int busy_ms, struct ps_error *err)
{
	sqlite3 *db;
	int fd;

	if (strlen(path) >= sizeof(db_path))
		return authkit_fail(err, PS_EINVAL, "path too long: %s", path);
	strcpy(db_path, path);
	db_busy_ms = busy_ms;
	/* The file holds password hashes: only the server may read it.
	 * SQLite gives its -wal and -shm files the same mode. Whatever
	 * fails here, SQLite reports below. */
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) >= 0)
		close(fd);
	if (!(db = db_open(err)))
		return PS_EIO;
	if (migrate(db, err) < 0) {
		sqlite3_close(db);
		return PS_EIO;
	}
	pthread_mutex_lock(&pool_lock);
	started = 1;
	pthread_mutex_unlock(&pool_lock);
	auth_db_put(db);
	return 0;
}

void
auth_db_stop(void)
{
	sqlite3 *close_these[AUTH_DB_IDLE_MAX];
	size_t n;

	pthread_mutex_lock(&pool_lock);
	started = 0;
	n = nidle;
	memcpy(close_these, idle, n * sizeof(*idle));
	nidle = 0;
	pthread_mutex_unlock(&pool_lock);
	for (size_t i = 0; i < n; i++)
		sqlite3_close(close_these[i]);
}

sqlite3 *
auth_db_get(struct ps_error *err)
{
	sqlite3 *db = NULL;
	int up;

	pthread_mutex_lock(&pool_lock);
	up = started;
	if (up && nidle > 0)
		db = idle[--nidle];
	pthread_mutex_unlock(&pool_lock);
	if (!up) {
		authkit_fail(err, PS_ESTATE, "auth_sqlite is not started here "
			     "(only in workers)");
		return NULL;
	}
	/* Opening takes no lock of ours: callers never wait for each
	 * other's file system work. */
	return db ? db : db_open(err);
}

void
auth_db_put(sqlite3 *db)
{
	int keep;

	pthread_mutex_lock(&pool_lock);
	keep = started && nidle < AUTH_DB_IDLE_MAX;
	if (keep)
		idle[nidle++] = db;
	pthread_mutex_unlock(&pool_lock);
	if (!keep)
		sqlite3_close(db);
}

static sqlite3_stmt *
prepare_va(sqlite3 *db, struct ps_error *err, const char *sql,
	   const char *types, va_list ap)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);

	for (int i = 0; rc == SQLITE_OK && types[i]; i++)
		rc = types[i] == 's' ?
			sqlite3_bind_text(st, i + 1, va_arg(ap, const char *),
					  -1, SQLITE_STATIC) :
			sqlite3_bind_int64(st, i + 1, va_arg(ap, long long));
	if (rc != SQLITE_OK) {
		auth_db_error(db, err);
		sqlite3_finalize(st);
		return NULL;
	}
	return st;
}

sqlite3_stmt *
auth_db_prepare(sqlite3 *db, struct ps_error *err, const char *sql,
		const char *types, ...)
{
	sqlite3_stmt *st;
	va_list ap;

	va_start(ap, types);
	st = prepare_va(db, err, sql, types, ap);
	va_end(ap);
	return st;
}

/* Borrow a connection and prepare sql on it. NULL with err on failure. */
static sqlite3 *
borrow(struct ps_error *err, sqlite3_stmt **st_r, const char *sql,
       const char *types, va_list ap)
{
	sqlite3 *db = auth_db_get(err);

	if (db && !(*st_r = prepare_va(db, err, sql, types, ap))) {
		auth_db_put(db);
		db = NULL;
	}
	return db;
}

int
auth_db_change(struct ps_error *err, const char *sql, const char *types, ...)
{
	sqlite3_stmt *st = NULL;
	sqlite3 *db;
	va_list ap;
	int rc, r;

	va_start(ap, types);
	db = borrow(err, &st, sql, types, ap);
	va_end(ap);
	if (!db)
		return PS_EIO;
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		r = sqlite3_changes(db);
	else if (rc == SQLITE_CONSTRAINT_PRIMARYKEY ||
		 rc == SQLITE_CONSTRAINT_UNIQUE)
		r = PS_EEXIST;
	else if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
		r = PS_ENOENT;
	else
		r = auth_db_error(db, err);
	sqlite3_finalize(st);
	auth_db_put(db);
	return r;
}

int
auth_db_rows(struct ps_error *err, auth_row_fn fn, void *arg,
	     const char *sql, const char *types, ...)
{
	sqlite3_stmt *st = NULL;
	sqlite3 *db;
	va_list ap;
	int rc = SQLITE_DONE, r = 0;

	va_start(ap, types);
	db = borrow(err, &st, sql, types, ap);
	va_end(ap);
	if (!db)
		return PS_EIO;
	while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW)
		r = fn(st, arg);
	if (r == 0 && rc != SQLITE_DONE)
		r = auth_db_error(db, err);
	sqlite3_finalize(st);
	auth_db_put(db);
	return r;
}
