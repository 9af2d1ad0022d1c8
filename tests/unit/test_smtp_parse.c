/* Unit tests for smtp.so's pure parts: paths (RFC 5321 4.1.2, RFC 6531
 * UTF-8), MAIL and RCPT parameters, BDAT, the DATA state machine fed
 * whole, one byte at a time and split at every offset, the spool, and
 * the trace fields. They link modules/smtp/{address,command,body,spool,
 * trace}.c directly, without poshtad. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "smtpd.h"

/* ---- Paths ------------------------------------------------------------ */

static int
path(const char *in, int null_ok, int pm_ok, struct smtp_path *p)
{
	size_t end = 0;
	int r = smtp_path_parse(in, strlen(in), null_ok, pm_ok, p, &end);

	/* Anything after the '>' is the caller's to refuse. */
	return r == SMTP_P_OK && end != strlen(in) ? SMTP_P_ADDRESS : r;
}

static void
good(const char *in, const char *addr, unsigned flags)
{
	struct smtp_path p;

	if (path(in, 1, 1, &p) != SMTP_P_OK)
		fail_msg("refused: %s", in);
	assert_string_equal(p.addr, addr);
	assert_int_equal(p.flags, flags);
}

static void
bad(const char *in)
{
	struct smtp_path p;

	if (path(in, 1, 1, &p) == SMTP_P_OK)
		fail_msg("accepted: %s", in);
}

static void
test_path_good(void **state)
{
	good("<>", "", SMTP_PATH_NULL);
	good("<a@b>", "a@b", 0);
	good("<first.last+tag@Example.ORG>", "first.last+tag@Example.ORG", 0);
	good("<\"john doe\"@example.org>", "\"john doe\"@example.org",
	     SMTP_PATH_QUOTED);
	good("<\"john\"@example.org>", "john@example.org", 0);
	good("<\"a\\\"b\"@x.org>", "\"a\\\"b\"@x.org", SMTP_PATH_QUOTED);
	good("<@a.example,@b.example:user@c.example>", "user@c.example",
	     SMTP_PATH_ROUTE);
	good("<@a.example:user@c.example>", "user@c.example",
	     SMTP_PATH_ROUTE);
	good("<j\xc3\xbcrgen@b\xc3\xbc" "cher.example>",
	     "j\xc3\xbcrgen@b\xc3\xbc" "cher.example", SMTP_PATH_UTF8);
	good("<a@[192.0.2.1]>", "a@[192.0.2.1]", SMTP_PATH_LITERAL);
	good("<a@[IPv6:2001:db8::1]>", "a@[IPv6:2001:db8::1]",
	     SMTP_PATH_LITERAL);
	good("<a@[x-tag:stuff]>", "a@[x-tag:stuff]", SMTP_PATH_LITERAL);
	good("<Postmaster>", "Postmaster", SMTP_PATH_NODOMAIN);
	good("<user%other@local>", "user%other@local", SMTP_PATH_ROUTING);
	good("<host!user@local>", "host!user@local", SMTP_PATH_ROUTING);
	good("<\"user@other\"@local>", "\"user@other\"@local",
	     SMTP_PATH_QUOTED | SMTP_PATH_ROUTING);
	good("<a@192.0.2.1>", "a@192.0.2.1", 0);
}

static void
test_path_bad(void **state)
{
	static const char *const cases[] = {
		"a@b", "<a@b", "a@b>", "<a @b>", "< a@b>", "<a@b >",
		"<a@b.>", "<a@b..c>", "<a@.b>", "<a@-b.c>", "<a@b-.c>",
		"<.a@b>", "<a.@b>", "<a..b@c>", "<a@>", "<@b>", "<a@b@c>",
		"<a>", "<\"a\">", "<a@b\\c>", "<a@b_c.d>", "<a\x01@b>",
		"<a@b\x7f>", "<a\xc3@b>", "<a\xc0\xaf@b>", "<a\xed\xa0\x80@b>",
		"<a@[1.2.3.256]>", "<a@[1.2.3]>", "<a@[IPv6:zz]>",
		"<a@[1.2.3.4>", "<a@[]>", "<@a:>", "<@a,b:c@d>", "<@a c@d>",
		"<\"unterminated@b>", "<\"a\x01\"@b>", "<a@b>>", "",
		"<", "<@>", "<a\"b@c>",
	};
	struct smtp_path p;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		bad(cases[i]);
	/* Null and Postmaster only where allowed. */
	assert_int_not_equal(path("<>", 0, 1, &p), SMTP_P_OK);
	assert_int_not_equal(path("<Postmaster>", 1, 0, &p), SMTP_P_OK);
}

