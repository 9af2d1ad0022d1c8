/* Bodies as files below blob_dir, for stores whose database should not
 * hold the bytes. A body is written to blob_dir/tmp, fsynced, renamed to
 * blob_dir/XX/NAME (NAME random, XX its first two digits) and the folder
 * fsynced before the transaction that refers to it commits, so a
 * committed message always has its file. A file whose last message goes
 * is listed in store_blob_trash by a trigger in that transaction and
 * unlinked after the commit (sp_blob_sweep); a crash before the unlink
 * leaves the name listed for the next sweep. A crash between the rename
 * and the commit leaves a file no row names: harmless, never read. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "storage_pgsql.h"

static int
sp_write_all(int fd, const void *data, size_t len, struct ps_error *err)
{
	const char *p = data;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return sp_err(err, PS_EIO, "blob: %s",
				      strerror(errno));
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int
sp_fsync_dir(const char *dir, struct ps_error *err)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int r = fd >= 0 && fsync(fd) == 0 ? 0 : -1;

	if (fd >= 0)
		close(fd);
	return r == 0 ? 0 : sp_err(err, PS_EIO, "fsync %s: %s", dir,
				   strerror(errno));
}

/* Copy size bytes at off of the append's spool (mem while it is in
 * memory, else spool_fd) into the file. */
static int
sp_blob_fill(int fd, int spool_fd, const unsigned char *mem, uint64_t off,
	     uint64_t size, struct ps_error *err)
{
	static __thread unsigned char buf[64 * 1024];
	int r = 0;

	if (spool_fd < 0)
		return sp_write_all(fd, mem + off, (size_t)size, err);
	while (r == 0 && size) {
		size_t n = size < sizeof(buf) ? (size_t)size : sizeof(buf);
		ssize_t got = pread(spool_fd, buf, n, (off_t)off);

		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			return sp_err(err, PS_EIO, "spool: %s",
				      got ? strerror(errno) : "short read");
		r = sp_write_all(fd, buf, (size_t)got, err);
		off += (uint64_t)got;
		size -= (uint64_t)got;
	}
	return r;
}

/* Write one body; name_r gets "XX/NAME" for the row. */
int
sp_blob_write(int spool_fd, const unsigned char *mem, uint64_t off,
	      uint64_t size, char *name_r, size_t name_cap,
	      struct ps_error *err)
{
	char tmp[4096], dir[4096], path[4096], node[SP_NODE_LEN + 1];
	int fd, r;

	sp_node_make(node);
	snprintf(tmp, sizeof(tmp), "%s/tmp/%s", sp_config.blob_dir, node);
	snprintf(dir, sizeof(dir), "%s/%.2s", sp_config.blob_dir, node);
	snprintf(name_r, name_cap, "%.2s/%s", node, node + 2);
	snprintf(path, sizeof(path), "%s/%s", sp_config.blob_dir, name_r);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return sp_err(err, PS_EIO, "blob %s: %s", tmp,
			      strerror(errno));
	r = sp_blob_fill(fd, spool_fd, mem, off, size, err);
	if (r == 0 && fsync(fd) < 0)
		r = sp_err(err, PS_EIO, "fsync %s: %s", tmp, strerror(errno));
	close(fd);
	if (r == 0 && mkdir(dir, 0700) < 0 && errno != EEXIST)
		r = sp_err(err, PS_EIO, "mkdir %s: %s", dir, strerror(errno));
	if (r == 0 && rename(tmp, path) < 0)
		r = sp_err(err, PS_EIO, "rename %s: %s", tmp, strerror(errno));
	if (r == 0)
		r = sp_fsync_dir(dir, err);
	if (r < 0)
		unlink(tmp);
	return r;
}

int
sp_blob_read(const char *name, uint64_t off, void *buf, size_t len,
	     size_t *got_r, struct ps_error *err)
{
	char path[4096];
	int fd;
	ssize_t n;

	if (!sp_config.blob_dir)
		return sp_err(err, PS_EIO, "a body is in a file, but "
			      "blob_dir is not set");
	snprintf(path, sizeof(path), "%s/%s", sp_config.blob_dir, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return sp_err(err, PS_EIO, "blob %s: %s", path,
			      strerror(errno));
	do
		n = pread(fd, buf, len, (off_t)off);
	while (n < 0 && errno == EINTR);
	close(fd);
	if (n < 0)
		return sp_err(err, PS_EIO, "blob %s: %s", path,
			      strerror(errno));
	*got_r = (size_t)n;
	return 0;
}

void
sp_blob_unlink(const char *name)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", sp_config.blob_dir, name);
	unlink(path);
}

/* Unlink the files whose bodies are gone, after the commit that freed
 * them. Failures wait for the next sweep. */
void
sp_blob_sweep(struct sp_conn *c)
{
	PGresult *res;

	if (!sp_config.blob_dir || sp_conn_take(c, NULL) < 0)
		return;
	if (sp_simple(c->pg, "BEGIN", NULL) == 0) {
		res = sp_query(c, NULL, "DELETE FROM store_blob_trash"
			       " RETURNING name", "");
		for (int i = 0; res && i < PQntuples(res); i++)
			sp_blob_unlink(PQgetvalue(res, i, 0));
		PQclear(res);
		if (sp_simple(c->pg, res ? "COMMIT" : "ROLLBACK", NULL) < 0)
			c->broken = 1;
	}
	sp_conn_give(c);
}
