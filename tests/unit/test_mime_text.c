/* Unit tests for libpsmime's field-level parsers: header fields and
 * unfolding, address lists for ENVELOPE (groups, routes, quoted names,
 * comments, garbage), RFC 2047 encoded words (B and Q; UTF-8,
 * ISO-8859-1, KOI8-R, windows-1251; adjacent words; RFC 2047 section 8's
 * examples), charset conversion fed in pieces, case folding, the base64
 * and quoted-printable decoders cut at every offset, and dates. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mime.h"

/* ---- Header fields --------------------------------------------------- */

static void
test_header_iter(void **state)
{
	static const char h[] = "Received: from a\r\n\tby b\r\n"
				"Bad line\r\n"
				"Subject:x\n"
				"X-Empty:\r\n"
				"Name \t: spaced\r\n"
				" \r\n"
				"\r\n"
				"Body: not a field\r\n";
	struct mime_header_iter it;
	struct mime_field f;
	char out[64];
	size_t n;

	mime_header_init(&it, h, sizeof(h) - 1, 0);
	assert_int_equal(mime_header_next(&it, &f), 1);
	assert_int_equal(f.name_len, 8);
	assert_memory_equal(f.name, "Received", 8);
	assert_int_equal(f.value_len, strlen(" from a\r\n\tby b"));
	n = mime_unfold(f.value, f.value_len, out);
	assert_int_equal(n, 11);
	assert_memory_equal(out, "from a\tby b", n);
	assert_int_equal(mime_header_next(&it, &f), 1);
	assert_memory_equal(f.name, "Subject", f.name_len);
	assert_int_equal(f.value_len, 1);
	assert_int_equal(mime_header_next(&it, &f), 1);
	assert_int_equal(f.value_len, 0);
	assert_int_equal(mime_header_next(&it, &f), 1);
	assert_int_equal(f.name_len, 4);
	/* A white-space line continues the field (obs-FWS); white space
	 * at the end stays, as Dovecot keeps it. */
	assert_int_equal(mime_unfold(f.value, f.value_len, out), 7);
	assert_memory_equal(out, "spaced ", 7);
	assert_int_equal(mime_header_next(&it, &f), 0);
	assert_int_equal(mime_header_next(&it, &f), 0);

	mime_header_init(&it, h, sizeof(h) - 1, 2);
	assert_int_equal(mime_header_next(&it, &f), 1);
	assert_int_equal(mime_header_next(&it, &f), 1);
	assert_int_equal(mime_header_next(&it, &f), 0);
}

static void
unfold_is(const char *in, const char *want)
{
	char out[64];
	size_t n = mime_unfold(in, strlen(in), out);

	if (n != strlen(want) || memcmp(out, want, n) != 0)
		fail_msg("\"%s\" unfolds to \"%.*s\", not \"%s\"", in,
			 (int)n, out, want);
}

static void
test_unfold(void **state)
{
	(void)state;
	/* RFC 5322 2.2.3, as Dovecot keeps values: white space after the
	 * colon goes, the rest stays. */
	unfold_is("  a\r\n b  ", "a b  ");
	unfold_is("\r\n <x@y>\r\n  ", " <x@y>  ");
	unfold_is("a\n\tb", "a\tb");
	/* Only white space on the first line: one octet of it goes. */
	unfold_is("   ", "  ");
	unfold_is(" \t\r\n\tx", "\t\tx");
	unfold_is("", "");
	/* A CR that ends no line: a space, none before white space. */
	unfold_is("a\rb", "a b");
	unfold_is("a\r b", "a b");
	unfold_is("a\r\r\n b", "a b");
	unfold_is("a\r", "a");
}

/* ---- Addresses ------------------------------------------------------- */

struct want {
	const char *name, *route, *mailbox, *host;
};

