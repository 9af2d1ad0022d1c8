/* auth_pgsql's schema: versioned migrations, the version kept in the
 * table auth_schema, every table prefixed auth_ so storage_pgsql's
 * tables (store_*) can share the database. All migrations due run in one
 * transaction under a transaction-level advisory lock: front ends
 * starting at once take turns, and the second finds the work done. */
#include <stdio.h>
#include <stdlib.h>

#include "auth_pgsql.h"

/* The advisory lock's two keys: "posh" and "auth" in ASCII. Locks taken
 * with one bigint key live apart from two-key ones, so storage_pgsql's
 * lock cannot collide with this one whatever its key. */
#define AUTH_LOCK_SQL "SELECT pg_advisory_xact_lock(1886352232, 1635087464)"

/* Migration N (1-based) takes a schema of version N-1 to N. Only ever
 * append: a database carries the number of the last one applied.
 *
 * Names are canonical (lower case, ASCII: name.c) before they reach the
 * database, and the schema says so too, without lower() (which follows
 * the database's locale): no byte outside printable ASCII, no upper-case
 * letter. So a primary key on the text is a case-insensitive one. */
static const char *const migrations[] = {
	/* 1: domains, users and aliases. Deleting a domain deletes its
	 * users and aliases through the foreign keys. A user's and an
	 * alias's domain is the part after its one '@'. */
	"CREATE TABLE auth_domains ("
	"  name text PRIMARY KEY,"
	"  CONSTRAINT auth_domains_canonical CHECK (name ~ '^[!-~]+$'"
	"    AND name !~ '[A-Z@]' AND octet_length(name) <= 255));"
	"CREATE TABLE auth_users ("
	"  address text PRIMARY KEY,"
	"  domain text NOT NULL REFERENCES auth_domains (name)"
	"    ON DELETE CASCADE,"
	"  hash text NOT NULL CHECK (hash ~ '^[!-~]+$'),"
	"  enabled boolean NOT NULL DEFAULT true,"
	"  quota bigint NOT NULL DEFAULT 0 CHECK (quota >= 0),"
	"  CONSTRAINT auth_users_canonical CHECK ("
	"    address ~ '^[!-?A-~]+@[!-?A-~]+$' AND address !~ '[A-Z]'"
	"    AND octet_length(address) <= 320"
	"    AND domain = split_part(address, '@', 2)));"
	"CREATE INDEX auth_users_domain ON auth_users (domain);"
	/* alias: an address, or "@domain" (a catch-all). */
	"CREATE TABLE auth_aliases ("
	"  alias text NOT NULL,"
	"  target text NOT NULL,"
	"  domain text NOT NULL REFERENCES auth_domains (name)"
	"    ON DELETE CASCADE,"
	"  PRIMARY KEY (alias, target),"
	"  CONSTRAINT auth_aliases_canonical CHECK ("
	"    alias ~ '^[!-?A-~]*@[!-?A-~]+$' AND alias !~ '[A-Z]'"
	"    AND target ~ '^[!-?A-~]+@[!-?A-~]+$' AND target !~ '[A-Z]'"
	"    AND octet_length(alias) <= 320 AND octet_length(target) <= 320"
	"    AND domain = split_part(alias, '@', 2)));"
	"CREATE INDEX auth_aliases_domain ON auth_aliases (domain);",
};
#define AUTH_SCHEMA_VERSION \
	((int)(sizeof(migrations) / sizeof(migrations[0])))

/* The version the database is at (0: none yet), creating the table. */
static int
schema_version(PGconn *conn, int *v_r, struct ps_error *err)
{
	PGresult *res;
	int r, code = 0;

	/* One row at most: the primary key is a constant. */
	r = auth_db_simple(conn, err, "CREATE TABLE IF NOT EXISTS auth_schema ("
			   "  one boolean PRIMARY KEY DEFAULT true CHECK (one),"
			   "  version integer NOT NULL)");
	if (r < 0)
		return r;
	if (!(res = auth_db_exec(conn, &code, err, "SELECT version FROM "
				 "auth_schema", NULL)))
		return code == PS_EIO ? code :
			authkit_fail(err, PS_EIO, "cannot read auth_schema");
	*v_r = PQntuples(res) ? atoi(PQgetvalue(res, 0, 0)) : 0;
	PQclear(res);
	return 0;
}

static int
set_version(PGconn *conn, int v, struct ps_error *err)
{
	char text[16];
	struct auth_params p = {{text}, 1};
	PGresult *res;
	int code = 0;

	snprintf(text, sizeof(text), "%d", v);
	res = auth_db_exec(conn, &code, err, "INSERT INTO auth_schema (version)"
			   " VALUES ($1) ON CONFLICT (one) DO UPDATE"
			   " SET version = EXCLUDED.version", &p);
	PQclear(res);
	return res ? 0 : code;
}

static int
migrate_locked(PGconn *conn, struct ps_error *err)
{
	int v = 0, r;

	if ((r = auth_db_simple(conn, err, AUTH_LOCK_SQL)) < 0 ||
	    (r = schema_version(conn, &v, err)) < 0)
		return r;
	if (v > AUTH_SCHEMA_VERSION)
		return authkit_fail(err, PS_EFAIL, "auth_schema version %d is "
				    "newer than this module's (%d)", v,
				    AUTH_SCHEMA_VERSION);
	if (v == AUTH_SCHEMA_VERSION)
		return 0;
	for (int i = v; i < AUTH_SCHEMA_VERSION; i++)
		if ((r = auth_db_simple(conn, err, migrations[i])) < 0)
			return r;
	if ((r = set_version(conn, AUTH_SCHEMA_VERSION, err)) < 0)
		return r;
	ps_log(PS_LOG_NOTICE, "auth_pgsql: schema upgraded from version %d "
	       "to %d", v, AUTH_SCHEMA_VERSION);
	return 0;
}

int
auth_schema_migrate(PGconn *conn, struct ps_error *err)
{
	int r = auth_db_simple(conn, err, "BEGIN");

	if (r == 0 && (r = migrate_locked(conn, err)) == 0)
		r = auth_db_simple(conn, err, "COMMIT");
	if (r < 0) {
		struct ps_error ignored;

		auth_db_simple(conn, &ignored, "ROLLBACK");
		return r;
	}
	return 0;
}
