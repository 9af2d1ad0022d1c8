/* The queue database's schema and its versioned migrations: the version
 * is PRAGMA user_version, and each step runs once, in order, in one
 * transaction, by whichever process opens the file first. Envelope and
 * recipient columns carry RFC 5321 and RFC 3461 (RET, ENVID, NOTIFY,
 * ORCPT) as smtp.so received them. */
#include <stdio.h>

#include "queue_sqlite.h"

/* Version 1.
 * message: one row per queued message; id is the public 16-hex-digit
 *   name, mid the row's key. report_lease/report_until: the claim of a
 *   reporter building its DSN (report_lease in queue.h).
 * chunk: the body in rows of at most QS_CHUNK bytes at offset off, read
 *   back through incremental blob I/O; gone with the message.
 * rcpt: per message and index (its place at enqueue). state is enum
 *   ps_queue_state; route is the user (local) or the lower-case domain
 *   (remote) that runners batch by; lease/lease_until: the claim of a
 *   runner (0: none); report: PS_QUEUE_REPORT_* bits, report_lease the
 *   reporter's claim on an owed report.
 * The partial indexes hold only what is still to do, so the lease and
 * report queries stay cheap however many final recipients wait for
 * their message's last one. */
static const char qs_schema_v1[] =
	"CREATE TABLE message ("
	" mid INTEGER PRIMARY KEY,"
	" id TEXT NOT NULL UNIQUE,"
	" sender TEXT NOT NULL,"
	" ret INTEGER NOT NULL,"
	" envid TEXT NOT NULL,"
	" flags INTEGER NOT NULL,"
	" arrival INTEGER NOT NULL,"
	" size INTEGER NOT NULL,"
	" user TEXT,"
	" client TEXT,"
	" nrcpts INTEGER NOT NULL,"
	" held INTEGER NOT NULL DEFAULT 0,"
	" report_lease INTEGER NOT NULL DEFAULT 0,"
	" report_until INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX message_arrival ON message (arrival, mid);"
	"CREATE INDEX message_report ON message (report_lease)"
	" WHERE report_lease != 0;"
	"CREATE TABLE chunk ("
	" id INTEGER PRIMARY KEY,"
	" mid INTEGER NOT NULL REFERENCES message(mid) ON DELETE CASCADE,"
	" off INTEGER NOT NULL,"
	" data BLOB NOT NULL,"
	" UNIQUE (mid, off));"
	"CREATE TABLE rcpt ("
	" mid INTEGER NOT NULL REFERENCES message(mid) ON DELETE CASCADE,"
	" idx INTEGER NOT NULL,"
	" address TEXT NOT NULL,"
	" kind INTEGER NOT NULL,"
	" user TEXT,"
	" route TEXT NOT NULL,"
	" orcpt TEXT NOT NULL,"
	" notify INTEGER NOT NULL,"
	" state INTEGER NOT NULL DEFAULT 0,"
	" attempts INTEGER NOT NULL DEFAULT 0,"
	" next_attempt INTEGER NOT NULL,"
	" last_attempt INTEGER NOT NULL DEFAULT 0,"
	" diag TEXT NOT NULL DEFAULT '',"
	" report INTEGER NOT NULL DEFAULT 0,"
	" report_lease INTEGER NOT NULL DEFAULT 0,"
	" lease INTEGER NOT NULL DEFAULT 0,"
	" lease_until INTEGER NOT NULL DEFAULT 0,"
	" PRIMARY KEY (mid, idx)) WITHOUT ROWID;"
	"CREATE INDEX rcpt_due ON rcpt (next_attempt) WHERE state < 2;"
	"CREATE INDEX rcpt_lease ON rcpt (lease) WHERE lease != 0;"
	"CREATE INDEX rcpt_owed ON rcpt (mid) WHERE report & 1;";

/* Step i brings a database from version i to i + 1. Only ever append. */
static const char *const qs_migrations[] = {
	qs_schema_v1,
};

#define QS_SCHEMA_VERSION \
	(int)(sizeof(qs_migrations) / sizeof(qs_migrations[0]))

static int
qs_schema_version(sqlite3 *db, int *v_r, struct ps_error *err)
{
	int64_t v = 0;
	int r = qs_query_int(db, err, &v, "PRAGMA user_version", "");

	*v_r = (int)v;
	return r < 0 ? r : 0;
}

static int
qs_schema_steps(sqlite3 *db, int from, struct ps_error *err)
{
	char sql[64];

	if (from > QS_SCHEMA_VERSION)
		return qs_err(err, PS_EFAIL, "database %s has schema version "
			      "%d, newer than this module's %d",
			      qs_config.file, from, QS_SCHEMA_VERSION);
	for (int v = from; v < QS_SCHEMA_VERSION; v++)
		if (sqlite3_exec(db, qs_migrations[v], NULL, NULL, NULL) !=
		    SQLITE_OK)
			return qs_dberr(db, err);
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d",
		 QS_SCHEMA_VERSION);
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return qs_dberr(db, err);
	return 0;
}

/* Bring the database to this module's schema. Workers start at once and
 * all come here: the version is read again under the write lock, so
 * exactly one of them migrates. */
int
qs_schema_migrate(struct ps_error *err)
{
	sqlite3 *db;
	int v, r = qs_read_begin(&db, err);

	if (r < 0)
		return r;
	r = qs_schema_version(db, &v, err);
	qs_read_end(db);
	if (r < 0 || v == QS_SCHEMA_VERSION)
		return r;
	r = qs_write_begin(&db, 1, err);
	if (r < 0)
		return r;
	r = qs_schema_version(db, &v, err);
	if (r == 0 && v != QS_SCHEMA_VERSION)
		r = qs_schema_steps(db, v, err);
	return qs_write_end(db, 1, r, err);
}
