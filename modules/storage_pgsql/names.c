/* Names for storage_pgsql: mailbox names (RFC 3501 5.1: UTF-8 levels
 * split by '/', INBOX case-insensitive), checked as storage_sqlite checks
 * them, and user names (local@domain, lower case). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "storage_pgsql.h"

/* Bytes in the UTF-8 sequence at s (RFC 3629 4: no overlongs, no
 * surrogates, nothing past U+10FFFF), or 0 if it is not one. */
static size_t
sp_utf8_len(const unsigned char *s)
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
 * '%' could never be listed on its own (RFC 3501 6.3.8). */
static int
sp_name_char_ok(unsigned char ch)
{
	return ch >= 0x20 && ch != 0x7f && ch != '*' && ch != '%';
}

/* Check a full mailbox name and write its canonical form to out
 * (SP_NAME_MAX + 1 bytes): levels are non-empty, and "INBOX" in any case,
 * as the whole name or its first level, becomes "INBOX". */
int
sp_name_canon(const char *name, char *out, struct ps_error *err)
{
	const unsigned char *s = (const unsigned char *)name;
	size_t len = name ? strlen(name) : 0, i = 0, n;

	if (len == 0 || len > SP_NAME_MAX)
		return sp_err(err, PS_STORE_EBADNAME,
			      "a mailbox name has 1 to %d bytes", SP_NAME_MAX);
	while (i < len) {
		n = sp_utf8_len(s + i);
		if (!n || !sp_name_char_ok(s[i]))
			return sp_err(err, PS_STORE_EBADNAME, "mailbox name "
				      "with a bad character at byte %zu", i);
		if (s[i] == SP_DELIM &&
		    (i == 0 || i + 1 == len || s[i + 1] == SP_DELIM))
			return sp_err(err, PS_STORE_EBADNAME,
				      "mailbox name with an empty level");
		i += n;
	}
	memcpy(out, name, len + 1);
	if (strncasecmp(out, "INBOX", 5) == 0 &&
	    (out[5] == '\0' || out[5] == SP_DELIM))
		memcpy(out, "INBOX", 5);
	return 0;
}

/* The canonical (lower case) name of user "local@domain" (RFC 5321
 * 4.1.2), the key of its row in store_user. */
int
sp_user_name(const char *user, char **name_r, struct ps_error *err)
{
	const char *at = user ? strrchr(user, '@') : NULL;

	*name_r = NULL;
	if (!sp_config.conninfo)
		return sp_err(err, PS_ESTATE, "storage_pgsql is not "
			      "configured (worker_init has not run)");
	if (!at || at == user || !at[1] || strlen(user) > PS_AUTH_NAME_MAX)
		return sp_err(err, PS_EINVAL, "a user is local@domain, at "
			      "most %d bytes", PS_AUTH_NAME_MAX);
	*name_r = strdup(user);
	if (!*name_r)
		return sp_err(err, PS_ENOMEM, "out of memory");
	for (char *p = *name_r; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return 0;
}
