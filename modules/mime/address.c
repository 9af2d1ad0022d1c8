/* Address lists (RFC 5322 3.4, with 4.4's obsolete syntax) for IMAP's
 * ENVELOPE (RFC 3501 7.4.2): lexed into atoms, quoted strings, domain
 * literals, comments and specials, then read leniently one element at a
 * time, so garbage costs an odd entry, never the rest of the list. */
#include <stdlib.h>
#include <string.h>

#include "mime_private.h"

enum tkind {
	T_ATOM,
	T_QUOTED,
	T_LITERAL, /* "[...]", brackets kept */
	T_COMMENT, /* text inside the outer parentheses */
	T_SPECIAL, /* one of < > : ; @ , . */
};

struct tok {
	enum tkind kind;
	size_t off, len; /* text in the lexer's buffer */
	char ch;         /* T_SPECIAL */
	int space;       /* white space or a comment came before it */
};

struct actx {
	struct tok *t;
	size_t n, cap;
	size_t *next_gt;      /* per token: the first '>' from it, or n */
	struct mime_buf text; /* token texts */
	struct mime_buf str;  /* output strings, NUL-terminated */
	struct {
		size_t s[4]; /* name, route, mailbox, host: offsets in str,
			      * SIZE_MAX for NULL */
	} *e;
	unsigned count, max;
	int failed;
};

#define NONE SIZE_MAX

static int
special(int ch)
{
	return strchr("<>:;@,.", ch) != NULL;
}

static struct tok *
add_tok(struct actx *c, enum tkind kind, int space)
{
	struct tok *t;

	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 32;

		if ((t = realloc(c->t, cap * sizeof(*t))) == NULL) {
			c->failed = 1;
			return NULL;
		}
		c->t = t;
		c->cap = cap;
	}
	t = &c->t[c->n++];
	*t = (struct tok){.kind = kind, .off = c->text.len, .space = space};
	return t;
}

/* A quoted string or comment body from s[i] (after its opener) to its
 * closer; quoted-pairs unescaped, line breaks dropped. */
static size_t
lex_enclosed(struct actx *c, const char *s, size_t len, size_t i, int comment)
{
	unsigned depth = 1;

	for (; i < len; i++) {
		char ch = s[i];

		if (ch == '\\' && i + 1 < len) {
			ch = s[++i];
		} else if (ch == '\r' || ch == '\n') {
			continue;
		} else if (!comment && ch == '"') {
			return i + 1;
		} else if (comment && ch == '(') {
			depth++;
		} else if (comment && ch == ')' && --depth == 0) {
			return i + 1;
		}
		mime_buf_addc(&c->text, ch);
	}
	return len;
}

static void
lex(struct actx *c, const char *s, size_t len)
{
	size_t i = 0;
	int space = 0;

	while (i < len && !c->failed) {
		unsigned char ch = (unsigned char)s[i];
		struct tok *t;
		size_t start = i;

		if (mime_is_wsp(ch) || ch == ')' || ch == ']') {
			i++; /* a stray closer is white space too */
			space = 1;
			continue;
		}
		if (ch == '(' || ch == '"') {
			if ((t = add_tok(c, ch == '(' ? T_COMMENT : T_QUOTED,
					 space)) == NULL)
				return;
			i = lex_enclosed(c, s, len, i + 1, ch == '(');
			t->len = c->text.len - t->off;
			space = ch == '(';
			continue;
		}
		if (ch == '[') {
			while (i < len && s[i] != ']')
				i++;
			i += i < len;
			t = add_tok(c, T_LITERAL, space);
		} else if (special(ch)) {
			i++;
			if ((t = add_tok(c, T_SPECIAL, space)) != NULL)
				t->ch = (char)ch;
		} else {
			while (i < len && !mime_is_wsp(s[i]) &&
			       !strchr("()<>[]:;@,.\"", s[i]))
				i++;
			t = add_tok(c, T_ATOM, space);
		}
		if (t == NULL)
			return;
		mime_buf_add(&c->text, s + start, i - start);
		t->len = c->text.len - t->off;
		space = 0;
	}
	if (c->text.failed)
		c->failed = 1;
}

static int
is_sp(const struct tok *t, char ch)
{
	return t->kind == T_SPECIAL && t->ch == ch;
}

