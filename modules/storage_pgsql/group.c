/* Group commit of appends. A delivery commits with the user's row locked
 * and the lock lasts until PostgreSQL has flushed the commit to its WAL,
 * so deliveries to one user take one WAL flush each, one after another.
 * Threads of one worker that commit to the same user at the same time
 * therefore share one transaction: the first to arrive leads, takes every
 * commit queued so far, runs each in a savepoint on its own connection
 * (one that fails rolls back alone), commits once and wakes the others;
 * commits queued meanwhile form the next group. Nobody waits for a group
 * to fill: under no load a group is one commit. storage_sqlite's
 * group.c does the same for its WAL. */
#include <pthread.h>
#include <stdlib.h>

#include "storage_pgsql.h"

struct sp_grouped {
	struct sp_grouped *next;
	sp_group_fn fn;
	void *arg;
	struct ps_error *err;
	int r;
	int done;
};

struct sp_group {
	struct sp_group *next;
	int64_t user;
	unsigned users; /* threads in sp_group_commit for this user */
	int busy;       /* a leader is committing */
	struct sp_grouped *queue, **tail;
	pthread_cond_t cond;
};

static pthread_mutex_t sp_group_lock = PTHREAD_MUTEX_INITIALIZER;
static struct sp_group *sp_groups;

static struct sp_group *
sp_group_get(int64_t user)
{
	struct sp_group *g;

	for (g = sp_groups; g; g = g->next)
		if (g->user == user)
			break;
	if (!g && (g = calloc(1, sizeof(*g)))) {
		g->user = user;
		g->tail = &g->queue;
		pthread_cond_init(&g->cond, NULL);
		g->next = sp_groups;
		sp_groups = g;
	}
	if (g)
		g->users++;
	return g;
}

static void
sp_group_put(struct sp_group *g)
{
	struct sp_group **pp = &sp_groups;

	if (--g->users)
		return;
	while (*pp != g)
		pp = &(*pp)->next;
	*pp = g->next;
	pthread_cond_destroy(&g->cond);
	free(g);
}

/* One commit inside the group's transaction, in a savepoint of its own. */
static int
sp_group_one(struct sp_conn *c, struct sp_grouped *it)
{
	int r = sp_simple(c->pg, "SAVEPOINT grouped", it->err);

	if (r == 0)
		r = it->fn(it->arg, c, it->err);
	if (r < 0 && sp_simple(c->pg, "ROLLBACK TO SAVEPOINT grouped",
			       NULL) < 0)
		c->broken = 1;
	if (sp_simple(c->pg, "RELEASE SAVEPOINT grouped", NULL) < 0)
		c->broken = 1;
	return r < 0 ? r : 0;
}

/* The leader's part, called and returning with the lock held. */
static struct sp_grouped *
sp_group_run(struct sp_group *g, struct sp_conn *c,
	     const struct ps_store_user *u)
{
	struct sp_grouped *batch;
	struct ps_error err = {""};
	int any = 0, r;

	g->busy = 1;
	batch = g->queue;
	g->queue = NULL;
	g->tail = &g->queue;
	pthread_mutex_unlock(&sp_group_lock);
	r = sp_write_start(c, u, SP_SYNC_FULL, 0, &err);
	for (struct sp_grouped *it = batch; it; it = it->next) {
		/* Alone, a commit needs no savepoint: failing, it rolls
		 * back the transaction, which is only its own. */
		it->r = r < 0 ? r : c->broken ? PS_EIO
			: batch->next ? sp_group_one(c, it)
				      : it->fn(it->arg, c, it->err);
		if (r < 0 || (c->broken && it->r == 0)) {
			it->r = r < 0 ? r : PS_EIO;
			*it->err = err;
		}
		any |= it->r == 0;
	}
	if (r == 0)
		r = sp_write_end(c, any ? 0 : 1, &err);
	for (struct sp_grouped *it = batch; r < 0 && it; it = it->next)
		if (it->r == 0) {
			it->r = r;
			*it->err = err;
		}
	pthread_mutex_lock(&sp_group_lock);
	g->busy = 0;
	pthread_cond_broadcast(&g->cond);
	return batch;
}

int
sp_group_commit(struct sp_conn *c, const struct ps_store_user *u,
		sp_group_fn fn, void *arg, struct ps_error *err)
{
	struct sp_grouped me = { .fn = fn, .arg = arg, .err = err };
	struct sp_group *g;

	pthread_mutex_lock(&sp_group_lock);
	g = sp_group_get(u->id);
	if (!g) {
		pthread_mutex_unlock(&sp_group_lock);
		return sp_err(err, PS_ENOMEM, "out of memory");
	}
	*g->tail = &me;
	g->tail = &me.next;
	while (!me.done) {
		if (g->busy || !g->queue) {
			pthread_cond_wait(&g->cond, &sp_group_lock);
			continue;
		}
		/* Read each next before done: a waiter may return at once. */
		for (struct sp_grouped *it = sp_group_run(g, c, u), *next; it;
		     it = next) {
			next = it->next;
			it->done = 1;
		}
	}
	sp_group_put(g);
	pthread_mutex_unlock(&sp_group_lock);
	return me.r;
}
