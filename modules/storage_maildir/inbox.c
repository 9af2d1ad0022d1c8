/* RENAME of INBOX (RFC 3501 6.3.5): its messages go to a new folder, its
 * children stay. The new folder takes INBOX's UID list (UIDVALIDITY, next
 * UID and each file's UID) under a GUID of its own; INBOX keeps its
 * UIDVALIDITY and next UID with no messages. Order for a crash: the new
 * list first, then the files, then INBOX's list, so a file is always
 * listed where it lies or, at worst, in both lists. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "storage_maildir.h"

static int
md_move_files(const char *from, const char *to, struct ps_error *err)
{
	char src[MD_PATH_MAX], dst[MD_PATH_MAX];
	struct dirent *de;
	DIR *d = opendir(from);
	int r = 0;

	if (!d)
		return md_errno(err, "opendir", from);
	while (r == 0 && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		md_path(src, from, de->d_name);
		md_path(dst, to, de->d_name);
		if (rename(src, dst) < 0)
			r = md_errno(err, "rename", src);
	}
	closedir(d);
	if (r == 0)
		r = md_fsync_dir(to, err);
	return r < 0 ? r : md_fsync_dir(from, err);
}

/* The moved files' keyword letters mean what they meant in INBOX. */
static int
md_copy_small(const char *from, const char *to, const char *name,
	      struct ps_error *err)
{
	char path[MD_PATH_MAX], *text;
	size_t len;
	int r;

	md_path(path, from, name);
	r = md_read_small(path, &text, &len, err);
	if (r < 0)
		return r;
	md_path(path, to, name);
	r = len ? md_write_atomic(path, text, len, err) : 0;
	free(text);
	return r;
}

/* dir's UID list: INBOX's entries under dir's own GUID. */
static int
md_list_take(const char *inbox, const char *dir, struct ps_error *err)
{
	struct md_uidlist_hdr ih, dh;
	char path[MD_PATH_MAX], *text, *out, *rest;
	size_t len;
	int r = md_uidlist_read_hdr(inbox, &ih, err);

	if (r == 0)
		r = md_uidlist_read_hdr(dir, &dh, err);
	md_path(path, inbox, MD_UIDLIST);
	if (r == 0)
		r = md_read_small(path, &text, &len, err);
	if (r < 0)
		return r;
	rest = strchr(text, '\n');
	rest = rest ? rest + 1 : text + len;
	out = malloc(len + 128);
	if (!out) {
		free(text);
		return md_err(err, PS_ENOMEM, "out of memory");
	}
	len = (size_t)sprintf(out, "3 V%u N%u G%s\n%s", ih.uidvalidity,
			      ih.nextuid, dh.guid, rest);
	md_path(path, dir, MD_UIDLIST);
	r = md_write_atomic(path, out, len, err);
	free(out);
	free(text);
	return r;
}

static int
md_list_empty(const char *inbox, struct ps_error *err)
{
	struct md_uidlist_hdr h;
	char path[MD_PATH_MAX], text[128];
	int r = md_uidlist_read_hdr(inbox, &h, err);

	if (r < 0)
		return r;
	snprintf(text, sizeof(text), "3 V%u N%u G%s\n", h.uidvalidity,
		 h.nextuid, h.guid);
	md_path(path, inbox, MD_UIDLIST);
	return md_write_atomic(path, text, strlen(text), err);
}

int
md_rename_inbox(struct ps_store_user *u, const char *to,
		struct ps_error *err)
{
	char dir[MD_PATH_MAX], src[MD_PATH_MAX], dst[MD_PATH_MAX];
	int r = md_folder_dir(u, to, dir, sizeof(dir), err);

	if (r == 0)
		r = md_folder_parents(u, to, err);
	if (r == 0)
		r = md_folder_make(u, to, 0, err);
	if (r == 0)
		r = md_list_take(u->root, dir, err);
	if (r == 0)
		r = md_copy_small(u->root, dir, "dovecot-keywords", err);
	for (size_t i = 0; i < 2 && r == 0; i++) {
		static const char *const sub[] = { "cur", "new" };

		md_path(src, u->root, sub[i]);
		md_path(dst, dir, sub[i]);
		r = md_move_files(src, dst, err);
	}
	return r < 0 ? r : md_list_empty(u->root, err);
}
