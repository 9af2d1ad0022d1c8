/* auth_sqlite's look-ups for protocols: verify a password (the same work
 * for unknown and disabled users), look a user up, and resolve where mail
 * to an address goes, following aliases (RFC 5321 3.9.1) with a depth
 * bound and without loops or duplicates. */
#include <stdlib.h>
#include <string.h>

#include "auth_sqlite.h"

/* Aliases of aliases followed, and addresses one resolution may visit. */
#define AUTH_ALIAS_DEPTH 8
#define AUTH_RESOLVE_MAX 1000

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
			r = auth_fail(err, PS_ENOMEM, "out of memory");
	} else {
		r = rc == SQLITE_DONE ? PS_ENOENT : auth_db_error(db, err);
	}
	sqlite3_finalize(st);
	return r;
}

static void
free_hash(char *hash)
{
	if (hash) {
		explicit_bzero(hash, strlen(hash));
		free(hash);
	}
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

	r = auth_name_address(user ? user : "", name, &why);
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
	free_hash(hash);
	if (!ok)
		return auth_fail(err, PS_AUTH_EDENIED, "authentication failed");
	*user_r = u;
	return 0;
}

int
auth_lookup(const char *user, struct ps_auth_user *user_r,
	    struct ps_error *err)
{
	char name[PS_AUTH_NAME_MAX + 1];
	sqlite3 *db;
	int r = auth_name_address(user, name, err);

	if (r < 0)
		return r;
	if (!(db = auth_db_get(err)))
		return PS_EIO;
	r = fetch_user(db, name, user_r, NULL, err);
	auth_db_put(db);
	if (r == PS_ENOENT)
		return auth_fail(err, r, "no user %s", name);
	return r;
}

/* ---- resolve --------------------------------------------------------- */

struct resolve {
	sqlite3 *db;
	struct ps_error *err;
	char **seen;      /* addresses and "@domain" keys expanded */
	size_t nseen;
	char **out;       /* final addresses, in order found */
	int *local;       /* for each of out */
	size_t nout;
};

static int
in_list(char *const *v, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i], name) == 0)
			return 1;
	return 0;
}

/* Append a copy of name to v (sized AUTH_RESOLVE_MAX). */
static int
push(struct resolve *rs, char **v, size_t *n, const char *name)
{
	if (*n >= AUTH_RESOLVE_MAX)
		return auth_fail(rs->err, PS_EFAIL, "aliases reach more than "
				 "%d addresses", AUTH_RESOLVE_MAX);
	if (!(v[*n] = strdup(name)))
		return auth_fail(rs->err, PS_ENOMEM, "out of memory");
	(*n)++;
	return 0;
}

static int
emit(struct resolve *rs, const char *address, int local)
{
	if (in_list(rs->out, rs->nout, address))
		return 0;
	rs->local[rs->nout] = local;
	return push(rs, rs->out, &rs->nout, address);
}

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
	return r < 0 ? r : emit(rs, address, 1);
}

/* The targets of alias, into a NULL-terminated array to free. */
static int
alias_targets(struct resolve *rs, const char *alias, char ***v_r)
{
	sqlite3_stmt *st = auth_db_prepare(rs->db, rs->err, "SELECT target "
					   "FROM aliases WHERE alias = ?1 "
					   "ORDER BY target", "s", alias);
	char **v = calloc(AUTH_RESOLVE_MAX + 1, sizeof(*v));
	size_t n = 0;
	int rc, r = 0;

	if (!st || !v) {
		sqlite3_finalize(st);
		free(v);
		return st ? auth_fail(rs->err, PS_ENOMEM, "out of memory") :
			PS_EIO;
	}
	while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW)
		r = push(rs, v, &n, (const char *)sqlite3_column_text(st, 0));
	if (r == 0 && rc != SQLITE_DONE)
		r = auth_db_error(rs->db, rs->err);
	sqlite3_finalize(st);
	*v_r = v;
	return r < 0 ? r : (int)n;
}

