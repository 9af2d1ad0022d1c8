/* Unit tests for imap.so's pure parts: the command parser (RFC 3501 9,
 * RFC 9051 9) fed as the core feeds it, lines and literals, with every
 * literal also split at every size down to one octet; LITERAL+ and
 * LITERAL- (RFC 7888), literal8, limits, streaming and failing; FETCH
 * sections; sequence sets; modified UTF-7; dates; quoting. They link
 * modules/imap/ directly, without poshtad. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "datetime.h"
#include "mutf7.h"
#include "parser.h"
#include "quote.h"
#include "section.h"
#include "seqset.h"
#include "utf8.h"

/* ---- A transcript of the parser's answers ------------------------------ */

static void
dump_args(struct imap_buf *b, const struct imap_arg *a, size_t n);

static void
dump_arg(struct imap_buf *b, const struct imap_arg *a)
{
	switch (a->type) {
	case IMAP_ARG_ATOM:
	case IMAP_ARG_NIL:
		imap_buf_adds(b, a->str);
		break;
	case IMAP_ARG_QUOTED:
		imap_buf_addc(b, '"');
		imap_buf_add(b, a->str, a->len);
		imap_buf_addc(b, '"');
		break;
	case IMAP_ARG_LITERAL:
		if (a->flags & IMAP_ARGF_LITERAL8)
			imap_buf_addc(b, '~');
		imap_buf_addc(b, '{');
		imap_buf_addu64(b, a->len);
		imap_buf_adds(b, a->flags & IMAP_ARGF_NONSYNC ? "+}" : "}");
		for (size_t i = 0; i < a->len; i++)
			if (a->str[i])
				imap_buf_addc(b, a->str[i]);
			else
				imap_buf_adds(b, "\\0");
		break;
	case IMAP_ARG_LIST:
		imap_buf_addc(b, '(');
		dump_args(b, a->list, a->count);
		imap_buf_addc(b, ')');
		break;
	case IMAP_ARG_SECTION:
		imap_buf_adds(b, a->flags & IMAP_ARGF_RAW ? "S=" : "S:");
		imap_buf_adds(b, a->str);
		imap_buf_addc(b, '[');
		dump_args(b, a->list, a->count);
		imap_buf_addc(b, ']');
		if (a->flags & IMAP_ARGF_PARTIAL) {
			imap_buf_addc(b, '<');
			imap_buf_addu64(b, a->partial_start);
			imap_buf_addc(b, '.');
			imap_buf_addu64(b, a->partial_len);
			imap_buf_addc(b, '>');
		}
		break;
	case IMAP_ARG_STREAM:
		imap_buf_adds(b, "<stream ");
		imap_buf_addu64(b, a->size);
		imap_buf_addc(b, '>');
		break;
	}
}

static void
dump_args(struct imap_buf *b, const struct imap_arg *a, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (i)
			imap_buf_addc(b, ' ');
		dump_arg(b, &a[i]);
	}
}

struct drive {
	struct imap_limits lim;
	unsigned flags;
	size_t chunk;     /* literal octets per call; 0: all at once */
	int stream;       /* stream APPEND's top-level literals */
	int refuse;       /* fail APPEND's literals with NO [TOOBIG] */
	struct imap_buf out;
};

static void
drive_init(struct drive *d)
{
	memset(d, 0, sizeof(*d));
	imap_limits_default(&d->lim);
	d->lim.max_nonsync = UINT64_MAX;
	imap_buf_init(&d->out, 1 << 20);
}

static void
report_error(struct drive *d, struct imap_parser *p)
{
	const struct imap_parse_error *e = imap_parser_error(p);
	const char *tag = imap_parser_tag(p);

	assert_non_null(e);
	imap_buf_adds(&d->out, tag ? tag : "*");
	imap_buf_adds(&d->out, e->no ? " NO " : " BAD ");
	if (e->code) {
		imap_buf_addc(&d->out, '[');
		imap_buf_adds(&d->out, e->code);
		imap_buf_adds(&d->out, "] ");
	}
	imap_buf_adds(&d->out, e->text);
	imap_buf_adds(&d->out, e->close ? " (close)\n" : "\n");
}

static const char *
find_crlf(const char *s, size_t len)
{
	for (size_t i = 0; i + 1 < len; i++)
		if (s[i] == '\r' && s[i + 1] == '\n')
			return s + i;
	return NULL;
}

/* Feed in[0..len) as the core would: CRLF lines, literal octets when
 * asked (in chunks of d->chunk). Returns the transcript. */
static const char *
drive(struct drive *d, const char *in, size_t len)
{
	struct imap_parser *p = imap_parser_new(&d->lim, d->flags);
	size_t pos = 0;

	assert_non_null(p);
	imap_buf_reset(&d->out);
	while (pos < len) {
		const char *eol = find_crlf(in + pos, len - pos);
		const struct imap_literal *li;
		const char *cmd;
		int r;

		if (!eol)
			break;
		r = imap_parser_line(p, in + pos, (size_t)(eol - in - pos), 0);
		pos = (size_t)(eol - in) + 2;
		while (r == IMAP_PARSE_LITERAL) {
			li = imap_parser_literal_info(p);
			cmd = imap_parser_command(p);
			if (!li->discard && cmd && !strcmp(cmd, "APPEND") &&
			    li->depth == 0 && d->refuse)
				r = imap_parser_fail(p, 1, "TOOBIG", "Too big");
			else
				r = imap_parser_literal_begin(p, d->stream &&
					cmd && !strcmp(cmd, "APPEND") &&
					li->depth == 0);
			if (r != IMAP_PARSE_LITERAL)
				break;
			li = imap_parser_literal_info(p);
			if (li->size > len - pos) {
				imap_buf_adds(&d->out, "EOF\n");
				goto out;
			}
			if (li->discard) {
				imap_buf_adds(&d->out, "[drop ");
				imap_buf_addu64(&d->out, li->size);
				imap_buf_adds(&d->out, "]");
			} else if (li->stream) {
				if (li->sync)
					imap_buf_adds(&d->out, "+");
				imap_buf_adds(&d->out, "[stream ");
				imap_buf_addu64(&d->out, li->size);
				imap_buf_adds(&d->out, "]");
				pos += li->size;
				r = IMAP_PARSE_LINE;
				break;
			} else if (li->sync) {
				imap_buf_adds(&d->out, "+");
			}
			r = IMAP_PARSE_LINE;
			for (uint64_t left = li->size; left > 0;) {
				size_t n = d->chunk && d->chunk < left ?
					d->chunk : (size_t)left;

				r = imap_parser_literal(p, in + pos, n);
				pos += n;
				left -= n;
				assert_int_equal(r, left ? IMAP_PARSE_MORE :
						 IMAP_PARSE_LINE);
			}
		}
		if (r == IMAP_PARSE_DONE) {
			const struct imap_arg *a;
			size_t n;

			a = imap_parser_args(p, &n);
			imap_buf_adds(&d->out, imap_parser_tag(p));
			imap_buf_addc(&d->out, ' ');
			imap_buf_adds(&d->out, imap_parser_command(p));
			if (n)
				imap_buf_addc(&d->out, ' ');
			dump_args(&d->out, a, n);
			imap_buf_addc(&d->out, '\n');
		} else if (r == IMAP_PARSE_ERROR) {
			report_error(d, p);
			if (imap_parser_error(p)->close)
				break;
		}
	}
out:
	imap_parser_free(p);
	assert_false(d->out.error);
	return imap_buf_str(&d->out);
}

/* The transcript of in, which must be the same for every literal chunk
 * size from 1 up. */
static void
expect_d(struct drive *d, const char *in, size_t len, const char *want)
{
	size_t max = 1;

	for (size_t i = 0; i < len; i++)
		if (in[i] == '{')
			max = 400;
	for (d->chunk = 0; d->chunk <= max; d->chunk++) {
		const char *got = drive(d, in, len);

		if (strcmp(got, want) != 0)
			fail_msg("chunk %zu, input:\n%.*s\ngot:\n%s\nwant:\n%s",
				 d->chunk, (int)len, in, got, want);
	}
}

static void
expect_len(const char *in, size_t len, const char *want)
{
	struct drive d;

	drive_init(&d);
	expect_d(&d, in, len, want);
	imap_buf_free(&d.out);
}

static void
expect(const char *in, const char *want)
{
	expect_len(in, strlen(in), want);
}

/* For inputs holding NUL: a string literal's own length. */
#define EXPECT_D(d, in, want) expect_d(d, in, sizeof(in) - 1, want)
#define EXPECT_BIN(in, want) expect_len(in, sizeof(in) - 1, want)

/* ---- RFC examples ------------------------------------------------------- */

static const char rfc_msg[] =
	"Date: Mon, 7 Feb 1994 21:52:25 -0800 (PST)\r\n"
	"From: Fred Foobar <foobar@Blurdybloop.COM>\r\n"
	"Subject: afternoon meeting\r\n"
	"To: mooch@owatagu.siam.edu\r\n"
	"Message-Id: <B27397-0100000@Blurdybloop.COM>\r\n"
	"MIME-Version: 1.0\r\n"
	"Content-Type: TEXT/PLAIN; CHARSET=US-ASCII\r\n"
	"\r\n"
	"Hello Joe, do you think we can meet at 3:30 tomorrow?\r\n";

