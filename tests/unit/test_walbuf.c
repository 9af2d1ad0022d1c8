/* storage_sqlite's WAL write buffer (modules/storage_sqlite/walbuf.c):
 * a commit's frames reach the file in a few writes, and every commit is
 * in the file, for any other connection, by the time it returns, with
 * or without buffering, large or small, after a rollback, and in a
 * process that ends without closing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "storage_sqlite.h"

static char dir[4096], file[4200];

/* Write system calls this process made so far (/proc/self/io). */
static long long
syscw(void)
{
	char line[128];
	long long n = -1;
	FILE *f = fopen("/proc/self/io", "r");

	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "syscw: %lld", &n) == 1)
			break;
	fclose(f);
	assert_true(n >= 0);
	return n;
}

static sqlite3 *
open_db(const char *vfs)
{
	sqlite3 *db;

	assert_int_equal(sqlite3_open_v2(file, &db, SQLITE_OPEN_READWRITE |
					 SQLITE_OPEN_CREATE, vfs),
			 SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA journal_mode = WAL; "
				      "PRAGMA synchronous = FULL; "
				      "PRAGMA wal_autocheckpoint = 0",
				      NULL, NULL, NULL), SQLITE_OK);
	return db;
}

/* A connection through the buffer (on) and one without, to the same
 * database. */
static void
open_pair(sqlite3 **plain, sqlite3 **buf, int on)
{
	*plain = open_db(NULL);
	*buf = open_db(ss_walbuf_vfs());
	ss_walbuf_set(*buf, on);
}

static void
exec(sqlite3 *db, const char *sql)
{
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
}

static long long
count(sqlite3 *db, const char *where)
{
	char sql[200];
	sqlite3_stmt *st;
	long long n;

	snprintf(sql, sizeof(sql), "SELECT count(*), sum(length(b)) FROM t "
		 "WHERE %s", where);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

static void
integrity(sqlite3 *db)
{
	sqlite3_stmt *st;

	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1,
					    &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0), "ok");
	sqlite3_finalize(st);
}

/* The database sound, both closed. */
static void
close_pair(sqlite3 *plain, sqlite3 *buf)
{
	integrity(plain);
	sqlite3_close(buf);
	sqlite3_close(plain);
}

/* n rows of size bytes with tag k, in one transaction. */
static void
insert(sqlite3 *db, int k, int n, int size)
{
	char sql[200];

	snprintf(sql, sizeof(sql), "BEGIN; WITH RECURSIVE s(i) AS (SELECT 1 "
		 "UNION ALL SELECT i + 1 FROM s WHERE i < %d) INSERT INTO t "
		 "SELECT %d, randomblob(%d) FROM s; COMMIT", n, k, size);
	exec(db, sql);
}

static int
setup(void **state)
{
	sqlite3 *db;

	const char *tmp = getenv("TMPDIR");

	(void)state;
	/* A fresh folder under TMPDIR, as mktemp -d makes for the suites. */
	snprintf(dir, sizeof(dir), "%s/test_walbuf.XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	assert_non_null(mkdtemp(dir));
	snprintf(file, sizeof(file), "%s/t.db", dir);
	assert_non_null(ss_walbuf_vfs());
	db = open_db(NULL);
	exec(db, "CREATE TABLE t (k INTEGER, b BLOB)");
	sqlite3_close(db);
	return 0;
}

/* The database, its WAL and its index, then the folder. */
static int
teardown(void **state)
{
	const char *const ext[] = { "", "-wal", "-shm" };
	char path[4300];

	(void)state;
	for (size_t i = 0; i < sizeof(ext) / sizeof(ext[0]); i++) {
		snprintf(path, sizeof(path), "%s%s", file, ext[i]);
		unlink(path);
	}
	return rmdir(dir);
}

/* 60 pages in one commit: two writes a frame without the buffer, a few
 * with it; the other connection sees the rows at once. */
static void
test_commit_in_few_writes(void **state)
{
	sqlite3 *plain, *buf;
	long long before, direct, gathered;

	(void)state;
	open_pair(&plain, &buf, 1);
	before = syscw();
	insert(plain, 1, 60, 3000);
	direct = syscw() - before;
	before = syscw();
	insert(buf, 2, 60, 3000);
	gathered = syscw() - before;
	assert_true(direct >= 120);
	assert_true(gathered * 8 < direct);
	assert_int_equal(count(plain, "k = 2"), 60);
	assert_int_equal(count(buf, "k = 1"), 60);
	close_pair(plain, buf);
}

/* Buffering off (synchronous = NORMAL: no sync before the commit is
 * published): every write goes through at once. */
static void
test_unbuffered_when_off(void **state)
{
	sqlite3 *plain, *buf;
	long long before;

	(void)state;
	open_pair(&plain, &buf, 0);
	exec(buf, "PRAGMA synchronous = NORMAL");
	before = syscw();
	insert(buf, 3, 60, 3000);
	assert_true(syscw() - before >= 120);
	assert_int_equal(count(plain, "k = 3"), 60);
	close_pair(plain, buf);
}

/* 4 MB in one commit: more than the buffer holds and more than one
 * write may carry, in pieces, byte for byte. */
static void
test_large_commit(void **state)
{
	sqlite3 *plain, *buf;

	(void)state;
	open_pair(&plain, &buf, 1);
	insert(buf, 4, 1000, 4000);
	assert_int_equal(count(plain, "k = 4"), 1000);
	close_pair(plain, buf);
}

/* A transaction that spills pages to the WAL and rolls back, then one
 * that commits: the first leaves nothing, the second everything. */
static void
test_rollback_then_commit(void **state)
{
	sqlite3 *plain, *buf;

	(void)state;
	open_pair(&plain, &buf, 1);
	exec(buf, "PRAGMA cache_size = 10");
	exec(buf, "BEGIN; WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT "
		  "i + 1 FROM s WHERE i < 300) INSERT INTO t SELECT 5, "
		  "randomblob(3000) FROM s; ROLLBACK");
	insert(buf, 6, 10, 100);
	assert_int_equal(count(plain, "k = 5"), 0);
	assert_int_equal(count(plain, "k = 6"), 10);
	close_pair(plain, buf);
}

/* A process that commits and ends without closing anything left the
 * commit in the file. */
static void
test_exit_after_commit(void **state)
{
	sqlite3 *plain;
	pid_t pid = fork();
	int status;

	(void)state;
	assert_true(pid >= 0);
	if (pid == 0) {
		sqlite3 *buf = open_db(ss_walbuf_vfs());

		ss_walbuf_set(buf, 1);
		insert(buf, 7, 20, 3000);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	plain = open_db(NULL);
	assert_int_equal(count(plain, "k = 7"), 20);
	integrity(plain);
	sqlite3_close(plain);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_commit_in_few_writes),
		cmocka_unit_test(test_unbuffered_when_off),
		cmocka_unit_test(test_large_commit),
		cmocka_unit_test(test_rollback_then_commit),
		cmocka_unit_test(test_exit_after_commit),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
