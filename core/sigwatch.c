/* Signals as loop events (see sigwatch.h). */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "log.h"
#include "loop.h"
#include "sigwatch.h"

static void
on_readable(struct ps_loop *l, int fd, unsigned ev, void *arg)
{
	void (*fn)(int) = (void (*)(int))arg;
	struct signalfd_siginfo si;

	while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		fn((int)si.ssi_signo);
}

int
ps_sigwatch(struct ps_loop *loop, const int *sigs, void (*fn)(int signo),
	    struct ps_error *err)
{
	sigset_t set;
	int fd;

	sigemptyset(&set);
	for (; *sigs; sigs++)
		sigaddset(&set, *sigs);
	sigprocmask(SIG_BLOCK, &set, NULL);
	fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0)
		return ps_error_set(err, "signalfd: %s", strerror(errno));
	/* A function pointer travels as the loop's void * argument. */
	if (ps_loop_watch(loop, fd, PS_EV_READ, on_readable, (void *)fn) < 0) {
		close(fd);
		return ps_error_set(err, "cannot watch signals");
	}
	return fd;
}