static void
test_path_lengths(void **state)
{
	char local[80], buf[600], label[70];
	struct smtp_path p;

	/* A local part of 64 octets passes, 65 does not (4.5.3.1.1). */
	memset(local, 'l', 65);
	local[64] = '\0';
	snprintf(buf, sizeof(buf), "<%s@x.org>", local);
	assert_int_equal(path(buf, 0, 0, &p), SMTP_P_OK);
	local[64] = 'l';
	local[65] = '\0';
	snprintf(buf, sizeof(buf), "<%s@x.org>", local);
	assert_int_not_equal(path(buf, 0, 0, &p), SMTP_P_OK);
	/* A quoted local part counts its quotes and escapes. */
	memset(local, 'q', 58);
	snprintf(buf, sizeof(buf), "<\"%.58s\xf0\x9f\x98\x80\"@x>", local);
	assert_int_equal(path(buf, 0, 0, &p), SMTP_P_OK);
	assert_int_equal(p.local_len, 62); /* a dot-string: unquoted */
	snprintf(buf, sizeof(buf), "<\"%.59s\xf0\x9f\x98\x80\"@x>", local);
	assert_int_not_equal(path(buf, 0, 0, &p), SMTP_P_OK);
	snprintf(buf, sizeof(buf), "<\"%.61s\\\"\"@x>", local);
	assert_int_not_equal(path(buf, 0, 0, &p), SMTP_P_OK);
	/* A label of 64 octets is too long. */
	memset(label, 'd', 64);
	label[64] = '\0';
	snprintf(buf, sizeof(buf), "<a@%s.org>", label);
	assert_int_not_equal(path(buf, 0, 0, &p), SMTP_P_OK);
	/* A domain past 255 octets, and a path past 256 (4.5.3.1.3). */
	memset(label, 'd', 63);
	label[63] = '\0';
	snprintf(buf, sizeof(buf), "<a@%s.%s.%s.%s.org>", label, label,
		 label, label);
	assert_int_not_equal(path(buf, 0, 0, &p), SMTP_P_OK);
	snprintf(buf, sizeof(buf), "<%.60s@%s.%s.%s.or>", local, label,
		 label, label);
	assert_true(strlen(buf) > SMTP_PATH_MAX);
	assert_int_not_equal(path(buf, 0, 0, &p), SMTP_P_OK);
	snprintf(buf, sizeof(buf), "<%.1s@%s.%s.%s.or>", local, label,
		 label, label);
	assert_int_equal(path(buf, 0, 0, &p), SMTP_P_OK);
}

/* ---- Commands --------------------------------------------------------- */

static void
test_verbs(void **state)
{
	size_t args;

	assert_int_equal(smtp_verb_parse("mail FROM:<a@b>", 15, &args),
			 SMTP_V_MAIL);
	assert_int_equal(args, 5);
	assert_int_equal(smtp_verb_parse("EHLO   x", 8, &args), SMTP_V_EHLO);
	assert_int_equal(args, 7);
	assert_int_equal(smtp_verb_parse("StartTLS", 8, &args),
			 SMTP_V_STARTTLS);
	assert_int_equal(args, 8);
	assert_int_equal(smtp_verb_parse("MAILX", 5, &args), SMTP_V_UNKNOWN);
	assert_int_equal(smtp_verb_parse("", 0, &args), SMTP_V_UNKNOWN);
}

static int
mail(const char *in, struct smtp_mail *m)
{
	return smtp_mail_parse(in, strlen(in), m);
}

static int
rcpt(const char *in, struct smtp_rcpt *r)
{
	return smtp_rcpt_parse(in, strlen(in), r);
}