static void
str_eq(const char *got, const char *want, const char *in, unsigned i)
{
	if (want == NULL ? got != NULL :
			   got == NULL || strcmp(got, want) != 0)
		fail_msg("%s: entry %u: got %s%s%s, want %s", in, i,
			 got ? "\"" : "", got ? got : "NIL", got ? "\"" : "",
			 want ? want : "NIL");
}

static void
addr(const char *in, unsigned max, const struct want *w, unsigned n)
{
	struct mime_address *l;
	unsigned count;

	assert_int_equal(mime_address_parse(in, strlen(in), max, &l, &count),
			 MIME_OK);
	if (count != n)
		fail_msg("%s: %u entries, want %u", in, count, n);
	for (unsigned i = 0; i < n; i++) {
		str_eq(l[i].name, w[i].name, in, i);
		str_eq(l[i].route, w[i].route, in, i);
		str_eq(l[i].mailbox, w[i].mailbox, in, i);
		str_eq(l[i].host, w[i].host, in, i);
	}
	free(l);
}

#define ADDR(in, ...)                                                     \
	do {                                                              \
		const struct want w_[] = {__VA_ARGS__};                   \
		addr(in, 0, w_, sizeof(w_) / sizeof(w_[0]));              \
	} while (0)

static void
test_address(void **state)
{
	struct mime_address *l;
	unsigned n;

	ADDR("a@b", {NULL, NULL, "a", "b"});
	ADDR("Fred Foobar <foobar@Blurdybloop.example>",
	     {"Fred Foobar", NULL, "foobar", "Blurdybloop.example"});
	ADDR("\"Joe Q. Public\" <john.q.public@example.com>",
	     {"Joe Q. Public", NULL, "john.q.public", "example.com"});
	ADDR("Mary Smith <mary@x.test>, jdoe@example.org, Who? <one@y.test>",
	     {"Mary Smith", NULL, "mary", "x.test"},
	     {NULL, NULL, "jdoe", "example.org"},
	     {"Who?", NULL, "one", "y.test"});
	ADDR("<boss@nil.test>, "
	     "\"Giant; \\\"Big\\\" Box\" <sysservices@example.net>",
	     {NULL, NULL, "boss", "nil.test"},
	     {"Giant; \"Big\" Box", NULL, "sysservices", "example.net"});
	/* Groups the IMAP way (RFC 3501 7.4.2). */
	ADDR("A Group:Ed Jones <c@a.test>,joe@where.test,John <jdoe@one.test>;",
	     {NULL, NULL, "A Group", NULL}, {"Ed Jones", NULL, "c", "a.test"},
	     {NULL, NULL, "joe", "where.test"},
	     {"John", NULL, "jdoe", "one.test"}, {NULL, NULL, NULL, NULL});
	ADDR("Undisclosed recipients:;", {NULL, NULL, "Undisclosed recipients",
					  NULL}, {NULL, NULL, NULL, NULL});
	ADDR("g: a@b", {NULL, NULL, "g", NULL}, {NULL, NULL, "a", "b"},
	     {NULL, NULL, NULL, NULL});
	/* The list ends where an address is followed by anything but a
	 * comma (as in Dovecot). */
	ADDR("a@b; c@d", {NULL, NULL, "a", "b"});
	/* RFC 5322 A.5 and A.6.3: comments and CFWS everywhere. */
	ADDR("Pete(A nice \\) chap) <pete(his account)@silly.test(his host)>",
	     {"Pete", NULL, "pete", "silly.test"});
	ADDR("Mary Smith\r\n\t<mary@example.net>, jdoe@test  . example",
	     {"Mary Smith", NULL, "mary", "example.net"},
	     {NULL, NULL, "jdoe", "test.example"});
	ADDR("jdoe@example.org (John Doe)",
	     {"John Doe", NULL, "jdoe", "example.org"});
	/* obs-route (4.4) */
	ADDR("Jo <@r1.example,@r2.example:user@host.example>",
	     {"Jo", "@r1.example,@r2.example", "user", "host.example"});
	ADDR("John Q. Public <a@b>", {"John Q. Public", NULL, "a", "b"});
	ADDR("\"john doe\"@example.org", {NULL, NULL, "john doe",
					  "example.org"});
	ADDR("=?utf-8?Q?J=C3=B6rg?= <j@x>",
	     {"=?utf-8?Q?J=C3=B6rg?=", NULL, "j", "x"});
	ADDR("\"\" <a@b>", {NULL, NULL, "a", "b"});
	ADDR("a@[192.0.2.1]", {NULL, NULL, "a", "[192.0.2.1]"});
	/* Garbage, Dovecot style: what is missing is filled in. */
	ADDR("foo", {NULL, NULL, "foo", MIME_MISSING_DOMAIN});
	ADDR("@example.org", {NULL, NULL, MIME_MISSING_MAILBOX, "example.org"});
	ADDR("<>", {NULL, NULL, MIME_MISSING_MAILBOX, MIME_MISSING_DOMAIN});
	ADDR("<@route:>", {NULL, "@route", MIME_MISSING_MAILBOX,
			   MIME_MISSING_DOMAIN});
	ADDR("<@r1,@r2 x@y>", {NULL, "INVALID_ROUTE", "x", "y"});
	ADDR("Name <a@b", {"Name", NULL, "a", "SYNTAX_ERROR"});
	ADDR("a@b >junk, c@d", {NULL, NULL, "a", "b"});
	ADDR("\"unterminated <a@b>",
	     {NULL, NULL, MIME_MISSING_MAILBOX, MIME_MISSING_DOMAIN});
	/* Words without an address: a display name. */
	ADDR("Name Without Address, just",
	     {"Name Without Address", NULL, MIME_MISSING_MAILBOX,
	      MIME_MISSING_DOMAIN},
	     {NULL, NULL, "just", MIME_MISSING_DOMAIN});
	ADDR("\"quoted\"local", {"quoted local", NULL, MIME_MISSING_MAILBOX,
				  MIME_MISSING_DOMAIN});
	/* Dots where RFC 5322 forbids them; a comment names an address. */
	ADDR("a..b@c, .x@y, z.@w", {NULL, NULL, "a..b", "c"},
	     {NULL, NULL, ".x", "y"}, {NULL, NULL, "z.", "w"});
	ADDR("x@y (Comment (nested) here), (first) z@w (second)",
	     {"Comment (nested) here", NULL, "x", "y"},
	     {"second", NULL, "z", "w"});
	/* Empty elements, a comment never closed. */
	ADDR("a@b, , c@d,", {NULL, NULL, "a", "b"},
	     {NULL, NULL, MIME_MISSING_MAILBOX, MIME_MISSING_DOMAIN},
	     {NULL, NULL, "c", "d"});
	ADDR("a@b, (open", {NULL, NULL, "a", "b"},
	     {NULL, NULL, MIME_MISSING_MAILBOX, MIME_MISSING_DOMAIN});
	ADDR("a(b(c(d", {NULL, NULL, MIME_MISSING_MAILBOX,
			 MIME_MISSING_DOMAIN});
	/* A group with a broken member goes on; one never closed is. */
	ADDR("G: a@b, broken garbage, c@d;, e@f", {NULL, NULL, "G", NULL},
	     {NULL, NULL, "a", "b"},
	     {"broken garbage", NULL, MIME_MISSING_MAILBOX,
	      MIME_MISSING_DOMAIN},
	     {NULL, NULL, "c", "d"}, {NULL, NULL, NULL, NULL},
	     {NULL, NULL, "e", "f"});

	/* Nothing at all. */
	assert_int_equal(mime_address_parse("  (c) ", 6, 0, &l, &n),
			 MIME_OK);
	assert_int_equal(n, 0);
	assert_null(l);
	assert_int_equal(mime_address_parse("", 0, 0, &l, &n), MIME_OK);
	assert_int_equal(n, 0);
	/* Empty elements are entries, as in Dovecot. */
	ADDR("  , ,(c) ",
	     {NULL, NULL, MIME_MISSING_MAILBOX, MIME_MISSING_DOMAIN},
	     {NULL, NULL, MIME_MISSING_MAILBOX, MIME_MISSING_DOMAIN});

	/* The bound; an open group still gets its end. */
	{
		const struct want w[] = {{NULL, NULL, "g", NULL},
					 {NULL, NULL, "a", "b"},
					 {NULL, NULL, NULL, NULL}};

		addr("g: a@b, c@d, e@f; x@y", 3, w, 3);
		addr("a@b, c@d, e@f", 1, w + 1, 1);
		/* No room for a group's start and end: the list ends. */
		addr("a@b, g: c@d;", 2, w + 1, 1);
	}
}

