/* Unit tests for core/loop.c: timer order and cancellation (also from
 * callbacks, and 10,000 random timers), deferred calls, fd readiness and
 * unwatching during dispatch, and the thread pool's completions. */
#include "config.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "loop.h"

/* Turns a test may take before it is considered hung. */
#define MAX_TURNS 10000

static struct ps_loop *
loop_new(unsigned nthreads)
{
	struct ps_error err;
	struct ps_loop *l = ps_loop_new(nthreads, &err);

	assert_non_null(l);
	return l;
}

/* Turn until cond(arg) holds; fails the test rather than hang. */
static void
turn_until(struct ps_loop *l, int (*cond)(struct ps_loop *, void *),
	   void *arg)
{
	int i;

	for (i = 0; i < MAX_TURNS && !cond(l, arg); i++)
		assert_int_equal(ps_loop_once(l, 100), 0);
	assert_true(cond(l, arg));
}

static int
no_timers(struct ps_loop *l, void *arg)
{
	return ps_loop_timers(l) == 0;
}

static int
no_jobs(struct ps_loop *l, void *arg)
{
	return ps_loop_jobs(l) == 0;
}

/* ---- Timers ---------------------------------------------------------- */

/* What timer callbacks record: the ids in firing order. */
struct order {
	struct ps_loop *loop;
	int ids[64];
	size_t n;
	struct ps_timer *victim;
};

struct tick {
	struct order *o;
	int id;
};

static void
record(void *arg)
{
	struct tick *t = arg;

	t->o->ids[t->o->n++] = t->id;
}

static void
test_timer_order(void **state)
{
	struct ps_loop *l = loop_new(0);
	struct order o = { .loop = l };
	static const uint64_t ms[] = { 30, 10, 20, 0, 10, 5 };
	static const int want[] = { 3, 5, 1, 4, 2, 0 };
	struct tick t[6];
	uint64_t start = ps_loop_now(l);
	size_t i;

	for (i = 0; i < 6; i++) {
		t[i] = (struct tick){ &o, (int)i };
		assert_non_null(ps_loop_timer(l, ms[i], record, &t[i]));
	}
	assert_int_equal(ps_loop_timers(l), 6);
	turn_until(l, no_timers, NULL);
	assert_int_equal(o.n, 6);
	assert_memory_equal(o.ids, want, sizeof(want));
	assert_true(ps_loop_now(l) >= start + 30);
	ps_loop_free(l);
}

static void
cancel_victim(void *arg)
{
	struct tick *t = arg;

	record(arg);
	ps_loop_timer_cancel(t->o->loop, t->o->victim);
	t->o->victim = NULL;
}

static void
test_timer_cancel(void **state)
{
	struct ps_loop *l = loop_new(0);
	struct order o = { .loop = l };
	struct tick t[4] = { { &o, 0 }, { &o, 1 }, { &o, 2 }, { &o, 3 } };
	struct ps_timer *b;

	/* 0 cancels 1, due in the same turn; 2 is cancelled up front. */
	assert_non_null(ps_loop_timer(l, 0, cancel_victim, &t[0]));
	o.victim = ps_loop_timer(l, 0, record, &t[1]);
	b = ps_loop_timer(l, 1, record, &t[2]);
	assert_non_null(ps_loop_timer(l, 2, record, &t[3]));
	ps_loop_timer_cancel(l, b);
	ps_loop_timer_cancel(l, NULL);
	assert_int_equal(ps_loop_timers(l), 3);
	turn_until(l, no_timers, NULL);
	assert_int_equal(o.n, 2);
	assert_int_equal(o.ids[0], 0);
	assert_int_equal(o.ids[1], 3);
	ps_loop_free(l);
}

/* A later timer cancelled from an earlier one's callback never fires. */
static void
test_timer_cancel_later(void **state)
{
	struct ps_loop *l = loop_new(0);
	struct order o = { .loop = l };
	struct tick t[2] = { { &o, 0 }, { &o, 1 } };

	o.victim = ps_loop_timer(l, 20, record, &t[1]);
	assert_non_null(ps_loop_timer(l, 1, cancel_victim, &t[0]));
	turn_until(l, no_timers, NULL);
	assert_int_equal(o.n, 1);
	assert_int_equal(o.ids[0], 0);
	ps_loop_free(l);
}

struct rearm {
	struct ps_loop *loop;
	int left;
	int fired;
};