static void
test_mail_params(void **state)
{
	struct smtp_mail m;

	assert_int_equal(mail("FROM:<a@b> SIZE=100 BODY=8BITMIME SMTPUTF8 "
			      "RET=HDRS ENVID=QQ+2Bx AUTH=<>", &m), 0);
	assert_string_equal(m.path.addr, "a@b");
	assert_int_equal(m.size, 100);
	assert_int_equal(m.body, SMTP_BODY_8BITMIME);
	assert_int_equal(m.smtputf8, 1);
	assert_int_equal(m.ret, SMTP_RET_HDRS);
	assert_string_equal(m.envid, "QQ+2Bx");
	assert_int_equal(m.auth, 1);
	assert_int_equal(m.requiretls, 0);
	assert_int_equal(mail("FROM:<a@b> requiretls", &m), 0);
	assert_int_equal(m.requiretls, 1);
	assert_int_equal(mail("FROM:<a@b> REQUIRETLS=1", &m), SMTP_P_PARAM);
	assert_int_equal(mail("FROM:<a@b> REQUIRETLS REQUIRETLS", &m),
			 SMTP_P_PARAM);
	assert_int_equal(mail("from: <a@b>  body=7bit ", &m), 0);
	assert_int_equal(m.body, SMTP_BODY_7BIT);
	assert_int_equal(mail("FROM:<>", &m), 0);
	assert_int_equal(m.path.flags, SMTP_PATH_NULL);
	assert_int_equal(mail("FROM:<a@b> SIZE=12345678901234567890", &m), 0);
	assert_true(m.size == 12345678901234567890ULL);
	assert_int_equal(mail("FROM:<a@b> SIZE=18446744073709551616", &m), 0);
	assert_true(m.size == UINT64_MAX);

	assert_int_equal(mail("FROM:<a@b> FOO=1", &m), SMTP_P_UNKNOWN);
	assert_int_equal(mail("FROM:<a@b> BODY=BINARYMIME", &m),
			 SMTP_P_UNKNOWN);
	assert_int_equal(mail("FROM:<a@b> BODY=9BIT", &m), SMTP_P_PARAM);
	assert_int_equal(mail("FROM:<a@b> SIZE=abc", &m), SMTP_P_PARAM);
	assert_int_equal(mail("FROM:<a@b> SIZE", &m), SMTP_P_PARAM);
	assert_int_equal(mail("FROM:<a@b> SIZE=123456789012345678901", &m),
			 SMTP_P_PARAM);
	assert_int_equal(mail("FROM:<a@b> SIZE=1 SIZE=2", &m), SMTP_P_PARAM);
	assert_int_equal(mail("FROM:<a@b> SMTPUTF8=yes", &m), SMTP_P_PARAM);
	assert_int_equal(mail("FROM:<a@b> RET=ALL", &m), SMTP_P_PARAM);
	assert_int_equal(mail("FROM:<a@b> ENVID=", &m), SMTP_P_PARAM);
	assert_int_equal(mail("FROM:<a@b> ENVID=a+zz", &m), SMTP_P_PARAM);
	assert_int_equal(mail("FROM:<a@b> =1", &m), SMTP_P_PARAM);
	assert_int_equal(mail("FROM:<a@b> SIZE=1=2", &m), SMTP_P_PARAM);
	assert_int_equal(mail("FROM:<a@b> SIZE=\x01", &m), SMTP_P_PARAM);
	assert_int_equal(mail("FROM:<a@b>SIZE=1", &m), SMTP_P_ADDRESS);
	assert_int_equal(mail("FROM:a@b", &m), SMTP_P_ADDRESS);
	assert_int_equal(mail("FROM:", &m), SMTP_P_ADDRESS);
	assert_int_equal(mail("FROM<a@b>", &m), SMTP_P_SYNTAX);
	assert_int_equal(mail("TO:<a@b>", &m), SMTP_P_SYNTAX);
	assert_int_equal(mail("", &m), SMTP_P_SYNTAX);
}

