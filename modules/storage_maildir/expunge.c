/* EXPUNGE and UID EXPUNGE (RFC 3501 6.4.3, RFC 4315 2.1): the \Deleted
 * messages' files are unlinked under the user's lock, and a scan drops
 * them from the UID list; the removed UIDs are reported, ascending, once
 * the lock is let go. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "storage_maildir.h"

static int
md_expunge_locked(struct ps_mbox *mb, const struct ps_uid_range *set,
		  size_t nset, uint32_t **uids_r, size_t *n_r, char *name,
		  struct ps_error *err)
{
	char dir[MD_PATH_MAX], path[MD_PATH_MAX];
	struct md_uidlist_hdr h;
	uint32_t first, *uids;
	int r = md_mbox_scan_locked(mb, 0, dir, &h, &first, err);

	if (r < 0)
		return r;
	md_dir_mailbox(mb->u, dir, name);
	uids = *uids_r = calloc(mb->msgs.n + 1, sizeof(*uids));
	if (!uids)
		return md_err(err, PS_ENOMEM, "out of memory");
	for (size_t i = 0; i < mb->msgs.n; i++) {
		const struct md_msg *x = &mb->msgs.v[i];

		if (!(x->flags & PS_FLAG_DELETED) ||
		    !md_in_set(x->uid, set, nset))
			continue;
		md_path(path, dir, x->file);
		if (unlink(path) == 0)
			uids[(*n_r)++] = x->uid;
	}
	/* The UID list forgets them now, not at someone's next scan. */
	return *n_r ? md_mbox_scan_locked(mb, 0, dir, &h, &first, err) : 0;
}

int
md_expunge(struct ps_mbox *mb, const struct ps_uid_range *set, size_t nset,
	   ps_store_uid_fn removed, void *arg, struct ps_error *err)
{
	char name[MD_NAME_MAX + 1];
	uint32_t *uids = NULL;
	size_t n = 0;
	struct md_lock l;
	int r;

	if (mb->mode & PS_OPEN_READONLY)
		return md_err(err, PS_ESTATE, "the mailbox is read-only");
	r = md_lock(mb->u, &l, err);
	if (r < 0)
		return r;
	r = md_expunge_locked(mb, set, nset, &uids, &n, name, err);
	md_unlock(&l);
	if (n)
		md_notify(mb->u, name);
	for (size_t i = 0; i < n && r == 0 && removed; i++)
		r = removed(uids[i], arg);
	free(uids);
	return r;
}