static void
test_rfc_examples(void **state)
{
	char in[1024], want[1024];

	expect("a001 CAPABILITY\r\n", "a001 CAPABILITY\n");
	expect("a001 login SMITH SESAME\r\n", "a001 LOGIN SMITH SESAME\n");
	expect("A142 SELECT INBOX\r\n", "A142 SELECT INBOX\n");
	expect("A682 LIST \"\" *\r\n", "A682 LIST \"\" *\n");
	expect("A202 LIST ~/Mail/ %\r\n", "A202 LIST ~/Mail/ %\n");
	expect("A023 LSUB \"#news.\" \"comp.mail.*\"\r\n",
	       "A023 LSUB \"#news.\" \"comp.mail.*\"\n");
	expect("A042 STATUS blurdybloop (UIDNEXT MESSAGES)\r\n",
	       "A042 STATUS blurdybloop (UIDNEXT MESSAGES)\n");
	expect("A003 STORE 2:4 +FLAGS (\\Deleted)\r\n",
	       "A003 STORE 2:4 +FLAGS (\\Deleted)\n");
	expect("A999 UID FETCH 4827313:4828442 FLAGS\r\n",
	       "A999 UID FETCH 4827313:4828442 FLAGS\n");
	expect("A282 SEARCH FLAGGED SINCE 1-Feb-1994 NOT FROM \"Smith\"\r\n",
	       "A282 SEARCH FLAGGED SINCE 1-Feb-1994 NOT FROM \"Smith\"\n");
	expect("A284 SEARCH CHARSET UTF-8 TEXT {6}\r\nXXXXXX\r\n",
	       "+A284 SEARCH CHARSET UTF-8 TEXT {6}XXXXXX\n");
	expect("A654 FETCH 2:4 (FLAGS BODY[HEADER.FIELDS (DATE FROM)])\r\n",
	       "A654 FETCH 2:4 (FLAGS S:BODY[HEADER.FIELDS (DATE FROM)])\n");
	expect("a001 FETCH 1:* (FLAGS BODY[HEADER.FIELDS (DATE FROM)]"
	       "<0.100>)\r\n",
	       "a001 FETCH 1:* (FLAGS S:BODY[HEADER.FIELDS (DATE FROM)]"
	       "<0.100>)\n");
	expect("A005 FETCH 1 (BODY.PEEK[1.2.MIME] BODY[] BINARY[1]<0.10>)\r\n",
	       "A005 FETCH 1 (S=BODY.PEEK[1.2.MIME] S=BODY[] "
	       "S=BINARY[1]<0.10>)\n");
	expect("A1 NOTIFY SET (selected MessageNew (uid body.peek[header."
	       "fields (from to subject)]) messageExpunge)\r\n",
	       "A1 NOTIFY SET (selected MessageNew (uid S:body.peek[header."
	       "fields (from to subject)]) messageExpunge)\n");
	/* RFC 3501 6.3.11 */
	snprintf(in, sizeof(in), "A003 APPEND saved-messages (\\Seen) "
		 "{310}\r\n%s\r\n", rfc_msg);
	snprintf(want, sizeof(want), "+A003 APPEND saved-messages (\\Seen) "
		 "{310}%s\n", rfc_msg);
	expect(in, want);
	/* RFC 7888 */
	expect("A001 LOGIN {11+}\r\nFRED FOOBAR {7+}\r\nfat man\r\n",
	       "A001 LOGIN {11+}FRED FOOBAR {7+}fat man\n");
	/* RFC 9051 6.3.12, RFC 6855 */
	expect("A1 SELECT \"&U,BTFw-\"\r\n", "A1 SELECT \"&U,BTFw-\"\n");
	expect("A1 CREATE \"x\" (USE (\\Drafts))\r\n",
	       "A1 CREATE \"x\" (USE (\\Drafts))\n");
	expect("a1 uid expunge 3000:3002\r\n", "a1 UID expunge 3000:3002\n");
}

/* ---- Tokens ------------------------------------------------------------- */

static void
test_tags(void **state)
{
	expect("a]b NOOP\r\n", "a]b NOOP\n");
	expect("a[b NOOP\r\n", "a[b NOOP\n");
	expect("~.-_!#$&'<>=?@^`|} NOOP\r\n", "~.-_!#$&'<>=?@^`|} NOOP\n");
	expect("+ NOOP\r\n", "* BAD Invalid tag\n");
	expect("* NOOP\r\n", "* BAD Invalid tag\n");
	expect("a+b NOOP\r\n", "* BAD Invalid tag\n");
	expect("a%b NOOP\r\n", "* BAD Invalid tag\n");
	expect("a(b NOOP\r\n", "* BAD Invalid tag\n");
	expect("a\"b NOOP\r\n", "* BAD Invalid tag\n");
	expect("a\\b NOOP\r\n", "* BAD Invalid tag\n");
	expect("a{b NOOP\r\n", "* BAD Invalid tag\n");
	expect("\xc3\xa9 NOOP\r\n", "* BAD Invalid tag\n");
	expect(" NOOP\r\n", "* BAD Invalid tag\n");
	expect("a\tb NOOP\r\n", "* BAD Invalid tag\n");
	expect("\r\n", "* BAD Empty command line\n");
	expect("A1\r\n", "A1 BAD Missing command name\n");
	expect("A1 \r\n", "A1 BAD Missing command name\n");
	expect("A1  NOOP\r\n", "A1 BAD Missing command name\n");
	expect("A1 NO]OP\r\n", "A1 BAD Invalid command name\n");
	expect("A1 NOOP(\r\n", "A1 BAD Invalid command name\n");
	expect("A1 uid\r\n", "A1 UID\n");
	/* One answer per command, and the next command is parsed anew. */
	expect("A1 NOOP\r\n+\r\nA2 NOOP\r\n",
	       "A1 NOOP\n* BAD Invalid tag\nA2 NOOP\n");
}

static void
test_spaces(void **state)
{
	expect("A1 X a b\r\n", "A1 X a b\n");
	expect("A1 X \r\n", "A1 BAD Missing argument\n");
	expect("A1 X a  b\r\n", "A1 BAD Invalid character\n");
	expect("A1 X (a)(b)\r\n", "A1 BAD Missing space between arguments\n");
	expect("A1 X a\"b\"\r\n", "A1 BAD Missing space between arguments\n");
	expect("A1 X \"a\"b\r\n", "A1 BAD Missing space between arguments\n");
	expect("A1 X (a )\r\n", "A1 BAD Unexpected ')'\n");
	expect("A1 X ( a)\r\n", "A1 BAD Invalid character\n");
	expect("A1 X ()\r\n", "A1 X ()\n");
	expect("A1 X ( )\r\n", "A1 BAD Invalid character\n");
	expect("A1 X a)\r\n", "A1 BAD Unexpected ')'\n");
	expect("A1 X (a\r\n", "A1 BAD Missing ')'\n");
	expect("A1 X \x01\r\n", "A1 BAD Invalid character\n");
	expect("A1 X a\x7f\r\n", "A1 BAD Missing space between arguments\n");
	expect("A1 X \xff\r\n", "A1 BAD Invalid character\n");
	expect("A1 X a\rb\r\n", "A1 BAD Missing space between arguments\n");
}

static void
test_atoms(void **state)
{
	struct imap_limits lim;
	struct imap_parser *p;
	const struct imap_arg *a, *list;
	const char *s;
	size_t n, len;
	uint32_t u;
	uint64_t u64;

	imap_limits_default(&lim);
	p = imap_parser_new(&lim, 0);
	assert_non_null(p);
	s = "t X atom [Gmail]/Sent 1:*,$ \\Seen \\Answered NIL nil foo%bar "
		"4294967295 4294967296 0 01 9223372036854775807 "
		"9223372036854775808 keyword";
	assert_int_equal(imap_parser_line(p, s, strlen(s), 0),
			 IMAP_PARSE_DONE);
	a = imap_parser_args(p, &n);
	assert_int_equal(n, 15);
	assert_int_equal(a[0].type, IMAP_ARG_ATOM);
	assert_int_equal(a[0].flags, 0);
	assert_int_equal(imap_arg_get_atom(&a[0], &s), 0);
	assert_string_equal(s, "atom");
	assert_true(imap_arg_is_atom(&a[0], "ATOM"));
	assert_false(imap_arg_is_atom(&a[0], "ATO"));
	/* [Gmail]/Sent: an astring, not an atom. */
	assert_int_equal(a[1].flags, IMAP_ARGF_RBRACKET);
	assert_int_equal(imap_arg_get_atom(&a[1], &s), -1);
	assert_int_equal(imap_arg_get_astring(&a[1], &s, &len), 0);
	assert_string_equal(s, "[Gmail]/Sent");
	assert_int_equal(imap_arg_get_string(&a[1], &s, &len), -1);
	/* A sequence set: a word, not an astring. */
	assert_int_equal(a[2].flags, IMAP_ARGF_WILDCARD);
	assert_int_equal(imap_arg_get_astring(&a[2], &s, &len), -1);
	assert_int_equal(imap_arg_get_word(&a[2], &s, &len), 0);
	assert_string_equal(s, "1:*,$");
	/* Flags */
	assert_int_equal(a[3].flags, IMAP_ARGF_BACKSLASH);
	assert_int_equal(imap_arg_get_flag(&a[3], &s), 0);
	assert_string_equal(s, "\\Seen");
	assert_int_equal(imap_arg_get_atom(&a[3], &s), -1);
	assert_int_equal(imap_arg_get_astring(&a[3], &s, &len), -1);
	assert_int_equal(imap_arg_get_word(&a[3], &s, &len), -1);
	assert_int_equal(imap_arg_get_flag(&a[14], &s), 0);
	assert_string_equal(s, "keyword");
	/* NIL, any case: an nstring's NIL, an astring's "NIL". */
	assert_int_equal(a[5].type, IMAP_ARG_NIL);
	assert_int_equal(a[6].type, IMAP_ARG_NIL);
	assert_int_equal(imap_arg_get_nstring(&a[6], &s, &len), 0);
	assert_null(s);
	assert_int_equal(imap_arg_get_astring(&a[6], &s, &len), 0);
	assert_string_equal(s, "nil");
	assert_int_equal(imap_arg_get_string(&a[6], &s, &len), -1);
	/* list-mailbox */
	assert_int_equal(imap_arg_get_list_mailbox(&a[7], &s, &len), 0);
	assert_string_equal(s, "foo%bar");
	assert_int_equal(imap_arg_get_list_mailbox(&a[3], &s, &len), -1);
	/* Numbers */
	assert_int_equal(imap_arg_get_number(&a[8], &u), 0);
	assert_int_equal(u, 4294967295u);
	assert_int_equal(imap_arg_get_number(&a[9], &u), -1);
	assert_int_equal(imap_arg_get_number64(&a[9], &u64), 0);
	assert_true(u64 == 4294967296ull);
	assert_int_equal(imap_arg_get_number(&a[10], &u), 0);
	assert_int_equal(imap_arg_get_nz_number(&a[10], &u), -1);
	assert_int_equal(imap_arg_get_number(&a[11], &u), 0);
	assert_int_equal(u, 1);
	assert_int_equal(imap_arg_get_nz_number(&a[11], &u), -1);
	assert_int_equal(imap_arg_get_number64(&a[12], &u64), 0);
	assert_true(u64 == 9223372036854775807ull);
	assert_int_equal(imap_arg_get_number64(&a[13], &u64), -1);
	assert_int_equal(imap_arg_get_number(&a[0], &u), -1);
	assert_int_equal(imap_arg_get_list(&a[0], &list, &n), -1);
	imap_parser_free(p);

	expect("A1 X \\\r\n", "A1 BAD Invalid flag\n");
	expect("A1 X \\*\r\n", "A1 BAD Invalid flag\n");
	expect("A1 X \\Seen]\r\n", "A1 BAD Missing space between arguments\n");
	expect("A1 X a\\b\r\n", "A1 BAD Missing space between arguments\n");
	expect("A1 X (\\Seen \\Deleted)\r\n", "A1 X (\\Seen \\Deleted)\n");
	expect("A1 X ~\r\n", "A1 X ~\n");
	expect("A1 X a{3}\r\n", "A1 BAD Missing space between arguments\n");
}

