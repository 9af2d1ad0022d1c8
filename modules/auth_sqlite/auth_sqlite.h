/* auth_sqlite's parts, shared between its files: the connection pool and
 * schema (db.c), administration (admin.c) and the look-ups protocols use
 * (query.c). Address checks, messages and the alias walk's bounds are
 * libpsauth's (authkit.h), the same for every backend. Nothing here is
 * exported: the module's one symbol is its descriptor. */
#ifndef AUTH_SQLITE_H
#define AUTH_SQLITE_H

#include <poshta/poshta.h>
#include <sqlite3.h>

#include "authkit.h"

/* ---- db.c ------------------------------------------------------------ */

/* Open path (creating it and its schema when missing) and keep the
 * connection for the pool. busy_ms bounds waits for a locked database. */
int auth_db_start(const char *path, int busy_ms, struct ps_error *err);
/* Close the idle connections; borrowed ones close when given back. */
void auth_db_stop(void);
/* Borrow a connection for one thread's use, and give it back. */
sqlite3 *auth_db_get(struct ps_error *err);
void auth_db_put(sqlite3 *db);
/* Prepare sql and bind one argument per letter of types: 's' a const
 * char *, 'i' a long long. NULL with err on failure. */
sqlite3_stmt *auth_db_prepare(sqlite3 *db, struct ps_error *err,
			      const char *sql, const char *types, ...);
/* PS_EIO with SQLite's message about db in err. */
int auth_db_error(sqlite3 *db, struct ps_error *err);
/* Run one INSERT, UPDATE or DELETE on a borrowed connection. Returns
 * the number of rows changed, or PS_EEXIST (a unique key), PS_ENOENT (a
 * foreign key: no such domain) without a message, or PS_EIO with one. */
int auth_db_change(struct ps_error *err, const char *sql, const char *types,
		   ...);
/* Run a query and call fn for each row until it returns non-zero.
 * Returns 0, fn's value, or PS_EIO with err. */
typedef int (*auth_row_fn)(sqlite3_stmt *st, void *arg);
int auth_db_rows(struct ps_error *err, auth_row_fn fn, void *arg,
		 const char *sql, const char *types, ...);

/* ---- admin.c and query.c: the struct ps_auth_ops entries ------------- */

int auth_domain_add(const char *domain, struct ps_error *err);
int auth_domain_del(const char *domain, struct ps_error *err);
int auth_domain_list(ps_auth_name_fn fn, void *arg, struct ps_error *err);
int auth_user_add(const char *user, const char *hash, struct ps_error *err);
int auth_user_set_password(const char *user, const char *hash,
			   struct ps_error *err);
int auth_user_set_quota(const char *user, uint64_t quota_bytes,
			struct ps_error *err);
int auth_user_set_enabled(const char *user, int enabled,
			  struct ps_error *err);
int auth_user_del(const char *user, struct ps_error *err);
int auth_user_list(const char *domain, ps_auth_name_fn fn, void *arg,
		   struct ps_error *err);
int auth_alias_add(const char *alias, const char *target,
		   struct ps_error *err);
int auth_alias_del(const char *alias, const char *target,
		   struct ps_error *err);
int auth_alias_list(ps_auth_alias_fn fn, void *arg, struct ps_error *err);

int auth_verify(const char *user, const char *password,
		struct ps_auth_user *user_r, struct ps_error *err);
int auth_lookup(const char *user, struct ps_auth_user *user_r,
		struct ps_error *err);
int auth_resolve(const char *address, ps_auth_target_fn fn, void *arg,
		 struct ps_error *err);

#endif