static void
test_rcpt_params(void **state)
{
	struct smtp_rcpt r;

	assert_int_equal(rcpt("TO:<a@b> NOTIFY=SUCCESS,FAILURE "
			      "ORCPT=rfc822;a+40b", &r), 0);
	assert_int_equal(r.notify, SMTP_NOTIFY_SUCCESS | SMTP_NOTIFY_FAILURE);
	assert_string_equal(r.orcpt, "rfc822;a+40b");
	assert_int_equal(rcpt("to:<Postmaster> notify=never", &r), 0);
	assert_int_equal(r.notify, SMTP_NOTIFY_NEVER);
	assert_int_equal(r.path.flags, SMTP_PATH_NODOMAIN);
	assert_int_equal(rcpt("TO:<a@b> ORCPT=utf-8;j\xc3\xbcrgen@x", &r), 0);

	assert_int_equal(rcpt("TO:<a@b> NOTIFY=NEVER,SUCCESS", &r),
			 SMTP_P_PARAM);
	assert_int_equal(rcpt("TO:<a@b> NOTIFY=SUCCESS,", &r), SMTP_P_PARAM);
	assert_int_equal(rcpt("TO:<a@b> NOTIFY=DELAY,DELAY", &r),
			 SMTP_P_PARAM);
	assert_int_equal(rcpt("TO:<a@b> ORCPT=rfc822;a+4", &r), SMTP_P_PARAM);
	assert_int_equal(rcpt("TO:<a@b> ORCPT=rfc822", &r), SMTP_P_PARAM);
	assert_int_equal(rcpt("TO:<a@b> ORCPT=;a", &r), SMTP_P_PARAM);
	assert_int_equal(rcpt("TO:<a@b> SIZE=1", &r), SMTP_P_UNKNOWN);
	assert_int_equal(rcpt("TO:<a@b>x", &r), SMTP_P_ADDRESS);
	assert_int_equal(rcpt("TO:<>", &r), SMTP_P_ADDRESS);
	assert_int_equal(rcpt("TO:<alice@remote.test>@example.test>", &r),
			 SMTP_P_ADDRESS);
	assert_int_equal(rcpt("FROM:<a@b>", &r), SMTP_P_SYNTAX);
}

static void
test_bdat(void **state)
{
	uint64_t n;
	int last;

	assert_int_equal(smtp_bdat_parse("100", 3, &n, &last), 0);
	assert_true(n == 100 && !last);
	assert_int_equal(smtp_bdat_parse("0 LAST", 6, &n, &last), 0);
	assert_true(n == 0 && last);
	assert_int_equal(smtp_bdat_parse("7 last ", 7, &n, &last), 0);
	assert_true(n == 7 && last);
	assert_int_not_equal(smtp_bdat_parse("100LAST", 7, &n, &last), 0);
	assert_int_not_equal(smtp_bdat_parse("x", 1, &n, &last), 0);
	assert_int_not_equal(smtp_bdat_parse("", 0, &n, &last), 0);
	assert_int_not_equal(smtp_bdat_parse("1 LAST x", 8, &n, &last), 0);
	assert_int_not_equal(smtp_bdat_parse("-1", 2, &n, &last), 0);
	assert_int_not_equal(smtp_bdat_parse("18446744073709551616", 20, &n,
					     &last), 0);
	assert_int_equal(smtp_bdat_parse("18446744073709551615", 20, &n,
					 &last), 0);
}

static void
test_helo_domain(void **state)
{
	assert_true(smtp_helo_ok("client.test", 11));
	assert_true(smtp_helo_ok("[127.0.0.1]", 11));
	assert_false(smtp_helo_ok("", 0));
	assert_false(smtp_helo_ok("a b", 3));
	assert_false(smtp_helo_ok("a(b)", 4));
	assert_true(smtp_domain_ok("client.test", 11));
	assert_true(smtp_domain_ok("[IPv6:::1]", 10));
	assert_false(smtp_domain_ok("under_score", 11));
	assert_false(smtp_domain_ok("[1.2.3.4", 8));
}

/* ---- DATA ------------------------------------------------------------- */

struct decoded {
	char out[512];
	size_t len;
};

static void
collect(void *arg, const char *data, size_t len)
{
	struct decoded *d = arg;

	assert_true(d->len + len <= sizeof(d->out));
	memcpy(d->out + d->len, data, len);
	d->len += len;
}

/* Feed in cut at every cut-th octet (0: whole); returns octets consumed
 * and fills b and d. */
static size_t
decode(const char *in, size_t len, int raw, size_t cut,
       struct smtp_body *b, struct decoded *d)
{
	size_t pos = 0;

	smtp_body_init(b, raw);
	memset(d, 0, sizeof(*d));
	while (pos < len && !smtp_body_done(b)) {
		size_t n = cut && len - pos > cut ? cut : len - pos;
		size_t used = smtp_body_feed(b, in + pos, n, collect, d);

		assert_true(used <= n);
		if (used < n)
			assert_true(smtp_body_done(b));
		pos += used;
	}
	if (raw)
		smtp_body_finish(b, collect, d);
	assert_int_equal(b->size, d->len);
	return pos;
}

/* Whole, byte by byte and at every split the same result, which is
 * want (consumed octets, output, flags, done). */
