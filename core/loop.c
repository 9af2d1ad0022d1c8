/* The worker's event loop: level-triggered epoll over a per-fd table, a
 * binary min-heap of one-shot timers, a FIFO of deferred calls, and a
 * thread pool whose completions come back through an eventfd. One turn:
 * wait, dispatch I/O, fire due timers, run the deferred calls. */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "loop.h"

#define LOOP_MAX_EVENTS 128
#define LOOP_MIN_FDS 64
#define LOOP_MIN_SLOTS 64
/* Longest single sleep; a farther timer just costs one more wake-up. */
#define LOOP_MAX_WAIT_MS 3600000

/* A registered fd (fn != NULL). It is in epoll exactly when events != 0.
 * gen changes on unwatch and travels in each epoll event, so an event
 * fetched in the same batch as the unwatch (and perhaps a new watch of the
 * reused fd number) is recognised as stale and dropped. */
struct loop_watch {
	ps_io_fn *fn;
	void *arg;
	unsigned events;
	uint32_t gen;
};

struct ps_timer {
	uint64_t deadline; /* CLOCK_MONOTONIC ms */
	uint64_t seq;      /* equal deadlines fire in the order added */
	size_t idx;        /* slot in the heap, for O(log n) cancel */
	ps_loop_fn *fn;
	void *arg;
};

struct loop_call {
	ps_loop_fn *fn;
	void *arg;
};

struct loop_job {
	ps_loop_fn *work;
	ps_loop_fn *done;
	void *arg;
	struct loop_job *next;
};

struct loop_jobq {
	struct loop_job *head;
	struct loop_job *tail;
};

struct ps_loop {
	int epfd;
	int stop;
	uint64_t now;
	struct loop_watch *watch; /* indexed by fd */
	size_t nwatch;
	struct ps_timer **heap;
	size_t nheap;
	size_t heapcap;
	uint64_t timer_seq;
	struct loop_call *calls; /* ring of deferred calls */
	size_t call_head;
	size_t ncalls;
	size_t callcap;
	size_t njobs; /* submitted, done not yet run; loop thread only */
	int efd;      /* pool threads signal finished jobs here */
	pthread_t *threads;
	unsigned nthreads;
	pthread_mutex_t mu; /* guards waiting, done and quit */
	pthread_cond_t cv;
	struct loop_jobq waiting;
	struct loop_jobq done;
	int quit;
	struct epoll_event events[LOOP_MAX_EVENTS];
};

static uint64_t
clock_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- File descriptors ------------------------------------------------ */

static int
watch_grow(struct ps_loop *l, int fd)
{
	size_t n = l->nwatch ? l->nwatch : LOOP_MIN_FDS;
	struct loop_watch *w;

	if ((size_t)fd < l->nwatch)
		return 0;
	while (n <= (size_t)fd)
		n *= 2;
	w = realloc(l->watch, n * sizeof(*w));
	if (!w)
		return PS_ENOMEM;
	memset(w + l->nwatch, 0, (n - l->nwatch) * sizeof(*w));
	l->watch = w;
	l->nwatch = n;
	return 0;
}

/* Bring epoll from mask old to mask events. A mask of 0 takes the fd out
 * of epoll altogether: EPOLLHUP and EPOLLERR cannot be masked, and would
 * wake a level-triggered loop forever for an fd meant to be silent. */
static int
watch_ctl(struct ps_loop *l, int fd, unsigned old, unsigned events,
	  uint32_t gen)
{
	struct epoll_event ev = { 0 };
	int op = old ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;

	if (!events)
		op = EPOLL_CTL_DEL;
	if (!events && !old)
		return 0;
	ev.events = (events & PS_EV_READ ? EPOLLIN : 0) |
		    (events & PS_EV_WRITE ? EPOLLOUT : 0);
	ev.data.u64 = (uint64_t)gen << 32 | (uint32_t)fd;
	/* epoll takes EPOLLEXCLUSIVE only when an fd is added. */
	if (events & PS_EV_EXCLUSIVE) {
		ev.events |= EPOLLEXCLUSIVE;
		if (old)
			epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
		op = EPOLL_CTL_ADD;
	}
	if (epoll_ctl(l->epfd, op, fd, &ev) == 0)
		return 0;
	/* Closing a watched fd removes it from epoll behind our back; if its
	 * number was reused, register the new file afresh. */
	if (op == EPOLL_CTL_MOD && errno == ENOENT &&
	    epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) == 0)
		return 0;
	return PS_EIO;
}

