/* IMAP command lines (RFC 3501 9, RFC 9051 9): tag, command name and a
 * token tree of arguments, one line at a time with literals between the
 * lines ("{n}", "{n+}" of RFC 7888, "~{n}" of RFC 3516). A line is whole
 * when it arrives, so only the open lists and the literal in progress
 * carry over between calls. A failed command is read to its end (its
 * non-synchronizing literals dropped) before its one error is returned.
 * Pure: no SDK calls. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "chars.h"
#include "parser.h"
#include "utf8.h"

#define NONE ((size_t)-1)
#define NUMBER64_MAX 0x7fffffffffffffffULL /* RFC 9051 number64 */
#define KEEP_DATA (64 * 1024) /* memory kept between commands */
#define KEEP_TOKENS 256

/* Messages compared by address: oom is fatal, the limits get "LIMIT". */
static const char oom[] = "Out of memory";
static const char too_many[] = "Too many arguments";
static const char too_deep[] = "Too deeply nested";

enum state {
	S_IDLE,     /* the next line starts a command */
	S_LINE,     /* a literal is in: the next line continues the command */
	S_DECIDE,   /* a literal was announced: begin or fail it */
	S_LIT,      /* octets of a buffered literal */
	S_STREAM,   /* the caller consumes the literal, then a line comes */
	S_SKIP_LIT, /* octets of a literal of a failed command */
	S_SKIP,     /* the next line belongs to a failed command */
	S_DONE,
	S_FAILED,
};

/* A token; tok[0] stands for the command, the parent of its arguments.
 * Text lives in p->data at offsets, since the buffer moves as it grows;
 * struct imap_arg pointers are made from them on demand (layout()). */
struct tok {
	enum imap_arg_type type;
	unsigned flags;
	size_t off, len;         /* text, NUL-terminated; NONE if none */
	size_t raw_off, raw_len; /* RAW SECTION */
	uint64_t size, pstart, plen;
	size_t parent, first, last, next, count;
};

struct imap_parser {
	struct imap_limits lim;
	unsigned flags;
	enum state state;
	char *data;
	size_t dlen, dcap;
	struct tok *tok;
	struct imap_arg *args;  /* args[i] shows tok[order[i]] */
	size_t *order;
	size_t ntok, tcap;
	int dirty;              /* args is out of date */
	size_t cur;             /* the open list or section; 0 at the top */
	unsigned depth;
	size_t tag_off, cmd_off; /* NONE until read */
	uint64_t total;         /* octets counted against max_command */
	uint64_t discarded;     /* against max_discard */
	struct imap_literal lit;
	uint64_t left;          /* octets of the current literal to come */
	size_t lit_tok;
	int failed;
	struct imap_parse_error err;
	char err_text[160];
	char err_code[32];
};

void
imap_limits_default(struct imap_limits *lim)
{
	*lim = (struct imap_limits){
		.max_command = 256 * 1024,
		.max_literal = 64 * 1024,
		.max_nonsync = 4096,
		.max_discard = 1024 * 1024,
		.max_tokens = 10000,
		.max_depth = 32,
	};
}

/* ---- Storage ---------------------------------------------------------- */

/* Room for n more octets of text. */
static int
reserve(struct imap_parser *p, size_t n)
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

/* A copy of s[0..n) and a NUL: its offset, or NONE. */
static size_t
put_text(struct imap_parser *p, const void *s, size_t n)
{
	size_t off = p->dlen;

	if (reserve(p, n + 1) < 0)
		return NONE;
	if (n)
		memcpy(p->data + off, s, n);
	p->data[off + n] = '\0';
	p->dlen += n + 1;
	return off;
}