static void
test_quoted(void **state)
{
	struct drive d;

	expect("A1 X \"\"\r\n", "A1 X \"\"\n");
	expect("A1 X \"a\\\"b\\\\c\"\r\n", "A1 X \"a\"b\\c\"\n");
	expect("A1 X \"(a) {5} ]%*\"\r\n", "A1 X \"(a) {5} ]%*\"\n");
	expect("A1 X \"tab\there\x01\x7f\"\r\n",
	       "A1 X \"tab\there\x01\x7f\"\n");
	expect("A1 X \"a\\b\"\r\n", "A1 BAD Invalid escape in quoted string\n");
	expect("A1 X \"a\\\"\r\n", "A1 BAD Unterminated quoted string\n");
	expect("A1 X \"a\\\r\n", "A1 BAD Invalid escape in quoted string\n");
	expect("A1 X \"abc\r\n", "A1 BAD Unterminated quoted string\n");
	expect("A1 X \"a\rb\"\r\n",
	       "A1 BAD Invalid character in quoted string\n");
	expect("A1 X \"a\nb\"\r\n",
	       "A1 BAD Invalid character in quoted string\n");
	EXPECT_BIN("A1 X \"a\0b\"\r\n",
		   "A1 BAD Invalid character in quoted string\n");
	expect("A1 X \"caf\xc3\xa9\"\r\n",
	       "A1 BAD 8-bit octet in quoted string "
	       "(UTF8=ACCEPT is not enabled)\n");

	drive_init(&d);
	d.flags = IMAP_PARSE_UTF8;
	EXPECT_D(&d, "A1 X \"caf\xc3\xa9 \xf0\x9f\x98\x80\"\r\n",
		 "A1 X \"caf\xc3\xa9 \xf0\x9f\x98\x80\"\n");
	EXPECT_D(&d, "A1 X \"\xc0\xaf\"\r\n",
		 "A1 BAD Invalid UTF-8 in quoted string\n");
	EXPECT_D(&d, "A1 X \"\xed\xa0\x80\"\r\n",
		 "A1 BAD Invalid UTF-8 in quoted string\n");
	EXPECT_D(&d, "A1 X \"\xc3\"\r\n",
		 "A1 BAD Invalid UTF-8 in quoted string\n");
	EXPECT_D(&d, "A1 X \xc3\xa9\r\n", "A1 BAD Invalid character\n");
	imap_buf_free(&d.out);
}

/* ---- Literals ----------------------------------------------------------- */

static void
test_literals(void **state)
{
	struct drive d;
	char in[8192], want[8192];

	expect("A1 X {0}\r\n\r\n", "+A1 X {0}\n");
	expect("A1 X {0+}\r\n\r\n", "A1 X {0+}\n");
	expect("A1 X {3}\r\nabc {2}\r\nde\r\n", "++A1 X {3}abc {2}de\n");
	expect("A1 X ({3}\r\na)c {1}\r\nx)\r\n", "++A1 X ({3}a)c {1}x)\n");
	expect("A1 X ({3}\r\nabc)\r\n", "+A1 X ({3}abc)\n");
	expect("A1 X {6}\r\na\r\nb\r\n\r\n", "+A1 X {6}a\r\nb\r\n\n");
	expect("A1 X {3}\r\n\xff\x01\x80\r\n", "+A1 X {3}\xff\x01\x80\n");
	expect("A1 X {003}\r\nabc\r\n", "+A1 X {3}abc\n");
	/* After a literal: a space, ")" or the end. */
	expect("A1 X {1}\r\naB\r\n",
	       "+A1 BAD Missing space between arguments\n");
	expect("A1 X {1}\r\na \r\n", "+A1 BAD Missing argument\n");
	/* Announcements that are not literals. */
	expect("A1 X {3} a\r\n",
	       "A1 BAD Invalid literal: {n}, {n+} or ~{n} must end the line\n");
	expect("A1 X {}\r\n",
	       "A1 BAD Invalid literal: {n}, {n+} or ~{n} must end the line\n");
	expect("A1 X {a}\r\n",
	       "A1 BAD Invalid literal: {n}, {n+} or ~{n} must end the line\n");
	expect("A1 X {3++}\r\n",
	       "A1 BAD Invalid literal: {n}, {n+} or ~{n} must end the line\n");
	expect("A1 X {-1}\r\n",
	       "A1 BAD Invalid literal: {n}, {n+} or ~{n} must end the line\n");
	expect("A1 X {3\r\n",
	       "A1 BAD Invalid literal: {n}, {n+} or ~{n} must end the line\n");
	expect("A1 X {99999999999999999999}\r\n",
	       "A1 BAD Literal size too large (close)\n");
	expect("A1 X ~{3}\r\nabc\r\n", "A1 BAD literal8 is not enabled\n"
	       "abc BAD Missing command name\n");
	expect("A1 X ~{3+}\r\nabc\r\nA2 NOOP\r\n",
	       "[drop 3]A1 BAD literal8 is not enabled\nA2 NOOP\n");
	/* CHAR8: no NUL in a literal, read to its end all the same. */
	EXPECT_BIN("A1 X {3}\r\na\0c {2+}\r\nxy\r\nA2 NOOP\r\n",
		   "+[drop 2]A1 BAD NUL in literal\nA2 NOOP\n");

	drive_init(&d);
	d.flags = IMAP_PARSE_BINARY;
	EXPECT_D(&d, "A1 X ~{3}\r\na\0c\r\n", "+A1 X ~{3}a\\0c\n");
	EXPECT_D(&d, "A1 X ~{3+}\r\nabc\r\n", "A1 X ~{3+}abc\n");
	EXPECT_D(&d, "A1 X ~ {1}\r\na\r\n", "+A1 X ~ {1}a\n");
	imap_buf_free(&d.out);

	/* A large literal, every chunk size up to 400. */
	memset(in, 0, sizeof(in));
	strcpy(in, "A1 X {4000}\r\n");
	for (int i = 0; i < 4000; i++)
		in[13 + i] = (char)('a' + i % 26);
	strcpy(in + 4013, " y\r\n");
	strcpy(want, "+A1 X {4000}");
	memcpy(want + 12, in + 13, 4000);
	strcpy(want + 4012, " y\n");
	expect(in, want);
}