int
ps_loop_watch(struct ps_loop *l, int fd, unsigned events, ps_io_fn *fn,
	      void *arg)
{
	struct loop_watch *w;

	if (fd < 0 || !fn)
		return PS_EINVAL;
	if (watch_grow(l, fd) < 0)
		return PS_ENOMEM;
	w = &l->watch[fd];
	events &= PS_EV_READ | PS_EV_WRITE | PS_EV_EXCLUSIVE;
	if (events == PS_EV_EXCLUSIVE)
		events = 0;
	if (watch_ctl(l, fd, w->fn ? w->events : 0, events, w->gen) < 0)
		return PS_EIO;
	w->fn = fn;
	w->arg = arg;
	w->events = events;
	return 0;
}

void
ps_loop_unwatch(struct ps_loop *l, int fd)
{
	struct loop_watch *w;

	if (fd < 0 || (size_t)fd >= l->nwatch || !l->watch[fd].fn)
		return;
	w = &l->watch[fd];
	/* Failure means the fd was closed first, which removed it already. */
	if (w->events)
		epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
	w->fn = NULL;
	w->arg = NULL;
	w->events = 0;
	w->gen++;
}

static unsigned
from_epoll(uint32_t e)
{
	unsigned ev = 0;

	if (e & EPOLLIN)
		ev |= PS_EV_READ;
	if (e & EPOLLOUT)
		ev |= PS_EV_WRITE;
	/* READ comes along so that the reader meets the EOF or the error. */
	if (e & (EPOLLERR | EPOLLHUP))
		ev |= PS_EV_ERROR | PS_EV_READ;
	return ev;
}

/* Earlier callbacks of the same batch may have unwatched this fd, reused
 * its number or narrowed its mask: deliver only what is still wanted. */
static void
loop_dispatch(struct ps_loop *l, const struct epoll_event *e)
{
	int fd = (int)(uint32_t)e->data.u64;
	uint32_t gen = (uint32_t)(e->data.u64 >> 32);
	struct loop_watch *w;
	unsigned ev, keep;

	if ((size_t)fd >= l->nwatch)
		return;
	w = &l->watch[fd];
	if (!w->fn || w->gen != gen || !w->events)
		return;
	ev = from_epoll(e->events);
	keep = w->events;
	if (ev & PS_EV_ERROR)
		keep |= PS_EV_ERROR | PS_EV_READ;
	ev &= keep;
	if (ev)
		w->fn(l, fd, ev, w->arg);
}

/* ---- Timers: a binary min-heap on (deadline, seq) -------------------- */

static int
timer_before(const struct ps_timer *a, const struct ps_timer *b)
{
	if (a->deadline != b->deadline)
		return a->deadline < b->deadline;
	return a->seq < b->seq;
}

static void
heap_set(struct ps_loop *l, size_t i, struct ps_timer *t)
{
	l->heap[i] = t;
	t->idx = i;
}

static void
heap_up(struct ps_loop *l, size_t i)
{
	struct ps_timer *t = l->heap[i];

	while (i > 0) {
		size_t parent = (i - 1) / 2;

		if (!timer_before(t, l->heap[parent]))
			break;
		heap_set(l, i, l->heap[parent]);
		i = parent;
	}
	heap_set(l, i, t);
}

static void
heap_down(struct ps_loop *l, size_t i)
{
	struct ps_timer *t = l->heap[i];

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= l->nheap)
			break;
		if (c + 1 < l->nheap &&
		    timer_before(l->heap[c + 1], l->heap[c]))
			c++;
		if (!timer_before(l->heap[c], t))
			break;
		heap_set(l, i, l->heap[c]);
		i = c;
	}
	heap_set(l, i, t);
}

