/* Unit tests for libpsmime's structure parser and cache blobs: real-world
 * shapes (text, alternative, mixed with attachment, nested, message/rfc822
 * with its own multipart, digest), RFC 2231 parameters, malformed input
 * (no close delimiter, delimiters in headers, garbage, NULs, long lines),
 * depth and part limits, exact offsets, sizes and lines (IMAP clients
 * compute from them), every sample fed whole, one byte at a time and cut
 * in two at every offset, and the cache: round trips, and every
 * truncation and bit flip refused. tests/unit/test_mime_text.c has the
 * field-level parsers. Links modules/mime/libpsmime.la alone. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mime.h"
#include "mime_private.h"

static struct mime_part *
parse_chunked(const char *msg, size_t len, size_t chunk,
	      const struct mime_limits *lim)
{
	struct mime_parser *p = mime_parser_new(lim);
	struct mime_part *root;

	assert_non_null(p);
	if (chunk == 0)
		chunk = len ? len : 1;
	for (size_t i = 0; i < len; i += chunk)
		assert_int_equal(mime_parser_feed(p, msg + i, len - i < chunk ?
							      len - i : chunk),
				 MIME_OK);
	root = mime_parser_finish(p);
	assert_non_null(root);
	assert_int_equal(mime_tree_check(root), MIME_OK);
	return root;
}

/* Whole, one octet at a time, cut in two everywhere (small ones): the
 * same tree, and the cache gives it back. */
static struct mime_part *
parse_lim(const char *msg, size_t len, const struct mime_limits *lim)
{
	struct mime_part *root = parse_chunked(msg, len, 0, lim), *t;
	void *blob;
	size_t bl;

	t = parse_chunked(msg, len, 1, lim);
	assert_int_equal(mime_tree_compare(root, t), 0);
	mime_tree_free(t);
	for (size_t cut = 1; len < 4096 && cut < len; cut++) {
		struct mime_parser *p = mime_parser_new(lim);

		mime_parser_feed(p, msg, cut);
		mime_parser_feed(p, msg + cut, len - cut);
		t = mime_parser_finish(p);
		if (mime_tree_compare(root, t) != 0)
			fail_msg("differs when cut at %zu", cut);
		mime_tree_free(t);
	}
	assert_int_equal(mime_cache_write(root, &blob, &bl), MIME_OK);
	assert_int_equal(mime_cache_read(blob, bl, &t), MIME_OK);
	assert_int_equal(mime_tree_compare(root, t), 0);
	mime_tree_free(t);
	free(blob);
	return root;
}

static struct mime_part *
parse(const char *msg)
{
	return parse_lim(msg, strlen(msg), NULL);
}

static const struct mime_part *
sect(const struct mime_part *root, const char *path)
{
	unsigned nums[16];
	size_t n = 0;

	while (*path && n < 16) {
		nums[n++] = (unsigned)strtoul(path, (char **)&path, 10);
		if (*path == '.')
			path++;
	}
	return mime_part_section(root, nums, n);
}

/* The part's body as text, for comparing with what the sample says. */
static void
body_is(const char *msg, const struct mime_part *p, const char *want)
{
	if (p->body_size != strlen(want) ||
	    memcmp(msg + p->body_offset, want, p->body_size) != 0)
		fail_msg("body is \"%.*s\", not \"%s\"", (int)p->body_size,
			 msg + p->body_offset, want);
	uint64_t lines = 0;
	for (const char *s = want; *s; s++)
		lines += *s == '\n';
	assert_int_equal(p->body_lines, lines);
}

static void
type_is(const struct mime_part *p, const char *type, const char *subtype)
{
	assert_string_equal(p->type, type);
	assert_string_equal(p->subtype, subtype);
}

/* ---- Shapes ---------------------------------------------------------- */

static void
test_simple(void **state)
{
	const char *m = "Date: Mon, 7 Feb 1994 21:52:25 -0800 (PST)\r\n"
			"From: Fred Foobar <foobar@Blurdybloop.example>\r\n"
			"Subject: afternoon\r\n meeting\r\n"
			"To: mooch@owatagu.example\r\n"
			"Message-Id: <B27397-0100000@Blurdybloop.example>\r\n"
			"\r\n"
			"Hello Joe, do you think we can meet at 3:30?\r\n";
	struct mime_part *r = parse(m);

	type_is(r, "text", "plain");
	assert_int_equal(r->flags, MIME_PART_DEFAULT_TYPE);
	assert_string_equal(mime_part_charset(r), "us-ascii");
	assert_int_equal(r->nparams, 1);
	assert_string_equal(r->params[0].name, "charset");
	assert_string_equal(r->encoding, "7bit");
	assert_int_equal(r->header_offset, 0);
	assert_int_equal(r->header_size, strstr(m, "\r\n\r\n") + 4 - m);
	body_is(m, r, "Hello Joe, do you think we can meet at 3:30?\r\n");
	assert_string_equal(r->envelope->subject, "afternoon meeting");
	assert_string_equal(r->envelope->from,
			    "Fred Foobar <foobar@Blurdybloop.example>");
	assert_string_equal(r->envelope->date,
			    "Mon, 7 Feb 1994 21:52:25 -0800 (PST)");
	assert_string_equal(r->envelope->message_id,
			    "<B27397-0100000@Blurdybloop.example>");
	assert_null(r->envelope->cc);
	assert_null(r->envelope->sender);
	assert_ptr_equal(sect(r, "1"), r);
	assert_null(sect(r, "2"));
	assert_null(sect(r, "1.1"));
	mime_tree_free(r);
}

