/* Address lists (RFC 5322 3.4, with 4.4's obsolete syntax: routes,
 * comments and CFWS anywhere, dots where they do not belong) for IMAP's
 * ENVELOPE (RFC 3501 7.4.2), read the way Dovecot reads them, so ENVELOPE
 * gives the same answer on the same garbage: a part that is missing is
 * filled in (MISSING_MAILBOX, MISSING_DOMAIN, INVALID_ROUTE,
 * SYNTAX_ERROR), a word without address becomes a display name, a
 * comment after an address its name, and the list ends where something
 * that is not a ',' follows an address. */
#include <stdlib.h>
#include <string.h>

#include "mime_private.h"

#define NONE SIZE_MAX

enum { NAME, ROUTE, MAILBOX, HOST };

struct entry {
	size_t f[4]; /* offsets in out, or NONE for NULL */
};

struct actx {
	const char *s;
	size_t len, i;
	struct mime_buf str;     /* the words being read */
	struct mime_buf comment; /* the last comment skipped */
	struct mime_buf out;     /* the entries' strings, NUL-terminated */
	struct entry cur;        /* the address being read */
	int invalid;             /* cur has a syntax error */
	struct entry *e;
	unsigned count, cap, max;
	int failed;
};

/* ---- Lexing (RFC 5322 3.2) ------------------------------------------- */

/* The octet at i, or 0 at the end (no NUL is in a kept field). */
static char
peek(const struct actx *c)
{
	return c->i < c->len ? c->s[c->i] : '\0';
}

