/* RENAME (RFC 3501 6.3.5): a folder and the folders below it move to the
 * new name, their UID lists (so UIDVALIDITY and UIDs) with them, and the
 * subscriptions of the moved mailboxes follow. Renaming INBOX moves its
 * messages and UID list to a new folder and leaves INBOX empty with its
 * UIDVALIDITY and next UID, so no UID is given twice. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "storage_maildir.h"

/* The mailboxes that move: from and every folder below it. */
static int
md_rename_set(struct ps_store_user *u, const char *from,
	      struct md_names *moved, struct ps_error *err)
{
	char name[MD_NAME_MAX + 1];
	size_t len = strlen(from);
	struct dirent *de;
	DIR *d = opendir(u->root);
	int r = md_names_add(moved, from);

	if (!d)
		return md_errno(err, "opendir", u->root);
	while (r == 0 && (de = readdir(d)))
		if (md_dir_name(u->root, de->d_name, name, sizeof(name)) == 0 &&
		    strncmp(name, from, len) == 0 && name[len] == MD_DELIM)
			r = md_names_add(moved, name);
	closedir(d);
	return r < 0 ? md_err(err, r, "out of memory") : 0;
}

/* The new name of old (from or below it) and its folder; every check a
 * move needs, before anything moves. */
static int
md_rename_target(struct ps_store_user *u, const char *old, const char *from,
		 const char *to, char *name, char *dir, struct ps_error *err)
{
	char canon[MD_NAME_MAX + 1];

	if (md_name_join(name, to, old + strlen(from)) < 0)
		return md_err(err, PS_STORE_EBADNAME, "%s would pass %d bytes",
			      old, MD_NAME_MAX);
	if (md_name_canon(name, canon, err) < 0 ||
	    md_folder_dir(u, name, dir, MD_PATH_MAX, err) < 0)
		return PS_STORE_EBADNAME;
	if (md_folder_exists(u, name))
		return md_err(err, PS_STORE_EEXIST, "mailbox %s exists", name);
	return 0;
}

static int
md_rename_move(struct ps_store_user *u, const struct md_names *moved,
	       const char *from, const char *to, struct ps_error *err)
{
	char name[MD_NAME_MAX + 1], src[MD_PATH_MAX], dst[MD_PATH_MAX];
	int r = 0;

	for (size_t i = 0; i < moved->n && r == 0; i++)
		r = md_rename_target(u, moved->v[i], from, to, name, dst, err);
	for (size_t i = 0; i < moved->n && r == 0; i++) {
		md_rename_target(u, moved->v[i], from, to, name, dst, NULL);
		md_folder_dir(u, moved->v[i], src, sizeof(src), NULL);
		if (rename(src, dst) < 0)
			r = md_errno(err, "rename", src);
		else
			r = md_folder_name_file(dst, name, dst, err);
	}
	return r < 0 ? r : md_fsync_dir(u->root, err);
}

/* Subscriptions of moved mailboxes take their new names. */
static int
md_rename_subs(struct ps_store_user *u, const struct md_names *moved,
	       const char *from, const char *to, struct ps_error *err)
{
	struct md_names subs;
	char name[MD_NAME_MAX + 1];
	int r = md_subs_read(u, &subs, err), changed = 0;

	for (size_t i = 0; i < subs.n && r == 0; i++) {
		if (md_names_find(moved, subs.v[i]) < 0)
			continue;
		md_name_join(name, to, subs.v[i] + strlen(from));
		free(subs.v[i]);
		subs.v[i] = strdup(name);
		if (!subs.v[i])
			r = md_err(err, PS_ENOMEM, "out of memory");
		changed = 1;
	}
	if (r == 0 && changed)
		r = md_subs_write(u, &subs, err);
	md_names_free(&subs);
	return r;
}

static int
md_rename_locked(struct ps_store_user *u, const char *from, const char *to,
		 struct md_names *moved, struct ps_error *err)
{
	size_t len = strlen(from);
	int r;

	if (!md_folder_exists(u, from))
		return md_err(err, PS_STORE_ENOMBOX, "no mailbox %s", from);
	if (md_folder_exists(u, to))
		return md_err(err, PS_STORE_EEXIST, "mailbox %s exists", to);
	/* INBOX's messages may go to a child of it; nothing else moves
	 * below itself. */
	if (!md_name_is_inbox(from) && strncmp(to, from, len) == 0 &&
	    to[len] == MD_DELIM)
		return md_err(err, PS_STORE_EBADNAME, "a mailbox cannot move "
			      "below itself");
	if (md_name_is_inbox(from))
		return md_rename_inbox(u, to, err);
	r = md_rename_set(u, from, moved, err);
	if (r == 0)
		r = md_folder_parents(u, to, err);
	if (r == 0)
		r = md_rename_move(u, moved, from, to, err);
	if (r == 0)
		r = md_rename_subs(u, moved, from, to, err);
	return r;
}

int
md_mailbox_rename(struct ps_store_user *u, const char *from, const char *to,
		  struct ps_error *err)
{
	char cfrom[MD_NAME_MAX + 1], cto[MD_NAME_MAX + 1];
	char name[MD_NAME_MAX + 1];
	struct md_names moved = { 0 };
	struct md_lock l;
	int r = md_name_canon(from, cfrom, err);

	if (r == 0)
		r = md_name_canon(to, cto, err);
	if (r == 0)
		r = md_lock(u, &l, err);
	if (r < 0)
		return r;
	r = md_rename_locked(u, cfrom, cto, &moved, err);
	md_unlock(&l);
	for (size_t i = 0; i < moved.n && r == 0; i++) {
		md_name_join(name, cto, moved.v[i] + strlen(cfrom));
		md_notify_rename(u, moved.v[i], name);
	}
	if (r == 0 && md_name_is_inbox(cfrom))
		md_notify(u, cto);
	md_names_free(&moved);
	return r;
}
