/* The user's lock: every change of a user's tree (folders, the UID
 * lists, subscriptions) and every scan that may assign UIDs holds it.
 * It is an OFD lock (fcntl F_OFD_SETLKW) on Maildir/poshta.lock: such a
 * lock belongs to the open file description, so two pool threads of one
 * worker exclude each other as two workers do, and the kernel drops it
 * when a process dies, so no stale lock outlives a crash (a dotlock like
 * dovecot-uidlist.lock would need timeouts for that). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "storage_maildir.h"

int
md_lock(const struct ps_store_user *u, struct md_lock *l,
	struct ps_error *err)
{
	char path[MD_PATH_MAX];
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };

	snprintf(path, sizeof(path), "%s/poshta.lock", u->root);
	l->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (l->fd < 0)
		return md_errno(err, "open", path);
	while (fcntl(l->fd, F_OFD_SETLKW, &fl) < 0) {
		if (errno == EINTR)
			continue;
		md_errno(err, "lock", path);
		close(l->fd);
		l->fd = -1;
		return PS_EIO;
	}
	return 0;
}

/* Closing the only descriptor of the description releases the lock. */
void
md_unlock(struct md_lock *l)
{
	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
}
