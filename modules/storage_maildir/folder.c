/* Folders on disk: a Maildir++ folder is root/.Name with cur/ new/ tmp/,
 * an empty "maildirfolder" file (the Maildir++ marker deliver agents
 * look for), its dovecot-uidlist and, for RFC 6154 special use, the
 * sidecar poshta-special-use (attribute words, one line). A folder is
 * built in root/tmp/ and renamed into place, so a crash leaves either no
 * folder or a whole one. A parent that has no folder of its own (one
 * deleted while it had children) is \Noselect. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "storage_maildir.h"

static const struct {
	unsigned attr;
	const char *word;
} md_special[] = {
	{ PS_MBOX_ALL, "\\All" },       { PS_MBOX_ARCHIVE, "\\Archive" },
	{ PS_MBOX_DRAFTS, "\\Drafts" }, { PS_MBOX_FLAGGED, "\\Flagged" },
	{ PS_MBOX_JUNK, "\\Junk" },     { PS_MBOX_SENT, "\\Sent" },
	{ PS_MBOX_TRASH, "\\Trash" },
};

#define MD_NSPECIAL (sizeof(md_special) / sizeof(md_special[0]))

unsigned
md_special_use_read(const char *dir)
{
	char path[MD_PATH_MAX], line[256];
	unsigned attrs = 0;
	FILE *f;

	md_path(path, dir, MD_SPECIAL_USE);
	f = fopen(path, "re");
	if (!f)
		return 0;
	if (fgets(line, sizeof(line), f))
		for (size_t i = 0; i < MD_NSPECIAL; i++)
			if (strstr(line, md_special[i].word))
				attrs |= md_special[i].attr;
	fclose(f);
	return attrs;
}

static int
md_special_use_write(const char *dir, unsigned attrs, struct ps_error *err)
{
	char path[MD_PATH_MAX], line[256];
	size_t len = 0;

	for (size_t i = 0; i < MD_NSPECIAL; i++)
		if (attrs & md_special[i].attr)
			len += (size_t)snprintf(line + len, sizeof(line) - len,
						"%s%s", len ? " " : "",
						md_special[i].word);
	line[len++] = '\n';
	md_path(path, dir, MD_SPECIAL_USE);
	return md_write_atomic(path, line, len, err);
}

/* cur/ new/ tmp/ and the Maildir++ marker in a new folder dir. */
static int
md_folder_fill(const char *dir, struct ps_error *err)
{
	static const char *const sub[] = { "cur", "new", "tmp" };
	char path[MD_PATH_MAX];
	FILE *f;

	for (size_t i = 0; i < 3; i++) {
		md_path(path, dir, sub[i]);
		if (mkdir(path, 0700) < 0 && errno != EEXIST)
			return md_errno(err, "mkdir", path);
	}
	md_path(path, dir, "maildirfolder");
	f = fopen(path, "we");
	if (!f)
		return md_errno(err, "create", path);
	fclose(f);
	return 0;
}

/* A hashed folder (names.c) keeps its full name in a file: written into
 * the folder at into (its final place dir, or where it is built). */
int
md_folder_name_file(const char *dir, const char *canon, const char *into,
		    struct ps_error *err)
{
	char path[MD_PATH_MAX], text[MD_NAME_MAX + 2];
	const char *base = strrchr(dir, '/');

	if (!base || strncmp(base + 1, MD_HASHED, strlen(MD_HASHED)) != 0)
		return 0;
	md_path(path, into, MD_NAME_FILE);
	snprintf(text, sizeof(text), "%s\n", canon);
	return md_write_atomic(path, text, strlen(text), err);
}

/* Make the folder of mailbox canon (not INBOX); the caller holds the
 * lock and has checked that it does not exist. */
int
md_folder_make(const struct ps_store_user *u, const char *canon,
	       unsigned special_use, struct ps_error *err)
{
	char dir[MD_PATH_MAX], tmp[MD_PATH_MAX], rnd[17];
	int r = md_folder_dir(u, canon, dir, sizeof(dir), err);

	if (r < 0)
		return r;
	md_random_hex(rnd, 8);
	snprintf(tmp, sizeof(tmp), "%s/tmp/poshta-folder.%s", u->root, rnd);
	if (mkdir(tmp, 0700) < 0)
		return md_errno(err, "mkdir", tmp);
	r = md_folder_fill(tmp, err);
	if (r == 0)
		r = md_uidlist_create(u, tmp, err);
	if (r == 0 && special_use)
		r = md_special_use_write(tmp, special_use, err);
	if (r == 0)
		r = md_folder_name_file(dir, canon, tmp, err);
	if (r == 0 && rename(tmp, dir) < 0)
		r = md_errno(err, "rename", tmp);
	if (r < 0) {
		md_rmtree(tmp, NULL);
		return r;
	}
	return md_fsync_dir(u->root, err);
}

int
md_folder_exists(const struct ps_store_user *u, const char *canon)
{
	char dir[MD_PATH_MAX];

	if (md_name_is_inbox(canon))
		return 1;
	return md_folder_dir(u, canon, dir, sizeof(dir), NULL) == 0 &&
	       md_is_dir(dir);
}

/* 1 when some folder lies below canon, 0 when none, or an error. Names
 * are compared, not entries: a hashed child's entry says nothing. */
int
md_folder_has_children(const struct ps_store_user *u, const char *canon,
		       struct ps_error *err)
{
	char name[MD_NAME_MAX + 1];
	size_t len = strlen(canon);
	struct dirent *de;
	DIR *d = opendir(u->root);
	int found = 0;

	if (!d)
		return md_errno(err, "opendir", u->root);
	while (!found && (de = readdir(d)))
		found = md_dir_name(u->root, de->d_name, name,
				    sizeof(name)) == 0 &&
			strncmp(name, canon, len) == 0 &&
			name[len] == MD_DELIM;
	closedir(d);
	return found;
}

/* Missing parents of canon become folders, as CREATE makes them. */
int
md_folder_parents(const struct ps_store_user *u, const char *canon,
		  struct ps_error *err)
{
	char parent[MD_NAME_MAX + 1];
	int r = 0;

	for (const char *s = strchr(canon, MD_DELIM); s && r == 0;
	     s = strchr(s + 1, MD_DELIM)) {
		snprintf(parent, sizeof(parent), "%.*s", (int)(s - canon),
			 canon);
		if (!md_folder_exists(u, parent))
			r = md_folder_make(u, parent, 0, err);
	}
	return r;
}

/* The canonical name and folder of a mailbox that can hold messages:
 * PS_STORE_ENOSELECT for a parent without a folder of its own,
 * PS_STORE_ENOMBOX when there is nothing by that name. */
int
md_folder_find(const struct ps_store_user *u, const char *name, char *canon,
	       char *dir, struct ps_error *err)
{
	int r = md_name_canon(name, canon, err);

	if (r == 0)
		r = md_folder_dir(u, canon, dir, MD_PATH_MAX, err);
	if (r < 0)
		return r;
	if (md_is_dir(dir))
		return 0;
	r = md_folder_has_children(u, canon, err);
	if (r < 0)
		return r;
	if (r)
		return md_err(err, PS_STORE_ENOSELECT, "%s is \\Noselect",
			      canon);
	return md_err(err, PS_STORE_ENOMBOX, "no mailbox %s", canon);
}