/* Join the texts of the tokens in [a, b) that words allows (phrase:
 * atoms, quoted strings and dots, one space where the source had white
 * space; else atoms, quoted strings, literals and the given specials,
 * without spaces) into str; its offset, or NONE if nothing was kept. */
static size_t
join(struct actx *c, size_t a, size_t b, int phrase, const char *specials)
{
	size_t off = c->str.len;
	int any = 0;

	for (size_t i = a; i < b; i++) {
		const struct tok *t = &c->t[i];

		if (t->kind == T_COMMENT)
			continue;
		if (t->kind == T_SPECIAL && !strchr(specials, t->ch))
			continue;
		if (phrase && t->kind == T_LITERAL)
			continue;
		if (phrase && any && t->space)
			mime_buf_addc(&c->str, ' ');
		mime_buf_add(&c->str, c->text.p + t->off, t->len);
		any = 1;
	}
	if (!any || c->str.len == off) {
		c->str.len = off; /* "" is no name */
		return NONE;
	}
	mime_buf_addc(&c->str, '\0');
	return off;
}

static size_t
lit(struct actx *c, const char *s)
{
	size_t off = c->str.len;

	mime_buf_add(&c->str, s, strlen(s) + 1);
	return off;
}

static void
emit(struct actx *c, size_t name, size_t route, size_t mailbox, size_t host)
{
	c->e[c->count].s[0] = name;
	c->e[c->count].s[1] = route;
	c->e[c->count].s[2] = mailbox;
	c->e[c->count].s[3] = host;
	c->count++;
}

/* The domain after the '@' at a: words joined by dots, CFWS dropped,
 * up to the first thing that does not continue it. */
static size_t
domain(struct actx *c, size_t a, size_t b)
{
	size_t off = c->str.len;
	int want_word = 1, any = 0;

	for (size_t i = a; i < b; i++) {
		const struct tok *t = &c->t[i];

		if (t->kind == T_COMMENT)
			continue;
		if (want_word && t->kind != T_SPECIAL) {
			mime_buf_add(&c->str, c->text.p + t->off, t->len);
			want_word = 0;
			any = 1;
		} else if (!want_word && is_sp(t, '.')) {
			mime_buf_addc(&c->str, '.');
			want_word = 1;
		} else {
			break;
		}
	}
	if (!any)
		return NONE;
	mime_buf_addc(&c->str, '\0');
	return off;
}

/* local-part "@" domain from the tokens in [a, b); "<>" when empty. */
static void
addr_spec(struct actx *c, size_t a, size_t b, size_t name, size_t route,
	  int angle)
{
	size_t at = b, mailbox, host;
	int words = 0;

	for (size_t i = a; i < b; i++) {
		if (is_sp(&c->t[i], '@') && at == b)
			at = i; /* the first: "a@b@c" is a at b */
		else if (c->t[i].kind != T_COMMENT &&
			 c->t[i].kind != T_SPECIAL)
			words = 1;
	}
	if (!words && at == b) {
		if (angle) /* "<>" */
			emit(c, name, route, lit(c, ""), lit(c, ""));
		return; /* an empty element */
	}
	mailbox = join(c, a, at, 0, ".");
	host = at < b ? domain(c, at + 1, b) : NONE;
	emit(c, name, route,
	     mailbox != NONE ? mailbox : lit(c, MIME_MISSING_MAILBOX),
	     host != NONE ? host : lit(c, MIME_MISSING_DOMAIN));
}

/* The element starting at token i, up to a ',' or ';' (or the ':' of a
 * group); returns the index of that delimiter (or n). */
