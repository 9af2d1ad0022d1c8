/* auth_sqlite's look-ups for protocols: verify a password (the same work
 * for unknown and disabled users), look a user up, and resolve where mail
 * to an address goes, following aliases (RFC 5321 3.9.1) with a depth
 * bound and without loops or duplicates. */
#include <stdlib.h>
#include <string.h>

#include "auth_sqlite.h"

/* Fill u (and *hash_r, to free, when not NULL) for canonical name. */
static int
fetch_user(sqlite3 *db, const char *name, struct ps_auth_user *u,
	   char **hash_r, struct ps_error *err)
{
	sqlite3_stmt *st = auth_db_prepare(db, err, "SELECT enabled, quota, "
					   "hash FROM users WHERE address = ?1",
					   "s", name);
	int rc, r = 0;

	if (!st)
		return PS_EIO;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		memset(u, 0, sizeof(*u));
		strcpy(u->name, name);
		u->enabled = sqlite3_column_int(st, 0) != 0;
		u->quota_bytes = (uint64_t)sqlite3_column_int64(st, 1);
		if (hash_r && !(*hash_r = strdup((const char *)
						 sqlite3_column_text(st, 2))))
			r = authkit_fail(err, PS_ENOMEM, "out of memory");
	} else {
		r = rc == SQLITE_DONE ? PS_ENOENT : auth_db_error(db, err);
	}
	sqlite3_finalize(st);
	return r;
}



int
auth_verify(const char *user, const char *password,
	    struct ps_auth_user *user_r, struct ps_error *err)
{
	char name[PS_AUTH_NAME_MAX + 1], *hash = NULL;
	struct ps_auth_user u;
	struct ps_error why;
	sqlite3 *db;
	int r, ok;

	r = authkit_name_address(user ? user : "", name, &why);
	if (r == 0) {
		if (!(db = auth_db_get(err)))
			return PS_EIO;
		r = fetch_user(db, name, &u, &hash, err);
		/* Back to the pool before the slow part. */
		auth_db_put(db);
		if (r < 0 && r != PS_ENOENT)
			return r;
	}
	/* A bad name, an unknown or a disabled user: a NULL hash, which
	 * costs the same time as a real one. */
	ok = ps_password_verify(r == 0 && u.enabled ? hash : NULL,
				password ? password : "");
	authkit_hash_free(hash);
	if (!ok)
		return authkit_fail(err, PS_AUTH_EDENIED,
				    "authentication failed");
	*user_r = u;
	return 0;
}

int
auth_lookup(const char *user, struct ps_auth_user *user_r,
	    struct ps_error *err)
{
	char name[PS_AUTH_NAME_MAX + 1];
	sqlite3 *db;
	int r = authkit_name_address(user, name, err);

	if (r < 0)
		return r;
	if (!(db = auth_db_get(err)))
		return PS_EIO;
	r = fetch_user(db, name, user_r, NULL, err);
	auth_db_put(db);
	if (r == PS_ENOENT)
		return authkit_fail(err, r, "no user %s", name);
	return r;
}

/* ---- resolve: libpsauth's walk (authkit.h), asking SQLite ------------ */

struct resolve {
	sqlite3 *db;
	struct ps_error *err;
	struct authkit_walk w;
};

static int
domain_known(struct resolve *rs, const char *domain)
{
	sqlite3_stmt *st = auth_db_prepare(rs->db, rs->err, "SELECT 1 FROM "
					   "domains WHERE name = ?1", "s",
					   domain);
	int rc;

	if (!st)
		return PS_EIO;
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return auth_db_error(rs->db, rs->err);
	return rc == SQLITE_ROW;
}

/* A local user gets mail only when it exists and is enabled. */
static int
deliver_local(struct resolve *rs, const char *address)
{
	struct ps_auth_user u;
	int r = fetch_user(rs->db, address, &u, NULL, rs->err);

	if (r == PS_ENOENT || (r == 0 && !u.enabled))
		return 0;
	return r < 0 ? r : authkit_walk_emit(&rs->w, address, 1);
}

/* The targets of alias, into l (to free). */
static int
alias_targets(struct resolve *rs, const char *alias, struct authkit_names *l)
{
	sqlite3_stmt *st = auth_db_prepare(rs->db, rs->err, "SELECT target "
					   "FROM aliases WHERE alias = ?1 "
					   "ORDER BY target", "s", alias);
	int rc, r;

	if (!st)
		return PS_EIO;
	if ((r = authkit_names_init(l, rs->err)) < 0) {
		sqlite3_finalize(st);
		return r;
	}
	while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *target = (const char *)sqlite3_column_text(st, 0);

		r = authkit_names_push(l, target, rs->err);
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = auth_db_error(rs->db, rs->err);
	sqlite3_finalize(st);
	return r < 0 ? r : (int)l->n;
}

