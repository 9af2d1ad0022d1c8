/* What an open mailbox keeps between calls. Without it every call
 * would read new/, cur/, the UID list and the index again.
 *
 * - A stamp: the device, inode, size and mtime (in nanoseconds) of new/,
 *   cur/, dovecot-uidlist and dovecot-keywords, and of the user's
 *   poshta-index.db, taken before a scan.
 *   Any delivery, flag change (a rename) or expunge (an unlink), by
 *   Poshta or by another MDA, changes a folder's mtime, and the lists
 *   are replaced by rename (a new inode). Every index session runs under
 *   the user's lock and closes before it is let go, and SQLite then
 *   checkpoints its WAL into the database file: so a change only the
 *   index holds (keywords past the 26 letters, a rebuild) has changed
 *   that file by the time a stamp is compared, and a session that
 *   changed nothing writes nothing. Timestamps are coarse (a
 *   kernel tick, or seconds on some file systems), so a change in the
 *   same tick as the stamp may leave it as it was: a stamp is trusted
 *   only when every mtime in it is at least MD_STAMP_SAFE seconds older
 *   than the moment it was taken (Dovecot's rule for its maildir
 *   syncs), and only when a second stamp after the scan equals it (the
 *   scan changed nothing itself).
 * - Between mailbox_hold and mailbox_release (SDK 1.3), reads reuse the
 *   last scan without any check, as storage.h allows; the handle's own
 *   changes rescan, so its later reads see them, and the message last
 *   read stays open (open.c). */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "storage_maildir.h"

#define MD_STAMP_SAFE 1 /* seconds */

static const char *const md_stamped[] = {
	"new", "cur", MD_UIDLIST, "dovecot-keywords", "",
};
#define MD_STAMP_INDEX 4 /* at the user's root, not in the folder */

/* Stamp dir's files and u's index; valid when every mtime is safely
 * in the past. */
void
md_stamp_take(const struct ps_store_user *u, const char *dir,
	      struct md_stamp *s)
{
	char path[MD_PATH_MAX];
	struct timespec now;
	struct stat st;

	memset(s, 0, sizeof(*s));
	clock_gettime(CLOCK_REALTIME, &now);
	s->valid = 1;
	for (size_t i = 0; i < sizeof(md_stamped) / sizeof(md_stamped[0]);
	     i++) {
		struct md_fstamp *f = &s->f[i];

		if (i == MD_STAMP_INDEX)
			md_path(path, u->root, "poshta-index.db");
		else if (md_path(path, dir, md_stamped[i]))
			continue;
		if (stat(path, &st) < 0)
			continue; /* absent: present stays 0 */
		f->present = 1;
		f->dev = (uint64_t)st.st_dev;
		f->ino = (uint64_t)st.st_ino;
		f->size = (uint64_t)st.st_size;
		f->sec = (int64_t)st.st_mtim.tv_sec;
		f->nsec = (int64_t)st.st_mtim.tv_nsec;
		if (f->sec > (int64_t)now.tv_sec - MD_STAMP_SAFE ||
		    (f->sec == (int64_t)now.tv_sec - MD_STAMP_SAFE &&
		     f->nsec > (int64_t)now.tv_nsec))
			s->valid = 0; /* too recent to tell a change by */
	}
}

int
md_stamp_same(const struct md_stamp *a, const struct md_stamp *b)
{
	for (size_t i = 0; i < sizeof(a->f) / sizeof(a->f[0]); i++) {
		const struct md_fstamp *x = &a->f[i], *y = &b->f[i];

		if (x->present != y->present || x->dev != y->dev ||
		    x->ino != y->ino || x->size != y->size ||
		    x->sec != y->sec || x->nsec != y->nsec)
			return 0;
	}
	return 1;
}

/* 1 when mb's last scan still describes its folder: the stamp was
 * trusted and is the same now. */
static int
md_mbox_unchanged(struct ps_mbox *mb)
{
	struct md_stamp now;

	if (!mb->stamp.valid || !mb->dir[0])
		return 0;
	md_stamp_take(mb->u, mb->dir, &now);
	return md_stamp_same(&mb->stamp, &now);
}

/* Bring mb->msgs up to date for a read: nothing to do while held, a
 * stamp check when it can tell, else a scan. */
int
md_mbox_refresh(struct ps_mbox *mb, struct ps_error *err)
{
	char dir[MD_PATH_MAX];
	struct md_uidlist_hdr h;
	struct md_lock l;
	uint32_t first;
	int r;

	if (mb->held && mb->fresh)
		return 0;
	r = md_lock(mb->u, &l, err);
	if (r < 0)
		return r;
	if (!md_mbox_unchanged(mb))
		r = md_mbox_scan_locked(mb, 0, dir, &h, &first, err);
	md_unlock(&l);
	if (r == 0)
		mb->fresh = 1;
	return r;
}

void
md_mailbox_hold(struct ps_mbox *mb)
{
	mb->held = 1;
	mb->fresh = 0; /* the first read of the hold checks */
}

void
md_mailbox_release(struct ps_mbox *mb)
{
	mb->held = 0;
	mb->fresh = 0;
	md_mbox_drop_fd(mb);
}
