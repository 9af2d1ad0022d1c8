/* Unit tests for libpsdsn: every action, RET=FULL and HDRS and none,
 * ENVID and ORCPT present and absent, internationalised addresses (RFC
 * 6533 types), a huge original (cut, said so, read in bounded chunks),
 * diagnostics and original lines past 998 octets, originals that start
 * lines with the boundary, bare LF, a reader or writer that fails and an
 * original that changes, xtext round trips and malformed xtext, and the
 * loop check. Every DSN built is checked for CRLF lines of at most 998
 * octets whose only boundary lines are the delimiters. Links
 * modules/dsn/libpsdsn.la and libpsmime alone. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <cmocka.h>

#include "dsn.h"

#define ID "0123456789abcdef"
#define NOW 1700000000

static const char small_msg[] =
	"Received: from client.example (client.example [192.0.2.1])\r\n"
	"From: Alice <alice@example.org>\r\n"
	"To: bob@example.com\r\n"
	"Subject: hello\r\n"
	"Message-ID: <m1@example.org>\r\n"
	"\r\n"
	"Hello Bob,\r\n"
	"the body line.\r\n";

#define SMALL {.data = small_msg, .len = sizeof(small_msg) - 1}

/* ---- Reader and writer ------------------------------------------------ */

struct src {
	const char *data;
	size_t len;
	size_t max_read;   /* largest request seen */
	unsigned reads;
	int fail;          /* fail from this read on (1-based), 0: never */
	/* generated: gen_len octets of "line NNNNN ...\r\n" */
	uint64_t gen_len;
};

static int
src_read(void *arg, uint64_t off, void *buf, size_t len, size_t *got_r)
{
	struct src *s = arg;

	s->reads++;
	if (len > s->max_read)
		s->max_read = len;
	if (s->fail && s->reads >= (unsigned)s->fail)
		return -7;
	if (s->gen_len) {
		size_t n = off >= s->gen_len ? 0 :
			(s->gen_len - off < len ? (size_t)(s->gen_len - off) :
			 len);
		for (size_t i = 0; i < n; i++) {
			uint64_t k = (off + i) % 64;
			((char *)buf)[i] = k == 62 ? '\r' : k == 63 ? '\n' :
				k == 0 && off + i < 64 ? 'X' :
				(char)('a' + k % 26);
		}
		/* the first line is a header field, then the body */
		if (off < 64 && n > 0)
			memcpy(buf, "Subject: x", n < 10 ? n : 10);
		*got_r = n;
		return 0;
	}
	*got_r = off >= s->len ? 0 : (s->len - off < len ? s->len - off : len);
	memcpy(buf, s->data + (off < s->len ? off : s->len), *got_r);
	return 0;
}

struct sink {
	char *buf;
	size_t len, cap;
	int keep;          /* 0: only count (huge output) */
	uint64_t total;
	int fail;
};

static int
sink_write(void *arg, const void *data, size_t len)
{
	struct sink *k = arg;

	if (k->fail)
		return -7;
	k->total += len;
	if (!k->keep)
		return 0;
	if (k->len + len + 1 > k->cap) {
		k->cap = (k->len + len + 1) * 2;
		k->buf = realloc(k->buf, k->cap);
		assert_non_null(k->buf);
	}
	memcpy(k->buf + k->len, data, len);
	k->len += len;
	k->buf[k->len] = '\0';
	return 0;
}

/* ---- Checks on a whole DSN ---------------------------------------------- */

/* CRLF only, lines of at most 998 octets, and exactly three delimiters
 * and one close delimiter starting with "--" boundary. */
