/* The tokens of a command line (RFC 3501 9, RFC 9051 9) and the tree
 * they make: atoms and the words that sequence sets, list-mailbox
 * patterns and flags are written as, quoted strings (UTF-8 with
 * UTF8=ACCEPT, RFC 6855 3), lists, FETCH sections with their partial,
 * and the literal announcement at a line's end. Pure: no SDK calls. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "chars.h"
#include "token.h"
#include "utf8.h"

const char imap_token_oom[] = "Out of memory";
const char imap_token_too_many[] = "Too many arguments";
const char imap_token_too_deep[] = "Too deeply nested";

/* ---- Storage ----------------------------------------------------------- */

int
imap_token_reserve(struct imap_parser *p, size_t n)
{
	size_t cap = p->dcap ? p->dcap : 256;
	char *d;

	if (n <= p->dcap - p->dlen)
		return 0;
	if (n > SIZE_MAX / 4 - p->dlen)
		return -1;
	while (cap - p->dlen < n)
		cap *= 2;
	d = realloc(p->data, cap);
	if (!d)
		return -1;
	p->data = d;
	p->dcap = cap;
	p->dirty = 1;
	return 0;
}

size_t
imap_token_put(struct imap_parser *p, const void *s, size_t n)
{
	size_t off = p->dlen;

	if (imap_token_reserve(p, n + 1) < 0)
		return IMAP_NONE;
	if (n)
		memcpy(p->data + off, s, n);
	p->data[off + n] = '\0';
	p->dlen += n + 1;
	return off;
}

int
imap_token_grow(struct imap_parser *p, size_t cap)
{
	struct imap_tok *t;
	struct imap_arg *a;
	size_t *o;

	if (cap > p->lim.max_tokens + 1)
		cap = p->lim.max_tokens + 1;
	if (cap <= p->tcap)
		return 0;
	if (cap > SIZE_MAX / sizeof(*t))
		return -1;
	if (!(t = realloc(p->tok, cap * sizeof(*t))))
		return -1;
	p->tok = t;
	if (!(a = realloc(p->args, cap * sizeof(*a))))
		return -1;
	p->args = a;
	if (!(o = realloc(p->order, cap * sizeof(*o))))
		return -1;
	p->order = o;
	p->tcap = cap;
	return 0;
}

size_t
imap_token_new(struct imap_parser *p, enum imap_arg_type type, size_t parent,
	       const char **why_r)
{
	size_t i = p->ntok;

	if (i - 1 >= p->lim.max_tokens) {
		*why_r = imap_token_too_many;
		return IMAP_NONE;
	}
	if (i == p->tcap && imap_token_grow(p, p->tcap * 2) < 0) {
		*why_r = imap_token_oom;
		return IMAP_NONE;
	}
	p->ntok++;
	p->tok[i] = (struct imap_tok){
		.type = type, .off = IMAP_NONE, .raw_off = IMAP_NONE,
		.parent = parent, .first = IMAP_NONE, .last = IMAP_NONE,
		.next = IMAP_NONE,
	};
	if (p->tok[parent].last == IMAP_NONE)
		p->tok[parent].first = i;
	else
		p->tok[p->tok[parent].last].next = i;
	p->tok[parent].last = i;
	p->tok[parent].count++;
	p->dirty = 1;
	return i;
}

/* A token with text s[0..n); NULL or why not. */
static const char *
add(struct imap_parser *p, enum imap_arg_type type, unsigned flags,
    size_t parent, const void *s, size_t n, size_t *i_r)
{
	const char *why = NULL;
	size_t t = imap_token_new(p, type, parent, &why), off;

	if (t == IMAP_NONE)
		return why;
	if ((off = imap_token_put(p, s, n)) == IMAP_NONE)
		return imap_token_oom;
	p->tok[t].off = off;
	p->tok[t].len = n;
	p->tok[t].flags = flags;
	if (i_r)
		*i_r = t;
	return NULL;
}

/* ---- Literal announcements ---------------------------------------------- */

int
imap_token_marker(const char *line, size_t len, struct imap_marker *m)
{
	size_t i = len, end;
	uint64_t v = 0;

	if (i == 0 || line[i - 1] != '}')
		return 0;
	i--;
	m->sync = !(i > 0 && line[i - 1] == '+');
	i -= !m->sync;
	end = i;
	while (i > 0 && imap_is_digit((unsigned char)line[i - 1]))
		i--;
	if (i == end || i == 0 || line[i - 1] != '{')
		return 0;
	for (size_t k = i; k < end; k++) {
		if (v > (IMAP_NUMBER64_MAX - (unsigned)(line[k] - '0')) / 10)
			return -1;
		v = v * 10 + (unsigned)(line[k] - '0');
	}
	m->size = v;
	m->binary = i >= 2 && line[i - 2] == '~';
	m->start = i - 1 - (size_t)m->binary;
	return 1;
}

