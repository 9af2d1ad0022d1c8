/* auth_pgsql's administration calls (poshtactl's domain, user and alias
 * commands): each is one parameterised statement, with its result turned
 * into the code and message struct ps_auth_ops promises, word for word
 * what auth_sqlite says. Lists fetch every row first and call back with
 * no connection borrowed, so a callback may call the backend again. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "auth_pgsql.h"

int
auth_domain_add(const char *domain, struct ps_error *err)
{
	char d[AUTHKIT_DOMAIN_MAX + 1];
	struct auth_params p = {{d}, 1};
	int r = authkit_name_domain(domain, d, err);

	if (r < 0)
		return r;
	r = auth_db_change(err, "INSERT INTO auth_domains (name) VALUES ($1)",
			   &p);
	if (r == PS_EEXIST)
		return authkit_fail(err, r, "domain %s exists", d);
	return r < 0 ? r : 0;
}

int
auth_domain_del(const char *domain, struct ps_error *err)
{
	char d[AUTHKIT_DOMAIN_MAX + 1];
	struct auth_params p = {{d}, 1};
	int r = authkit_name_domain(domain, d, err);

	if (r < 0)
		return r;
	/* Users and aliases go with it (ON DELETE CASCADE). */
	r = auth_db_change(err, "DELETE FROM auth_domains WHERE name = $1",
			   &p);
	if (r == 0)
		return authkit_fail(err, PS_ENOENT, "no domain %s", d);
	return r < 0 ? r : 0;
}

/* Call fn with column 0 of each row of sql. */
static int
names(ps_auth_name_fn fn, void *arg, struct ps_error *err, const char *sql,
      const struct auth_params *p)
{
	PGresult *res;
	int r = auth_db_query(&res, err, sql, p);

	for (int i = 0; r == 0 && i < PQntuples(res); i++)
		r = fn(PQgetvalue(res, i, 0), arg);
	if (res)
		PQclear(res);
	return r;
}

int
auth_domain_list(ps_auth_name_fn fn, void *arg, struct ps_error *err)
{
	return names(fn, arg, err, "SELECT name FROM auth_domains "
		     "ORDER BY name COLLATE \"C\"", NULL);
}

int
auth_user_add(const char *user, const char *hash, struct ps_error *err)
{
	char u[PS_AUTH_NAME_MAX + 1];
	struct auth_params p = {{u, NULL, hash}, 3};
	int r = authkit_name_address(user, u, err);

	if (r < 0 || (r = authkit_hash_check(hash, err)) < 0)
		return r;
	p.v[1] = authkit_name_domain_of(u);
	r = auth_db_change(err, "INSERT INTO auth_users (address, domain, "
			   "hash) VALUES ($1, $2, $3)", &p);
	return authkit_user_added(r, u, err);
}

int
auth_user_set_password(const char *user, const char *hash,
		       struct ps_error *err)
{
	char u[PS_AUTH_NAME_MAX + 1];
	struct auth_params p = {{u, hash}, 2};
	int r = authkit_name_address(user, u, err);

	if (r < 0 || (r = authkit_hash_check(hash, err)) < 0)
		return r;
	r = auth_db_change(err, "UPDATE auth_users SET hash = $2 "
			   "WHERE address = $1", &p);
	return authkit_user_changed(r, u, err);
}

int
auth_user_set_quota(const char *user, uint64_t quota_bytes,
		    struct ps_error *err)
{
	char u[PS_AUTH_NAME_MAX + 1], q[24];
	struct auth_params p = {{u, q}, 2};
	int r = authkit_name_address(user, u, err);

	if (r < 0)
		return r;
	/* bigint is signed 64-bit. */
	if (quota_bytes > INT64_MAX)
		return authkit_fail(err, PS_EINVAL, "quota too large");
	snprintf(q, sizeof(q), "%" PRIu64, quota_bytes);
	r = auth_db_change(err, "UPDATE auth_users SET quota = $2 "
			   "WHERE address = $1", &p);
	return authkit_user_changed(r, u, err);
}

