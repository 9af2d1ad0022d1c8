/* poshtactl export-mbox: write a user's mailbox as an mboxrd file (RFC
 * 4155), streaming. Each message gets a From_ line with its internal date,
 * its lines with CRLF made LF and ">"* "From " lines quoted with one more
 * '>', Status:/X-Status: lines for its flags at the end of its header,
 * and an empty line after it. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

struct meta {
	uint32_t uid;
	unsigned flags;
	int64_t date;
};

struct export {
	struct ctl *c;
	struct ps_mbox *mb;
	struct meta *v;
	size_t n, cap;
	struct ps_error err;
	int write_errno;  /* set when writing failed */
	/* The message being read. */
	uint32_t uid;
	uint64_t offset;
};

static int
collect(const struct ps_msg *m, void *arg)
{
	struct export *ex = arg;
	struct meta *v = ctl_grow(ex->v, &ex->cap, ex->n, sizeof(*v));

	if (!v)
		return PS_ENOMEM;
	ex->v = v;
	ex->v[ex->n++] = (struct meta){m->uid, m->flags, m->internal_date};
	return 0;
}

static ssize_t
read_message(void *src, void *buf, size_t len)
{
	struct export *ex = src;
	size_t got;

	if (ex->c->store.msg_read(ex->mb, ex->uid, ex->offset, buf, len, &got,
				  &ex->err) < 0)
		return -1;
	ex->offset += got;
	return (ssize_t)got;
}

static void
put_line(FILE *out, const char *p, size_t len, int bol)
{
	if (bol && ctl_mbox_quoted(p, len))
		putc('>', out);
	if (len >= 2 && p[len - 2] == '\r' && p[len - 1] == '\n') {
		fwrite(p, 1, len - 2, out);
		putc('\n', out);
	} else {
		fwrite(p, 1, len, out);
	}
}

static int
write_failed(struct export *ex)
{
	ex->write_errno = errno ? errno : EIO;
	return PS_EIO;
}

static int
export_message(struct export *ex, const struct meta *m,
	       struct ctl_lines *lines)
{
	FILE *out = ex->c->file;
	char from[80], status[64];
	const char *p;
	size_t len;
	int bol, k, in_header = 1, open_line = 0;

	ex->uid = m->uid;
	ex->offset = 0;
	ctl_lines_reset(lines);
	ctl_mbox_from_line(from, m->date);
	ctl_mbox_status_lines(status, m->flags);
	fputs(from, out);
	while ((k = ctl_lines_next(lines, &p, &len, &bol)) > 0) {
		if (in_header && bol && ctl_mbox_blank(p, len)) {
			fputs(status, out);
			in_header = 0;
		}
		put_line(out, p, len, bol);
		open_line = p[len - 1] != '\n';
	}
	if (k < 0)
		return PS_EIO;
	/* mbox lines end with LF, and the separator is an empty line. */
	if (open_line)
		putc('\n', out);
	if (in_header)
		fputs(status, out);
	putc('\n', out);
	return ferror(out) ? write_failed(ex) : 0;
}

/* Every message of the open mailbox, in UID order. */
static int
export_all(struct export *ex)
{
	const struct ps_storage_ops *s = &ex->c->store;
	struct ctl_lines *lines = ctl_lines_new(read_message, ex);
	int r = lines ? 0 : PS_ENOMEM;

	if (r == 0)
		r = s->msg_fetch(ex->mb, NULL, 0, collect, ex, &ex->err);
	for (size_t i = 0; r == 0 && i < ex->n; i++)
		r = export_message(ex, &ex->v[i], lines);
	if (r == 0 && fflush(ex->c->file) != 0)
		r = write_failed(ex);
	free(lines);
	return r;
}

int
ctl_export_mbox(struct ctl *c)
{
	char name[PS_AUTH_NAME_MAX + 1];
	struct export ex = {.c = c};
	struct ps_mailbox_status st;
	struct ps_store_user *u;
	uint32_t first_recent;
	int r;

	if (ctl_open_user(c, c->args[0], name, &u) != CTL_OK)
		return CTL_FAIL;
	r = c->store.mailbox_open(u, c->mailbox, PS_OPEN_READONLY, &ex.mb, &st,
				  &first_recent, &ex.err);
	if (r == 0) {
		r = export_all(&ex);
		c->store.mailbox_close(ex.mb);
	}
	c->store.user_close(u);
	free(ex.v);
	if (ex.write_errno)
		return ctl_fail("%s: %s", c->file_name,
				strerror(ex.write_errno));
	if (r < 0)
		return ctl_fail("%s: %s", c->mailbox, ex.err.msg[0] ?
				ex.err.msg : "out of memory");
	if (c->file != stdout)
		printf("exported %zu messages from %s to %s\n", ex.n,
		       c->mailbox, c->file_name);
	return CTL_OK;
}
