/* The schema of storage_pgsql and its versioned migrations. The version
 * lives in store_schema; every front end and worker brings the database
 * to its version at start, in one transaction under an advisory lock, so
 * two starting at once do not race: the second finds the work done.
 * Tables follow IMAP's model (RFC 3501 2.3, RFC 7162 MODSEQ and VANISHED,
 * RFC 6154 special use) and storage_sqlite's layout, with a user column. */
#include <stdio.h>
#include <stdlib.h>

#include "storage_pgsql.h"

/* Version 1.
 * store_user: one row per user; uidvalidity is the last UIDVALIDITY
 *   handed out to its mailboxes. Writers lock this row (db.c).
 * store_mailbox: counters kept by triggers, so STATUS and quota read one
 *   row; recent_uid is the \Recent watermark (RFC 3501 2.3.2). Names sort
 *   bytewise (COLLATE "C") so a subtree is one index range.
 * store_body, store_body_chunks: message bytes in rows of at most
 *   SP_CHUNK at offset off; or, with blob_dir, a file named by blob.
 *   Copies share a body; the last message using it frees it, and a freed
 *   file's name waits in store_blob_trash until it is unlinked.
 * store_message: per mailbox and UID. keywords: space-separated atoms.
 * store_expunged: tombstones (uid, modseq) for changes_since (RFC 7162
 *   3.2.10, VANISHED); UIDs are never reused, so they are kept. */
static const char sp_schema_v1[] =
	"CREATE TABLE store_user ("
	" id bigserial PRIMARY KEY,"
	" name text NOT NULL UNIQUE,"
	" uidvalidity bigint NOT NULL);"
	"CREATE TABLE store_mailbox ("
	" id bigserial PRIMARY KEY,"
	" user_id bigint NOT NULL REFERENCES store_user(id) ON DELETE CASCADE,"
	" name text COLLATE \"C\" NOT NULL,"
	" uidvalidity bigint NOT NULL,"
	" uidnext bigint NOT NULL DEFAULT 1,"
	" highestmodseq bigint NOT NULL DEFAULT 1,"
	" recent_uid bigint NOT NULL DEFAULT 0,"
	" noselect integer NOT NULL DEFAULT 0,"
	" special_use integer NOT NULL DEFAULT 0,"
	" messages bigint NOT NULL DEFAULT 0,"
	" unseen bigint NOT NULL DEFAULT 0,"
	" bytes bigint NOT NULL DEFAULT 0,"
	" UNIQUE (user_id, name));"
	"CREATE TABLE store_subscription ("
	" user_id bigint NOT NULL REFERENCES store_user(id) ON DELETE CASCADE,"
	" name text COLLATE \"C\" NOT NULL,"
	" PRIMARY KEY (user_id, name));"
	"CREATE TABLE store_body ("
	" id bigserial PRIMARY KEY,"
	" user_id bigint NOT NULL REFERENCES store_user(id) ON DELETE CASCADE,"
	" cache bytea,"
	" blob text);"
	"CREATE INDEX store_body_user ON store_body (user_id);"
	"CREATE TABLE store_body_chunks ("
	" body_id bigint NOT NULL REFERENCES store_body(id) ON DELETE CASCADE,"
	" off bigint NOT NULL,"
	" data bytea NOT NULL,"
	" PRIMARY KEY (body_id, off));"
	"CREATE TABLE store_message ("
	" mailbox_id bigint NOT NULL REFERENCES store_mailbox(id)"
	"  ON DELETE CASCADE,"
	" uid bigint NOT NULL,"
	" body_id bigint NOT NULL,"
	" size bigint NOT NULL,"
	" flags integer NOT NULL,"
	" keywords text,"
	" internal_date bigint NOT NULL,"
	" internal_tz integer NOT NULL,"
	" modseq bigint NOT NULL,"
	" PRIMARY KEY (mailbox_id, uid));"
	"CREATE INDEX store_message_modseq ON store_message"
	" (mailbox_id, modseq);"
	"CREATE INDEX store_message_body ON store_message (body_id);"
	"CREATE TABLE store_expunged ("
	" mailbox_id bigint NOT NULL REFERENCES store_mailbox(id)"
	"  ON DELETE CASCADE,"
	" uid bigint NOT NULL,"
	" modseq bigint NOT NULL,"
	" PRIMARY KEY (mailbox_id, uid));"
	"CREATE INDEX store_expunged_modseq ON store_expunged"
	" (mailbox_id, modseq);"
	"CREATE TABLE store_blob_trash (name text PRIMARY KEY);"
	"CREATE FUNCTION store_message_added() RETURNS trigger"
	" LANGUAGE plpgsql AS $$ BEGIN"
	" UPDATE store_mailbox SET messages = messages + 1,"
	"  bytes = bytes + NEW.size,"
	"  unseen = unseen + CASE WHEN NEW.flags & 1 = 0 THEN 1 ELSE 0 END"
	" WHERE id = NEW.mailbox_id;"
	" RETURN NULL; END $$;"
	"CREATE FUNCTION store_message_removed() RETURNS trigger"
	" LANGUAGE plpgsql AS $$ BEGIN"
	" UPDATE store_mailbox SET messages = messages - 1,"
	"  bytes = bytes - OLD.size,"
	"  unseen = unseen - CASE WHEN OLD.flags & 1 = 0 THEN 1 ELSE 0 END"
	" WHERE id = OLD.mailbox_id;"
	" DELETE FROM store_body WHERE id = OLD.body_id AND NOT EXISTS"
	"  (SELECT 1 FROM store_message WHERE body_id = OLD.body_id);"
	" RETURN NULL; END $$;"
	"CREATE FUNCTION store_message_seen() RETURNS trigger"
	" LANGUAGE plpgsql AS $$ BEGIN"
	" UPDATE store_mailbox SET unseen = unseen"
	"  + CASE WHEN NEW.flags & 1 = 0 THEN 1 ELSE 0 END"
	"  - CASE WHEN OLD.flags & 1 = 0 THEN 1 ELSE 0 END"
	" WHERE id = NEW.mailbox_id;"
	" RETURN NULL; END $$;"
	"CREATE FUNCTION store_body_removed() RETURNS trigger"
	" LANGUAGE plpgsql AS $$ BEGIN"
	" INSERT INTO store_blob_trash VALUES (OLD.blob)"
	"  ON CONFLICT DO NOTHING;"
	" RETURN NULL; END $$;"
	"CREATE TRIGGER store_message_added AFTER INSERT ON store_message"
	" FOR EACH ROW EXECUTE FUNCTION store_message_added();"
	"CREATE TRIGGER store_message_removed AFTER DELETE ON store_message"
	" FOR EACH ROW EXECUTE FUNCTION store_message_removed();"
	"CREATE TRIGGER store_message_seen AFTER UPDATE OF flags"
	" ON store_message FOR EACH ROW"
	" WHEN ((OLD.flags & 1) <> (NEW.flags & 1))"
	" EXECUTE FUNCTION store_message_seen();"
	"CREATE TRIGGER store_body_removed AFTER DELETE ON store_body"
	" FOR EACH ROW WHEN (OLD.blob IS NOT NULL)"
	" EXECUTE FUNCTION store_body_removed();";

