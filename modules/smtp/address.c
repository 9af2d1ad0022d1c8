/* SMTP addresses: Reverse-path and Forward-path (RFC 5321 4.1.2, with
 * RFC 6531 3.3's UTF-8), source routes checked and dropped as 4.1.1.3
 * allows, address literals (4.1.3), the sizes of 4.5.3.1, and the
 * EHLO argument. Pure: no SDK calls. */
#include <arpa/inet.h>
#include <string.h>
#include <strings.h>

#include "command.h"

/* The length of the well-formed non-ASCII UTF-8 sequence at s (RFC 3629
 * 4: no overlong forms, no surrogates, nothing past U+10FFFF), or 0. */
size_t
smtp_utf8_seq(const unsigned char *s, size_t len)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	size_t n;

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
	if (len < n || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return n;
}

/* ---- Domains and address literals ------------------------------------ */

/* Domain = sub-domain *("." sub-domain), sub-domain = Let-dig [Ldh-str]
 * or a U-label (RFC 6531 3.3), from s[*i]. No trailing dot. */
static int
parse_domain(const char *s, size_t len, size_t *i_r, unsigned *flags)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = *i_r, start = i;

	for (;;) {
		size_t label = i, n;
		int ascii = 1;

		while (i < len) {
			if (smtp_is_letdig(p[i]) || p[i] == '-')
				i++;
			else if (p[i] >= 0x80 &&
				 (n = smtp_utf8_seq(p + i, len - i))) {
				ascii = 0;
				*flags |= SMTP_PATH_UTF8;
				i += n;
			} else
				break;
		}
		if (i == label || p[label] == '-' || p[i - 1] == '-')
			return -1;
		if (ascii && i - label > 63)
			return -1;
		if (i >= len || p[i] != '.')
			break;
		i++;
	}
	if (i - start > SMTP_DOMAIN_MAX)
		return -1;
	*i_r = i;
	return 0;
}

/* Snum "." Snum "." Snum "." Snum, each 0-255 (RFC 5321 4.1.3). */
static int
ipv4_ok(const char *s, size_t len)
{
	size_t i = 0;

	for (int part = 0; part < 4; part++) {
		unsigned v = 0;
		size_t digits = 0;

		if (part > 0 && (i >= len || s[i++] != '.'))
			return 0;
		while (i < len && smtp_is_digit(s[i]) && digits < 4) {
			v = v * 10 + (unsigned)(s[i++] - '0');
			digits++;
		}
		if (digits == 0 || digits > 3 || v > 255)
			return 0;
	}
	return i == len;
}

/* The inside of "[...]": IPv4, "IPv6:" IPv6-addr, or a
 * General-address-literal (Standardized-tag ":" 1*dcontent). */
static int
literal_ok(const char *s, size_t len)
{
	struct in6_addr a6;
	char buf[64];
	size_t tag = 0;

	if (len > 5 && strncasecmp(s, "IPv6:", 5) == 0) {
		if (len - 5 >= sizeof(buf))
			return 0;
		memcpy(buf, s + 5, len - 5);
		buf[len - 5] = '\0';
		return inet_pton(AF_INET6, buf, &a6) == 1;
	}
	if (ipv4_ok(s, len))
		return 1;
	while (tag < len && (smtp_is_letdig(s[tag]) || s[tag] == '-'))
		tag++;
	if (tag == 0 || s[tag - 1] == '-' || tag + 1 >= len || s[tag] != ':')
		return 0;
	for (size_t i = tag + 1; i < len; i++)
		if (s[i] < 33 || s[i] > 126 || s[i] == '[' || s[i] == '\\' ||
		    s[i] == ']')
			return 0;
	return 1;
}

static int
parse_literal(const char *s, size_t len, size_t *i_r)
{
	const char *close = memchr(s + *i_r, ']', len - *i_r);
	size_t start = *i_r + 1;

	if (!close || !literal_ok(s + start, (size_t)(close - s) - start))
		return -1;
	*i_r = (size_t)(close - s) + 1;
	return 0;
}

int
smtp_domain_ok(const char *s, size_t len)
{
	size_t i = 0;
	unsigned flags = 0;

	if (len > 0 && s[0] == '[')
		return parse_literal(s, len, &i) == 0 && i == len;
	return parse_domain(s, len, &i, &flags) == 0 && i == len &&
	       !(flags & SMTP_PATH_UTF8);
}

int
smtp_helo_ok(const char *s, size_t len)
{
	if (len == 0 || len > SMTP_DOMAIN_MAX)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (s[i] < 33 || s[i] > 126 || strchr("()\\<>", s[i]))
			return 0;
	return 1;
}

/* ---- Local parts and paths ------------------------------------------- */

/* Dot-string = Atom *("." Atom) of atext or UTF-8, from s[*i_r]. */
static int
parse_dot_string(const char *s, size_t len, size_t *i_r, unsigned *flags)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = *i_r, n;
	int atom = 0;

	while (i < len) {
		if (p[i] == '.') {
			if (!atom)
				return -1;
			atom = 0;
			i++;
			continue;
		}
		if (smtp_is_atext(p[i]))
			n = 1;
		else if (p[i] >= 0x80 && (n = smtp_utf8_seq(p + i, len - i)))
			*flags |= SMTP_PATH_UTF8;
		else
			break;
		/* RFC 1123 5.2.16's percent hack and UUCP bang paths: routes
		 * in disguise, which the caller refuses. */
		if (p[i] == '%' || p[i] == '!')
			*flags |= SMTP_PATH_ROUTING;
		atom = 1;
		i += n;
	}
	if (!atom)
		return -1;
	*i_r = i;
	return 0;
}