static void
test_literal_plus(void **state)
{
	struct drive d;
	char in[8192];

	drive_init(&d);
	/* LITERAL-: at most 4096 octets without synchronising; the bigger
	 * one is read and dropped, then the command fails (RFC 7888 4). */
	d.lim.max_nonsync = 4096;
	EXPECT_D(&d, "A1 X {4+}\r\nabcd\r\n", "A1 X {4+}abcd\n");
	memset(in, 'x', sizeof(in));
	memcpy(in, "A1 X {4097+}\r\n", 14);
	memcpy(in + 14 + 4097, "\r\nA2 NOOP\r\n", 11);
	expect_d(&d, in, 14 + 4097 + 11, "[drop 4097]A1 BAD [TOOBIG] "
		 "Non-synchronizing literal too large\nA2 NOOP\n");
	/* ... and all that follows it in the command. */
	memcpy(in + 14 + 4097, " {2+}\r\nab {3}\r\nA2 NOOP\r\n", 24);
	expect_d(&d, in, 14 + 4097 + 24, "[drop 4097][drop 2]A1 BAD [TOOBIG] "
		 "Non-synchronizing literal too large\nA2 NOOP\n");
	/* Past max_discard: close instead. */
	d.lim.max_discard = 4096;
	memcpy(in + 14 + 4097, "\r\nA2 NOOP\r\n", 11);
	expect_d(&d, in, 14 + 4097 + 11, "A1 BAD [TOOBIG] Non-synchronizing "
		 "literal too large (close)\n");
	d.lim.max_discard = 10;
	EXPECT_D(&d, "A1 X \"a {6+}\r\nabcdef {5+}\r\nabcde\r\nA2 NOOP\r\n",
		 "[drop 6]A1 BAD Unterminated quoted string (close)\n");

	/* Synchronising and too big: refused before anything is sent, so
	 * the client sends nothing more of the command. */
	d.lim = (struct imap_limits){0};
	imap_limits_default(&d.lim);
	d.lim.max_literal = 10;
	EXPECT_D(&d, "A1 LOGIN a {11}\r\nA2 NOOP\r\n",
		 "A1 BAD [TOOBIG] Literal too large\nA2 NOOP\n");
	EXPECT_D(&d, "A1 LOGIN a {10}\r\n0123456789\r\n",
		 "+A1 LOGIN a {10}0123456789\n");
	d.lim.max_nonsync = UINT64_MAX;
	EXPECT_D(&d, "A1 LOGIN a {11+}\r\n0123456789a\r\nA2 NOOP\r\n",
		 "[drop 11]A1 BAD [TOOBIG] Literal too large\nA2 NOOP\n");
	/* The total of a command counts its literals and every line with
	 * its CRLF: 11 + 10 + 7 here, then the literal, then 2 or more. */
	d.lim.max_literal = 100;
	d.lim.max_command = 40;
	EXPECT_D(&d, "A1 X {10}\r\n0123456789 {13}\r\n",
		 "+A1 BAD [TOOBIG] Literal too large\n");
	EXPECT_D(&d, "A1 X {10}\r\n0123456789 {10}\r\n0123456789\r\n",
		 "++A1 X {10}0123456789 {10}0123456789\n");
	EXPECT_D(&d, "A1 X {10}\r\n0123456789 {11}\r\n01234567890\r\n",
		 "++A1 BAD [LIMIT] Command too long\n");
	EXPECT_D(&d, "A1 X 0123456789012345678901234567890123456\r\n",
		 "A1 BAD [LIMIT] Command too long\n");
	imap_buf_free(&d.out);
}

/* A failed command's lines are read to its end, its non-synchronizing
 * literals dropped, before the one reply; a synchronizing one ends it. */
static void
test_skip(void **state)
{
	expect("A1 X ) {3+}\r\nabc\r\nA2 NOOP\r\n",
	       "[drop 3]A1 BAD Unexpected ')'\nA2 NOOP\n");
	expect("A1 X ) {3}\r\nA2 NOOP\r\n", "A1 BAD Unexpected ')'\nA2 NOOP\n");
	expect("A1 X {3+}\r\nabc ) {2+}\r\nxy {1+}\r\nz\r\nA2 NOOP\r\n",
	       "[drop 2][drop 1]A1 BAD Unexpected ')'\nA2 NOOP\n");
	expect("A1 X {3+}\r\nabc ) {2+}\r\nxy {1}\r\nA2 NOOP\r\n",
	       "[drop 2]A1 BAD Unexpected ')'\nA2 NOOP\n");
	expect("+ X {3+}\r\nabc\r\nA2 NOOP\r\n",
	       "[drop 3]* BAD Invalid tag\nA2 NOOP\n");
	expect("A1 {3+}\r\nabc\r\nA2 NOOP\r\n",
	       "[drop 3]A1 BAD Missing command name\nA2 NOOP\n");
	expect("A1 X a {0+}\r\n) {1+}\r\nb\r\nA2 NOOP\r\n",
	       "[drop 1]A1 BAD Unexpected ')'\nA2 NOOP\n");
	expect("A1 X a {99999999999999999999+}\r\n) x\r\n",
	       "A1 BAD Literal size too large (close)\n");
	expect("A1 X a {1+}\r\nb {99999999999999999999+} )\r\n",
	       "A1 BAD Invalid literal: {n}, {n+} or ~{n} must end the line\n");
	expect("A1 X ) {99999999999999999999+}\r\nx\r\n",
	       "A1 BAD Unexpected ')' (close)\n");
}

static void
test_truncated(void **state)
{
	struct imap_limits lim;
	struct imap_parser *p;

	imap_limits_default(&lim);
	p = imap_parser_new(&lim, 0);
	assert_int_equal(imap_parser_line(p, "A1 X aaaa", 9,
					  IMAP_LINE_TRUNCATED),
			 IMAP_PARSE_ERROR);
	assert_true(imap_parser_error(p)->close);
	assert_string_equal(imap_parser_error(p)->text, "Line too long");
	assert_int_equal(imap_parser_line(p, "A1 X {3}", 8, 0),
			 IMAP_PARSE_LITERAL);
	assert_int_equal(imap_parser_literal_begin(p, 0), IMAP_PARSE_LITERAL);
	assert_int_equal(imap_parser_literal(p, "abc", 3), IMAP_PARSE_LINE);
	assert_int_equal(imap_parser_line(p, " bbbb", 5, IMAP_LINE_TRUNCATED),
			 IMAP_PARSE_ERROR);
	assert_true(imap_parser_error(p)->close);
	assert_string_equal(imap_parser_tag(p), "A1");
	imap_parser_free(p);
}

static void
test_nesting(void **state)
{
	struct drive d;

	expect("A1 X (((a)) (b (c)) ())\r\n", "A1 X (((a)) (b (c)) ())\n");
	drive_init(&d);
	d.lim.max_depth = 3;
	EXPECT_D(&d, "A1 X (((a)))\r\n", "A1 X (((a)))\n");
	EXPECT_D(&d, "A1 X ((((a))))\r\n",
		 "A1 BAD [LIMIT] Too deeply nested\n");
	EXPECT_D(&d, "A1 X ((()))\r\nA2 X (((())))\r\n",
		 "A1 X ((()))\nA2 BAD [LIMIT] Too deeply nested\n");
	/* A section counts as a level. */
	d.lim.max_depth = 2;
	EXPECT_D(&d, "A1 F 1 (BODY[HEADER.FIELDS (A)])\r\n",
		 "A1 BAD [LIMIT] Too deeply nested\n");
	d.lim.max_depth = 3;
	EXPECT_D(&d, "A1 F 1 (BODY[HEADER.FIELDS (A)])\r\n",
		 "A1 F 1 (S:BODY[HEADER.FIELDS (A)])\n");
	/* Tokens: lists and their members count, tag and name do not. */
	d.lim.max_tokens = 4;
	EXPECT_D(&d, "A1 X a (b c)\r\n", "A1 X a (b c)\n");
	EXPECT_D(&d, "A1 X a (b c) d\r\n",
		 "A1 BAD [LIMIT] Too many arguments\n");
	EXPECT_D(&d, "A1 X a b c d {1}\r\n",
		 "A1 BAD [LIMIT] Too many arguments\n");
	EXPECT_D(&d, "A1 X a b c d {1+}\r\nz\r\n",
		 "[drop 1]A1 BAD [LIMIT] Too many arguments\n");
	EXPECT_D(&d, "A1 X a b c {1}\r\nz\r\n", "+A1 X a b c {1}z\n");
	d.lim.max_tokens = 0;
	EXPECT_D(&d, "A1 NOOP\r\nA2 X a\r\n",
		 "A1 NOOP\nA2 BAD [LIMIT] Too many arguments\n");
	imap_buf_free(&d.out);
}

/* ---- Sections ----------------------------------------------------------- */

static void
test_sections(void **state)
{
	expect("A1 F 1 BODY[]\r\n", "A1 F 1 S=BODY[]\n");
	expect("A1 F 1 body.peek[text]<0.10>\r\n",
	       "A1 F 1 S=body.peek[text]<0.10>\n");
	expect("A1 F 1 BODY[1.2.HEADER.FIELDS.NOT (A B)]<5.1>\r\n",
	       "A1 F 1 S:BODY[1.2.HEADER.FIELDS.NOT (A B)]<5.1>\n");
	expect("A1 F 1 BODY[HEADER.FIELDS (\"A b\" {3}\r\nc]d X])]\r\n",
	       "+A1 F 1 S:BODY[HEADER.FIELDS (\"A b\" {3}c]d X])]\n");
	expect("A1 F 1 BINARY.SIZE[1]\r\n", "A1 F 1 S=BINARY.SIZE[1]\n");
	/* Not sections: plain words (astrings, for mailbox names). */
	expect("A1 F BODY[ BODYX[1] BODY[1]x BODY[1]<1> BODY[1]<1.0> "
	       "BODY[a[b] BODY[a%] [Gmail]/x\r\n",
	       "A1 F BODY[ BODYX[1] BODY[1]x BODY[1]<1> BODY[1]<1.0> "
	       "BODY[a[b] BODY[a%] [Gmail]/x\n");
	/* Malformed ones with a list. */
	expect("A1 F 1 BODY[HEADER.FIELDS (A)]<1.0>\r\n",
	       "A1 BAD Invalid partial\n");
	expect("A1 F 1 BODY[HEADER.FIELDS (A)]<1.2\r\n",
	       "A1 BAD Invalid partial\n");
	expect("A1 F 1 BODY[HEADER.FIELDS (A)]x\r\n",
	       "A1 BAD Missing space between arguments\n");
	expect("A1 F 1 BODY[HEADER.FIELDS (A) (B)]\r\n",
	       "A1 BAD Invalid section\n");
	expect("A1 F 1 BODY[HEADER.FIELDS (A)\r\n", "A1 BAD Missing ']'\n");
	expect("A1 F 1 (BODY[HEADER.FIELDS (A)) x\r\n",
	       "A1 BAD Invalid section\n");
	expect("A1 F 1 BODY[HEADER.FIELDS (A)]]\r\n",
	       "A1 BAD Missing space between arguments\n");
	expect("A1 F 1 BODY[HEADER.FIELDS ({1+}\r\nA)]\r\n",
	       "A1 F 1 S:BODY[HEADER.FIELDS ({1+}A)]\n");
}

