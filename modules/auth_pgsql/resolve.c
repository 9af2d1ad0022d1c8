/* auth_pgsql's resolve: where mail to an address goes, following aliases
 * (RFC 5321 3.9.1) with a depth bound and without loops or duplicates,
 * exactly as auth_sqlite does: one statement per address expanded, and
 * several in one read-only REPEATABLE READ transaction, so the whole
 * expansion sees one state of the tables. */
#include <stdlib.h>
#include <string.h>

#include "auth_pgsql.h"

struct resolve {
	PGconn *conn;
	struct ps_error *err;
	const char *address; /* canonical */
	struct authkit_walk w;
};

/* What one statement tells about an address: whether its domain is
 * ours, its user, its alias targets and its domain's catch-all targets,
 * so each address expanded costs one round trip. Rows of res: 'a'
 * targets, then 'c' targets (each in byte order, as auth_sqlite sorts),
 * then 'd' when the domain is ours, then 'u' with the user's enabled
 * flag. */
struct node {
	PGresult *res;
	int local;  /* the domain is ours */
	int user;   /* -1 none, 0 disabled, 1 enabled */
	int a0, na; /* rows of alias targets */
	int c0, nc; /* rows of catch-all targets */
};

static int
node_get(struct resolve *rs, const char *address, struct node *n)
{
	const char *domain = authkit_name_domain_of(address);
	char key[AUTHKIT_DOMAIN_MAX + 2];
	struct auth_params p = {{address, domain, key}, 3};
	int code = 0, rows;

	key[0] = '@';
	strcpy(key + 1, domain);
	memset(n, 0, sizeof(*n));
	n->user = -1;
	n->res = auth_db_exec(rs->conn, &code, rs->err,
			      "SELECT k, v FROM ("
			      " SELECT 'a' AS k, target AS v FROM auth_aliases"
			      "  WHERE alias = $1"
			      " UNION ALL SELECT 'c', target FROM auth_aliases"
			      "  WHERE alias = $3"
			      " UNION ALL SELECT 'd', NULL FROM auth_domains"
			      "  WHERE name = $2"
			      " UNION ALL SELECT 'u', enabled::text"
			      "  FROM auth_users WHERE address = $1"
			      ") n ORDER BY k, v COLLATE \"C\"", &p);
	if (!n->res)
		return code;
	rows = PQntuples(n->res);
	for (int i = 0; i < rows; i++)
		switch (PQgetvalue(n->res, i, 0)[0]) {
		case 'a': n->na++; break;
		case 'c': n->nc++; break;
		case 'd': n->local = 1; break;
		case 'u': n->user = PQgetvalue(n->res, i, 1)[0] == 't'; break;
		}
	n->c0 = n->na;
	return 0;
}

static int expand(struct resolve *rs, const char *address, int depth);

/* Follow count targets from row first of n's result, the targets of
 * alias (an address or "@domain"). An address aliased to itself among
 * others also keeps its own mailbox, as with Postfix's virtual aliases:
 * when its user exists and is enabled. */
static int
follow(struct resolve *rs, const struct node *n, const char *alias,
       int first, int count, int depth)
{
	int r = 0;

	for (int i = first; i < first + count && r == 0; i++) {
		const char *t = PQgetvalue(n->res, i, 1);

		if (strcmp(t, alias) != 0)
			r = expand(rs, t, depth + 1);
		else if (n->user == 1)
			r = authkit_walk_emit(&rs->w, alias, 1);
	}
	return r;
}

/* Where mail to canonical address goes, from its node: a remote address
 * as it is; a local one through its aliases, else to its user, else
 * through the domain's catch-all. */
