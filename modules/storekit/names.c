/* Names for every storage backend: mailbox names (RFC 3501 5.1: UTF-8
 * levels split by '/', INBOX case-insensitive), UTF-8 sequences (RFC 3629
 * 4), and the encoding that turns a user name's parts into file names no
 * user can reach outside its folder with. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "storekit.h"

size_t
pst_utf8_len(const unsigned char *s)
{
	size_t n;
	unsigned char lo = 0x80, hi = 0xbf;

	if (s[0] < 0x80)
		return 1;
	if (s[0] < 0xc2 || s[0] > 0xf4)
		return 0;
	n = s[0] < 0xe0 ? 2 : s[0] < 0xf0 ? 3 : 4;
	if (s[0] == 0xe0)
		lo = 0xa0;
	else if (s[0] == 0xed)
		hi = 0x9f;
	else if (s[0] == 0xf0)
		lo = 0x90;
	else if (s[0] == 0xf4)
		hi = 0x8f;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

/* No control characters, and no LIST wildcards: a name holding '*' or
 * '%' could never be listed on its own (RFC 3501 6.3.8). ch is not NUL. */
static int
pst_name_char_ok(unsigned char ch, const char *forbid)
{
	return ch >= 0x20 && ch != 0x7f && ch != '*' && ch != '%' &&
	       !(forbid && strchr(forbid, ch));
}

int
pst_name_canon(const char *name, char *out, const char *forbid,
	       const char *why, struct ps_error *err)
{
	const unsigned char *s = (const unsigned char *)name;
	size_t len = name ? strlen(name) : 0, i = 0, n;

	if (len == 0 || len > PST_NAME_MAX)
		return pst_err(err, PS_STORE_EBADNAME,
			       "a mailbox name has 1 to %d bytes",
			       PST_NAME_MAX);
	while (i < len) {
		n = pst_utf8_len(s + i);
		if (!n || !pst_name_char_ok(s[i], forbid))
			return pst_err(err, PS_STORE_EBADNAME, "mailbox name "
				       "with a bad character at byte %zu%s",
				       i, why);
		if (s[i] == PST_DELIM &&
		    (i == 0 || i + 1 == len || s[i + 1] == PST_DELIM))
			return pst_err(err, PS_STORE_EBADNAME,
				       "mailbox name with an empty level");
		i += n;
	}
	memcpy(out, name, len + 1);
	if (strncasecmp(out, "INBOX", 5) == 0 &&
	    (out[5] == '\0' || out[5] == PST_DELIM))
		memcpy(out, "INBOX", 5);
	return 0;
}

char *
pst_path_encode(const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	char *out = malloc(len * 3 + 1), *o = out;

	if (!out)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch >= 'A' && ch <= 'Z')
			ch = (unsigned char)(ch - 'A' + 'a');
		if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
		    ch == '_' || ch == '+' || ch == '-' || (ch == '.' && i)) {
			*o++ = (char)ch;
			continue;
		}
		*o++ = '%';
		*o++ = hex[ch >> 4];
		*o++ = hex[ch & 15];
	}
	*o = '\0';
	return out;
}