static int
section(const char *cmd, struct imap_section *sec, struct imap_parser **p_r)
{
	struct imap_limits lim;
	const struct imap_arg *a;
	size_t n;

	imap_limits_default(&lim);
	*p_r = imap_parser_new(&lim, 0);
	if (imap_parser_line(*p_r, cmd, strlen(cmd), 0) != IMAP_PARSE_DONE)
		fail_msg("not parsed: %s", cmd);
	a = imap_parser_args(*p_r, &n);
	return imap_section_parse(&a[n - 1], sec);
}

static void
good_section(const char *cmd, enum imap_body_att att, size_t nparts,
	     enum imap_section_text text, size_t nfields, int part)
{
	struct imap_section sec;
	struct imap_parser *p;

	if (section(cmd, &sec, &p) != 0)
		fail_msg("refused: %s", cmd);
	assert_int_equal(sec.att, att);
	assert_int_equal(sec.nparts, nparts);
	assert_int_equal(sec.text, text);
	assert_int_equal(sec.nfields, nfields);
	assert_int_equal(sec.partial, part);
	imap_parser_free(p);
}

static void
bad_section(const char *cmd)
{
	struct imap_section sec;
	struct imap_parser *p;

	if (section(cmd, &sec, &p) == 0)
		fail_msg("accepted: %s", cmd);
	imap_parser_free(p);
}

static void
test_section_parse(void **state)
{
	struct imap_section sec;
	struct imap_parser *p;

	good_section("a F 1 BODY[]", IMAP_BODY, 0, IMAP_SECTION_ALL, 0, 0);
	good_section("a F 1 BODY.PEEK[HEADER]", IMAP_BODY_PEEK, 0,
		     IMAP_SECTION_HEADER, 0, 0);
	good_section("a F 1 body[text]<0.1>", IMAP_BODY, 0, IMAP_SECTION_TEXT,
		     0, 1);
	good_section("a F 1 BODY[1]", IMAP_BODY, 1, IMAP_SECTION_ALL, 0, 0);
	good_section("a F 1 BODY[4.2.2.1.MIME]", IMAP_BODY, 4,
		     IMAP_SECTION_MIME, 0, 0);
	good_section("a F 1 BODY[1.HEADER.FIELDS (From \"To\")]", IMAP_BODY, 1,
		     IMAP_SECTION_HEADER_FIELDS, 2, 0);
	good_section("a F 1 BODY[HEADER.FIELDS.NOT (X)]<0.5>", IMAP_BODY, 0,
		     IMAP_SECTION_HEADER_FIELDS_NOT, 1, 1);
	good_section("a F 1 BINARY[1.2]", IMAP_BINARY, 2, IMAP_SECTION_ALL, 0,
		     0);
	good_section("a F 1 BINARY.PEEK[]<1.2>", IMAP_BINARY_PEEK, 0,
		     IMAP_SECTION_ALL, 0, 1);
	good_section("a F 1 BINARY.SIZE[3]", IMAP_BINARY_SIZE, 1,
		     IMAP_SECTION_ALL, 0, 0);
	assert_int_equal(section("a F 1 BODY[1.2.TEXT]<7.8>", &sec, &p), 0);
	assert_int_equal(sec.part[0], 1);
	assert_int_equal(sec.part[1], 2);
	assert_true(sec.start == 7 && sec.length == 8);
	imap_parser_free(p);
	assert_int_equal(section("a F 1 BODY[4294967295]", &sec, &p), 0);
	assert_int_equal(sec.part[0], 4294967295u);
	imap_parser_free(p);

	bad_section("a F 1 BODY[MIME]");
	bad_section("a F 1 BODY[0]");
	bad_section("a F 1 BODY[01]");
	bad_section("a F 1 BODY[1.0]");
	bad_section("a F 1 BODY[1.]");
	bad_section("a F 1 BODY[.1]");
	bad_section("a F 1 BODY[1..2]");
	bad_section("a F 1 BODY[1x]");
	bad_section("a F 1 BODY[4294967296]");
	bad_section("a F 1 BODY[TEXT.MIME]");
	bad_section("a F 1 BODY[HEADERS]");
	bad_section("a F 1 BODY[HEADER.FIELDS]");
	bad_section("a F 1 BODY[1.TEXT.2]");
	bad_section("a F 1 BINARY[TEXT]");
	bad_section("a F 1 BINARY[1.MIME]");
	bad_section("a F 1 BINARY.SIZE[1]<0.1>");
	bad_section("a F 1 BODY[HEADER.FIELDS ()]");
	bad_section("a F 1 BODY[HEADER.FIELDS (\"\")]");
	bad_section("a F 1 BODY[HEADER.FIELDS ((A))]");
	bad_section("a F 1 BODY[HEADER.FIELDS (\\A)]");
	bad_section("a F 1 BODY[HEADER.FIELDS (A*)]");
	bad_section("a F 1 BODY");
	bad_section("a F 1 (BODY[])");
	bad_section("a F 1 BODY[1.2.3.4.5.6.7.8.9.10.11.12.13.14.15.16.17."
		    "18.19.20.21.22.23.24.25.26.27.28.29.30.31.32.33]");
}

/* ---- Streaming and failing ---------------------------------------------- */

static void
test_stream(void **state)
{
	struct drive d;
	char in[512];
	int n;

	drive_init(&d);
	d.stream = 1;
	n = snprintf(in, sizeof(in), "A003 APPEND saved-messages (\\Seen) "
		     "\"17-Jul-1996 02:44:25 -0700\" {310}\r\n%s (\\Flagged) "
		     "{3+}\r\nabc\r\nA4 X {1}\r\na\r\n", rfc_msg);
	expect_d(&d, in, (size_t)n, "+[stream 310][stream 3]A003 APPEND "
		 "saved-messages (\\Seen) \"17-Jul-1996 02:44:25 -0700\" "
		 "<stream 310> (\\Flagged) <stream 3>\n+A4 X {1}a\n");
	/* Streamed literals are not bound by max_literal or max_command. */
	d.lim.max_literal = 0;
	d.lim.max_command = 100;
	expect_d(&d, in, (size_t)n, "+[stream 310][stream 3]A003 APPEND "
		 "saved-messages (\\Seen) \"17-Jul-1996 02:44:25 -0700\" "
		 "<stream 310> (\\Flagged) <stream 3>\n"
		 "A4 BAD [TOOBIG] Literal too large\n"
		 "a BAD Missing command name\n");
	/* Refused by the caller (APPENDLIMIT): NO, nothing read. */
	d.refuse = 1;
	EXPECT_D(&d, "A1 APPEND INBOX {10}\r\nA2 NOOP\r\n",
		 "A1 NO [TOOBIG] Too big\nA2 NOOP\n");
	EXPECT_D(&d, "A1 APPEND INBOX {10+}\r\n0123456789\r\nA2 NOOP\r\n",
		 "[drop 10]A1 NO [TOOBIG] Too big\nA2 NOOP\n");
	imap_buf_free(&d.out);
}

static void
test_partial_args(void **state)
{
	struct imap_limits lim;
	struct imap_parser *p;
	const struct imap_literal *li;
	const struct imap_arg *a;
	const char *s;
	size_t n;
	int64_t t;
	int tz;

	imap_limits_default(&lim);
	p = imap_parser_new(&lim, 0);
	s = "A1 APPEND INBOX (\\Seen) \"17-Jul-1996 02:44:25 -0700\" {20}";
	assert_int_equal(imap_parser_line(p, s, strlen(s), 0),
			 IMAP_PARSE_LITERAL);
	li = imap_parser_literal_info(p);
	assert_true(li->size == 20 && li->sync && !li->binary && !li->stream);
	assert_int_equal(li->argno, 3);
	assert_int_equal(li->depth, 0);
	assert_string_equal(imap_parser_command(p), "APPEND");
	a = imap_parser_args(p, &n);
	assert_int_equal(n, 3);
	assert_string_equal(a[0].str, "INBOX");
	assert_int_equal(a[1].count, 1);
	assert_string_equal(a[1].list[0].str, "\\Seen");
	assert_int_equal(imap_datetime_parse(a[2].str, a[2].len, &t, &tz), 0);
	assert_true(t == 837596665);
	assert_int_equal(tz, -420);
	assert_int_equal(imap_parser_literal_begin(p, 1), IMAP_PARSE_LITERAL);
	assert_true(imap_parser_literal_info(p)->stream);
	/* The storage fails after the message was read: the rest of the
	 * command goes, and then the caller's NO. */
	assert_int_equal(imap_parser_fail(p, 1, NULL, "Storage failure"),
			 IMAP_PARSE_LINE);
	assert_int_equal(imap_parser_line(p, " {3+}", 5, 0),
			 IMAP_PARSE_LITERAL);
	li = imap_parser_literal_info(p);
	assert_true(li->discard && !li->sync && li->size == 3);
	assert_int_equal(imap_parser_literal_begin(p, 1), IMAP_PARSE_LITERAL);
	assert_int_equal(imap_parser_literal(p, "ab", 2), IMAP_PARSE_MORE);
	assert_int_equal(imap_parser_literal(p, "c", 1), IMAP_PARSE_LINE);
	assert_int_equal(imap_parser_line(p, "", 0, 0), IMAP_PARSE_ERROR);
	assert_true(imap_parser_error(p)->no);
	assert_null(imap_parser_error(p)->code);
	assert_string_equal(imap_parser_error(p)->text, "Storage failure");
	assert_false(imap_parser_error(p)->close);

	/* Nested: argno and depth in the list. */
	s = "A2 X a (b {2}";
	assert_int_equal(imap_parser_line(p, s, strlen(s), 0),
			 IMAP_PARSE_LITERAL);
	assert_null(imap_parser_error(p));
	li = imap_parser_literal_info(p);
	assert_int_equal(li->argno, 1);
	assert_int_equal(li->depth, 1);
	a = imap_parser_args(p, &n);
	assert_int_equal(n, 2);
	assert_int_equal(a[1].count, 1);
	assert_int_equal(imap_parser_literal_begin(p, 0), IMAP_PARSE_LITERAL);
	/* Failing a buffered literal in progress: keep feeding it. */
	assert_int_equal(imap_parser_literal(p, "x", 1), IMAP_PARSE_MORE);
	assert_int_equal(imap_parser_fail(p, 0, "CLIENTBUG", "No"),
			 IMAP_PARSE_MORE);
	assert_int_equal(imap_parser_literal(p, "y", 1), IMAP_PARSE_LINE);
	assert_int_equal(imap_parser_line(p, ")", 1, 0), IMAP_PARSE_ERROR);
	assert_string_equal(imap_parser_error(p)->code, "CLIENTBUG");

	/* Failing a complete command. */
	assert_int_equal(imap_parser_line(p, "A3 NOOP", 7, 0),
			 IMAP_PARSE_DONE);
	assert_int_equal(imap_parser_fail(p, 1, NULL, "x"), IMAP_PARSE_ERROR);
	/* A zero-length literal needs no octets. */
	assert_int_equal(imap_parser_line(p, "A4 X {0}", 8, 0),
			 IMAP_PARSE_LITERAL);
	assert_int_equal(imap_parser_literal_begin(p, 0), IMAP_PARSE_LITERAL);
	assert_int_equal(imap_parser_literal(p, NULL, 0), IMAP_PARSE_LINE);
	assert_int_equal(imap_parser_line(p, "", 0, 0), IMAP_PARSE_DONE);
	a = imap_parser_args(p, &n);
	assert_int_equal(a[0].type, IMAP_ARG_LITERAL);
	assert_int_equal(a[0].len, 0);
	assert_string_equal(a[0].str, "");
	/* Flags change between commands. */
	imap_parser_set_flags(p, IMAP_PARSE_UTF8);
	s = "A5 X \"\xc3\xa9\"";
	assert_int_equal(imap_parser_line(p, s, strlen(s), 0),
			 IMAP_PARSE_DONE);
	a = imap_parser_args(p, &n);
	assert_int_equal(a[0].flags, IMAP_ARGF_8BIT);
	imap_parser_free(p);
}

