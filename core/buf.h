/* Byte buffers and the bounded line reader used by connections.
 *
 * The line reader is a pure function over a buffer so that unit tests and
 * fuzzers can feed it input split at any offset. */
#ifndef PS_CORE_BUF_H
#define PS_CORE_BUF_H

#include <poshta/types.h>

/* A zeroed struct ps_buf is an empty buffer; ps_buf_free releases it. */
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
 * Returns a pointer to the free space, or NULL on ENOMEM; the caller
 * writes there and adds what it wrote to len. */
char *ps_buf_reserve(struct ps_buf *b, size_t n);
int ps_buf_append(struct ps_buf *b, const void *p, size_t n);
/* Drop n bytes from the front (all of them if n >= used). */
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
 * with the line, before calling again; out->data stays valid until the
 * buffer is next reserved or appended to (consuming does not move it).
 *
 * out->flags is exactly one of PS_LINE_CRLF, PS_LINE_BARE_LF or
 * PS_LINE_TOOLONG. An over-long line is delivered once, as soon as it is
 * known to be longer than max, truncated to max with PS_LINE_TOOLONG and
 * no terminator flag (it may not have arrived yet); the rest up to and
 * including its LF is dropped as it arrives. So the lines and flags never
 * depend on how the input was split, and an unfinished line never needs
 * more than max + 1 bytes buffered (its body and a CR).
 *
 * out->consumed counts bytes from the front of the unread data: the line,
 * its CR and its LF; for a TOOLONG line whose LF has not arrived, all the
 * bytes buffered (the reader drops the rest itself on later calls).
 * A CR not followed by LF is part of the line, but a CR that is the last
 * byte buffered waits for the next byte to tell. */
int ps_linereader_next(struct ps_linereader *r, struct ps_buf *b,
		       struct ps_line *out);

#endif
