/* Connections kept open between handles. Opening a user's database costs
 * a schema read and a mapping of the WAL index whose unmapping, at close,
 * interrupts every thread of the worker; an SMTP delivery opens three
 * handles. So a closed handle's connection waits here, per database
 * file, most recently used first, for the next handle on that file, up
 * to ss_config.idle_max of them per process. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "storage_sqlite.h"

struct ss_idle {
	struct ss_idle *next;
	sqlite3 *db;
	char file[];
};

static pthread_mutex_t ss_pool_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ss_idle *ss_pool;
static unsigned ss_pool_n;

/* Unlink the first entry for file (NULL: any), or with all set every
 * such entry, returned as a list. */
static struct ss_idle *
ss_pool_unlink(const char *file, int all)
{
	struct ss_idle *got = NULL, **pp = &ss_pool;

	pthread_mutex_lock(&ss_pool_lock);
	while (*pp) {
		struct ss_idle *e = *pp;

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
ss_pool_free(struct ss_idle *list)
{
	while (list) {
		struct ss_idle *next = list->next;

		sqlite3_close_v2(list->db);
		free(list);
		list = next;
	}
}

/* An idle connection to file, or NULL. One whose file was deleted or
 * replaced since (user_delete, here or in another process) is closed. */
sqlite3 *
ss_pool_take(const char *file)
{
	struct ss_idle *e = ss_pool_unlink(file, 0);
	sqlite3 *db;
	int moved = 0;

	if (!e)
		return NULL;
	db = e->db;
	free(e);
	if (sqlite3_file_control(db, "main", SQLITE_FCNTL_HAS_MOVED,
				 &moved) != SQLITE_OK || moved) {
		sqlite3_close_v2(db);
		return NULL;
	}
	return db;
}

/* Keep db, which has no open transaction, for the next handle on file;
 * the least recently used connection goes when the pool is full. */
void
ss_pool_put(const char *file, sqlite3 *db)
{
	size_t len = strlen(file) + 1;
	struct ss_idle *e = ss_config.idle_max ? malloc(sizeof(*e) + len)
					       : NULL, *victim = NULL;

	if (!e) {
		sqlite3_close_v2(db);
		return;
	}
	e->db = db;
	memcpy(e->file, file, len);
	pthread_mutex_lock(&ss_pool_lock);
	e->next = ss_pool;
	ss_pool = e;
	if (++ss_pool_n > ss_config.idle_max) {
		struct ss_idle **pp = &ss_pool;

		while ((*pp)->next)
			pp = &(*pp)->next;
		victim = *pp;
		*pp = NULL;
		ss_pool_n--;
	}
	pthread_mutex_unlock(&ss_pool_lock);
	ss_pool_free(victim);
}

/* Close the idle connections to file (NULL: all of them). */
void
ss_pool_forget(const char *file)
{
	ss_pool_free(ss_pool_unlink(file, 1));
}
