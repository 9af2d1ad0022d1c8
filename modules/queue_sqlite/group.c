/* Group commit. Each durable commit costs one fsync of the WAL, and a
 * disk does a few hundred of those a second, while a busy worker's pool
 * threads enqueue and record results at once; so concurrent changes of
 * one process share one transaction. The first to arrive leads: once it
 * holds the write lock it takes every change queued so far, runs each in
 * a savepoint (one change that fails rolls back alone), commits once and
 * wakes the others; changes queued meanwhile form the next group. Nobody
 * waits for a group to fill: under no load a group is one change. */
#include <pthread.h>

#include "queue_sqlite.h"

struct qs_grouped {
	struct qs_grouped *next;
	qs_group_fn fn;
	void *arg;
	struct ps_error *err;
	int r;
	int done;
};

static pthread_mutex_t qs_group_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t qs_group_cond = PTHREAD_COND_INITIALIZER;
static int qs_group_busy; /* a leader is committing */
static struct qs_grouped *qs_group_queue, **qs_group_tail = &qs_group_queue;

/* One change inside the group's transaction, in a savepoint of its own. */
static int
qs_group_one(sqlite3 *db, struct qs_grouped *it)
{
	struct ps_error scratch;
	int r = qs_exec(db, it->err, "SAVEPOINT grouped", "");

	if (r >= 0)
		r = it->fn(it->arg, db, it->err);
	if (r < 0)
		qs_exec(db, &scratch, "ROLLBACK TO grouped", "");
	qs_exec(db, &scratch, "RELEASE grouped", "");
	return r < 0 ? r : 0;
}

/* The leader's part, called and returning with the lock held: begin the
 * transaction (perhaps waiting for another process to commit), take
 * everything queued by then, run it and commit. */
static struct qs_grouped *
qs_group_run(void)
{
	struct qs_grouped *batch;
	struct ps_error err;
	sqlite3 *db;
	int any = 0, r;

	qs_group_busy = 1;
	pthread_mutex_unlock(&qs_group_lock);
	r = qs_write_begin(&db, 1, &err);
	pthread_mutex_lock(&qs_group_lock);
	batch = qs_group_queue;
	qs_group_queue = NULL;
	qs_group_tail = &qs_group_queue;
	pthread_mutex_unlock(&qs_group_lock);
	for (struct qs_grouped *it = batch; r == 0 && it; it = it->next) {
		it->r = qs_group_one(db, it);
		any |= it->r == 0;
	}
	if (r == 0) {
		/* Nothing succeeded: roll back, each keeps its own error. */
		int c = qs_write_end(db, 1, any ? 0 : PS_EFAIL, &err);

		if (any)
			r = c;
	}
	for (struct qs_grouped *it = batch; r < 0 && it; it = it->next)
		if (it->r == 0) {
			it->r = r;
			*it->err = err;
		}
	pthread_mutex_lock(&qs_group_lock);
	qs_group_busy = 0;
	return batch;
}

int
qs_group_commit(qs_group_fn fn, void *arg, struct ps_error *err)
{
	struct qs_grouped me = { .fn = fn, .arg = arg, .err = err };

	pthread_mutex_lock(&qs_group_lock);
	*qs_group_tail = &me;
	qs_group_tail = &me.next;
	while (!me.done) {
		if (qs_group_busy) {
			pthread_cond_wait(&qs_group_cond, &qs_group_lock);
			continue;
		}
		/* Read each next before done: a waiter may return at once. */
		for (struct qs_grouped *it = qs_group_run(), *next; it;
		     it = next) {
			next = it->next;
			it->done = 1;
		}
		pthread_cond_broadcast(&qs_group_cond);
	}
	pthread_mutex_unlock(&qs_group_lock);
	return me.r;
}
