/* Database helpers of storage_pgsql: errors, a handle's connection
 * (taken from the pool at its outermost call, kept while mailbox_hold
 * holds it), transactions, and parameterised queries. A write locks the
 * user's row first (SELECT ... FOR UPDATE): every change of one user, in
 * any worker of any front end, then runs one at a time, so UIDs and
 * MODSEQs are handed out in order and never twice. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "storage_pgsql.h"

/* libpq's message on one line: its newlines and tabs (a DETAIL, a
 * HINT, "Is the server running...") become spaces, the end trimmed. */
int
sp_pgmsg(struct ps_error *err, int code, const char *prefix, const char *msg)
{
	char line[sizeof(err->msg)];
	size_t n = 0;

	for (; *msg && n + 1 < sizeof(line); msg++)
		if (*msg != '\n' && *msg != '\t' && *msg != '\r')
			line[n++] = *msg;
		else if (n && line[n - 1] != ' ')
			line[n++] = ' ';
	while (n && line[n - 1] == ' ')
		n--;
	line[n] = '\0';
	return sp_err(err, code, "%s%s", prefix, line);
}

/* The server's message. A connection that broke is given back to be
 * closed. */
int
sp_pgerr(struct sp_conn *c, const PGresult *res, struct ps_error *err)
{
	const char *msg = res ? PQresultErrorMessage(res) : "";

	if (!*msg && c->pg)
		msg = PQerrorMessage(c->pg);
	if (c->pg && PQstatus(c->pg) != CONNECTION_OK)
		c->broken = 1;
	return sp_pgmsg(err, PS_EIO, "postgresql: ", msg);
}

/* Statements without parameters (SET, BEGIN, COMMIT). */
int
sp_simple(PGconn *pg, const char *sql, struct ps_error *err)
{
	PGresult *res = PQexec(pg, sql);
	ExecStatusType st = PQresultStatus(res);
	int r = 0;

	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
		r = sp_pgmsg(err, PS_EIO, "postgresql: ",
			     res ? PQresultErrorMessage(res)
				 : PQerrorMessage(pg));
	PQclear(res);
	return r;
}

/* The server closed the connection while it sat in the pool (a
 * restart, a failover, pg_terminate_backend): libpq learns it only at
 * the next statement. Between transactions nothing is lost by opening it
 * again at once, so the call goes on instead of failing. */
static int
sp_conn_revive(struct sp_conn *c)
{
	if (!c->pg || PQstatus(c->pg) != CONNECTION_BAD || c->writing ||
	    c->snap)
		return -1;
	PQreset(c->pg);
	if (PQstatus(c->pg) != CONNECTION_OK ||
	    sp_simple(c->pg, SP_SESSION_SETUP, NULL) < 0) {
		c->broken = 1;
		return -1;
	}
	return 0;
}

/* A statement that starts a call (BEGIN): once more on a revived
 * connection if the old one was gone. */
static int
sp_start_stmt(struct sp_conn *c, const char *sql, struct ps_error *err)
{
	int r = sp_simple(c->pg, sql, err);

	if (r < 0 && sp_conn_revive(c) == 0)
		r = sp_simple(c->pg, sql, err);
	if (r < 0 && PQstatus(c->pg) != CONNECTION_OK)
		c->broken = 1;
	return r;
}

void
sp_conn_init(struct sp_conn *c)
{
	memset(c, 0, sizeof(*c));
	c->tail = &c->notices;
}

/* The outermost call takes a connection; nested ones (callbacks) use
 * it again. */
int
sp_conn_take(struct sp_conn *c, struct ps_error *err)
{
	if (!c->pg && !(c->pg = sp_pool_take(err)))
		return PS_EIO;
	c->depth++;
	return 0;
}

void
sp_conn_give(struct sp_conn *c)
{
	if (c->depth)
		c->depth--;
	if (c->depth || c->held || !c->pg)
		return;
	sp_pool_put(c->pg, c->broken);
	c->pg = NULL;
	c->broken = 0;
}

