/* The DSN's output: a buffer flushed to the caller in pieces, texts made
 * safe for one line (no controls, UTF-8 only where allowed) and wrapped
 * or folded into lines of RFC 5322 2.1.1's lengths. */
#include <stdarg.h>
#include <string.h>

#include "dsn_private.h"
#include "mime.h"

int
dsn_out_flush(struct dsn_out *o)
{
	if (o->err == 0 && o->used > 0 && o->fn(o->arg, o->buf, o->used) < 0)
		o->err = DSN_EIO;
	o->used = 0;
	return o->err;
}

void
dsn_out_bytes(struct dsn_out *o, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0 && o->err == 0) {
		size_t n = sizeof(o->buf) - o->used;

		if (n > len)
			n = len;
		memcpy(o->buf + o->used, p, n);
		o->used += n;
		p += n;
		len -= n;
		if (o->used == sizeof(o->buf))
			dsn_out_flush(o);
	}
}

void
dsn_out_str(struct dsn_out *o, const char *s)
{
	dsn_out_bytes(o, s, strlen(s));
}

void
dsn_out_line(struct dsn_out *o, const char *s, ...)
{
	va_list ap;

	va_start(ap, s);
	for (; s; s = va_arg(ap, const char *))
		dsn_out_str(o, s);
	va_end(ap);
	dsn_out_bytes(o, "\r\n", 2);
}

size_t
dsn_clean(const char *s, int utf8, char *out, size_t size)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len = strlen(s), o = 0, n;
	int space = 0;

	for (size_t i = 0; i < len; i += n) {
		int k = p[i] < 0x80 ? 1 :
			utf8 ? mime_utf8_seq(p + i, len - i) : 0;

		n = k > 0 ? (size_t)k : 1;
		if (p[i] <= ' ' || p[i] == 0x7f) {
			space = o > 0;
			continue;
		}
		if (o + space + n >= size)
			break;
		if (space)
			out[o++] = ' ';
		space = 0;
		if (k <= 0) {
			out[o++] = '?';
		} else {
			memcpy(out + o, p + i, n);
			o += n;
		}
	}
	out[o] = '\0';
	return o;
}

/* How much of word[0..len) fits in room octets, cut between characters
 * (never before a UTF-8 continuation octet); at least one character. */
static size_t
fit(const char *word, size_t len, size_t room)
{
	size_t n = room;

	if (n >= len)
		return len;
	while (n > 0 && ((unsigned char)word[n] & 0xc0) == 0x80)
		n--;
	if (n == 0)
		for (n = 1; n < len && ((unsigned char)word[n] & 0xc0) == 0x80;)
			n++;
	return n;
}

void
dsn_out_wrap(struct dsn_out *o, const char *first, const char *cont,
	     const char *text, size_t len)
{
	size_t col = strlen(first), cl = strlen(cont), i = 0;
	int fresh = 1; /* nothing but the prefix on this line */

	dsn_out_str(o, first);
	while (i < len) {
		const char *sp = memchr(text + i, ' ', len - i);
		size_t w = sp ? (size_t)(sp - text) - i : len - i, n;

		/* a word that no line holds is cut from where we are */
		if (!fresh && (col + 1 + w <= DSN_LINE_SOFT ||
			       cl + w > DSN_LINE_HARD)) {
			dsn_out_bytes(o, " ", 1);
			col++;
		} else if (!fresh) {
			dsn_out_line(o, NULL);
			dsn_out_str(o, cont);
			col = cl;
		}
		while (col + w > DSN_LINE_HARD) {
			n = fit(text + i, w, DSN_LINE_HARD - col);
			dsn_out_bytes(o, text + i, n);
			dsn_out_line(o, NULL);
			dsn_out_str(o, cont);
			col = cl;
			i += n;
			w -= n;
		}
		dsn_out_bytes(o, text + i, w);
		col += w;
		fresh = 0;
		i += w + (sp ? 1 : 0);
	}
	dsn_out_line(o, NULL);
}

void
dsn_out_field(struct dsn_out *o, const char *name, const char *value,
	      int utf8)
{
	char text[DSN_TEXT_MAX], first[64];
	size_t len = dsn_clean(value, utf8, text, sizeof(text));

	memcpy(first, name, strlen(name));
	memcpy(first + strlen(name), ": ", 3);
	dsn_out_wrap(o, first, " ", text, len);
}