static void
check_lines(const char *m, size_t len, const char *boundary)
{
	size_t bl = strlen(boundary), start = 0, delims = 0, closes = 0;

	for (size_t i = 0; i < len; i++) {
		if (m[i] == '\r') {
			assert_true(i + 1 < len && m[i + 1] == '\n');
		} else if (m[i] == '\n') {
			assert_true(i > 0 && m[i - 1] == '\r');
			assert_true(i - 1 - start <= 998);
			if (i - 1 - start >= bl + 2 && m[start] == '-' &&
			    m[start + 1] == '-' &&
			    strncasecmp(m + start + 2, boundary, bl) == 0) {
				if (i - 1 - start == bl + 4)
					closes++;
				else
					delims++;
				assert_true(i - 1 - start == bl + 2 ||
					    i - 1 - start == bl + 4);
			}
			start = i + 1;
		}
	}
	assert_int_equal(start, len); /* ends with CRLF */
	assert_int_equal(delims, 3);
	assert_int_equal(closes, 1);
}

static struct dsn_rcpt
rcpt(const char *addr, enum dsn_action a, const char *status)
{
	struct dsn_rcpt r = {
		.address = addr, .action = a, .status = status,
		.last_attempt = NOW - 60,
	};
	return r;
}

static struct dsn_report
report(struct src *s, struct dsn_rcpt *rcpts, size_t n)
{
	struct dsn_report r = {
		.host = "mx.example.org", .id = ID, .now = NOW,
		.tz_minutes = 60, .sender = "alice@example.org",
		.arrival = NOW - 3600, .client = "client.example [192.0.2.1]",
		.rcpts = rcpts, .nrcpts = n, .read = src_read, .read_arg = s,
	};
	return r;
}

/* Plan and write r; the DSN in k (kept), checked. */
static struct dsn_plan
build(const struct dsn_report *r, struct sink *k)
{
	struct dsn_plan p;
	const char *why = NULL;
	int rc = dsn_plan(r, &p, &why);

	if (rc != 0)
		fail_msg("dsn_plan: %s", why);
	k->keep = 1;
	rc = dsn_write(r, &p, sink_write, k, &why);
	if (rc != 0)
		fail_msg("dsn_write: %s", why);
	check_lines(k->buf, k->len, p.boundary);
	return p;
}

static void
has(const struct sink *k, const char *s)
{
	if (!strstr(k->buf, s))
		fail_msg("missing \"%s\" in:\n%s", s, k->buf);
}

static void
lacks(const struct sink *k, const char *s)
{
	if (strstr(k->buf, s))
		fail_msg("unexpected \"%s\" in:\n%s", s, k->buf);
}

/* ---- DSNs ------------------------------------------------------------- */

static void
test_failed_full(void **state)
{
	struct src s = SMALL;
	struct dsn_rcpt rc = rcpt("bob@example.com", DSN_FAILED, "5.1.1");
	struct dsn_report r = report(&s, &rc, 1);
	struct sink k = {0};
	struct dsn_plan p;

	rc.remote_mta = "mx.example.com";
	rc.diag = "550 5.1.1 <bob@example.com>: no such user";
	p = build(&r, &k);
	assert_int_equal(p.part, DSN_PART_FULL);
	assert_int_equal(p.flags, 0);
	assert_int_equal(p.cut, 0);
	assert_int_equal(p.returned, sizeof(small_msg) - 1);
	assert_string_equal(p.boundary, "=_" ID ".6553f100.00");
	has(&k, "From: \"Mail Delivery System\" <MAILER-DAEMON@mx.example.org>"
	    "\r\nTo: <alice@example.org>\r\n"
	    "Subject: Undelivered Mail Returned to Sender\r\n"
	    "Date: Tue, 14 Nov 2023 23:13:20 +0100\r\n"
	    "Message-ID: <dsn." ID ".1700000000@mx.example.org>\r\n"
	    "Auto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n"
	    "Content-Type: multipart/report; report-type=delivery-status;\r\n"
	    "\tboundary=\"=_" ID ".6553f100.00\"\r\n\r\n");
	has(&k, "Content-Type: text/plain; charset=us-ascii\r\n");
	has(&k, "<bob@example.com>: delivery failed (5.1.1)\r\n"
	    "    mx.example.com said: 550 5.1.1 <bob@example.com>: no such "
	    "user\r\n");
	has(&k, "Your message is attached below.");
	has(&k, "Content-Type: message/delivery-status\r\n\r\n"
	    "Reporting-MTA: dns; mx.example.org\r\n"
	    "Received-From-MTA: dns; client.example ([192.0.2.1])\r\n"
	    "Arrival-Date: Tue, 14 Nov 2023 22:13:20 +0100\r\n\r\n"
	    "Final-Recipient: rfc822; bob@example.com\r\n"
	    "Action: failed\r\nStatus: 5.1.1\r\n"
	    "Remote-MTA: dns; mx.example.com\r\n"
	    "Diagnostic-Code: smtp; 550 5.1.1 <bob@example.com>: no such "
	    "user\r\n"
	    "Last-Attempt-Date: Tue, 14 Nov 2023 23:12:20 +0100\r\n");
	has(&k, "Content-Type: message/rfc822\r\n\r\n");
	has(&k, small_msg);
	lacks(&k, "Original-Envelope-Id");
	lacks(&k, "Original-Recipient");
	lacks(&k, "Will-Retry-Until");
	lacks(&k, "Content-Transfer-Encoding");
	free(k.buf);
}