static void
check_data(const char *in, int raw, size_t want_used, const char *want,
	   unsigned flags, int done)
{
	size_t len = strlen(in);

	for (size_t cut = 0; cut <= len; cut++) {
		struct smtp_body b;
		struct decoded d;
		size_t used = decode(in, len, raw, cut, &b, &d);

		assert_int_equal(used, want_used);
		assert_int_equal(d.len, strlen(want));
		assert_memory_equal(d.out, want, d.len);
		assert_int_equal(b.flags, flags);
		assert_int_equal(smtp_body_done(&b), done);
	}
}

static void
test_data_end(void **state)
{
	check_data("a\r\n.\r\n", 0, 6, "a\r\n", 0, 1);
	check_data(".\r\n", 0, 3, "", 0, 1);
	/* Pipelined commands after the end are not consumed. */
	check_data("a\r\n.\r\nMAIL FROM:<>\r\n", 0, 6, "a\r\n", 0, 1);
	/* LF.LF and LF.CRLF are no end (CVE-2023-51764); CR.CR neither. */
	check_data("a\n.\nb\r\n.\r\n", 0, 10, "a\n.\nb\r\n", SMTP_BODY_BARE_LF,
		   1);
	check_data("a\n.\r\nx\r\n.\r\n", 0, 11, "a\n.\r\nx\r\n",
		   SMTP_BODY_BARE_LF, 1);
	check_data("a\r.\r\nx\r\n.\r\n", 0, 11, "a\r.\r\nx\r\n",
		   SMTP_BODY_BARE_CR, 1);
	check_data("a\r\n.\rb\r\n.\r\n", 0, 11, "a\r\n\rb\r\n",
		   SMTP_BODY_BARE_CR, 1);
	check_data("a\r\n.\n", 0, 5, "a\r\n\n", SMTP_BODY_BARE_LF, 0);
	check_data("a\r\r\n.\r\n", 0, 7, "a\r\r\n", SMTP_BODY_BARE_CR, 1);
	check_data("no end\r\n", 0, 8, "no end\r\n", 0, 0);
}

static void
test_data_unstuff(void **state)
{
	check_data("..x\r\n....\r\n..\r\nend\r\n.\r\n", 0, 23,
		   ".x\r\n...\r\n.\r\nend\r\n", 0, 1);
	check_data(".x\r\n.\r\n", 0, 7, "x\r\n", 0, 1);
	/* Only at a line start. */
	check_data("a.b\r\n.\r\n", 0, 8, "a.b\r\n", 0, 1);
}

static void
test_data_raw(void **state)
{
	check_data("a\r\n.\r\nb", 1, 7, "a\r\n.\r\nb", 0, 0);
	check_data("a\nb", 1, 3, "a\nb", SMTP_BODY_BARE_LF, 0);
	check_data("a\r", 1, 2, "a\r", SMTP_BODY_BARE_CR, 0);
	check_data("..\r\n", 1, 4, "..\r\n", 0, 0);
}

static void
test_data_headers(void **state)
{
	const char *in = "A: b\r\nC: d\r\n\r\nbody\r\n\r\n.\r\n";
	struct smtp_body b;
	struct decoded d;

	decode(in, strlen(in), 0, 1, &b, &d);
	assert_true(b.header_done);
	assert_int_equal(b.header_end, 12);
	in = "\r\nbody\r\n.\r\n";
	decode(in, strlen(in), 0, 0, &b, &d);
	assert_true(b.header_done);
	assert_int_equal(b.header_end, 0);
	in = "A: b\r\n.\r\n";
	decode(in, strlen(in), 0, 0, &b, &d);
	assert_false(b.header_done);
}

/* ---- Spool and trace --------------------------------------------------- */

static void
test_spool(void **state)
{
	struct smtp_spool sp;
	char *in = malloc(3 * SMTP_SPOOL_MEM), *out = malloc(4096);
	size_t got, total = 3 * SMTP_SPOOL_MEM - 5;

	assert_non_null(in);
	assert_non_null(out);
	for (size_t i = 0; i < total; i++)
		in[i] = (char)(i * 7);
	smtp_spool_init(&sp, "/tmp");
	for (size_t off = 0; off < total; off += 1000) {
		size_t n = total - off < 1000 ? total - off : 1000;

		assert_int_equal(smtp_spool_write(&sp, in + off, n), 0);
	}
	assert_int_equal(smtp_spool_flush(&sp), 0);
	assert_true(sp.fd >= 0);
	assert_true(sp.size == total);
	for (uint64_t off = 0; off < total; off += got) {
		assert_int_equal(smtp_spool_read(&sp, off, out, 4096, &got), 0);
		assert_true(got > 0);
		assert_memory_equal(out, in + off, got);
	}
	assert_int_equal(smtp_spool_read(&sp, total, out, 4096, &got), 0);
	assert_int_equal(got, 0);
	smtp_spool_reset(&sp);
	assert_int_equal(smtp_spool_write(&sp, "small", 5), 0);
	assert_int_equal(smtp_spool_flush(&sp), 0);
	assert_true(sp.fd < 0);
	assert_int_equal(smtp_spool_read(&sp, 1, out, 4096, &got), 0);
	assert_int_equal(got, 4);
	assert_memory_equal(out, "mall", 4);
	smtp_spool_reset(&sp);
	free(in);
	free(out);
}

