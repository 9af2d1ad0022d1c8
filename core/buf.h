/* Byte buffers and the bounded line reader used by connections.
 *
 * The line reader is a pure function over a buffer so that unit tests and
 * fuzzers can feed it input split at any offset. */
#ifndef PS_CORE_BUF_H
#define PS_CORE_BUF_H

#include <poshta/types.h>

struct ps_buf {
	char *data;
	size_t off; /* first unread byte */
	size_t len; /* end of valid bytes */
	size_t cap;
};

void ps_buf_free(struct ps_buf *b);
/* Bytes readable: len - off. */
size_t ps_buf_used(const struct ps_buf *b);
/* Make room for at least n more bytes at data+len (compacts, then grows).
 * Returns a pointer to the free space, or NULL on ENOMEM. */
char *ps_buf_reserve(struct ps_buf *b, size_t n);
int ps_buf_append(struct ps_buf *b, const void *p, size_t n);
/* Drop n bytes from the front. */
void ps_buf_consume(struct ps_buf *b, size_t n);
void ps_buf_clear(struct ps_buf *b);

struct ps_linereader {
	size_t max;     /* longest line delivered, terminator excluded */
	int discarding; /* inside an over-long line, dropping up to LF */
};

struct ps_line {
	const char *data; /* points into the buffer; valid until it changes */
	size_t len;
	unsigned flags; /* PS_LINE_* from <poshta/conn.h> */
	size_t consumed; /* bytes to ps_buf_consume after using the line */
};

/* Find the next line in b without consuming it. Returns 1 with *out set,
 * 0 when more input is needed (having dropped bytes of an over-long line
 * already delivered). The caller consumes out->consumed bytes when done
 * with the line; out->data stays valid until the buffer next grows.
 * An over-long line is delivered once, truncated to max with
 * PS_LINE_TOOLONG, and the rest up to its LF is dropped as it arrives.
 * A CR not followed by LF is part of the line. */
int ps_linereader_next(struct ps_linereader *r, struct ps_buf *b,
		       struct ps_line *out);

#endif