static void
test_ret_hdrs(void **state)
{
	struct src s = SMALL;
	struct dsn_rcpt rc = rcpt("bob@example.com", DSN_FAILED, "5.0.0");
	struct dsn_report r = report(&s, &rc, 1);
	struct sink k = {0};
	struct dsn_plan p;

	r.ret = DSN_RET_HDRS;
	p = build(&r, &k);
	assert_int_equal(p.part, DSN_PART_HDRS);
	has(&k, "Content-Type: text/rfc822-headers\r\n\r\nReceived: from");
	has(&k, "Message-ID: <m1@example.org>\r\n\r\n--=_");
	has(&k, "The header of your message is attached below.");
	lacks(&k, "Hello Bob");
	free(k.buf);

	/* RET=FULL: the body too */
	memset(&k, 0, sizeof(k));
	r.ret = DSN_RET_FULL;
	p = build(&r, &k);
	assert_int_equal(p.part, DSN_PART_FULL);
	has(&k, "Hello Bob");
	free(k.buf);
}

/* Delays and successes return the header, whatever RET says (RFC 3461
 * 4.3). */
static void
test_actions(void **state)
{
	static const struct {
		enum dsn_action a;
		const char *status, *word, *subject, *text;
	} t[] = {
		{DSN_DELAYED, "4.4.1", "delayed",
		 "Delayed Mail (still being retried)",
		 "<bob@example.com>: delivery delayed (4.4.1), still trying "
		 "until Tue, 21 Nov\r\n    2023 23:13:20 +0100"},
		{DSN_DELIVERED, "2.0.0", "delivered",
		 "Successful Mail Delivery Report",
		 "<bob@example.com>: delivered"},
		{DSN_RELAYED, "2.0.0", "relayed",
		 "Successful Mail Delivery Report",
		 "<bob@example.com>: relayed to a system that sends no"},
		{DSN_EXPANDED, "2.1.5", "expanded",
		 "Successful Mail Delivery Report",
		 "<bob@example.com>: delivered, and forwarded to other"},
		{DSN_FAILED, "4.4.7", "failed",
		 "Undelivered Mail Returned to Sender",
		 "<bob@example.com>: delivery failed (4.4.7)"},
	};
	char want[200];

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct src s = SMALL;
		struct dsn_rcpt rc = rcpt("bob@example.com", t[i].a,
					  t[i].status);
		struct dsn_report r = report(&s, &rc, 1);
		struct sink k = {0};
		struct dsn_plan p;

		rc.retry_until = NOW + 7 * 86400;
		r.ret = DSN_RET_FULL;
		p = build(&r, &k);
		assert_int_equal(p.part, t[i].a == DSN_FAILED ? DSN_PART_FULL :
				 DSN_PART_HDRS);
		snprintf(want, sizeof(want), "Action: %s\r\nStatus: %s\r\n",
			 t[i].word, t[i].status);
		has(&k, want);
		snprintf(want, sizeof(want), "Subject: %s\r\n", t[i].subject);
		has(&k, want);
		has(&k, t[i].text);
		if (t[i].a == DSN_DELAYED)
			has(&k, "Will-Retry-Until: Tue, 21 Nov 2023 23:13:20 "
			    "+0100\r\n");
		else
			lacks(&k, "Will-Retry-Until");
		free(k.buf);
	}
}