static const char alternative[] =
	"From: a@example.org\r\n"
	"MIME-Version: 1.0\r\n"
	"Content-Type: multipart/alternative;\r\n"
	"\tboundary=\"b1_a8f9\"\r\n"
	"\r\n"
	"This is a multi-part message in MIME format.\r\n"
	"--b1_a8f9\r\n"
	"Content-Type: text/plain; charset=UTF-8\r\n"
	"Content-Transfer-Encoding: quoted-printable\r\n"
	"\r\n"
	"Hi =E2=82=AC\r\n"
	"\r\n"
	"--b1_a8f9\r\n"
	"Content-Type: text/html; charset=\"UTF-8\"\r\n"
	"\r\n"
	"<p>Hi</p>\r\n"
	"--b1_a8f9--\r\n"
	"epilogue\r\n";

static void
test_alternative(void **state)
{
	const char *m = alternative;
	struct mime_part *r = parse(m);
	const struct mime_part *a, *b;

	type_is(r, "multipart", "alternative");
	assert_int_equal(r->flags, MIME_PART_MULTIPART);
	assert_string_equal(mime_param_get(r->params, r->nparams, "BOUNDARY"),
			    "b1_a8f9");
	assert_null(mime_part_charset(r));
	assert_int_equal(r->nchildren, 2);
	a = sect(r, "1");
	b = sect(r, "2");
	type_is(a, "text", "plain");
	assert_string_equal(mime_part_charset(a), "UTF-8");
	assert_int_equal(a->cte, MIME_CTE_QP);
	assert_string_equal(a->encoding, "quoted-printable");
	/* The CRLF before the delimiter is the delimiter's. */
	body_is(m, a, "Hi =E2=82=AC\r\n");
	assert_int_equal(a->header_offset,
			 strstr(m, "--b1_a8f9\r\n") + 11 - m);
	body_is(m, b, "<p>Hi</p>");
	assert_null(a->envelope);
	assert_int_equal(r->body_offset + r->body_size, strlen(m));
	assert_null(sect(r, "3"));
	assert_null(sect(r, "1.1"));
	mime_tree_free(r);
}

static const char mixed[] =
	"Subject: report\r\n"
	"Content-Type: multipart/mixed; boundary=\"=_mixed 01\"\r\n"
	"\r\n"
	"--=_mixed 01\r\n"
	"Content-Type: multipart/alternative; boundary=alt\r\n"
	"\r\n"
	"--alt\r\n"
	"\r\n"
	"plain\r\n"
	"--alt\r\n"
	"Content-Type: text/html\r\n"
	"\r\n"
	"<b>html</b>\r\n"
	"--alt--\r\n"
	"\r\n"
	"--=_mixed 01\r\n"
	"Content-Type: application/pdf; name=\"report.pdf\"\r\n"
	"Content-Transfer-Encoding: base64\r\n"
	"Content-Disposition: attachment;\r\n"
	"  filename=\"report.pdf\"; size=12\r\n"
	"Content-ID: <part2@example.org>\r\n"
	"Content-Description: the report\r\n"
	"Content-MD5: Q2hlY2sgSW50ZWdyaXR5IQ==\r\n"
	"Content-Language: en-GB, fr (French)\r\n"
	"Content-Location: http://example.org/report.pdf\r\n"
	"\r\n"
	"JVBERi0xLjQK\r\n"
	"JVBERi0xLjQK\r\n"
	"--=_mixed 01--\r\n";

static void
test_mixed_nested(void **state)
{
	const char *m = mixed;
	struct mime_part *r = parse(m);
	const struct mime_part *alt, *pdf;

	type_is(r, "multipart", "mixed");
	assert_int_equal(r->nchildren, 2);
	alt = sect(r, "1");
	type_is(alt, "multipart", "alternative");
	assert_int_equal(alt->nchildren, 2);
	type_is(sect(r, "1.1"), "text", "plain");
	assert_int_equal(sect(r, "1.1")->flags, MIME_PART_DEFAULT_TYPE);
	body_is(m, sect(r, "1.1"), "plain");
	body_is(m, sect(r, "1.2"), "<b>html</b>");
	/* The inner multipart's body runs to the outer delimiter, its
	 * close delimiter and epilogue included. */
	body_is(m, alt, "--alt\r\n\r\nplain\r\n--alt\r\nContent-Type: "
			"text/html\r\n\r\n<b>html</b>\r\n--alt--\r\n");
	assert_int_equal(alt->flags, MIME_PART_MULTIPART);

	pdf = sect(r, "2");
	type_is(pdf, "application", "pdf");
	assert_string_equal(mime_param_get(pdf->params, pdf->nparams, "name"),
			    "report.pdf");
	assert_int_equal(pdf->cte, MIME_CTE_BASE64);
	assert_string_equal(pdf->disposition, "attachment");
	assert_int_equal(pdf->ndisp_params, 2);
	assert_string_equal(pdf->disp_params[0].name, "filename");
	assert_string_equal(pdf->disp_params[0].value, "report.pdf");
	assert_string_equal(pdf->disp_params[1].value, "12");
	assert_string_equal(pdf->id, "<part2@example.org>");
	assert_string_equal(pdf->description, "the report");
	assert_string_equal(pdf->md5, "Q2hlY2sgSW50ZWdyaXR5IQ==");
	assert_int_equal(pdf->nlanguages, 2);
	assert_string_equal(pdf->languages[0], "en-GB");
	assert_string_equal(pdf->languages[1], "fr");
	assert_string_equal(pdf->location, "http://example.org/report.pdf");
	body_is(m, pdf, "JVBERi0xLjQK\r\nJVBERi0xLjQK");
	assert_null(sect(r, "2.1"));
	assert_null(sect(r, "1.3"));
	mime_tree_free(r);
}

