/* SELECT/EXAMINE (RFC 3501 6.3.1, 6.3.2) and the reads of an open
 * mailbox: FETCH's metadata and the message bytes. The handle names its
 * folder by the GUID in its UID list, so it follows renames and finds
 * nothing once the folder is deleted (even if the name comes back).
 * A call scans the folder under the user's lock unless the handle can
 * tell nothing changed since its last scan (cache.c), so mail delivered
 * by anyone, Poshta or another MDA, shows at once. Messages with bare
 * LFs are served with CRLF lines (crlf.c). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "storage_maildir.h"

/* Scan mb's folder again (claim: take new/'s messages as \Recent); the
 * caller holds the user's lock. */
int
md_mbox_scan_locked(struct ps_mbox *mb, int claim, char *dir,
		    struct md_uidlist_hdr *h, uint32_t *first_r,
		    struct ps_error *err)
{
	struct md_stamp before, after;
	int r = 0;

	/* The folder where the last scan found it, unless it moved. */
	if (!mb->dir[0] || md_uidlist_read_hdr(mb->dir, h, NULL) < 0 ||
	    strcmp(h->guid, mb->guid) != 0)
		r = md_folder_by_guid(mb->u, mb->guid, mb->dir, err);
	snprintf(dir, MD_PATH_MAX, "%s", mb->dir);
	md_msgs_free(&mb->msgs);
	md_kw_free(&mb->kw);
	mb->fresh = 0;
	mb->stamp.valid = 0;
	mb->crlf.uid = 0;
	if (r < 0) {
		mb->dir[0] = '\0';
		return r;
	}
	md_stamp_take(mb->u, dir, &before);
	r = md_scan(dir, claim, &mb->msgs, h, first_r, err);
	if (r == 0)
		r = md_kw_load(dir, &mb->kw, err);
	if (r == 0)
		r = md_idx_sync(mb->u, mb->guid, dir, &mb->msgs, h->nextuid,
				claim, &mb->sync, err);
	if (r < 0)
		return r;
	mb->uidnext = h->nextuid;
	mb->uidvalidity = h->uidvalidity;
	md_stamp_take(mb->u, dir, &after);
	mb->stamp = before;
	mb->stamp.valid = before.valid && md_stamp_same(&before, &after);
	mb->fresh = 1;
	return 0;
}

/* The same, taking the lock. It is not held on return: callbacks may
 * call back into the store. */
int
md_mbox_scan(struct ps_mbox *mb, int claim, char *dir,
	     struct md_uidlist_hdr *h, uint32_t *first_r,
	     struct ps_error *err)
{
	struct md_lock l;
	int r = md_lock(mb->u, &l, err);

	if (r < 0)
		return r;
	r = md_mbox_scan_locked(mb, claim, dir, h, first_r, err);
	md_unlock(&l);
	return r;
}

static void
md_mbox_status(const struct ps_mbox *mb, struct ps_mailbox_status *st)
{
	memset(st, 0, sizeof(*st));
	for (size_t i = 0; i < mb->msgs.n; i++) {
		const struct md_msg *m = &mb->msgs.v[i];

		st->messages++;
		st->size += m->vsize;
		st->unseen += !(m->flags & PS_FLAG_SEEN);
	}
	st->recent = mb->sync.recent;
	st->uidnext = mb->uidnext;
	st->uidvalidity = mb->uidvalidity;
	st->highestmodseq = mb->sync.highest;
}

