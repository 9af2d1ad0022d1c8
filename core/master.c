/* The master (see master.h). It runs its own small loop: a signalfd for
 * SIGCHLD, SIGHUP, SIGTERM and SIGINT, the bus hub, and restart timers.
 * It keeps the invoking user's rights (so SIGHUP can re-read root-only
 * keys and bind new low ports, as nginx does); workers drop to "user". */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "authfail.h"
#include "bus.h"
#include "config_core.h"
#include "limits.h"
#include "listen.h"
#include "log.h"
#include "loop.h"
#include "master.h"
#include "module.h"
#include "privilege.h"
#include "sigwatch.h"
#include "worker.h"

#define MAX_WORKERS PS_LIMITS_MAX_WORKERS
/* A worker that dies sooner than this after starting is restarted only
 * after a pause, so a crash at start-up cannot become a fork storm. */
#define QUICK_DEATH_MS 2000
#define RESTART_PAUSE_MS 1000

struct worker {
	pid_t pid;     /* 0: free slot */
	int bus_fd;
	int retiring;  /* from an older config: not restarted */
	uint64_t started;
};

static struct ps_loop *loop;
static struct ps_config *config;
static struct worker workers[MAX_WORKERS];
static int stopping;
static int sig_fd = -1;

static unsigned
live_workers(int include_retiring)
{
	unsigned n = 0;
	for (unsigned i = 0; i < MAX_WORKERS; i++)
		if (workers[i].pid && (include_retiring || !workers[i].retiring))
			n++;
	return n;
}

static int
free_slot(void)
{
	for (int i = 0; i < MAX_WORKERS; i++)
		if (!workers[i].pid)
			return i;
	return -1;
}

/* In the child: drop what belongs to the master, keep the own bus end. */
static void
child_forget_master(void)
{
	sigset_t none;

	for (unsigned i = 0; i < MAX_WORKERS; i++)
		if (workers[i].pid)
			close(workers[i].bus_fd);
	close(sig_fd);
	ps_loop_free(loop);
	loop = NULL;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

static int
spawn(int slot)
{
	struct ps_error err;
	int mfd, wfd;
	pid_t pid;

	if (ps_bus_pair(&mfd, &wfd, &err) < 0) {
		ps_err("%s", err.msg);
		return PS_EFAIL;
	}
	pid = fork();
	if (pid < 0) {
		ps_err("fork: %s", strerror(errno));
		close(mfd);
		close(wfd);
		return PS_EFAIL;
	}
	if (pid == 0) {
		close(mfd);
		child_forget_master();
		ps_worker_run(config, (unsigned)slot, wfd);
	}
	close(wfd);
	workers[slot].pid = pid;
	workers[slot].bus_fd = mfd;
	workers[slot].retiring = 0;
	workers[slot].started = ps_loop_now(loop);
	ps_bus_hub_attach(loop, mfd);
	ps_info("worker %d started pid=%d", slot, (int)pid);
	return 0;
}

static void
spawn_missing(void *arg)
{
	(void)arg;
	while (!stopping && live_workers(0) < config->workers) {
		int slot = free_slot();
		if (slot < 0) {
			ps_err("no free worker slot (at most %d workers, old "
			       "ones still draining)", MAX_WORKERS);
			return;
		}
		if (spawn(slot) < 0)
			return;
	}
}

static void
describe_exit(int status, char *buf, size_t len)
{
	if (WIFSIGNALED(status))
		snprintf(buf, len, "killed by signal %d (%s)", WTERMSIG(status),
			 strsignal(WTERMSIG(status)));
	else
		snprintf(buf, len, "exited with status %d",
			 WEXITSTATUS(status));
}

static void
reap(void)
{
	int status, quick = 0;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (unsigned i = 0; i < MAX_WORKERS; i++) {
			struct worker *w = &workers[i];
			char why[96];
			if (w->pid != pid)
				continue;
			describe_exit(status, why, sizeof(why));
			ps_bus_hub_detach(loop, w->bus_fd);
			ps_limits_worker_died(i);
			w->pid = 0;
			if (stopping || w->retiring) {
				ps_info("worker %u pid=%d %s", i, (int)pid, why);
				break;
			}
			ps_warn("worker %u pid=%d %s; starting a new one", i,
				(int)pid, why);
			if (ps_loop_now(loop) - w->started < QUICK_DEATH_MS)
				quick = 1;
			break;
		}
	}
	if (stopping) {
		if (live_workers(1) == 0)
			ps_loop_stop(loop);
		return;
	}
	if (quick)
		ps_loop_timer(loop, RESTART_PAUSE_MS, spawn_missing, NULL);
	else
		spawn_missing(NULL);
}