/* Memory kept between commands shrinks after a big one; what follows
 * parses as usual. */
static void
test_reuse(void **state)
{
	struct imap_limits lim;
	struct imap_parser *p;
	const struct imap_arg *a;
	struct imap_buf b;
	char *big;
	size_t n;

	imap_limits_default(&lim);
	lim.max_literal = 200000;
	lim.max_command = 400000;
	p = imap_parser_new(&lim, 0);
	big = malloc(200000);
	assert_non_null(big);
	memset(big, 'x', 200000);
	assert_int_equal(imap_parser_line(p, "A1 X {200000}", 13, 0),
			 IMAP_PARSE_LITERAL);
	assert_int_equal(imap_parser_literal_begin(p, 0), IMAP_PARSE_LITERAL);
	assert_int_equal(imap_parser_literal(p, big, 200000), IMAP_PARSE_LINE);
	assert_int_equal(imap_parser_line(p, "", 0, 0), IMAP_PARSE_DONE);
	a = imap_parser_args(p, &n);
	assert_int_equal(a[0].len, 200000);
	/* Many tokens. */
	imap_buf_init(&b, 100000);
	imap_buf_adds(&b, "A2 X");
	for (int i = 0; i < 2000; i++)
		imap_buf_adds(&b, " (a)");
	assert_int_equal(imap_parser_line(p, imap_buf_str(&b), b.len, 0),
			 IMAP_PARSE_DONE);
	a = imap_parser_args(p, &n);
	assert_int_equal(n, 2000);
	assert_string_equal(a[1999].list[0].str, "a");
	assert_int_equal(imap_parser_line(p, "A3 X (b c) d", 12, 0),
			 IMAP_PARSE_DONE);
	a = imap_parser_args(p, &n);
	assert_int_equal(n, 2);
	assert_string_equal(a[0].list[1].str, "c");
	assert_string_equal(a[1].str, "d");
	/* Failing between a literal and the next line. */
	assert_int_equal(imap_parser_line(p, "A4 X {1}", 8, 0),
			 IMAP_PARSE_LITERAL);
	assert_int_equal(imap_parser_literal_begin(p, 0), IMAP_PARSE_LITERAL);
	assert_int_equal(imap_parser_literal(p, "z", 1), IMAP_PARSE_LINE);
	assert_int_equal(imap_parser_fail(p, 1, NULL, "Nope"),
			 IMAP_PARSE_LINE);
	assert_int_equal(imap_parser_line(p, " y", 2, IMAP_LINE_TRUNCATED),
			 IMAP_PARSE_ERROR);
	assert_true(imap_parser_error(p)->close && imap_parser_error(p)->no);
	assert_string_equal(imap_parser_error(p)->text, "Nope");
	imap_buf_free(&b);
	free(big);
	imap_parser_free(p);
}

/* ---- Sequence sets ------------------------------------------------------ */

static const char *
seq(const char *text, uint32_t star)
{
	static char out[256];
	struct imap_seqset s;
	struct imap_buf b;
	int r;

	imap_seqset_init(&s);
	imap_buf_init(&b, 200);
	r = imap_seqset_parse(&s, text, strlen(text), star, 10);
	if (r == IMAP_SEQSET_SAVED)
		snprintf(out, sizeof(out), "$");
	else if (r < 0)
		snprintf(out, sizeof(out), "error %d", r);
	else if (imap_seqset_format(&s, &b) < 0)
		snprintf(out, sizeof(out), "overflow");
	else
		snprintf(out, sizeof(out), "%s", imap_buf_str(&b));
	imap_buf_free(&b);
	imap_seqset_free(&s);
	return out;
}

static void
test_seqset(void **state)
{
	struct imap_seqset s;
	struct imap_buf b;
	uint32_t list[] = {5, 6, 7, 3, 9, 10, 4294967295u, 1};

	assert_string_equal(seq("1", 10), "1");
	assert_string_equal(seq("1:*", 10), "1:10");
	assert_string_equal(seq("*:4", 10), "4:10");
	assert_string_equal(seq("5:2", 10), "2:5");
	assert_string_equal(seq("1,3:*", 10), "1,3:10");
	assert_string_equal(seq("2,4:7,9,12:*", 15), "2,4:7,9,12:15");
	assert_string_equal(seq("1:3,4,6,5", 10), "1:6");
	assert_string_equal(seq("7,1,3,2", 10), "1:3,7");
	assert_string_equal(seq("1:5,2:3", 10), "1:5");
	assert_string_equal(seq("*", 10), "10");
	assert_string_equal(seq("559:*", 500), "500:559");
	assert_string_equal(seq("*", 0), "");
	assert_string_equal(seq("1:*", 0), "1");
	assert_string_equal(seq("4294967295", 1), "4294967295");
	assert_string_equal(seq("1:4294967295,5", 1), "1:4294967295");
	assert_string_equal(seq("$", 10), "$");
	assert_string_equal(seq("", 10), "error -1");
	assert_string_equal(seq("0", 10), "error -1");
	assert_string_equal(seq("0:5", 10), "error -1");
	assert_string_equal(seq("01", 10), "error -1");
	assert_string_equal(seq("4294967296", 10), "error -1");
	assert_string_equal(seq("1,", 10), "error -1");
	assert_string_equal(seq(",1", 10), "error -1");
	assert_string_equal(seq("1,,2", 10), "error -1");
	assert_string_equal(seq("1:", 10), "error -1");
	assert_string_equal(seq(":1", 10), "error -1");
	assert_string_equal(seq("1:2:3", 10), "error -1");
	assert_string_equal(seq("1 ", 10), "error -1");
	assert_string_equal(seq("**", 10), "error -1");
	assert_string_equal(seq("$,1", 10), "error -1");
	assert_string_equal(seq("1,$", 10), "error -1");
	assert_string_equal(seq("$:1", 10), "error -1");
	assert_string_equal(seq("-1", 10), "error -1");
	assert_string_equal(seq("+1", 10), "error -1");
	assert_string_equal(seq("1,2,3,4,5,6,7,8,9,10", 10), "1:10");
	assert_string_equal(seq("1,2,3,4,5,6,7,8,9,10,11", 20), "error -2");

	imap_seqset_init(&s);
	assert_int_equal(imap_seqset_parse(&s, "3:5,10,20:*", 11, 25, 10), 0);
	assert_true(imap_seqset_count(&s) == 10);
	assert_int_equal(imap_seqset_last(&s), 25);
	assert_true(imap_seqset_contains(&s, 3));
	assert_true(imap_seqset_contains(&s, 5));
	assert_true(imap_seqset_contains(&s, 10));
	assert_true(imap_seqset_contains(&s, 25));
	assert_false(imap_seqset_contains(&s, 2));
	assert_false(imap_seqset_contains(&s, 6));
	assert_false(imap_seqset_contains(&s, 19));
	assert_false(imap_seqset_contains(&s, 26));
	/* A failed parse leaves the set empty. */
	assert_int_equal(imap_seqset_parse(&s, "1,x", 3, 25, 10), -1);
	assert_int_equal(s.n, 0);
	assert_int_equal(imap_seqset_last(&s), 0);
	/* Built from results. */
	imap_seqset_add(&s, 9, 7);
	imap_seqset_add(&s, 0, 0);
	imap_seqset_add(&s, 0, 2);
	imap_seqset_add(&s, 3, 3);
	imap_seqset_add(&s, UINT32_MAX, UINT32_MAX - 1);
	imap_seqset_normalize(&s);
	imap_buf_init(&b, 100);
	assert_int_equal(imap_seqset_format(&s, &b), 0);
	assert_string_equal(imap_buf_str(&b), "1:3,7:9,4294967294:4294967295");
	imap_buf_reset(&b);
	/* COPYUID keeps the order given. */
	assert_int_equal(imap_seqset_format_list(list, 8, &b), 0);
	assert_string_equal(imap_buf_str(&b), "5:7,3,9:10,4294967295,1");
	imap_buf_free(&b);
	imap_buf_init(&b, 4);
	assert_int_equal(imap_seqset_format(&s, &b), -1);
	imap_buf_free(&b);
	imap_seqset_free(&s);
}