static void
test_address_garbage(void **state)
{
	static const char *const junk[] = {
		"<<<>>>,,;;::@@", ":::;;;", "a:b:c;d;e", "<@a:@b:>",
		"\"", "(", "\\", "[", "a@b@c@d", "<a@b> <c@d>", "@", ";",
		"g:<a@b>;:;", "\"a\\", "<@route", "a(b(c(d", ":",
	};

	for (size_t k = 0; k < sizeof(junk) / sizeof(junk[0]); k++) {
		struct mime_address *l;
		unsigned n, open = 0;

		assert_int_equal(mime_address_parse(junk[k], strlen(junk[k]),
						    0, &l, &n),
				 MIME_OK);
		for (unsigned i = 0; i < n; i++) {
			if (l[i].host != NULL) {
				assert_non_null(l[i].mailbox);
			} else if (l[i].mailbox != NULL) {
				assert_int_equal(open, 0);
				open = 1;
			} else {
				assert_int_equal(open, 1);
				open = 0;
			}
		}
		assert_int_equal(open, 0);
		free(l);
	}
}

/* ---- RFC 2047 -------------------------------------------------------- */

static void
dec(const char *in, const char *want)
{
	char *out;
	size_t n;

	assert_int_equal(mime_rfc2047_decode(in, strlen(in), &out, &n),
			 MIME_OK);
	assert_int_equal(strlen(out), n);
	if (strcmp(out, want) != 0)
		fail_msg("%s: got \"%s\", want \"%s\"", in, out, want);
	free(out);
}

