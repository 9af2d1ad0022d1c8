/* xtext (RFC 3461 4), the encoding of ENVID, ORCPT and AUTH= values:
 * "!".."~" stand for themselves but "+" and "=", any octet may be "+XX"
 * with two upper-case hex digits. */
#include "dsn_private.h"

int
dsn_hex_upper(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

static int
is_xchar(int ch)
{
	return ch >= '!' && ch <= '~' && ch != '+' && ch != '=';
}

/* The octet at s[*i] (an xchar or a "+XX"), or -1; advances *i. */
static int
xtext_next(const char *s, size_t len, size_t *i)
{
	int hi, lo;

	if (s[*i] != '+') {
		if (!is_xchar((unsigned char)s[*i]))
			return -1;
		return (unsigned char)s[(*i)++];
	}
	if (len - *i < 3 || (hi = dsn_hex_upper(s[*i + 1])) < 0 ||
	    (lo = dsn_hex_upper(s[*i + 2])) < 0)
		return -1;
	*i += 3;
	return hi << 4 | lo;
}

int
dsn_xtext_valid(const char *s, size_t len)
{
	for (size_t i = 0; i < len;)
		if (xtext_next(s, len, &i) < 0)
			return 0;
	return 1;
}

int
dsn_xtext_decode(const char *s, size_t len, char *out, size_t size,
		 size_t *len_r)
{
	size_t o = 0;

	for (size_t i = 0; i < len;) {
		int ch = xtext_next(s, len, &i);

		if (ch <= 0 || o + 1 >= size)
			return DSN_EINVAL;
		out[o++] = (char)ch;
	}
	if (size == 0)
		return DSN_EINVAL;
	out[o] = '\0';
	*len_r = o;
	return DSN_OK;
}

int
dsn_xtext_encode(const char *s, size_t len, char *out, size_t size,
		 size_t *len_r)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (is_xchar(ch)) {
			if (o + 1 >= size)
				return DSN_EINVAL;
			out[o++] = (char)ch;
			continue;
		}
		if (o + 3 >= size)
			return DSN_EINVAL;
		out[o++] = '+';
		out[o++] = hex[ch >> 4];
		out[o++] = hex[ch & 15];
	}
	if (size == 0)
		return DSN_EINVAL;
	out[o] = '\0';
	*len_r = o;
	return DSN_OK;
}
