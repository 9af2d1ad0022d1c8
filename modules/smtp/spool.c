/* The spool a message waits in between its end of data and its delivery:
 * memory up to SMTP_SPOOL_MEM, then an unlinked file in the state folder
 * (O_TMPFILE, else mkstemp and unlink), so a large message never sits in
 * memory and leaves nothing behind if the process dies. Pure: no SDK
 * calls. */
#define _GNU_SOURCE /* O_TMPFILE, mkostemp */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "body.h"

void
smtp_spool_init(struct smtp_spool *sp, const char *dir)
{
	*sp = (struct smtp_spool){.dir = dir, .fd = -1};
}

static int
spool_fail(struct smtp_spool *sp, int err)
{
	if (!sp->error)
		sp->error = err ? err : EIO;
	return -1;
}

static int
spool_file(struct smtp_spool *sp)
{
	char path[4096];
	int fd;

#ifdef O_TMPFILE
	fd = open(sp->dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0)
		return fd;
#endif
	if ((size_t)snprintf(path, sizeof(path), "%s/.smtp-spool-XXXXXX",
			     sp->dir) >= sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = mkostemp(path, O_CLOEXEC);
	if (fd >= 0)
		unlink(path);
	return fd;
}

static int
write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int
smtp_spool_flush(struct smtp_spool *sp)
{
	if (sp->error)
		return -1;
	if (sp->fd < 0 || sp->used == 0)
		return 0;
	if (write_all(sp->fd, sp->buf, sp->used) < 0)
		return spool_fail(sp, errno);
	sp->used = 0;
	return 0;
}

int
smtp_spool_write(struct smtp_spool *sp, const void *data, size_t len)
{
	const char *p = data;

	if (sp->error)
		return -1;
	if (!sp->buf && !(sp->buf = malloc(SMTP_SPOOL_MEM)))
		return spool_fail(sp, ENOMEM);
	while (len > 0) {
		size_t room = SMTP_SPOOL_MEM - sp->used;
		size_t n = len < room ? len : room;

		if (n == 0) {
			/* Full: the first time, the message moves to a
			 * file. */
			if (sp->fd < 0 && (sp->fd = spool_file(sp)) < 0)
				return spool_fail(sp, errno);
			if (smtp_spool_flush(sp) < 0)
				return -1;
			continue;
		}
		memcpy(sp->buf + sp->used, p, n);
		sp->used += n;
		sp->size += n;
		p += n;
		len -= n;
	}
	return 0;
}

int
smtp_spool_read(const struct smtp_spool *sp, uint64_t offset, void *buf,
		size_t len, size_t *got_r)
{
	ssize_t n;

	*got_r = 0;
	if (offset >= sp->size)
		return 0;
	if (len > sp->size - offset)
		len = (size_t)(sp->size - offset);
	if (sp->fd < 0) {
		memcpy(buf, sp->buf + offset, len);
		*got_r = len;
		return 0;
	}
	while ((n = pread(sp->fd, buf, len, (off_t)offset)) < 0 &&
	       errno == EINTR)
		continue;
	if (n < 0)
		return -1;
	*got_r = (size_t)n;
	return 0;
}

void
smtp_spool_reset(struct smtp_spool *sp)
{
	if (sp->fd >= 0)
		close(sp->fd);
	free(sp->buf);
	smtp_spool_init(sp, sp->dir);
}
