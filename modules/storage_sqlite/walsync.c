/* Durable commits without holding the write lock through the fsync.
 *
 * With synchronous=FULL SQLite fsyncs the WAL inside COMMIT, while it
 * still holds the database's write lock: every other writer of the same
 * user, in any worker, waits out that fsync before it may even begin.
 * Connections therefore commit with synchronous=NORMAL (the commit is
 * written to the WAL, atomic, not yet synced) and a change that must be
 * on the disk syncs the WAL here, once the lock and the turnstile are
 * let go and before its call returns. Two workers' commits to one user
 * then overlap their fsyncs instead of queueing behind them.
 *
 * Why that is as durable as FULL: recovery replays the WAL's commits up
 * to the first frame whose checksum fails, and each frame's checksum
 * covers the frames before it, so once the WAL file's data is synced,
 * every commit written to it before is kept. The frames may have left
 * the WAL by then: a checkpoint copies them into the database, which
 * SQLite syncs at the end of every checkpoint even at NORMAL, before a
 * writer may restart the WAL from its start. The WAL is deleted only
 * when its last connection closes, after a checkpoint, and the caller's
 * connection is open; should it be missing anyway, the database file is
 * synced instead. Like SQLite's own first sync of a WAL it opened, the
 * folder is synced too the first time, for a WAL that was just made. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "storage_sqlite.h"

static int
ss_sync_fd(int fd)
{
	int r;

	do
		r = fdatasync(fd);
	while (r < 0 && errno == EINTR);
	return r;
}

static int
ss_sync_path(const char *path, int dir)
{
	int fd = open(path, (dir ? O_DIRECTORY : 0) | O_RDONLY | O_CLOEXEC),
	    r;

	if (fd < 0)
		return -1;
	r = ss_sync_fd(fd);
	close(fd);
	return r;
}

/* The folder of file, synced. */
static int
ss_sync_dir(const char *file)
{
	char copy[4096];

	if (strlen(file) >= sizeof(copy))
		return -1;
	strcpy(copy, file);
	return ss_sync_path(dirname(copy), 1);
}

/* d->wal_fd on the WAL file as it is now: 1 when (re)opened, 0 when it
 * was, -1 with errno (ENOENT: no WAL). */
static int
ss_wal_open(struct ss_db *d, const char *path)
{
	struct stat st;
	int fd;

	if (stat(path, &st) < 0)
		return -1;
	if (d->wal_fd >= 0 && st.st_ino == d->wal_ino &&
	    st.st_dev == d->wal_dev)
		return 0;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 || fstat(fd, &st) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	ss_wal_close(d);
	d->wal_fd = fd;
	d->wal_ino = st.st_ino;
	d->wal_dev = st.st_dev;
	return 1;
}

int
ss_wal_sync(struct ss_db *d, struct ps_error *err)
{
	char path[4096];
	int fresh, r;

	if ((size_t)snprintf(path, sizeof(path), "%s-wal", d->file) >=
	    sizeof(path))
		return ss_err(err, PS_EINVAL, "path too long: %s", d->file);
	fresh = ss_wal_open(d, path);
	if (fresh < 0 && errno == ENOENT)
		r = ss_sync_path(d->file, 0);
	else if (fresh < 0)
		r = -1;
	else
		r = ss_sync_fd(d->wal_fd);
	if (r == 0 && fresh == 1)
		r = ss_sync_dir(d->file);
	if (r < 0)
		return ss_err(err, PS_EIO, "cannot sync %s: %s", path,
			      strerror(errno));
	return 0;
}

void
ss_wal_close(struct ss_db *d)
{
	if (d->wal_fd >= 0)
		close(d->wal_fd);
	d->wal_fd = -1;
}
