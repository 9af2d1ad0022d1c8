/* STATUS (RFC 3501 6.3.10) of a folder, from its files and UID list:
 * a message is a file in new/ or cur/; unseen ones lack 'S' in their
 * ":2," info; new/ holds the ones no session has seen (\Recent). Until
 * the per-user index lands (MODSEQ, issue #8), HIGHESTMODSEQ is 1. */
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "storage_maildir.h"

/* 1 when file name's Maildir info holds flag letter ch. */
static int
md_info_has(const char *name, char ch)
{
	const char *info = strstr(name, ":2,");

	return info && strchr(info + 3, ch) != NULL;
}

static int
md_status_scan(const char *dir, const char *sub,
	       struct ps_mailbox_status *st, struct ps_error *err)
{
	char path[MD_PATH_MAX], file[MD_PATH_MAX];
	struct dirent *de;
	struct stat sb;
	DIR *d;

	md_path(path, dir, sub);
	d = opendir(path);
	if (!d)
		return md_errno(err, "opendir", path);
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		md_path(file, path, de->d_name);
		if (stat(file, &sb) < 0 || !S_ISREG(sb.st_mode))
			continue;
		st->messages++;
		st->size += (uint64_t)sb.st_size;
		if (!md_info_has(de->d_name, 'S'))
			st->unseen++;
		if (sub[0] == 'n')
			st->recent++;
	}
	closedir(d);
	return 0;
}

int
md_mailbox_status(struct ps_store_user *u, const char *name,
		  struct ps_mailbox_status *st_r, struct ps_error *err)
{
	char canon[MD_NAME_MAX + 1], dir[MD_PATH_MAX];
	struct md_uidlist_hdr h;
	int r = md_folder_find(u, name, canon, dir, err);

	memset(st_r, 0, sizeof(*st_r));
	if (r == 0)
		r = md_uidlist_read_hdr(dir, &h, err);
	if (r == 0)
		r = md_status_scan(dir, "new", st_r, err);
	if (r == 0)
		r = md_status_scan(dir, "cur", st_r, err);
	if (r < 0)
		return r;
	st_r->uidnext = h.nextuid;
	st_r->uidvalidity = h.uidvalidity;
	st_r->highestmodseq = 1;
	return 0;
}
