/* Unit tests for SEARCH's key grammar (modules/imap/search_parse.c)
 * behind the real command parser: the tree each key becomes (operands
 * cheapest first, AND in AND and OR in OR merged, NEW/OLD/UN- keys
 * rewritten), RETURN and CHARSET, dates as days, the limits at their
 * exact edges, and refusals. Links imap.so's pure files alone. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "parser.h"
#include "search_parse.h"

struct parsed {
	struct imap_parser *p;
	struct imap_search *q;
	int r;
};

/* "a SEARCH " + text, one line (no literals). */
static struct parsed
parse(const char *text)
{
	struct imap_limits lim;
	struct parsed x;
	char line[70000];
	const struct imap_arg *args;
	size_t n;

	imap_limits_default(&lim);
	x.p = imap_parser_new(&lim, IMAP_PARSE_UTF8);
	assert_non_null(x.p);
	snprintf(line, sizeof(line), "a SEARCH %s", text);
	assert_int_equal(imap_parser_line(x.p, line, strlen(line), 0),
			 IMAP_PARSE_DONE);
	args = imap_parser_args(x.p, &n);
	x.q = imap_search_new();
	assert_non_null(x.q);
	x.r = imap_search_parse(x.q, args, n);
	return x;
}

static void
done(struct parsed *x)
{
	imap_search_free(x->q);
	imap_parser_free(x->p);
}

static const char *const names[] = {
	[IMAP_SK_ALL] = "ALL", [IMAP_SK_AND] = "AND", [IMAP_SK_OR] = "OR",
	[IMAP_SK_NOT] = "NOT", [IMAP_SK_FLAG] = "FLAG",
	[IMAP_SK_RECENT] = "RECENT", [IMAP_SK_KEYWORD] = "KEYWORD",
	[IMAP_SK_SET] = "SET", [IMAP_SK_BEFORE] = "BEFORE",
	[IMAP_SK_ON] = "ON", [IMAP_SK_SINCE] = "SINCE",
	[IMAP_SK_SENTBEFORE] = "SENTBEFORE", [IMAP_SK_SENTON] = "SENTON",
	[IMAP_SK_SENTSINCE] = "SENTSINCE", [IMAP_SK_LARGER] = "LARGER",
	[IMAP_SK_SMALLER] = "SMALLER", [IMAP_SK_MODSEQ] = "MODSEQ",
	[IMAP_SK_HEADER] = "HEADER", [IMAP_SK_BODY] = "BODY",
	[IMAP_SK_TEXT] = "TEXT",
};

/* The tree as "(AND FLAG:1 HEADER:Subject:x)". */
static void
render(const struct imap_search_key *k, char *out, size_t size)
{
	size_t len = strlen(out);

	switch (k->type) {
	case IMAP_SK_AND:
	case IMAP_SK_OR:
	case IMAP_SK_NOT:
		snprintf(out + len, size - len, "(%s", names[k->type]);
		for (const struct imap_search_key *c = k->child; c;
		     c = c->next) {
			strncat(out, " ", size - strlen(out) - 1);
			render(c, out, size);
		}
		strncat(out, ")", size - strlen(out) - 1);
		return;
	case IMAP_SK_FLAG:
		snprintf(out + len, size - len, "FLAG:%u", k->flag);
		return;
	case IMAP_SK_KEYWORD:
	case IMAP_SK_BODY:
	case IMAP_SK_TEXT:
		snprintf(out + len, size - len, "%s:%s", names[k->type],
			 k->str);
		return;
	case IMAP_SK_HEADER:
		snprintf(out + len, size - len, "HEADER:%s:%s", k->field,
			 k->str);
		return;
	case IMAP_SK_SET:
		snprintf(out + len, size - len, "%s:%s",
			 k->set_uid ? "UID" : "SET", k->set_arg->str);
		return;
	case IMAP_SK_LARGER:
	case IMAP_SK_SMALLER:
	case IMAP_SK_MODSEQ:
		snprintf(out + len, size - len, "%s:%llu", names[k->type],
			 (unsigned long long)k->num);
		return;
	case IMAP_SK_BEFORE:
	case IMAP_SK_ON:
	case IMAP_SK_SINCE:
	case IMAP_SK_SENTBEFORE:
	case IMAP_SK_SENTON:
	case IMAP_SK_SENTSINCE:
		snprintf(out + len, size - len, "%s:%lld", names[k->type],
			 (long long)k->day);
		return;
	default:
		snprintf(out + len, size - len, "%s", names[k->type]);
	}
}