int
md_mailbox_open(struct ps_store_user *u, const char *name, unsigned mode,
		struct ps_mbox **mb_r, struct ps_mailbox_status *st_r,
		uint32_t *first_recent_r, struct ps_error *err)
{
	char canon[MD_NAME_MAX + 1], dir[MD_PATH_MAX];
	struct md_uidlist_hdr h;
	struct ps_mbox *mb;
	uint32_t first;
	int r = md_folder_find(u, name, canon, dir, err);

	*mb_r = NULL;
	if (r == 0)
		r = md_uidlist_read_hdr(dir, &h, err);
	if (r < 0)
		return r;
	mb = calloc(1, sizeof(*mb));
	if (!mb)
		return md_err(err, PS_ENOMEM, "out of memory");
	mb->u = u;
	mb->mode = mode;
	mb->rfd = -1;
	memcpy(mb->guid, h.guid, sizeof(mb->guid));
	snprintf(mb->dir, sizeof(mb->dir), "%s", dir);
	r = md_mbox_scan(mb, !(mode & PS_OPEN_READONLY), dir, &h, &first, err);
	if (r < 0) {
		md_mailbox_close(mb);
		return r;
	}
	(void)first; /* new/ moved to cur/: the index says what is \Recent */
	md_mbox_status(mb, st_r);
	*first_recent_r = mode & PS_OPEN_READONLY ? mb->uidnext
						  : mb->sync.first_recent;
	*mb_r = mb;
	return 0;
}

void
md_mailbox_close(struct ps_mbox *mb)
{
	if (!mb)
		return;
	md_mbox_drop_fd(mb);
	md_msgs_free(&mb->msgs);
	md_kw_free(&mb->kw);
	free(mb);
}

int
md_in_set(uint32_t uid, const struct ps_uid_range *set, size_t nset)
{
	if (!set)
		return 1;
	/* A range may come as last:first (RFC 3501 9, seq-range). */
	for (size_t i = 0; i < nset; i++) {
		uint32_t lo = set[i].first, hi = set[i].last;

		if (lo > hi)
			lo = set[i].last, hi = set[i].first;
		if (uid >= lo && uid <= hi)
			return 1;
	}
	return 0;
}

int
md_mbox_report(const struct ps_mbox *mb, const struct md_msg *x,
	  ps_store_msg_fn fn, void *arg)
{
	const char *kw[MD_KEYWORD_MAX + MD_KW_LETTERS];
	char *extra = x->extra ? strdup(x->extra) : NULL, *save = NULL;
	int r;
	struct ps_msg m = {
		.uid = x->uid, .flags = x->flags, .keywords = kw,
		.internal_date = x->mtime, .internal_tz = x->tz,
		.size = x->vsize, .modseq = x->modseq, .cache = x->cache,
		.cache_len = x->cache_len,
	};

	for (unsigned i = 0; i < MD_KW_LETTERS; i++)
		if (x->kw & 1u << i && i < mb->kw.n && mb->kw.v[i])
			kw[m.nkeywords++] = mb->kw.v[i];
	for (char *w = extra ? strtok_r(extra, " ", &save) : NULL;
	     w && m.nkeywords < sizeof(kw) / sizeof(kw[0]);
	     w = strtok_r(NULL, " ", &save))
		kw[m.nkeywords++] = w;
	r = fn(&m, arg);
	free(extra);
	return r;
}

int
md_msg_fetch(struct ps_mbox *mb, const struct ps_uid_range *set,
	     size_t nset, ps_store_msg_fn fn, void *arg, struct ps_error *err)
{
	int r = mb->walking ? 0 : md_mbox_refresh(mb, err);

	/* A callback may read messages through mb: no rescan may free
	 * msgs while it is walked. */
	mb->walking++;
	for (size_t i = 0; i < mb->msgs.n && r == 0; i++)
		if (md_in_set(mb->msgs.v[i].uid, set, nset))
			r = md_mbox_report(mb, &mb->msgs.v[i], fn, arg);
	mb->walking--;
	return r;
}