/* ---- Modified UTF-7 ----------------------------------------------------- */

static void
mutf7_pair(const char *utf8, const char *mutf7)
{
	struct imap_buf b;

	imap_buf_init(&b, 1000);
	assert_int_equal(imap_mutf7_encode(utf8, strlen(utf8), &b), 0);
	assert_string_equal(imap_buf_str(&b), mutf7);
	imap_buf_reset(&b);
	assert_int_equal(imap_mutf7_decode(mutf7, strlen(mutf7), &b), 0);
	assert_string_equal(imap_buf_str(&b), utf8);
	assert_true(imap_mutf7_valid(mutf7, strlen(mutf7)));
	imap_buf_free(&b);
}

static void
mutf7_bad(const char *mutf7)
{
	struct imap_buf b;

	imap_buf_init(&b, 1000);
	imap_buf_adds(&b, "keep");
	if (imap_mutf7_decode(mutf7, strlen(mutf7), &b) != IMAP_MUTF7_EINVAL)
		fail_msg("accepted: %s", mutf7);
	assert_string_equal(imap_buf_str(&b), "keep");
	assert_false(imap_mutf7_valid(mutf7, strlen(mutf7)));
	imap_buf_free(&b);
}

static void
test_mutf7(void **state)
{
	struct imap_buf b;

	/* RFC 3501 5.1.3 */
	mutf7_pair("~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/\xe6\x97\xa5\xe6\x9c"
		   "\xac\xe8\xaa\x9e", "~peter/mail/&U,BTFw-/&ZeVnLIqe-");
	mutf7_pair("", "");
	mutf7_pair("INBOX", "INBOX");
	mutf7_pair("&", "&-");
	mutf7_pair("a&b&&", "a&-b&-&-");
	mutf7_pair("-", "-");
	mutf7_pair(" ~", " ~");
	mutf7_pair("\xc3\xa9", "&AOk-");
	mutf7_pair("\xc3\xa9-", "&AOk--");
	mutf7_pair("\xc3\xa9&", "&AOk-&-");
	mutf7_pair("\xc3\xa9\xc3\xa9", "&AOkA6Q-");
	mutf7_pair("\xc3\xa9\xc3\xa9\xc3\xa9", "&AOkA6QDp-");
	mutf7_pair("\x01", "&AAE-");
	mutf7_pair("\x7f", "&AH8-");
	mutf7_pair("\t\n", "&AAkACg-");
	mutf7_pair("\xf0\x9f\x98\x80", "&2D3eAA-");
	mutf7_pair("a\xf4\x8f\xbf\xbf" "b", "a&2,,f,w-b");
	mutf7_pair("\xef\xbf\xbf", "&,,8-");

	mutf7_bad("&");
	mutf7_bad("a&");
	mutf7_bad("&AOk");
	mutf7_bad("&AGE-");        /* "a", printable */
	mutf7_bad("&ACY-");        /* "&" encoded */
	mutf7_bad("&ACA-");        /* " " encoded */
	mutf7_bad("&AH4-");        /* "~" encoded */
	mutf7_bad("&AAA-");        /* NUL */
	mutf7_bad("&AOk-&AOk-");   /* two runs where one would do */
	mutf7_bad("&AOl-");        /* padding bits not zero */
	mutf7_bad("&AOkA-");       /* an octet too many */
	mutf7_bad("&AOkA6QA-");    /* a base64 character too many */
	mutf7_bad("&A-");
	mutf7_bad("&AO-");
	mutf7_bad("&AOk/-");       /* "/" is "," here */
	mutf7_bad("&AOk=-");
	mutf7_bad("&AO k-");
	mutf7_bad("&2D0-");        /* lone high surrogate */
	mutf7_bad("&3gA-");        /* lone low surrogate */
	mutf7_bad("&3gDYPQ-");     /* reversed pair */
	mutf7_bad("&2D3YPQ-");     /* two high surrogates */
	mutf7_bad("\xc3\xa9");     /* raw 8-bit */
	mutf7_bad("a\tb");         /* raw control */
	mutf7_bad("a\x7f");
	assert_false(imap_mutf7_valid("a\0b", 3));

	imap_buf_init(&b, 100);
	imap_buf_adds(&b, "keep");
	assert_int_equal(imap_mutf7_encode("\xc0\xaf", 2, &b), -1);
	assert_int_equal(imap_mutf7_encode("\xed\xa0\x80", 3, &b), -1);
	assert_int_equal(imap_mutf7_encode("\xf4\x90\x80\x80", 4, &b), -1);
	assert_int_equal(imap_mutf7_encode("\xe0\x80\x80", 3, &b), -1);
	assert_int_equal(imap_mutf7_encode("\xc3", 1, &b), -1);
	assert_int_equal(imap_mutf7_encode("a\xff", 2, &b), -1);
	assert_int_equal(imap_mutf7_encode("a\0", 2, &b), -1);
	assert_string_equal(imap_buf_str(&b), "keep");
	imap_buf_free(&b);
	imap_buf_init(&b, 5);
	assert_int_equal(imap_mutf7_encode("\xc3\xa9\xc3\xa9", 4, &b),
			 IMAP_MUTF7_EBUF);
	assert_true(b.error);
	imap_buf_free(&b);

	/* utf8.h */
	assert_true(imap_utf8_valid("a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80",
				    10));
	assert_false(imap_utf8_valid("\xc1\xbf", 2));
	assert_false(imap_utf8_valid("\xf8\x88\x80\x80\x80", 5));
	assert_false(imap_utf8_valid("\x80", 1));
	assert_false(imap_utf8_valid("\xed\xbf\xbf", 3));
	assert_false(imap_utf8_valid("\xf0\x8f\xbf\xbf", 4));
	assert_true(imap_utf8_valid("\xf4\x8f\xbf\xbf", 4));
}

/* ---- Dates -------------------------------------------------------------- */

static void
test_dates(void **state)
{
	struct imap_date d;
	char out[IMAP_DATETIME_LEN + 1];
	int64_t t;
	int tz;

	assert_int_equal(imap_date_parse("1-Feb-1994", 10, &d), 0);
	assert_true(d.year == 1994 && d.mon == 2 && d.mday == 1);
	assert_true(imap_date_time(&d) == 760060800);
	assert_int_equal(imap_date_parse("01-feb-1994", 11, &d), 0);
	assert_int_equal(imap_date_parse("29-FEB-2000", 11, &d), 0);
	assert_int_equal(imap_date_parse("31-Dec-9999", 11, &d), 0);
	assert_int_equal(imap_date_parse("1-Jan-0000", 10, &d), 0);
	assert_true(imap_date_time(&d) == -62167219200);
	assert_int_equal(imap_date_parse("1-Jan-1970", 10, &d), 0);
	assert_true(imap_date_time(&d) == 0);
	assert_int_equal(imap_date_parse("29-Feb-1900", 11, &d), -1);
	assert_int_equal(imap_date_parse("30-Feb-2000", 11, &d), -1);
	assert_int_equal(imap_date_parse("31-Apr-2000", 11, &d), -1);
	assert_int_equal(imap_date_parse("0-Feb-1994", 10, &d), -1);
	assert_int_equal(imap_date_parse("001-Feb-1994", 12, &d), -1);
	assert_int_equal(imap_date_parse(" 1-Feb-1994", 11, &d), -1);
	assert_int_equal(imap_date_parse("1-Fev-1994", 10, &d), -1);
	assert_int_equal(imap_date_parse("1-Feb-94", 8, &d), -1);
	assert_int_equal(imap_date_parse("1 Feb 1994", 10, &d), -1);
	assert_int_equal(imap_date_parse("1-Feb-199x", 10, &d), -1);
	assert_int_equal(imap_date_parse("", 0, &d), -1);

	assert_int_equal(imap_datetime_parse("17-Jul-1996 02:44:25 -0700", 26,
					     &t, &tz), 0);
	assert_true(t == 837596665 && tz == -420);
	assert_int_equal(imap_datetime_parse(" 1-Jul-1996 02:44:25 +0000", 26,
					     &t, &tz), 0);
	assert_true(t == 836189065 && tz == 0);
	assert_int_equal(imap_datetime_parse("01-jul-1996 02:44:25 -0000", 26,
					     &t, &tz), 0);
	assert_true(t == 836189065 && tz == 0);
	assert_int_equal(imap_datetime_parse("31-Dec-1999 23:59:60 +2359", 26,
					     &t, &tz), 0);
	assert_int_equal(tz, 1439);
	assert_int_equal(imap_datetime_parse("1-Jul-1996 02:44:25 +0000", 25,
					     &t, &tz), -1);
	assert_int_equal(imap_datetime_parse("01-Jul-1996 24:00:00 +0000", 26,
					     &t, &tz), -1);
	assert_int_equal(imap_datetime_parse("01-Jul-1996 23:60:00 +0000", 26,
					     &t, &tz), -1);
	assert_int_equal(imap_datetime_parse("01-Jul-1996 23:00:61 +0000", 26,
					     &t, &tz), -1);
	assert_int_equal(imap_datetime_parse("01-Jul-1996 23:00:00 +2400", 26,
					     &t, &tz), -1);
	assert_int_equal(imap_datetime_parse("01-Jul-1996 23:00:00 +0060", 26,
					     &t, &tz), -1);
	assert_int_equal(imap_datetime_parse("01-Jul-1996 23:00:00 0000 ", 26,
					     &t, &tz), -1);
	assert_int_equal(imap_datetime_parse("01-Jul-1996  3:00:00 +0000", 26,
					     &t, &tz), -1);
	assert_int_equal(imap_datetime_parse("01-Jul-1996T23:00:00 +0000", 26,
					     &t, &tz), -1);
	assert_int_equal(imap_datetime_parse("00-Jul-1996 23:00:00 +0000", 26,
					     &t, &tz), -1);
	assert_int_equal(imap_datetime_parse(" 0-Jul-1996 23:00:00 +0000", 26,
					     &t, &tz), -1);
	assert_int_equal(imap_datetime_parse("1 -Jul-1996 23:00:00 +0000", 26,
					     &t, &tz), -1);
	assert_int_equal(imap_datetime_parse("\"17-Jul-1996 02:44:25 -0700\"",
					     28, &t, &tz), -1);

	assert_int_equal(imap_datetime_format(837596665, -420, out),
			 IMAP_DATETIME_LEN);
	assert_string_equal(out, "\"17-Jul-1996 02:44:25 -0700\"");
	imap_datetime_format(836189065, 0, out);
	assert_string_equal(out, "\"01-Jul-1996 02:44:25 +0000\"");
	imap_datetime_format(0, 330, out);
	assert_string_equal(out, "\"01-Jan-1970 05:30:00 +0530\"");
	imap_datetime_format(-1, 0, out);
	assert_string_equal(out, "\"31-Dec-1969 23:59:59 +0000\"");
	imap_datetime_format(951782400, 0, out);
	assert_string_equal(out, "\"29-Feb-2000 00:00:00 +0000\"");
	imap_datetime_format(0, 5000, out);
	assert_string_equal(out, "\"01-Jan-1970 00:00:00 +0000\"");
	imap_datetime_format(INT64_MAX, 0, out);
	assert_string_equal(out, "\"31-Dec-9999 23:59:59 +0000\"");
	imap_datetime_format(INT64_MIN, -1439, out);
	assert_string_equal(out, "\"01-Jan-0000 00:00:00 -2359\"");
	/* Round trip through the format. */
	assert_int_equal(imap_datetime_parse(out + 1, 26, &t, &tz), 0);
	assert_int_equal(tz, -1439);
}