static const char forwarded[] =
	"From: me@example.org\r\n"
	"Subject: Fwd: plans\r\n"
	"Content-Type: multipart/mixed; boundary=outer\r\n"
	"\r\n"
	"--outer\r\n"
	"Content-Type: text/plain\r\n"
	"\r\n"
	"see below\r\n"
	"--outer\r\n"
	"Content-Type: message/rfc822\r\n"
	"Content-Disposition: inline\r\n"
	"\r\n"
	"From: \"Jo\" <jo@example.net>\r\n"
	"To: me@example.org, group: a@b, c@d;\r\n"
	"Cc: x@y\r\n"
	"Bcc: z@y\r\n"
	"Reply-To: r@y\r\n"
	"Sender: s@y\r\n"
	"In-Reply-To: <1@y>\r\n"
	"Subject: plans\r\n"
	"Date: Tue, 1 Jul 2003 10:52:37 +0200\r\n"
	"Message-ID: <2@y>\r\n"
	"Content-Type: multipart/alternative; boundary=inner\r\n"
	"\r\n"
	"--inner\r\n"
	"Content-Type: text/plain\r\n"
	"\r\n"
	"the plan\r\n"
	"--inner\r\n"
	"Content-Type: text/enriched\r\n"
	"\r\n"
	"<bold>the plan</bold>\r\n"
	"--inner--\r\n"
	"--outer--\r\n";

static void
test_message_rfc822(void **state)
{
	const char *m = forwarded;
	struct mime_part *r = parse(m);
	const struct mime_part *msg, *inner;
	const struct mime_envelope *e;

	assert_int_equal(r->nchildren, 2);
	msg = sect(r, "2");
	type_is(msg, "message", "rfc822");
	assert_int_equal(msg->flags, MIME_PART_MESSAGE);
	assert_string_equal(msg->disposition, "inline");
	assert_null(msg->envelope);
	assert_int_equal(msg->nchildren, 1);
	inner = msg->children;
	assert_int_equal(inner->header_offset, msg->body_offset);
	assert_int_equal(inner->body_offset + inner->body_size,
			 msg->body_offset + msg->body_size);
	type_is(inner, "multipart", "alternative");
	e = inner->envelope;
	assert_non_null(e);
	assert_string_equal(e->from, "\"Jo\" <jo@example.net>");
	assert_string_equal(e->to, "me@example.org, group: a@b, c@d;");
	assert_string_equal(e->cc, "x@y");
	assert_string_equal(e->bcc, "z@y");
	assert_string_equal(e->reply_to, "r@y");
	assert_string_equal(e->sender, "s@y");
	assert_string_equal(e->in_reply_to, "<1@y>");
	assert_string_equal(e->subject, "plans");
	assert_string_equal(e->date, "Tue, 1 Jul 2003 10:52:37 +0200");
	assert_string_equal(e->message_id, "<2@y>");
	assert_string_equal(r->envelope->subject, "Fwd: plans");
	/* IMAP numbering goes through the message into its parts. */
	assert_ptr_equal(sect(r, "2.1"), inner->children);
	assert_ptr_equal(sect(r, "2.2"), inner->children->next);
	body_is(m, sect(r, "2.2"), "<bold>the plan</bold>");
	assert_null(sect(r, "2.3"));
	/* The message ends before the CRLF that precedes "--outer--". */
	assert_int_equal(msg->body_offset + msg->body_size,
			 strstr(m, "--inner--\r\n") + 9 - m);
	assert_int_equal(msg->body_lines, 20);
	mime_tree_free(r);
}

static void
test_message_leaf(void **state)
{
	/* A single-part encapsulated message: 2.1 is the message itself. */
	const char *m = "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
			"--b\r\nContent-Type: message/rfc822\r\n\r\n"
			"Subject: in\r\n\r\nbody\r\n--b--\r\n";
	struct mime_part *r = parse(m);
	const struct mime_part *msg = sect(r, "1");

	assert_int_equal(msg->flags, MIME_PART_MESSAGE);
	assert_ptr_equal(sect(r, "1.1"), msg->children);
	assert_string_equal(msg->children->envelope->subject, "in");
	body_is(m, msg->children, "body");
	assert_null(sect(r, "1.2"));
	assert_null(sect(r, "1.1.1"));
	mime_tree_free(r);

	/* Encoded message/rfc822 (RFC 2046 5.2.1 forbids it) is parsed
	 * all the same, as Dovecot does: its header is the encoded text. */
	r = parse("Content-Type: Message/RFC822\r\n"
		  "Content-Transfer-Encoding: base64\r\n\r\n"
		  "U3ViamVjdDogeA==\r\n");
	assert_int_equal(r->flags, MIME_PART_MESSAGE);
	assert_int_equal(r->nchildren, 1);
	assert_null(r->children->envelope->subject);
	mime_tree_free(r);

	/* message/global too (RFC 6532). */
	r = parse("Content-Type: message/global\r\n\r\nSubject: \xc3\xa9\r\n"
		  "\r\nx");
	assert_int_equal(r->flags, MIME_PART_MESSAGE);
	assert_string_equal(r->children->envelope->subject, "\xc3\xa9");
	mime_tree_free(r);
}