int
auth_user_set_enabled(const char *user, int enabled, struct ps_error *err)
{
	char u[PS_AUTH_NAME_MAX + 1];
	struct auth_params p = {{u, enabled ? "true" : "false"}, 2};
	int r = authkit_name_address(user, u, err);

	if (r < 0)
		return r;
	r = auth_db_change(err, "UPDATE auth_users SET enabled = $2 "
			   "WHERE address = $1", &p);
	return authkit_user_changed(r, u, err);
}

int
auth_user_del(const char *user, struct ps_error *err)
{
	char u[PS_AUTH_NAME_MAX + 1];
	struct auth_params p = {{u}, 1};
	int r = authkit_name_address(user, u, err);

	if (r < 0)
		return r;
	r = auth_db_change(err, "DELETE FROM auth_users WHERE address = $1",
			   &p);
	return authkit_user_changed(r, u, err);
}

int
auth_user_list(const char *domain, ps_auth_name_fn fn, void *arg,
	       struct ps_error *err)
{
	char d[AUTHKIT_DOMAIN_MAX + 1];
	struct auth_params p = {{d}, 1};
	PGresult *res;
	int r;

	if (!domain)
		return names(fn, arg, err, "SELECT address FROM auth_users "
			     "ORDER BY address COLLATE \"C\"", NULL);
	if ((r = authkit_name_domain(domain, d, err)) < 0 ||
	    (r = auth_db_query(&res, err, "SELECT 1 FROM auth_domains "
			       "WHERE name = $1", &p)) < 0)
		return r;
	r = PQntuples(res);
	PQclear(res);
	if (r == 0)
		return authkit_fail(err, PS_ENOENT, "no domain %s", d);
	return names(fn, arg, err, "SELECT address FROM auth_users "
		     "WHERE domain = $1 ORDER BY address COLLATE \"C\"", &p);
}

int
auth_alias_add(const char *alias, const char *target, struct ps_error *err)
{
	char a[PS_AUTH_NAME_MAX + 1], t[PS_AUTH_NAME_MAX + 1];
	struct auth_params p = {{a, t, NULL}, 3};
	int r = authkit_name_alias(alias, a, err);

	if (r < 0 || (r = authkit_name_address(target, t, err)) < 0)
		return r;
	p.v[2] = authkit_name_domain_of(a);
	r = auth_db_change(err, "INSERT INTO auth_aliases (alias, target, "
			   "domain) VALUES ($1, $2, $3)", &p);
	return authkit_alias_added(r, a, t, err);
}

int
auth_alias_del(const char *alias, const char *target, struct ps_error *err)
{
	char a[PS_AUTH_NAME_MAX + 1], t[PS_AUTH_NAME_MAX + 1];
	struct auth_params p = {{a, t}, 2};
	int r = authkit_name_alias(alias, a, err);

	if (r < 0 || (target && (r = authkit_name_address(target, t, err)) < 0))
		return r;
	if (target)
		r = auth_db_change(err, "DELETE FROM auth_aliases "
				   "WHERE alias = $1 AND target = $2", &p);
	else {
		p.n = 1;
		r = auth_db_change(err, "DELETE FROM auth_aliases "
				   "WHERE alias = $1", &p);
	}
	if (r == 0)
		return authkit_fail(err, PS_ENOENT, "no alias %s%s%s", a,
				    target ? " -> " : "", target ? t : "");
	return r < 0 ? r : 0;
}

int
auth_alias_list(ps_auth_alias_fn fn, void *arg, struct ps_error *err)
{
	PGresult *res;
	int r = auth_db_query(&res, err, "SELECT alias, target FROM "
			      "auth_aliases ORDER BY alias COLLATE \"C\", "
			      "target COLLATE \"C\"", NULL);

	for (int i = 0; r == 0 && i < PQntuples(res); i++)
		r = fn(PQgetvalue(res, i, 0), PQgetvalue(res, i, 1), arg);
	if (res)
		PQclear(res);
	return r;
}