static void
test_rfc2047(void **state)
{
	dec("plain text", "plain text");
	dec("=?utf-8?Q?Caf=C3=A9?=", "Caf\xc3\xa9");
	dec("=?ISO-8859-1?Q?Andr=E9?= Pirard", "Andr\xc3\xa9 Pirard");
	dec("=?iso-8859-1?q?this=20is=20some=20text?=", "this is some text");
	/* RFC 2047 section 8 */
	dec("(=?ISO-8859-1?Q?a?=)", "(a)");
	dec("(=?ISO-8859-1?Q?a?= b)", "(a b)");
	dec("(=?ISO-8859-1?Q?a?= =?ISO-8859-1?Q?b?=)", "(ab)");
	dec("(=?ISO-8859-1?Q?a?=  =?ISO-8859-1?Q?b?=)", "(ab)");
	dec("(=?ISO-8859-1?Q?a?=\r\n    =?ISO-8859-1?Q?b?=)", "(ab)");
	dec("(=?ISO-8859-1?Q?a_b?=)", "(a b)");
	dec("(=?ISO-8859-1?Q?a?= =?ISO-8859-2?Q?_b?=)", "(a b)");
	/* B, and Cyrillic in three charsets */
	dec("=?utf-8?B?0J/RgNC40LLQtdGC?=", "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2"
					     "\xd0\xb5\xd1\x82");
	dec("=?KOI8-R?B?8NLJ18XU?= !", "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0"
				       "\xb5\xd1\x82 !");
	dec("=?windows-1251?Q?=CF=F0=E8=E2=E5=F2?=", "\xd0\x9f\xd1\x80\xd0"
						     "\xb8\xd0\xb2\xd0\xb5\xd1"
						     "\x82");
	/* A character cut between two words survives. */
	dec("=?utf-8?B?4oI=?= =?utf-8?B?rA==?=", "\xe2\x82\xac");
	dec("=?utf-8?Q?=E2=82?=\r\n =?UTF-8?Q?=AC_?=x", "\xe2\x82\xac x");
	/* Folded plain text is unfolded. */
	dec("a\r\n b", "a b");
	/* Unknown charsets and broken words stay; bad octets are U+FFFD. */
	dec("=?x-unknown?Q?abc?=", "=?x-unknown?Q?abc?=");
	dec("=?utf-8?Q?a?= =?x-unknown?Q?b?=", "a =?x-unknown?Q?b?=");
	dec("=?x-unknown?Q?a?=\r\n =?utf-8?Q?b?=", "=?x-unknown?Q?a?= b");
	dec("=?x-bad?Q?a?= =?x-bad?Q?b?= c", "=?x-bad?Q?a?= =?x-bad?Q?b?= c");
	dec("=?utf-8?Q?a?= =?iso-8859-1?Q?b?= =?x-bad?Q?c?=",
	    "ab =?x-bad?Q?c?=");
	dec("=?utf-8//TRANSLIT?Q?x?=", "=?utf-8//TRANSLIT?Q?x?=");
	dec("=?utf-8?Q?abc", "=?utf-8?Q?abc");
	dec("=?utf-8?X?abc?=", "=?utf-8?X?abc?=");
	dec("=?utf-8?Q?a b?=", "=?utf-8?Q?a b?=");
	dec("=?utf-8?Q?=FF?=", "\xef\xbf\xbd");
	dec("caf\xe9", "caf\xef\xbf\xbd");
	dec("=?utf-8*en?Q?x?=", "x");
	dec("x=?utf-8?Q?y?=z", "xyz");
	dec("=?utf-8?Q?" "?=", "");
	dec("=?=?utf-8?Q?a?=", "=?a");
}

