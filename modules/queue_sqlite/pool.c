/* Connections kept open between calls. Opening the queue's database costs
 * a schema read and a mapping of the WAL index, and every enqueue, lease
 * and result borrows one; so a connection given back waits here, most
 * recently used first, up to qs_config.idle_max of them. A connection
 * must not cross a fork: a process that finds connections its parent
 * pooled drops them unused (closing them could checkpoint or remove the
 * WAL under the parent). */
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "queue_sqlite.h"

struct qs_idle {
	struct qs_idle *next;
	sqlite3 *db;
};

static pthread_mutex_t qs_pool_lock = PTHREAD_MUTEX_INITIALIZER;
static struct qs_idle *qs_pool;
static unsigned qs_pool_n;
static pid_t qs_pool_pid;
static struct qs_idle *qs_pool_inherited; /* kept, never used */

/* Called with the lock held: set aside what another process pooled. */
static void
qs_pool_own(void)
{
	pid_t me = getpid();

	if (qs_pool_pid == me)
		return;
	/* The parent's connections: neither used nor closed here. Kept
	 * reachable, so leak checkers see memory set aside on purpose. */
	if (qs_pool) {
		struct qs_idle *last = qs_pool;

		while (last->next)
			last = last->next;
		last->next = qs_pool_inherited;
		qs_pool_inherited = qs_pool;
	}
	qs_pool = NULL;
	qs_pool_n = 0;
	qs_pool_pid = me;
}

sqlite3 *
qs_pool_take(void)
{
	struct qs_idle *e;
	sqlite3 *db = NULL;

	pthread_mutex_lock(&qs_pool_lock);
	qs_pool_own();
	e = qs_pool;
	if (e) {
		qs_pool = e->next;
		qs_pool_n--;
	}
	pthread_mutex_unlock(&qs_pool_lock);
	if (e) {
		db = e->db;
		free(e);
	}
	return db;
}

/* Keep db, which has no open transaction; the least recently used
 * connection goes when the pool is full. */
void
qs_pool_put(sqlite3 *db)
{
	struct qs_idle *e = qs_config.idle_max ? malloc(sizeof(*e)) : NULL;
	struct qs_idle *victim = NULL;

	if (!e) {
		sqlite3_close_v2(db);
		return;
	}
	e->db = db;
	pthread_mutex_lock(&qs_pool_lock);
	qs_pool_own();
	e->next = qs_pool;
	qs_pool = e;
	if (++qs_pool_n > qs_config.idle_max) {
		struct qs_idle **pp = &qs_pool;

		while ((*pp)->next)
			pp = &(*pp)->next;
		victim = *pp;
		*pp = NULL;
		qs_pool_n--;
	}
	pthread_mutex_unlock(&qs_pool_lock);
	if (victim) {
		sqlite3_close_v2(victim->db);
		free(victim);
	}
}

/* Close every idle connection (worker_exit). */
void
qs_pool_forget(void)
{
	struct qs_idle *list;

	pthread_mutex_lock(&qs_pool_lock);
	qs_pool_own();
	list = qs_pool;
	qs_pool = NULL;
	qs_pool_n = 0;
	pthread_mutex_unlock(&qs_pool_lock);
	while (list) {
		struct qs_idle *next = list->next;

		sqlite3_close_v2(list->db);
		free(list);
		list = next;
	}
}
