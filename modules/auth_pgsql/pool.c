/* auth_pgsql's connections: a bounded pool behind a mutex and a
 * condition variable. Pool threads (and poshtactl) call the backend at
 * once; each call borrows a connection, so a connection serves one
 * thread at a time (libpq's rule) and at most `connections` are open per
 * process. A caller finding none free waits, for a bounded time, for
 * one to come back. Connections open outside the lock, so a slow server
 * never holds up callers that have one. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth_pgsql.h"

/* The most connections=N may ask for (it is also the directive's max). */
#define AUTH_POOL_MAX 64

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t freed_once = PTHREAD_ONCE_INIT;
static pthread_cond_t freed; /* on CLOCK_MONOTONIC: see freed_init */
static PGconn *idle[AUTH_POOL_MAX];
static int nidle;
static int nopen;  /* idle ones and borrowed ones */
static int nmax;
static int started;
static char *conninfo;
/* The timeout directive, in ms: how long a caller waits for a free
 * connection, a new connection, or a statement. */
static int timeout_ms;

/* Notices (e.g. "relation auth_schema already exists, skipping") go to
 * the log at debug level, not to stderr, where libpq would print them
 * (and poshtactl's output is for its own messages). */
static void
notice(void *arg, const char *message)
{
	(void)arg;
	ps_log(PS_LOG_DEBUG, "auth_pgsql: PostgreSQL: %.*s",
	       (int)strcspn(message, "\n"), message);
}

/* Bound each statement on conn (a locked table would otherwise hold a
 * pool thread as long as the lock lasts). Set after connecting, so
 * options in conninfo cannot drop it. */
static int
set_timeout(PGconn *conn, struct ps_error *err)
{
	char ms[16];
	struct auth_params p = {{ms}, 1};
	PGresult *res;
	int code = 0;

	snprintf(ms, sizeof(ms), "%d", timeout_ms);
	res = auth_db_exec(conn, &code, err, "SELECT set_config("
			   "'statement_timeout', $1, false)", &p);
	PQclear(res);
	return res ? 0 : code;
}

/* A new connection. conninfo (a "key=value" string or a URI, expanded
 * as dbname) comes after the defaults, so its own settings win. Without
 * connect_timeout libpq would wait forever for a server that does not
 * answer. */
static PGconn *
connect_one(struct ps_error *err)
{
	static const char *const keys[] = {
		"connect_timeout", "fallback_application_name", "dbname",
		NULL,
	};
	char connect_s[16];
	const char *values[] = {
		connect_s, "poshta auth_pgsql", conninfo, NULL,
	};
	PGconn *conn;

	/* Whole seconds, rounded up; libpq takes less than 2 as 2. */
	snprintf(connect_s, sizeof(connect_s), "%d", (timeout_ms + 999) / 1000);
	conn = PQconnectdbParams(keys, values, 1);
	if (conn && PQstatus(conn) == CONNECTION_OK) {
		PQsetNoticeProcessor(conn, notice, NULL);
		if (set_timeout(conn, err) == 0)
			return conn;
		PQfinish(conn);
		return NULL;
	}
	authkit_fail(err, PS_EIO, "cannot connect to PostgreSQL: %s",
		     conn ? PQerrorMessage(conn) : "out of memory");
	/* libpq's messages end in a newline. */
	err->msg[strcspn(err->msg, "\n")] = '\0';
	PQfinish(conn);
	return NULL;
}

/* Waits for a connection are bounded in monotonic time, so setting the
 * clock neither ends them early nor makes them endless. */
static void
freed_init(void)
{
	pthread_condattr_t a;

	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	pthread_cond_init(&freed, &a);
	pthread_condattr_destroy(&a);
}

/* Called with lock held, once nothing is open after a stop: nobody can
 * be connecting with conninfo any more. */
static void
forget_conninfo(void)
{
	if (!started && nopen == 0) {
		free(conninfo);
		conninfo = NULL;
	}
}