/* One report on several recipients: the worst outcome names it. */
static void
test_mixed(void **state)
{
	struct src s = SMALL;
	struct dsn_rcpt rc[3] = {
		rcpt("a@example.com", DSN_DELIVERED, "2.0.0"),
		rcpt("b@example.com", DSN_DELAYED, "4.2.2"),
		rcpt("c@example.com", DSN_FAILED, "5.2.1"),
	};
	struct dsn_report r = report(&s, rc, 3);
	struct sink k = {0};

	build(&r, &k);
	has(&k, "Subject: Undelivered Mail Returned to Sender\r\n");
	has(&k, "Final-Recipient: rfc822; a@example.com\r\nAction: delivered");
	has(&k, "Final-Recipient: rfc822; b@example.com\r\nAction: delayed");
	has(&k, "Final-Recipient: rfc822; c@example.com\r\nAction: failed");
	free(k.buf);

	memset(&k, 0, sizeof(k));
	r.nrcpts = 2;
	build(&r, &k);
	has(&k, "Subject: Delayed Mail (still being retried)\r\n");
	free(k.buf);
}

/* RFC 3461 6.3: ENVID and ORCPT come back decoded from xtext; what does
 * not decode to printable ASCII is copied as written. */
static void
test_envid_orcpt(void **state)
{
	struct src s = SMALL;
	struct dsn_rcpt rc[3] = {
		rcpt("bob@example.com", DSN_FAILED, "5.1.1"),
		rcpt("carol@example.com", DSN_FAILED, "5.1.1"),
		rcpt("dave@example.com", DSN_FAILED, "5.1.1"),
	};
	struct dsn_report r = report(&s, rc, 3);
	struct sink k = {0};

	r.envid = "QQ+2Bx+3D1";
	rc[0].orcpt = "rfc822;b+2Bob@example.com";
	rc[1].orcpt = "rfc822;evil+0D+0AX-Injected:+20yes";
	build(&r, &k);
	has(&k, "Original-Envelope-Id: QQ+x=1\r\n");
	has(&k, "Original-Recipient: rfc822; b+ob@example.com\r\n"
	    "Final-Recipient: rfc822; bob@example.com\r\n");
	has(&k, "Original-Recipient: rfc822; evil+0D+0AX-Injected:+20yes\r\n"
	    "Final-Recipient: rfc822; carol@example.com\r\n");
	has(&k, "\r\n\r\nFinal-Recipient: rfc822; dave@example.com\r\n");
	lacks(&k, "\r\nX-Injected");
	free(k.buf);
}