/* ---- Lists and sections ------------------------------------------------- */

static const char *
open_container(struct imap_parser *p, size_t t)
{
	if (p->depth >= p->lim.max_depth)
		return imap_token_too_deep;
	p->depth++;
	p->cur = t;
	return NULL;
}

void
imap_token_close(struct imap_parser *p)
{
	p->cur = p->tok[p->cur].parent;
	p->depth--;
}

const char *
imap_token_open_list(struct imap_parser *p)
{
	const char *why = NULL;
	size_t t = imap_token_new(p, IMAP_ARG_LIST, p->cur, &why);

	return t == IMAP_NONE ? why : open_container(p, t);
}

/* partial = "<" number64 "." nz-number64 ">" at s[*i_r]: 1 with the
 * values, 0 when no "<" is there, -1 when it is malformed. */
static int
partial(const unsigned char *s, size_t len, size_t *i_r, uint64_t *start_r,
	uint64_t *len_r)
{
	size_t i = *i_r;

	if (i == len || s[i] != '<')
		return 0;
	i++;
	if (imap_number64(s, len, &i, start_r) < 0 || i == len || s[i] != '.')
		return -1;
	i++;
	if (i == len || s[i] == '0' || imap_number64(s, len, &i, len_r) < 0 ||
	    i == len || s[i] != '>')
		return -1;
	*i_r = i + 1;
	return 1;
}

const char *
imap_token_close_section(struct imap_parser *p, const unsigned char *s,
			 size_t len, size_t *i_r)
{
	size_t t = p->cur;
	int r;

	imap_token_close(p);
	r = partial(s, len, i_r, &p->tok[t].pstart, &p->tok[t].plen);
	if (r < 0)
		return "Invalid partial";
	if (r == 1)
		p->tok[t].flags |= IMAP_ARGF_PARTIAL;
	return NULL;
}

static int
word_is(const unsigned char *s, size_t n, const char *word)
{
	return n == strlen(word) && strncasecmp((const char *)s, word, n) == 0;
}

static int
section_name(const unsigned char *s, size_t n)
{
	return word_is(s, n, "BODY") || word_is(s, n, "BODY.PEEK") ||
		word_is(s, n, "BINARY") || word_is(s, n, "BINARY.PEEK") ||
		word_is(s, n, "BINARY.SIZE");
}

/* [section-part "."] "HEADER.FIELDS" [".NOT"]: the section-spec that a
 * header-list follows, after " ". */
static int
header_fields(const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n && imap_is_digit(s[i])) {
		while (i < n && imap_is_digit(s[i]))
			i++;
		if (i == n || s[i] != '.')
			return 0;
		i++;
	}
	return word_is(s + i, n - i, "HEADER.FIELDS") ||
		word_is(s + i, n - i, "HEADER.FIELDS.NOT");
}

/* "BODY[1.HEADER.FIELDS" with " (" next: a section holding a list. */
static const char *
open_section(struct imap_parser *p, const unsigned char *name, size_t nlen,
	     const unsigned char *spec, size_t slen)
{
	const char *why;
	size_t t = 0;

	if ((why = add(p, IMAP_ARG_SECTION, 0, p->cur, name, nlen, &t)))
		return why;
	if ((why = open_container(p, t)))
		return why;
	return add(p, IMAP_ARG_ATOM, 0, t, spec, slen, NULL);
}

/* A word s[0..n) that may be a section written as one word:
 * name "[" spec "]" [partial], spec without brackets or wildcards. Sets
 * *done when it was one. */
static const char *
raw_section(struct imap_parser *p, const unsigned char *s, size_t n,
	    size_t lb, int *done)
{
	size_t e, i, t = 0;
	uint64_t ps = 0, pl = 0;
	const char *why;
	int r = 0;

	for (e = lb + 1; e < n && s[e] != ']'; e++)
		if (s[e] == '[' || s[e] == '%' || s[e] == '*')
			return NULL;
	if (e == n)
		return NULL;
	i = e + 1;
	if (i < n && (r = partial(s, n, &i, &ps, &pl)) != 1)
		return NULL;
	if (i != n)
		return NULL;
	*done = 1;
	if ((why = add(p, IMAP_ARG_SECTION, IMAP_ARGF_RAW, p->cur, s, lb, &t)))
		return why;
	if ((p->tok[t].raw_off = imap_token_put(p, s, n)) == IMAP_NONE)
		return imap_token_oom;
	p->tok[t].raw_len = n;
	if (r == 1) {
		p->tok[t].flags |= IMAP_ARGF_PARTIAL;
		p->tok[t].pstart = ps;
		p->tok[t].plen = pl;
	}
	if (e > lb + 1)
		return add(p, IMAP_ARG_ATOM, 0, t, s + lb + 1, e - lb - 1,
			   NULL);
	return NULL;
}