static int
grow_tokens(struct imap_parser *p, size_t cap)
{
	struct tok *t;
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

/* A new last child of parent. Returns its index, or NONE with *why_r. */
static size_t
tok_new(struct imap_parser *p, enum imap_arg_type type, size_t parent,
	const char **why_r)
{
	size_t i = p->ntok;

	if (i - 1 >= p->lim.max_tokens) {
		*why_r = too_many;
		return NONE;
	}
	if (i == p->tcap && grow_tokens(p, p->tcap * 2) < 0) {
		*why_r = oom;
		return NONE;
	}
	p->ntok++;
	p->tok[i] = (struct tok){
		.type = type, .off = NONE, .raw_off = NONE, .parent = parent,
		.first = NONE, .last = NONE, .next = NONE,
	};
	if (p->tok[parent].last == NONE)
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
tok_text(struct imap_parser *p, enum imap_arg_type type, unsigned flags,
	 size_t parent, const void *s, size_t n, size_t *i_r)
{
	const char *why = NULL;
	size_t t = tok_new(p, type, parent, &why), off;

	if (t == NONE)
		return why;
	if ((off = put_text(p, s, n)) == NONE)
		return oom;
	p->tok[t].off = off;
	p->tok[t].len = n;
	p->tok[t].flags = flags;
	if (i_r)
		*i_r = t;
	return NULL;
}

/* Make the start of a command; keeps moderate buffers. */
static void
start_command(struct imap_parser *p)
{
	if (p->dcap > KEEP_DATA) {
		free(p->data);
		p->data = NULL;
		p->dcap = 0;
	}
	if (p->tcap > KEEP_TOKENS) {
		/* Shrinking realloc keeps the first entries. */
		struct tok *t = realloc(p->tok, KEEP_TOKENS * sizeof(*t));

		if (t) {
			p->tok = t;
			p->tcap = KEEP_TOKENS;
		}
	}
	p->state = S_IDLE;
	p->dlen = 0;
	p->ntok = 1;
	p->tok[0] = (struct tok){
		.type = IMAP_ARG_LIST, .off = NONE, .raw_off = NONE,
		.parent = NONE, .first = NONE, .last = NONE, .next = NONE,
	};
	p->dirty = 1;
	p->cur = 0;
	p->depth = 0;
	p->tag_off = p->cmd_off = NONE;
	p->total = p->discarded = 0;
	p->lit = (struct imap_literal){0};
	p->left = 0;
	p->failed = 0;
	p->err = (struct imap_parse_error){0};
}

struct imap_parser *
imap_parser_new(const struct imap_limits *lim, unsigned flags)
{
	struct imap_parser *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->lim = *lim;
	p->flags = flags;
	if (grow_tokens(p, 16) < 0) {
		imap_parser_free(p);
		return NULL;
	}
	start_command(p);
	return p;
}

void
imap_parser_free(struct imap_parser *p)
{
	if (!p)
		return;
	free(p->data);
	free(p->tok);
	free(p->args);
	free(p->order);
	free(p);
}

void
imap_parser_set_flags(struct imap_parser *p, unsigned flags)
{
	p->flags = flags;
}

void
imap_parser_reset(struct imap_parser *p)
{
	start_command(p);
}

/* ---- Failing ----------------------------------------------------------- */

static void
set_error(struct imap_parser *p, int no, const char *code, const char *text)
{
	if (p->failed)
		return;
	p->failed = 1;
	snprintf(p->err_text, sizeof(p->err_text), "%s", text);
	snprintf(p->err_code, sizeof(p->err_code), "%s", code ? code : "");
	p->err = (struct imap_parse_error){
		.text = p->err_text, .code = code ? p->err_code : NULL,
		.no = no,
	};
}

/* The end: reply and close (the first error's text is kept). */
static int
fatal(struct imap_parser *p, const char *text)
{
	set_error(p, 0, NULL, text);
	p->err.close = 1;
	p->state = S_FAILED;
	return IMAP_PARSE_ERROR;
}

struct marker {
	uint64_t size;
	int sync, binary;
	size_t start; /* where "{" or "~{" is */
};

/* Whether line[0..len) ends with a literal announcement: 1 with *m, 0
 * if not, -1 if its size does not fit number64 (nobody can tell where
 * the command ends then). */
static int
trailing_literal(const char *line, size_t len, struct marker *m)
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
		if (v > (NUMBER64_MAX - (unsigned)(line[k] - '0')) / 10)
			return -1;
		v = v * 10 + (unsigned)(line[k] - '0');
	}
	m->size = v;
	m->binary = i >= 2 && line[i - 2] == '~';
	m->start = i - 1 - (size_t)m->binary;
	return 1;
}