static void
tree(const char *text, const char *want)
{
	struct parsed x = parse(text);
	char out[4096] = "";

	if (x.r != 0)
		fail_msg("refused: %s (%s)", text, x.q->error);
	render(x.q->root, out, sizeof(out));
	if (strcmp(out, want) != 0)
		fail_msg("%s\n  got  %s\n  want %s", text, out, want);
	done(&x);
}

static void
refused(const char *text, int code)
{
	struct parsed x = parse(text);

	if (x.r != code)
		fail_msg("%s: %d, not %d", text, x.r, code);
	assert_non_null(x.q->error);
	done(&x);
}

static void
test_keys(void **state)
{
	(void)state;
	tree("ALL", "(AND ALL)");
	tree("seen Unanswered", "(AND FLAG:1 (NOT FLAG:2))");
	tree("FLAGGED DELETED DRAFT", "(AND FLAG:4 FLAG:8 FLAG:16)");
	tree("NEW", "(AND RECENT (NOT FLAG:1))");
	tree("OLD", "(AND (NOT RECENT))");
	tree("KEYWORD $Junk UNKEYWORD foo",
	     "(AND KEYWORD:$Junk (NOT KEYWORD:foo))");
	tree("FROM a TO b CC c BCC d SUBJECT e",
	     "(AND HEADER:From:a HEADER:To:b HEADER:Cc:c HEADER:Bcc:d "
	     "HEADER:Subject:e)");
	tree("HEADER X-Spam \"\"", "(AND HEADER:X-Spam:)");
	tree("BODY \"a b\" TEXT c", "(AND BODY:a b TEXT:c)");
	tree("LARGER 10 SMALLER 9223372036854775807",
	     "(AND LARGER:10 SMALLER:9223372036854775807)");
	tree("1:3,5 UID * $ UID $", "(AND SET:1:3,5 UID:* SET:$ UID:$)");
	tree("MODSEQ 5 MODSEQ \"/flags/\\\\Seen\" priv 0",
	     "(AND MODSEQ:5 MODSEQ:0)");
}

static void
test_dates(void **state)
{
	(void)state;
	tree("ON 1-Jan-1970 SINCE 2-jan-1970 BEFORE \"31-Dec-1969\"",
	     "(AND ON:0 SINCE:1 BEFORE:-1)");
	tree("SENTON 1-Feb-1994",
	     "(AND SENTON:8797)");
	refused("ON 30-Feb-2001", IMAP_SEARCH_EBAD);
	refused("SINCE 1-Foo-2001", IMAP_SEARCH_EBAD);
	refused("SENTBEFORE 2001-01-01", IMAP_SEARCH_EBAD);
}

/* Operands cheapest first; merged AND and OR; NOT keeps its own. */
static void
test_shape(void **state)
{
	(void)state;
	tree("BODY x SUBJECT y SEEN",
	     "(AND FLAG:1 HEADER:Subject:y BODY:x)");
	tree("TEXT x SENTON 1-Jan-1970 UID 1",
	     "(AND UID:1 SENTON:0 TEXT:x)");
	tree("(SEEN (FLAGGED (DRAFT)))", "(AND FLAG:1 FLAG:4 FLAG:16)");
	tree("OR OR SEEN ANSWERED DELETED", "(AND (OR FLAG:1 FLAG:2 FLAG:8))");
	tree("OR BODY x OR SEEN FROM y",
	     "(AND (OR FLAG:1 HEADER:From:y BODY:x))");
	tree("OR (SEEN FLAGGED) DRAFT",
	     "(AND (OR (AND FLAG:1 FLAG:4) FLAG:16))");
	tree("OR (SEEN BODY x) DRAFT",
	     "(AND (OR FLAG:16 (AND FLAG:1 BODY:x)))");
	tree("NOT NOT SEEN", "(AND (NOT (NOT FLAG:1)))");
	tree("NOT (SEEN BODY x)", "(AND (NOT (AND FLAG:1 BODY:x)))");
}

