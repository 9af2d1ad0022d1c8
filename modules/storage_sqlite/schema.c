/* The schema of a user's database and its versioned migrations: the
 * version is PRAGMA user_version, and each step runs once, in order, in
 * one transaction. Tables follow IMAP's model (RFC 3501 2.3, RFC 7162
 * MODSEQ and VANISHED, RFC 6154 special use). */
#include <stdio.h>

#include "storage_sqlite.h"

/* Version 1.
 * mailbox: one row per name; counters kept by triggers so STATUS and
 *   quota are one row read. recent_uid is the \Recent watermark: UIDs
 *   above it are not claimed by any session yet (RFC 3501 2.3.2).
 * body, chunk: message bytes in rows of at most SS_CHUNK bytes at offset
 *   off, so reads and writes stay bounded; copies share a body, the last
 *   message using it frees it.
 * message: per mailbox and UID; size is the body's, kept here for the
 *   counters. keywords: space-separated atoms (they cannot hold a space).
 * expunged: tombstones (uid, modseq) that changes_since reports
 *   (RFC 7162 3.2.10, VANISHED); UIDs are never reused, so they are kept.
 * meta 'uidvalidity': the last UIDVALIDITY handed out, so a mailbox
 *   deleted and created again within a second still gets a new one. */
static const char ss_schema_v1[] =
	"CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);"
	"CREATE TABLE mailbox ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" name TEXT NOT NULL UNIQUE,"
	" uidvalidity INTEGER NOT NULL,"
	" uidnext INTEGER NOT NULL DEFAULT 1,"
	" highestmodseq INTEGER NOT NULL DEFAULT 1,"
	" recent_uid INTEGER NOT NULL DEFAULT 0,"
	" noselect INTEGER NOT NULL DEFAULT 0,"
	" special_use INTEGER NOT NULL DEFAULT 0,"
	" messages INTEGER NOT NULL DEFAULT 0,"
	" unseen INTEGER NOT NULL DEFAULT 0,"
	" bytes INTEGER NOT NULL DEFAULT 0);"
	"CREATE TABLE subscription (name TEXT PRIMARY KEY) WITHOUT ROWID;"
	"CREATE TABLE body (id INTEGER PRIMARY KEY, cache BLOB);"
	"CREATE TABLE chunk ("
	" body_id INTEGER NOT NULL REFERENCES body(id) ON DELETE CASCADE,"
	" off INTEGER NOT NULL,"
	" data BLOB NOT NULL,"
	" UNIQUE (body_id, off));"
	"CREATE TABLE message ("
	" mailbox_id INTEGER NOT NULL REFERENCES mailbox(id)"
	"  ON DELETE CASCADE,"
	" uid INTEGER NOT NULL,"
	" body_id INTEGER NOT NULL REFERENCES body(id),"
	" size INTEGER NOT NULL,"
	" flags INTEGER NOT NULL,"
	" keywords TEXT,"
	" internal_date INTEGER NOT NULL,"
	" internal_tz INTEGER NOT NULL,"
	" modseq INTEGER NOT NULL,"
	" PRIMARY KEY (mailbox_id, uid)) WITHOUT ROWID;"
	"CREATE INDEX message_modseq ON message (mailbox_id, modseq);"
	"CREATE INDEX message_body ON message (body_id);"
	"CREATE TABLE expunged ("
	" mailbox_id INTEGER NOT NULL REFERENCES mailbox(id)"
	"  ON DELETE CASCADE,"
	" uid INTEGER NOT NULL,"
	" modseq INTEGER NOT NULL,"
	" PRIMARY KEY (mailbox_id, uid)) WITHOUT ROWID;"
	"CREATE INDEX expunged_modseq ON expunged (mailbox_id, modseq);"
	"CREATE TRIGGER message_added AFTER INSERT ON message BEGIN"
	" UPDATE mailbox SET messages = messages + 1,"
	"  bytes = bytes + new.size,"
	"  unseen = unseen + ((new.flags & 1) = 0)"
	" WHERE id = new.mailbox_id;"
	" END;"
	"CREATE TRIGGER message_removed AFTER DELETE ON message BEGIN"
	" UPDATE mailbox SET messages = messages - 1,"
	"  bytes = bytes - old.size,"
	"  unseen = unseen - ((old.flags & 1) = 0)"
	" WHERE id = old.mailbox_id;"
	" DELETE FROM body WHERE id = old.body_id AND NOT EXISTS"
	"  (SELECT 1 FROM message WHERE body_id = old.body_id);"
	" END;"
	"CREATE TRIGGER message_seen AFTER UPDATE OF flags ON message"
	" WHEN (old.flags & 1) != (new.flags & 1) BEGIN"
	" UPDATE mailbox SET unseen = unseen + ((new.flags & 1) = 0)"
	"  - ((old.flags & 1) = 0)"
	" WHERE id = new.mailbox_id;"
	" END;"
	"INSERT INTO meta VALUES ('uidvalidity',"
	" CAST(strftime('%s', 'now') AS INTEGER));"
	"INSERT INTO mailbox (name, uidvalidity)"
	" SELECT 'INBOX', value FROM meta WHERE key = 'uidvalidity';";

/* Step i brings a database from version i to i + 1. Only ever append. */
static const char *const ss_migrations[] = {
	ss_schema_v1,
};

#define SS_SCHEMA_VERSION \
	(int)(sizeof(ss_migrations) / sizeof(ss_migrations[0]))

static int
ss_schema_version(struct ss_conn *c, int *v_r, struct ps_error *err)
{
	sqlite3_stmt *st = ss_prep(c, err, "PRAGMA user_version", "");
	int r;

	if (!st)
		return PS_EIO;
	r = ss_step(c, st, err);
	*v_r = r == 1 ? sqlite3_column_int(st, 0) : 0;
	ss_done(c, st);
	return r < 0 ? r : 0;
}

static int
ss_schema_steps(struct ss_conn *c, int from, struct ps_error *err)
{
	char sql[64];

	if (from > SS_SCHEMA_VERSION)
		return ss_err(err, PS_EFAIL, "database %s has schema version "
			      "%d, newer than this module's %d",
			      sqlite3_db_filename(c->db, "main"), from,
			      SS_SCHEMA_VERSION);
	for (int v = from; v < SS_SCHEMA_VERSION; v++)
		if (sqlite3_exec(c->db, ss_migrations[v], NULL, NULL, NULL) !=
		    SQLITE_OK)
			return ss_dberr(c, err);
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d",
		 SS_SCHEMA_VERSION);
	if (sqlite3_exec(c->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return ss_dberr(c, err);
	return 0;
}

/* Bring the database to this module's schema. Several processes may open
 * a new user at once: the version is read again under the write lock,
 * so exactly one of them migrates. */
int
ss_schema_migrate(struct ss_conn *c, struct ps_error *err)
{
	int v, r = ss_schema_version(c, &v, err);

	if (r < 0 || v == SS_SCHEMA_VERSION)
		return r;
	r = ss_write_begin(c, SS_SYNC_FULL, err);
	if (r < 0)
		return r;
	r = ss_schema_version(c, &v, err);
	if (r == 0 && v != SS_SCHEMA_VERSION)
		r = ss_schema_steps(c, v, err);
	return ss_write_end(c, r, 1, err);
}