static void
test_trace(void **state)
{
	struct smtp_trace t = {
		.sender = "a@b.example", .helo = "client.test",
		.client_ip = "192.0.2.7", .hostname = "mx.example",
		.with = smtp_trace_with(1, 0, 1, 1),
		.tls_info = "TLSv1.3 TLS_AES_256_GCM_SHA384",
		.user = "alice@example.test", .id = "q1-2-3",
		.rcpt = "bob@example.test", .now = 0, .tz_minutes = -90,
	};
	size_t len;
	char *h = smtp_trace_headers(&t, &len);

	assert_non_null(h);
	assert_int_equal(strlen(h), len);
	assert_string_equal(h,
		"Return-Path: <a@b.example>\r\n"
		"Received: from client.test ([192.0.2.7])\r\n"
		"\tby mx.example (Poshta) with ESMTPSA id q1-2-3\r\n"
		"\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384)\r\n"
		"\t(authenticated as alice@example.test)\r\n"
		"\tfor <bob@example.test>;\r\n"
		"\tWed, 31 Dec 1969 22:30:00 -0130\r\n");
	free(h);
	t.helo = "bad_name";
	t.client_ip = "::1";
	t.tls_info = NULL;
	t.user = NULL;
	t.rcpt = NULL;
	t.with = smtp_trace_with(0, 0, 0, 0);
	h = smtp_trace_headers(&t, &len);
	assert_non_null(h);
	assert_non_null(strstr(h, "from [IPv6:::1] ([IPv6:::1]) "
			       "(helo=bad_name)\r\n"));
	assert_non_null(strstr(h, "with SMTP id q1-2-3;\r\n"));
	free(h);
	/* Made here (a DSN): no client, no protocol. */
	t.sender = "";
	t.client_ip = NULL;
	t.with = NULL;
	t.rcpt = "a@b.example";
	h = smtp_trace_headers(&t, &len);
	assert_non_null(h);
	assert_string_equal(h,
		"Return-Path: <>\r\n"
		"Received: by mx.example (Poshta) id q1-2-3\r\n"
		"\tfor <a@b.example>;\r\n"
		"\tWed, 31 Dec 1969 22:30:00 -0130\r\n");
	free(h);
	assert_string_equal(smtp_trace_with(1, 1, 1, 0), "UTF8SMTPS");
	assert_string_equal(smtp_trace_with(1, 0, 0, 1), "ESMTPA");
}

/* RFC 5321 6.3: Received fields at a line start, in any case. */
static void
test_trace_hops(void **state)
{
	(void)state;
	assert_int_equal(smtp_trace_hops(""), 0);
	assert_int_equal(smtp_trace_hops(NULL), 0);
	assert_int_equal(smtp_trace_hops(
		"Received: a\r\n\tfolded Received: no\r\n"
		"RECEIVED:b\r\nX-Received: c\r\nSubject: Received: d\r\n"
		"received: e"), 3);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_path_good),
		cmocka_unit_test(test_path_bad),
		cmocka_unit_test(test_path_lengths),
		cmocka_unit_test(test_verbs),
		cmocka_unit_test(test_mail_params),
		cmocka_unit_test(test_rcpt_params),
		cmocka_unit_test(test_bdat),
		cmocka_unit_test(test_helo_domain),
		cmocka_unit_test(test_data_end),
		cmocka_unit_test(test_data_unstuff),
		cmocka_unit_test(test_data_raw),
		cmocka_unit_test(test_data_headers),
		cmocka_unit_test(test_spool),
		cmocka_unit_test(test_trace),
		cmocka_unit_test(test_trace_hops),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