static void
test_digest(void **state)
{
	const char *m = "Content-Type: multipart/digest; boundary=d\r\n\r\n"
			"--d\r\n\r\nFrom: a@b\r\nSubject: one\r\n\r\nfirst\r\n"
			"--d\r\nContent-Type: text/plain\r\n\r\n"
			"not a message\r\n"
			"--d\r\n\r\nSubject: three\r\n\r\nthird\r\n--d--\r\n";
	struct mime_part *r = parse(m);
	const struct mime_part *one = sect(r, "1"), *three = sect(r, "3");

	assert_int_equal(r->nchildren, 3);
	type_is(one, "message", "rfc822");
	assert_int_equal(one->flags,
			 MIME_PART_MESSAGE | MIME_PART_DEFAULT_TYPE);
	assert_int_equal(one->nparams, 0);
	assert_int_equal(one->header_size, 2);
	assert_string_equal(one->children->envelope->subject, "one");
	body_is(m, one->children, "first");
	type_is(sect(r, "2"), "text", "plain");
	assert_string_equal(three->children->envelope->subject, "three");
	assert_ptr_equal(sect(r, "3.1"), three->children);
	/* Only direct children of a digest default to message/rfc822. */
	type_is(three->children, "text", "plain");
	mime_tree_free(r);
}

static void
test_rfc2231(void **state)
{
	const char *m =
		"Content-Type: application/x-stuff;\r\n"
		" title*0*=us-ascii'en'This%20is%20even%20more%20;\r\n"
		" title*1*=%2A%2A%2Afun%2A%2A%2A%20;\r\n"
		" title*2=\"isn't it!\"; NAME=plain;\r\n"
		" name*=iso-8859-1''caf%E9.txt; a*1=late; a*0=early;\r\n"
		" gap*0=one; gap*2=three; odd*=nocharset%41\r\n"
		"Content-Disposition: attachment; filename*0=\"long \";\r\n"
		" filename*1=\"name.txt\"; FileName=\"fallback\"\r\n"
		"\r\n";
	struct mime_part *r = parse(m);
	const struct mime_param *p = r->params;

	type_is(r, "application", "x-stuff");
	/* Plain parameters first, then RFC 2231 ones by name (Dovecot's
	 * order), sections joined when they run 0, 1, 2... */
	assert_int_equal(r->nparams, 7);
	assert_string_equal(p[0].name, "NAME");
	assert_string_equal(p[0].value, "plain");
	assert_null(p[0].decoded);
	assert_string_equal(p[1].name, "a");
	assert_string_equal(p[1].value, "earlylate");
	assert_null(p[1].decoded);
	/* A gap: each section as it came. */
	assert_string_equal(p[2].name, "gap*0");
	assert_string_equal(p[2].value, "one");
	assert_string_equal(p[3].name, "gap*2");
	assert_string_equal(p[3].value, "three");
	/* Extended: shown as written, decoded beside. */
	assert_string_equal(p[4].name, "name*");
	assert_string_equal(p[4].value, "iso-8859-1''caf%E9.txt");
	assert_string_equal(p[4].decoded, "caf\xc3\xa9.txt");
	assert_string_equal(p[4].charset, "iso-8859-1");
	assert_string_equal(p[4].language, "");
	assert_string_equal(p[5].name, "odd*");
	assert_string_equal(p[5].value, "nocharset%41");
	assert_string_equal(p[5].decoded, "nocharsetA");
	assert_string_equal(p[5].charset, "");
	assert_string_equal(p[6].name, "title*");
	assert_string_equal(p[6].decoded,
			    "This is even more ***fun*** isn't it!");
	assert_string_equal(p[6].charset, "us-ascii");
	assert_string_equal(p[6].language, "en");
	/* The plain section in an extended value is percent-encoded
	 * (RFC 2231 7 attribute-char). */
	assert_string_equal(p[6].value, "us-ascii'en'This%20is%20even%20more%20"
					"%2A%2A%2Afun%2A%2A%2A%20isn%27t%20it!");
	assert_string_equal(mime_param_get(p, r->nparams, "name"), "plain");
	assert_int_equal(r->ndisp_params, 2);
	assert_string_equal(r->disp_params[0].name, "FileName");
	assert_string_equal(r->disp_params[0].value, "fallback");
	assert_string_equal(r->disp_params[1].name, "filename");
	assert_string_equal(r->disp_params[1].value, "long name.txt");
	mime_tree_free(r);

	/* "name*" after numbered sections is whole (RFC 2231 4), and a
	 * repeated section joins nothing. */
	r = parse("Content-Type: application/x; a*0=x; a*1=y; b*=UTF-8''z\r\n"
		  "Content-Disposition: attachment; f*=UTF-8''x; f*=UTF-8''y;"
		  " g*0*=x; g*1*=%41\r\n\r\n");
	assert_int_equal(r->nparams, 2);
	assert_string_equal(r->params[1].name, "b*");
	assert_string_equal(r->params[1].decoded, "z");
	assert_int_equal(r->ndisp_params, 3);
	assert_string_equal(r->disp_params[0].name, "f*0*");
	assert_string_equal(r->disp_params[0].value, "UTF-8''x");
	assert_string_equal(r->disp_params[1].name, "f*0*");
	assert_string_equal(r->disp_params[1].value, "UTF-8''y");
	/* Extended without charset'language': passed on as written. */
	assert_string_equal(r->disp_params[2].name, "g*");
	assert_string_equal(r->disp_params[2].value, "x%41");
	assert_string_equal(r->disp_params[2].decoded, "xA");
	mime_tree_free(r);
}