static void
rearm(void *arg)
{
	struct rearm *r = arg;

	r->fired++;
	if (--r->left > 0)
		assert_non_null(ps_loop_timer(r->loop, 0, rearm, r));
}

/* A 0 ms timer re-armed from its callback waits for the next turn. */
static void
test_timer_add_from_callback(void **state)
{
	struct ps_loop *l = loop_new(0);
	struct rearm r = { l, 5, 0 };
	int turns;

	assert_non_null(ps_loop_timer(l, 0, rearm, &r));
	for (turns = 0; r.fired < 5; turns++) {
		assert_int_equal(ps_loop_once(l, -1), 0);
		assert_int_equal(r.fired, turns + 1);
	}
	assert_int_equal(ps_loop_timers(l), 0);
	ps_loop_free(l);
}

#define NRANDOM 10000

struct rtimer {
	struct ps_timer *t;
	uint64_t ms;
	int cancelled;
	int fired;
};

struct rstate {
	struct rtimer *v;
	size_t last; /* index of the last one fired, NRANDOM: none yet */
	size_t nfired;
};

static struct rstate rs;

/* Fire order must be by deadline, ties by the order added. */
static void
rfire(void *arg)
{
	struct rtimer *t = arg;
	size_t i = (size_t)(t - rs.v);

	assert_false(t->cancelled);
	assert_false(t->fired);
	if (rs.last != NRANDOM) {
		struct rtimer *p = &rs.v[rs.last];

		assert_true(p->ms < t->ms || (p->ms == t->ms && rs.last < i));
	}
	t->fired = 1;
	rs.last = i;
	rs.nfired++;
}

static void
test_timer_heap_random(void **state)
{
	struct ps_loop *l = loop_new(0);
	size_t i, live = 0;

	rs.v = calloc(NRANDOM, sizeof(*rs.v));
	assert_non_null(rs.v);
	rs.last = NRANDOM;
	rs.nfired = 0;
	srand(42);
	for (i = 0; i < NRANDOM; i++) {
		rs.v[i].ms = (uint64_t)(rand() % 40);
		rs.v[i].t = ps_loop_timer(l, rs.v[i].ms, rfire, &rs.v[i]);
		assert_non_null(rs.v[i].t);
	}
	/* Cancel a random third, from all over the heap. */
	for (i = 0; i < NRANDOM; i++) {
		if (rand() % 3 == 0) {
			ps_loop_timer_cancel(l, rs.v[i].t);
			rs.v[i].cancelled = 1;
		} else {
			live++;
		}
	}
	assert_int_equal(ps_loop_timers(l), live);
	turn_until(l, no_timers, NULL);
	assert_int_equal(rs.nfired, live);
	free(rs.v);
	ps_loop_free(l);
}

/* ---- Deferred calls -------------------------------------------------- */

struct deferred {
	struct ps_loop *loop;
	char log[256];
	size_t n;
	int again; /* times "self" re-queues itself */
};

static struct deferred dq;

static void
put_a(void *arg)
{
	dq.log[dq.n++] = 'a';
}

static void
put_b(void *arg)
{
	dq.log[dq.n++] = 'b';
	assert_int_equal(ps_loop_defer(dq.loop, put_a, NULL), 0);
}

static void
test_defer_order(void **state)
{
	struct ps_loop *l = loop_new(0);

	memset(&dq, 0, sizeof(dq));
	dq.loop = l;
	assert_int_equal(ps_loop_defer(l, put_a, NULL), 0);
	assert_int_equal(ps_loop_defer(l, put_b, NULL), 0);
	assert_int_equal(ps_loop_defer(l, put_a, NULL), 0);
	/* Pending calls keep the turn from sleeping. */
	assert_int_equal(ps_loop_once(l, -1), 0);
	assert_string_equal(dq.log, "aba");
	assert_int_equal(ps_loop_once(l, -1), 0);
	assert_string_equal(dq.log, "abaa");
	ps_loop_free(l);
}

static void
self(void *arg)
{
	dq.log[dq.n++] = 's';
	if (dq.again-- > 0)
		assert_int_equal(ps_loop_defer(dq.loop, self, NULL), 0);
}

/* A call that re-queues itself runs once per turn: I/O gets its turn. */
static void
test_defer_self_bounded(void **state)
{
	struct ps_loop *l = loop_new(0);
	int i;

	memset(&dq, 0, sizeof(dq));
	dq.loop = l;
	dq.again = 3;
	assert_int_equal(ps_loop_defer(l, self, NULL), 0);
	for (i = 1; i <= 4; i++) {
		assert_int_equal(ps_loop_once(l, -1), 0);
		assert_int_equal(dq.n, (size_t)i);
	}
	assert_int_equal(ps_loop_once(l, 0), 0);
	assert_string_equal(dq.log, "ssss");
	ps_loop_free(l);
}