static struct md_msg *
md_find(struct ps_mbox *mb, uint32_t uid)
{
	size_t lo = 0, hi = mb->msgs.n;

	while (lo < hi) { /* msgs is in UID order */
		size_t mid = lo + (hi - lo) / 2;

		if (mb->msgs.v[mid].uid < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < mb->msgs.n && mb->msgs.v[lo].uid == uid ? &mb->msgs.v[lo]
							    : NULL;
}

/* x's file, looked for by its base name in cur/ and new/: someone
 * changed its flags (a rename) since the scan. Found, x->file follows. */
static int
md_refind(const char *dir, struct md_msg *x)
{
	char path[MD_PATH_MAX], *file;
	const char *name = x->file + 4;
	size_t base = md_base_len(name);
	struct dirent *de = NULL;
	DIR *d;

	for (int sub = 0; sub < 2 && !de; sub++) {
		snprintf(path, sizeof(path), "%s/%s", dir, sub ? "new" : "cur");
		if (!(d = opendir(path)))
			continue;
		while ((de = readdir(d)))
			if (md_base_len(de->d_name) == base &&
			    memcmp(de->d_name, name, base) == 0)
				break;
		if (de && (file = malloc(strlen(de->d_name) + 5))) {
			sprintf(file, "%s/%s", sub ? "new" : "cur", de->d_name);
			free(x->file);
			x->file = file;
		}
		closedir(d);
	}
	return de ? 0 : -1;
}

/* Open message uid (*x_r: its entry). The entry from the last scan is
 * used as it is (a read needs no rescan); a file renamed since is found
 * by its base name, one not in the scan by scanning again. */
static int
md_open_msg(struct ps_mbox *mb, uint32_t uid, struct md_msg **x_r,
	    struct ps_error *err)
{
	char path[MD_PATH_MAX];
	struct md_msg *x = md_find(mb, uid);
	int fd, r;

	if (!x && !mb->walking && !(mb->held && mb->fresh)) {
		r = md_mbox_refresh(mb, err);
		if (r < 0)
			return r;
		x = md_find(mb, uid);
	}
	if (!x || (!mb->dir[0] &&
		   md_folder_by_guid(mb->u, mb->guid, mb->dir, err) < 0))
		return x ? PS_STORE_ENOMBOX
			 : md_err(err, PS_STORE_ENOMSG, "no message %u", uid);
	md_path(path, mb->dir, x->file);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		/* Renamed (flags), or the folder itself moved. */
		if (md_refind(mb->dir, x) < 0 &&
		    (md_folder_by_guid(mb->u, mb->guid, mb->dir, NULL) < 0 ||
		     md_refind(mb->dir, x) < 0))
			return md_err(err, PS_STORE_ENOMSG, "message %u is "
				      "gone", uid);
		md_path(path, mb->dir, x->file);
		fd = open(path, O_RDONLY | O_CLOEXEC);
	}
	*x_r = x;
	return fd < 0 ? md_errno(err, "open", path) : fd;
}

void
md_mbox_drop_fd(struct ps_mbox *mb)
{
	if (mb->rfd >= 0)
		close(mb->rfd);
	mb->rfd = -1;
	mb->rfd_uid = 0;
}

/* Held, a message read in pieces is opened once: its file stays open
 * until another is read or the hold ends (a rename or an unlink
 * meanwhile leaves the open file as it was, which a hold allows). */
int
md_msg_read(struct ps_mbox *mb, uint32_t uid, uint64_t offset, void *buf,
	    size_t len, size_t *got_r, struct ps_error *err)
{
	struct md_msg *x = NULL;
	int fd, r = 0;
	ssize_t n = 0;

	*got_r = 0;
	if (mb->held && mb->rfd >= 0 && mb->rfd_uid == uid &&
	    (x = md_find(mb, uid))) {
		fd = mb->rfd;
	} else {
		md_mbox_drop_fd(mb);
		fd = md_open_msg(mb, uid, &x, err);
	}
	if (fd < 0)
		return fd;
	if (x->vsize != x->size) {
		r = md_crlf_read(fd, &mb->crlf, uid, offset, buf, len, got_r);
	} else {
		do
			n = pread(fd, buf, len, (off_t)offset);
		while (n < 0 && errno == EINTR);
		r = n < 0 ? -1 : 0;
		*got_r = n > 0 ? (size_t)n : 0;
	}
	if (mb->held && r == 0) {
		mb->rfd = fd;
		mb->rfd_uid = uid;
	} else if (fd == mb->rfd) {
		md_mbox_drop_fd(mb);
	} else {
		close(fd);
	}
	return r < 0 ? md_errno(err, "read", "message") : 0;
}