static void
test_content_type_quirks(void **state)
{
	struct mime_part *r;

	/* Comments, odd spacing, case kept; an unquoted value ends at a
	 * tspecial and the rest up to the next ';' is skipped, as are
	 * empty and junk parameters (as Dovecot reads them). */
	r = parse("Content-Type: (c) Text / HTML (x) ; CharSet = \"utf-8\" "
		  "(y); boundary=----=_Part_1.2; q=\"a\\\"b\"; ; junk; k=v\r\n"
		  "\r\n");
	type_is(r, "Text", "HTML");
	assert_int_equal(r->nparams, 4);
	assert_string_equal(r->params[0].name, "CharSet");
	assert_string_equal(r->params[0].value, "utf-8");
	assert_string_equal(r->params[1].value, "----");
	assert_string_equal(r->params[2].value, "a\"b");
	assert_string_equal(r->params[3].name, "k");
	assert_string_equal(mime_part_charset(r), "utf-8");
	mime_tree_free(r);

	/* Repeated parameters all stay; the first counts. */
	r = parse("Content-Type: text/plain; charset=a; charset=b; x=\"open\r\n"
		  "\r\n");
	assert_int_equal(r->nparams, 2);
	assert_string_equal(r->params[1].value, "b");
	assert_string_equal(mime_part_charset(r), "a");
	mime_tree_free(r);

	/* A type alone is kept, with subtype ""; junk after the subtype
	 * or a missing type leaves ""; none of them is the default, and
	 * only the first field counts. */
	r = parse("Content-Type: text\r\nContent-Type: image/png\r\n\r\n");
	type_is(r, "text", "");
	assert_int_equal(r->flags, 0);
	assert_int_equal(r->nparams, 0);
	assert_string_equal(mime_part_charset(r), "us-ascii");
	mime_tree_free(r);
	r = parse("Content-Type: multipart/mixed junk; boundary=b\r\n\r\n"
		  "--b\r\n\r\nx\r\n--b--\r\n");
	type_is(r, "", "");
	assert_int_equal(r->flags, 0);
	assert_int_equal(r->nchildren, 0);
	mime_tree_free(r);
	r = parse("Content-Type: /plain\r\n\r\n");
	type_is(r, "", "");
	mime_tree_free(r);
	r = parse("Content-Type: image/png\r\nContent-Type: text/html\r\n"
		  "Content-Transfer-Encoding: X-UUENCODE (old)\r\n\r\n");
	type_is(r, "image", "png");
	assert_string_equal(r->encoding, "X-UUENCODE");
	assert_int_equal(r->cte, MIME_CTE_UNKNOWN);
	mime_tree_free(r);

	/* An encoding that is not one token is the default. */
	r = parse("Content-Type: text/plain\r\n"
		  "Content-Transfer-Encoding: base64 junk\r\n\r\n");
	assert_string_equal(r->encoding, "7bit");
	mime_tree_free(r);

	/* No Content-Type and no MIME-Version: no MIME (RFC 2045 4), the
	 * other Content-* fields do not count. With either, they do. */
	r = parse("Content-Transfer-Encoding: base64\r\n"
		  "Content-Disposition: inline\r\n\r\n");
	assert_string_equal(r->encoding, "7bit");
	assert_null(r->disposition);
	assert_int_equal(r->flags, MIME_PART_DEFAULT_TYPE);
	mime_tree_free(r);
	r = parse("MIME-Version: 1.0\r\nContent-Transfer-Encoding: base64\r\n"
		  "Content-Disposition:\r\n\r\n");
	assert_string_equal(r->encoding, "base64");
	assert_string_equal(r->disposition, "");
	mime_tree_free(r);

	/* multipart without a boundary: no children. */
	r = parse("Content-Type: multipart/mixed\r\n\r\n--x\r\n\r\nhi\r\n");
	assert_int_equal(r->flags,
			 MIME_PART_MULTIPART | MIME_PART_NO_BOUNDARY);
	assert_int_equal(r->nchildren, 0);
	mime_tree_free(r);
}

/* ---- Malformed ------------------------------------------------------- */

static void
test_missing_close(void **state)
{
	const char *m = "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
			"--b\r\n\r\none\r\n--b\r\n\r\ntwo\r\nand more\r\n";
	struct mime_part *r = parse(m);

	assert_int_equal(r->flags, MIME_PART_MULTIPART | MIME_PART_NO_END);
	assert_int_equal(r->nchildren, 2);
	body_is(m, sect(r, "1"), "one");
	/* The last part ends where its parent does: at the end. */
	body_is(m, sect(r, "2"), "two\r\nand more\r\n");
	mime_tree_free(r);

	/* No delimiter at all: no children. */
	r = parse("Content-Type: multipart/mixed; boundary=b\r\n\r\ntext\r\n");
	assert_int_equal(r->nchildren, 0);
	assert_true(r->flags & MIME_PART_NO_END);
	mime_tree_free(r);
}

