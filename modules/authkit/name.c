/* Addresses and domains as the auth backends store them: checked against
 * the shape of RFC 5321 4.1.2 (a dot-atom local part, RFC 5322 3.2.3, and
 * a domain of LDH labels) and its size limits (4.5.3.1), in lower case.
 * ASCII only: quoted local parts and address literals are refused. */
#include <string.h>

#include "authkit.h"

/* in, safe to quote in a message: control bytes as '?', cut at 64. */
static const char *
excerpt(char buf[72], const char *in)
{
	size_t n = 0;

	for (; in[n] && n < 64; n++)
		buf[n] = (unsigned char)in[n] < 0x20 || in[n] == 0x7f ||
			(unsigned char)in[n] >= 0x80 ? '?' : in[n];
	strcpy(buf + n, in[n] ? "..." : "");
	return buf;
}

static int
bad(struct ps_error *err, const char *what, const char *in, const char *why)
{
	char ex[72];

	return authkit_fail(err, PS_EINVAL, "bad %s '%s': %s", what,
			    excerpt(ex, in), why);
}

static int
lower(int ch)
{
	return ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch;
}

static int
alnum(int ch)
{
	ch = lower(ch);
	return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');
}

/* RFC 5322 3.2.3 atext. */
static int
atext(int ch)
{
	return alnum(ch) || (ch && strchr("!#$%&'*+-/=?^_`{|}~", ch));
}

/* The reason in[0..len) is not a domain, or NULL when it is one. */
static const char *
domain_problem(const char *in, size_t len)
{
	size_t label = 0;

	if (len == 0)
		return "empty domain";
	if (len > AUTHKIT_DOMAIN_MAX)
		return "domain longer than 255 octets";
	for (size_t i = 0; i < len; i++) {
		if (in[i] == '.') {
			if (label == 0 || in[i - 1] == '-')
				return "empty label or label ending in '-'";
			label = 0;
		} else if (alnum(in[i]) || in[i] == '-') {
			if (label == 0 && in[i] == '-')
				return "label starting with '-'";
			if (++label > 63)
				return "label longer than 63 octets";
		} else {
			return "only letters, digits, '-' and '.' allowed";
		}
	}
	if (label == 0 || in[len - 1] == '-')
		return "empty label or label ending in '-'";
	return NULL;
}

static const char *
local_problem(const char *in, size_t len)
{
	if (len == 0)
		return "empty local part";
	if (len > AUTHKIT_LOCAL_MAX)
		return "local part longer than 64 octets";
	if (in[0] == '.' || in[len - 1] == '.')
		return "local part starting or ending with '.'";
	for (size_t i = 0; i < len; i++) {
		if (in[i] == '.' && in[i + 1] == '.')
			return "'..' in the local part";
		if (in[i] != '.' && !atext((unsigned char)in[i]))
			return "local part holds a character outside RFC 5322 "
			       "atext";
	}
	return NULL;
}

static void
copy_lower(char *out, const char *in, size_t len)
{
	for (size_t i = 0; i < len; i++)
		out[i] = (char)lower((unsigned char)in[i]);
	out[len] = '\0';
}

int
authkit_name_domain(const char *in, char out[AUTHKIT_DOMAIN_MAX + 1],
		    struct ps_error *err)
{
	size_t len = strnlen(in, AUTHKIT_DOMAIN_MAX + 1);
	const char *why = domain_problem(in, len);

	if (why)
		return bad(err, "domain", in, why);
	copy_lower(out, in, len);
	return 0;
}

int
authkit_name_address(const char *in, char out[PS_AUTH_NAME_MAX + 1],
		     struct ps_error *err)
{
	size_t len = strnlen(in, PS_AUTH_NAME_MAX + 1);
	const char *at = memchr(in, '@', len), *why;

	if (len > PS_AUTH_NAME_MAX)
		return bad(err, "address", in, "longer than 320 octets");
	if (!at)
		return bad(err, "address", in, "no '@domain'");
	why = local_problem(in, (size_t)(at - in));
	if (!why)
		why = domain_problem(at + 1, len - (size_t)(at - in) - 1);
	if (why)
		return bad(err, "address", in, why);
	copy_lower(out, in, len);
	return 0;
}

int
authkit_name_alias(const char *in, char out[PS_AUTH_NAME_MAX + 1],
		   struct ps_error *err)
{
	if (in[0] != '@')
		return authkit_name_address(in, out, err);
	out[0] = '@';
	return authkit_name_domain(in + 1, out + 1, err);
}

const char *
authkit_name_domain_of(const char *name)
{
	return strchr(name, '@') + 1;
}