/* ---- Quoting ------------------------------------------------------------ */

static const char *
q(int (*fn)(struct imap_buf *, const char *, size_t, unsigned),
  const char *s, size_t len, unsigned flags)
{
	static char out[2048];
	struct imap_buf b;
	int r;

	imap_buf_init(&b, sizeof(out) - 1);
	r = fn(&b, s, len, flags);
	if (r < 0)
		snprintf(out, sizeof(out), "error %d", r);
	else
		memcpy(out, imap_buf_str(&b), b.len + 1);
	imap_buf_free(&b);
	return out;
}

static void
test_quote(void **state)
{
	char big[2100];

	assert_string_equal(q(imap_quote_astring, "INBOX", 5, 0), "INBOX");
	assert_string_equal(q(imap_quote_astring, "[Gmail]/x", 9, 0),
			    "[Gmail]/x");
	assert_string_equal(q(imap_quote_astring, "", 0, 0), "\"\"");
	assert_string_equal(q(imap_quote_astring, "NIL", 3, 0), "\"NIL\"");
	assert_string_equal(q(imap_quote_astring, "nil", 3, 0), "\"nil\"");
	assert_string_equal(q(imap_quote_astring, "NILS", 4, 0), "NILS");
	assert_string_equal(q(imap_quote_astring, "a b", 3, 0), "\"a b\"");
	assert_string_equal(q(imap_quote_astring, "a*", 2, 0), "\"a*\"");
	assert_string_equal(q(imap_quote_astring, "a%", 2, 0), "\"a%\"");
	assert_string_equal(q(imap_quote_astring, "(a)", 3, 0), "\"(a)\"");
	assert_string_equal(q(imap_quote_astring, "{1}", 3, 0), "\"{1}\"");
	assert_string_equal(q(imap_quote_astring, "a\"b\\c", 5, 0),
			    "\"a\\\"b\\\\c\"");
	assert_string_equal(q(imap_quote_astring, "\\Seen", 5, 0),
			    "\"\\\\Seen\"");
	assert_string_equal(q(imap_quote_astring, "a\tb", 3, 0), "\"a\tb\"");
	assert_string_equal(q(imap_quote_string, "INBOX", 5, 0),
			    "\"INBOX\"");
	assert_string_equal(q(imap_quote_string, "a\r\nb", 4, 0),
			    "{4}\r\na\r\nb");
	assert_string_equal(q(imap_quote_string, "a\nb", 3, 0),
			    "{3}\r\na\nb");
	assert_string_equal(q(imap_quote_string, "caf\xc3\xa9", 5, 0),
			    "{5}\r\ncaf\xc3\xa9");
	assert_string_equal(q(imap_quote_string, "caf\xc3\xa9", 5,
			      IMAP_QUOTE_UTF8), "\"caf\xc3\xa9\"");
	assert_string_equal(q(imap_quote_string, "caf\xe9", 4,
			      IMAP_QUOTE_UTF8), "{4}\r\ncaf\xe9");
	assert_string_equal(q(imap_quote_astring, "caf\xc3\xa9", 5,
			      IMAP_QUOTE_UTF8), "\"caf\xc3\xa9\"");
	assert_string_equal(q(imap_quote_string, "a\0b", 3, 0), "error -1");
	assert_string_equal(q(imap_quote_string, "a\0b", 3, IMAP_QUOTE_BINARY),
			    "~{3}\r\na");
	assert_string_equal(q(imap_quote_nstring, NULL, 0, 0), "NIL");
	assert_string_equal(q(imap_quote_nstring, "", 0, 0), "\"\"");
	assert_string_equal(q(imap_quote_nstring, "NIL", 3, 0), "\"NIL\"");
	memset(big, 'a', sizeof(big));
	assert_string_equal(q(imap_quote_string, big, 1024, 0) + 1024, "a\"");
	assert_memory_equal(q(imap_quote_string, big, 1025, 0), "{1025}\r\n",
			    8);
	assert_memory_equal(q(imap_quote_astring, big, 1025, 0), "aaaa", 4);
	assert_string_equal(q(imap_quote_string, big, 2040, 0), "error -2");
}

/* What the quoting writes, the parser reads back as the same string. */
static void
test_quote_parse(void **state)
{
	static const char *const texts[] = {
		"", "a", "NIL", "a b", "\"", "\\", "a\r\nb", "(x)", "{3}",
		"caf\xc3\xa9", "\xff\xfe", "]", "[", "*", "%", "tab\t",
		"\x01\x7f", "~{1}",
	};
	struct imap_limits lim;
	struct imap_parser *p;
	struct imap_buf b;

	imap_limits_default(&lim);
	imap_buf_init(&b, 1000);
	for (unsigned flags = 0; flags < 2; flags++) {
		p = imap_parser_new(&lim, flags ? IMAP_PARSE_UTF8 : 0);
		for (size_t k = 0; k < sizeof(texts) / sizeof(texts[0]); k++) {
			const char *s = texts[k], *got, *line, *lit;
			size_t len = strlen(s), n, glen;
			const struct imap_arg *a;
			int r;

			imap_buf_reset(&b);
			imap_buf_adds(&b, "t X ");
			assert_int_equal(imap_quote_astring(&b, s, len,
				flags ? IMAP_QUOTE_UTF8 : 0), 0);
			line = imap_buf_str(&b);
			lit = strstr(line, "}\r\n");
			r = imap_parser_line(p, line, lit ? (size_t)(lit - line)
					     + 1 : b.len, 0);
			if (lit) {
				assert_int_equal(r, IMAP_PARSE_LITERAL);
				r = imap_parser_literal_begin(p, 0);
				assert_int_equal(r, IMAP_PARSE_LITERAL);
				assert_int_equal(imap_parser_literal(p, lit + 3,
					len), IMAP_PARSE_LINE);
				r = imap_parser_line(p, "", 0, 0);
			}
			if (r != IMAP_PARSE_DONE)
				fail_msg("%s: %s", line,
					 imap_parser_error(p)->text);
			a = imap_parser_args(p, &n);
			assert_int_equal(n, 1);
			assert_int_equal(imap_arg_get_astring(a, &got, &glen),
					 0);
			assert_int_equal(glen, len);
			assert_memory_equal(got, s, len);
		}
		imap_parser_free(p);
	}
	imap_buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc_examples),
		cmocka_unit_test(test_tags),
		cmocka_unit_test(test_spaces),
		cmocka_unit_test(test_atoms),
		cmocka_unit_test(test_quoted),
		cmocka_unit_test(test_literals),
		cmocka_unit_test(test_literal_plus),
		cmocka_unit_test(test_skip),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_nesting),
		cmocka_unit_test(test_sections),
		cmocka_unit_test(test_section_parse),
		cmocka_unit_test(test_stream),
		cmocka_unit_test(test_partial_args),
		cmocka_unit_test(test_reuse),
		cmocka_unit_test(test_seqset),
		cmocka_unit_test(test_mutf7),
		cmocka_unit_test(test_dates),
		cmocka_unit_test(test_quote),
		cmocka_unit_test(test_quote_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
