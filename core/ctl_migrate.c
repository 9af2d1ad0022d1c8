/* poshtactl migrate --from CONF_A --to CONF_B [USER...]: copy users'
 * mailboxes from the storage backend of one configuration to that of
 * another. One process cannot load two configurations (the same module
 * twice, with two paths), so this one loads none: it runs poshtactl
 * twice, "-c CONF_A migrate-dump --replies USER..." writing the record
 * stream of ctl_migrate.h into a pipe and "-c CONF_B migrate-load
 * --replies" reading it, whose replies (the UIDs each mailbox still
 * needs) go back through a second pipe, and waits for both. The load
 * prints the summary; the exit status is 0 when both succeeded, else 1. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctl.h"

/* This program, to run again: the kernel's link, which holds even when
 * argv[0] was a bare name found in PATH. */
#define SELF "/proc/self/exe"

/* Run argv with stdin from in, stdout to out and (when reply >= 0)
 * CTL_MIGRATE_REPLY_FD on reply; the pipes' other ends are close-on-exec. */
static pid_t
spawn(char **argv, int in, int out, int reply)
{
	pid_t pid = fork();

	if (pid != 0)
		return pid;
	if (dup2(in, STDIN_FILENO) < 0 || (out >= 0 &&
					   dup2(out, STDOUT_FILENO) < 0) ||
	    (reply >= 0 && dup2(reply, CTL_MIGRATE_REPLY_FD) < 0))
		_exit(CTL_FAIL);
	/* dup2 onto itself keeps close-on-exec. */
	if (reply == CTL_MIGRATE_REPLY_FD)
		fcntl(reply, F_SETFD, 0);
	execv(SELF, argv);
	fprintf(stderr, "poshtactl: %s: %s\n", SELF, strerror(errno));
	_exit(CTL_FAIL);
}

/* The child's exit status; a signal is named. dumper: a source killed by
 * SIGPIPE only follows the target's failure, which said why. */
static int
reap(pid_t pid, const char *what, int quiet_pipe)
{
	int status;

	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return ctl_fail("%s: %s", what, strerror(errno));
	if (WIFEXITED(status))
		return WEXITSTATUS(status) == CTL_OK ? CTL_OK : CTL_FAIL;
	if (!(quiet_pipe && WTERMSIG(status) == SIGPIPE))
		ctl_fail("the %s process was killed by signal %d", what,
			 WTERMSIG(status));
	return CTL_FAIL;
}

static int
check_conf(const char *opt, const char *path, struct stat *st)
{
	if (!path)
		return ctl_fail("%s CONF is required", opt);
	if (stat(path, st) < 0)
		return ctl_fail("%s %s: %s", opt, path, strerror(errno));
	return CTL_OK;
}

int
ctl_migrate(struct ctl *c)
{
	char **dump = calloc((size_t)c->nargs + 7, sizeof(*dump));
	char *load[] = {"poshtactl", "-c", (char *)c->migrate_to,
			"migrate-load", "--replies", NULL};
	struct stat a, b;
	int data[2], replies[2], code;
	pid_t dumper, loader;

	if (!dump)
		return ctl_fail("out of memory");
	if (check_conf("--from", c->migrate_from, &a) != CTL_OK ||
	    check_conf("--to", c->migrate_to, &b) != CTL_OK) {
		free(dump);
		return CTL_USAGE;
	}
	if (a.st_dev == b.st_dev && a.st_ino == b.st_ino) {
		free(dump);
		ctl_fail("--from and --to name the same configuration");
		return CTL_USAGE;
	}
	dump[0] = "poshtactl";
	dump[1] = "-c";
	dump[2] = (char *)c->migrate_from;
	dump[3] = "migrate-dump";
	dump[4] = "--replies";
	dump[5] = "--";
	for (int i = 0; i < c->nargs; i++)
		dump[6 + i] = c->args[i];
	if (pipe2(data, O_CLOEXEC) < 0) {
		free(dump);
		return ctl_fail("pipe: %s", strerror(errno));
	}
	if (pipe2(replies, O_CLOEXEC) < 0) {
		close(data[0]);
		close(data[1]);
		free(dump);
		return ctl_fail("pipe: %s", strerror(errno));
	}
	fflush(stdout);
	loader = spawn(load, data[0], -1, replies[1]);
	dumper = loader < 0 ? -1 : spawn(dump, replies[0], data[1], -1);
	close(data[0]);
	close(data[1]);
	close(replies[0]);
	close(replies[1]);
	free(dump);
	if (loader < 0 || dumper < 0) {
		code = ctl_fail("fork: %s", strerror(errno));
		if (loader > 0)
			reap(loader, "target", 0);
		return code;
	}
	code = reap(loader, "target", 0);
	return reap(dumper, "source", code != CTL_OK) == CTL_OK ? code
							       : CTL_FAIL;
}