static void
free_list(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static int expand(struct resolve *rs, const char *address, int depth);

/* Follow the targets of alias (an address or "@domain"). An address
 * aliased to itself among others also keeps its own mailbox, as with
 * Postfix's virtual aliases. Returns the number of targets or < 0. */
static int
follow(struct resolve *rs, const char *alias, int depth)
{
	char **v = NULL;
	int n = alias_targets(rs, alias, &v), r = 0;

	for (int i = 0; i < n && r == 0; i++)
		r = strcmp(v[i], alias) == 0 ? deliver_local(rs, alias) :
			expand(rs, v[i], depth + 1);
	free_list(v, n > 0 ? (size_t)n : 0);
	return r < 0 ? r : n;
}

/* Where mail to canonical address goes: a remote address as it is; a
 * local one through its aliases, else to its user, else through the
 * domain's catch-all. */
static int
expand(struct resolve *rs, const char *address, int depth)
{
	const char *domain = auth_name_domain_of(address);
	char key[AUTH_DOMAIN_MAX + 2];
	struct ps_auth_user u;
	int r;

	if (in_list(rs->seen, rs->nseen, address))
		return 0;
	if (depth > AUTH_ALIAS_DEPTH)
		return auth_fail(rs->err, PS_EFAIL, "aliases nested deeper "
				 "than %d at %s", AUTH_ALIAS_DEPTH, address);
	if ((r = push(rs, rs->seen, &rs->nseen, address)) < 0 ||
	    (r = domain_known(rs, domain)) < 0)
		return r;
	if (r == 0)
		return emit(rs, address, 0);
	if ((r = follow(rs, address, depth)) != 0)
		return r < 0 ? r : 0;
	r = fetch_user(rs->db, address, &u, NULL, rs->err);
	if (r == 0)
		return u.enabled ? emit(rs, address, 1) : 0;
	if (r != PS_ENOENT)
		return r;
	key[0] = '@';
	strcpy(key + 1, domain);
	if (in_list(rs->seen, rs->nseen, key))
		return 0;
	if ((r = push(rs, rs->seen, &rs->nseen, key)) < 0)
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
	r = domain_known(rs, auth_name_domain_of(address));
	if (r == 0)
		r = auth_fail(rs->err, PS_AUTH_ENOTLOCAL, "%s is not in a "
			      "local domain", address);
	else if (r > 0)
		r = expand(rs, address, 0);
	sqlite3_exec(rs->db, "COMMIT", NULL, NULL, NULL);
	if (r == 0 && rs->nout == 0)
		r = auth_fail(rs->err, PS_ENOENT, "no mailbox for %s",
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
	char domain[AUTH_DOMAIN_MAX + 1];
	struct ps_error ignored;
	struct resolve rs = {.err = &ignored};
	int r;

	if (!at || auth_name_domain(at + 1, domain, &ignored) < 0 ||
	    !(rs.db = auth_db_get(&ignored)))
		return PS_EINVAL;
	r = domain_known(&rs, domain);
	auth_db_put(rs.db);
	if (r != 0)
		return PS_EINVAL;
	return auth_fail(err, PS_AUTH_ENOTLOCAL, "%s is not in a local domain",
			 address);
}

int
auth_resolve(const char *address, ps_auth_target_fn fn, void *arg,
	     struct ps_error *err)
{
	char name[PS_AUTH_NAME_MAX + 1];
	struct resolve rs = {.err = err};
	int r = auth_name_address(address, name, err);

	if (r == PS_EINVAL)
		return invalid_address(address, err);
	if (r < 0)
		return r;
	rs.seen = calloc(AUTH_RESOLVE_MAX, sizeof(*rs.seen));
	rs.out = calloc(AUTH_RESOLVE_MAX, sizeof(*rs.out));
	rs.local = calloc(AUTH_RESOLVE_MAX, sizeof(*rs.local));
	if (!rs.seen || !rs.out || !rs.local)
		r = auth_fail(err, PS_ENOMEM, "out of memory");
	else if (!(rs.db = auth_db_get(err)))
		r = PS_EIO;
	else {
		r = expand_all(&rs, name);
		auth_db_put(rs.db);
	}
	/* Callbacks run with no connection borrowed. */
	for (size_t i = 0; r == 0 && i < rs.nout; i++)
		r = fn(rs.out[i], rs.local[i], arg);
	free_list(rs.seen, rs.nseen);
	free_list(rs.out, rs.nout);
	free(rs.local);
	return r;
}
