/* Connections kept open between handles. Opening a user's database costs
 * a schema read and a mapping of the WAL index whose unmapping, at close,
 * interrupts every thread of the worker; an SMTP delivery opens three
 * handles. So a closed handle's connection waits here, per database
 * file, most recently used first, for the next handle on that file, up
 * to ss_config.idle_max of them per process. */
#include <pthread.h>
#include <string.h>

#include "storage_sqlite.h"

static pthread_mutex_t ss_pool_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ss_db *ss_pool;
static unsigned ss_pool_n;

/* Unlink the first entry for file (NULL: any), or with all set every
 * such entry, returned as a list. */
static struct ss_db *
ss_pool_unlink(const char *file, int all)
{
	struct ss_db *got = NULL, **pp = &ss_pool;

	pthread_mutex_lock(&ss_pool_lock);
	while (*pp) {
		struct ss_db *e = *pp;

		if (file && strcmp(e->file, file) != 0) {
			pp = &e->next;
			continue;
		}
		*pp = e->next;
		e->next = got;
		got = e;
		ss_pool_n--;
		if (!all)
			break;
	}
	pthread_mutex_unlock(&ss_pool_lock);
	return got;
}

static void
ss_pool_free(struct ss_db *list)
{
	while (list) {
		struct ss_db *next = list->next;

		ss_db_free(list);
		list = next;
	}
}

/* An idle connection to file, or NULL. One whose file was deleted or
 * replaced since (user_delete, here or in another process) is closed. */
struct ss_db *
ss_pool_take(const char *file)
{
	struct ss_db *d = ss_pool_unlink(file, 0);
	int moved = 0;

	if (!d)
		return NULL;
	d->next = NULL;
	if (sqlite3_file_control(d->db, "main", SQLITE_FCNTL_HAS_MOVED,
				 &moved) != SQLITE_OK || moved) {
		ss_db_free(d);
		return NULL;
	}
	return d;
}

/* Keep d, which has no open transaction, for the next handle on its
 * file; the least recently used connection goes when the pool is full. */
void
ss_pool_put(struct ss_db *d)
{
	struct ss_db *victim = NULL;

	if (!ss_config.idle_max) {
		ss_db_free(d);
		return;
	}
	pthread_mutex_lock(&ss_pool_lock);
	d->next = ss_pool;
	ss_pool = d;
	if (++ss_pool_n > ss_config.idle_max) {
		struct ss_db **pp = &ss_pool;

		while ((*pp)->next)
			pp = &(*pp)->next;
		victim = *pp;
		*pp = NULL;
		ss_pool_n--;
	}
	pthread_mutex_unlock(&ss_pool_lock);
	ss_db_free(victim);
}

/* Close the idle connections to file (NULL: all of them). */
void
ss_pool_forget(const char *file)
{
	ss_pool_free(ss_pool_unlink(file, 1));
}
