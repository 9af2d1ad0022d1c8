/* auth_pgsql's parts, shared between its files: the connection pool
 * (pool.c), statements and their errors (db.c), the schema and its
 * migrations (schema.c), administration (admin.c) and the look-ups
 * protocols use (query.c, resolve.c). Address checks, messages and the
 * alias walk's bounds are libpsauth's (authkit.h), the same for every
 * backend. Nothing here is exported: the module's one symbol is its
 * descriptor. */
#ifndef AUTH_PGSQL_H
#define AUTH_PGSQL_H

#include <poshta/poshta.h>
#include <libpq-fe.h>

#include "authkit.h"

/* ---- pool.c ---------------------------------------------------------- */

/* Keep conninfo and open at most max connections, the first one now (so
 * a wrong conninfo or a server that is down shows at start). timeout_ms
 * bounds each wait: for a free connection, to connect, for a statement. */
int auth_pool_start(const char *conninfo, int max, int timeout_ms,
		    struct ps_error *err);
/* Close the idle connections; borrowed ones close when given back.
 * Waiting callers get an error. */
void auth_pool_stop(void);
/* Borrow a connection for one thread's use: an idle one, a new one while
 * fewer than max are open, else wait for one to come back (bounded).
 * *reused_r says whether it served before (it may have broken since). */
PGconn *auth_pool_get(int *reused_r, struct ps_error *err);
/* Give it back; a broken one, or one left inside a transaction, is
 * closed instead, and a waiting caller may open a new one. */
void auth_pool_put(PGconn *conn);

/* ---- db.c ------------------------------------------------------------ */

/* Up to this many parameters a statement. */
#define AUTH_DB_PARAMS_MAX 4

/* A statement's text parameters, NULL-terminated after n of them. */
struct auth_params {
	const char *v[AUTH_DB_PARAMS_MAX];
	int n;
};

/* Run sql with params on conn. Returns a result (COMMAND_OK or
 * TUPLES_OK) to PQclear, or NULL with *code_r: PS_EEXIST (a unique key),
 * PS_ENOENT (a foreign key), both without a message, or PS_EIO with
 * PostgreSQL's message in err. */
PGresult *auth_db_exec(PGconn *conn, int *code_r, struct ps_error *err,
		       const char *sql, const struct auth_params *p);
/* Run sql, one statement or several without parameters and without a
 * result, on conn; 0 or a code as auth_db_exec. */
int auth_db_simple(PGconn *conn, struct ps_error *err, const char *sql);

/* Work on one borrowed connection. fn returns 0 or a negative code; it
 * may run twice: when it failed because a connection that served before
 * had broken (the server restarted, an idle timeout), once more on a new
 * one. So fn starts from its arg afresh and calls nobody else's code. */
typedef int (*auth_db_fn)(PGconn *conn, void *arg, struct ps_error *err);
int auth_db_with(auth_db_fn fn, void *arg, struct ps_error *err);

/* One statement on a pooled connection (through auth_db_with). Returns 0
 * and *res_r to PQclear, or a code as auth_db_exec. */
int auth_db_query(PGresult **res_r, struct ps_error *err, const char *sql,
		  const struct auth_params *p);
/* One INSERT, UPDATE or DELETE: the number of rows changed, or a code. */
int auth_db_change(struct ps_error *err, const char *sql,
		   const struct auth_params *p);

/* ---- schema.c -------------------------------------------------------- */

/* Bring the schema up to date on conn, in one transaction under an
 * advisory lock (front ends starting at once apply each migration
 * once). 0 or negative with err. */
int auth_schema_migrate(PGconn *conn, struct ps_error *err);

/* ---- admin.c, query.c and resolve.c: struct ps_auth_ops entries ------ */

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

/* query.c, for resolve.c: 1 when canonical domain is one of ours, 0
 * when not, or < 0. */
int auth_domain_known(PGconn *conn, const char *domain,
		      struct ps_error *err);

#endif