static int expand(struct resolve *rs, const char *address, int depth);

/* Follow the targets of alias (an address or "@domain"). An address
 * aliased to itself among others also keeps its own mailbox, as with
 * Postfix's virtual aliases. Returns the number of targets or < 0. */
static int
follow(struct resolve *rs, const char *alias, int depth)
{
	struct authkit_names l = {NULL, 0};
	int n = alias_targets(rs, alias, &l), r = 0;

	for (int i = 0; i < n && r == 0; i++)
		r = strcmp(l.v[i], alias) == 0 ? deliver_local(rs, alias) :
			expand(rs, l.v[i], depth + 1);
	authkit_names_free(&l);
	return r < 0 ? r : n;
}

/* Where mail to canonical address goes: a remote address as it is; a
 * local one through its aliases, else to its user, else through the
 * domain's catch-all. */
static int
expand(struct resolve *rs, const char *address, int depth)
{
	const char *domain = authkit_name_domain_of(address);
	char key[AUTHKIT_DOMAIN_MAX + 2];
	struct ps_auth_user u;
	int r;

	if ((r = authkit_walk_enter(&rs->w, address, depth)) <= 0 ||
	    (r = domain_known(rs, domain)) < 0)
		return r;
	if (r == 0)
		return authkit_walk_emit(&rs->w, address, 0);
	if ((r = follow(rs, address, depth)) != 0)
		return r < 0 ? r : 0;
	r = fetch_user(rs->db, address, &u, NULL, rs->err);
	if (r == 0)
		return u.enabled ? authkit_walk_emit(&rs->w, address, 1) : 0;
	if (r != PS_ENOENT)
		return r;
	key[0] = '@';
	strcpy(key + 1, domain);
	if ((r = authkit_walk_mark(&rs->w, key)) <= 0)
		return r;
	r = follow(rs, key, depth);
	return r < 0 ? r : 0;
}

/* The whole expansion in one read transaction, so it sees one state. */
static int
expand_all(struct resolve *rs, const char *address)
{
	int r;

	if (sqlite3_exec(rs->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		return auth_db_error(rs->db, rs->err);
	r = domain_known(rs, authkit_name_domain_of(address));
	if (r == 0)
		r = authkit_fail(rs->err, PS_AUTH_ENOTLOCAL, "%s is not in a "
				 "local domain", address);
	else if (r > 0)
		r = expand(rs, address, 0);
	sqlite3_exec(rs->db, "COMMIT", NULL, NULL, NULL);
	if (r == 0 && rs->w.out.n == 0)
		r = authkit_fail(rs->err, PS_ENOENT, "no mailbox for %s",
				 address);
	return r;
}

/* An address this backend cannot name (a UTF-8 local part, RFC 6531 3.3)
 * whose domain is a valid one but not ours is another server's to
 * judge: PS_AUTH_ENOTLOCAL, so submission may relay it. In our own
 * domains, or with a bad domain, it stays PS_EINVAL. */
static int
invalid_address(const char *address, struct ps_error *err)
{
	const char *at = strrchr(address, '@');
	char domain[AUTHKIT_DOMAIN_MAX + 1];
	struct ps_error ignored;
	struct resolve rs = {.err = &ignored};
	int r;

	if (!at || authkit_name_domain(at + 1, domain, &ignored) < 0 ||
	    !(rs.db = auth_db_get(&ignored)))
		return PS_EINVAL;
	r = domain_known(&rs, domain);
	auth_db_put(rs.db);
	if (r != 0)
		return PS_EINVAL;
	return authkit_fail(err, PS_AUTH_ENOTLOCAL, "%s is not in a local "
			    "domain", address);
}

int
auth_resolve(const char *address, ps_auth_target_fn fn, void *arg,
	     struct ps_error *err)
{
	char name[PS_AUTH_NAME_MAX + 1];
	struct resolve rs = {.err = err};
	int r = authkit_name_address(address, name, err);

	if (r == PS_EINVAL)
		return invalid_address(address, err);
	if (r < 0)
		return r;
	if ((r = authkit_walk_init(&rs.w, err)) == 0) {
		if (!(rs.db = auth_db_get(err)))
			r = PS_EIO;
		else {
			r = expand_all(&rs, name);
			auth_db_put(rs.db);
		}
	}
	/* Callbacks run with no connection borrowed. */
	if (r == 0)
		r = authkit_walk_deliver(&rs.w, fn, arg);
	authkit_walk_free(&rs.w);
	return r;
}