static void
test_head(void **state)
{
	struct parsed x;

	(void)state;
	x = parse("RETURN (MIN MAX COUNT ALL SAVE) CHARSET UTF-8 ALL");
	assert_int_equal(x.r, 0);
	assert_true(x.q->esearch);
	assert_int_equal(x.q->ret, IMAP_SEARCH_RET_MIN | IMAP_SEARCH_RET_MAX |
				   IMAP_SEARCH_RET_COUNT |
				   IMAP_SEARCH_RET_ALL | IMAP_SEARCH_RET_SAVE);
	done(&x);
	x = parse("RETURN () SEEN");
	assert_int_equal(x.r, 0);
	assert_int_equal(x.q->ret, IMAP_SEARCH_RET_ALL);
	done(&x);
	x = parse("SEEN");
	assert_false(x.q->esearch);
	assert_false(x.q->modseq);
	done(&x);
	x = parse("charset us-ascii MODSEQ 1");
	assert_int_equal(x.r, 0);
	assert_true(x.q->modseq);
	done(&x);
	/* The options read before a failure are kept (a failed SAVE). */
	x = parse("RETURN (SAVE) BOGUS");
	assert_int_equal(x.r, IMAP_SEARCH_EBAD);
	assert_int_equal(x.q->ret, IMAP_SEARCH_RET_SAVE);
	done(&x);
	refused("CHARSET KOI8-R ALL", IMAP_SEARCH_EBADCHARSET);
	refused("RETURN (SAVE) CHARSET ISO-8859-1 ALL",
		IMAP_SEARCH_EBADCHARSET);
	refused("RETURN (PARTIAL 1:10) ALL", IMAP_SEARCH_EBAD);
	refused("RETURN ALL ALL", IMAP_SEARCH_EBAD);
	refused("CHARSET UTF-8", IMAP_SEARCH_EBAD);
}

static void
test_refused(void **state)
{
	static const char *const bad[] = {
		"", "FOO", "()", "SEEN ()", "OR SEEN", "NOT", "BODY",
		"HEADER Subject", "HEADER \"\" x", "HEADER a:b x",
		"KEYWORD", "KEYWORD \\Seen", "KEYWORD \"x\"", "LARGER",
		"LARGER -1", "LARGER 9223372036854775808", "SMALLER x",
		"UID", "UID x", "UID (1)", "MODSEQ", "MODSEQ -1",
		"MODSEQ \"/flags/\\\\Seen\" bogus 1", "MODSEQ \"/x\" all 1",
		"\\Seen", "ON", "(SEEN",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct imap_limits lim;
		struct imap_parser *p;
		struct imap_search *q;
		char line[256];
		const struct imap_arg *args;
		size_t n;

		imap_limits_default(&lim);
		p = imap_parser_new(&lim, 0);
		snprintf(line, sizeof(line), "a SEARCH %s", bad[i]);
		if (imap_parser_line(p, line, strlen(line), 0) !=
		    IMAP_PARSE_DONE) {
			imap_parser_free(p); /* the command parser's BAD */
			continue;
		}
		args = imap_parser_args(p, &n);
		q = imap_search_new();
		if (imap_search_parse(q, args, n) != IMAP_SEARCH_EBAD)
			fail_msg("accepted: %s", bad[i]);
		imap_search_free(q);
		imap_parser_free(p);
	}
}

static void
repeat(char *out, size_t size, const char *head, const char *word,
       unsigned n, const char *tail)
{
	snprintf(out, size, "%s", head);
	for (unsigned i = 0; i < n; i++)
		strncat(out, word, size - strlen(out) - 1);
	strncat(out, tail, size - strlen(out) - 1);
}

static void
test_limits(void **state)
{
	static char text[65536];
	struct parsed x;

	(void)state;
	repeat(text, sizeof(text), "", "NOT ", IMAP_SEARCH_DEPTH_MAX, "ALL");
	x = parse(text);
	assert_int_equal(x.r, 0);
	done(&x);
	repeat(text, sizeof(text), "", "NOT ", IMAP_SEARCH_DEPTH_MAX + 1,
	       "ALL");
	refused(text, IMAP_SEARCH_EBAD);
	repeat(text, sizeof(text), "", "OR ALL ", IMAP_SEARCH_DEPTH_MAX + 1,
	       "ALL");
	refused(text, IMAP_SEARCH_EBAD);
	/* The root AND is a key too. */
	repeat(text, sizeof(text), "", "SEEN ", IMAP_SEARCH_KEYS_MAX - 2,
	       "SEEN");
	x = parse(text);
	assert_int_equal(x.r, 0);
	assert_int_equal(x.q->nkeys, IMAP_SEARCH_KEYS_MAX);
	done(&x);
	repeat(text, sizeof(text), "", "SEEN ", IMAP_SEARCH_KEYS_MAX - 1,
	       "SEEN");
	refused(text, IMAP_SEARCH_EBAD);
	repeat(text, sizeof(text), "", "TEXT a ", IMAP_SEARCH_STRINGS_MAX - 1,
	       "TEXT a");
	x = parse(text);
	assert_int_equal(x.r, 0);
	done(&x);
	repeat(text, sizeof(text), "", "TEXT a ", IMAP_SEARCH_STRINGS_MAX,
	       "TEXT a");
	refused(text, IMAP_SEARCH_EBAD);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keys),    cmocka_unit_test(test_dates),
		cmocka_unit_test(test_shape),   cmocka_unit_test(test_head),
		cmocka_unit_test(test_refused), cmocka_unit_test(test_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