void
sp_conn_hold(struct sp_conn *c)
{
	c->held = 1;
}

/* End the snapshot, give the connection back. */
void
sp_conn_release(struct sp_conn *c)
{
	if (c->snap && c->pg && sp_simple(c->pg, "COMMIT", NULL) < 0)
		c->broken = 1;
	c->snap = 0;
	c->held = 0;
	c->depth++;
	sp_conn_give(c);
}

void
sp_conn_close(struct sp_conn *c)
{
	sp_conn_release(c);
	sp_notices_drop(c);
}

/* Single statements read without a transaction; a held handle reads
 * from one REPEATABLE READ snapshot until it changes something or is
 * released, so a SEARCH over every message sees one mailbox. */
int
sp_read_begin(struct sp_conn *c, struct ps_error *err)
{
	int r = sp_conn_take(c, err);

	if (r == 0 && c->held && !c->snap && !c->writing) {
		r = sp_start_stmt(c, "BEGIN ISOLATION LEVEL REPEATABLE READ"
				  " READ ONLY", err);
		if (r == 0)
			c->snap = 1;
		else
			sp_conn_give(c);
	}
	return r;
}

void
sp_read_end(struct sp_conn *c)
{
	sp_conn_give(c);
}

/* Lock the user's row: changes of one user take turns. A user deleted
 * meanwhile has no row, and its handles change nothing. NO KEY UPDATE
 * rather than UPDATE: the foreign keys of rows an append inserts before
 * it locks take KEY SHARE on the same row, which UPDATE would wait for
 * (two appends, each waiting for the other: a deadlock). */
int
sp_lock_user(struct sp_conn *c, const struct ps_store_user *u,
	     struct ps_error *err)
{
	int64_t one;
	int r = sp_query_int(c, err, &one, "SELECT 1 FROM store_user"
			     " WHERE id = $1 FOR NO KEY UPDATE", "i", u->id);

	if (r == 0)
		return sp_err(err, PS_STORE_ENOMBOX, "user %s was deleted",
			      u->name);
	return r < 0 ? r : 0;
}

/* BEGIN a change of u's store; lock: take the user's lock at once (an
 * append takes it later, once the bodies are in). */
int
sp_write_start(struct sp_conn *c, const struct ps_store_user *u,
	       enum sp_sync sync, int lock, struct ps_error *err)
{
	int r = sp_conn_take(c, err);

	if (r < 0)
		return r;
	if (c->writing) {
		sp_conn_give(c);
		return sp_err(err, PS_ESTATE, "a change inside a change");
	}
	/* A change through a held handle ends its snapshot: it sees its
	 * own change afterwards. */
	if (c->snap) {
		c->snap = 0;
		r = sp_simple(c->pg, "COMMIT", err);
	}
	c->topic_user = u->name;
	if (r == 0)
		r = sp_start_stmt(c, sync == SP_SYNC_LAZY
				  ? "BEGIN; SET LOCAL synchronous_commit = off"
				  : "BEGIN", err);
	if (r == 0 && lock)
		r = sp_lock_user(c, u, err);
	if (r < 0) {
		if (c->pg && PQtransactionStatus(c->pg) != PQTRANS_IDLE &&
		    sp_simple(c->pg, "ROLLBACK", NULL) < 0)
			c->broken = 1;
		sp_conn_give(c);
		return r;
	}
	c->writing = 1;
	return 0;
}

int
sp_write_begin(struct sp_conn *c, const struct ps_store_user *u,
	       enum sp_sync sync, struct ps_error *err)
{
	return sp_write_start(c, u, sync, 1, err);
}

/* COMMIT when r is 0, else ROLLBACK; the notices the transaction made
 * go on the bus once it committed. Returns r, or the commit's error. */