/* RFC 6533: a non-ASCII address makes the DSN internationalised. */
static void
test_global(void **state)
{
	struct src s = SMALL;
	struct dsn_rcpt rc = rcpt("j\xc3\xbcrgen@b\xc3\xbc" "cher.example",
				  DSN_FAILED, "5.1.1");
	struct dsn_report r = report(&s, &rc, 1);
	struct sink k = {0};
	struct dsn_plan p;

	rc.orcpt = "utf-8;j\\x{FC}rgen@b\\x{FC}cher.example";
	rc.diag = "550 5.1.1 unknown user j\xc3\xbcrgen \xff";
	p = build(&r, &k);
	assert_int_equal(p.flags, DSN_F_SMTPUTF8 | DSN_F_8BITMIME);
	has(&k, "report-type=global-delivery-status;");
	has(&k, "Content-Type: text/plain; charset=utf-8\r\n"
	    "Content-Transfer-Encoding: 8bit\r\n");
	has(&k, "Content-Type: message/global-delivery-status\r\n");
	has(&k, "Original-Recipient: utf-8; j\\x{FC}rgen@b\\x{FC}cher.example"
	    "\r\nFinal-Recipient: utf-8; j\xc3\xbcrgen@b\xc3\xbc"
	    "cher.example");
	has(&k, "Diagnostic-Code: smtp; 550 5.1.1 unknown user "
	    "j\xc3\xbcrgen ?\r\n");
	has(&k, "Content-Type: message/global\r\n");
	free(k.buf);

	/* a non-ASCII sender too; headers only: message/global-headers */
	memset(&k, 0, sizeof(k));
	rc.address = "bob@example.com";
	rc.orcpt = NULL;
	rc.action = DSN_DELAYED;
	rc.status = "4.0.0";
	r.sender = "\xd0\xb0\xd0\xbd\xd1\x8f@example.org";
	build(&r, &k);
	has(&k, "To: <\xd0\xb0\xd0\xbd\xd1\x8f@example.org>\r\n");
	has(&k, "Content-Type: message/global-headers\r\n");

	/* ASCII only: 8-bit text in a diagnostic is "?" */
	free(k.buf);
	memset(&k, 0, sizeof(k));
	r.sender = "alice@example.org";
	rc.diag = "451 caf\xc3\xa9 \x01 closed";
	p = build(&r, &k);
	assert_int_equal(p.flags, 0);
	has(&k, "Diagnostic-Code: smtp; 451 caf?? closed\r\n");
	free(k.buf);
}

/* Lines of the original that start with "--" and the boundary's prefix,
 * with every two hex digits after it, push the boundary a round further;
 * none of the DSN's lines but its delimiters starts with it. */
static void
test_boundary_collision(void **state)
{
	const char *prefix = "--=_" ID ".6553f100.";
	size_t cap = 300 * 1024, len = 0;
	char *m = malloc(cap);
	struct src s;
	struct dsn_rcpt rc = rcpt("bob@example.com", DSN_FAILED, "5.1.1");
	struct dsn_report r;
	struct sink k = {0};
	struct dsn_plan p;

	assert_non_null(m);
	len += (size_t)sprintf(m, "Subject: boundaries\r\n\r\n");
	for (unsigned c = 0; c < 256; c++)
		for (unsigned d = 0; d < (c == 0x3a ? 1 : 3); d++)
			len += (size_t)sprintf(m + len, "%s%02X%02x\r\n",
					       prefix, c, d);
	s = (struct src){.data = m, .len = len};
	r = report(&s, &rc, 1);
	p = build(&r, &k);
	/* 3a had the fewest lines; of those, none goes on with 01 */
	assert_string_equal(p.boundary, "=_" ID ".6553f100.3a01");
	has(&k, "--=_" ID ".6553f100.3A00\r\n");
	free(k.buf);
	free(m);
}

/* A huge original: read in bounded chunks, cut at max_return, said so. */
static void
test_huge(void **state)
{
	struct src s = {.gen_len = 30ull * 1024 * 1024};
	struct dsn_rcpt rc = rcpt("bob@example.com", DSN_FAILED, "5.3.4");
	struct dsn_report r = report(&s, &rc, 1);
	struct sink k = {0};
	struct dsn_plan p;
	const char *why;

	r.max_return = 1024 * 1024;
	assert_int_equal(dsn_plan(&r, &p, &why), 0);
	assert_int_equal(p.cut, 1);
	assert_int_equal(p.returned, 1024 * 1024);
	assert_true(s.max_read <= 16384);
	assert_int_equal(dsn_write(&r, &p, sink_write, &k, &why), 0);
	assert_true(k.total > 1024 * 1024 && k.total < 1024 * 1024 + 8192);

	/* the default limit, kept this time: 10 MiB and a notice */
	memset(&k, 0, sizeof(k));
	r.max_return = 0;
	p = build(&r, &k);
	assert_int_equal(p.returned, DSN_RETURN_MAX_DEFAULT);
	has(&k, "Only the first 10485760 octets of your message are attached "
	    "below:");
	free(k.buf);
}

