/* IMAP command lines (RFC 3501 9, RFC 9051 9): tag, command name and a
 * token tree of arguments (token.c), one line at a time with literals
 * between the lines ("{n}", "{n+}" of RFC 7888, "~{n}" of RFC 3516). A
 * line is whole when it arrives, so only the open lists and the literal
 * in progress carry over between calls. A failed command is read to its
 * end (its non-synchronizing literals dropped) before its one error is
 * returned. Pure: no SDK calls. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chars.h"
#include "token.h"

#define KEEP_DATA (64 * 1024) /* memory kept between commands */
#define KEEP_TOKENS 256

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

/* The start of a command; big buffers of the last one are let go. */
static void
start_command(struct imap_parser *p)
{
	if (p->dcap > KEEP_DATA) {
		free(p->data);
		p->data = NULL;
		p->dcap = 0;
	}
	if (p->tcap > KEEP_TOKENS) {
		/* args and order keep their size: tcap is a lower bound. */
		struct imap_tok *t = realloc(p->tok,
					     KEEP_TOKENS * sizeof(*t));

		if (t) {
			p->tok = t;
			p->tcap = KEEP_TOKENS;
		}
	}
	p->state = IMAP_S_IDLE;
	p->dlen = 0;
	p->ntok = 1;
	p->tok[0] = (struct imap_tok){
		.type = IMAP_ARG_LIST, .off = IMAP_NONE, .raw_off = IMAP_NONE,
		.parent = IMAP_NONE, .first = IMAP_NONE, .last = IMAP_NONE,
		.next = IMAP_NONE,
	};
	p->dirty = 1;
	p->cur = 0;
	p->depth = 0;
	p->tag_off = p->cmd_off = IMAP_NONE;
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
	if (imap_token_grow(p, 16) < 0) {
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
	p->state = IMAP_S_FAILED;
	return IMAP_PARSE_ERROR;
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
	p->state = size ? IMAP_S_SKIP_LIT : IMAP_S_SKIP;
	return IMAP_PARSE_LITERAL;
}

/* A line of a failed command: the command ends with it unless it
 * announces a non-synchronizing literal. A synchronizing one is never
 * sent, since no "+" comes. */
static int
skip_line(struct imap_parser *p, const char *line, size_t len)
{
	struct imap_marker m;
	int r = imap_token_marker(line, len, &m);

	if (r < 0)
		return fatal(p, "Literal size too large");
	if (r == 0 || m.sync) {
		p->state = IMAP_S_FAILED;
		return IMAP_PARSE_ERROR;
	}
	return discard(p, m.size, m.binary);
}

static int
fail(struct imap_parser *p, const char *line, size_t len, const char *code,
     const char *text)
{
	if (text == imap_token_oom)
		return fatal(p, text);
	if (text == imap_token_too_many || text == imap_token_too_deep)
		code = "LIMIT";
	set_error(p, 0, code, text);
	return skip_line(p, line, len);
}

/* ---- Lines ------------------------------------------------------------- */

static int
done(struct imap_parser *p)
{
	p->state = IMAP_S_DONE;
	return IMAP_PARSE_DONE;
}

/* A literal announced at line[i]: it must end the line. */
static int
literal(struct imap_parser *p, const char *line, size_t len, size_t i)
{
	struct imap_marker m;
	int r = imap_token_marker(line, len, &m);

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
		return fail(p, line, len, NULL, imap_token_too_many);
	p->lit = (struct imap_literal){
		.size = m.size, .sync = m.sync, .binary = m.binary,
		.argno = p->tok[p->cur].count, .depth = p->depth,
	};
	p->state = IMAP_S_DECIDE;
	return IMAP_PARSE_LITERAL;
}

/* After a section's spec: " ", its header-list, "]". */
static const char *
in_section(struct imap_parser *p, const unsigned char *s, size_t len,
	   size_t *i_r, int *after)
{
	size_t count = p->tok[p->cur].count;

	if (*i_r == len)
		return "Missing ']'";
	if (s[*i_r] == ' ' && count == 1) {
		++*i_r;
		*after = 0;
		return NULL;
	}
	if (s[*i_r] == ']' && count == 2) {
		++*i_r;
		return imap_token_close_section(p, s, len, i_r);
	}
	return "Invalid section";
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
		enum imap_arg_type cur = p->tok[p->cur].type;

		if (after && cur == IMAP_ARG_SECTION) {
			why = in_section(p, s, len, &i, &after);
		} else if (after) {
			if (i == len) {
				if (p->cur == 0)
					return done(p);
				why = "Missing ')'";
			} else if (s[i] == ' ') {
				i++;
				after = 0;
			} else if (s[i] == ')' && p->cur != 0) {
				i++;
				imap_token_close(p);
			} else {
				why = s[i] == ')' ? "Unexpected ')'" :
					"Missing space between arguments";
			}
		} else if (i == len) {
			why = "Missing argument";
		} else if (cur == IMAP_ARG_SECTION && s[i] != '(') {
			why = "Invalid section";
		} else if (s[i] == ')') {
			why = "Unexpected ')'";
		} else if (s[i] == '(') {
			if (!(why = imap_token_open_list(p)) && ++i < len &&
			    s[i] == ')') {
				i++;
				imap_token_close(p);
				after = 1;
			}
		} else if (s[i] == '"') {
			why = imap_token_quoted(p, s, len, &i);
			after = 1;
		} else if (s[i] == '{' ||
			   (s[i] == '~' && i + 1 < len && s[i + 1] == '{')) {
			return literal(p, line, len, i);
		} else if (s[i] == '\\') {
			why = imap_token_flag(p, s, len, &i);
			after = 1;
		} else if (imap_is_list_char(s[i])) {
			why = imap_token_word(p, s, len, &i);
			after = 1;
		} else {
			why = "Invalid character";
		}
		if (why)
			return fail(p, line, len, NULL, why);
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
	if ((p->tag_off = imap_token_put(p, line, i)) == IMAP_NONE)
		return fatal(p, imap_token_oom);
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
	if ((p->cmd_off = imap_token_put(p, line + j, i - j)) == IMAP_NONE)
		return fatal(p, imap_token_oom);
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
	case IMAP_S_IDLE:
	case IMAP_S_DONE:
	case IMAP_S_FAILED:
		start_command(p);
		if (lflags & IMAP_LINE_TRUNCATED)
			return fatal(p, "Line too long");
		return first_line(p, line, len);
	case IMAP_S_LINE:
	case IMAP_S_STREAM:
		p->state = IMAP_S_LINE;
		if (lflags & IMAP_LINE_TRUNCATED)
			return fatal(p, "Line too long");
		if (count_line(p, len) < 0)
			return fail(p, line, len, "LIMIT", "Command too long");
		return parse_args(p, line, len, 0, 1);
	case IMAP_S_SKIP:
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

	if ((p->state == IMAP_S_SKIP_LIT || p->state == IMAP_S_SKIP) &&
	    p->lit.discard)
		return IMAP_PARSE_LITERAL;
	if (p->state != IMAP_S_DECIDE)
		abort();
	if (!stream && (p->lit.size > p->lim.max_literal ||
			p->lit.size > p->lim.max_command - p->total)) {
		set_error(p, 0, "TOOBIG", "Literal too large");
		if (p->lit.sync) {
			p->state = IMAP_S_FAILED;
			return IMAP_PARSE_ERROR;
		}
		return discard(p, p->lit.size, p->lit.binary);
	}
	t = imap_token_new(p, stream ? IMAP_ARG_STREAM : IMAP_ARG_LITERAL,
			   p->cur, &why);
	if (t == IMAP_NONE)
		return fatal(p, why); /* counted already: only memory */
	p->tok[t].size = p->lit.size;
	p->tok[t].flags = (p->lit.binary ? IMAP_ARGF_LITERAL8 : 0) |
		(p->lit.sync ? 0 : IMAP_ARGF_NONSYNC);
	if (stream) {
		p->lit.stream = 1;
		p->state = IMAP_S_STREAM;
		return IMAP_PARSE_LITERAL;
	}
	if (p->lit.size > SIZE_MAX / 4 ||
	    imap_token_reserve(p, (size_t)p->lit.size + 1) < 0)
		return fatal(p, imap_token_oom);
	p->tok[t].off = p->dlen;
	p->data[p->dlen] = '\0';
	p->dlen += (size_t)p->lit.size + 1;
	p->total += p->lit.size;
	p->lit_tok = t;
	p->left = p->lit.size;
	p->state = p->left ? IMAP_S_LIT : IMAP_S_LINE;
	return IMAP_PARSE_LITERAL;
}

int
imap_parser_literal(struct imap_parser *p, const void *data, size_t len)
{
	if ((p->state == IMAP_S_LINE || p->state == IMAP_S_SKIP) && len == 0)
		return IMAP_PARSE_LINE;
	if ((p->state != IMAP_S_LIT && p->state != IMAP_S_SKIP_LIT) ||
	    len > p->left)
		abort(); /* more octets than announced: a caller bug */
	if (p->state == IMAP_S_LIT) {
		struct imap_tok *t = &p->tok[p->lit_tok];
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
			p->state = IMAP_S_SKIP_LIT;
		}
	}
	p->left -= len;
	if (p->left)
		return IMAP_PARSE_MORE;
	p->state = p->state == IMAP_S_LIT ? IMAP_S_LINE : IMAP_S_SKIP;
	return IMAP_PARSE_LINE;
}