/* ---- Charsets and folding -------------------------------------------- */

static void
conv_eq(const char *cs, const char *in, size_t len, const char *want)
{
	char *out;
	size_t n;

	assert_int_equal(mime_charset_to_utf8(cs, in, len, &out, &n), MIME_OK);
	assert_int_equal(n, strlen(want));
	assert_memory_equal(out, want, n);
	free(out);
}

static void
collect(void *arg, const char *data, size_t len)
{
	char *b = arg;

	memcpy(b + strlen(b), data, len);
}

static void
test_charset(void **state)
{
	struct mime_charset_conv *c;
	static const char utf16[] = "\xff\xfe\x1f\x04\x40\x04\x3d\xd8\x00\xde";
	char *out;
	size_t n;

	conv_eq("iso-8859-1", "caf\xe9", 4, "caf\xc3\xa9");
	conv_eq("windows-1251", "\xcf\xf0\xe8", 3, "\xd0\x9f\xd1\x80\xd0\xb8");
	conv_eq("KOI8-R", "\xf0\xd2", 2, "\xd0\x9f\xd1\x80");
	conv_eq("us-ascii", "a\xc3\xa9", 3, "a\xc3\xa9");
	conv_eq("UTF-8", "a\xff" "b\xe2\x82", 5,
		"a\xef\xbf\xbd" "b\xef\xbf\xbd");
	conv_eq("utf-8", "\xed\xa0\x80", 3,
		"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	conv_eq("iso-2022-jp", "\x1b$B$3\x1b(B", 8, "\xe3\x81\x93");
	assert_int_equal(mime_charset_to_utf8("x-nothing", "a", 1, &out, &n),
			 MIME_EINVAL);
	assert_int_equal(mime_charset_to_utf8("utf-8//IGNORE", "a", 1, &out,
					      &n),
			 MIME_EINVAL);
	assert_int_equal(mime_charset_known("latin1"), 1);
	assert_int_equal(mime_charset_known(""), 0);

	/* Cut anywhere: the same text. */
	for (size_t cut = 0; cut <= sizeof(utf16) - 1; cut++) {
		char buf[64] = "";

		assert_int_equal(mime_charset_conv_new("utf-16", &c), MIME_OK);
		mime_charset_conv_feed(c, utf16, cut, collect, buf);
		mime_charset_conv_feed(c, utf16 + cut, sizeof(utf16) - 1 - cut,
				       collect, buf);
		mime_charset_conv_finish(c, collect, buf);
		mime_charset_conv_free(c);
		assert_string_equal(buf, "\xd0\x9f\xd1\x80\xf0\x9f\x98\x80");
	}
	for (size_t cut = 0; cut < 7; cut++) {
		static const char u[] = "\xe2\x82\xac\xf0\x9f\x98\x80";
		static const char *const tail[7] = {
			"", "\xef\xbf\xbd", "\xef\xbf\xbd", "\xe2\x82\xac",
			"\xe2\x82\xac\xef\xbf\xbd", "\xe2\x82\xac\xef\xbf\xbd",
			"\xe2\x82\xac\xef\xbf\xbd",
		};
		char buf[64] = "";

		assert_int_equal(mime_charset_conv_new("utf-8", &c), MIME_OK);
		for (size_t i = 0; i < 7; i++) /* one octet at a time */
			mime_charset_conv_feed(c, u + i, 1, collect, buf);
		mime_charset_conv_finish(c, collect, buf);
		/* and a character left cut at the end */
		mime_charset_conv_feed(c, u, cut, collect, buf);
		mime_charset_conv_finish(c, collect, buf);
		mime_charset_conv_free(c);
		assert_memory_equal(buf, u, 7);
		assert_string_equal(buf + 7, tail[cut]);
	}
}

static void
fold_eq(const char *in, const char *want)
{
	char out[256];
	size_t n = mime_casefold_utf8(in, strlen(in), out);

	assert_true(n <= MIME_CASEFOLD_MAX(strlen(in)));
	out[n] = '\0';
	assert_string_equal(out, want);
}

static void
test_casefold(void **state)
{
	char a[] = "MiXeD \xc3\x89";

	fold_eq("Hello WORLD", "hello world");
	fold_eq("\xc3\x80\xc3\x89\xc3\x8e\xc3\x9e\xc3\x97", /* ÀÉÎÞ× */
		"\xc3\xa0\xc3\xa9\xc3\xae\xc3\xbe\xc3\x97");
	fold_eq("\xc5\x81\xc3\x93" "D\xc5\xb9", /* ŁÓDŹ */
		"\xc5\x82\xc3\xb3" "d\xc5\xba");
	/* ΣΊΣΥΦΟς */
	fold_eq("\xce\xa3\xce\x8a\xce\xa3\xce\xa5\xce\xa6\xce\x9f\xcf\x82",
		"\xcf\x83\xce\xaf\xcf\x83\xcf\x85\xcf\x86\xce\xbf\xcf\x83");
	fold_eq("\xd0\x9f\xd0\xa0\xd0\x98\xd0\x92\xd0\x95\xd0\xa2 "
		"\xd0\x81\xd0\x86", /* ПРИВЕТ ЁІ */
		"\xd0\xbf\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82 "
		"\xd1\x91\xd1\x96");
	fold_eq("\xe2\x84\xaa\xc5\xbf", "ks");          /* Kelvin, long s */
	fold_eq("\xc3\x9f\xe1\xba\x9e", "\xc3\x9f\xc3\x9f"); /* ß ẞ */
	fold_eq("\xc8\xba", "\xe2\xb1\xa5");          /* grows: 2 -> 3 */
	fold_eq("\xd4\xb1\xef\xbc\xa1", "\xd5\xa1\xef\xbd\x81"); /* Ա Ａ */
	fold_eq("\xf0\x90\x90\x80", "\xf0\x90\x90\xa8"); /* Deseret */
	fold_eq("a\xff" "b\xe2\x82", "a\xef\xbf\xbd" "b\xef\xbf\xbd");
	fold_eq("\xc4\xb0\xc4\xb1", "\xc4\xb0\xc4\xb1"); /* Turkish: left */
	mime_casefold_ascii(a, strlen(a), a);
	assert_string_equal(a, "mixed \xc3\x89");
}

/* ---- Transfer encodings ---------------------------------------------- */

struct sink {
	char buf[512];
	size_t len;
};

static void
sink_add(void *arg, const char *data, size_t len)
{
	struct sink *s = arg;

	assert_true(s->len + len <= sizeof(s->buf));
	memcpy(s->buf + s->len, data, len);
	s->len += len;
}

/* Decoded whole, byte by byte and cut at every offset: always want. */
static void
decode_eq(enum mime_cte cte, const char *in, const char *want, size_t wlen)
{
	size_t len = strlen(in);

	for (size_t cut = 0; cut <= len + 1; cut++) {
		struct mime_decoder d;
		struct sink s = {.len = 0};

		mime_decoder_init(&d, cte);
		if (cut == len + 1) {
			for (size_t i = 0; i < len; i++)
				mime_decoder_feed(&d, in + i, 1, sink_add, &s);
		} else {
			mime_decoder_feed(&d, in, cut, sink_add, &s);
			mime_decoder_feed(&d, in + cut, len - cut, sink_add,
					  &s);
		}
		mime_decoder_finish(&d, sink_add, &s);
		if (s.len != wlen || memcmp(s.buf, want, wlen) != 0)
			fail_msg("%s cut %zu: got \"%.*s\"", in, cut,
				 (int)s.len, s.buf);
	}
}

#define DEC(cte, in, want) decode_eq(cte, in, want, sizeof(want) - 1)

static void
test_base64(void **state)
{
	assert_int_equal(mime_cte_parse("BASE64"), MIME_CTE_BASE64);
	assert_int_equal(mime_cte_parse("Quoted-Printable"), MIME_CTE_QP);
	assert_int_equal(mime_cte_parse(""), MIME_CTE_7BIT);
	assert_int_equal(mime_cte_parse("8bit"), MIME_CTE_8BIT);
	assert_int_equal(mime_cte_parse("binary"), MIME_CTE_BINARY);
	assert_int_equal(mime_cte_parse("x-uue"), MIME_CTE_UNKNOWN);
	DEC(MIME_CTE_BASE64, "SGVsbG8gV29ybGQh", "Hello World!");
	DEC(MIME_CTE_BASE64, "SGVs\r\nbG8*gV29y bGQh\r\n", "Hello World!");
	DEC(MIME_CTE_BASE64, "SGk=", "Hi");
	DEC(MIME_CTE_BASE64, "SGk=SGk=", "HiHi");
	DEC(MIME_CTE_BASE64, "SGk", "Hi");
	DEC(MIME_CTE_BASE64, "S", "");
	DEC(MIME_CTE_BASE64, "AP8A/w==", "\0\xff\0\xff");
	DEC(MIME_CTE_BASE64, "!!!", "");
	DEC(MIME_CTE_7BIT, "as\r\nis=", "as\r\nis=");
}

static void
test_qp(void **state)
{
	DEC(MIME_CTE_QP, "a=3Db=\r\nc  \r\nd=\ne=ZZ=4", "a=bc\r\nde=ZZ=4");
	DEC(MIME_CTE_QP, "soft= \t \r\nbreak", "softbreak");
	DEC(MIME_CTE_QP, "x=4g =e9", "x=4g \xe9");
	DEC(MIME_CTE_QP, "a\rb\r", "a\rb\r");
	DEC(MIME_CTE_QP, "tab\t\nnext \t", "tab\nnext");
	DEC(MIME_CTE_QP, "= x", "= x");
	DEC(MIME_CTE_QP, "=\rx", "=\rx");
	DEC(MIME_CTE_QP, "end=", "end=");
	DEC(MIME_CTE_QP, "=C3=A9t=C3=A9", "\xc3\xa9t\xc3\xa9");
	DEC(MIME_CTE_QP, "keep  middle", "keep  middle");
	/* White space longer than held back is text. */
	DEC(MIME_CTE_QP, "a                                                 "
			 "                                x",
	    "a                                                 "
	    "                                x");
}

/* ---- Dates ----------------------------------------------------------- */

static void
date_eq(const char *in, int64_t t, int tz)
{
	int64_t got;
	int gtz;

	if (mime_date_parse(in, strlen(in), &got, &gtz) != MIME_OK)
		fail_msg("refused: %s", in);
	if (got != t || gtz != tz)
		fail_msg("%s: got %lld %d", in, (long long)got, gtz);
}

static void
date_bad(const char *in)
{
	int64_t t;
	int tz;

	if (mime_date_parse(in, strlen(in), &t, &tz) != MIME_EINVAL)
		fail_msg("accepted: %s", in);
}

static void
test_date(void **state)
{
	date_eq("Mon, 7 Feb 1994 21:52:25 -0800 (PST)", 760686745, -480);
	date_eq("Tue, 1 Jul 2003 10:52:37 +0200", 1057049557, 120);
	date_eq("1 Jul 2003 10:52:37 +0200", 1057049557, 120);
	date_eq("Tuesday,01 JUL 2003 10:52:37 +0200", 1057049557, 120);
	date_eq("Thu, 13 Feb 1969 23:32:54 -0330", -27723426, -210);
	date_eq("Mon, 7 Feb 1994 21:52 -0800", 760686720, -480);
	date_eq("1 Jan 70 00:00:00 GMT", 0, 0);
	date_eq("1 Jan 49 00:00:00 UT", 2493072000, 0);
	date_eq("1 Jan 101 00:00:00 Z", 978307200, 0);
	date_eq("Fri, 21 Nov 1997 09:55:06 PDT", 880131306, -420);
	date_eq("Fri, 21 Nov 1997 10:55:06 EST", 880131306 - 3600, -300);
	date_eq("Fri, 21 Nov 1997 16:55:06 A", 880131306, 0);
	date_eq("Fri, 21 Nov 1997 16:55:06", 880131306, 0);
	date_eq("Fri, 21 Nov 1997 16:55:06 +0000 trailing junk", 880131306, 0);
	date_eq(" (c) 29 (x) Feb (y) 2000 (z) 00 : 00 : 00 (q) +0000 ",
		951782400, 0);
	date_eq("31 Dec 1999 23:59:60 +0000", 946684800, 0);
	date_bad("");
	date_bad("hello");
	date_bad("Xyz, 1 Jan 2000 00:00 +0000");
	date_bad("32 Jan 2000 00:00 GMT");
	date_bad("29 Feb 2001 00:00 +0000");
	date_bad("0 Jan 2000 00:00");
	date_bad("1 Foo 2000 00:00");
	date_bad("1 Jan 2000");
	date_bad("1 Jan 2000 24:00");
	date_bad("1 Jan 2000 10:60");
	date_bad("1 Jan 2000 10:00:61");
	date_bad("1 Jan 2000 10:00 +0960");
	date_bad("1 Jan 2000 10:00 +960");
	date_bad("1 Jan 20000 10:00");
	date_bad("1 Jan 0000 10:00");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header_iter),
		cmocka_unit_test(test_unfold),
		cmocka_unit_test(test_address),
		cmocka_unit_test(test_address_garbage),
		cmocka_unit_test(test_rfc2047),
		cmocka_unit_test(test_charset),
		cmocka_unit_test(test_casefold),
		cmocka_unit_test(test_base64),
		cmocka_unit_test(test_qp),
		cmocka_unit_test(test_date),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