/* Diagnostics past 998 octets are folded; unfolded they come back. */
static void
test_long_diag(void **state)
{
	struct src s = SMALL;
	struct dsn_rcpt rc = rcpt("bob@example.com", DSN_FAILED, "5.0.0");
	struct dsn_report r = report(&s, &rc, 1);
	struct sink k = {0};
	char diag[3001], *f, *end, unfolded[4000];
	size_t n = 0;

	for (size_t i = 0; i < 3000; i++)
		diag[i] = i % 7 == 6 ? ' ' : (char)('a' + i % 26);
	diag[3000] = '\0';
	rc.diag = diag;
	r.reason = diag;
	build(&r, &k);
	f = strstr(k.buf, "Diagnostic-Code: smtp; ");
	assert_non_null(f);
	f += strlen("Diagnostic-Code: smtp; ");
	end = strstr(f, "\r\nLast-Attempt-Date");
	assert_non_null(end);
	for (; f < end; f++)
		if (!(f[0] == '\r' && f[1] == '\n'))
			unfolded[n++] = *f;
		else
			f++;
	unfolded[n] = '\0';
	assert_string_equal(unfolded, diag);
	free(k.buf);

	/* one word of 3000 octets: cut into lines of 998 */
	memset(&k, 0, sizeof(k));
	memset(diag, 'x', 3000);
	rc.remote_mta = diag + 2000; /* 1000 octets */
	build(&r, &k);
	has(&k, "Diagnostic-Code: smtp; xxxx");
	free(k.buf);
}

/* Original lines past 998 octets are broken (folded in the header), bare
 * LF and CR become CRLF, a last line without one gets one. */
static void
test_original_lines(void **state)
{
	char m[8000];
	size_t len = 0;
	struct src s;
	struct dsn_rcpt rc = rcpt("bob@example.com", DSN_FAILED, "5.0.0");
	struct dsn_report r;
	struct sink k = {0};

	len += (size_t)sprintf(m, "X-Long: ");
	memset(m + len, 'h', 2000);
	len += 2000;
	len += (size_t)sprintf(m + len, "\nSubject: bare\r\rfoo\n\n");
	memset(m + len, 'b', 2500);
	len += 2500;
	s = (struct src){.data = m, .len = len};
	r = report(&s, &rc, 1);
	build(&r, &k);
	has(&k, "hhhh\r\n hhhh");
	has(&k, "Subject: bare\r\n\r\nfoo\r\n\r\nbbbb");
	has(&k, "bbbb\r\n\r\n--=_");
	free(k.buf);

	/* a header that never ends, headers only */
	memset(&k, 0, sizeof(k));
	s = (struct src){.data = "Subject: only", .len = 13};
	r.ret = DSN_RET_HDRS;
	build(&r, &k);
	has(&k, "text/rfc822-headers\r\n\r\nSubject: only\r\n\r\n--=_");
	free(k.buf);
}

