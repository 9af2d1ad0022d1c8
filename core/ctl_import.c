/* poshtactl import-mbox: append the messages of an mbox file (RFC 4155;
 * mboxo and mboxrd) to a user's mailbox, streaming. A message starts at
 * a "From " line at the start of the file or after an empty line, which
 * is the separator and not part of the message; ">From " lines lose one
 * '>'; LF becomes CRLF (RFC 5322 2.1); Status:/X-Status: become flags. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl.h"

#define IMPORT_BATCH 100                /* messages per transaction */
#define IMPORT_HEADER_MAX (256 * 1024)  /* header bytes held for flags */

struct import {
	struct ctl *c;
	struct ps_store_user *u;
	struct ps_store_append *a; /* the open batch, or NULL */
	unsigned batch;            /* messages in a */
	unsigned long imported;    /* committed */
	struct ps_error err;
	/* The message being read. */
	int in_msg;
	int in_header;  /* its header is held in hdr, for the flags */
	int skip;       /* dropping a Status: header or a From_ line tail */
	int pending_blank; /* an empty line, unless a From_ line follows */
	int open_line;  /* the last byte given was not a LF */
	unsigned flags;
	int64_t date;
	char *hdr;
	size_t hdr_len;
};

/* Open a batch, creating the mailbox the first time it is missing. */
static int
open_batch(struct import *im)
{
	const struct ps_storage_ops *s = &im->c->store;
	int r = s->append_begin(im->u, im->c->mailbox, &im->a, &im->err);

	if (r == PS_STORE_ENOMBOX && im->imported == 0 &&
	    s->mailbox_create(im->u, im->c->mailbox, 0, &im->err) == 0)
		r = s->append_begin(im->u, im->c->mailbox, &im->a, &im->err);
	if (r < 0)
		im->a = NULL;
	return r;
}

static int
commit(struct import *im)
{
	int r = im->c->store.append_commit(im->a, NULL, NULL, &im->err);

	im->a = NULL;
	if (r < 0)
		return r;
	im->imported += im->batch;
	im->batch = 0;
	return 0;
}

/* The header is complete (or too big to hold): start the message with
 * the flags it gave, and hand over what was held. */
static int
begin_message(struct import *im)
{
	const struct ps_storage_ops *s = &im->c->store;
	int r = 0;

	im->in_header = 0;
	if (!im->a)
		r = open_batch(im);
	if (r == 0)
		r = s->append_msg_begin(im->a, im->flags, NULL, 0, im->date, 0,
					&im->err);
	if (r == 0 && im->hdr_len)
		r = s->append_data(im->a, im->hdr, im->hdr_len, &im->err);
	im->hdr_len = 0;
	return r;
}

static int
emit(struct import *im, const char *p, size_t len)
{
	int r;

	if (im->in_header && im->hdr_len + len > IMPORT_HEADER_MAX &&
	    (r = begin_message(im)) < 0)
		return r;
	if (!im->in_header)
		return im->c->store.append_data(im->a, p, len, &im->err);
	memcpy(im->hdr + im->hdr_len, p, len);
	im->hdr_len += len;
	return 0;
}

/* Message bytes, with a LF line end made CR LF. */
static int
put(struct import *im, const char *p, size_t len)
{
	int lf = p[len - 1] == '\n' && (len < 2 || p[len - 2] != '\r');
	size_t n = len - (size_t)lf;
	int r = n ? emit(im, p, n) : 0;

	if (r == 0 && lf)
		r = emit(im, "\r\n", 2);
	im->open_line = p[len - 1] != '\n';
	return r;
}

/* A piece of the message: in the header, Status: and X-Status: lines
 * (with their continuation lines) turn into flags. */
static int
message_piece(struct import *im, const char *p, size_t len, int bol)
{
	int r;

	if (im->in_header && bol && ctl_mbox_blank(p, len)) {
		if ((r = begin_message(im)) < 0)
			return r;
	} else if (im->in_header && bol &&
		   ctl_mbox_status_header(p, len, &im->flags)) {
		im->skip = 1;
		return 0;
	} else if (bol && p[0] != ' ' && p[0] != '\t') {
		im->skip = 0;
	}
	return im->skip && im->in_header ? 0 : put(im, p, len);
}

