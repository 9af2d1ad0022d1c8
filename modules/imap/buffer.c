/* The bounded growable byte buffer of buffer.h: doubling growth up to
 * max, sticky errors. Pure: no SDK calls. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buffer.h"

void
imap_buf_init(struct imap_buf *b, size_t max)
{
	/* One octet stays for the NUL, so len + 1 never wraps. */
	*b = (struct imap_buf){.max = max < SIZE_MAX ? max : SIZE_MAX - 1};
}

void
imap_buf_free(struct imap_buf *b)
{
	free(b->data);
	imap_buf_init(b, b->max);
}

void
imap_buf_reset(struct imap_buf *b)
{
	b->len = 0;
	b->error = 0;
	if (b->data)
		b->data[0] = '\0';
}

void
imap_buf_truncate(struct imap_buf *b, size_t len)
{
	if (len < b->len) {
		b->len = len;
		b->data[len] = '\0';
	}
}

int
imap_buf_add(struct imap_buf *b, const void *data, size_t len)
{
	if (b->error)
		return -1;
	if (len > b->max - b->len) {
		b->error = 1;
		return -1;
	}
	if (b->len + len + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 64;
		char *p;

		while (cap < b->len + len + 1)
			cap = cap > SIZE_MAX / 2 ? b->len + len + 1 : cap * 2;
		p = realloc(b->data, cap);
		if (!p) {
			b->error = 1;
			return -1;
		}
		b->data = p;
		b->cap = cap;
	}
	if (len)
		memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
	return 0;
}

int
imap_buf_addc(struct imap_buf *b, char c)
{
	return imap_buf_add(b, &c, 1);
}

int
imap_buf_adds(struct imap_buf *b, const char *s)
{
	return imap_buf_add(b, s, strlen(s));
}

int
imap_buf_addu64(struct imap_buf *b, unsigned long long n)
{
	char tmp[24];
	int k = snprintf(tmp, sizeof(tmp), "%llu", n);

	return imap_buf_add(b, tmp, (size_t)k);
}

const char *
imap_buf_str(const struct imap_buf *b)
{
	return b->data ? b->data : "";
}
