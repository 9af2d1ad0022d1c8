/* A worker process (see worker.h). Signals arrive through a signalfd on
 * the loop, so handlers never run in the middle of a callback. */
#include "config.h"

#include <errno.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "bus.h"
#include "config_core.h"
#include "conn.h"
#include "limits.h"
#include "listen.h"
#include "log.h"
#include "loop.h"
#include "module.h"
#include "privilege.h"
#include "sigwatch.h"
#include "worker.h"

static struct ps_loop *loop;
static struct ps_config *config;
static int draining; /* 0, 1 retiring, 2 shutting down */

struct ps_loop *
ps_worker_loop(void)
{
	return loop;
}

int
ps_worker_stopping(void)
{
	return draining != 0;
}

/* Checked every 200 ms while draining: exit when the last one is gone. */
static void
drain_check(void *arg)
{
	(void)arg;
	if (ps_conn_count() == 0) {
		ps_loop_stop(loop);
		return;
	}
	ps_loop_timer(loop, 200, drain_check, NULL);
}

static void
drain_deadline(void *arg)
{
	(void)arg;
	ps_notice("shutdown timeout: closing %zu connections",
		  ps_conn_count());
	ps_conn_close_all();
	ps_loop_stop(loop);
}

/* Stop accepting. Shutting down also ends idle connections and cuts the
 * rest at shutdown_timeout; retiring after a reload lets every live
 * connection run its course, so a reload drops nobody. */
static void
start_drain(int shutdown)
{
	int was = draining;

	if (draining >= 1 + shutdown)
		return;
	draining = 1 + shutdown;
	if (shutdown) {
		ps_conn_drain_all();
		ps_loop_timer(loop, config->shutdown_timeout_ms,
			      drain_deadline, NULL);
	}
	if (!was) {
		ps_listen_stop(loop, config->listeners);
		drain_check(NULL);
	}
}

static void
master_lost(void)
{
	ps_warn("master went away; finishing connections");
	start_drain(1);
}

static void
on_signal(int signo)
{
	if (signo == SIGUSR1) {
		ps_info("retiring: no new connections, %zu live",
			ps_conn_count());
		start_drain(0);
	} else {
		ps_info("shutting down: %zu live connections",
			ps_conn_count());
		start_drain(1);
	}
}

static int
setup_signals(struct ps_error *err)
{
	static const int sigs[] = {SIGTERM, SIGINT, SIGUSR1, 0};

	/* Die with the master if it is killed outright. */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	return ps_sigwatch(loop, sigs, on_signal, err) < 0 ? PS_EFAIL : 0;
}

static int
start(struct ps_config *cfg, unsigned slot, int bus_fd, struct ps_error *err)
{
	if (ps_privilege_drop(cfg, err) < 0)
		return PS_EFAIL;
	loop = ps_loop_new(cfg->threads, err);
	if (!loop || setup_signals(err) < 0)
		return PS_EFAIL;
	ps_limits_set_worker(slot);
	if (ps_bus_worker_start(loop, bus_fd, master_lost) < 0)
		return ps_error_set(err, "cannot start the bus");
	if (ps_modules_worker_init(err) < 0)
		return PS_EFAIL;
	ps_bus_seal();
	if (ps_listen_start(loop, cfg->listeners) < 0)
		return ps_error_set(err, "cannot watch the listeners");
	return 0;
}

/* glibc hands the free top of a heap back to the kernel once it passes
 * M_TRIM_THRESHOLD, 128 KiB at first. Commands allocate and free blocks
 * of tens of KiB on the pool threads (64 KiB read buffers, SQLite's
 * statement journals), so their arenas grew and shrank at every command:
 * about 100 madvise(MADV_DONTNEED) a second in the IMAP session bench,
 * each interrupting every thread of the worker (a TLB shootdown) and
 * followed by page faults to grow again. A fixed 1 MiB stops that for
 * at most 1 MiB kept per arena. Setting it turns off glibc's sliding
 * thresholds, so the mmap threshold is set too: blocks under 512 KiB
 * come from the heaps. */
static void
malloc_tune(void)
{
#if defined(__GLIBC__)
	mallopt(M_TRIM_THRESHOLD, 1024 * 1024);
	mallopt(M_MMAP_THRESHOLD, 512 * 1024);
#endif
}

void
ps_worker_run(struct ps_config *cfg, unsigned slot, int bus_fd)
{
	struct ps_error err = {""};
	char role[32];
	int code = 0;

	malloc_tune();
	config = cfg;
	snprintf(role, sizeof(role), "worker %u", slot);
	ps_log_set_role(role);
	if (start(cfg, slot, bus_fd, &err) < 0) {
		ps_err("%s", err.msg);
		code = 1;
	} else {
		ps_debug("started");
		ps_loop_run(loop);
	}
	/* Connections first: their on_close may need what worker_exit
	 * frees. One more turn runs the deferred frees. */
	if (loop) {
		ps_conn_close_all();
		ps_loop_once(loop, 0);
	}
	ps_modules_worker_exit();
	ps_bus_worker_stop();
	ps_loop_free(loop);
	_exit(code);
}
