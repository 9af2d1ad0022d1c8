/* The connection pool of a worker: at most "connections" open at once,
 * idle ones kept and reused, a broken one (PQstatus bad) closed and
 * reopened. Threads that find none free wait on a condition variable.
 * A connection never crosses a fork: a child drops what it inherited
 * without talking on the parent's sockets. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SP_POOL_WAIT_S 60

#include "storage_pgsql.h"

static struct {
	pthread_mutex_t lock;
	pthread_cond_t free;
	PGconn **idle;
	unsigned nidle, nopen, max;
	pid_t pid;
} sp_pool = { .lock = PTHREAD_MUTEX_INITIALIZER,
	      .free = PTHREAD_COND_INITIALIZER };

/* Open one connection: durable commits unless a call asks otherwise
 * (SET LOCAL), UTF-8 names, and no chatter in the log. */
PGconn *
sp_connect(struct ps_error *err)
{
	PGconn *pg = PQconnectdb(sp_config.conninfo);

	if (!pg) {
		sp_err(err, PS_ENOMEM, "out of memory");
		return NULL;
	}
	if (PQstatus(pg) != CONNECTION_OK) {
		sp_pgmsg(err, PS_EIO, "storage_pgsql: cannot connect: ",
			 PQerrorMessage(pg));
		PQfinish(pg);
		return NULL;
	}
	if (sp_simple(pg, SP_SESSION_SETUP, err) < 0) {
		PQfinish(pg);
		return NULL;
	}
	return pg;
}

/* A child of fork: the sockets are the parent's. Pointing them at
 * /dev/null first lets PQfinish free the memory without sending the
 * parent's server a goodbye. */
static void
sp_pool_forget_inherited(void)
{
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);

	for (unsigned i = 0; i < sp_pool.nidle; i++) {
		int fd = PQsocket(sp_pool.idle[i]);

		if (null >= 0 && fd >= 0)
			dup2(null, fd);
		PQfinish(sp_pool.idle[i]);
	}
	if (null >= 0)
		close(null);
	sp_pool.nidle = sp_pool.nopen = 0;
	sp_pool.pid = getpid();
}

int
sp_pool_start(const char *conninfo, unsigned max)
{
	PGconn **idle = calloc(max ? max : 1, sizeof(*idle));

	(void)conninfo;
	if (!idle)
		return PS_ENOMEM;
	pthread_mutex_lock(&sp_pool.lock);
	sp_pool.idle = idle;
	sp_pool.max = max ? max : 1;
	sp_pool.nidle = 0; /* nopen counts what handles still hold */
	sp_pool.pid = getpid();
	pthread_mutex_unlock(&sp_pool.lock);
	return 0;
}

/* Wait, with the lock held, until a connection may be had; -1 after
 * SP_POOL_WAIT_S seconds. A call that holds one connection and needs a
 * second (a held mailbox, then the user's) when every other is held the
 * same way would wait for ever: it fails instead, and the worker goes
 * on. */
static int
sp_pool_wait(void)
{
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += SP_POOL_WAIT_S;
	while (!sp_pool.nidle && sp_pool.nopen >= sp_pool.max)
		if (pthread_cond_timedwait(&sp_pool.free, &sp_pool.lock,
					   &until) == ETIMEDOUT)
			return -1;
	return 0;
}

PGconn *
sp_pool_take(struct ps_error *err)
{
	PGconn *pg = NULL;

	pthread_mutex_lock(&sp_pool.lock);
	if (!sp_pool.idle) {
		pthread_mutex_unlock(&sp_pool.lock);
		sp_err(err, PS_ESTATE, "storage_pgsql is not started");
		return NULL;
	}
	if (sp_pool.pid != getpid())
		sp_pool_forget_inherited();
	if (!sp_pool.nidle && sp_pool.nopen >= sp_pool.max &&
	    sp_pool_wait() < 0) {
		pthread_mutex_unlock(&sp_pool.lock);
		sp_err(err, PS_EIO, "storage_pgsql: no free database "
		       "connection within %d s (connections %u)",
		       SP_POOL_WAIT_S, sp_pool.max);
		return NULL;
	}
	if (sp_pool.nidle)
		pg = sp_pool.idle[--sp_pool.nidle];
	else
		sp_pool.nopen++;
	pthread_mutex_unlock(&sp_pool.lock);
	if (pg && PQstatus(pg) == CONNECTION_OK)
		return pg;
	/* A new slot, or an idle connection the server dropped. */
	PQfinish(pg);
	pg = sp_connect(err);
	if (!pg) {
		pthread_mutex_lock(&sp_pool.lock);
		sp_pool.nopen--;
		pthread_cond_signal(&sp_pool.free);
		pthread_mutex_unlock(&sp_pool.lock);
	}
	return pg;
}

/* Give pg back; a broken one, or one left inside a transaction, is
 * closed, and its slot opens a fresh one when needed. */
void
sp_pool_put(PGconn *pg, int broken)
{
	if (!pg)
		return;
	if (!broken && (PQstatus(pg) != CONNECTION_OK ||
			PQtransactionStatus(pg) != PQTRANS_IDLE))
		broken = 1;
	pthread_mutex_lock(&sp_pool.lock);
	if (sp_pool.pid != getpid()) {
		/* Taken before a fork, given back in the child. */
		pthread_mutex_unlock(&sp_pool.lock);
		return;
	}
	if (broken || !sp_pool.idle) {
		sp_pool.nopen--;
		pthread_mutex_unlock(&sp_pool.lock);
		PQfinish(pg);
		pthread_cond_signal(&sp_pool.free);
		return;
	}
	sp_pool.idle[sp_pool.nidle++] = pg;
	pthread_cond_signal(&sp_pool.free);
	pthread_mutex_unlock(&sp_pool.lock);
}

/* worker_exit: close the idle connections. Handles still open keep
 * theirs until they give them back (then they are closed). */
void
sp_pool_stop(void)
{
	pthread_mutex_lock(&sp_pool.lock);
	if (sp_pool.pid != getpid())
		sp_pool_forget_inherited();
	for (unsigned i = 0; i < sp_pool.nidle; i++)
		PQfinish(sp_pool.idle[i]);
	sp_pool.nopen -= sp_pool.nidle;
	sp_pool.nidle = 0;
	free(sp_pool.idle);
	sp_pool.idle = NULL;
	pthread_mutex_unlock(&sp_pool.lock);
}
