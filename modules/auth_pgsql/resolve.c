/* auth_pgsql's resolve: where mail to an address goes, following aliases
 * (RFC 5321 3.9.1) with a depth bound and without loops or duplicates,
 * exactly as auth_sqlite does, in one read-only REPEATABLE READ
 * transaction so the whole expansion sees one state of the tables. */
#include <stdlib.h>
#include <string.h>

#include "auth_pgsql.h"

/* Aliases of aliases followed, and addresses one resolution may visit. */
#define AUTH_ALIAS_DEPTH 8
#define AUTH_RESOLVE_MAX 1000

struct resolve {
	PGconn *conn;
	struct ps_error *err;
	const char *address; /* canonical */
	char **seen;         /* addresses and "@domain" keys expanded */
	size_t nseen;
	char **out;          /* final addresses, in order found */
	int *local;          /* for each of out */
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

static void
free_names(char **v, size_t *n)
{
	for (size_t i = 0; i < *n; i++)
		free(v[i]);
	*n = 0;
}

static int
emit(struct resolve *rs, const char *address, int local)
{
	if (in_list(rs->out, rs->nout, address))
		return 0;
	rs->local[rs->nout] = local;
	return push(rs, rs->out, &rs->nout, address);
}

/* A local user gets mail only when it exists and is enabled. */
static int
deliver_local(struct resolve *rs, const char *address)
{
	struct ps_auth_user u;
	int r = auth_fetch_user(rs->conn, address, &u, NULL, rs->err);

	if (r == PS_ENOENT || (r == 0 && !u.enabled))
		return 0;
	return r < 0 ? r : emit(rs, address, 1);
}

/* The targets of alias, in a result to PQclear (NULL and < 0 on
 * failure). */
static PGresult *
alias_targets(struct resolve *rs, const char *alias, int *code_r)
{
	struct auth_params p = {{alias}, 1};

	return auth_db_exec(rs->conn, code_r, rs->err, "SELECT target FROM "
			    "auth_aliases WHERE alias = $1 "
			    "ORDER BY target COLLATE \"C\"", &p);
}

static int expand(struct resolve *rs, const char *address, int depth);

/* Follow the targets of alias (an address or "@domain"). An address
 * aliased to itself among others also keeps its own mailbox, as with
 * Postfix's virtual aliases. Returns the number of targets or < 0. */
static int
follow(struct resolve *rs, const char *alias, int depth)
{
	int code = 0, n, r = 0;
	PGresult *res = alias_targets(rs, alias, &code);

	if (!res)
		return code;
	n = PQntuples(res);
	for (int i = 0; i < n && r == 0; i++) {
		const char *t = PQgetvalue(res, i, 0);

		r = strcmp(t, alias) == 0 ? deliver_local(rs, alias) :
			expand(rs, t, depth + 1);
	}
	PQclear(res);
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
	    (r = auth_domain_known(rs->conn, domain, rs->err)) < 0)
		return r;
	if (r == 0)
		return emit(rs, address, 0);
	if ((r = follow(rs, address, depth)) != 0)
		return r < 0 ? r : 0;
	r = auth_fetch_user(rs->conn, address, &u, NULL, rs->err);
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

/* The whole expansion on conn; may run twice (auth_db_with), so it
 * starts afresh. */
static int
expand_all(PGconn *conn, void *arg, struct ps_error *err)
{
	struct resolve *rs = arg;
	int r;

	rs->conn = conn;
	free_names(rs->seen, &rs->nseen);
	free_names(rs->out, &rs->nout);
	if ((r = auth_db_simple(conn, err, "BEGIN ISOLATION LEVEL "
				"REPEATABLE READ READ ONLY")) < 0)
		return r;
	r = auth_domain_known(conn, auth_name_domain_of(rs->address), err);
	if (r == 0)
		r = auth_fail(err, PS_AUTH_ENOTLOCAL, "%s is not in a "
			      "local domain", rs->address);
	else if (r > 0)
		r = expand(rs, rs->address, 0);
	/* Nothing to keep: a failed COMMIT after a good read changes
	 * nothing, and the pool closes a connection left in a
	 * transaction. */
	if (PQstatus(conn) == CONNECTION_OK) {
		struct ps_error ignored;

		auth_db_simple(conn, &ignored, "COMMIT");
	}
	if (r == 0 && rs->nout == 0)
		r = auth_fail(err, PS_ENOENT, "no mailbox for %s",
			      rs->address);
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
	char domain[AUTH_DOMAIN_MAX + 1];
	struct ps_error ignored;

	if (!at || auth_name_domain(at + 1, domain, &ignored) < 0 ||
	    auth_db_with(domain_on, domain, &ignored) != 0)
		return PS_EINVAL;
	return auth_fail(err, PS_AUTH_ENOTLOCAL, "%s is not in a local domain",
			 address);
}

int
auth_resolve(const char *address, ps_auth_target_fn fn, void *arg,
	     struct ps_error *err)
{
	char name[PS_AUTH_NAME_MAX + 1];
	struct resolve rs = {.err = err, .address = name};
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
	else
		r = auth_db_with(expand_all, &rs, err);
	/* Callbacks run with no connection borrowed. */
	for (size_t i = 0; r == 0 && i < rs.nout; i++)
		r = fn(rs.out[i], rs.local[i], arg);
	if (rs.seen)
		free_names(rs.seen, &rs.nseen);
	if (rs.out)
		free_names(rs.out, &rs.nout);
	free(rs.seen);
	free(rs.out);
	free(rs.local);
	return r;
}
