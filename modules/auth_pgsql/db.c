/* auth_pgsql's statements: every one parameterised (PQexecParams, text
 * parameters), its SQLSTATE turned into the codes struct ps_auth_ops
 * promises, and work on a pooled connection retried once on a new one
 * when a connection that served before turns out broken. */
#include <stdlib.h>
#include <string.h>

#include "auth_pgsql.h"

/* PostgreSQL's SQLSTATE codes (Appendix A of its manual). */
#define SQLSTATE_UNIQUE "23505"
#define SQLSTATE_FOREIGN_KEY "23503"
#define SQLSTATE_CHECK "23514"

/* PS_EIO with what PostgreSQL said, on one line. */
static int
db_error(PGconn *conn, const PGresult *res, struct ps_error *err)
{
	const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY)
		: NULL;

	if (!msg)
		msg = PQerrorMessage(conn);
	authkit_fail(err, PS_EIO, "PostgreSQL: %s", msg && *msg ? msg :
		     "out of memory");
	err->msg[strcspn(err->msg, "\n")] = '\0';
	return PS_EIO;
}

/* res when it holds a success, else NULL with *code_r (freeing res). */
static PGresult *
checked(PGconn *conn, PGresult *res, int *code_r, struct ps_error *err)
{
	ExecStatusType st = PQresultStatus(res);
	const char *state;

	if (res && (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK))
		return res;
	state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	if (state && strcmp(state, SQLSTATE_UNIQUE) == 0)
		*code_r = PS_EEXIST;
	else if (state && strcmp(state, SQLSTATE_FOREIGN_KEY) == 0)
		*code_r = PS_ENOENT;
	else if (state && strcmp(state, SQLSTATE_CHECK) == 0)
		*code_r = authkit_fail(err, PS_EINVAL, "refused by the "
				       "database: %s", PQresultErrorField(
					       res, PG_DIAG_MESSAGE_PRIMARY));
	else
		*code_r = db_error(conn, res, err);
	PQclear(res);
	return NULL;
}

PGresult *
auth_db_exec(PGconn *conn, int *code_r, struct ps_error *err,
	     const char *sql, const struct auth_params *p)
{
	return checked(conn, PQexecParams(conn, sql, p ? p->n : 0, NULL,
					  p ? p->v : NULL, NULL, NULL, 0),
		       code_r, err);
}

/* PQexec, not PQexecParams: a migration is several statements. */
int
auth_db_simple(PGconn *conn, struct ps_error *err, const char *sql)
{
	int code = 0;
	PGresult *res = checked(conn, PQexec(conn, sql), &code, err);

	PQclear(res);
	return res ? 0 : code;
}

int
auth_db_with(auth_db_fn fn, void *arg, struct ps_error *err)
{
	PGconn *conn;
	int reused, r;

	for (int attempt = 0;; attempt++) {
		if (!(conn = auth_pool_get(&reused, err)))
			return PS_EIO;
		r = fn(conn, arg, err);
		/* A connection broken while it was idle (the server
		 * restarted, a firewall forgot it) never took the statement:
		 * libpq finds out only when it sends one. Once is enough:
		 * a new connection failing is a real failure. */
		if (r < 0 && reused && attempt == 0 &&
		    PQstatus(conn) == CONNECTION_BAD) {
			ps_log(PS_LOG_WARN, "auth_pgsql: connection lost, "
			       "reconnecting: %s", err->msg);
			auth_pool_put(conn);
			continue;
		}
		auth_pool_put(conn);
		return r;
	}
}

struct one {
	const char *sql;
	const struct auth_params *p;
	PGresult *res;
};

static int
one_statement(PGconn *conn, void *arg, struct ps_error *err)
{
	struct one *o = arg;
	int code = 0;

	o->res = auth_db_exec(conn, &code, err, o->sql, o->p);
	return o->res ? 0 : code;
}

int
auth_db_query(PGresult **res_r, struct ps_error *err, const char *sql,
	      const struct auth_params *p)
{
	struct one o = {sql, p, NULL};
	int r = auth_db_with(one_statement, &o, err);

	*res_r = o.res;
	return r;
}

int
auth_db_change(struct ps_error *err, const char *sql,
	       const struct auth_params *p)
{
	PGresult *res;
	int r = auth_db_query(&res, err, sql, p);

	if (r < 0)
		return r;
	r = atoi(PQcmdTuples(res));
	PQclear(res);
	return r;
}