static void
signal_workers(int sig, int retire)
{
	for (unsigned i = 0; i < MAX_WORKERS; i++)
		if (workers[i].pid && (!retire || !workers[i].retiring)) {
			workers[i].retiring |= retire;
			kill(workers[i].pid, sig);
		}
}

/* Take the bound sockets of old listeners at the same address, bind the
 * rest. On failure nothing of old is touched. */
static int
bind_listeners(struct ps_config *cfg, struct ps_config *old,
	       struct ps_error *err)
{
	for (struct ps_listener *l = cfg->listeners; l; l = l->next) {
		for (struct ps_listener *o = old ? old->listeners : NULL; o;
		     o = o->next)
			if (o->fd >= 0 && o->addrlen == l->addrlen &&
			    memcmp(&o->addr, &l->addr, l->addrlen) == 0) {
				l->fd = dup(o->fd);
				fcntl(l->fd, F_SETFD, FD_CLOEXEC);
				break;
			}
		if (l->fd < 0 && ps_listen_bind(l, err) < 0)
			return PS_EFAIL;
	}
	return 0;
}

static int
same_modules(const struct ps_config *a, const struct ps_config *b)
{
	if (a->nload != b->nload)
		return 0;
	for (size_t i = 0; i < a->nload; i++)
		if (strcmp(a->load[i], b->load[i]) != 0)
			return 0;
	return 1;
}

static struct ps_config *
reload_config(struct ps_error *err)
{
	struct ps_config *cfg = ps_config_read(config->path, err);

	if (!cfg)
		return NULL;
	if (!same_modules(cfg, config)) {
		ps_error_set(err, "%s: the load lines changed; restart "
			     "poshtad to load or unload modules", cfg->path);
	} else if (ps_config_finish(cfg, err) == 0 &&
		   ps_privilege_resolve(cfg, err) == 0 &&
		   ps_privilege_state_dir(cfg, err) == 0 &&
		   bind_listeners(cfg, config, err) == 0) {
		return cfg;
	}
	ps_config_free(cfg);
	return NULL;
}

/* SIGHUP: a new config for new workers; the old ones retire once their
 * live connections end. A bad file changes nothing. */
static void
reload(void)
{
	struct ps_error err = {""};
	struct ps_config *cfg = reload_config(&err);

	if (!cfg) {
		ps_err("reload failed, keeping the running config: %s",
		       err.msg);
		return;
	}
	ps_config_activate(cfg);
	ps_config_free(config);
	config = cfg;
	signal_workers(SIGUSR1, 1);
	spawn_missing(NULL);
	ps_notice("reloaded %s: %u workers", cfg->path, cfg->workers);
}

static void
kill_stragglers(void *arg)
{
	(void)arg;
	ps_warn("workers did not stop in time; killing them");
	signal_workers(SIGKILL, 0);
}

static void
stop(void)
{
	if (stopping)
		return;
	stopping = 1;
	ps_notice("shutting down");
	signal_workers(SIGTERM, 0);
	ps_loop_timer(loop, config->shutdown_timeout_ms + 5000,
		      kill_stragglers, NULL);
	if (live_workers(1) == 0)
		ps_loop_stop(loop);
}

static void
on_signal(int signo)
{
	switch (signo) {
	case SIGCHLD:
		reap();
		break;
	case SIGHUP:
		if (!stopping)
			reload();
		break;
	default:
		stop();
		break;
	}
}