int
auth_pool_start(const char *info, int max, int timeout, struct ps_error *err)
{
	PGconn *conn;
	int r = 0;

	if (max < 1 || max > AUTH_POOL_MAX)
		return authkit_fail(err, PS_EINVAL, "connections must be 1 "
				    "to %d", AUTH_POOL_MAX);
	pthread_once(&freed_once, freed_init);
	pthread_mutex_lock(&lock);
	if (!conninfo)
		conninfo = strdup(info);
	nmax = max;
	timeout_ms = timeout;
	pthread_mutex_unlock(&lock);
	if (!conninfo)
		return authkit_fail(err, PS_ENOMEM, "out of memory");
	if (!(conn = connect_one(err)))
		r = PS_EIO;
	else if ((r = auth_schema_migrate(conn, err)) < 0)
		PQfinish(conn);
	if (!conn || r < 0) {
		/* After a failed start the core unloads the module without
		 * worker_exit. */
		pthread_mutex_lock(&lock);
		forget_conninfo();
		pthread_mutex_unlock(&lock);
		return r;
	}
	pthread_mutex_lock(&lock);
	started = 1;
	nopen++;
	idle[nidle++] = conn;
	pthread_mutex_unlock(&lock);
	return 0;
}

void
auth_pool_stop(void)
{
	PGconn *close_these[AUTH_POOL_MAX];
	int n;

	pthread_mutex_lock(&lock);
	started = 0;
	n = nidle;
	memcpy(close_these, idle, (size_t)n * sizeof(*idle));
	nopen -= nidle;
	nidle = 0;
	pthread_cond_broadcast(&freed);
	forget_conninfo();
	pthread_mutex_unlock(&lock);
	for (int i = 0; i < n; i++)
		PQfinish(close_these[i]);
}

/* Wait for a connection to come back, until deadline. Called and
 * returning with lock held; 0, or ETIMEDOUT. */
static int
wait_freed(const struct timespec *deadline)
{
	int rc = 0;

	while (rc == 0 && started && nidle == 0 && nopen >= nmax)
		rc = pthread_cond_timedwait(&freed, &lock, deadline);
	return rc == ETIMEDOUT && nidle == 0 && nopen >= nmax ? rc : 0;
}

PGconn *
auth_pool_get(int *reused_r, struct ps_error *err)
{
	struct timespec deadline;
	PGconn *conn = NULL;
	int timed_out, up, max;

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += timeout_ms / 1000;
	deadline.tv_nsec += timeout_ms % 1000 * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&lock);
	timed_out = wait_freed(&deadline);
	up = started;
	max = nmax;
	if (up && !timed_out) {
		if (nidle > 0)
			conn = idle[--nidle];
		else
			nopen++; /* a place for the one opened below */
	}
	pthread_mutex_unlock(&lock);
	if (!up) {
		authkit_fail(err, PS_ESTATE, "auth_pgsql is not started here "
			     "(only in workers)");
		return NULL;
	}
	if (timed_out) {
		authkit_fail(err, PS_EIO, "all %d PostgreSQL connections "
			     "stayed busy for %d ms", max, timeout_ms);
		return NULL;
	}
	*reused_r = conn != NULL;
	if (conn || (conn = connect_one(err)))
		return conn;
	pthread_mutex_lock(&lock);
	nopen--;
	pthread_cond_signal(&freed);
	forget_conninfo();
	pthread_mutex_unlock(&lock);
	return NULL;
}

void
auth_pool_put(PGconn *conn)
{
	/* A connection inside a transaction (a failed COMMIT, a call that
	 * gave up half way) would carry it into the next caller's work. */
	int keep = PQstatus(conn) == CONNECTION_OK &&
		PQtransactionStatus(conn) == PQTRANS_IDLE;

	pthread_mutex_lock(&lock);
	keep = keep && started;
	if (keep)
		idle[nidle++] = conn;
	else
		nopen--;
	pthread_cond_signal(&freed);
	forget_conninfo();
	pthread_mutex_unlock(&lock);
	if (!keep)
		PQfinish(conn);
}