/* Octets of a failed command's non-synchronizing literal to drop. */
static int
discard(struct imap_parser *p, uint64_t size, int binary)
{
	if (size > p->lim.max_discard - p->discarded)
		return fatal(p, "Literal too large to skip");
	p->discarded += size;
	p->lit = (struct imap_literal){
		.size = size, .binary = binary, .discard = 1,
		.argno = p->tok[p->cur].count, .depth = p->depth,
	};
	p->left = size;
	p->state = size ? S_SKIP_LIT : S_SKIP;
	return IMAP_PARSE_LITERAL;
}

/* A line of a failed command: the command ends with it unless it
 * announces a non-synchronizing literal. A synchronizing one is never
 * sent, since no "+" comes. */
static int
skip_line(struct imap_parser *p, const char *line, size_t len)
{
	struct marker m;
	int r = trailing_literal(line, len, &m);

	if (r < 0)
		return fatal(p, "Literal size too large");
	if (r == 0 || m.sync) {
		p->state = S_FAILED;
		return IMAP_PARSE_ERROR;
	}
	return discard(p, m.size, m.binary);
}

static int
fail(struct imap_parser *p, const char *line, size_t len, const char *code,
     const char *text)
{
	if (text == oom)
		return fatal(p, text);
	set_error(p, 0, code, text);
	return skip_line(p, line, len);
}

/* ---- Tokens ------------------------------------------------------------ */