static void
test_boundary_lines(void **state)
{
	const char *m = "Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n"
			"preamble mentions --b and\r\n"
			" --b not at the start\r\n"
			"--b \t \r\n"
			"\r\n"
			"x --b\r\n"
			"--b--\r\n"
			"--b\r\n"
			"epilogue\r\n";
	struct mime_part *r = parse(m);

	/* Transport padding after a delimiter; after the close, "--b" is
	 * epilogue. */
	assert_int_equal(r->nchildren, 1);
	assert_int_equal(r->flags, MIME_PART_MULTIPART);
	body_is(m, sect(r, "1"), "x --b");
	mime_tree_free(r);

	/* Bare LF and a close delimiter without a line end at the end. */
	m = "Content-Type: multipart/mixed; boundary=b\n\n--b\n\nx\n\n--b--";
	r = parse(m);
	assert_int_equal(r->nchildren, 1);
	body_is(m, sect(r, "1"), "x\n");
	assert_int_equal(sect(r, "1")->header_size, 1);
	assert_int_equal(r->body_offset + r->body_size, strlen(m));
	mime_tree_free(r);

	/* Dovecot and Cyrus match delimiter prefixes; the longest wins. */
	m = "Content-Type: multipart/mixed; boundary=ab\r\n\r\n--ab\r\n"
	    "Content-Type: multipart/mixed; boundary=a\r\n\r\n"
	    "--a\r\n\r\n1\r\n--abc\r\n\r\n2\r\n--ab--\r\n";
	r = parse(m);
	assert_int_equal(r->nchildren, 2);
	assert_int_equal(sect(r, "1")->nchildren, 1);
	body_is(m, sect(r, "1.1"), "1");
	body_is(m, sect(r, "2"), "2");
	mime_tree_free(r);
}

static void
test_nested_same_boundary(void **state)
{
	/* An inner multipart reusing the outer boundary: the innermost
	 * takes it (RFC 2046 forbids it; Dovecot does this). */
	const char *m = "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
			"--b\r\nContent-Type: multipart/mixed; "
			"boundary=b\r\n\r\n"
			"--b\r\n\r\nin\r\n--b--\r\nafter\r\n--b\r\n\r\nout\r\n"
			"--b--\r\n";
	struct mime_part *r = parse(m);

	assert_int_equal(r->nchildren, 2);
	assert_int_equal(sect(r, "1")->nchildren, 1);
	body_is(m, sect(r, "1.1"), "in");
	body_is(m, sect(r, "2"), "out");
	mime_tree_free(r);

	/* "--i" then at once "--o--": the empty part after "--i" starts
	 * after the CRLF the outer delimiter claims; its parent ends there
	 * too, never before its child. */
	m = "Content-Type: multipart/mixed; boundary=o\r\n\r\n--o\r\n"
	    "Content-Type: multipart/mixed; boundary=i\r\n\r\n--i\r\n"
	    "--o--\r\n";
	r = parse(m);
	assert_int_equal(sect(r, "1")->nchildren, 1);
	assert_int_equal(sect(r, "1.1")->header_offset,
			 strstr(m, "--o--") - m);
	assert_int_equal(sect(r, "1.1")->header_size, 0);
	assert_int_equal(sect(r, "1")->body_offset + sect(r, "1")->body_size,
			 strstr(m, "--o--") - m);
	mime_tree_free(r);
}

static void
test_header_ends(void **state)
{
	/* A part's header cut by a delimiter, an empty part, a part at the
	 * end without a line end. */
	const char *m = "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
			"--b\r\nContent-Type: text/html\r\n--b\r\n--b\r\n"
			"Content-Type: image/gif\r\n\r\n--b";
	struct mime_part *r = parse(m);
	const struct mime_part *p;

	assert_int_equal(r->nchildren, 4);
	p = sect(r, "1");
	type_is(p, "text", "html");
	assert_int_equal(p->header_size, strlen("Content-Type: text/html\r\n"));
	assert_int_equal(p->body_size, 0);
	p = sect(r, "2");
	assert_int_equal(p->header_size, 0);
	assert_int_equal(p->body_size, 0);
	type_is(sect(r, "3"), "image", "gif");
	assert_int_equal(sect(r, "3")->body_size, 0);
	p = sect(r, "4");
	assert_int_equal(p->header_offset, strlen(m));
	assert_int_equal(p->header_size + p->body_size, 0);
	mime_tree_free(r);

	/* A header that never ends, and a message with no header. */
	r = parse("Subject: x\r\nFrom: y");
	assert_int_equal(r->header_size, 19);
	assert_int_equal(r->body_size, 0);
	assert_string_equal(r->envelope->from, "y");
	mime_tree_free(r);
	r = parse("\r\nbody");
	assert_int_equal(r->header_size, 2);
	assert_int_equal(r->body_size, 4);
	mime_tree_free(r);
	r = parse("");
	assert_int_equal(r->header_size + r->body_size, 0);
	assert_int_equal(r->flags, MIME_PART_DEFAULT_TYPE);
	mime_tree_free(r);
}

