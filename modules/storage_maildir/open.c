/* SELECT/EXAMINE (RFC 3501 6.3.1, 6.3.2) and the reads of an open
 * mailbox: FETCH's metadata and the message bytes. The handle names its
 * folder by the GUID in its UID list, so it follows renames and finds
 * nothing once the folder is deleted (even if the name comes back).
 * Each call scans the folder afresh under the user's lock, so mail
 * delivered by anyone, Poshta or another MDA, shows at once. */
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
	int r = md_folder_by_guid(mb->u, mb->guid, dir, err);

	md_msgs_free(&mb->msgs);
	md_kw_free(&mb->kw);
	if (r == 0)
		r = md_scan(dir, claim, &mb->msgs, h, first_r, err);
	if (r == 0)
		r = md_kw_load(dir, &mb->kw, err);
	if (r == 0)
		r = md_idx_sync(mb->u, mb->guid, &mb->msgs, h->nextuid, claim,
				&mb->sync, err);
	if (r == 0) {
		mb->uidnext = h->nextuid;
		mb->uidvalidity = h->uidvalidity;
	}
	return r;
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
		st->size += m->size;
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
	memcpy(mb->guid, h.guid, sizeof(mb->guid));
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
		.size = x->size, .modseq = x->modseq, .cache = x->cache,
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
	char dir[MD_PATH_MAX];
	struct md_uidlist_hdr h;
	uint32_t first;
	int r = md_mbox_scan(mb, 0, dir, &h, &first, err);

	for (size_t i = 0; i < mb->msgs.n && r == 0; i++)
		if (md_in_set(mb->msgs.v[i].uid, set, nset))
			r = md_mbox_report(mb, &mb->msgs.v[i], fn, arg);
	return r;
}

static const struct md_msg *
md_find(const struct ps_mbox *mb, uint32_t uid)
{
	for (size_t i = 0; i < mb->msgs.n; i++)
		if (mb->msgs.v[i].uid == uid)
			return &mb->msgs.v[i];
	return NULL;
}

/* Open message uid; a file renamed since the last scan (its flags
 * changed) is found by scanning again. */
static int
md_open_msg(struct ps_mbox *mb, uint32_t uid, struct ps_error *err)
{
	char dir[MD_PATH_MAX], path[MD_PATH_MAX];
	struct md_uidlist_hdr h;
	const struct md_msg *m;
	uint32_t first;
	int fd = -1, r;

	for (int pass = 0; pass < 2 && fd < 0; pass++) {
		if (pass || !(m = md_find(mb, uid))) {
			r = md_mbox_scan(mb, 0, dir, &h, &first, err);
			if (r < 0)
				return r;
		} else {
			r = md_folder_by_guid(mb->u, mb->guid, dir, err);
			if (r < 0)
				return r;
		}
		m = md_find(mb, uid);
		if (!m)
			return md_err(err, PS_STORE_ENOMSG, "no message %u",
				      uid);
		md_path(path, dir, m->file);
		fd = open(path, O_RDONLY | O_CLOEXEC);
	}
	return fd < 0 ? md_errno(err, "open", path) : fd;
}

int
md_msg_read(struct ps_mbox *mb, uint32_t uid, uint64_t offset, void *buf,
	    size_t len, size_t *got_r, struct ps_error *err)
{
	int fd = md_open_msg(mb, uid, err);
	ssize_t n;

	*got_r = 0;
	if (fd < 0)
		return fd;
	do
		n = pread(fd, buf, len, (off_t)offset);
	while (n < 0 && errno == EINTR);
	close(fd);
	if (n < 0)
		return md_errno(err, "read", "message");
	*got_r = (size_t)n;
	return 0;
}