/* Enough calls to wrap the ring, then grow it while wrapped; FIFO order
 * survives both. */
static void
test_defer_many(void **state)
{
	struct ps_loop *l = loop_new(0);
	int i;

	memset(&dq, 0, sizeof(dq));
	dq.loop = l;
	for (i = 0; i < 40; i++)
		assert_int_equal(ps_loop_defer(l, put_a, NULL), 0);
	assert_int_equal(ps_loop_once(l, 0), 0);
	dq.n = 0;
	for (i = 0; i < 200; i++)
		assert_int_equal(ps_loop_defer(l, i % 3 ? put_a : self, NULL),
				 0);
	assert_int_equal(ps_loop_once(l, 0), 0);
	assert_int_equal(dq.n, 200);
	for (i = 0; i < 200; i++)
		assert_int_equal(dq.log[i], i % 3 ? 'a' : 's');
	ps_loop_free(l);
}

/* ---- File descriptors ------------------------------------------------ */

struct io {
	struct ps_loop *loop;
	int calls;
	unsigned events;
	int fds[2];   /* two watched fds, each callback acts on the other */
	int fresh_calls;
	int spare[2]; /* an idle pipe to dup into a freed fd number */
};

static int
other_fd(const struct io *io, int fd)
{
	return fd == io->fds[0] ? io->fds[1] : io->fds[0];
}

static void
on_io(struct ps_loop *l, int fd, unsigned events, void *arg)
{
	struct io *io = arg;

	io->calls++;
	io->events = events;
}

static void
test_io_pipe(void **state)
{
	struct ps_loop *l = loop_new(0);
	struct io rd = { .loop = l }, wr = { .loop = l };
	uint64_t before;
	int p[2];
	char c;

	assert_int_equal(pipe2(p, O_NONBLOCK), 0);
	assert_int_equal(ps_loop_watch(l, p[0], PS_EV_READ, on_io, &rd), 0);
	assert_int_equal(ps_loop_watch(l, p[1], PS_EV_WRITE, on_io, &wr), 0);
	assert_int_equal(ps_loop_once(l, 0), 0);
	assert_int_equal(rd.calls, 0);
	assert_int_equal(wr.calls, 1);
	assert_int_equal(wr.events, PS_EV_WRITE);
	/* Silent but registered: no call even though writable. */
	assert_int_equal(ps_loop_watch(l, p[1], 0, on_io, &wr), 0);
	assert_int_equal(write(p[1], "x", 1), 1);
	assert_int_equal(ps_loop_once(l, 1000), 0);
	assert_int_equal(rd.calls, 1);
	assert_int_equal(rd.events, PS_EV_READ);
	assert_int_equal(wr.calls, 1);
	assert_int_equal(read(p[0], &c, 1), 1);
	/* Hang-up comes as ERROR with READ. */
	ps_loop_unwatch(l, p[1]);
	close(p[1]);
	assert_int_equal(ps_loop_once(l, 1000), 0);
	assert_int_equal(rd.calls, 2);
	assert_int_equal(rd.events, PS_EV_READ | PS_EV_ERROR);
	/* A silent fd is not woken even by the hang-up: the turn sleeps. */
	assert_int_equal(ps_loop_watch(l, p[0], 0, on_io, &rd), 0);
	before = ps_loop_now(l);
	assert_int_equal(ps_loop_once(l, 30), 0);
	assert_true(ps_loop_now(l) >= before + 30);
	assert_int_equal(rd.calls, 2);
	ps_loop_unwatch(l, p[0]);
	ps_loop_unwatch(l, p[0]);
	close(p[0]);
	ps_loop_free(l);
}

static void
on_fresh(struct ps_loop *l, int fd, unsigned events, void *arg)
{
	struct io *io = arg;

	io->fresh_calls++;
}

/* Whichever fires first unwatches and closes the other, then watches a
 * new file that got the same fd number. The other's event, fetched in the
 * same batch, must reach neither the old nor the new watcher. */