static void
test_refused(void **state)
{
	struct src s = SMALL;
	struct dsn_rcpt rc = rcpt("bob@example.com", DSN_FAILED, "5.1.1");
	struct dsn_report r = report(&s, &rc, 1);
	struct dsn_plan p;
	const char *why = NULL;

	r.sender = "";
	assert_int_equal(dsn_plan(&r, &p, &why), DSN_EINVAL);
	assert_non_null(strstr(why, "null sender"));
	r.sender = "alice@example.org";
	r.id = "a.b";
	assert_int_equal(dsn_plan(&r, &p, &why), DSN_EINVAL);
	r.id = ID;
	r.host = "mx example";
	assert_int_equal(dsn_plan(&r, &p, NULL), DSN_EINVAL);
	r.host = "mx.example.org";
	r.client = "evil\r\nX: y";
	assert_int_equal(dsn_plan(&r, &p, &why), DSN_EINVAL);
	r.client = NULL;
	rc.status = "2.0.0"; /* failed needs 4 or 5 */
	assert_int_equal(dsn_plan(&r, &p, &why), DSN_EINVAL);
	rc.action = DSN_DELAYED;
	rc.status = "5.0.0";
	assert_int_equal(dsn_plan(&r, &p, &why), DSN_EINVAL);
	rc.status = "4.0.1000";
	assert_int_equal(dsn_plan(&r, &p, &why), DSN_EINVAL);
	rc.status = "4.0.0";
	rc.orcpt = "nosemicolon";
	assert_int_equal(dsn_plan(&r, &p, &why), DSN_EINVAL);
	rc.orcpt = NULL;
	r.nrcpts = 0;
	assert_int_equal(dsn_plan(&r, &p, &why), DSN_EINVAL);
	r.nrcpts = 1;
	assert_int_equal(dsn_plan(&r, &p, &why), 0);
}

static void
test_io_errors(void **state)
{
	struct src s = SMALL;
	struct dsn_rcpt rc = rcpt("bob@example.com", DSN_FAILED, "5.1.1");
	struct dsn_report r = report(&s, &rc, 1);
	struct sink k = {0};
	struct dsn_plan p;
	const char *why;

	s.fail = 1;
	assert_int_equal(dsn_plan(&r, &p, &why), DSN_EIO);
	s.fail = 0;
	assert_int_equal(dsn_plan(&r, &p, &why), 0);
	k.fail = 1;
	assert_int_equal(dsn_write(&r, &p, sink_write, &k, &why), DSN_EIO);
	k.fail = 0;
	s.reads = 0;
	s.fail = 2;
	assert_int_equal(dsn_write(&r, &p, sink_write, &k, &why), DSN_EIO);
	/* the original changed between plan and write */
	s.fail = 0;
	s.len -= 5;
	assert_int_equal(dsn_write(&r, &p, sink_write, &k, &why), DSN_EIO);
	assert_non_null(strstr(why, "changed"));
}

/* ---- xtext ------------------------------------------------------------ */

static void
test_xtext(void **state)
{
	char all[255], enc[3 * 255 + 1], dec[256];
	size_t n, m;

	for (int i = 0; i < 255; i++)
		all[i] = (char)(i + 1);
	assert_int_equal(dsn_xtext_encode(all, 255, enc, sizeof(enc), &n), 0);
	assert_int_equal(n, strlen(enc));
	assert_true(dsn_xtext_valid(enc, n));
	assert_int_equal(dsn_xtext_decode(enc, n, dec, sizeof(dec), &m), 0);
	assert_int_equal(m, 255);
	assert_memory_equal(dec, all, 255);

	assert_int_equal(dsn_xtext_encode("a+b=c d\xc3\xa9", 9, enc,
					  sizeof(enc), &n), 0);
	assert_string_equal(enc, "a+2Bb+3Dc+20d+C3+A9");
	assert_int_equal(dsn_xtext_decode("QQ+2Bx", 6, dec, sizeof(dec), &m),
			 0);
	assert_string_equal(dec, "QQ+x");
	assert_int_equal(dsn_xtext_decode("", 0, dec, 1, &m), 0);
	assert_int_equal(m, 0);
	/* room: encode needs 4 for "+2B" and the NUL */
	assert_int_equal(dsn_xtext_encode("+", 1, enc, 3, &n), DSN_EINVAL);
	assert_int_equal(dsn_xtext_encode("+", 1, enc, 4, &n), 0);
	assert_int_equal(dsn_xtext_decode("ab", 2, dec, 2, &m), DSN_EINVAL);
}