int
imap_parser_fail(struct imap_parser *p, int no, const char *code,
		 const char *text)
{
	set_error(p, no, code, text);
	switch (p->state) {
	case IMAP_S_DECIDE:
		if (p->lit.sync)
			break;
		return discard(p, p->lit.size, p->lit.binary);
	case IMAP_S_LIT:
	case IMAP_S_SKIP_LIT:
		p->state = IMAP_S_SKIP_LIT;
		return IMAP_PARSE_MORE;
	case IMAP_S_LINE:
	case IMAP_S_STREAM:
	case IMAP_S_SKIP:
		p->state = IMAP_S_SKIP;
		return IMAP_PARSE_LINE;
	default:
		break;
	}
	p->state = IMAP_S_FAILED;
	return IMAP_PARSE_ERROR;
}

/* ---- Results ----------------------------------------------------------- */

const char *
imap_parser_tag(const struct imap_parser *p)
{
	return p->tag_off == IMAP_NONE ? NULL : p->data + p->tag_off;
}

const char *
imap_parser_command(const struct imap_parser *p)
{
	return p->cmd_off == IMAP_NONE ? NULL : p->data + p->cmd_off;
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
	for (size_t c = p->tok[t].first; c != IMAP_NONE; c = p->tok[c].next) {
		const struct imap_tok *k = &p->tok[c];

		p->order[pos] = c;
		p->args[pos++] = (struct imap_arg){
			.type = k->type, .flags = k->flags,
			.str = k->off == IMAP_NONE ? NULL : p->data + k->off,
			.len = k->len, .count = k->count,
			.raw = k->raw_off == IMAP_NONE ? NULL :
				p->data + k->raw_off,
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
		if (p->tok[p->order[i]].first != IMAP_NONE) {
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
