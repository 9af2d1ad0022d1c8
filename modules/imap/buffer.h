/* A growable byte buffer with an upper bound, for building IMAP output
 * (quote.c, seqset.c) and converted names (mutf7.c). Pure: no SDK calls.
 *
 * Errors are sticky: once an allocation fails or an append would pass
 * max, error is set, the append is dropped and every later append is
 * too, so a caller can build a whole reply and check once. */
#ifndef IMAP_BUFFER_H
#define IMAP_BUFFER_H

#include <stddef.h>

struct imap_buf {
	char *data;   /* NUL-terminated once anything was added; may be NULL */
	size_t len;   /* octets held, the NUL not counted */
	size_t cap;
	size_t max;   /* len never passes this */
	int error;
};

/* An empty buffer that will hold at most max octets. Allocates nothing. */
void imap_buf_init(struct imap_buf *b, size_t max);
/* Frees the memory; the buffer is empty and usable again. */
void imap_buf_free(struct imap_buf *b);
/* Empty it and clear error, keeping the memory. */
void imap_buf_reset(struct imap_buf *b);
/* Drop everything after the first len octets (len <= b->len). */
void imap_buf_truncate(struct imap_buf *b, size_t len);

/* Appends: 0, or -1 with error set (nothing added). */
int imap_buf_add(struct imap_buf *b, const void *data, size_t len);
int imap_buf_addc(struct imap_buf *b, char c);
int imap_buf_adds(struct imap_buf *b, const char *s);
int imap_buf_addu64(struct imap_buf *b, unsigned long long n);

/* The text so far, NUL-terminated; "" when empty. */
const char *imap_buf_str(const struct imap_buf *b);

#endif
