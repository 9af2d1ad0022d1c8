/* The worker's event loop: epoll for file descriptors, a binary heap of
 * one-shot timers, a deferred-call queue run before sleeping, and a thread
 * pool whose completions come back on the loop through an eventfd. */
#ifndef PS_CORE_LOOP_H
#define PS_CORE_LOOP_H

#include <poshta/types.h>

#define PS_EV_READ 0x1
#define PS_EV_WRITE 0x2
#define PS_EV_ERROR 0x4 /* reported only: EPOLLERR or EPOLLHUP */

struct ps_loop;
struct ps_timer;

typedef void ps_io_fn(struct ps_loop *l, int fd, unsigned events, void *arg);
typedef void ps_loop_fn(void *arg);

/* Create a loop with a pool of nthreads worker threads (0: none). */
struct ps_loop *ps_loop_new(unsigned nthreads, struct ps_error *err);
/* Stops and joins the pool threads; pending timers are dropped. */
void ps_loop_free(struct ps_loop *l);

/* Watch fd for events (PS_EV_READ|PS_EV_WRITE); call again to change the
 * mask or callback; events 0 keeps the fd registered but silent. */
int ps_loop_watch(struct ps_loop *l, int fd, unsigned events, ps_io_fn *fn,
		  void *arg);
void ps_loop_unwatch(struct ps_loop *l, int fd);

/* One-shot timer, ms from now. Valid until it fires or is cancelled. */
struct ps_timer *ps_loop_timer(struct ps_loop *l, uint64_t ms, ps_loop_fn *fn,
			       void *arg);
void ps_loop_timer_cancel(struct ps_loop *l, struct ps_timer *t);

/* Run fn(arg) on this loop after the current callbacks, before sleeping.
 * Calls queued while the queue runs run in the same turn. */
int ps_loop_defer(struct ps_loop *l, ps_loop_fn *fn, void *arg);

/* Run work(arg) on a pool thread, then done(arg) on the loop thread. With
 * no pool threads, work runs inline and done is deferred. */
int ps_loop_submit(struct ps_loop *l, ps_loop_fn *work, ps_loop_fn *done,
		   void *arg);

/* Monotonic ms, refreshed each turn. */
uint64_t ps_loop_now(struct ps_loop *l);

/* Run until ps_loop_stop. Returns 0, or negative on epoll failure. */
int ps_loop_run(struct ps_loop *l);
void ps_loop_stop(struct ps_loop *l);
/* One turn: wait at most max_ms (-1: until something happens). For tests. */
int ps_loop_once(struct ps_loop *l, int max_ms);

/* Number of pending timers and pool jobs in flight (for draining). */
size_t ps_loop_timers(struct ps_loop *l);
size_t ps_loop_jobs(struct ps_loop *l);

#endif