static void
test_xtext_malformed(void **state)
{
	static const char *const bad[] = {
		"+", "+4", "a+4", "+4g", "+4a", "+g4", "a=b", "a b", "\x80",
		"+2b", "x+", "\x7f",
	};
	char dec[16];
	size_t m;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_false(dsn_xtext_valid(bad[i], strlen(bad[i])));
		assert_int_equal(dsn_xtext_decode(bad[i], strlen(bad[i]), dec,
						  sizeof(dec), &m), DSN_EINVAL);
	}
	/* valid, but a NUL is no part of a string */
	assert_true(dsn_xtext_valid("a+00", 4));
	assert_int_equal(dsn_xtext_decode("a+00", 4, dec, sizeof(dec), &m),
			 DSN_EINVAL);
	assert_true(dsn_xtext_valid("", 0));
	assert_true(dsn_xtext_valid("!~+2B+3D", 8));
}

/* ---- Loop check ------------------------------------------------------- */

static int
is_report(const char *h)
{
	return dsn_is_report(h, strlen(h));
}

static void
test_loop(void **state)
{
	assert_int_equal(is_report(small_msg), 0);
	assert_int_equal(is_report("Auto-Submitted: auto-replied\r\n\r\n"), 1);
	assert_int_equal(is_report("auto-submitted:auto-generated\r\n"), 1);
	assert_int_equal(is_report("Auto-Submitted: no\r\n\r\n"), 0);
	assert_int_equal(is_report("Auto-Submitted: (human) No ; x=y\r\n"),
			 0);
	assert_int_equal(is_report("Auto-Submitted: nope\r\n"), 1);
	assert_int_equal(is_report("Auto-Submitted:\r\n"), 1);
	assert_int_equal(is_report("Auto-Submitted: \r\n no\r\n"), 0);
	assert_int_equal(is_report("MIME-Version: 1.0\r\nContent-Type: "
				   "multipart/report;\r\n\treport-type="
				   "\"delivery-status\"; boundary=x\r\n\r\n"),
			 1);
	assert_int_equal(is_report("Content-Type: Multipart/Report; "
				   "boundary=x; Report-Type=global-delivery-"
				   "status\r\n"), 1);
	assert_int_equal(is_report("Content-Type: multipart/report; "
				   "report-type=disposition-notification; "
				   "boundary=x\r\n"), 0);
	assert_int_equal(is_report("Content-Type: multipart/mixed; "
				   "report-type=delivery-status\r\n"), 0);
	/* the body is no header */
	assert_int_equal(is_report("Subject: x\r\n\r\nAuto-Submitted: yes\r\n"),
			 0);
	assert_int_equal(is_report(""), 0);
}

/* A DSN we build is a report to the loop check. */
static void
test_loop_own(void **state)
{
	struct src s = SMALL;
	struct dsn_rcpt rc = rcpt("bob@example.com", DSN_FAILED, "5.1.1");
	struct dsn_report r = report(&s, &rc, 1);
	struct sink k = {0};
	char *end;

	build(&r, &k);
	end = strstr(k.buf, "\r\n\r\n");
	assert_int_equal(dsn_is_report(k.buf, (size_t)(end - k.buf) + 4), 1);
	/* without Auto-Submitted, Content-Type alone tells */
	end = strstr(k.buf, "Auto-Submitted");
	memcpy(end, "X-Auto-Submit", 13);
	assert_int_equal(dsn_is_report(k.buf, k.len), 1);
	free(k.buf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_failed_full),
		cmocka_unit_test(test_ret_hdrs),
		cmocka_unit_test(test_actions),
		cmocka_unit_test(test_mixed),
		cmocka_unit_test(test_envid_orcpt),
		cmocka_unit_test(test_global),
		cmocka_unit_test(test_boundary_collision),
		cmocka_unit_test(test_huge),
		cmocka_unit_test(test_long_diag),
		cmocka_unit_test(test_original_lines),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_io_errors),
		cmocka_unit_test(test_xtext),
		cmocka_unit_test(test_xtext_malformed),
		cmocka_unit_test(test_loop),
		cmocka_unit_test(test_loop_own),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
