/* auth_sqlite's administration calls (poshtactl's domain, user and alias
 * commands): each is one parameterised statement, with its result turned
 * into the code and message struct ps_auth_ops promises. */
#include <string.h>

#include "auth_sqlite.h"

int
auth_domain_add(const char *domain, struct ps_error *err)
{
	char d[AUTHKIT_DOMAIN_MAX + 1];
	int r = authkit_name_domain(domain, d, err);

	if (r < 0)
		return r;
	r = auth_db_change(err, "INSERT INTO domains (name) VALUES (?1)",
			   "s", d);
	if (r == PS_EEXIST)
		return authkit_fail(err, r, "domain %s exists", d);
	return r < 0 ? r : 0;
}

int
auth_domain_del(const char *domain, struct ps_error *err)
{
	char d[AUTHKIT_DOMAIN_MAX + 1];
	int r = authkit_name_domain(domain, d, err);

	if (r < 0)
		return r;
	/* Users and aliases go with it (ON DELETE CASCADE). */
	r = auth_db_change(err, "DELETE FROM domains WHERE name = ?1", "s", d);
	if (r == 0)
		return authkit_fail(err, PS_ENOENT, "no domain %s", d);
	return r < 0 ? r : 0;
}

struct name_walk {
	ps_auth_name_fn fn;
	void *arg;
};

static int
name_row(sqlite3_stmt *st, void *arg)
{
	struct name_walk *w = arg;

	return w->fn((const char *)sqlite3_column_text(st, 0), w->arg);
}

int
auth_domain_list(ps_auth_name_fn fn, void *arg, struct ps_error *err)
{
	struct name_walk w = {fn, arg};

	return auth_db_rows(err, name_row, &w, "SELECT name FROM domains "
			    "ORDER BY name", "");
}

int
auth_user_add(const char *user, const char *hash, struct ps_error *err)
{
	char u[PS_AUTH_NAME_MAX + 1];
	int r = authkit_name_address(user, u, err);

	if (r < 0 || (r = authkit_hash_check(hash, err)) < 0)
		return r;
	r = auth_db_change(err, "INSERT INTO users (address, domain, hash) "
			   "VALUES (?1, ?2, ?3)", "sss", u,
			   authkit_name_domain_of(u), hash);
	return authkit_user_added(r, u, err);
}

int
auth_user_set_password(const char *user, const char *hash,
		       struct ps_error *err)
{
	char u[PS_AUTH_NAME_MAX + 1];
	int r = authkit_name_address(user, u, err);

	if (r < 0 || (r = authkit_hash_check(hash, err)) < 0)
		return r;
	r = auth_db_change(err, "UPDATE users SET hash = ?2 WHERE address = ?1",
			   "ss", u, hash);
	return authkit_user_changed(r, u, err);
}

int
auth_user_set_quota(const char *user, uint64_t quota_bytes,
		    struct ps_error *err)
{
	char u[PS_AUTH_NAME_MAX + 1];
	int r = authkit_name_address(user, u, err);

	if (r < 0)
		return r;
	/* SQLite integers are signed 64-bit. */
	if (quota_bytes > INT64_MAX)
		return authkit_fail(err, PS_EINVAL, "quota too large");
	r = auth_db_change(err, "UPDATE users SET quota = ?2 "
			   "WHERE address = ?1", "si", u,
			   (long long)quota_bytes);
	return authkit_user_changed(r, u, err);
}

int
auth_user_set_enabled(const char *user, int enabled, struct ps_error *err)
{
	char u[PS_AUTH_NAME_MAX + 1];
	int r = authkit_name_address(user, u, err);

	if (r < 0)
		return r;
	r = auth_db_change(err, "UPDATE users SET enabled = ?2 "
			   "WHERE address = ?1", "si", u,
			   (long long)(enabled != 0));
	return authkit_user_changed(r, u, err);
}

int
auth_user_del(const char *user, struct ps_error *err)
{
	char u[PS_AUTH_NAME_MAX + 1];
	int r = authkit_name_address(user, u, err);

	if (r < 0)
		return r;
	r = auth_db_change(err, "DELETE FROM users WHERE address = ?1", "s",
			   u);
	return authkit_user_changed(r, u, err);
}

static int
found_row(sqlite3_stmt *st, void *arg)
{
	return 1;
}

int
auth_user_list(const char *domain, ps_auth_name_fn fn, void *arg,
	       struct ps_error *err)
{
	char d[AUTHKIT_DOMAIN_MAX + 1];
	struct name_walk w = {fn, arg};
	int r;

	if (!domain)
		return auth_db_rows(err, name_row, &w, "SELECT address FROM "
				    "users ORDER BY address", "");
	if ((r = authkit_name_domain(domain, d, err)) < 0)
		return r;
	r = auth_db_rows(err, found_row, NULL, "SELECT 1 FROM domains "
			 "WHERE name = ?1", "s", d);
	if (r == 0)
		return authkit_fail(err, PS_ENOENT, "no domain %s", d);
	if (r < 0)
		return r;
	return auth_db_rows(err, name_row, &w, "SELECT address FROM users "
			    "WHERE domain = ?1 ORDER BY address", "s", d);
}

int
auth_alias_add(const char *alias, const char *target, struct ps_error *err)
{
	char a[PS_AUTH_NAME_MAX + 1], t[PS_AUTH_NAME_MAX + 1];
	int r = authkit_name_alias(alias, a, err);

	if (r < 0 || (r = authkit_name_address(target, t, err)) < 0)
		return r;
	r = auth_db_change(err, "INSERT INTO aliases (alias, target, domain) "
			   "VALUES (?1, ?2, ?3)", "sss", a, t,
			   authkit_name_domain_of(a));
	return authkit_alias_added(r, a, t, err);
}

int
auth_alias_del(const char *alias, const char *target, struct ps_error *err)
{
	char a[PS_AUTH_NAME_MAX + 1], t[PS_AUTH_NAME_MAX + 1];
	int r = authkit_name_alias(alias, a, err);

	if (r < 0 || (target && (r = authkit_name_address(target, t, err)) < 0))
		return r;
	if (target)
		r = auth_db_change(err, "DELETE FROM aliases WHERE alias = ?1 "
				   "AND target = ?2", "ss", a, t);
	else
		r = auth_db_change(err, "DELETE FROM aliases WHERE alias = ?1",
				   "s", a);
	if (r == 0)
		return authkit_fail(err, PS_ENOENT, "no alias %s%s%s", a,
				    target ? " -> " : "", target ? t : "");
	return r < 0 ? r : 0;
}

struct alias_walk {
	ps_auth_alias_fn fn;
	void *arg;
};

static int
alias_row(sqlite3_stmt *st, void *arg)
{
	struct alias_walk *w = arg;

	return w->fn((const char *)sqlite3_column_text(st, 0),
		     (const char *)sqlite3_column_text(st, 1), w->arg);
}

int
auth_alias_list(ps_auth_alias_fn fn, void *arg, struct ps_error *err)
{
	struct alias_walk w = {fn, arg};

	return auth_db_rows(err, alias_row, &w, "SELECT alias, target FROM "
			    "aliases ORDER BY alias, target", "");
}
