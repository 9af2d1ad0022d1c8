/* Names for storage_sqlite: mailbox names (RFC 3501 5.1: UTF-8 levels
 * split by '/', INBOX case-insensitive) and the file of each user,
 * path/<domain>/<local>.db, encoded so that no user name reaches outside
 * the folder or shares a file with another. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "storage_sqlite.h"

/* Bytes in the UTF-8 sequence at s (RFC 3629 4: no overlongs, no
 * surrogates, nothing past U+10FFFF), or 0 if it is not one. */
static size_t
ss_utf8_len(const unsigned char *s)
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
ss_name_char_ok(unsigned char ch)
{
	return ch >= 0x20 && ch != 0x7f && ch != '*' && ch != '%';
}

/* Check a full mailbox name and write its canonical form to out
 * (SS_NAME_MAX + 1 bytes): levels are non-empty, and "INBOX" in any case,
 * as the whole name or its first level, becomes "INBOX". */
int
ss_name_canon(const char *name, char *out, struct ps_error *err)
{
	const unsigned char *s = (const unsigned char *)name;
	size_t len = name ? strlen(name) : 0, i = 0, n;

	if (len == 0 || len > SS_NAME_MAX)
		return ss_err(err, PS_STORE_EBADNAME,
			      "a mailbox name has 1 to %d bytes", SS_NAME_MAX);
	while (i < len) {
		n = ss_utf8_len(s + i);
		if (!n || !ss_name_char_ok(s[i]))
			return ss_err(err, PS_STORE_EBADNAME, "mailbox name "
				      "with a bad character at byte %zu", i);
		if (s[i] == SS_DELIM &&
		    (i == 0 || i + 1 == len || s[i + 1] == SS_DELIM))
			return ss_err(err, PS_STORE_EBADNAME,
				      "mailbox name with an empty level");
		i += n;
	}
	memcpy(out, name, len + 1);
	if (strncasecmp(out, "INBOX", 5) == 0 &&
	    (out[5] == '\0' || out[5] == SS_DELIM))
		memcpy(out, "INBOX", 5);
	return 0;
}

/* The length of name's parent, if it has one. */
int
ss_name_parent(const char *name, size_t *len_r)
{
	const char *d = strrchr(name, SS_DELIM);

	if (!d)
		return 0;
	*len_r = (size_t)(d - name);
	return 1;
}

/* Lower case; every byte but [a-z0-9_+-] and an inner '.' as %xx. So
 * no part is "", "." or "..", none holds '/', and distinct names give
 * distinct parts. */
static char *
ss_encode(const char *s, size_t len)
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

static char *
ss_join(const char *a, const char *b, const char *suffix)
{
	size_t len = strlen(a) + strlen(b) + strlen(suffix) + 2;
	char *p = malloc(len);

	if (p)
		snprintf(p, len, "%s/%s%s", a, b, suffix);
	return p;
}

/* The canonical name (lower case), the domain's folder and the database
 * of user "local@domain" (split at the last '@', RFC 5321 4.1.2). */
int
ss_user_path(const char *user, char **name_r, char **dir_r, char **file_r,
	     struct ps_error *err)
{
	const char *at = user ? strrchr(user, '@') : NULL;
	char *local, *domain;

	*name_r = *dir_r = *file_r = NULL;
	if (!ss_config.path)
		return ss_err(err, PS_ESTATE, "storage_sqlite is not "
			      "configured (worker_init has not run)");
	if (!at || at == user || !at[1] || strlen(user) > PS_AUTH_NAME_MAX)
		return ss_err(err, PS_EINVAL, "a user is local@domain, at "
			      "most %d bytes", PS_AUTH_NAME_MAX);
	*name_r = strdup(user);
	local = ss_encode(user, (size_t)(at - user));
	domain = ss_encode(at + 1, strlen(at + 1));
	if (*name_r && local && domain) {
		*dir_r = ss_join(ss_config.path, domain, "");
		*file_r = *dir_r ? ss_join(*dir_r, local, ".db") : NULL;
	}
	free(local);
	free(domain);
	if (!*file_r) {
		free(*name_r);
		free(*dir_r);
		*name_r = *dir_r = NULL;
		return ss_err(err, PS_ENOMEM, "out of memory");
	}
	for (char *p = *name_r; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return 0;
}

/* Make dir and its missing parents, 0700: mail is for its owner only. */
int
ss_mkdirs(const char *dir, struct ps_error *err)
{
	char *p = strdup(dir);

	if (!p)
		return ss_err(err, PS_ENOMEM, "out of memory");
	for (char *s = strchr(p + 1, '/');; s = strchr(s + 1, '/')) {
		if (s)
			*s = '\0';
		if (mkdir(p, 0700) < 0 && errno != EEXIST) {
			ss_err(err, PS_EIO, "mkdir %s: %s", p, strerror(errno));
			free(p);
			return PS_EIO;
		}
		if (!s)
			break;
		*s = '/';
	}
	free(p);
	return 0;
}
