/* Quota usage (RFC 9208 STORAGE and MESSAGE): the files of every folder.
 * Each append checks it when it begins and again under the lock at
 * commit, as storage_sqlite does. */
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "storage_maildir.h"

static void
md_usage_sub(const char *dir, const char *sub, uint64_t *bytes,
	     uint64_t *msgs)
{
	char path[MD_PATH_MAX], file[MD_PATH_MAX];
	struct dirent *de;
	struct stat st;
	DIR *d;

	md_path(path, dir, sub);
	d = opendir(path);
	if (!d)
		return;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || md_path(file, path, de->d_name) ||
		    stat(file, &st) < 0 || !S_ISREG(st.st_mode))
			continue;
		*bytes += (uint64_t)st.st_size;
		(*msgs)++;
	}
	closedir(d);
}

int
md_usage(const struct ps_store_user *u, uint64_t *bytes_r,
	 uint64_t *messages_r, struct ps_error *err)
{
	char dir[MD_PATH_MAX];
	struct dirent *de;
	DIR *d = opendir(u->root);

	*bytes_r = *messages_r = 0;
	if (!d)
		return md_errno(err, "opendir", u->root);
	md_usage_sub(u->root, "new", bytes_r, messages_r);
	md_usage_sub(u->root, "cur", bytes_r, messages_r);
	while ((de = readdir(d))) {
		if (de->d_name[0] != '.' || !strcmp(de->d_name, ".") ||
		    !strcmp(de->d_name, "..") ||
		    md_path(dir, u->root, de->d_name))
			continue;
		md_usage_sub(dir, "new", bytes_r, messages_r);
		md_usage_sub(dir, "cur", bytes_r, messages_r);
	}
	closedir(d);
	return 0;
}

int
md_quota_get(struct ps_store_user *u, uint64_t *bytes_r,
	     uint64_t *messages_r, struct ps_error *err)
{
	return md_usage(u, bytes_r, messages_r, err);
}
