/* Users of storage_maildir: one Maildir++ tree each, at
 * path/DOMAIN/LOCAL/Maildir, created with INBOX (the top cur/ new/ tmp/)
 * on first open. Deleting a user removes the whole home folder. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "storage_maildir.h"

static void
md_user_free(struct ps_store_user *u)
{
	free(u->name);
	free(u->home);
	free(u->root);
	free(u);
}

/* INBOX's cur/ new/ tmp/ and UID list, made once under the lock. */
static int
md_user_create(struct ps_store_user *u, struct ps_error *err)
{
	char path[MD_PATH_MAX];
	struct md_lock l;
	int r;

	md_path(path, u->root, MD_UIDLIST);
	if (access(path, F_OK) == 0)
		return 0;
	r = md_mkdirs(u->root, err);
	if (r == 0)
		r = md_lock(u, &l, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < 3 && r == 0; i++) {
		static const char *const sub[] = { "cur", "new", "tmp" };

		md_path(path, u->root, sub[i]);
		r = md_mkdirs(path, err);
	}
	md_path(path, u->root, MD_UIDLIST);
	if (r == 0 && access(path, F_OK) != 0)
		r = md_uidlist_create(u, u->root, err);
	md_unlock(&l);
	return r;
}

int
md_user_open(const char *user, uint64_t quota_bytes,
	     struct ps_store_user **u_r, struct ps_error *err)
{
	struct ps_store_user *u = calloc(1, sizeof(*u));
	int r;

	*u_r = NULL;
	if (!u)
		return md_err(err, PS_ENOMEM, "out of memory");
	u->quota = quota_bytes;
	r = md_user_dirs(user, &u->name, &u->home, &u->root, err);
	if (r == 0)
		r = md_user_create(u, err);
	if (r < 0) {
		md_user_free(u);
		return r;
	}
	*u_r = u;
	return 0;
}

void
md_user_close(struct ps_store_user *u)
{
	if (u)
		md_user_free(u);
}

int
md_user_delete(const char *user, struct ps_error *err)
{
	char *name, *home, *root;
	int r = md_user_dirs(user, &name, &home, &root, err);

	if (r < 0)
		return r;
	r = md_rmtree(home, err);
	free(name);
	free(home);
	free(root);
	return r;
}