/* Step i brings a database from version i to i + 1. Only ever append. */
static const char *const sp_migrations[] = {
	sp_schema_v1,
};

#define SP_SCHEMA_VERSION \
	(int)(sizeof(sp_migrations) / sizeof(sp_migrations[0]))

/* pg_advisory_xact_lock's key for the store's migrations ("pstore"); the
 * auth module's tables have their own. */
#define SP_SCHEMA_LOCK "112394519195506"

static int
sp_schema_steps(PGconn *pg, struct ps_error *err)
{
	PGresult *res = PQexec(pg, "SELECT coalesce(max(version), 0)"
			       " FROM store_schema");
	char sql[96];
	int v, r = 0;

	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		r = sp_pgmsg(err, PS_EIO, "postgresql: ",
			     PQresultErrorMessage(res));
		PQclear(res);
		return r;
	}
	v = atoi(PQgetvalue(res, 0, 0));
	PQclear(res);
	if (v > SP_SCHEMA_VERSION)
		return sp_err(err, PS_EFAIL, "the database has store schema "
			      "version %d, newer than this module's %d", v,
			      SP_SCHEMA_VERSION);
	if (v == SP_SCHEMA_VERSION)
		return 0;
	for (int i = v; r == 0 && i < SP_SCHEMA_VERSION; i++)
		r = sp_simple(pg, sp_migrations[i], err);
	snprintf(sql, sizeof(sql), "DELETE FROM store_schema; INSERT INTO"
		 " store_schema VALUES (%d)", SP_SCHEMA_VERSION);
	return r < 0 ? r : sp_simple(pg, sql, err);
}

/* Bring the database to this module's schema, in one transaction. */
int
sp_schema_migrate(PGconn *pg, struct ps_error *err)
{
	int r = sp_simple(pg, "BEGIN; SELECT pg_advisory_xact_lock("
			  SP_SCHEMA_LOCK "); CREATE TABLE IF NOT EXISTS"
			  " store_schema (version integer NOT NULL)", err);

	if (r == 0)
		r = sp_schema_steps(pg, err);
	if (r == 0)
		return sp_simple(pg, "COMMIT", err);
	sp_simple(pg, "ROLLBACK", NULL);
	return r;
}