static int
end_message(struct import *im)
{
	const struct ps_storage_ops *s = &im->c->store;
	int r = 0;

	/* Storage holds CRLF lines: a last line without one gets it. */
	if (im->open_line)
		r = put(im, "\n", 1);
	if (r == 0 && im->in_header)
		r = begin_message(im);
	if (r == 0)
		r = s->append_msg_end(im->a, NULL, 0, &im->err);
	if (r == 0 && ++im->batch == IMPORT_BATCH)
		r = commit(im);
	im->in_msg = 0;
	return r;
}

static int
start_message(struct import *im, const char *p, size_t len)
{
	int r = im->in_msg ? end_message(im) : 0;
	int64_t date = ctl_mbox_from_date(p, len);

	im->date = date >= 0 ? date : (int64_t)time(NULL);
	im->in_msg = im->in_header = 1;
	im->flags = 0;
	im->pending_blank = im->open_line = 0;
	/* A From_ line longer than a piece: drop its tail too. */
	im->skip = p[len - 1] != '\n';
	return r;
}

static int
piece(struct import *im, const char *p, size_t len, int bol)
{
	int r = 0;

	if (bol && ctl_mbox_from(p, len) && (!im->in_msg || im->pending_blank))
		return start_message(im, p, len);
	if (!im->in_msg && bol && ctl_mbox_blank(p, len))
		return 0;
	if (!im->in_msg) {
		snprintf(im->err.msg, sizeof(im->err.msg), "not an mbox file "
			 "(no \"From \" line before the first message)");
		return PS_EINVAL;
	}
	if (bol && ctl_mbox_blank(p, len)) {
		if (im->pending_blank)
			r = message_piece(im, "\n", 1, 1);
		im->pending_blank = 1;
		return r;
	}
	if (im->pending_blank) {
		im->pending_blank = 0;
		if ((r = message_piece(im, "\n", 1, 1)) < 0)
			return r;
	}
	/* mboxrd: ">From " and ">>From " lost one '>' (mboxo: only the
	 * first, which reads the same). */
	if (bol && p[0] == '>' && ctl_mbox_quoted(p, len)) {
		p++;
		len--;
	}
	return message_piece(im, p, len, bol);
}

static ssize_t
read_file(void *src, void *buf, size_t len)
{
	size_t n = fread(buf, 1, len, src);

	return n == 0 && ferror((FILE *)src) ? -1 : (ssize_t)n;
}

/* Every piece of the file, then the last message. The empty line before
 * the end of the file is a separator too. */
static int
import_all(struct import *im, struct ctl_lines *r)
{
	const char *p;
	size_t len;
	int bol, k = 0, rc = 0;

	while (rc == 0 && (k = ctl_lines_next(r, &p, &len, &bol)) > 0)
		rc = piece(im, p, len, bol);
	if (rc == 0 && k < 0) {
		snprintf(im->err.msg, sizeof(im->err.msg), "%s",
			 strerror(errno));
		rc = PS_EIO;
	}
	if (rc == 0 && im->in_msg)
		rc = end_message(im);
	if (rc == 0 && im->a)
		rc = commit(im);
	return rc;
}

int
ctl_import_mbox(struct ctl *c)
{
	char name[PS_AUTH_NAME_MAX + 1], where[32] = "";
	struct import im = {.c = c};
	struct ctl_lines *lines = ctl_lines_new(read_file, c->file);
	int r;

	im.hdr = malloc(IMPORT_HEADER_MAX);
	if (!lines || !im.hdr) {
		free(lines);
		free(im.hdr);
		return ctl_fail("out of memory");
	}
	if (ctl_open_user(c, c->args[0], name, &im.u) != CTL_OK)
		r = PS_EFAIL;
	else if ((r = import_all(&im, lines)) < 0) {
		if (lines->line)
			snprintf(where, sizeof(where), ":%lu", lines->line);
		ctl_fail("%s%s: %s (%lu messages imported into %s before it)",
			 c->file_name, where, im.err.msg[0] ? im.err.msg :
			 "storage error", im.imported, c->mailbox);
	}
	if (im.a)
		c->store.append_abort(im.a);
	if (im.u)
		c->store.user_close(im.u);
	if (r == 0)
		printf("imported %lu messages into %s\n", im.imported,
		       c->mailbox);
	free(lines);
	free(im.hdr);
	return r == 0 ? CTL_OK : CTL_FAIL;
}
