/* Text in a MIME charset (RFC 2046 4.1.2) to UTF-8: UTF-8 and US-ASCII
 * checked here (8-bit octets in "us-ascii" are taken as UTF-8, as
 * Dovecot does), every other charset through iconv. Streaming, with a
 * character cut between chunks held back; an invalid octet becomes
 * U+FFFD. Charset names reach iconv only after a character check, so a
 * name cannot carry iconv's "//" options. */
#include <errno.h>
#include <iconv.h>
#include <stdlib.h>
#include <string.h>

#include "mime_private.h"

#define NAME_MAX_LEN 64
#define HOLD_MAX 16 /* octets of a character cut between chunks */

struct mime_charset_conv {
	iconv_t cd;   /* (iconv_t)-1: the UTF-8 check */
	unsigned char hold[HOLD_MAX];
	size_t nhold;
};

int
mime_utf8_seq(const unsigned char *s, size_t len)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	size_t n;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4;
	else
		return 0;
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	for (size_t i = 1; i < n; i++) {
		if (i >= len)
			return -1;
		if (s[i] < (i == 1 ? lo : 0x80) || s[i] > (i == 1 ? hi : 0xbf))
			return 0;
	}
	return (int)n;
}

static int
is_utf8(const char *cs)
{
	static const char *const names[] = {
		"utf-8",    "utf8",           "us-ascii",
		"ascii",    "us_ascii",       "ansi_x3.4-1968",
	};
	size_t n = strlen(cs);

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (mime_eq(cs, n, names[i]))
			return 1;
	return 0;
}

static int
name_ok(const char *cs)
{
	size_t n = strlen(cs);

	if (n == 0 || n > NAME_MAX_LEN)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)cs[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || strchr("-_.:+", ch)))
			return 0;
	}
	return 1;
}

int
mime_charset_known(const char *charset)
{
	iconv_t cd;

	if (is_utf8(charset))
		return 1;
	if (!name_ok(charset))
		return 0;
	if ((cd = iconv_open("UTF-8", charset)) == (iconv_t)-1)
		return 0;
	iconv_close(cd);
	return 1;
}

int
mime_charset_conv_new(const char *charset, struct mime_charset_conv **conv_r)
{
	struct mime_charset_conv *c;

	*conv_r = NULL;
	if (!is_utf8(charset) && !name_ok(charset))
		return MIME_EINVAL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return MIME_ENOMEM;
	c->cd = (iconv_t)-1;
	if (!is_utf8(charset) &&
	    (c->cd = iconv_open("UTF-8", charset)) == (iconv_t)-1) {
		int err = errno;

		free(c);
		return err == ENOMEM ? MIME_ENOMEM : MIME_EINVAL;
	}
	*conv_r = c;
	return MIME_OK;
}

void
mime_charset_conv_free(struct mime_charset_conv *c)
{
	if (c == NULL)
		return;
	if (c->cd != (iconv_t)-1)
		iconv_close(c->cd);
	free(c);
}

/* UTF-8 in, checked: the valid runs go out as they are. Returns how many
 * octets were used; a character cut by the end is left. */
static size_t
utf8_run(const unsigned char *s, size_t len, int final, mime_emit_fn emit,
	 void *arg)
{
	size_t i = 0, start = 0;

	while (i < len) {
		int n = mime_utf8_seq(s + i, len - i);

		if (n > 0) {
			i += (size_t)n;
			continue;
		}
		if (i > start)
			emit(arg, (const char *)s + start, i - start);
		if (n < 0 && !final)
			return i;
		emit(arg, MIME_REPLACEMENT, 3);
		start = ++i;
		if (n < 0) /* a cut character at the very end: one U+FFFD */
			return len;
	}
	if (i > start)
		emit(arg, (const char *)s + start, i - start);
	return len;
}

/* iconv from s; returns the octets used, leaving an incomplete
 * character at the end unless final. */