static size_t
element(struct actx *c, size_t i, int *in_group)
{
	size_t j = i, end, lt, gt, k, route = NONE, name = NONE;

	while (j < c->n && !(c->t[j].kind == T_SPECIAL &&
			     strchr("<:@,;", c->t[j].ch)))
		j++;
	if (j < c->n && is_sp(&c->t[j], ':') && !*in_group) {
		if (c->count + 2 <= c->max) {
			size_t g = join(c, i, j, 1, ".");

			emit(c, NONE, NONE, g != NONE ? g : lit(c, ""), NONE);
			*in_group = 1;
		}
		return j;
	}
	if (j < c->n && is_sp(&c->t[j], '<')) {
		/* The angle runs to its '>' (a route has commas), else to
		 * the first ',' or ';'. */
		lt = j;
		gt = c->next_gt[lt];
		if (gt == c->n)
			for (gt = lt + 1; gt < c->n && !is_sp(&c->t[gt], ',') &&
					  !is_sp(&c->t[gt], ';');
			     gt++)
				;
		for (end = gt; end < c->n; end++)
			if (is_sp(&c->t[end], ',') || is_sp(&c->t[end], ';'))
				break;
		if (c->count + (*in_group ? 2 : 1) > c->max)
			return end;
		k = lt + 1;
		if (k < gt && is_sp(&c->t[k], '@')) {
			size_t colon = k;

			while (colon < gt && !is_sp(&c->t[colon], ':'))
				colon++;
			if (colon < gt) {
				route = join(c, k, colon, 0, "@,.");
				k = colon + 1;
			}
		}
		addr_spec(c, k, gt, join(c, i, lt, 1, "."), route, 1);
		return end;
	}
	for (end = j; end < c->n; end++)
		if (is_sp(&c->t[end], ',') || is_sp(&c->t[end], ';'))
			break;
	if (c->count + (*in_group ? 2 : 1) > c->max)
		return end;
	/* addr-spec alone: a comment in it may name the mailbox */
	for (k = i; k < end; k++)
		if (c->t[k].kind == T_COMMENT && c->t[k].len > 0) {
			name = c->str.len;
			mime_buf_add(&c->str, c->text.p + c->t[k].off,
				     c->t[k].len);
			mime_buf_addc(&c->str, '\0');
		}
	addr_spec(c, i, end, name, NONE, 0);
	return end;
}

static int
finish(struct actx *c, struct mime_address **list_r)
{
	struct mime_address *l;
	char *strs;

	if (c->str.failed)
		return MIME_ENOMEM;
	if (c->count == 0)
		return MIME_OK;
	l = malloc(c->count * sizeof(*l) + c->str.len);
	if (l == NULL)
		return MIME_ENOMEM;
	strs = (char *)(l + c->count);
	memcpy(strs, c->str.p, c->str.len);
	for (unsigned i = 0; i < c->count; i++) {
		const char **f[4] = {&l[i].name, &l[i].route, &l[i].mailbox,
				     &l[i].host};

		for (int k = 0; k < 4; k++)
			*f[k] = c->e[i].s[k] == NONE ? NULL :
						       strs + c->e[i].s[k];
	}
	*list_r = l;
	return MIME_OK;
}

int
mime_address_parse(const char *s, size_t len, unsigned max,
		   struct mime_address **list_r, unsigned *count_r)
{
	struct actx c = {.max = max ? max : MIME_ADDRESS_MAX};
	size_t i = 0;
	int in_group = 0, r = MIME_ENOMEM;

	*list_r = NULL;
	*count_r = 0;
	mime_buf_init(&c.text, SIZE_MAX);
	mime_buf_init(&c.str, SIZE_MAX);
	mime_buf_addc(&c.text, '\0'); /* never NULL; texts from 1 */
	lex(&c, s, len);
	if (c.failed)
		goto out;
	/* Each entry but a final group end takes a token of its own. */
	if (c.max > c.n + 1)
		c.max = (unsigned)c.n + 1;
	if ((c.e = calloc(c.max, sizeof(*c.e))) == NULL ||
	    (c.next_gt = malloc((c.n + 1) * sizeof(size_t))) == NULL)
		goto out;
	/* Where each '<' closes, found once: "<a,<a,<a..." stays linear. */
	c.next_gt[c.n] = c.n;
	for (size_t k = c.n; k-- > 0;)
		c.next_gt[k] = is_sp(&c.t[k], '>') ? k : c.next_gt[k + 1];
	while (i < c.n) {
		i = element(&c, i, &in_group);
		if (i < c.n && is_sp(&c.t[i], ';') && in_group) {
			emit(&c, NONE, NONE, NONE, NONE);
			in_group = 0;
		}
		i++;
	}
	if (in_group)
		emit(&c, NONE, NONE, NONE, NONE);
	if ((r = finish(&c, list_r)) == MIME_OK)
		*count_r = c.count;
out:
	free(c.t);
	free(c.e);
	free(c.next_gt);
	mime_buf_free(&c.text);
	mime_buf_free(&c.str);
	return r;
}