int
sp_write_end(struct sp_conn *c, int r, struct ps_error *err)
{
	if (r == 0)
		r = sp_simple(c->pg, "COMMIT", err);
	else if (sp_simple(c->pg, "ROLLBACK", NULL) < 0)
		c->broken = 1;
	if (r == 0)
		sp_notices_publish(c);
	sp_notices_drop(c);
	c->writing = 0;
	sp_conn_give(c);
	return r;
}

#define SP_PARAMS 12

static PGresult *
sp_query_va(struct sp_conn *c, struct ps_error *err, int binary,
	    const char *sql, const char *fmt, va_list ap)
{
	const char *vals[SP_PARAMS];
	int lens[SP_PARAMS], fmts[SP_PARAMS];
	char num[SP_PARAMS][24];
	int n = 0;
	PGresult *res;
	ExecStatusType st;

	for (const char *f = fmt; *f && n < SP_PARAMS; f++, n++) {
		lens[n] = 0;
		fmts[n] = 0;
		vals[n] = num[n];
		switch (*f) {
		case 'i':
			snprintf(num[n], sizeof(num[n]), "%lld",
				 (long long)va_arg(ap, int64_t));
			break;
		case 'u':
			snprintf(num[n], sizeof(num[n]), "%u",
				 va_arg(ap, uint32_t));
			break;
		case 's':
			vals[n] = va_arg(ap, const char *);
			break;
		default: /* 'b' */
			vals[n] = va_arg(ap, const char *);
			lens[n] = (int)va_arg(ap, size_t);
			fmts[n] = 1;
			break;
		}
	}
	res = PQexecParams(c->pg, sql, n, NULL, vals, lens, fmts, binary);
	st = PQresultStatus(res);
	if (st == PGRES_FATAL_ERROR && sp_conn_revive(c) == 0) {
		PQclear(res);
		res = PQexecParams(c->pg, sql, n, NULL, vals, lens, fmts,
				   binary);
		st = PQresultStatus(res);
	}
	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
		return res;
	sp_pgerr(c, res, err);
	PQclear(res);
	return NULL;
}

PGresult *
sp_query_fmt(struct sp_conn *c, struct ps_error *err, int binary,
	     const char *sql, const char *fmt, ...)
{
	va_list ap;
	PGresult *res;

	va_start(ap, fmt);
	res = sp_query_va(c, err, binary, sql, fmt, ap);
	va_end(ap);
	return res;
}

/* Rows affected (or returned), or an error. */
int
sp_exec_fmt(struct sp_conn *c, struct ps_error *err, const char *sql,
	    const char *fmt, ...)
{
	va_list ap;
	PGresult *res;
	const char *n;
	int r;

	va_start(ap, fmt);
	res = sp_query_va(c, err, 0, sql, fmt, ap);
	va_end(ap);
	if (!res)
		return PS_EIO;
	n = PQcmdTuples(res);
	r = *n ? atoi(n) : PQntuples(res);
	PQclear(res);
	return r;
}

/* The first column of the first row in *v_r: 1 if there was a row (a
 * NULL reads as 0), 0 if none, or an error. */
int
sp_query_int_fmt(struct sp_conn *c, struct ps_error *err, int64_t *v_r,
		 const char *sql, const char *fmt, ...)
{
	va_list ap;
	PGresult *res;
	int r;

	va_start(ap, fmt);
	res = sp_query_va(c, err, 0, sql, fmt, ap);
	va_end(ap);
	if (!res)
		return PS_EIO;
	r = PQntuples(res) > 0;
	*v_r = r ? sp_int(res, 0, 0) : 0;
	PQclear(res);
	return r;
}

/* A text column as an integer (NULL: 0). */
int64_t
sp_int(const PGresult *res, int row, int col)
{
	if (PQgetisnull(res, row, col))
		return 0;
	return strtoll(PQgetvalue(res, row, col), NULL, 10);
}