static size_t
iconv_run(struct mime_charset_conv *c, const unsigned char *s, size_t len,
	  int final, mime_emit_fn emit, void *arg)
{
	char out[1024], *in = (char *)s, *o;
	size_t inleft = len, oleft;

	while (inleft > 0) {
		size_t r;
		int err;

		o = out;
		oleft = sizeof(out);
		r = iconv(c->cd, &in, &inleft, &o, &oleft);
		err = errno;
		if (o > out)
			emit(arg, out, (size_t)(o - out));
		if (r != (size_t)-1 || err == E2BIG)
			continue;
		if (err == EINVAL && !final && inleft < HOLD_MAX)
			break;
		/* EILSEQ, or a character cut by the end */
		emit(arg, MIME_REPLACEMENT, 3);
		in++;
		inleft--;
	}
	return len - inleft;
}

static size_t
run(struct mime_charset_conv *c, const unsigned char *s, size_t len,
    int final, mime_emit_fn emit, void *arg)
{
	if (c->cd == (iconv_t)-1)
		return utf8_run(s, len, final, emit, arg);
	return iconv_run(c, s, len, final, emit, arg);
}

void
mime_charset_conv_feed(struct mime_charset_conv *c, const void *in,
		       size_t len, mime_emit_fn emit, void *arg)
{
	const unsigned char *s = in;
	size_t used;

	/* Complete the held character one octet at a time. */
	while (c->nhold > 0 && len > 0) {
		c->hold[c->nhold++] = *s++;
		len--;
		used = run(c, c->hold, c->nhold, 0, emit, arg);
		memmove(c->hold, c->hold + used, c->nhold - used);
		c->nhold -= used;
		if (c->nhold == HOLD_MAX) { /* cannot be one character */
			run(c, c->hold, 1, 1, emit, arg);
			memmove(c->hold, c->hold + 1, --c->nhold);
		}
	}
	if (len == 0)
		return;
	used = run(c, s, len, 0, emit, arg);
	memcpy(c->hold, s + used, len - used);
	c->nhold = len - used;
}

void
mime_charset_conv_finish(struct mime_charset_conv *c, mime_emit_fn emit,
			 void *arg)
{
	char out[64], *o = out;
	size_t oleft = sizeof(out);

	if (c->nhold > 0)
		run(c, c->hold, c->nhold, 1, emit, arg);
	c->nhold = 0;
	if (c->cd != (iconv_t)-1) {
		/* The shift sequence back to the initial state, if any. */
		iconv(c->cd, NULL, NULL, &o, &oleft);
		if (o > out)
			emit(arg, out, (size_t)(o - out));
		iconv(c->cd, NULL, NULL, NULL, NULL);
	}
}

int
mime_charset_to_utf8(const char *charset, const void *in, size_t len,
		     char **out_r, size_t *len_r)
{
	struct mime_charset_conv *c;
	struct mime_buf b;
	int r;

	*out_r = NULL;
	if ((r = mime_charset_conv_new(charset, &c)) != MIME_OK)
		return r;
	/* Three octets for one is the most a charset makes (U+FFFD for an
	 * invalid octet, a BMP character for a single-octet charset); a
	 * stranger one is cut at 8 for 1, at a character boundary. */
	mime_buf_init(&b, len > (SIZE_MAX - 16) / 8 ? SIZE_MAX : len * 8 + 16);
	mime_charset_conv_feed(c, in, len, mime_buf_emit, &b);
	mime_charset_conv_finish(c, mime_buf_emit, &b);
	mime_charset_conv_free(c);
	if (b.truncated)
		for (size_t k = b.len > 4 ? b.len - 4 : 0; k < b.len; k++)
			if (mime_utf8_seq((unsigned char *)b.p + k,
					  b.len - k) < 0) {
				b.len = k;
				break;
			}
	*out_r = mime_buf_steal(&b, len_r);
	return *out_r != NULL ? MIME_OK : MIME_ENOMEM;
}