/* number64 (1*DIGIT) at s[*i_r]. */
static int
number64(const unsigned char *s, size_t len, size_t *i_r, uint64_t *v_r)
{
	size_t i = *i_r;
	uint64_t v = 0;

	if (i == len || !imap_is_digit(s[i]))
		return -1;
	for (; i < len && imap_is_digit(s[i]); i++) {
		if (v > (NUMBER64_MAX - (unsigned)(s[i] - '0')) / 10)
			return -1;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	*i_r = i;
	*v_r = v;
	return 0;
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
	if (number64(s, len, &i, start_r) < 0 || i == len || s[i] != '.')
		return -1;
	i++;
	if (i == len || s[i] == '0' || number64(s, len, &i, len_r) < 0 ||
	    i == len || s[i] != '>')
		return -1;
	*i_r = i + 1;
	return 1;
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

static const char *
open_container(struct imap_parser *p, size_t t)
{
	if (p->depth >= p->lim.max_depth)
		return too_deep;
	p->depth++;
	p->cur = t;
	return NULL;
}

static void
close_container(struct imap_parser *p)
{
	p->cur = p->tok[p->cur].parent;
	p->depth--;
}

/* "BODY[1.HEADER.FIELDS" with " (" next: a section holding a list. */
static const char *
open_section(struct imap_parser *p, const unsigned char *name, size_t nlen,
	     const unsigned char *spec, size_t slen)
{
	const char *why;
	size_t t = 0;

	if ((why = tok_text(p, IMAP_ARG_SECTION, 0, p->cur, name, nlen, &t)))
		return why;
	if ((why = open_container(p, t)))
		return why;
	return tok_text(p, IMAP_ARG_ATOM, 0, t, spec, slen, NULL);
}

/* A word (1*list-char) s[0..n) that may be a section written as one word:
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
	if ((why = tok_text(p, IMAP_ARG_SECTION, IMAP_ARGF_RAW, p->cur, s, lb,
			    &t)))
		return why;
	if ((p->tok[t].raw_off = put_text(p, s, n)) == NONE)
		return oom;
	p->tok[t].raw_len = n;
	if (r == 1) {
		p->tok[t].flags |= IMAP_ARGF_PARTIAL;
		p->tok[t].pstart = ps;
		p->tok[t].plen = pl;
	}
	if (e > lb + 1)
		return tok_text(p, IMAP_ARG_ATOM, 0, t, s + lb + 1,
				e - lb - 1, NULL);
	return NULL;
}

/* 1*list-char at s[*i_r]: an atom, NIL, or a section. */
static const char *
word(struct imap_parser *p, const unsigned char *s, size_t len, size_t *i_r)
{
	size_t start = *i_r, i = start, lb = NONE;
	unsigned flags = 0;
	int done = 0;
	const char *why;

	for (; i < len && imap_is_list_char(s[i]); i++) {
		if (s[i] == '[' && lb == NONE)
			lb = i;
		else if (s[i] == '%' || s[i] == '*')
			flags |= IMAP_ARGF_WILDCARD;
		else if (s[i] == ']')
			flags |= IMAP_ARGF_RBRACKET;
	}
	*i_r = i;
	if (lb != NONE && section_name(s + start, lb - start)) {
		if (i + 1 < len && s[i] == ' ' && s[i + 1] == '(' &&
		    header_fields(s + lb + 1, i - lb - 1))
			return open_section(p, s + start, lb - start,
					    s + lb + 1, i - lb - 1);
		why = raw_section(p, s + start, i - start, lb - start, &done);
		if (done)
			return why;
	}
	return tok_text(p, flags == 0 && word_is(s + start, i - start, "NIL") ?
			IMAP_ARG_NIL : IMAP_ARG_ATOM, flags, p->cur,
			s + start, i - start, NULL);
}

/* flag-extension and the system flags: "\" 1*ATOM-CHAR. */
static const char *
flag(struct imap_parser *p, const unsigned char *s, size_t len, size_t *i_r)
{
	size_t start = *i_r, i = start + 1;

	while (i < len && imap_is_atom_char(s[i]))
		i++;
	if (i == start + 1)
		return "Invalid flag";
	*i_r = i;
	return tok_text(p, IMAP_ARG_ATOM, IMAP_ARGF_BACKSLASH, p->cur,
			s + start, i - start, NULL);
}

/* quoted = DQUOTE *QUOTED-CHAR DQUOTE, at s[*i_r] == '"': TEXT-CHAR but
 * the quoted-specials, which come escaped; UTF-8 only with UTF8=ACCEPT
 * (RFC 9051 9 QUOTED-CHAR =/ UTF8-2 / UTF8-3 / UTF8-4). */
static const char *
quoted(struct imap_parser *p, const unsigned char *s, size_t len,
       size_t *i_r)
{
	size_t i = *i_r + 1, n = 0, t, off, k;
	unsigned flags = 0;
	const char *why = NULL;
	char *out;
	uint32_t cp;

	if (reserve(p, len - i + 1) < 0)
		return oom;
	off = p->dlen;
	out = p->data + off;
	for (;;) {
		if (i == len)
			return "Unterminated quoted string";
		if (s[i] == '"')
			break;
		if (s[i] == '\\') {
			if (i + 1 == len || (s[i + 1] != '"' && s[i + 1] != '\\'))
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
	if ((t = tok_new(p, IMAP_ARG_QUOTED, p->cur, &why)) == NONE)
		return why;
	p->tok[t].off = off;
	p->tok[t].len = n;
	p->tok[t].flags = flags;
	return NULL;
}

static int
done(struct imap_parser *p)
{
	p->state = S_DONE;
	return IMAP_PARSE_DONE;
}

/* A literal announced at line[i]: it must end the line. */
static int
literal(struct imap_parser *p, const char *line, size_t len, size_t i)
{
	struct marker m;
	int r = trailing_literal(line, len, &m);

	if (r < 0)
		return fatal(p, "Literal size too large");
	if (r == 0 || m.start != i)
		return fail(p, line, len, NULL, "Invalid literal: "
			    "{n}, {n+} or ~{n} must end the line");
	if (m.binary && !(p->flags & IMAP_PARSE_BINARY))
		return fail(p, line, len, NULL, "literal8 is not enabled");
	if (!m.sync && m.size > p->lim.max_nonsync)
		return fail(p, line, len, "TOOBIG",
			    "Non-synchronizing literal too large");
	if (p->ntok - 1 >= p->lim.max_tokens)
		return fail(p, line, len, "LIMIT", too_many);
	p->lit = (struct imap_literal){
		.size = m.size, .sync = m.sync, .binary = m.binary,
		.argno = p->tok[p->cur].count, .depth = p->depth,
	};
	p->state = S_DECIDE;
	return IMAP_PARSE_LITERAL;
}

/* After the "]" of a section that held a list: the partial, if any. */
static const char *
close_section(struct imap_parser *p, const unsigned char *s, size_t len,
	      size_t *i_r)
{
	size_t t = p->cur;
	int r;

	close_container(p);
	r = partial(s, len, i_r, &p->tok[t].pstart, &p->tok[t].plen);
	if (r < 0)
		return "Invalid partial";
	if (r == 1)
		p->tok[t].flags |= IMAP_ARGF_PARTIAL;
	return NULL;
}

/* The arguments in line[i..len). after: a token (or the command name)
 * just ended, so a space, ")", "]" or the end comes next; else a token
 * must start at i. */
static int
parse_args(struct imap_parser *p, const char *line, size_t len, size_t i,
	   int after)
{
	const unsigned char *s = (const unsigned char *)line;
	const char *why = NULL;

	for (;;) {
		const struct tok *cur = &p->tok[p->cur];

		if (after && cur->type == IMAP_ARG_SECTION) {
			/* Its spec, " ", the header-list, "]". */
			if (i < len && s[i] == ' ' && cur->count == 1) {
				i++;
				after = 0;
			} else if (i < len && s[i] == ']' && cur->count == 2) {
				i++;
				why = close_section(p, s, len, &i);
			} else if (i == len) {
				why = "Missing ']'";
			} else {
				why = "Invalid section";
			}
		} else if (after) {
			if (i == len) {
				if (p->cur == 0)
					return done(p);
				why = "Missing ')'";
			} else if (s[i] == ' ') {
				i++;
				after = 0;
			} else if (s[i] == ')' && cur->type == IMAP_ARG_LIST &&
				   p->cur != 0) {
				i++;
				close_container(p);
			} else {
				why = s[i] == ')' ? "Unexpected ')'" :
					"Missing space between arguments";
			}
		} else if (i == len) {
			why = "Missing argument";
		} else if (cur->type == IMAP_ARG_SECTION && s[i] != '(') {
			why = "Invalid section";
		} else if (s[i] == ')') {
			why = "Unexpected ')'";
		} else if (s[i] == '(') {
			size_t t = tok_new(p, IMAP_ARG_LIST, p->cur, &why);

			if (t != NONE && !(why = open_container(p, t))) {
				i++;
				if (i < len && s[i] == ')') {
					i++;
					close_container(p);
					after = 1;
				}
			}
		} else if (s[i] == '"') {
			why = quoted(p, s, len, &i);
			after = 1;
		} else if (s[i] == '{' ||
			   (s[i] == '~' && i + 1 < len && s[i + 1] == '{')) {
			return literal(p, line, len, i);
		} else if (s[i] == '\\') {
			why = flag(p, s, len, &i);
			after = 1;
		} else if (imap_is_list_char(s[i])) {
			why = word(p, s, len, &i);
			after = 1;
		} else {
			why = "Invalid character";
		}
		if (why)
			return fail(p, line, len, why == too_many ||
				    why == too_deep ? "LIMIT" : NULL, why);
	}
}

/* Count a line (and its CRLF) against max_command. */
static int
count_line(struct imap_parser *p, size_t len)
{
	p->total += (uint64_t)len + 2;
	return p->total > p->lim.max_command ? -1 : 0;
}

/* tag SP command-name [SP arguments] */
static int
first_line(struct imap_parser *p, const char *line, size_t len)
{
	const unsigned char *s = (const unsigned char *)line;
	size_t i = 0, j;

	if (len == 0)
		return fail(p, line, len, NULL, "Empty command line");
	while (i < len && imap_is_tag_char(s[i]))
		i++;
	if (i == 0 || (i < len && s[i] != ' '))
		return fail(p, line, len, NULL, "Invalid tag");
	if ((p->tag_off = put_text(p, line, i)) == NONE)
		return fatal(p, oom);
	if (count_line(p, len) < 0)
		return fail(p, line, len, "LIMIT", "Command too long");
	if (i == len)
		return fail(p, line, len, NULL, "Missing command name");
	j = ++i;
	while (i < len && imap_is_atom_char(s[i]))
		i++;
	if (i == j)
		return fail(p, line, len, NULL, "Missing command name");
	if (i < len && s[i] != ' ')
		return fail(p, line, len, NULL, "Invalid command name");
	if ((p->cmd_off = put_text(p, line + j, i - j)) == NONE)
		return fatal(p, oom);
	for (char *c = p->data + p->cmd_off; *c; c++)
		if (*c >= 'a' && *c <= 'z')
			*c = (char)(*c - 'a' + 'A');
	if (i == len)
		return done(p);
	return parse_args(p, line, len, i + 1, 0);
}

int
imap_parser_line(struct imap_parser *p, const char *line, size_t len,
		 unsigned lflags)
{
	switch (p->state) {
	case S_IDLE:
	case S_DONE:
	case S_FAILED:
		start_command(p);
		if (lflags & IMAP_LINE_TRUNCATED)
			return fatal(p, "Line too long");
		return first_line(p, line, len);
	case S_LINE:
	case S_STREAM:
		p->state = S_LINE;
		if (lflags & IMAP_LINE_TRUNCATED)
			return fatal(p, "Line too long");
		if (count_line(p, len) < 0)
			return fail(p, line, len, "LIMIT", "Command too long");
		return parse_args(p, line, len, 0, 1);
	case S_SKIP:
		if (lflags & IMAP_LINE_TRUNCATED)
			return fatal(p, "Line too long");
		return skip_line(p, line, len);
	default:
		abort(); /* a literal is pending: a caller bug */
	}
}

/* ---- Literals ---------------------------------------------------------- */

const struct imap_literal *
imap_parser_literal_info(const struct imap_parser *p)
{
	return &p->lit;
}

int
imap_parser_literal_begin(struct imap_parser *p, int stream)
{
	const char *why = NULL;
	size_t t;

	if ((p->state == S_SKIP_LIT || p->state == S_SKIP) && p->lit.discard)
		return IMAP_PARSE_LITERAL;
	if (p->state != S_DECIDE)
		abort();
	if (!stream && (p->lit.size > p->lim.max_literal ||
			p->lit.size > p->lim.max_command - p->total)) {
		set_error(p, 0, "TOOBIG", "Literal too large");
		if (p->lit.sync) {
			p->state = S_FAILED;
			return IMAP_PARSE_ERROR;
		}
		return discard(p, p->lit.size, p->lit.binary);
	}
	t = tok_new(p, stream ? IMAP_ARG_STREAM : IMAP_ARG_LITERAL, p->cur,
		    &why);
	if (t == NONE)
		return fatal(p, why); /* counted already: only memory */
	p->tok[t].size = p->lit.size;
	p->tok[t].flags = (p->lit.binary ? IMAP_ARGF_LITERAL8 : 0) |
		(p->lit.sync ? 0 : IMAP_ARGF_NONSYNC);
	if (stream) {
		p->lit.stream = 1;
		p->state = S_STREAM;
		return IMAP_PARSE_LITERAL;
	}
	if (reserve(p, (size_t)p->lit.size + 1) < 0)
		return fatal(p, oom);
	p->tok[t].off = p->dlen;
	p->data[p->dlen] = '\0';
	p->dlen += (size_t)p->lit.size + 1;
	p->total += p->lit.size;
	p->lit_tok = t;
	p->left = p->lit.size;
	p->state = p->left ? S_LIT : S_LINE;
	return IMAP_PARSE_LITERAL;
}

int
imap_parser_literal(struct imap_parser *p, const void *data, size_t len)
{
	if ((p->state == S_LINE || p->state == S_SKIP) && len == 0)
		return IMAP_PARSE_LINE;
	if ((p->state != S_LIT && p->state != S_SKIP_LIT) || len > p->left)
		abort(); /* more octets than announced: a caller bug */
	if (p->state == S_LIT) {
		struct tok *t = &p->tok[p->lit_tok];
		const unsigned char *d = data;
		char *out = p->data + t->off + t->len;

		memcpy(out, data, len);
		out[len] = '\0';
		t->len += len;
		for (size_t i = 0; i < len; i++) {
			if (d[i] >= 0x80)
				t->flags |= IMAP_ARGF_8BIT;
			else if (d[i] == 0)
				t->flags |= IMAP_ARGF_NUL;
		}
		p->dirty = 1;
		/* CHAR8 = %x01-ff: only a literal8 may carry NUL. */
		if ((t->flags & IMAP_ARGF_NUL) && !p->lit.binary) {
			set_error(p, 0, NULL, "NUL in literal");
			p->state = S_SKIP_LIT;
		}
	}
	p->left -= len;
	if (p->left)
		return IMAP_PARSE_MORE;
	p->state = p->state == S_LIT ? S_LINE : S_SKIP;
	return IMAP_PARSE_LINE;
}

int
imap_parser_fail(struct imap_parser *p, int no, const char *code,
		 const char *text)
{
	set_error(p, no, code, text);
	switch (p->state) {
	case S_DECIDE:
		if (p->lit.sync)
			break;
		return discard(p, p->lit.size, p->lit.binary);
	case S_LIT:
	case S_SKIP_LIT:
		p->state = S_SKIP_LIT;
		return IMAP_PARSE_MORE;
	case S_LINE:
	case S_STREAM:
	case S_SKIP:
		p->state = S_SKIP;
		return IMAP_PARSE_LINE;
	default:
		break;
	}
	p->state = S_FAILED;
	return IMAP_PARSE_ERROR;
}

/* ---- Results ----------------------------------------------------------- */

const char *
imap_parser_tag(const struct imap_parser *p)
{
	return p->tag_off == NONE ? NULL : p->data + p->tag_off;
}

const char *
imap_parser_command(const struct imap_parser *p)
{
	return p->cmd_off == NONE ? NULL : p->data + p->cmd_off;
}

const struct imap_parse_error *
imap_parser_error(const struct imap_parser *p)
{
	return p->failed ? &p->err : NULL;
}

/* The children of token t into args[pos...]; returns the next free
 * slot. */
static size_t
place(struct imap_parser *p, size_t t, size_t pos)
{
	for (size_t c = p->tok[t].first; c != NONE; c = p->tok[c].next) {
		const struct tok *k = &p->tok[c];

		p->order[pos] = c;
		p->args[pos++] = (struct imap_arg){
			.type = k->type, .flags = k->flags,
			.str = k->off == NONE ? NULL : p->data + k->off,
			.len = k->len, .count = k->count,
			.raw = k->raw_off == NONE ? NULL : p->data + k->raw_off,
			.raw_len = k->raw_len, .size = k->size,
			.partial_start = k->pstart, .partial_len = k->plen,
		};
	}
	return pos;
}

/* Lay the tree out so that every list's members are consecutive. */
static void
layout(struct imap_parser *p)
{
	size_t pos = place(p, 0, 0);

	for (size_t i = 0; i < pos; i++)
		if (p->tok[p->order[i]].first != NONE) {
			p->args[i].list = p->args + pos;
			pos = place(p, p->order[i], pos);
		}
	p->dirty = 0;
}

const struct imap_arg *
imap_parser_args(struct imap_parser *p, size_t *count_r)
{
	if (p->dirty)
		layout(p);
	*count_r = p->tok[0].count;
	return p->args;
}

/* ---- Reading arguments ------------------------------------------------- */

int
imap_arg_get_atom(const struct imap_arg *a, const char **s_r)
{
	if (a->type == IMAP_ARG_NIL || (a->type == IMAP_ARG_ATOM && !a->flags)) {
		*s_r = a->str;
		return 0;
	}
	return -1;
}

int
imap_arg_is_atom(const struct imap_arg *a, const char *name)
{
	const char *s;

	return imap_arg_get_atom(a, &s) == 0 && strcasecmp(s, name) == 0;
}

int
imap_arg_get_string(const struct imap_arg *a, const char **s_r,
		    size_t *len_r)
{
	if (a->type != IMAP_ARG_QUOTED &&
	    (a->type != IMAP_ARG_LITERAL || (a->flags & IMAP_ARGF_LITERAL8)))
		return -1;
	*s_r = a->str;
	*len_r = a->len;
	return 0;
}

int
imap_arg_get_astring(const struct imap_arg *a, const char **s_r,
		     size_t *len_r)
{
	if (a->type == IMAP_ARG_NIL || (a->type == IMAP_ARG_ATOM &&
	    !(a->flags & (IMAP_ARGF_BACKSLASH | IMAP_ARGF_WILDCARD)))) {
		*s_r = a->str;
		*len_r = a->len;
		return 0;
	}
	if (a->type == IMAP_ARG_SECTION && (a->flags & IMAP_ARGF_RAW)) {
		*s_r = a->raw;
		*len_r = a->raw_len;
		return 0;
	}
	return imap_arg_get_string(a, s_r, len_r);
}

int
imap_arg_get_nstring(const struct imap_arg *a, const char **s_r,
		     size_t *len_r)
{
	if (a->type == IMAP_ARG_NIL) {
		*s_r = NULL;
		*len_r = 0;
		return 0;
	}
	return imap_arg_get_string(a, s_r, len_r);
}

int
imap_arg_get_word(const struct imap_arg *a, const char **s_r, size_t *len_r)
{
	if (a->type == IMAP_ARG_NIL || (a->type == IMAP_ARG_ATOM &&
	    !(a->flags & IMAP_ARGF_BACKSLASH))) {
		*s_r = a->str;
		*len_r = a->len;
		return 0;
	}
	return -1;
}

int
imap_arg_get_list_mailbox(const struct imap_arg *a, const char **s_r,
			  size_t *len_r)
{
	if (imap_arg_get_word(a, s_r, len_r) == 0)
		return 0;
	return imap_arg_get_astring(a, s_r, len_r);
}

int
imap_arg_get_flag(const struct imap_arg *a, const char **s_r)
{
	if (a->type == IMAP_ARG_ATOM && a->flags == IMAP_ARGF_BACKSLASH) {
		*s_r = a->str;
		return 0;
	}
	return imap_arg_get_atom(a, s_r);
}

int
imap_arg_get_list(const struct imap_arg *a, const struct imap_arg **list_r,
		  size_t *count_r)
{
	if (a->type != IMAP_ARG_LIST)
		return -1;
	*list_r = a->list;
	*count_r = a->count;
	return 0;
}

int
imap_arg_get_number64(const struct imap_arg *a, uint64_t *n_r)
{
	const unsigned char *s = (const unsigned char *)a->str;
	size_t i = 0;

	if (a->type != IMAP_ARG_ATOM || a->flags ||
	    number64(s, a->len, &i, n_r) < 0 || i != a->len)
		return -1;
	return 0;
}

int
imap_arg_get_number(const struct imap_arg *a, uint32_t *n_r)
{
	uint64_t v;

	if (imap_arg_get_number64(a, &v) < 0 || v > UINT32_MAX)
		return -1;
	*n_r = (uint32_t)v;
	return 0;
}

int
imap_arg_get_nz_number(const struct imap_arg *a, uint32_t *n_r)
{
	if (imap_arg_get_number(a, n_r) < 0 || a->str[0] == '0')
		return -1;
	return 0;
}
