/* libFuzzer target for SEARCH's key grammar (modules/imap/search_parse.c)
 * behind the real command parser (parser.c): the input is the rest of a
 * "a SEARCH " line, then literal octets and further lines as the parser
 * asks for them. The first byte picks the parser flags. A parsed tree
 * must keep what search_parse.h promises: bounded keys and depth, each
 * operator's operands cheapest first, costs that cover the children,
 * UTF-8 strings, sets that point at arguments of the command. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "parser.h"
#include "search_parse.h"
#include "utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x) ((x) ? (void)0 : abort())
#define LINE_MAX_LEN 8192

static const struct imap_arg *args_lo, *args_hi;

/* Whether a is an argument of the command (lists included). */
static int
is_arg(const struct imap_arg *a, const struct imap_arg *list, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (&list[i] == a)
			return 1;
		if (list[i].type == IMAP_ARG_LIST &&
		    is_arg(a, list[i].list, list[i].count))
			return 1;
	}
	return 0;
}

static unsigned
check_key(const struct imap_search_key *k, unsigned depth, unsigned *count)
{
	unsigned cost = 0, prev = 0, n = 0;

	CHECK(depth <= 2 * IMAP_SEARCH_DEPTH_MAX + 2);
	CHECK(++*count <= IMAP_SEARCH_KEYS_MAX);
	switch (k->type) {
	case IMAP_SK_AND:
	case IMAP_SK_OR:
	case IMAP_SK_NOT:
		for (const struct imap_search_key *c = k->child; c;
		     c = c->next, n++) {
			unsigned cc = check_key(c, depth + 1, count);

			CHECK(cc >= prev); /* cheapest first */
			prev = cc;
			if (cc > cost)
				cost = cc;
		}
		CHECK(n >= 1);
		CHECK(k->type != IMAP_SK_NOT || n == 1);
		CHECK(k->type != IMAP_SK_OR || n >= 2);
		break;
	case IMAP_SK_HEADER:
		CHECK(k->field && k->field[0] && !strchr(k->field, ':'));
		/* FALLTHROUGH */
	case IMAP_SK_BODY:
	case IMAP_SK_TEXT:
		CHECK(k->str && strlen(k->str) == k->len);
		CHECK(imap_utf8_valid(k->str, k->len));
		cost = k->type == IMAP_SK_HEADER ? IMAP_SEARCH_COST_HEADER
						 : IMAP_SEARCH_COST_BODY;
		break;
	case IMAP_SK_KEYWORD:
		CHECK(k->str && strlen(k->str) == k->len && k->len > 0);
		break;
	case IMAP_SK_SET:
		CHECK(k->set_arg && k->set_arg->str);
		CHECK(is_arg(k->set_arg, args_lo, (size_t)(args_hi - args_lo)));
		break;
	case IMAP_SK_SENTBEFORE:
	case IMAP_SK_SENTON:
	case IMAP_SK_SENTSINCE:
		cost = IMAP_SEARCH_COST_HEADER;
		break;
	case IMAP_SK_ALL:
	case IMAP_SK_FLAG:
	case IMAP_SK_RECENT:
	case IMAP_SK_BEFORE:
	case IMAP_SK_ON:
	case IMAP_SK_SINCE:
	case IMAP_SK_LARGER:
	case IMAP_SK_SMALLER:
	case IMAP_SK_MODSEQ:
		break;
	default:
		abort();
	}
	CHECK(k->cost == cost);
	return cost;
}

static void
search(struct imap_parser *p)
{
	struct imap_search *q = imap_search_new();
	const struct imap_arg *args;
	unsigned count = 0;
	size_t n;
	int r;

	if (!q)
		return;
	args = imap_parser_args(p, &n);
	args_lo = args;
	args_hi = args + n;
	r = imap_search_parse(q, args, n);
	CHECK(q->nkeys <= IMAP_SEARCH_KEYS_MAX);
	CHECK(q->nstrings <= IMAP_SEARCH_STRINGS_MAX + 1);
	if (r == 0) {
		CHECK(q->root && q->root->type == IMAP_SK_AND);
		check_key(q->root, 0, &count);
		CHECK(!q->esearch || q->ret);
	} else {
		CHECK(r == IMAP_SEARCH_EBAD || r == IMAP_SEARCH_EBADCHARSET ||
		      r == IMAP_SEARCH_ENOMEM);
		CHECK(q->error && q->error[0]);
	}
	imap_search_free(q);
}

/* The next line of data (without its LF), or NULL at the end. */
static const char *
next_line(const uint8_t **d, size_t *left, size_t *len_r)
{
	const uint8_t *s = *d, *lf;

	if (!*left)
		return NULL;
	lf = memchr(s, '\n', *left);
	*len_r = lf ? (size_t)(lf - s) : *left;
	*d += *len_r + (lf ? 1 : 0);
	*left -= *len_r + (lf ? 1 : 0);
	return (const char *)s;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char line[LINE_MAX_LEN + 16];
	struct imap_limits lim;
	struct imap_parser *p;
	const char *s;
	size_t len;
	int r;

	if (size < 1)
		return 0;
	imap_limits_default(&lim);
	p = imap_parser_new(&lim, data[0] & (IMAP_PARSE_UTF8 |
					     IMAP_PARSE_BINARY));
	if (!p)
		return 0;
	data++;
	size--;
	s = next_line(&data, &size, &len);
	if (!s) {
		s = "";
		len = 0;
	}
	if (len > LINE_MAX_LEN)
		len = LINE_MAX_LEN;
	memcpy(line, "a SEARCH ", 9);
	memcpy(line + 9, s, len);
	r = imap_parser_line(p, line, len + 9, 0);
	for (;;) {
		if (r == IMAP_PARSE_DONE) {
			search(p);
			break;
		}
		if (r == IMAP_PARSE_LITERAL) {
			const struct imap_literal *li =
				imap_parser_literal_info(p);

			if (!li->discard &&
			    (r = imap_parser_literal_begin(p, 0)) !=
				    IMAP_PARSE_LITERAL)
				continue;
			li = imap_parser_literal_info(p);
			if (li->size > size)
				break; /* the input ends inside it */
			r = imap_parser_literal(p, data, (size_t)li->size);
			data += li->size;
			size -= (size_t)li->size;
			continue;
		}
		if (r == IMAP_PARSE_LINE) {
			if (!(s = next_line(&data, &size, &len)))
				break;
			r = imap_parser_line(p, s, len > LINE_MAX_LEN
						   ? LINE_MAX_LEN : len, 0);
			continue;
		}
		break; /* ERROR, or MORE with nothing left */
	}
	imap_parser_free(p);
	return 0;
}