static int
expand_node(struct resolve *rs, const char *address, const struct node *n,
	    int depth)
{
	char key[AUTHKIT_DOMAIN_MAX + 2];
	int r;

	if (!n->local)
		return authkit_walk_emit(&rs->w, address, 0);
	if (n->na > 0)
		return follow(rs, n, address, n->a0, n->na, depth);
	if (n->user >= 0)
		return n->user ? authkit_walk_emit(&rs->w, address, 1) : 0;
	key[0] = '@';
	strcpy(key + 1, authkit_name_domain_of(address));
	if ((r = authkit_walk_mark(&rs->w, key)) <= 0)
		return r;
	return follow(rs, n, key, n->c0, n->nc, depth);
}

static int
expand(struct resolve *rs, const char *address, int depth)
{
	struct node n;
	int r;

	if ((r = authkit_walk_enter(&rs->w, address, depth)) <= 0 ||
	    (r = node_get(rs, address, &n)) < 0)
		return r;
	r = expand_node(rs, address, &n, depth);
	PQclear(n.res);
	return r;
}

/* Whether n answers for its address alone: not ours, or a user (or
 * nobody) with no aliases and no catch-all to follow. */
static int
node_final(const struct node *n)
{
	return !n->local || (n->na == 0 && (n->user >= 0 || n->nc == 0));
}

/* The expansion on conn; may run twice (auth_db_with), so it starts
 * afresh. Most addresses are a user's: one statement answers, and one
 * statement sees one state by itself. Aliases take more statements, so
 * then the whole expansion runs again in one read-only REPEATABLE READ
 * transaction, which sees one state of the tables throughout. */
static int
expand_all(PGconn *conn, void *arg, struct ps_error *err)
{
	struct resolve *rs = arg;
	struct ps_error ignored;
	struct node n;
	int r;

	rs->conn = conn;
	authkit_walk_reset(&rs->w);
	if ((r = node_get(rs, rs->address, &n)) < 0)
		return r;
	if (!n.local)
		r = authkit_fail(err, PS_AUTH_ENOTLOCAL, "%s is not in a "
				 "local domain", rs->address);
	else if (node_final(&n) &&
		 (r = authkit_walk_mark(&rs->w, rs->address)) > 0)
		r = expand_node(rs, rs->address, &n, 0);
	PQclear(n.res);
	if (r < 0 || rs->w.seen.n > 0)
		return r;
	if ((r = auth_db_simple(conn, err, "BEGIN ISOLATION LEVEL "
				"REPEATABLE READ READ ONLY")) < 0)
		return r;
	r = expand(rs, rs->address, 0);
	/* Nothing to keep: the pool closes a connection left in a
	 * transaction (a failed COMMIT). */
	if (PQstatus(conn) == CONNECTION_OK)
		auth_db_simple(conn, &ignored, "COMMIT");
	return r;
}

static int
domain_on(PGconn *conn, void *arg, struct ps_error *err)
{
	return auth_domain_known(conn, arg, err);
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

	if (!at || authkit_name_domain(at + 1, domain, &ignored) < 0 ||
	    auth_db_with(domain_on, domain, &ignored) != 0)
		return PS_EINVAL;
	return authkit_fail(err, PS_AUTH_ENOTLOCAL, "%s is not in a local "
			    "domain", address);
}

int
auth_resolve(const char *address, ps_auth_target_fn fn, void *arg,
	     struct ps_error *err)
{
	char name[PS_AUTH_NAME_MAX + 1];
	struct resolve rs = {.err = err, .address = name};
	int r = authkit_name_address(address, name, err);

	if (r == PS_EINVAL)
		return invalid_address(address, err);
	if (r < 0)
		return r;
	if ((r = authkit_walk_init(&rs.w, err)) == 0)
		r = auth_db_with(expand_all, &rs, err);
	if (r == 0 && rs.w.out.n == 0)
		r = authkit_fail(err, PS_ENOENT, "no mailbox for %s", name);
	/* Callbacks run with no connection borrowed. */
	if (r == 0)
		r = authkit_walk_deliver(&rs.w, fn, arg);
	authkit_walk_free(&rs.w);
	return r;
}
