/* A worker process: one event loop serving connections on the listeners
 * it inherited from the master, until told to retire or shut down. */
#ifndef PS_CORE_WORKER_H
#define PS_CORE_WORKER_H

struct ps_config;
struct ps_loop;

/* This worker's loop; NULL in the master. */
struct ps_loop *ps_worker_loop(void);
/* 1 once the worker drains (shutdown, or retiring after a reload). */
int ps_worker_stopping(void);

/* Run worker number slot (0-based, unique among live workers) after fork:
 * drop privileges, start modules and the listeners, serve. Never returns.
 *   SIGTERM, SIGINT: stop accepting, finish live connections for at most
 *                    shutdown_timeout, then exit.
 *   SIGUSR1:         retire (after a reload): stop accepting and exit
 *                    when the last live connection ends. */
void ps_worker_run(struct ps_config *cfg, unsigned slot, int bus_fd)
	__attribute__((noreturn));

#endif
