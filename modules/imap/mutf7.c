/* Modified UTF-7 (RFC 3501 5.1.3; UTF-7 is RFC 2152): printable ASCII
 * stands for itself, "&" is "&-", everything else is UTF-16BE in base64
 * with "," for "/", between "&" and "-". Decoding accepts only what
 * encoding produces, so a name has one spelling. Pure: no SDK calls. */
#include <stdint.h>
#include <string.h>

#include "mutf7.h"
#include "utf8.h"

static const char b64[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

static int
b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == ',')
		return 63;
	return -1;
}

static int
is_direct(uint32_t c)
{
	return c >= 0x20 && c <= 0x7e;
}

/* The shifted run after "&" at in[*i_r..len), up to and including its
 * "-", appended to out as UTF-8. */
static int
decode_run(const unsigned char *in, size_t len, size_t *i_r,
	   struct imap_buf *out)
{
	uint32_t acc = 0, high = 0, cp;
	unsigned nbits = 0;
	size_t i = *i_r;
	char u8[4];

	for (; i < len && in[i] != '-'; i++) {
		int v = b64_value(in[i]);
		uint32_t unit;

		if (v < 0)
			return IMAP_MUTF7_EINVAL;
		acc = (acc << 6) | (uint32_t)v;
		nbits += 6;
		if (nbits < 16)
			continue;
		nbits -= 16;
		unit = (acc >> nbits) & 0xffff;
		acc &= (1u << nbits) - 1;
		if (high) {
			if (unit < 0xdc00 || unit > 0xdfff)
				return IMAP_MUTF7_EINVAL;
			cp = 0x10000 + ((high - 0xd800) << 10) +
				(unit - 0xdc00);
			high = 0;
		} else if (unit >= 0xd800 && unit <= 0xdbff) {
			high = unit;
			continue;
		} else if (unit >= 0xdc00 && unit <= 0xdfff) {
			return IMAP_MUTF7_EINVAL;
		} else {
			cp = unit;
		}
		if (cp == 0 || is_direct(cp))
			return IMAP_MUTF7_EINVAL;
		if (imap_buf_add(out, u8, imap_utf8_put(cp, u8)) < 0)
			return IMAP_MUTF7_EBUF;
	}
	/* Unterminated, a surrogate left open, a base64 character more
	 * than needed, or padding bits that are not zero. */
	if (i == len || high || nbits >= 6 || acc != 0)
		return IMAP_MUTF7_EINVAL;
	*i_r = i + 1;
	return 0;
}

int
imap_mutf7_decode(const char *s, size_t len, struct imap_buf *out)
{
	const unsigned char *in = (const unsigned char *)s;
	size_t old = out->len, i = 0;
	int r = 0;

	while (i < len && r == 0) {
		if (!is_direct(in[i])) {
			r = IMAP_MUTF7_EINVAL;
		} else if (in[i] != '&') {
			r = imap_buf_addc(out, (char)in[i++]) < 0 ?
				IMAP_MUTF7_EBUF : 0;
		} else if (i + 1 < len && in[i + 1] == '-') {
			r = imap_buf_addc(out, '&') < 0 ? IMAP_MUTF7_EBUF : 0;
			i += 2;
		} else {
			i++;
			r = decode_run(in, len, &i, out);
			/* "&...-&...-" should have been one run. */
			if (r == 0 && i < len && in[i] == '&' &&
			    !(i + 1 < len && in[i + 1] == '-'))
				r = IMAP_MUTF7_EINVAL;
		}
	}
	if (r != 0 && !out->error)
		imap_buf_truncate(out, old);
	return r;
}

struct run {
	uint32_t acc;
	unsigned nbits;
	int open;
};

static int
put_unit(struct imap_buf *out, struct run *rn, uint32_t unit)
{
	rn->acc = (rn->acc << 16) | unit;
	rn->nbits += 16;
	while (rn->nbits >= 6) {
		rn->nbits -= 6;
		if (imap_buf_addc(out, b64[(rn->acc >> rn->nbits) & 0x3f]) < 0)
			return -1;
	}
	rn->acc &= (1u << rn->nbits) - 1;
	return 0;
}

static int
close_run(struct imap_buf *out, struct run *rn)
{
	if (rn->nbits &&
	    imap_buf_addc(out, b64[(rn->acc << (6 - rn->nbits)) & 0x3f]) < 0)
		return -1;
	*rn = (struct run){0};
	return imap_buf_addc(out, '-');
}

int
imap_mutf7_encode(const char *s, size_t len, struct imap_buf *out)
{
	const unsigned char *in = (const unsigned char *)s;
	struct run rn = {0};
	size_t old = out->len, i = 0, n;
	uint32_t cp;
	int r = 0;

	while (i < len && r == 0) {
		n = imap_utf8_next(in + i, len - i, &cp);
		if (n == 0 || cp == 0) {
			r = IMAP_MUTF7_EINVAL;
			break;
		}
		i += n;
		if (is_direct(cp)) {
			if (rn.open && close_run(out, &rn) < 0)
				r = IMAP_MUTF7_EBUF;
			else if (imap_buf_addc(out, (char)cp) < 0 ||
				 (cp == '&' && imap_buf_addc(out, '-') < 0))
				r = IMAP_MUTF7_EBUF;
			continue;
		}
		if (!rn.open) {
			rn.open = 1;
			if (imap_buf_addc(out, '&') < 0)
				r = IMAP_MUTF7_EBUF;
		}
		if (cp >= 0x10000) {
			cp -= 0x10000;
			if (put_unit(out, &rn, 0xd800 | (cp >> 10)) < 0 ||
			    put_unit(out, &rn, 0xdc00 | (cp & 0x3ff)) < 0)
				r = IMAP_MUTF7_EBUF;
		} else if (put_unit(out, &rn, cp) < 0) {
			r = IMAP_MUTF7_EBUF;
		}
	}
	if (r == 0 && rn.open && close_run(out, &rn) < 0)
		r = IMAP_MUTF7_EBUF;
	if (r != 0 && !out->error)
		imap_buf_truncate(out, old);
	return r;
}

int
imap_mutf7_valid(const char *in, size_t len)
{
	struct imap_buf b;
	int r;

	imap_buf_init(&b, SIZE_MAX);
	r = imap_mutf7_decode(in, len, &b);
	imap_buf_free(&b);
	return r == 0;
}