/* ---- Words and strings -------------------------------------------------- */

const char *
imap_token_word(struct imap_parser *p, const unsigned char *s, size_t len,
		size_t *i_r)
{
	size_t start = *i_r, i = start, lb = IMAP_NONE;
	unsigned flags = 0;
	int done = 0;
	const char *why;

	for (; i < len && imap_is_list_char(s[i]); i++) {
		if (s[i] == '[' && lb == IMAP_NONE)
			lb = i;
		else if (s[i] == '%' || s[i] == '*')
			flags |= IMAP_ARGF_WILDCARD;
		else if (s[i] == ']')
			flags |= IMAP_ARGF_RBRACKET;
	}
	*i_r = i;
	if (lb != IMAP_NONE && section_name(s + start, lb - start)) {
		if (i + 1 < len && s[i] == ' ' && s[i + 1] == '(' &&
		    header_fields(s + lb + 1, i - lb - 1))
			return open_section(p, s + start, lb - start,
					    s + lb + 1, i - lb - 1);
		why = raw_section(p, s + start, i - start, lb - start, &done);
		if (done)
			return why;
	}
	return add(p, flags == 0 && word_is(s + start, i - start, "NIL") ?
		   IMAP_ARG_NIL : IMAP_ARG_ATOM, flags, p->cur, s + start,
		   i - start, NULL);
}

/* flag-extension and the system flags: "\" 1*ATOM-CHAR. */
const char *
imap_token_flag(struct imap_parser *p, const unsigned char *s, size_t len,
		size_t *i_r)
{
	size_t start = *i_r, i = start + 1;

	while (i < len && imap_is_atom_char(s[i]))
		i++;
	if (i == start + 1)
		return "Invalid flag";
	*i_r = i;
	return add(p, IMAP_ARG_ATOM, IMAP_ARGF_BACKSLASH, p->cur, s + start,
		   i - start, NULL);
}

/* quoted = DQUOTE *QUOTED-CHAR DQUOTE: TEXT-CHAR but the
 * quoted-specials, which come escaped; UTF-8 only with UTF8=ACCEPT
 * (RFC 9051 9 QUOTED-CHAR =/ UTF8-2 / UTF8-3 / UTF8-4). */
const char *
imap_token_quoted(struct imap_parser *p, const unsigned char *s, size_t len,
		  size_t *i_r)
{
	size_t i = *i_r + 1, n = 0, t, off, k;
	unsigned flags = 0;
	const char *why = NULL;
	char *out;
	uint32_t cp;

	if (imap_token_reserve(p, len - i + 1) < 0)
		return imap_token_oom;
	off = p->dlen;
	out = p->data + off;
	for (;;) {
		if (i == len)
			return "Unterminated quoted string";
		if (s[i] == '"')
			break;
		if (s[i] == '\\') {
			if (i + 1 == len ||
			    (s[i + 1] != '"' && s[i + 1] != '\\'))
				return "Invalid escape in quoted string";
			out[n++] = (char)s[i + 1];
			i += 2;
		} else if (s[i] == '\0' || s[i] == '\r' || s[i] == '\n') {
			return "Invalid character in quoted string";
		} else if (s[i] < 0x80) {
			out[n++] = (char)s[i++];
		} else if (!(p->flags & IMAP_PARSE_UTF8)) {
			return "8-bit octet in quoted string "
				"(UTF8=ACCEPT is not enabled)";
		} else if ((k = imap_utf8_next(s + i, len - i, &cp)) == 0) {
			return "Invalid UTF-8 in quoted string";
		} else {
			memcpy(out + n, s + i, k);
			n += k;
			i += k;
			flags |= IMAP_ARGF_8BIT;
		}
	}
	out[n] = '\0';
	p->dlen += n + 1;
	*i_r = i + 1;
	if ((t = imap_token_new(p, IMAP_ARG_QUOTED, p->cur, &why)) == IMAP_NONE)
		return why;
	p->tok[t].off = off;
	p->tok[t].len = n;
	p->tok[t].flags = flags;
	return NULL;
}
