/* Modified UTF-7 (RFC 3501 5.1.3) for folder names on disk: Dovecot keeps
 * Maildir++ folder names in it by default, so a tree it made reads here
 * and one made here reads there. Printable ASCII stands for itself but
 * '&' ("&-"); other characters are UTF-16 in base64 with ',' for '/'
 * between '&' and '-'. The input was checked as UTF-8 (names.c). */
#include <stdint.h>
#include <string.h>

#include "storage_maildir.h"

static const char md_b64[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

/* One code point of the valid UTF-8 at s; *n_r is its length. */
static uint32_t
md_utf8_get(const unsigned char *s, size_t *n_r)
{
	if (s[0] < 0x80) {
		*n_r = 1;
		return s[0];
	}
	if (s[0] < 0xe0) {
		*n_r = 2;
		return (uint32_t)(s[0] & 0x1f) << 6 | (s[1] & 0x3f);
	}
	if (s[0] < 0xf0) {
		*n_r = 3;
		return (uint32_t)(s[0] & 0x0f) << 12 |
		       (uint32_t)(s[1] & 0x3f) << 6 | (s[2] & 0x3f);
	}
	*n_r = 4;
	return (uint32_t)(s[0] & 0x07) << 18 | (uint32_t)(s[1] & 0x3f) << 12 |
	       (uint32_t)(s[2] & 0x3f) << 6 | (s[3] & 0x3f);
}

struct md_out {
	char *p;
	size_t len, cap;
	uint32_t bits;
	int nbits;
};

static int
md_put(struct md_out *o, char ch)
{
	if (o->len + 1 >= o->cap)
		return -1;
	o->p[o->len++] = ch;
	return 0;
}

/* 16 bits into the base64 run. */
static int
md_put16(struct md_out *o, uint32_t unit)
{
	o->bits = o->bits << 16 | unit;
	o->nbits += 16;
	while (o->nbits >= 6) {
		o->nbits -= 6;
		if (md_put(o, md_b64[(o->bits >> o->nbits) & 63]) < 0)
			return -1;
	}
	return 0;
}

static int
md_close_run(struct md_out *o)
{
	if (o->nbits && md_put(o, md_b64[(o->bits << (6 - o->nbits)) & 63]))
		return -1;
	o->nbits = 0;
	o->bits = 0;
	return md_put(o, '-');
}

int
md_mutf7_encode(const char *s, size_t len, char *out, size_t cap)
{
	const unsigned char *u = (const unsigned char *)s;
	struct md_out o = { .p = out, .cap = cap };
	int run = 0, r = 0;

	for (size_t i = 0, n; i < len && r == 0; i += n) {
		uint32_t cp = md_utf8_get(u + i, &n);

		if (cp >= 0x20 && cp < 0x7f) {
			if (run && md_close_run(&o) < 0)
				return -1;
			run = 0;
			r = md_put(&o, (char)cp);
			if (r == 0 && cp == '&')
				r = md_put(&o, '-');
			continue;
		}
		if (!run && md_put(&o, '&') < 0)
			return -1;
		run = 1;
		if (cp >= 0x10000) {
			cp -= 0x10000;
			r = md_put16(&o, 0xd800 | cp >> 10);
			cp = 0xdc00 | (cp & 0x3ff);
		}
		if (r == 0)
			r = md_put16(&o, cp);
	}
	if (r == 0 && run)
		r = md_close_run(&o);
	if (r < 0)
		return -1;
	out[o.len] = '\0';
	return 0;
}

static int
md_put_utf8(struct md_out *o, uint32_t cp)
{
	if (cp < 0x80)
		return md_put(o, (char)cp);
	if (cp < 0x800)
		return md_put(o, (char)(0xc0 | cp >> 6)) ||
		       md_put(o, (char)(0x80 | (cp & 0x3f)));
	if (cp < 0x10000)
		return md_put(o, (char)(0xe0 | cp >> 12)) ||
		       md_put(o, (char)(0x80 | ((cp >> 6) & 0x3f))) ||
		       md_put(o, (char)(0x80 | (cp & 0x3f)));
	return md_put(o, (char)(0xf0 | cp >> 18)) ||
	       md_put(o, (char)(0x80 | ((cp >> 12) & 0x3f))) ||
	       md_put(o, (char)(0x80 | ((cp >> 6) & 0x3f))) ||
	       md_put(o, (char)(0x80 | (cp & 0x3f)));
}

/* One base64 run s[0..len) (between '&' and '-') as UTF-8. */
static int
md_decode_run(const char *s, size_t len, struct md_out *o)
{
	uint32_t bits = 0, hi = 0;
	int nbits = 0;

	for (size_t i = 0; i < len; i++) {
		const char *c = memchr(md_b64, s[i], 64);

		if (!c || !s[i])
			return -1;
		bits = bits << 6 | (uint32_t)(c - md_b64);
		nbits += 6;
		if (nbits < 16)
			continue;
		nbits -= 16;
		uint32_t unit = (bits >> nbits) & 0xffff;

		if (unit >= 0xd800 && unit < 0xdc00) {
			if (hi)
				return -1;
			hi = unit;
			continue;
		}
		if (unit >= 0xdc00 && unit < 0xe000) {
			if (!hi)
				return -1;
			unit = 0x10000 + ((hi - 0xd800) << 10) + (unit - 0xdc00);
			hi = 0;
		} else if (hi) {
			return -1;
		}
		if (md_put_utf8(o, unit))
			return -1;
	}
	return hi ? -1 : 0;
}

int
md_mutf7_decode(const char *s, size_t len, char *out, size_t cap)
{
	struct md_out o = { .p = out, .cap = cap };

	for (size_t i = 0; i < len; i++) {
		const char *end;

		if (s[i] != '&') {
			if (md_put(&o, s[i]) < 0)
				return -1;
			continue;
		}
		end = memchr(s + i + 1, '-', len - i - 1);
		if (!end)
			return -1;
		if (end == s + i + 1) {
			if (md_put(&o, '&') < 0)
				return -1;
		} else if (md_decode_run(s + i + 1, (size_t)(end - s - i - 1),
					 &o) < 0) {
			return -1;
		}
		i = (size_t)(end - s);
	}
	out[o.len] = '\0';
	return 0;
}