static void
on_io_close_other(struct ps_loop *l, int fd, unsigned events, void *arg)
{
	struct io *io = arg;
	int other = other_fd(io, fd);
	char c;

	io->calls++;
	assert_int_equal(read(fd, &c, 1), 1);
	ps_loop_unwatch(l, other);
	close(other);
	assert_int_equal(dup2(io->spare[0], other), other);
	assert_int_equal(ps_loop_watch(l, other, PS_EV_READ, on_fresh, io),
			 0);
}

static void
test_unwatch_in_dispatch(void **state)
{
	struct ps_loop *l = loop_new(0);
	struct io io = { .loop = l };
	int a[2], b[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, a), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, b), 0);
	assert_int_equal(pipe(io.spare), 0);
	assert_int_equal(write(a[1], "x", 1), 1);
	assert_int_equal(write(b[1], "y", 1), 1);
	io.fds[0] = a[0];
	io.fds[1] = b[0];
	assert_int_equal(ps_loop_watch(l, a[0], PS_EV_READ, on_io_close_other,
				       &io), 0);
	assert_int_equal(ps_loop_watch(l, b[0], PS_EV_READ, on_io_close_other,
				       &io), 0);
	assert_int_equal(ps_loop_once(l, 1000), 0);
	assert_int_equal(io.calls, 1);
	assert_int_equal(io.fresh_calls, 0);
	/* The new file behind the old number works normally. */
	assert_int_equal(write(io.spare[1], "z", 1), 1);
	assert_int_equal(ps_loop_once(l, 1000), 0);
	assert_int_equal(io.fresh_calls, 1);
	ps_loop_unwatch(l, a[0]);
	ps_loop_unwatch(l, b[0]);
	close(a[0]);
	close(b[0]);
	close(a[1]);
	close(b[1]);
	close(io.spare[0]);
	close(io.spare[1]);
	ps_loop_free(l);
}

/* Narrowing another fd's mask in the same batch drops its stale event. */
static void
on_io_mute_other(struct ps_loop *l, int fd, unsigned events, void *arg)
{
	struct io *io = arg;

	io->calls++;
	assert_int_equal(ps_loop_watch(l, other_fd(io, fd), PS_EV_WRITE,
				       on_io_mute_other, io), 0);
}

static void
test_mask_in_dispatch(void **state)
{
	struct ps_loop *l = loop_new(0);
	struct io io = { .loop = l };
	int a[2], b[2];

	assert_int_equal(pipe(a), 0);
	assert_int_equal(pipe(b), 0);
	assert_int_equal(write(a[1], "x", 1), 1);
	assert_int_equal(write(b[1], "y", 1), 1);
	io.fds[0] = a[0];
	io.fds[1] = b[0];
	assert_int_equal(ps_loop_watch(l, a[0], PS_EV_READ, on_io_mute_other,
				       &io), 0);
	assert_int_equal(ps_loop_watch(l, b[0], PS_EV_READ, on_io_mute_other,
				       &io), 0);
	assert_int_equal(ps_loop_once(l, 1000), 0);
	assert_int_equal(io.calls, 1);
	ps_loop_unwatch(l, a[0]);
	ps_loop_unwatch(l, b[0]);
	close(a[0]);
	close(a[1]);
	close(b[0]);
	close(b[1]);
	ps_loop_free(l);
}

static void
test_watch_errors(void **state)
{
	struct ps_loop *l = loop_new(0);
	struct io io = { .loop = l };
	char path[] = "/tmp/test_loop.XXXXXX";
	int fd, big, p[2];

	assert_int_equal(ps_loop_watch(l, -1, PS_EV_READ, on_io, &io),
			 PS_EINVAL);
	assert_int_equal(ps_loop_watch(l, 0, PS_EV_READ, NULL, &io),
			 PS_EINVAL);
	/* Regular files cannot be polled: epoll_ctl says EPERM. */
	fd = mkstemp(path);
	assert_true(fd >= 0);
	unlink(path);
	assert_int_equal(ps_loop_watch(l, fd, PS_EV_READ, on_io, &io),
			 PS_EIO);
	ps_loop_unwatch(l, fd);
	close(fd);
	ps_loop_unwatch(l, 100000);
	/* A large fd number grows the table. */
	assert_int_equal(pipe(p), 0);
	big = dup2(p[1], 900);
	assert_int_equal(big, 900);
	assert_int_equal(ps_loop_watch(l, big, PS_EV_WRITE, on_io, &io), 0);
	assert_int_equal(ps_loop_once(l, 1000), 0);
	assert_int_equal(io.calls, 1);
	ps_loop_unwatch(l, big);
	close(big);
	close(p[0]);
	close(p[1]);
	ps_loop_free(l);
}