static void
test_header_garbage(void **state)
{
	static const char m[] = "From foo@bar Mon Jan  1 00:00:00 2000\r\n"
				" orphan continuation\r\n"
				"no colon here\r\n"
				"Subject : spaced\r\n\tfolded\r\n"
				"Bad Name: x\r\n"
				"X-Nul: a\0b\r\n"
				"To:\r\n"
				"\r\n"
				"body\0with NUL\r\n";
	struct mime_part *r = parse_lim(m, sizeof(m) - 1, NULL);

	assert_string_equal(r->envelope->subject, "spaced\tfolded");
	assert_string_equal(r->envelope->to, "");
	assert_null(r->envelope->from);
	assert_int_equal(r->body_size, 15);
	mime_tree_free(r);
}

static void
test_long_lines(void **state)
{
	size_t n = 300000;
	char *m = malloc(n + 200), *p = m;
	struct mime_part *r;

	p += sprintf(p, "Content-Type: multipart/mixed; boundary=b\r\n"
			"Subject: ");
	memset(p, 'x', 100000);
	p += 100000;
	p += sprintf(p, "\r\n\r\n--b\r\n\r\n");
	memset(p, '-', 100000);
	p += 100000;
	p += sprintf(p, "\r\n--b--\r\n");
	r = parse_chunked(m, (size_t)(p - m), 7, NULL);
	/* The header is longer than kept, so the subject is cut at 64 KiB;
	 * the structure does not suffer. */
	assert_true(r->flags & MIME_PART_HEADER_TRUNCATED);
	assert_true(strlen(r->envelope->subject) < 65536);
	assert_int_equal(r->nchildren, 1);
	assert_int_equal(sect(r, "1")->body_size, 100000);
	mime_tree_free(r);
	free(m);
}

/* ---- Limits ---------------------------------------------------------- */

static char *
nest(unsigned levels, size_t *len_r)
{
	char *m = malloc(levels * 120 + 100), *p = m;

	for (unsigned i = 0; i < levels; i++)
		p += sprintf(p, "Content-Type: multipart/mixed; boundary=l%u_"
				"\r\n\r\n--l%u_\r\n", i, i);
	p += sprintf(p, "\r\ndeep\r\n");
	for (unsigned i = levels; i-- > 0;)
		p += sprintf(p, "--l%u_--\r\n", i);
	*len_r = (size_t)(p - m);
	return m;
}

static unsigned
depth_of(const struct mime_part *p)
{
	unsigned d = 0;

	for (const struct mime_part *c = p->children; c; c = c->next) {
		unsigned k = depth_of(c) + 1;

		d = k > d ? k : d;
	}
	return d;
}

static void
test_depth_limit(void **state)
{
	struct mime_limits lim = {.max_depth = 5};
	size_t len;
	char *m = nest(30, &len);
	struct mime_part *r = parse_lim(m, len, NULL);
	const struct mime_part *p = r;

	assert_int_equal(depth_of(r), 20);
	while (p->children)
		p = p->children;
	assert_int_equal(p->flags, MIME_PART_MULTIPART | MIME_PART_OPAQUE);
	/* The opaque part's body holds everything below it. */
	assert_true(p->body_size > 200);
	mime_tree_free(r);

	r = parse_lim(m, len, &lim);
	assert_int_equal(depth_of(r), 5);
	mime_tree_free(r);
	free(m);

	/* Within the limit, every level is there. */
	m = nest(19, &len);
	r = parse_lim(m, len, NULL);
	assert_int_equal(depth_of(r), 19);
	mime_tree_free(r);
	free(m);
}

static void
test_parts_limit(void **state)
{
	size_t n = 2500, len;
	char *m = malloc(n * 20 + 100), *p = m;
	struct mime_limits lim = {.max_parts = 10};
	struct mime_part *r;

	p += sprintf(p, "Content-Type: multipart/mixed; boundary=b\r\n\r\n");
	for (size_t i = 0; i < n; i++)
		p += sprintf(p, "--b\r\n\r\n%zu\r\n", i);
	p += sprintf(p, "--b--\r\n");
	len = (size_t)(p - m);
	r = parse_chunked(m, len, 0, NULL);
	assert_int_equal(r->nchildren, 999);
	assert_int_equal(r->flags, MIME_PART_MULTIPART | MIME_PART_NO_END |
					   MIME_PART_PARTS_LIMIT);
	/* The last part takes the rest, like Dovecot. */
	assert_int_equal(sect(r, "999")->body_offset +
				 sect(r, "999")->body_size, len);
	mime_tree_free(r);

	r = parse_lim(m, 200, &lim);
	assert_int_equal(r->nchildren, 9);
	mime_tree_free(r);
	free(m);
}