static void
heap_remove(struct ps_loop *l, struct ps_timer *t)
{
	struct ps_timer *last = l->heap[--l->nheap];

	if (last == t)
		return;
	heap_set(l, t->idx, last);
	/* The moved timer may belong above or below its new slot. */
	heap_up(l, last->idx);
	heap_down(l, last->idx);
}

static int
heap_grow(struct ps_loop *l)
{
	size_t cap = l->heapcap ? l->heapcap * 2 : LOOP_MIN_SLOTS;
	struct ps_timer **h = realloc(l->heap, cap * sizeof(*h));

	if (!h)
		return PS_ENOMEM;
	l->heap = h;
	l->heapcap = cap;
	return 0;
}

struct ps_timer *
ps_loop_timer(struct ps_loop *l, uint64_t ms, ps_loop_fn *fn, void *arg)
{
	struct ps_timer *t;

	if (l->nheap == l->heapcap && heap_grow(l) < 0)
		return NULL;
	t = malloc(sizeof(*t));
	if (!t)
		return NULL;
	t->deadline = ms > UINT64_MAX - l->now ? UINT64_MAX : l->now + ms;
	t->seq = l->timer_seq++;
	t->fn = fn;
	t->arg = arg;
	l->heap[l->nheap++] = t;
	heap_up(l, l->nheap - 1);
	return t;
}

void
ps_loop_timer_cancel(struct ps_loop *l, struct ps_timer *t)
{
	if (!t)
		return;
	heap_remove(l, t);
	free(t);
}

/* Timers added by these callbacks wait for the next turn, so a timer that
 * re-arms itself at 0 ms cannot keep this loop from returning. They sort
 * after every due timer that was already there, so stopping at the first
 * one skips nothing. */
static void
loop_timers(struct ps_loop *l)
{
	uint64_t first_new = l->timer_seq;

	while (l->nheap) {
		struct ps_timer *t = l->heap[0];
		ps_loop_fn *fn = t->fn;
		void *arg = t->arg;

		if (t->deadline > l->now || t->seq >= first_new)
			break;
		heap_remove(l, t);
		free(t);
		fn(arg);
	}
}

/* ---- Deferred calls: a FIFO ring ------------------------------------- */

static int
calls_grow(struct ps_loop *l)
{
	size_t cap = l->callcap ? l->callcap * 2 : LOOP_MIN_SLOTS;
	struct loop_call *c = malloc(cap * sizeof(*c));
	size_t i;

	if (!c)
		return PS_ENOMEM;
	for (i = 0; i < l->ncalls; i++)
		c[i] = l->calls[(l->call_head + i) % l->callcap];
	free(l->calls);
	l->calls = c;
	l->callcap = cap;
	l->call_head = 0;
	return 0;
}

int
ps_loop_defer(struct ps_loop *l, ps_loop_fn *fn, void *arg)
{
	struct loop_call *c;

	if (l->ncalls == l->callcap && calls_grow(l) < 0)
		return PS_ENOMEM;
	c = &l->calls[(l->call_head + l->ncalls) % l->callcap];
	c->fn = fn;
	c->arg = arg;
	l->ncalls++;
	return 0;
}

/* Only the calls queued when this starts run now. Calls they queue wait
 * for the next turn, which polls without sleeping, so a call that keeps
 * re-queueing itself cannot starve I/O and timers. */
static void
loop_deferred(struct ps_loop *l)
{
	size_t n = l->ncalls;

	while (n--) {
		struct loop_call c = l->calls[l->call_head];

		l->call_head = (l->call_head + 1) % l->callcap;
		l->ncalls--;
		c.fn(c.arg);
	}
}

/* ---- Thread pool ----------------------------------------------------- */

static void
jobq_push(struct loop_jobq *q, struct loop_job *j)
{
	j->next = NULL;
	if (q->tail)
		q->tail->next = j;
	else
		q->head = j;
	q->tail = j;
}

