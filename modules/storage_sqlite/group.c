/* Group commit. Each commit with synchronous=FULL costs one fsync of the
 * WAL, and a disk does a few hundred of those a second; sessions of one
 * worker that commit to the same user's database at the same time
 * therefore share one transaction. The first to arrive leads: once it
 * holds the database's write lock it takes every change queued so far,
 * runs each in a savepoint on its own connection (one change that fails
 * rolls back alone), commits once and wakes the others; changes queued
 * meanwhile form the next group. Nobody waits for a group to fill: under
 * no load a group is one change. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "storage_sqlite.h"

struct ss_grouped {
	struct ss_grouped *next;
	ss_group_fn fn;
	void *arg;
	struct ps_error *err;
	int r;
	int done;
};

struct ss_group {
	struct ss_group *next;
	unsigned users; /* threads in ss_group_commit for this file */
	int busy;       /* a leader is committing */
	struct ss_grouped *queue, **tail;
	pthread_cond_t cond;
	char file[];
};

static pthread_mutex_t ss_group_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ss_group *ss_groups;

static struct ss_group *
ss_group_get(const char *file)
{
	size_t len = strlen(file) + 1;
	struct ss_group *g;

	for (g = ss_groups; g; g = g->next)
		if (strcmp(g->file, file) == 0)
			break;
	if (!g && (g = calloc(1, sizeof(*g) + len))) {
		memcpy(g->file, file, len);
		g->tail = &g->queue;
		pthread_cond_init(&g->cond, NULL);
		g->next = ss_groups;
		ss_groups = g;
	}
	if (g)
		g->users++;
	return g;
}

static void
ss_group_put(struct ss_group *g)
{
	struct ss_group **pp = &ss_groups;

	if (--g->users)
		return;
	while (*pp != g)
		pp = &(*pp)->next;
	*pp = g->next;
	pthread_cond_destroy(&g->cond);
	free(g);
}

/* One change inside the group's transaction, in a savepoint of its own
 * when it has company. A change alone needs none (its failure rolls back
 * the transaction, which holds nothing else), and a savepoint costs a
 * statement journal: past 64 KiB of pages SQLite spills it to a temporary
 * file, created, written and deleted for every commit. */
static int
ss_group_one(struct ss_conn *c, struct ss_grouped *it, int alone)
{
	struct ps_error scratch;
	int r;

	if (alone) {
		r = it->fn(it->arg, c, it->err);
		return r < 0 ? r : 0;
	}
	r = ss_exec(c, it->err, "SAVEPOINT grouped", "");
	if (r >= 0)
		r = it->fn(it->arg, c, it->err);
	if (r < 0)
		ss_exec(c, &scratch, "ROLLBACK TO grouped", "");
	ss_exec(c, &scratch, "RELEASE grouped", "");
	return r < 0 ? r : 0;
}

/* The leader's part, called and returning with the lock held: begin the
 * transaction on c (perhaps waiting for another process to commit), take
 * everything queued by then, run it and commit. */
static struct ss_grouped *
ss_group_run(struct ss_group *g, struct ss_conn *c)
{
	struct ss_grouped *batch;
	struct ps_error err;
	int any = 0, r;

	g->busy = 1;
	pthread_mutex_unlock(&ss_group_lock);
	r = ss_write_begin(c, SS_SYNC_FULL, &err);
	pthread_mutex_lock(&ss_group_lock);
	batch = g->queue;
	g->queue = NULL;
	g->tail = &g->queue;
	pthread_mutex_unlock(&ss_group_lock);
	for (struct ss_grouped *it = batch; r == 0 && it; it = it->next) {
		it->r = ss_group_one(c, it, it == batch && !it->next);
		any |= it->r == 0;
	}
	r = ss_write_end(c, r, any, &err);
	for (struct ss_grouped *it = batch; r < 0 && it; it = it->next)
		if (it->r == 0 || !any) {
			it->r = r;
			*it->err = err;
		}
	pthread_mutex_lock(&ss_group_lock);
	g->busy = 0;
	return batch;
}

int
ss_group_commit(struct ss_conn *c, ss_group_fn fn, void *arg,
		struct ps_error *err)
{
	struct ss_grouped me = { .fn = fn, .arg = arg, .err = err };
	struct ss_group *g;

	pthread_mutex_lock(&ss_group_lock);
	g = ss_group_get(c->file);
	if (!g) {
		pthread_mutex_unlock(&ss_group_lock);
		return ss_err(err, PS_ENOMEM, "out of memory");
	}
	*g->tail = &me;
	g->tail = &me.next;
	while (!me.done) {
		if (g->busy) {
			pthread_cond_wait(&g->cond, &ss_group_lock);
			continue;
		}
		/* Read each next before done: a waiter may return at once. */
		for (struct ss_grouped *it = ss_group_run(g, c), *next; it;
		     it = next) {
			next = it->next;
			it->done = 1;
		}
		pthread_cond_broadcast(&g->cond);
	}
	ss_group_put(g);
	pthread_mutex_unlock(&ss_group_lock);
	return me.r;
}