static void
stop_loop(void *arg)
{
	ps_loop_stop(arg);
}

static void
test_run_stop(void **state)
{
	struct ps_loop *l = loop_new(0);
	uint64_t start = ps_loop_now(l);

	assert_non_null(ps_loop_timer(l, 15, stop_loop, l));
	assert_int_equal(ps_loop_run(l), 0);
	assert_true(ps_loop_now(l) >= start + 15);
	ps_loop_free(l);
}

/* ---- Thread pool ----------------------------------------------------- */

#define NJOBS 1000

struct pool {
	pthread_t loop_thread;
	atomic_int started;
	atomic_int finished;
	atomic_int off_loop; /* works that ran on a pool thread */
	int done[NJOBS];
	int ndone;
	int slow;
};

static struct pool pl;

static void
job_work(void *arg)
{
	atomic_fetch_add(&pl.started, 1);
	if (!pthread_equal(pthread_self(), pl.loop_thread))
		atomic_fetch_add(&pl.off_loop, 1);
	if (pl.slow)
		usleep(1000);
	atomic_fetch_add(&pl.finished, 1);
}

static void
job_done(void *arg)
{
	int *slot = arg;

	assert_true(pthread_equal(pthread_self(), pl.loop_thread));
	(*slot)++;
	pl.ndone++;
}

static void
pool_reset(void)
{
	memset(&pl, 0, sizeof(pl));
	pl.loop_thread = pthread_self();
}

static void
test_pool(void **state)
{
	struct ps_loop *l = loop_new(4);
	int i;

	pool_reset();
	for (i = 0; i < NJOBS; i++)
		assert_int_equal(ps_loop_submit(l, job_work, job_done,
						&pl.done[i]), 0);
	assert_true(ps_loop_jobs(l) > 0);
	turn_until(l, no_jobs, NULL);
	assert_int_equal(pl.ndone, NJOBS);
	assert_int_equal(pl.off_loop, NJOBS);
	for (i = 0; i < NJOBS; i++)
		assert_int_equal(pl.done[i], 1);
	assert_int_equal(ps_loop_submit(l, NULL, job_done, NULL), PS_EINVAL);
	ps_loop_free(l);
}

static void
test_pool_inline(void **state)
{
	struct ps_loop *l = loop_new(0);

	pool_reset();
	assert_int_equal(ps_loop_submit(l, job_work, job_done, &pl.done[0]),
			 0);
	assert_int_equal(ps_loop_submit(l, job_work, NULL, NULL), 0);
	/* work ran inline, done waits for the loop. */
	assert_int_equal(pl.finished, 2);
	assert_int_equal(pl.ndone, 0);
	assert_int_equal(ps_loop_jobs(l), 2);
	assert_int_equal(ps_loop_once(l, 1000), 0);
	assert_int_equal(pl.ndone, 1);
	assert_int_equal(pl.done[0], 1);
	assert_int_equal(ps_loop_jobs(l), 0);
	ps_loop_free(l);
}

/* Freeing with jobs queued and running: no done runs, nothing leaks, and
 * every work that started has finished. */
static void
test_pool_free_in_flight(void **state)
{
	struct ps_loop *l = loop_new(4);
	int i;

	pool_reset();
	pl.slow = 1;
	for (i = 0; i < 200; i++)
		assert_int_equal(ps_loop_submit(l, job_work, job_done,
						&pl.done[i]), 0);
	usleep(2000);
	ps_loop_free(l);
	assert_int_equal(pl.ndone, 0);
	assert_int_equal(pl.started, pl.finished);
	assert_true(pl.finished < 200);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_timer_order),
		cmocka_unit_test(test_timer_cancel),
		cmocka_unit_test(test_timer_cancel_later),
		cmocka_unit_test(test_timer_add_from_callback),
		cmocka_unit_test(test_timer_heap_random),
		cmocka_unit_test(test_defer_order),
		cmocka_unit_test(test_defer_self_bounded),
		cmocka_unit_test(test_defer_many),
		cmocka_unit_test(test_io_pipe),
		cmocka_unit_test(test_unwatch_in_dispatch),
		cmocka_unit_test(test_mask_in_dispatch),
		cmocka_unit_test(test_watch_errors),
		cmocka_unit_test(test_run_stop),
		cmocka_unit_test(test_pool),
		cmocka_unit_test(test_pool_inline),
		cmocka_unit_test(test_pool_free_in_flight),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
