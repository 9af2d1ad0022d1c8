/* One POP3 session per maildrop (RFC 1939 8: "the POP3 server then
 * acquires an exclusive-access lock on the maildrop"), across every worker
 * process: an flock(2) on a file per user in lock_dir. The kernel drops
 * the lock when the descriptor closes, so a killed worker leaves no stale
 * lock behind. flock locks belong to the open file, so two sessions in
 * one process exclude each other too. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "pop3d.h"

/* The file's name: the user's name with anything but [a-z0-9.@_+-]
 * written as %XX: no "/" and so no name reaches outside lock_dir. */
static int
lock_path(const char *user, char *buf, size_t size)
{
	size_t o = (size_t)snprintf(buf, size, "%s/", pop3_cfg.lock_dir);

	for (const unsigned char *p = (const unsigned char *)user; *p; p++) {
		unsigned ch = *p >= 'A' && *p <= 'Z' ? *p + 32u : *p;

		if (o + 8 >= size)
			return -1;
		if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
		    strchr(".@_+-", (int)ch))
			buf[o++] = (char)ch;
		else
			o += (size_t)snprintf(buf + o, size - o, "%%%02X", ch);
	}
	return snprintf(buf + o, size - o, ".lock") >= (int)(size - o) ? -1
									 : 0;
}

/* Blocks briefly (open): call from a job. POP3_EINUSE when another
 * session holds the lock. */
int
pop3_lock(const char *user, int *fd_r, struct ps_error *err)
{
	char path[sizeof(pop3_cfg.lock_dir) + 3 * PS_AUTH_NAME_MAX + 8];
	int fd;

	if (lock_path(user, path, sizeof(path)) < 0) {
		snprintf(err->msg, sizeof(err->msg), "lock file name too long");
		return PS_EINVAL;
	}
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		snprintf(err->msg, sizeof(err->msg), "%.160s: %s", path,
			 strerror(errno));
		return PS_EIO;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int busy = errno == EWOULDBLOCK;

		snprintf(err->msg, sizeof(err->msg), "%.160s: %s", path,
			 strerror(errno));
		close(fd);
		return busy ? POP3_EINUSE : PS_EIO;
	}
	*fd_r = fd;
	return 0;
}

void
pop3_unlock(struct pop3_session *s)
{
	if (s->lock_fd >= 0)
		close(s->lock_fd);
	s->lock_fd = -1;
}