/* Quoted-string of qtextSMTP and quoted-pairSMTP (and UTF-8) from the
 * '"' at s[*i_r], at most SMTP_LOCAL_MAX octets as written, quotes
 * included. Its content, unescaped and so shorter, goes to out
 * (SMTP_LOCAL_MAX bytes). */
static int
parse_quoted(const char *s, size_t len, size_t *i_r, char *out,
	     size_t *out_len, unsigned *flags)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t start = *i_r, i = start + 1, o = 0, n;

	while (i < len && p[i] != '"') {
		if (p[i] == '\\') {
			if (i + 1 >= len || p[i + 1] < 32 || p[i + 1] > 126)
				return -1;
			n = 2;
		} else if (p[i] >= 32 && p[i] <= 126) {
			n = 1;
		} else if (p[i] >= 0x80 &&
			   (n = smtp_utf8_seq(p + i, len - i))) {
			*flags |= SMTP_PATH_UTF8;
		} else {
			return -1;
		}
		/* Room for the closing quote within the bound. */
		if (i + n - start >= SMTP_LOCAL_MAX)
			return -1;
		if (p[i] == '\\') {
			out[o++] = (char)p[i + 1];
		} else {
			memcpy(out + o, p + i, n);
			o += n;
		}
		i += n;
	}
	if (i >= len)
		return -1;
	*i_r = i + 1;
	*out_len = o;
	return 0;
}

/* Local-part into p->addr: a dot-string as written; a quoted string
 * unquoted when its content is a dot-string, else kept with quotes. */
static int
parse_local(const char *s, size_t len, size_t *i_r, struct smtp_path *p)
{
	char content[SMTP_LOCAL_MAX];
	size_t start = *i_r, clen = 0, k = 0;
	unsigned f = 0;

	if (start < len && s[start] == '"') {
		if (parse_quoted(s, len, i_r, content, &clen, &p->flags) < 0)
			return -1;
		if (clen > 0 && parse_dot_string(content, clen, &k, &f) == 0 &&
		    k == clen) {
			memcpy(p->addr, content, clen);
			p->local_len = clen;
			p->flags |= f;
			return 0;
		}
		p->flags |= SMTP_PATH_QUOTED;
		if (memchr(content, '@', clen) || memchr(content, '%', clen) ||
		    memchr(content, '!', clen))
			p->flags |= SMTP_PATH_ROUTING;
	} else if (parse_dot_string(s, len, i_r, &p->flags) < 0 ||
		   *i_r - start > SMTP_LOCAL_MAX)
		return -1;
	p->local_len = *i_r - start;
	memcpy(p->addr, s + start, p->local_len);
	return 0;
}

/* A-d-l ":" (RFC 5321 4.1.2): "@" Domain *("," "@" Domain) ":", from the
 * first '@'. 4.1.1.3: servers SHOULD NOT use the route; it is only
 * checked, so "@a,@b:user@c" is mail for user@c. */
static int
parse_route(const char *s, size_t len, size_t *i_r)
{
	size_t i = *i_r;
	unsigned ignored = 0;

	for (;;) {
		i++;
		if (parse_domain(s, len, &i, &ignored) < 0)
			return -1;
		if (i + 1 < len && s[i] == ',' && s[i + 1] == '@') {
			i++;
			continue;
		}
		break;
	}
	if (i >= len || s[i] != ':')
		return -1;
	*i_r = i + 1;
	return 0;
}

int
smtp_path_parse(const char *s, size_t len, int null_ok, int postmaster_ok,
		struct smtp_path *p, size_t *end_r)
{
	size_t i = 1, dstart;

	memset(p, 0, sizeof(*p));
	if (len < 2 || s[0] != '<')
		return SMTP_P_ADDRESS;
	if (s[1] == '>') {
		p->flags = SMTP_PATH_NULL;
		*end_r = 2;
		return null_ok ? SMTP_P_OK : SMTP_P_ADDRESS;
	}
	if (postmaster_ok && len >= 12 &&
	    strncasecmp(s + 1, "postmaster>", 11) == 0) {
		memcpy(p->addr, s + 1, 10);
		p->local_len = 10;
		p->flags = SMTP_PATH_NODOMAIN;
		*end_r = 12;
		return SMTP_P_OK;
	}
	if (s[1] == '@') {
		if (parse_route(s, len, &i) < 0)
			return SMTP_P_ADDRESS;
		p->flags |= SMTP_PATH_ROUTE;
	}
	if (parse_local(s, len, &i, p) < 0 || i >= len || s[i] != '@')
		return SMTP_P_ADDRESS;
	dstart = ++i;
	if (i < len && s[i] == '[') {
		if (parse_literal(s, len, &i) < 0)
			return SMTP_P_ADDRESS;
		p->flags |= SMTP_PATH_LITERAL;
	} else if (parse_domain(s, len, &i, &p->flags) < 0)
		return SMTP_P_ADDRESS;
	if (i >= len || s[i] != '>' || i + 1 > SMTP_PATH_MAX)
		return SMTP_P_ADDRESS;
	p->addr[p->local_len] = '@';
	memcpy(p->addr + p->local_len + 1, s + dstart, i - dstart);
	p->addr[p->local_len + 1 + (i - dstart)] = '\0';
	*end_r = i + 1;
	return SMTP_P_OK;
}

