/* The writers' turnstile: processes that write to the same user's
 * database take turns in the kernel rather than by polling. SQLite's
 * write lock cannot be waited for, only retried (ss_busy sleeps between
 * tries); two workers delivering to one busy user then spend their time
 * asleep while the lock is free, and each commit queues behind the
 * other's fsync plus a sleep. Before BEGIN IMMEDIATE a writer therefore
 * takes a blocking open-file-description lock (F_OFD_SETLKW) on one
 * byte of a shared file, the byte picked by a hash of the database's
 * path, and lets go after COMMIT or ROLLBACK: the next process wakes
 * the moment the lock is free.
 *
 * It is a hint on top of SQLite's own locking, never instead of it:
 * threads of one process share the lock (one description per process),
 * two databases may share a byte, and a lock that cannot be had (no
 * file, no OFD locks) is simply skipped; in each case SQLite's busy
 * handler still orders the writers. Each writer
 * holds at most one byte and takes it before any SQLite lock, so the
 * turnstile adds no deadlock. */
#define _GNU_SOURCE /* F_OFD_SETLKW */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "storage_sqlite.h"

#define SS_TURN_BYTES (1 << 20) /* bytes to hash paths onto */

static pthread_mutex_t ss_turn_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t ss_turn_once = PTHREAD_ONCE_INIT;
static int ss_turn_fd = -1;

/* A forked child would share the parent's description, and so its
 * locks: it opens its own. */
static void
ss_turn_forked(void)
{
	if (ss_turn_fd >= 0)
		close(ss_turn_fd);
	ss_turn_fd = -1;
}

static void
ss_turn_init(void)
{
	pthread_atfork(NULL, NULL, ss_turn_forked);
}

static int
ss_turn_file(void)
{
	char path[4096];
	int fd;

	pthread_once(&ss_turn_once, ss_turn_init);
	pthread_mutex_lock(&ss_turn_lock);
	if (ss_turn_fd < 0 && ss_config.path &&
	    (size_t)snprintf(path, sizeof(path), "%s/.writers",
			     ss_config.path) < sizeof(path))
		ss_turn_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	fd = ss_turn_fd;
	pthread_mutex_unlock(&ss_turn_lock);
	return fd;
}

/* FNV-1a: any spread will do. */
static off_t
ss_turn_byte(const char *file)
{
	uint32_t h = 2166136261u;

	for (; *file; file++)
		h = (h ^ (unsigned char)*file) * 16777619u;
	return (off_t)(h % SS_TURN_BYTES);
}

static int
ss_turn_set(const char *file, short type, int cmd)
{
	struct flock fl = { .l_type = type, .l_whence = SEEK_SET,
			    .l_start = ss_turn_byte(file), .l_len = 1 };
	int fd = ss_turn_file(), r;

	if (fd < 0)
		return -1;
	do
		r = fcntl(fd, cmd, &fl);
	while (r < 0 && errno == EINTR);
	return r;
}

/* 1 when the turn was taken (ss_turn_leave owed), 0 when skipped. */
int
ss_turn_enter(const char *file)
{
	return ss_turn_set(file, F_WRLCK, F_OFD_SETLKW) == 0;
}

void
ss_turn_leave(const char *file)
{
	ss_turn_set(file, F_UNLCK, F_OFD_SETLK);
}
