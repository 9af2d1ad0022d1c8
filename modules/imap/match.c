/* LIST pattern matching as a small NFA: the set of pattern positions
 * reachable after each octet of the name. See match.h. Pure: no SDK
 * calls. */
#include <stdlib.h>
#include <string.h>

#include "match.h"

static int
is_wild(char c)
{
	return c == '*' || c == '%';
}

/* "**", "%%", "%*" and "*%" are "*" or "%": one wildcard per run, "*"
 * if the run has one. */
static size_t
collapse(const char *in, size_t len, char *out)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		if (is_wild(in[i]) && n && is_wild(out[n - 1])) {
			if (in[i] == '*')
				out[n - 1] = '*';
			continue;
		}
		out[n++] = in[i];
	}
	out[n] = '\0';
	return n;
}

int
imap_match_init(struct imap_match *m, const char *pattern, size_t len,
		char delim, size_t name_max)
{
	size_t literal = 0;

	memset(m, 0, sizeof(*m));
	m->delim = delim;
	if (!(m->pat = malloc(len + 1)))
		return IMAP_MATCH_ENOMEM;
	m->len = collapse(pattern, len, m->pat);
	for (size_t i = 0; i < m->len; i++)
		literal += !is_wild(m->pat[i]);
	/* No name is empty, and none is longer than name_max. */
	m->never = m->len == 0 || literal > name_max;
	if (!(m->states = malloc(2 * (m->len + 1)))) {
		imap_match_free(m);
		return IMAP_MATCH_ENOMEM;
	}
	return 0;
}

void
imap_match_free(struct imap_match *m)
{
	free(m->pat);
	free(m->states);
	memset(m, 0, sizeof(*m));
}

static unsigned char
lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

/* How many leading octets of name compare case-insensitively: the
 * "INBOX" of "INBOX" and "INBOX/...". */
static size_t
inbox_len(const char *name, char delim)
{
	return strncmp(name, "INBOX", 5) == 0 &&
			       (name[5] == '\0' || name[5] == delim)
		       ? 5
		       : 0;
}

/* A wildcard also matches nothing: whoever reaches it reaches the next
 * position too. */
static void
closure(const struct imap_match *m, unsigned char *st)
{
	for (size_t i = 0; i < m->len; i++)
		if (st[i] && is_wild(m->pat[i]))
			st[i + 1] = 1;
}

static void
step(const struct imap_match *m, const unsigned char *cur,
     unsigned char *next, unsigned char c, int icase)
{
	memset(next, 0, m->len + 1);
	for (size_t i = 0; i < m->len; i++) {
		unsigned char p = (unsigned char)m->pat[i];

		if (!cur[i])
			continue;
		if (p == '*' || (p == '%' && c != (unsigned char)m->delim))
			next[i] = 1;
		else if (p == c || (icase && lower(p) == lower(c)))
			next[i + 1] = 1;
	}
	closure(m, next);
}

int
imap_match(const struct imap_match *m, const char *name)
{
	unsigned char *cur = m->states, *next = m->states + m->len + 1, *t;
	size_t icase = inbox_len(name, m->delim);
	int any;

	if (m->never)
		return 0;
	memset(cur, 0, m->len + 1);
	cur[0] = 1;
	closure(m, cur);
	for (size_t i = 0; name[i]; i++) {
		step(m, cur, next, (unsigned char)name[i], i < icase);
		t = cur;
		cur = next;
		next = t;
		any = 0;
		for (size_t k = 0; k <= m->len && !any; k++)
			any = cur[k];
		if (!any)
			return 0;
	}
	return cur[m->len];
}
