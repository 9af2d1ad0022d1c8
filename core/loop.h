/* The worker's event loop: epoll for file descriptors, a binary heap of
 * one-shot timers, a deferred-call queue run before sleeping, and a thread
 * pool whose completions come back on the loop through an eventfd.
 *
 * Everything here is called on the loop thread only; a pool job's work
 * function must not call into the loop. */
#ifndef PS_CORE_LOOP_H
#define PS_CORE_LOOP_H

#include <poshta/types.h>

#define PS_EV_READ 0x1
#define PS_EV_WRITE 0x2
#define PS_EV_ERROR 0x4 /* reported only: EPOLLERR or EPOLLHUP, always
			 * with PS_EV_READ so the reader meets the EOF */
/* With PS_EV_READ, for an fd that several processes watch (a listening
 * socket): a new event wakes one sleeping watcher, not all of them
 * (EPOLLEXCLUSIVE). Watching with it again re-registers the fd. */
#define PS_EV_EXCLUSIVE 0x8

struct ps_loop;
struct ps_timer;

typedef void ps_io_fn(struct ps_loop *l, int fd, unsigned events, void *arg);
typedef void ps_loop_fn(void *arg);

/* Create a loop with a pool of nthreads worker threads (0: none). */
struct ps_loop *ps_loop_new(unsigned nthreads, struct ps_error *err);
/* Stops and joins the pool threads: jobs not yet started are dropped,
 * running ones are waited for, and no done runs (drain until ps_loop_jobs
 * is 0 first if they must). Pending timers and deferred calls are dropped.
 * Watched fds stay open: they belong to the caller. It never changes the
 * epoll set, so a forked child may free the loop it inherited without
 * disturbing its parent's. NULL is a no-op. */
void ps_loop_free(struct ps_loop *l);

/* Watch fd for events (PS_EV_READ|PS_EV_WRITE); call again to change the
 * mask or callback; events 0 keeps the fd registered but silent (not even
 * errors are reported). Level-triggered. Events already fetched for an fd
 * that a callback unwatches, or stops wanting, in the same turn are not
 * delivered. Unwatch before closing the fd. Returns 0, PS_EINVAL,
 * PS_ENOMEM or PS_EIO. */
int ps_loop_watch(struct ps_loop *l, int fd, unsigned events, ps_io_fn *fn,
		  void *arg);
void ps_loop_unwatch(struct ps_loop *l, int fd);

/* One-shot timer, ms from ps_loop_now(). Equal deadlines fire in the order
 * added; a timer added by a timer callback fires on a later turn at the
 * earliest. The handle is valid until fn is called or it is cancelled, so
 * fn must not cancel its own timer. NULL on ENOMEM. Cancelling NULL is a
 * no-op. */
struct ps_timer *ps_loop_timer(struct ps_loop *l, uint64_t ms, ps_loop_fn *fn,
			       void *arg);
void ps_loop_timer_cancel(struct ps_loop *l, struct ps_timer *t);

/* Run fn(arg) on this loop after the current callbacks, before sleeping,
 * in FIFO order. Calls queued while the queue runs go to the next turn,
 * which polls without sleeping: a call that keeps re-queueing itself
 * cannot starve I/O. Returns 0 or PS_ENOMEM. */
int ps_loop_defer(struct ps_loop *l, ps_loop_fn *fn, void *arg);

/* Run work(arg) on a pool thread, then done(arg) on the loop thread (done
 * may be NULL). With no pool threads, work runs inline and done still runs
 * on a later turn, never inside this call. Returns 0, PS_EINVAL (no work)
 * or PS_ENOMEM. */
int ps_loop_submit(struct ps_loop *l, ps_loop_fn *work, ps_loop_fn *done,
		   void *arg);

/* Monotonic ms (CLOCK_MONOTONIC), refreshed each turn after the wait. */
uint64_t ps_loop_now(struct ps_loop *l);

/* Run until ps_loop_stop (which ends the current turn first). Returns 0,
 * or PS_EIO on epoll failure. */
int ps_loop_run(struct ps_loop *l);
void ps_loop_stop(struct ps_loop *l);
/* One turn: wait at most max_ms (-1: until something happens), dispatch
 * I/O, fire due timers, run deferred calls. For tests. Returns 0 or
 * PS_EIO. */
int ps_loop_once(struct ps_loop *l, int max_ms);

/* Number of pending timers, and of pool jobs submitted whose done has
 * not run yet (for draining; done sees itself already uncounted). */
size_t ps_loop_timers(struct ps_loop *l);
size_t ps_loop_jobs(struct ps_loop *l);

#endif
