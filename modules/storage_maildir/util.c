/* File helpers of storage_maildir: errors, folders made and removed, and
 * small files replaced atomically (write a temporary file, fsync it,
 * rename it over the old one, fsync the folder), which is how the UID
 * list, the subscriptions and the special-use sidecar change. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "storage_maildir.h"

/* errno after a failed call on path, as PS_EIO with a message. */
int
md_errno(struct ps_error *err, const char *what, const char *path)
{
	int e = errno;

	return md_err(err, e == ENOMEM ? PS_ENOMEM : PS_EIO, "%s %s: %s",
		      what, path, strerror(e));
}

/* Make dir and its missing parents, 0700: mail is for its owner only. */
int
md_mkdirs(const char *dir, struct ps_error *err)
{
	char p[MD_PATH_MAX];

	if (snprintf(p, sizeof(p), "%s", dir) >= (int)sizeof(p))
		return md_err(err, PS_EINVAL, "path too long: %s", dir);
	for (char *s = strchr(p + 1, '/');; s = strchr(s + 1, '/')) {
		if (s)
			*s = '\0';
		if (mkdir(p, 0700) < 0 && errno != EEXIST)
			return md_errno(err, "mkdir", p);
		if (!s)
			break;
		*s = '/';
	}
	return 0;
}

/* A rename or a new entry is durable only once its folder is synced. */
int
md_fsync_dir(const char *dir, struct ps_error *err)
{
	int fd, r = 0;

	if (!md_config.fsync)
		return 0;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return md_errno(err, "open", dir);
	if (fsync(fd) < 0)
		r = md_errno(err, "fsync", dir);
	close(fd);
	return r;
}

static int
md_write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Replace path with data: readers see the old file or the new one,
 * never a part, and after a crash one of the two is there. */
int
md_write_atomic(const char *path, const void *data, size_t len,
		struct ps_error *err)
{
	char tmp[MD_PATH_MAX], dir[MD_PATH_MAX], *slash;
	char rnd[17];
	int fd, r = 0;

	md_random_hex(rnd, 8);
	if (snprintf(tmp, sizeof(tmp), "%s.%s.tmp", path, rnd) >=
	    (int)sizeof(tmp))
		return md_err(err, PS_EINVAL, "path too long: %s", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return md_errno(err, "open", tmp);
	if (md_write_all(fd, data, len) < 0)
		r = md_errno(err, "write", tmp);
	if (r == 0 && md_config.fsync && fsync(fd) < 0)
		r = md_errno(err, "fsync", tmp);
	close(fd);
	if (r == 0 && rename(tmp, path) < 0)
		r = md_errno(err, "rename", tmp);
	if (r < 0) {
		unlink(tmp);
		return r;
	}
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	return md_fsync_dir(dir, err);
}

/* The whole of a small file (a list, a header), NUL-terminated; a
 * missing file reads as empty. */
int
md_read_small(const char *path, char **text_r, size_t *len_r,
	      struct ps_error *err)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t len = 0, cap = 0, n;

	*text_r = NULL;
	*len_r = 0;
	if (!f && errno != ENOENT)
		return md_errno(err, "open", path);
	do {
		if (len + 4096 + 1 > cap) {
			char *nb = realloc(buf, cap = cap * 2 + 4096 + 1);

			if (!nb) {
				free(buf);
				if (f)
					fclose(f);
				return md_err(err, PS_ENOMEM, "out of memory");
			}
			buf = nb;
		}
		n = f ? fread(buf + len, 1, 4096, f) : 0;
		len += n;
	} while (n);
	if (f)
		fclose(f);
	buf[len] = '\0';
	*text_r = buf;
	*len_r = len;
	return 0;
}

static int
md_rm_one(const char *path, const struct stat *st, int type, struct FTW *f)
{
	(void)st;
	(void)f;
	return type == FTW_DP ? rmdir(path) : unlink(path);
}

/* Remove dir and everything in it; a missing dir is no error. */
int
md_rmtree(const char *dir, struct ps_error *err)
{
	if (nftw(dir, md_rm_one, 16, FTW_DEPTH | FTW_PHYS) < 0 &&
	    errno != ENOENT)
		return md_errno(err, "remove", dir);
	return 0;
}

int
md_is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* bytes random bytes as hex (out holds 2 * bytes + 1): GUIDs and the
 * names of temporary files. */
void
md_random_hex(char *out, size_t bytes)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char b[32];

	if (bytes > sizeof(b))
		bytes = sizeof(b);
	if (getrandom(b, bytes, 0) != (ssize_t)bytes)
		for (size_t i = 0; i < bytes; i++)
			b[i] = (unsigned char)rand();
	for (size_t i = 0; i < bytes; i++) {
		out[2 * i] = hex[b[i] >> 4];
		out[2 * i + 1] = hex[b[i] & 15];
	}
	out[2 * bytes] = '\0';
}

/* out (MD_PATH_MAX bytes) = dir/name. A path that does not fit becomes
 * "", which every file call refuses, rather than a shorter path that
 * could name another file. */
int
md_path(char *out, const char *dir, const char *name)
{
	int n = snprintf(out, MD_PATH_MAX, "%s/%s", dir, name);

	if (n < 0 || n >= MD_PATH_MAX) {
		out[0] = '\0';
		return -1;
	}
	return 0;
}
