/* CREATE (RFC 3501 6.3.3, parents too), DELETE (6.3.4: a mailbox with
 * children loses its folder and stays as a \Noselect parent) and
 * SUBSCRIBE/UNSUBSCRIBE (6.3.6, 6.3.7) on the Maildir++ tree, each under
 * the user's lock. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "storage_maildir.h"

/* Make the missing parents of canon, then canon. */
static int
md_create_locked(struct ps_store_user *u, const char *canon,
		 unsigned special_use, struct ps_error *err)
{
	int r;

	if (md_folder_exists(u, canon))
		return md_err(err, PS_STORE_EEXIST, "mailbox %s exists",
			      canon);
	r = md_folder_parents(u, canon, err);
	return r < 0 ? r : md_folder_make(u, canon, special_use, err);
}

int
md_mailbox_create(struct ps_store_user *u, const char *name,
		  unsigned special_use, struct ps_error *err)
{
	char canon[MD_NAME_MAX + 1], dir[MD_PATH_MAX];
	struct md_lock l;
	int r = md_name_canon(name, canon, err);

	if (r < 0)
		return r;
	if (special_use & ~PS_MBOX_SPECIAL_USE)
		return md_err(err, PS_EINVAL, "only special-use attributes "
			      "can be given to a new mailbox");
	r = md_folder_dir(u, canon, dir, sizeof(dir), err);
	if (r == 0)
		r = md_lock(u, &l, err);
	if (r < 0)
		return r;
	r = md_create_locked(u, canon, special_use, err);
	md_unlock(&l);
	if (r == 0)
		md_notify(u, canon);
	return r;
}

/* Take the folder out of the tree with one rename, then remove it, so
 * no one sees it half gone. */
static int
md_folder_remove(const struct ps_store_user *u, const char *dir,
		 struct ps_error *err)
{
	char tmp[MD_PATH_MAX], rnd[17];

	md_random_hex(rnd, 8);
	snprintf(tmp, sizeof(tmp), "%s/tmp/poshta-deleted.%s", u->root, rnd);
	if (rename(dir, tmp) < 0)
		return md_errno(err, "rename", dir);
	md_fsync_dir(u->root, NULL);
	return md_rmtree(tmp, err);
}

static int
md_delete_locked(struct ps_store_user *u, const char *canon,
		 struct ps_error *err)
{
	char dir[MD_PATH_MAX];
	int r = md_folder_dir(u, canon, dir, sizeof(dir), err);

	if (r < 0)
		return r;
	if (md_is_dir(dir))
		return md_folder_remove(u, dir, err);
	r = md_folder_has_children(u, canon, err);
	if (r < 0)
		return r;
	if (r)
		return md_err(err, PS_STORE_EHASCHILD, "%s is \\Noselect and "
			      "has children", canon);
	return md_err(err, PS_STORE_ENOMBOX, "no mailbox %s", canon);
}

int
md_mailbox_delete(struct ps_store_user *u, const char *name,
		  struct ps_error *err)
{
	char canon[MD_NAME_MAX + 1];
	struct md_lock l;
	int r = md_name_canon(name, canon, err);

	if (r < 0)
		return r;
	if (md_name_is_inbox(canon))
		return md_err(err, PS_STORE_EBADNAME, "INBOX cannot be "
			      "deleted");
	r = md_lock(u, &l, err);
	if (r < 0)
		return r;
	r = md_delete_locked(u, canon, err);
	md_unlock(&l);
	if (r == 0)
		md_notify(u, canon);
	return r;
}

int
md_mailbox_subscribe(struct ps_store_user *u, const char *name,
		     int subscribe, struct ps_error *err)
{
	char canon[MD_NAME_MAX + 1];
	struct md_names subs;
	struct md_lock l;
	int r = md_name_canon(name, canon, err), at;

	if (r == 0)
		r = md_lock(u, &l, err);
	if (r < 0)
		return r;
	r = md_subs_read(u, &subs, err);
	at = r == 0 ? md_names_find(&subs, canon) : -1;
	if (r == 0 && subscribe && at < 0) {
		r = md_names_add(&subs, canon);
		r = r < 0 ? md_err(err, r, "out of memory")
			  : md_subs_write(u, &subs, err);
	} else if (r == 0 && !subscribe && at >= 0) {
		free(subs.v[at]);
		subs.v[at] = subs.v[--subs.n];
		r = md_subs_write(u, &subs, err);
	}
	md_names_free(&subs);
	md_unlock(&l);
	return r;
}