static void
test_header_budget(void **state)
{
	struct mime_limits lim = {.max_header = 40, .max_header_total = 100};
	const char *m = "Subject: short\r\nContent-Type: multipart/mixed; "
			"boundary=b\r\n\r\n--b\r\nContent-Type: text/html"
			"\r\n\r\n"
			"--b\r\nContent-Type: text/html\r\n\r\n--b--\r\n";
	struct mime_part *r = parse_lim(m, strlen(m), &lim);

	/* 40 octets of the root's header: what is left of Content-Type,
	 * "multipart/", does not parse, so the body is not split. */
	assert_true(r->flags & MIME_PART_HEADER_TRUNCATED);
	assert_string_equal(r->envelope->subject, "short");
	type_is(r, "", "");
	assert_int_equal(r->nchildren, 0);
	mime_tree_free(r);

	lim.max_header = 1000;
	lim.max_header_total = 100;
	r = parse_lim(m, strlen(m), &lim);
	assert_int_equal(r->nchildren, 2);
	type_is(sect(r, "1"), "text", "html");
	/* The budget ran out: the second part's header is not kept. */
	type_is(sect(r, "2"), "text", "plain");
	assert_true(sect(r, "2")->flags & MIME_PART_HEADER_TRUNCATED);
	mime_tree_free(r);
}

/* ---- Sizes ----------------------------------------------------------- */

static void
test_crlf_accounting(void **state)
{
	const char *m = "Content-Type: multipart/mixed; boundary=b\r\n"
			"\r\n"
			"\r\n"            /* preamble: an empty line */
			"--b\r\n"
			"\r\n"
			"\r\n"            /* body: the delimiter's CRLF */
			"--b\r\n"
			"\r\n"
			"a\r\n\r\n\r\n"   /* "a" CRLF CRLF, the delimiter's */
			"--b\r\n"
			"\r\n"
			"--b\r\n"         /* empty: header's CRLF, no body */
			"X: y\r\n"
			"\r\n"
			"\n\r\n"          /* a bare LF, then the delimiter's */
			"--b--\r\n";
	struct mime_part *r = parse(m);

	assert_int_equal(r->nchildren, 4);
	body_is(m, sect(r, "1"), "");
	body_is(m, sect(r, "2"), "a\r\n\r\n");
	body_is(m, sect(r, "3"), "");
	body_is(m, sect(r, "4"), "\n");
	assert_int_equal(sect(r, "4")->header_size, 8);
	assert_int_equal(r->body_lines, 17);
	assert_int_equal(r->header_size + r->body_size, strlen(m));
	mime_tree_free(r);
}

/* ---- Cache ----------------------------------------------------------- */

/* Blobs already stored carry this checksum: the standard check values
 * of CRC-32 (ISO-HDLC), whatever way it is computed. */
static void
test_cache_crc(void **state)
{
	unsigned char all[256];

	assert_int_equal(mime_crc32("", 0), 0);
	assert_int_equal(mime_crc32("123456789", 9), 0xcbf43926u);
	for (int i = 0; i < 256; i++)
		all[i] = (unsigned char)i;
	assert_int_equal(mime_crc32(all, sizeof(all)), 0x29058c73u);
}

static void
test_cache_reject(void **state)
{
	struct mime_part *r = parse(forwarded), *t;
	unsigned char *blob, *bad;
	size_t len;

	assert_int_equal(mime_cache_write(r, (void **)&blob, &len), MIME_OK);
	bad = malloc(len);
	for (size_t n = 0; n < len; n++)
		assert_int_equal(mime_cache_read(blob, n, &t), MIME_EINVAL);
	for (size_t i = 0; i < len; i++)
		for (int bit = 0; bit < 8; bit++) {
			memcpy(bad, blob, len);
			bad[i] ^= (unsigned char)(1 << bit);
			assert_int_equal(mime_cache_read(bad, len, &t),
					 MIME_EINVAL);
		}
	/* Another version is refused, not misread. */
	memcpy(bad, blob, len);
	bad[4] = MIME_CACHE_VERSION + 1;
	assert_int_equal(mime_cache_read(bad, len, &t), MIME_EINVAL);
	/* Version 1 (types lower-cased, one value per parameter) too: the
	 * caller parses the message again (modules/imap/structure.c). */
	bad[4] = 1;
	assert_int_equal(mime_cache_read(bad, len, &t), MIME_EINVAL);
	assert_int_equal(mime_cache_read("", 0, &t), MIME_EINVAL);
	assert_null(t);
	free(bad);
	free(blob);
	mime_tree_free(r);
}

static void
test_cache_sizes(void **state)
{
	struct mime_part *r = parse(mixed);
	void *blob;
	size_t len;

	assert_int_equal(mime_cache_write(r, &blob, &len), MIME_OK);
	/* Compact: smaller than the headers it stands for. */
	assert_true(len < strlen(mixed));
	free(blob);
	mime_tree_free(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_simple),
		cmocka_unit_test(test_alternative),
		cmocka_unit_test(test_mixed_nested),
		cmocka_unit_test(test_message_rfc822),
		cmocka_unit_test(test_message_leaf),
		cmocka_unit_test(test_digest),
		cmocka_unit_test(test_rfc2231),
		cmocka_unit_test(test_content_type_quirks),
		cmocka_unit_test(test_missing_close),
		cmocka_unit_test(test_boundary_lines),
		cmocka_unit_test(test_nested_same_boundary),
		cmocka_unit_test(test_header_ends),
		cmocka_unit_test(test_header_garbage),
		cmocka_unit_test(test_long_lines),
		cmocka_unit_test(test_depth_limit),
		cmocka_unit_test(test_parts_limit),
		cmocka_unit_test(test_header_budget),
		cmocka_unit_test(test_crlf_accounting),
		cmocka_unit_test(test_cache_crc),
		cmocka_unit_test(test_cache_reject),
		cmocka_unit_test(test_cache_sizes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
