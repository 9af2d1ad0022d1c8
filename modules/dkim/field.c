/* Writing the DKIM-Signature field: tags folded onto lines of at most
 * 78 octets where the grammar allows folding white space (RFC 6376 3.2
 * between tags, 3.5 around h='s colons and inside base64). A failed
 * allocation is remembered and reported once, at the end. */
#include <stdlib.h>
#include <string.h>

#include "dkim_private.h"

#define WIDTH 78 /* RFC 5322 2.1.1's SHOULD */

void
dkim_field_raw(struct dkim_field *f, const char *s, size_t len)
{
	size_t cap = f->cap ? f->cap : 512;
	char *buf;

	if (f->oom)
		return;
	if (f->len + len + 1 > f->cap) {
		while (cap < f->len + len + 1)
			cap *= 2;
		if (!(buf = realloc(f->buf, cap))) {
			f->oom = 1;
			return;
		}
		f->buf = buf;
		f->cap = cap;
	}
	memcpy(f->buf + f->len, s, len);
	f->len += len;
	f->buf[f->len] = '\0';
	/* Only fold() writes a line break; its tab counts as one octet. */
	f->col += len;
}

static void
fold(struct dkim_field *f)
{
	dkim_field_raw(f, "\r\n\t", 3);
	f->col = 1;
}

void
dkim_field_tag(struct dkim_field *f, const char *s)
{
	size_t len = strlen(s);

	if (f->col + 1 + len > WIDTH)
		fold(f);
	else
		dkim_field_raw(f, " ", 1);
	dkim_field_raw(f, s, len);
}

void
dkim_field_word(struct dkim_field *f, const char *s)
{
	size_t len = strlen(s);

	/* Room for the separator that follows it, too. */
	if (f->col + len + 1 > WIDTH)
		fold(f);
	dkim_field_raw(f, s, len);
}

void
dkim_field_base64(struct dkim_field *f, const char *s, size_t len)
{
	size_t n;

	while (len > 0) {
		if (f->col >= WIDTH)
			fold(f);
		n = WIDTH - f->col < len ? WIDTH - f->col : len;
		dkim_field_raw(f, s, n);
		s += n;
		len -= n;
	}
}