static int
setup_signals(struct ps_error *err)
{
	static const int sigs[] = {SIGCHLD, SIGHUP, SIGTERM, SIGINT, 0};

	signal(SIGPIPE, SIG_IGN);
	sig_fd = ps_sigwatch(loop, sigs, on_signal, err);
	return sig_fd < 0 ? PS_EFAIL : 0;
}

/* Refuse to start beside a live poshtad using the same pid file. */
static int
check_pid_file(const char *path, struct ps_error *err)
{
	FILE *f = fopen(path, "r");
	int old = 0;

	if (!f)
		return 0;
	if (fscanf(f, "%d", &old) == 1 && old > 0 && old != getpid() &&
	    kill(old, 0) == 0) {
		fclose(f);
		return ps_error_set(err, "already running (pid %d in %s)", old,
				    path);
	}
	fclose(f);
	return 0;
}

static int
write_pid_file(const char *path, struct ps_error *err)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return ps_error_set(err, "pid file %s: %s", path,
				    strerror(errno));
	fprintf(f, "%d\n", (int)getpid());
	return fclose(f) == 0 ? 0 : ps_error_set(err, "pid file %s: %s",
						 path, strerror(errno));
}

static int
daemonize(struct ps_error *err)
{
	pid_t pid = fork();
	int fd;

	if (pid < 0)
		return ps_error_set(err, "fork: %s", strerror(errno));
	if (pid > 0)
		_exit(0);
	if (setsid() < 0)
		return ps_error_set(err, "setsid: %s", strerror(errno));
	if (chdir("/") < 0)
		return ps_error_set(err, "chdir /: %s", strerror(errno));
	fd = open("/dev/null", O_RDWR);
	if (fd < 0)
		return ps_error_set(err, "/dev/null: %s", strerror(errno));
	dup2(fd, 0);
	dup2(fd, 1);
	dup2(fd, 2);
	if (fd > 2)
		close(fd);
	ps_log_use_syslog(1);
	return 0;
}

static int
start(struct ps_config *cfg, int detach, struct ps_error *err)
{
	if (!cfg->user && geteuid() == 0)
		ps_warn("no 'user' in %s: workers run as root", cfg->path);
	if (ps_privilege_resolve(cfg, err) < 0 ||
	    ps_privilege_state_dir(cfg, err) < 0 ||
	    check_pid_file(cfg->pid_file, err) < 0 ||
	    bind_listeners(cfg, NULL, err) < 0 || ps_limits_init(err) < 0 ||
	    ps_authfail_init(err) < 0)
		return PS_EFAIL;
	if (detach && daemonize(err) < 0)
		return PS_EFAIL;
	if (write_pid_file(cfg->pid_file, err) < 0)
		return PS_EFAIL;
	loop = ps_loop_new(0, err);
	if (!loop || setup_signals(err) < 0)
		return PS_EFAIL;
	ps_config_activate(cfg);
	return 0;
}

static void
log_ready(const struct ps_config *cfg)
{
	char line[1024];
	size_t n = 0;

	line[0] = '\0';
	for (const struct ps_listener *l = cfg->listeners;
	     l && n < sizeof(line); l = l->next)
		n += snprintf(line + n, sizeof(line) - n, " %s=%s", l->name,
			      l->addr_text);
	ps_notice("ready: %u workers, listening%s", cfg->workers,
		  n ? line : " nowhere (no listen blocks)");
}

int
ps_master_run(struct ps_config *cfg, int detach)
{
	struct ps_error err = {""};
	int code = 0;

	config = cfg;
	ps_log_set_role("master");
	if (start(cfg, detach, &err) < 0) {
		ps_err("%s", err.msg);
		ps_config_free(cfg);
		return 1;
	}
	spawn_missing(NULL);
	log_ready(cfg);
	if (ps_loop_run(loop) < 0)
		code = 1;
	unlink(config->pid_file);
	ps_notice("stopped");
	ps_loop_free(loop);
	ps_config_free(config);
	ps_modules_unload();
	return code;
}