/* RFC 5322 3.2.3 atext, 8-bit octets too. */
static int
atext(char ch)
{
	unsigned char u = (unsigned char)ch;

	return u >= 0x80 || (u >= '0' && u <= '9') ||
	       (mime_tolower(u) >= 'a' && mime_tolower(u) <= 'z') ||
	       (u != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", u) != NULL);
}

/* A comment at '(' (3.2.2): nested ones, quoted-pairs undone; its text
 * is the last comment. 1 or 0 (more or the end after it), -1 if it
 * never closes (and then there is no last comment). */
static int
comment(struct actx *c)
{
	unsigned depth = 1;

	c->comment.len = 0;
	for (c->i++; c->i < c->len; c->i++) {
		char ch = c->s[c->i];

		if (ch == '\\') {
			if (++c->i == c->len)
				break;
			ch = c->s[c->i];
		} else if (ch == '(') {
			depth++;
		} else if (ch == ')' && --depth == 0) {
			c->i++;
			return c->i < c->len;
		}
		mime_buf_addc(&c->comment, ch);
	}
	c->comment.len = 0;
	return -1;
}

/* CFWS: 1 when something follows, 0 at the end, -1 for a comment that
 * never closes. */
static int
skip(struct actx *c)
{
	while (c->i < c->len) {
		if (mime_is_wsp(c->s[c->i])) {
			c->i++;
		} else if (c->s[c->i] == '(') {
			if (comment(c) < 0)
				return -1;
		} else {
			return 1;
		}
	}
	return 0;
}

/* An atom (3.2.3) into str: -1 unless one starts here, else skip()'s
 * answer, 0 when it ran to the end. */
static int
atom(struct actx *c)
{
	size_t start = c->i;

	if (!atext(peek(c)))
		return -1;
	while (c->i < c->len && atext(c->s[c->i]))
		c->i++;
	mime_buf_add(&c->str, c->s + start, c->i - start);
	return c->i < c->len ? skip(c) : 0;
}

/* A run of atext and dots, maybe empty, into str (a phrase's word). */
static int
atom_or_dot(struct actx *c)
{
	size_t start = c->i;

	while (c->i < c->len && (atext(c->s[c->i]) || c->s[c->i] == '.'))
		c->i++;
	mime_buf_add(&c->str, c->s + start, c->i - start);
	return c->i < c->len ? skip(c) : 0;
}

/* A dot-atom (3.2.3) into str, CFWS allowed around the dots as RFC 822
 * did; -1 for an empty part ("a..b"). */
static int
dot_atom(struct actx *c)
{
	int r;

	if (!atext(peek(c)))
		return -1;
	for (;;) {
		size_t start = c->i;

		while (c->i < c->len && atext(c->s[c->i]))
			c->i++;
		if (c->i == start)
			return -1;
		mime_buf_add(&c->str, c->s + start, c->i - start);
		if (c->i == c->len)
			return 0;
		if ((r = skip(c)) <= 0)
			return r;
		if (peek(c) != '.')
			return 1;
		c->i++;
		mime_buf_addc(&c->str, '.');
		if (skip(c) <= 0)
			return -1;
	}
}

/* A quoted string at '"' (3.2.4) into str, quoted-pairs undone; -1 when
 * it never closes. */
static int
quoted(struct actx *c)
{
	for (c->i++; c->i < c->len; c->i++) {
		if (c->s[c->i] == '"') {
			c->i++;
			return skip(c);
		}
		if (c->s[c->i] == '\\' && ++c->i == c->len)
			return -1;
		mime_buf_addc(&c->str, c->s[c->i]);
	}
	return -1;
}

/* A phrase (3.2.5 with obs-phrase) into str: words and dots, one space
 * between them; -1 when it starts with a dot, 0 at the end. */
static int
phrase(struct actx *c)
{
	int r;

	if (c->i >= c->len)
		return 0;
	if (peek(c) == '.')
		return -1;
	for (;;) {
		r = peek(c) == '"' ? quoted(c) : atom_or_dot(c);
		if (r <= 0)
			return r;
		if (!atext(peek(c)) && peek(c) != '"' && peek(c) != '.')
			break;
		mime_buf_addc(&c->str, ' ');
	}
	return skip(c);
}

/* A domain literal at '[' (3.4.1) into str, brackets kept. */
static int
literal(struct actx *c)
{
	size_t start = c->i;

	for (c->i++; c->i < c->len; c->i++) {
		if (c->s[c->i] == '[')
			return -1;
		if (c->s[c->i] == ']') {
			c->i++;
			mime_buf_add(&c->str, c->s + start, c->i - start);
			return skip(c);
		}
		if (c->s[c->i] == '\\' && ++c->i == c->len)
			return -1;
	}
	return -1;
}

/* The domain after the '@' at c->i into str. */
static int
domain(struct actx *c)
{
	c->i++;
	if (skip(c) <= 0)
		return -1;
	return peek(c) == '[' ? literal(c) : dot_atom(c);
}

/* ---- Entries --------------------------------------------------------- */

static size_t
keep(struct actx *c, const char *s, size_t n)
{
	size_t off = c->out.len;

	mime_buf_add(&c->out, s, n);
	mime_buf_addc(&c->out, '\0');
	return off;
}

static size_t
keep_str(struct actx *c)
{
	return keep(c, c->str.p ? c->str.p : "", c->str.len);
}

static size_t
keep_lit(struct actx *c, const char *s)
{
	return keep(c, s, strlen(s));
}

static void
add(struct actx *c)
{
	if (c->count < c->max && c->count == c->cap) {
		unsigned cap = c->cap ? c->cap * 2 : 8;
		struct entry *e = realloc(c->e, cap * sizeof(*e));

		if (e == NULL) {
			c->failed = 1;
		} else {
			c->e = e;
			c->cap = cap;
		}
	}
	if (c->count < c->max && c->count < c->cap)
		c->e[c->count++] = c->cur;
	c->cur = (struct entry){{NONE, NONE, NONE, NONE}};
	c->invalid = 0;
}

/* A mailbox gets what it lacks filled in. */
static void
add_fixed(struct actx *c)
{
	if (c->cur.f[MAILBOX] == NONE)
		c->cur.f[MAILBOX] = keep_lit(c, MIME_MISSING_MAILBOX);
	if (c->cur.f[HOST] == NONE || c->out.p[c->cur.f[HOST]] == '\0')
		c->cur.f[HOST] = keep_lit(c, MIME_MISSING_DOMAIN);
	add(c);
}

/* ---- The grammar (3.4, 4.4) ------------------------------------------ */

/* Dots anywhere in a local part (4.4 allows fewer, mail has more). */
static int
loose_dot_atom(struct actx *c)
{
	int r = -1;

	do {
		while (peek(c) == '.') {
			mime_buf_addc(&c->str, '.');
			if (++c->i == c->len)
				return 0;
			r = 1;
		}
		if (peek(c) == '@')
			break;
		r = atom(c);
	} while (r > 0 && peek(c) == '.');
	return r;
}

static int
local_part(struct actx *c)
{
	int r;

	c->str.len = 0;
	r = peek(c) == '"' ? quoted(c) : loose_dot_atom(c);
	if (r < 0)
		return -1;
	c->cur.f[MAILBOX] = keep_str(c);
	return r;
}

static int
host(struct actx *c)
{
	int r;

	c->str.len = 0;
	if ((r = domain(c)) < 0)
		return -1;
	c->cur.f[HOST] = keep_str(c);
	return r;
}

/* obs-route's domain list "@a,@b" up to its ':' (4.4). */
static int
route(struct actx *c)
{
	int r;

	c->str.len = 0;
	for (;;) {
		if (c->i >= c->len)
			return 0;
		if (peek(c) != '@')
			break;
		if (c->str.len > 0)
			mime_buf_addc(&c->str, ',');
		mime_buf_addc(&c->str, '@');
		if ((r = domain(c)) <= 0)
			return r;
		while (skip(c) > 0 && peek(c) == ',')
			c->i++;
	}
	c->cur.f[ROUTE] = keep_str(c);
	return 1;
}

/* angle-addr at '<': "<>" leaves mailbox and host missing. */
static int
angle(struct actx *c)
{
	c->i++;
	if (skip(c) <= 0)
		return -1;
	if (peek(c) == '@') {
		if (route(c) > 0 && peek(c) == ':') {
			c->i++;
		} else {
			c->cur.f[ROUTE] = keep_lit(c, "INVALID_ROUTE");
			if (c->i >= c->len)
				return -1;
		}
		if (skip(c) <= 0)
			return -1;
	}
	if (peek(c) != '>') {
		if (local_part(c) <= 0)
			return -1;
		if (peek(c) == '@' && host(c) <= 0)
			return -1;
	}
	if (peek(c) != '>')
		return -1;
	c->i++;
	return skip(c);
}

/* name-addr: -1 when there is no '<' after the phrase. */
static int
name_addr(struct actx *c)
{
	c->str.len = 0;
	if (phrase(c) <= 0 || peek(c) != '<')
		return -1;
	if (c->str.len > 0)
		c->cur.f[NAME] = keep_str(c);
	if (angle(c) < 0) {
		c->cur.f[HOST] = keep_lit(c, "SYNTAX_ERROR");
		c->invalid = 1;
	}
	return c->i < c->len;
}

/* addr-spec; a comment in it names it, and words without '@' after the
 * local part make it a display name. */
static int
addr_spec(struct actx *c)
{
	int q = peek(c) == '"', r, r2 = -2;

	c->comment.len = 0;
	if ((r = local_part(c)) <= 0)
		c->invalid = 1;
	if (r != 0 && peek(c) == '@' && (r2 = host(c)) <= 0)
		r = r2;
	if (c->comment.len > 0) {
		c->cur.f[NAME] = keep(c, c->comment.p, c->comment.len);
	} else if (r2 == -2) {
		size_t before;

		mime_buf_addc(&c->str, ' ');
		before = c->str.len;
		(void)phrase(c);
		if (c->str.len != before) {
			c->cur.f[MAILBOX] = NONE;
			c->cur.f[NAME] = keep_str(c);
		} else if (!q) {
			c->cur.f[HOST] = keep_lit(c, "");
		}
		c->invalid = 1;
		r = -1;
	}
	return r;
}

static int
mailbox(struct actx *c)
{
	size_t start = c->i;
	int r;

	if ((r = name_addr(c)) < 0) {
		c->i = start;
		r = addr_spec(c);
		if (c->invalid && c->cur.f[NAME] == NONE &&
		    c->cur.f[MAILBOX] != NONE && c->cur.f[HOST] == NONE) {
			c->cur.f[NAME] = c->cur.f[MAILBOX];
			c->cur.f[MAILBOX] = NONE;
		}
	}
	add_fixed(c);
	return r;
}

/* group: -1 when the phrase is not followed by ':'; the group's end is
 * added whatever comes. */
static int
group(struct actx *c)
{
	int r;

	c->str.len = 0;
	if (phrase(c) <= 0 || peek(c) != ':')
		return -1;
	if (c->count + 2 > c->max)
		return 0; /* no room for its start and end: the list ends */
	c->i++;
	r = skip(c);
	c->cur.f[MAILBOX] = keep_str(c);
	add(c);
	if (r > 0 && peek(c) != ';') {
		/* Room for the end: entries stop at max. */
		while (c->count + 2 <= c->max) {
			(void)mailbox(c);
			if (peek(c) != ',')
				break;
			c->i++;
			if (skip(c) <= 0) {
				r = -1;
				break;
			}
		}
	}
	if (r >= 0) {
		if (peek(c) != ';') {
			r = -1;
		} else {
			c->i++;
			r = skip(c);
		}
	}
	add(c);
	return r == 0 ? 0 : 1;
}

static int
address(struct actx *c)
{
	size_t start = c->i;
	int r;

	if ((r = group(c)) < 0) {
		c->i = start;
		r = mailbox(c);
	}
	return r;
}

static void
address_list(struct actx *c)
{
	int r;

	while (c->count < c->max && !c->failed) {
		if (address(c) == 0)
			break;
		if (peek(c) != ',')
			break;
		c->i++;
		if ((r = skip(c)) <= 0) {
			if (r < 0)
				add_fixed(c); /* garbage at the end */
			break;
		}
	}
}

/* ---- The result ------------------------------------------------------ */

static int
finish(struct actx *c, struct mime_address **list_r)
{
	struct mime_address *l;
	char *strs;

	if (c->out.failed || c->str.failed || c->comment.failed || c->failed)
		return MIME_ENOMEM;
	if (c->count == 0)
		return MIME_OK;
	l = malloc(c->count * sizeof(*l) + c->out.len);
	if (l == NULL)
		return MIME_ENOMEM;
	strs = (char *)(l + c->count);
	memcpy(strs, c->out.p, c->out.len);
	for (unsigned i = 0; i < c->count; i++) {
		const char **f[4] = {&l[i].name, &l[i].route, &l[i].mailbox,
				     &l[i].host};

		for (int k = 0; k < 4; k++)
			*f[k] = c->e[i].f[k] == NONE ? NULL :
						       strs + c->e[i].f[k];
	}
	*list_r = l;
	return MIME_OK;
}

int
mime_address_parse(const char *s, size_t len, unsigned max,
		   struct mime_address **list_r, unsigned *count_r)
{
	struct actx c = {.s = s, .len = len,
			 .max = max ? max : MIME_ADDRESS_MAX,
			 .cur = {{NONE, NONE, NONE, NONE}}};
	int r;

	*list_r = NULL;
	*count_r = 0;
	mime_buf_init(&c.str, SIZE_MAX);
	mime_buf_init(&c.comment, SIZE_MAX);
	mime_buf_init(&c.out, SIZE_MAX);
	if (skip(&c) > 0)
		address_list(&c);
	if ((r = finish(&c, list_r)) == MIME_OK)
		*count_r = c.count;
	free(c.e);
	mime_buf_free(&c.str);
	mime_buf_free(&c.comment);
	mime_buf_free(&c.out);
	return r;
}
