/* Growable byte buffers and the bounded line reader over them. The reader
 * never holds more than one line's worth of state: an over-long line is
 * handed out truncated as soon as it is known to be too long, and its
 * remainder is dropped as it arrives. */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <poshta/conn.h>

#include "buf.h"

#define BUF_MIN_CAP 256

void
ps_buf_free(struct ps_buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

size_t
ps_buf_used(const struct ps_buf *b)
{
	return b->len - b->off;
}

/* Move the unread bytes to the front so the free space is contiguous. */
static void
buf_compact(struct ps_buf *b)
{
	size_t used = ps_buf_used(b);

	if (b->off == 0)
		return;
	if (used)
		memmove(b->data, b->data + b->off, used);
	b->off = 0;
	b->len = used;
}

/* Grow to hold used + n bytes, doubling so appends stay amortised O(1). */
static int
buf_grow(struct ps_buf *b, size_t n)
{
	size_t used = ps_buf_used(b), cap = b->cap ? b->cap : BUF_MIN_CAP;
	char *p;

	if (n > SIZE_MAX - used) {
		errno = ENOMEM;
		return PS_ENOMEM;
	}
	while (cap < used + n)
		cap = cap > SIZE_MAX / 2 ? used + n : cap * 2;
	p = realloc(b->data, cap);
	if (!p)
		return PS_ENOMEM;
	b->data = p;
	b->cap = cap;
	return 0;
}

char *
ps_buf_reserve(struct ps_buf *b, size_t n)
{
	if (b->data && b->cap - b->len >= n)
		return b->data + b->len;
	/* Compacting first is cheaper than a realloc that copies dead bytes,
	 * and often makes growing unnecessary. */
	buf_compact(b);
	if (!b->data || b->cap - b->len < n) {
		if (buf_grow(b, n) < 0)
			return NULL;
	}
	return b->data + b->len;
}

int
ps_buf_append(struct ps_buf *b, const void *p, size_t n)
{
	char *dst;

	if (n == 0)
		return 0;
	dst = ps_buf_reserve(b, n);
	if (!dst)
		return PS_ENOMEM;
	memcpy(dst, p, n);
	b->len += n;
	return 0;
}

void
ps_buf_consume(struct ps_buf *b, size_t n)
{
	if (n >= ps_buf_used(b)) {
		/* Rewinding an empty buffer spares the next reserve a move. */
		b->off = 0;
		b->len = 0;
		return;
	}
	b->off += n;
}

void
ps_buf_clear(struct ps_buf *b)
{
	b->off = 0;
	b->len = 0;
}

/* Drop the rest of an over-long line. Returns 1 once its LF is gone. */
static int
line_discard(struct ps_linereader *r, struct ps_buf *b)
{
	const char *p = b->data + b->off;
	const char *lf = memchr(p, '\n', ps_buf_used(b));

	if (!lf) {
		ps_buf_consume(b, ps_buf_used(b));
		return 0;
	}
	ps_buf_consume(b, (size_t)(lf - p) + 1);
	r->discarding = 0;
	return 1;
}

static void
line_set(struct ps_line *out, const char *p, size_t len, unsigned flags,
	 size_t consumed)
{
	out->data = p;
	out->len = len;
	out->flags = flags;
	out->consumed = consumed;
}

/* A line is complete: p[0..n) is its body plus CR if any, LF at p[n]. */
static void
line_complete(const struct ps_linereader *r, const char *p, size_t n,
	      struct ps_line *out)
{
	size_t body = n;
	unsigned flags = PS_LINE_BARE_LF;

	if (body > 0 && p[body - 1] == '\r') {
		body--;
		flags = PS_LINE_CRLF;
	}
	if (body > r->max) {
		body = r->max;
		flags = PS_LINE_TOOLONG;
	}
	line_set(out, p, body, flags, n + 1);
}

/* Flags: exactly one of PS_LINE_CRLF, PS_LINE_BARE_LF or PS_LINE_TOOLONG.
 * A TOOLONG line has no terminator flag, because when it is delivered
 * before its LF arrives the terminator is not yet known; this way the
 * result never depends on how the input was split.
 *
 * consumed counts bytes from the front of the unread data: the line, its
 * CR and its LF; for a TOOLONG line delivered before its LF, every byte
 * buffered so far (the reader then drops the rest up to the LF itself). */
int
ps_linereader_next(struct ps_linereader *r, struct ps_buf *b,
		   struct ps_line *out)
{
	const char *p, *lf;
	size_t used, body;

	if (r->discarding && !line_discard(r, b))
		return 0;
	used = ps_buf_used(b);
	if (used == 0)
		return 0;
	p = b->data + b->off;
	lf = memchr(p, '\n', used);
	if (lf) {
		line_complete(r, p, (size_t)(lf - p), out);
		return 1;
	}
	/* A trailing CR may be half of a CRLF still in flight, so it does
	 * not count towards the body yet. */
	body = p[used - 1] == '\r' ? used - 1 : used;
	if (body <= r->max)
		return 0;
	line_set(out, p, r->max, PS_LINE_TOOLONG, used);
	r->discarding = 1;
	return 1;
}