/* Detach the whole queue and return its first job. */
static struct loop_job *
jobq_take(struct loop_jobq *q)
{
	struct loop_job *j = q->head;

	q->head = NULL;
	q->tail = NULL;
	return j;
}

static void
jobs_free(struct loop_job *j)
{
	while (j) {
		struct loop_job *next = j->next;

		free(j);
		j = next;
	}
}

static void
pool_kick(struct ps_loop *l)
{
	uint64_t one = 1;

	/* Only a counter at 2^64-2 makes this fail, and then the eventfd is
	 * readable anyway. */
	while (write(l->efd, &one, sizeof(one)) < 0 && errno == EINTR)
		continue;
}

/* Hand a finished job to the loop. One wake-up per batch is enough: the
 * loop takes the whole done list at once. */
static void
pool_finish(struct ps_loop *l, struct loop_job *j)
{
	int was_empty;

	pthread_mutex_lock(&l->mu);
	was_empty = !l->done.head;
	jobq_push(&l->done, j);
	pthread_mutex_unlock(&l->mu);
	if (was_empty)
		pool_kick(l);
}

/* Block for the next job; NULL when the pool is stopping. */
static struct loop_job *
pool_take(struct ps_loop *l)
{
	struct loop_job *j = NULL;

	pthread_mutex_lock(&l->mu);
	while (!l->quit && !l->waiting.head)
		pthread_cond_wait(&l->cv, &l->mu);
	if (!l->quit) {
		j = l->waiting.head;
		l->waiting.head = j->next;
		if (!l->waiting.head)
			l->waiting.tail = NULL;
	}
	pthread_mutex_unlock(&l->mu);
	return j;
}

static void *
pool_main(void *p)
{
	struct ps_loop *l = p;
	struct loop_job *j;

	while ((j = pool_take(l))) {
		j->work(j->arg);
		pool_finish(l, j);
	}
	return NULL;
}

/* The eventfd is readable: run the done callbacks of finished jobs. The
 * eventfd is drained before the list is taken, so a job finished after
 * the take signals again and is not lost. */
static void
pool_ready(struct ps_loop *l, int fd, unsigned events, void *arg)
{
	uint64_t n;
	struct loop_job *j;

	while (read(fd, &n, sizeof(n)) < 0 && errno == EINTR)
		continue;
	pthread_mutex_lock(&l->mu);
	j = jobq_take(&l->done);
	pthread_mutex_unlock(&l->mu);
	while (j) {
		struct loop_job *next = j->next;
		ps_loop_fn *done = j->done;
		void *jarg = j->arg;

		free(j);
		l->njobs--;
		if (done)
			done(jarg);
		j = next;
	}
}

