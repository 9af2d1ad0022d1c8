/* auth_pgsql's look-ups of one user for protocols: verify a password
 * (the same work for bad names, unknown and disabled users, so timing
 * tells nothing) and look a user up. The connection goes back to the
 * pool before the slow hashing. */
#include <stdlib.h>
#include <string.h>

#include "auth_pgsql.h"

/* Fill u (and *hash_r, to free, when not NULL) for a canonical name on
 * conn; PS_ENOENT when there is none. */
static int
fetch_user(PGconn *conn, const char *name, struct ps_auth_user *u,
		char **hash_r, struct ps_error *err)
{
	struct auth_params p = {{name}, 1};
	PGresult *res;
	int code = 0, r = 0;

	if (!(res = auth_db_exec(conn, &code, err, "SELECT enabled, quota, "
				 "hash FROM auth_users WHERE address = $1",
				 &p)))
		return code;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return PS_ENOENT;
	}
	memset(u, 0, sizeof(*u));
	strcpy(u->name, name);
	u->enabled = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	u->quota_bytes = strtoull(PQgetvalue(res, 0, 1), NULL, 10);
	if (hash_r && !(*hash_r = strdup(PQgetvalue(res, 0, 2))))
		r = authkit_fail(err, PS_ENOMEM, "out of memory");
	/* The hash is in the result too. */
	explicit_bzero(PQgetvalue(res, 0, 2), (size_t)PQgetlength(res, 0, 2));
	PQclear(res);
	return r;
}

int
auth_domain_known(PGconn *conn, const char *domain, struct ps_error *err)
{
	struct auth_params p = {{domain}, 1};
	PGresult *res;
	int code = 0, r;

	if (!(res = auth_db_exec(conn, &code, err, "SELECT 1 FROM "
				 "auth_domains WHERE name = $1", &p)))
		return code;
	r = PQntuples(res) > 0;
	PQclear(res);
	return r;
}

struct fetch {
	const char *name;
	struct ps_auth_user *u;
	char **hash_r;
};

static int
fetch_on(PGconn *conn, void *arg, struct ps_error *err)
{
	struct fetch *f = arg;

	return fetch_user(conn, f->name, f->u, f->hash_r, err);
}



int
auth_verify(const char *user, const char *password,
	    struct ps_auth_user *user_r, struct ps_error *err)
{
	char name[PS_AUTH_NAME_MAX + 1], *hash = NULL;
	struct ps_auth_user u;
	struct fetch f = {name, &u, &hash};
	struct ps_error why;
	int r, ok;

	r = authkit_name_address(user ? user : "", name, &why);
	if (r == 0) {
		r = auth_db_with(fetch_on, &f, err);
		if (r < 0 && r != PS_ENOENT) {
			authkit_hash_free(hash);
			return r;
		}
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
	struct fetch f = {name, user_r, NULL};
	int r = authkit_name_address(user, name, err);

	if (r < 0)
		return r;
	r = auth_db_with(fetch_on, &f, err);
	if (r == PS_ENOENT)
		return authkit_fail(err, r, "no user %s", name);
	return r;
}
