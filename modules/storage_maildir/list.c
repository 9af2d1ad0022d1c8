/* LIST (RFC 3501 6.3.8, RFC 5258): every folder of the Maildir++ tree,
 * INBOX first, with \HasChildren or \HasNoChildren, special use and
 * subscription; a parent that has no folder of its own is \Noselect; a
 * subscribed name that is not there is \NonExistent. Folders whose names
 * do not decode (made by other tools) are not shown. */
#include <dirent.h>
#include <stdio.h>
#include <string.h>

#include "storage_maildir.h"

/* Every folder's name, INBOX included. */
static int
md_list_folders(const struct ps_store_user *u, struct md_names *have,
		struct ps_error *err)
{
	char name[MD_NAME_MAX + 1], path[MD_PATH_MAX];
	struct dirent *de;
	DIR *d = opendir(u->root);
	int r = md_names_add(have, "INBOX");

	if (!d)
		return md_errno(err, "opendir", u->root);
	while (r == 0 && (de = readdir(d))) {
		if (md_dir_name(u->root, de->d_name, name, sizeof(name)) < 0)
			continue;
		md_path(path, u->root, de->d_name);
		if (md_is_dir(path) && md_names_find(have, name) < 0)
			r = md_names_add(have, name);
	}
	closedir(d);
	return r < 0 ? md_err(err, r, "out of memory") : 0;
}

static int
md_has_child(const struct md_names *have, const char *name)
{
	size_t len = strlen(name);

	for (size_t i = 0; i < have->n; i++)
		if (strncmp(have->v[i], name, len) == 0 &&
		    have->v[i][len] == MD_DELIM)
			return 1;
	return 0;
}

/* Parents of folders that are no folder themselves. */
static int
md_list_implied(const struct md_names *have, struct md_names *implied)
{
	char name[MD_NAME_MAX + 1];

	for (size_t i = 0; i < have->n; i++) {
		snprintf(name, sizeof(name), "%s", have->v[i]);
		for (char *s = strrchr(name, MD_DELIM); s;
		     s = strrchr(name, MD_DELIM)) {
			*s = '\0';
			if (md_names_find(have, name) < 0 &&
			    md_names_find(implied, name) < 0 &&
			    md_names_add(implied, name) < 0)
				return PS_ENOMEM;
		}
	}
	return 0;
}

static unsigned
md_folder_attrs(const struct ps_store_user *u, const struct md_names *have,
		const struct md_names *subs, const char *name)
{
	char dir[MD_PATH_MAX];
	unsigned a = md_has_child(have, name) ? PS_MBOX_HASCHILDREN
					      : PS_MBOX_HASNOCHILDREN;

	if (md_names_find(subs, name) >= 0)
		a |= PS_MBOX_SUBSCRIBED;
	if (md_folder_dir(u, name, dir, sizeof(dir), NULL) == 0)
		a |= md_special_use_read(dir);
	return a;
}

static int
md_list_report(const struct ps_store_user *u, const struct md_names *have,
	       const struct md_names *implied, const struct md_names *subs,
	       ps_store_mailbox_fn fn, void *arg)
{
	struct ps_mailbox_info mb;
	int r = 0;

	for (size_t i = 0; i < have->n && r == 0; i++) {
		mb.name = have->v[i];
		mb.attrs = md_folder_attrs(u, have, subs, mb.name);
		r = fn(&mb, arg);
	}
	for (size_t i = 0; i < implied->n && r == 0; i++) {
		mb.name = implied->v[i];
		mb.attrs = PS_MBOX_NOSELECT | PS_MBOX_HASCHILDREN;
		if (md_names_find(subs, mb.name) >= 0)
			mb.attrs |= PS_MBOX_SUBSCRIBED;
		r = fn(&mb, arg);
	}
	for (size_t i = 0; i < subs->n && r == 0; i++) {
		if (md_names_find(have, subs->v[i]) >= 0 ||
		    md_names_find(implied, subs->v[i]) >= 0)
			continue;
		mb.name = subs->v[i];
		mb.attrs = PS_MBOX_NONEXISTENT | PS_MBOX_SUBSCRIBED;
		r = fn(&mb, arg);
	}
	return r;
}

int
md_mailbox_list(struct ps_store_user *u, ps_store_mailbox_fn fn, void *arg,
		struct ps_error *err)
{
	struct md_names have = { 0 }, implied = { 0 }, subs = { 0 };
	int r = md_list_folders(u, &have, err);

	if (r == 0)
		r = md_subs_read(u, &subs, err);
	if (r == 0 && md_list_implied(&have, &implied) < 0)
		r = md_err(err, PS_ENOMEM, "out of memory");
	if (r == 0)
		r = md_list_report(u, &have, &implied, &subs, fn, arg);
	md_names_free(&have);
	md_names_free(&implied);
	md_names_free(&subs);
	return r;
}