static int
pool_start(struct ps_loop *l, unsigned n, struct ps_error *err)
{
	sigset_t all, old;
	int rc = 0;

	if (!n)
		return 0;
	l->threads = calloc(n, sizeof(*l->threads));
	if (!l->threads)
		return ps_error_set(err, "thread pool: out of memory");
	/* Pool threads start with every signal blocked, so signals are
	 * delivered to the loop thread, which reads them from a signalfd or
	 * self-pipe, and never kill the process from a pool thread. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (; l->nthreads < n; l->nthreads++) {
		rc = pthread_create(&l->threads[l->nthreads], NULL, pool_main,
				    l);
		if (rc)
			break;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc)
		return ps_error_set(err, "thread pool: pthread_create: %s",
				    strerror(rc));
	return 0;
}

/* Jobs not started are dropped; running ones finish; no done runs. */
static void
pool_stop(struct ps_loop *l)
{
	struct loop_job *dropped;
	unsigned i;

	pthread_mutex_lock(&l->mu);
	l->quit = 1;
	dropped = jobq_take(&l->waiting);
	pthread_cond_broadcast(&l->cv);
	pthread_mutex_unlock(&l->mu);
	for (i = 0; i < l->nthreads; i++)
		pthread_join(l->threads[i], NULL);
	jobs_free(dropped);
	jobs_free(jobq_take(&l->done));
}

int
ps_loop_submit(struct ps_loop *l, ps_loop_fn *work, ps_loop_fn *done,
	       void *arg)
{
	struct loop_job *j;

	if (!work)
		return PS_EINVAL;
	j = malloc(sizeof(*j));
	if (!j)
		return PS_ENOMEM;
	j->work = work;
	j->done = done;
	j->arg = arg;
	l->njobs++;
	if (!l->nthreads) {
		/* Same path as a pool thread, so done still runs later, from
		 * the loop, never inside this call. */
		work(arg);
		pool_finish(l, j);
		return 0;
	}
	pthread_mutex_lock(&l->mu);
	jobq_push(&l->waiting, j);
	pthread_cond_signal(&l->cv);
	pthread_mutex_unlock(&l->mu);
	return 0;
}

/* ---- The loop -------------------------------------------------------- */

struct ps_loop *
ps_loop_new(unsigned nthreads, struct ps_error *err)
{
	struct ps_loop *l = calloc(1, sizeof(*l));

	if (!l) {
		ps_error_set(err, "event loop: out of memory");
		return NULL;
	}
	l->epfd = -1;
	l->efd = -1;
	pthread_mutex_init(&l->mu, NULL);
	pthread_cond_init(&l->cv, NULL);
	l->now = clock_ms();
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0) {
		ps_error_set(err, "epoll_create1: %s", strerror(errno));
		goto fail;
	}
	l->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (l->efd < 0) {
		ps_error_set(err, "eventfd: %s", strerror(errno));
		goto fail;
	}
	if (ps_loop_watch(l, l->efd, PS_EV_READ, pool_ready, NULL) < 0) {
		ps_error_set(err, "epoll_ctl: %s", strerror(errno));
		goto fail;
	}
	if (pool_start(l, nthreads, err) < 0)
		goto fail;
	return l;
fail:
	ps_loop_free(l);
	return NULL;
}

void
ps_loop_free(struct ps_loop *l)
{
	if (!l)
		return;
	pool_stop(l);
	while (l->nheap)
		free(l->heap[--l->nheap]);
	free(l->heap);
	free(l->calls);
	free(l->watch);
	free(l->threads);
	if (l->efd >= 0)
		close(l->efd);
	if (l->epfd >= 0)
		close(l->epfd);
	pthread_cond_destroy(&l->cv);
	pthread_mutex_destroy(&l->mu);
	free(l);
}

/* How long epoll may sleep: not at all with deferred calls pending, else
 * until the next timer is due, capped by max_ms (-1: no cap). */
static int
loop_timeout(struct ps_loop *l, int max_ms)
{
	uint64_t now, wait;

	if (l->ncalls)
		return 0;
	if (!l->nheap)
		return max_ms;
	now = clock_ms();
	if (l->heap[0]->deadline <= now)
		return 0;
	wait = l->heap[0]->deadline - now;
	if (max_ms >= 0 && wait > (uint64_t)max_ms)
		return max_ms;
	return wait > LOOP_MAX_WAIT_MS ? LOOP_MAX_WAIT_MS : (int)wait;
}

int
ps_loop_once(struct ps_loop *l, int max_ms)
{
	int i, n;

	n = epoll_wait(l->epfd, l->events, LOOP_MAX_EVENTS,
		       loop_timeout(l, max_ms));
	if (n < 0 && errno != EINTR)
		return PS_EIO;
	l->now = clock_ms();
	for (i = 0; i < n; i++)
		loop_dispatch(l, &l->events[i]);
	loop_timers(l);
	loop_deferred(l);
	return 0;
}

int
ps_loop_run(struct ps_loop *l)
{
	int rc = 0;

	while (!l->stop && rc == 0)
		rc = ps_loop_once(l, -1);
	l->stop = 0;
	return rc;
}

void
ps_loop_stop(struct ps_loop *l)
{
	l->stop = 1;
}

uint64_t
ps_loop_now(struct ps_loop *l)
{
	return l->now;
}

size_t
ps_loop_timers(struct ps_loop *l)
{
	return l->nheap;
}

size_t
ps_loop_jobs(struct ps_loop *l)
{
	return l->njobs;
}
