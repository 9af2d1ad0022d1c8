/* Unit tests for the outbound SMTP client's pure half (modules/smtp/
 * client_*.c): the reply parser (RFC 5321 4.2, RFC 2034), EHLO keywords,
 * dot-stuffing cut at every offset, and whole sessions against scripted
 * servers: plain, PIPELINING with mixed RCPT results and with none
 * accepted, HELO fallback, STARTTLS under each policy, AUTH, the
 * refusals before MAIL (SIZE, SMTPUTF8, REQUIRETLS), DSN parameters,
 * 421, malformed replies, and connection reuse. Linked without poshtad. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "client.h"

/* ---- Replies ------------------------------------------------------------ */

/* Feed the lines of s (each ended by \n) to a; the last call's result. */
static int
acc_feed(struct smtpc_acc *a, const char *s, const char **why)
{
	int r = 0;

	while (*s) {
		const char *nl = strchr(s, '\n');

		r = smtpc_acc_line(a, s, (size_t)(nl - s), why);
		if (r < 0)
			return r;
		s = nl + 1;
	}
	return r;
}

static void
reply_is(const char *in, int code, const char *enh, const char *text)
{
	struct smtpc_acc a = {0};
	struct smtpc_reply r;
	const char *why = NULL;

	if (acc_feed(&a, in, &why) != 1)
		fail_msg("not a whole reply (%s): %s", why ? why : "", in);
	smtpc_acc_reply(&a, &r);
	assert_int_equal(r.code, code);
	assert_string_equal(r.enh, enh);
	assert_string_equal(r.text, text);
}

static void
reply_bad(const char *in, const char *why_want)
{
	struct smtpc_acc a = {0};
	const char *why = NULL;

	if (acc_feed(&a, in, &why) != SMTPC_EPROTO)
		fail_msg("accepted: %s", in);
	assert_string_equal(why, why_want);
}

static void
test_reply(void **state)
{
	struct smtpc_acc a = {0};
	const char *why;

	(void)state;
	reply_is("250 ok\n", 250, "", "250 ok");
	reply_is("250\n", 250, "", "250");
	reply_is("550 5.1.1 No such user\n", 550, "5.1.1",
		 "550 5.1.1 No such user");
	reply_is("550-5.1.1 The account\n550-5.1.1 does not\n"
		 "550 5.1.1 exist\n",
		 550, "5.1.1", "550 5.1.1 The account does not exist");
	reply_is("250-first\n250-\n250 last\n", 250, "", "250 first last");
	/* RFC 2034: the class must be the reply's; 3xx carries none. */
	reply_is("550 4.1.1 odd\n", 550, "", "550 4.1.1 odd");
	reply_is("354 3.0.0 go\n", 354, "", "354 3.0.0 go");
	reply_is("451 4.3.0\n", 451, "4.3.0", "451 4.3.0");
	reply_is("550 5.1234.1 x\n", 550, "", "550 5.1234.1 x");
	reply_is("550 5.1.1x y\n", 550, "", "550 5.1.1x y");
	reply_is("452 4.5.3 too\tmany\n", 452, "4.5.3", "452 4.5.3 too many");
	reply_bad("abc\n", "malformed reply line");
	reply_bad("25\n", "malformed reply line");
	reply_bad("250x\n", "malformed reply line");
	reply_bad("650 no\n", "malformed reply line");
	reply_bad("260 no\n", "malformed reply line");
	reply_bad("250-a\n251 b\n", "reply lines with different codes");
	/* The line after a whole reply starts a new one. */
	assert_int_equal(acc_feed(&a, "250 a\n", &why), 1);
	assert_int_equal(acc_feed(&a, "550 b\n", &why), 1);
	assert_int_equal(a.code, 550);
}

static void
test_reply_bounds(void **state)
{
	char line[SMTPC_LINE_MAX + 2];
	struct smtpc_acc a = {0};
	struct smtpc_reply r;
	const char *why;

	(void)state;
	memset(line, 'x', sizeof(line));
	memcpy(line, "250 ", 4);
	assert_int_equal(smtpc_acc_line(&a, line, SMTPC_LINE_MAX, &why), 1);
	smtpc_acc_reply(&a, &r);
	assert_int_equal(strlen(r.text), SMTPC_TEXT_MAX); /* cut, kept */
	smtpc_acc_reset(&a);
	assert_int_equal(smtpc_acc_line(&a, line, SMTPC_LINE_MAX + 1, &why),
			 SMTPC_EPROTO);
	assert_string_equal(why, "reply line longer than 2048 octets");

	smtpc_acc_reset(&a);
	for (int i = 0; i < SMTPC_LINES_MAX; i++)
		assert_int_equal(smtpc_acc_line(&a, "250-x", 5, &why), 0);
	assert_int_equal(smtpc_acc_line(&a, "250 x", 5, &why), SMTPC_EPROTO);
	assert_string_equal(why, "reply of more than 128 lines");

	/* A cut never splits a UTF-8 character: "é" across the limit. */
	smtpc_acc_reset(&a);
	memset(line, 'x', sizeof(line));
	memcpy(line, "250 ", 4);
	memcpy(line + SMTPC_TEXT_MAX - 1, "\xc3\xa9", 2);
	assert_int_equal(smtpc_acc_line(&a, line, SMTPC_TEXT_MAX + 5, &why),
			 1);
	assert_int_equal(a.len, SMTPC_TEXT_MAX - 1);
}

/* ---- EHLO keywords --------------------------------------------------- */

static struct smtpc_caps
caps_of(const char *const *lines)
{
	struct smtpc_caps c = {0};

	for (; *lines; lines++)
		smtpc_caps_line(&c, *lines, strlen(*lines));
	return c;
}

static void
test_caps(void **state)
{
	const char *all[] = {"size 1000", "Pipelining", "STARTTLS",
			     "8bitmime", "SMTPUTF8", "CHUNKING", "DSN",
			     "ENHANCEDSTATUSCODES", "REQUIRETLS",
			     "AUTH LOGIN CRAM-MD5 plain", "X-UNKNOWN a b",
			     NULL};
	const char *old[] = {"AUTH=LOGIN", "SIZE", "SIZEX 5", NULL};
	const char *huge[] = {"SIZE 99999999999999999999999", NULL};
	struct smtpc_caps c = caps_of(all);

	(void)state;
	assert_int_equal(c.flags, 0x3ff);
	assert_int_equal(c.size, 1000);
	assert_int_equal(c.auth, SMTPC_AUTH_PLAIN | SMTPC_AUTH_LOGIN);
	c = caps_of(old);
	assert_int_equal(c.flags, SMTPC_CAP_AUTH | SMTPC_CAP_SIZE);
	assert_int_equal(c.auth, SMTPC_AUTH_LOGIN);
	assert_int_equal(c.size, 0);
	c = caps_of(huge);
	assert_int_equal(c.flags, SMTPC_CAP_SIZE);
	assert_int_equal(c.size, 0);
}

/* ---- Dot-stuffing ------------------------------------------------------ */

static size_t
stuff_cut(const char *in, size_t len, const size_t *cuts, size_t ncuts,
	  char *out)
{
	struct smtpc_stuff st;
	size_t o = 0, at = 0;

	smtpc_stuff_init(&st);
	for (size_t i = 0; i <= ncuts; i++) {
		size_t end = i < ncuts ? cuts[i] : len;

		o += smtpc_stuff(&st, in + at, end - at, out + o);
		at = end;
	}
	return o + smtpc_stuff_end(&st, out + o);
}

static void
stuff_is(const char *in, const char *want)
{
	char out[256];
	size_t n = stuff_cut(in, strlen(in), NULL, 0, out);

	assert_int_equal(n, strlen(want));
	assert_memory_equal(out, want, n);
}

static void
test_stuff(void **state)
{
	static const char body[] =
		".start\r\nmid.dle\r\n.\r\n..two\r\nbare\nlf\n.x\rcr\r.y\r"
		"\r\n\r\n.";
	char whole[256], cut[256];
	size_t len = strlen(body), wn, cuts[2];

	(void)state;
	stuff_is("", ".\r\n");
	stuff_is("a\r\n", "a\r\n.\r\n");
	stuff_is("a", "a\r\n.\r\n");
	stuff_is(".\r\n", "..\r\n.\r\n");
	stuff_is("a\r\n.b", "a\r\n..b\r\n.\r\n");
	stuff_is("a\n.\n", "a\r\n..\r\n.\r\n");
	stuff_is("a\r", "a\r\n.\r\n");
	stuff_is("a\r.\r\n", "a\r\n..\r\n.\r\n");
	wn = stuff_cut(body, len, NULL, 0, whole);
	/* Cut once and twice at every offset: the same octets. */
	for (size_t i = 0; i <= len; i++) {
		for (size_t j = i; j <= len; j++) {
			cuts[0] = i;
			cuts[1] = j;
			assert_int_equal(stuff_cut(body, len, cuts, 2, cut),
					 wn);
			assert_memory_equal(cut, whole, wn);
		}
	}
}

/* ---- Sessions ----------------------------------------------------------- */

#define NRES 8

struct result {
	int count;
	enum smtpc_outcome outcome;
	int code, local;
	char enh[16];
	char text[SMTPC_TEXT_MAX + 1];
};

struct world {
	struct smtpc *c;
	struct result res[NRES];
	char sent[8192];
	size_t sentlen;
	int ev; /* the last call's events */
	const char *body;
};

static void
on_result(void *arg, size_t i, enum smtpc_outcome o,
	  const struct smtpc_reply *r)
{
	struct world *w = arg;

	assert_true(i < NRES);
	w->res[i].count++;
	w->res[i].outcome = o;
	w->res[i].code = r->code;
	w->res[i].local = r->local;
	snprintf(w->res[i].enh, sizeof(w->res[i].enh), "%s", r->enh);
	snprintf(w->res[i].text, sizeof(w->res[i].text), "%s", r->text);
}

static void
take(struct world *w)
{
	size_t n;
	const char *p = smtpc_output(w->c, &n);

	assert_true(w->sentlen + n < sizeof(w->sent));
	memcpy(w->sent + w->sentlen, p, n);
	w->sentlen += n;
	w->sent[w->sentlen] = '\0';
}

/* ev of a call: output taken; on BODY the world's body is sent. */
static int
after(struct world *w, int ev)
{
	if (ev < 0)
		return w->ev = ev;
	if (ev & SMTPC_EV_SEND)
		take(w);
	if (ev & SMTPC_EV_BODY) {
		int e = smtpc_body(w->c, w->body, strlen(w->body));

		assert_true(e >= 0);
		take(w);
		e = smtpc_body_end(w->c);
		assert_int_equal(e, SMTPC_EV_SEND);
		take(w);
	}
	return w->ev = ev;
}

/* A session with options o (NULL: the defaults) and the world's
 * name and result callback. */
static void
open_world(struct world *w, const struct smtpc_opts *o)
{
	struct smtpc_opts set = o ? *o : (struct smtpc_opts){0};
	const char *why;

	memset(w, 0, sizeof(*w));
	set.helo = "client.test";
	set.result = on_result;
	set.arg = w;
	w->body = "Subject: hi\r\n\r\n.dot\r\nbye\r\n";
	w->c = smtpc_new(&set, &why);
	assert_non_null(w->c);
}

/* The server says s (lines ended by "\r\n"); the events of the last. */
static int
server(struct world *w, const char *s)
{
	int ev = 0;

	while (*s) {
		const char *nl = strstr(s, "\r\n");

		assert_non_null(nl);
		ev = after(w, smtpc_feed_line(w->c, s, (size_t)(nl + 2 - s)));
		s = nl + 2;
	}
	return ev;
}

static void
forget(struct world *w)
{
	w->sentlen = 0;
	w->sent[0] = '\0';
}

/* The client sent exactly want since the last check. */
static void
sent(struct world *w, const char *want)
{
	if (strcmp(w->sent, want) != 0)
		fail_msg("sent: [%s] wanted: [%s]", w->sent, want);
	forget(w);
}

static void
result_is(struct world *w, size_t i, enum smtpc_outcome o, const char *text)
{
	assert_int_equal(w->res[i].count, 1);
	assert_int_equal(w->res[i].outcome, o);
	if (strcmp(w->res[i].text, text) != 0)
		fail_msg("recipient %zu: %s, not %s", i, w->res[i].text, text);
}

static const struct smtpc_rcpt RCPTS[] = {
	{.address = "a@dest.test"},
	{.address = "b@dest.test"},
	{.address = "c@dest.test"},
};

static struct smtpc_msg
msg(size_t n)
{
	return (struct smtpc_msg){
		.sender = "s@src.test", .size = 27, .rcpts = RCPTS, .nrcpts = n};
}

/* Greeting and EHLO with the keywords kw ("250-PIPELINING\r\n" ...,
 * without the last line). */
static void
hello(struct world *w, const char *kw)
{
	char ehlo[512];

	server(w, "220 mx.dest.test ESMTP\r\n");
	sent(w, "EHLO client.test\r\n");
	snprintf(ehlo, sizeof(ehlo), "250-mx.dest.test\r\n%s250 HELP\r\n",
		 kw);
	assert_int_equal(server(w, ehlo), SMTPC_EV_READY);
}

/* A default session greeted with the keywords kw, then m started; its
 * commands wait in w->sent. */
static void
session(struct world *w, const char *kw, const struct smtpc_msg *m)
{
	open_world(w, NULL);
	hello(w, kw);
	after(w, smtpc_start_message(w->c, m));
}

static void
test_plain(void **state)
{
	struct world w;
	struct smtpc_msg m = msg(2);

	(void)state;
	open_world(&w, NULL);
	assert_int_equal(smtpc_timeout(w.c), SMTPC_TIMEOUT_GREETING);
	hello(&w, "250-8BITMIME\r\n");
	assert_int_equal(smtpc_start_message(w.c, &m), SMTPC_EV_SEND);
	take(&w);
	sent(&w, "MAIL FROM:<s@src.test>\r\n");
	assert_int_equal(smtpc_timeout(w.c), SMTPC_TIMEOUT_MAIL);
	server(&w, "250 2.1.0 ok\r\n");
	sent(&w, "RCPT TO:<a@dest.test>\r\n");
	assert_int_equal(smtpc_timeout(w.c), SMTPC_TIMEOUT_RCPT);
	server(&w, "250 2.1.5 ok\r\n");
	sent(&w, "RCPT TO:<b@dest.test>\r\n");
	server(&w, "250 2.1.5 ok\r\n");
	sent(&w, "DATA\r\n");
	assert_int_equal(smtpc_timeout(w.c), SMTPC_TIMEOUT_DATA_INIT);
	assert_int_equal(server(&w, "354 go\r\n"), SMTPC_EV_BODY);
	sent(&w, "Subject: hi\r\n\r\n..dot\r\nbye\r\n.\r\n");
	assert_int_equal(smtpc_timeout(w.c), SMTPC_TIMEOUT_DATA_END);
	assert_int_equal(w.res[0].count, 0);
	assert_int_equal(server(&w, "250 2.0.0 queued as X\r\n"),
			 SMTPC_EV_DONE | SMTPC_EV_READY);
	result_is(&w, 0, SMTPC_DELIVERED, "250 2.0.0 queued as X");
	result_is(&w, 1, SMTPC_DELIVERED, "250 2.0.0 queued as X");
	assert_int_equal(smtpc_quit(w.c), SMTPC_EV_SEND);
	take(&w);
	sent(&w, "QUIT\r\n");
	assert_int_equal(server(&w, "221 bye\r\n"), SMTPC_EV_CLOSED);
	assert_null(smtpc_end_reply(w.c));
	assert_int_equal(smtpc_feed_line(w.c, "250 x", 5), SMTPC_EINVAL);
	smtpc_free(w.c);
}

static void
test_pipelining_mixed(void **state)
{
	struct world w;
	struct smtpc_msg m = msg(3);

	(void)state;
	session(&w, "250-PIPELINING\r\n", &m);
	sent(&w, "MAIL FROM:<s@src.test>\r\nRCPT TO:<a@dest.test>\r\n"
		 "RCPT TO:<b@dest.test>\r\nRCPT TO:<c@dest.test>\r\n"
		 "DATA\r\n");
	assert_int_equal(server(&w, "250 ok\r\n250 ok\r\n"), 0);
	assert_int_equal(server(&w, "550-5.1.1 no such\r\n550 5.1.1 user\r\n"),
			 0);
	result_is(&w, 1, SMTPC_FAILED, "550 5.1.1 no such user");
	assert_string_equal(w.res[1].enh, "5.1.1");
	server(&w, "452 4.2.2 full\r\n");
	result_is(&w, 2, SMTPC_DEFERRED, "452 4.2.2 full");
	assert_int_equal(server(&w, "354 go\r\n"), SMTPC_EV_BODY);
	sent(&w, "Subject: hi\r\n\r\n..dot\r\nbye\r\n.\r\n");
	server(&w, "554 5.7.1 spam\r\n");
	result_is(&w, 0, SMTPC_FAILED, "554 5.7.1 spam");
	assert_int_equal(w.ev, SMTPC_EV_DONE | SMTPC_EV_READY);
	smtpc_free(w.c);
}

/* RFC 2920 3.1: every RCPT refused, the pipelined DATA gets 503; then a
 * second message on the session starts with RSET. And a server that
 * says 354 to nobody gets an empty body. */
static void
test_pipelining_none_accepted(void **state)
{
	struct world w;
	struct smtpc_msg m = msg(2);

	(void)state;
	session(&w, "250-PIPELINING\r\n", &m);
	forget(&w);
	server(&w, "250 ok\r\n550 5.1.1 no\r\n450 4.2.1 later\r\n");
	assert_int_equal(server(&w, "503 5.5.1 no valid recipients\r\n"),
			 SMTPC_EV_DONE | SMTPC_EV_READY);
	sent(&w, "");
	result_is(&w, 0, SMTPC_FAILED, "550 5.1.1 no");
	result_is(&w, 1, SMTPC_DEFERRED, "450 4.2.1 later");

	memset(w.res, 0, sizeof(w.res));
	after(&w, smtpc_start_message(w.c, &m));
	sent(&w, "RSET\r\n");
	server(&w, "250 ok\r\n");
	forget(&w);
	server(&w, "250 ok\r\n550 no\r\n550 no\r\n");
	assert_int_equal(server(&w, "354 go on\r\n"), SMTPC_EV_SEND);
	sent(&w, ".\r\n");
	assert_int_equal(server(&w, "554 nothing\r\n"),
			 SMTPC_EV_DONE | SMTPC_EV_READY);
	result_is(&w, 0, SMTPC_FAILED, "550 no");
	smtpc_free(w.c);
}

/* MAIL refused: without PIPELINING no RCPT is sent; with it, the RCPT
 * and DATA replies are read and the MAIL reply decides. */
static void
test_mail_refused(void **state)
{
	struct world w;
	struct smtpc_msg m = msg(2);

	(void)state;
	session(&w, "", &m);
	forget(&w);
	assert_int_equal(server(&w, "451 4.3.0 try later\r\n"),
			 SMTPC_EV_DONE | SMTPC_EV_READY);
	sent(&w, "");
	result_is(&w, 0, SMTPC_DEFERRED, "451 4.3.0 try later");
	result_is(&w, 1, SMTPC_DEFERRED, "451 4.3.0 try later");
	smtpc_free(w.c);

	session(&w, "250-PIPELINING\r\n", &m);
	server(&w, "553 5.1.8 bad sender\r\n503 no\r\n503 no\r\n");
	assert_int_equal(w.ev, 0);
	assert_int_equal(server(&w, "503 no\r\n"),
			 SMTPC_EV_DONE | SMTPC_EV_READY);
	result_is(&w, 0, SMTPC_FAILED, "553 5.1.8 bad sender");
	result_is(&w, 1, SMTPC_FAILED, "553 5.1.8 bad sender");
	smtpc_free(w.c);
}

static void
test_helo_fallback(void **state)
{
	struct world w;
	struct smtpc_msg m = msg(1);

	(void)state;
	open_world(&w, NULL);
	server(&w, "220 old.test\r\n");
	sent(&w, "EHLO client.test\r\n");
	server(&w, "502 5.5.1 what\r\n");
	sent(&w, "HELO client.test\r\n");
	assert_int_equal(server(&w, "250 old.test\r\n"), SMTPC_EV_READY);
	m.envid = "E1";
	m.ret = 1;
	m.flags = 0;
	after(&w, smtpc_start_message(w.c, &m));
	sent(&w, "MAIL FROM:<s@src.test>\r\n");
	smtpc_free(w.c);

	/* 500 too; any other refusal of EHLO ends the session. */
	open_world(&w, NULL);
	server(&w, "220 old.test\r\n500 unknown\r\n");
	sent(&w, "EHLO client.test\r\nHELO client.test\r\n");
	server(&w, "550 go away\r\n");
	sent(&w, "QUIT\r\n");
	assert_int_equal(server(&w, "221 bye\r\n"), SMTPC_EV_CLOSED);
	assert_string_equal(smtpc_end_reply(w.c)->text, "550 go away");
	smtpc_free(w.c);

	open_world(&w, NULL);
	server(&w, "554 5.7.1 no service\r\n");
	sent(&w, "QUIT\r\n");
	server(&w, "221 bye\r\n");
	assert_int_equal(smtpc_end_reply(w.c)->code, 554);
	smtpc_free(w.c);
}

/* STARTTLS: offered, absent and refused, under each policy. want: 1
 * STARTTLS sent, 0 plain text goes on (READY), -1 the session fails. */
static void
tls_case(enum smtpc_tls policy, const char *kw, const char *reply, int want)
{
	struct world w;
	struct smtpc_opts o = {.tls = policy};

	open_world(&w, &o);
	server(&w, "220 mx\r\n");
	forget(&w);
	server(&w, kw);
	if (reply && strstr(w.sent, "STARTTLS")) {
		forget(&w);
		server(&w, reply);
	}
	if (want == 1) {
		sent(&w, "STARTTLS\r\n");
		assert_int_equal(w.ev, SMTPC_EV_SEND);
		assert_int_equal(server(&w, "220 go ahead\r\n"),
				 SMTPC_EV_STARTTLS);
		assert_int_equal(smtpc_timeout(w.c), 0);
		after(&w, smtpc_tls_started(w.c));
		sent(&w, "EHLO client.test\r\n");
		/* RFC 3207 4.2: the keywords before TLS are forgotten. */
		assert_int_equal(server(&w, "250-mx\r\n250 DSN\r\n"),
				 SMTPC_EV_READY);
		assert_int_equal(smtpc_caps(w.c)->flags, SMTPC_CAP_DSN);
	} else if (want == 0) {
		assert_true(w.ev & SMTPC_EV_READY);
	} else {
		sent(&w, "QUIT\r\n");
		assert_int_equal(server(&w, "221 bye\r\n"), SMTPC_EV_CLOSED);
		assert_non_null(smtpc_end_reply(w.c));
	}
	smtpc_free(w.c);
}

static void
test_starttls(void **state)
{
	const char *offered = "250-mx\r\n250-PIPELINING\r\n250 STARTTLS\r\n";
	const char *absent = "250-mx\r\n250 PIPELINING\r\n";
	const char *refused = "454 4.7.0 TLS not available\r\n";

	(void)state;
	tls_case(SMTPC_TLS_NONE, offered, NULL, 0);
	tls_case(SMTPC_TLS_OPPORTUNISTIC, offered, NULL, 1);
	tls_case(SMTPC_TLS_REQUIRED, offered, NULL, 1);
	tls_case(SMTPC_TLS_NONE, absent, NULL, 0);
	tls_case(SMTPC_TLS_OPPORTUNISTIC, absent, NULL, 0);
	tls_case(SMTPC_TLS_REQUIRED, absent, NULL, -1);
	tls_case(SMTPC_TLS_OPPORTUNISTIC, offered, refused, 0);
	tls_case(SMTPC_TLS_REQUIRED, offered, refused, -1);
}

static void
test_auth(void **state)
{
	struct world w;
	struct smtpc_opts o;

	(void)state;
	o = (struct smtpc_opts){
		.tls_active = 1, .auth_user = "user", .auth_pass = "pass"};
	open_world(&w, &o);
	server(&w, "220 relay\r\n");
	forget(&w);
	server(&w, "250-relay\r\n250 AUTH LOGIN PLAIN\r\n");
	sent(&w, "AUTH PLAIN AHVzZXIAcGFzcw==\r\n");
	assert_int_equal(server(&w, "235 2.7.0 ok\r\n"), SMTPC_EV_READY);
	smtpc_free(w.c);

	open_world(&w, &o);
	server(&w, "220 relay\r\n");
	forget(&w);
	server(&w, "250-relay\r\n250 AUTH=LOGIN\r\n");
	sent(&w, "AUTH LOGIN\r\n");
	server(&w, "334 VXNlcm5hbWU6\r\n");
	sent(&w, "dXNlcg==\r\n");
	server(&w, "334 UGFzc3dvcmQ6\r\n");
	sent(&w, "cGFzcw==\r\n");
	server(&w, "535 5.7.8 bad credentials\r\n");
	sent(&w, "QUIT\r\n");
	assert_int_equal(smtpc_end_reply(w.c)->code, 535);
	smtpc_free(w.c);

	/* Not over plain text, unless allowed. */
	o.tls_active = 0;
	open_world(&w, &o);
	server(&w, "220 relay\r\n");
	forget(&w);
	server(&w, "250-relay\r\n250 AUTH PLAIN\r\n");
	sent(&w, "QUIT\r\n");
	assert_string_equal(smtpc_end_reply(w.c)->enh, "4.7.11");
	smtpc_free(w.c);
	o.auth_plaintext = 1;
	open_world(&w, &o);
	server(&w, "220 relay\r\n");
	forget(&w);
	server(&w, "250-relay\r\n250 AUTH PLAIN\r\n");
	sent(&w, "AUTH PLAIN AHVzZXIAcGFzcw==\r\n");
	smtpc_free(w.c);
}

/* A message the server cannot take fails before MAIL, nothing sent. */
static void
refused_before_mail(const char *kw, int tls, unsigned flags, uint64_t size,
		    const char *text)
{
	struct world w;
	struct smtpc_opts o = {.tls_active = tls};
	struct smtpc_msg m = msg(2);

	open_world(&w, &o);
	hello(&w, kw);
	m.flags = flags;
	m.size = size;
	assert_int_equal(smtpc_start_message(w.c, &m),
			 SMTPC_EV_DONE | SMTPC_EV_READY);
	result_is(&w, 0, SMTPC_FAILED, text);
	result_is(&w, 1, SMTPC_FAILED, text);
	assert_true(w.res[0].local);
	smtpc_free(w.c);
}

static void
test_refusals(void **state)
{
	(void)state;
	refused_before_mail("250-SIZE 1000\r\n", 0, 0, 1001,
			    "552 5.3.4 message size 1001 exceeds the "
			    "server's limit of 1000");
	refused_before_mail("250-8BITMIME\r\n", 0, SMTPC_F_SMTPUTF8, 10,
			    "554 5.6.7 SMTPUTF8 not supported by the server");
	refused_before_mail("250-REQUIRETLS\r\n", 0, SMTPC_F_REQUIRETLS, 10,
			    "554 5.7.30 REQUIRETLS not supported: no TLS");
	refused_before_mail("250-SMTPUTF8\r\n", 1, SMTPC_F_REQUIRETLS, 10,
			    "554 5.7.30 REQUIRETLS not supported by the "
			    "server");
	refused_before_mail("", 0, SMTPC_F_8BITMIME, 10,
			    "554 5.6.3 8BITMIME not supported by the server");
}

/* The parameters of MAIL and RCPT, each only when offered. */
static void
params_case(const char *kw, int tls, const struct smtpc_msg *m,
	    const char *want)
{
	struct world w;
	struct smtpc_opts o = {.tls_active = tls};

	open_world(&w, &o);
	hello(&w, kw);
	assert_int_equal(smtpc_start_message(w.c, m), SMTPC_EV_SEND);
	take(&w);
	sent(&w, want);
	smtpc_free(w.c);
}

static void
test_params(void **state)
{
	static const struct smtpc_rcpt r[] = {
		{.address = "a+b@dest.test",
		 .notify = SMTPC_NOTIFY_SUCCESS | SMTPC_NOTIFY_DELAY},
		{.address = "c@dest.test",
		 .orcpt = "rfc822;C+2Bx@orig.test",
		 .notify = SMTPC_NOTIFY_NEVER},
		{.address = "d@dest.test"},
	};
	static const struct smtpc_rcpt u[] = {{.address = "j\xc3\xb6@d.test"}};
	struct smtpc_msg m = {.sender = "s@src.test", .size = 5000,
			      .flags = SMTPC_F_8BITMIME | SMTPC_F_REQUIRETLS,
			      .ret = 2, .envid = "QQ+2B1", .rcpts = r,
			      .nrcpts = 3};
	const char *all = "250-PIPELINING\r\n250-SIZE 10000\r\n250-DSN\r\n"
			  "250-8BITMIME\r\n250-REQUIRETLS\r\n";

	(void)state;
	params_case(all, 1, &m,
		    "MAIL FROM:<s@src.test> SIZE=5000 BODY=8BITMIME "
		    "REQUIRETLS RET=HDRS ENVID=QQ+2B1\r\n"
		    "RCPT TO:<a+b@dest.test> NOTIFY=SUCCESS,DELAY "
		    "ORCPT=rfc822;a+2Bb@dest.test\r\n"
		    "RCPT TO:<c@dest.test> NOTIFY=NEVER "
		    "ORCPT=rfc822;C+2Bx@orig.test\r\n"
		    "RCPT TO:<d@dest.test> ORCPT=rfc822;d@dest.test\r\n"
		    "DATA\r\n");
	/* No DSN offered: no RET, ENVID, NOTIFY or ORCPT. */
	m.flags = SMTPC_F_8BITMIME;
	m.nrcpts = 1;
	params_case("250-SIZE\r\n250-8BITMIME\r\n", 0, &m,
		    "MAIL FROM:<s@src.test> SIZE=5000 BODY=8BITMIME\r\n");
	/* A UTF-8 address asks for SMTPUTF8, and gets no made-up ORCPT. */
	m = (struct smtpc_msg){.sender = "", .rcpts = u, .nrcpts = 1};
	params_case("250-SMTPUTF8\r\n250-DSN\r\n", 0, &m,
		    "MAIL FROM:<> SMTPUTF8\r\n");
}

static void
bad_message(struct smtpc_msg *m, const char *why)
{
	struct world w;

	open_world(&w, NULL);
	hello(&w, "250-DSN\r\n");
	assert_int_equal(smtpc_start_message(w.c, m), SMTPC_EINVAL);
	assert_string_equal(smtpc_why(w.c), why);
	assert_int_equal(w.res[0].count, 0);
	smtpc_free(w.c);
}

static void
test_bad_messages(void **state)
{
	struct smtpc_rcpt r = {.address = "a@b.test"};
	struct smtpc_msg m = {.sender = "s@x\r\nRSET", .rcpts = &r,
			      .nrcpts = 1};

	(void)state;
	bad_message(&m, "malformed sender address");
	m.sender = "s@x.test";
	m.envid = "a b";
	bad_message(&m, "ENVID is not xtext of at most 100 octets");
	m.envid = NULL;
	r.orcpt = "rfc822;a b";
	bad_message(&m, "ORCPT is not addr-type;xtext");
	r.orcpt = NULL;
	r.address = "a@b.test> NOTIFY=NEVER";
	bad_message(&m, "malformed recipient address");
	r.address = "a@b.test";
	r.notify = SMTPC_NOTIFY_NEVER | SMTPC_NOTIFY_FAILURE;
	bad_message(&m, "NOTIFY=NEVER with other values");
	m.nrcpts = 0;
	bad_message(&m, "no recipients, or too many");
}

/* RFC 5321 3.8: 421 ends the session; what is undecided is deferred. */
static void
test_421(void **state)
{
	struct world w;
	struct smtpc_msg m = msg(3);

	(void)state;
	session(&w, "250-PIPELINING\r\n", &m);
	server(&w, "250 ok\r\n250 ok\r\n550 no\r\n");
	assert_int_equal(server(&w, "421 4.3.2 shutting down\r\n"),
			 SMTPC_EV_DONE | SMTPC_EV_CLOSED);
	result_is(&w, 0, SMTPC_DEFERRED, "421 4.3.2 shutting down");
	result_is(&w, 1, SMTPC_FAILED, "550 no");
	result_is(&w, 2, SMTPC_DEFERRED, "421 4.3.2 shutting down");
	assert_int_equal(smtpc_end_reply(w.c)->code, 421);
	smtpc_free(w.c);

	/* After the end of data too, and at the greeting. */
	open_world(&w, NULL);
	hello(&w, "");
	m.nrcpts = 1;
	after(&w, smtpc_start_message(w.c, &m));
	server(&w, "250 ok\r\n250 ok\r\n354 go\r\n");
	assert_int_equal(server(&w, "421 4.4.2 timeout\r\n"),
			 SMTPC_EV_DONE | SMTPC_EV_CLOSED);
	result_is(&w, 0, SMTPC_DEFERRED, "421 4.4.2 timeout");
	smtpc_free(w.c);
	open_world(&w, NULL);
	assert_int_equal(server(&w, "421 busy\r\n"), SMTPC_EV_CLOSED);
	smtpc_free(w.c);
}

/* A broken reply ends the session at once: undecided recipients are
 * deferred with the reason. */
static void
broken(const char *reply, const char *why)
{
	struct world w;
	struct smtpc_msg m = msg(2);
	char text[256];

	session(&w, "250-PIPELINING\r\n", &m);
	server(&w, "250 ok\r\n");
	assert_int_equal(server(&w, reply), SMTPC_EPROTO);
	assert_string_equal(smtpc_why(w.c), why);
	snprintf(text, sizeof(text), "451 4.5.0 protocol error: %s", why);
	result_is(&w, 0, SMTPC_DEFERRED, text);
	result_is(&w, 1, SMTPC_DEFERRED, text);
	assert_int_equal(smtpc_feed_line(w.c, "250 ok", 6), SMTPC_EINVAL);
	smtpc_free(w.c);
}

static void
test_malformed(void **state)
{
	char lines[SMTPC_LINES_MAX * 8 + 16] = "", longline[2100];

	(void)state;
	broken("2x0 what\r\n", "malformed reply line");
	broken("250-a\r\n550 b\r\n", "reply lines with different codes");
	broken("354 go\r\n", "a 3xx reply to MAIL or RCPT");
	for (int i = 0; i <= SMTPC_LINES_MAX; i++)
		strcat(lines, "250-x\r\n");
	broken(lines, "reply of more than 128 lines");
	memset(longline, 'y', sizeof(longline));
	memcpy(longline, "250 ", 4);
	memcpy(longline + 2049 + 0, "\r\n", 3);
	broken(longline, "reply line longer than 2048 octets");
}

/* Replies split into lines fed one by one, with CRLF, LF, CR or no
 * line end: a continuation line ("NNN-") never makes the client act, and
 * the session comes out the same. */
static void
test_split(void **state)
{
	static const char *const script[] = {
		"220-mx", "220 welcome", "250-mx", "250-PIPELINING",
		"250 DSN", "250-2.1.0 ok", "250 2.1.0 sender", "250 ok",
		"550-5.1.1 not", "550 5.1.1 here", "354 go", "250-2.0.0 ok",
		"250 2.0.0 queued", NULL,
	};
	static const char *const ends[] = {"\r\n", "\n", "\r", ""};

	(void)state;
	for (size_t e = 0; e < 4; e++) {
		struct world w;
		struct smtpc_msg m = msg(2);

		open_world(&w, NULL);
		for (size_t i = 0; script[i]; i++) {
			char line[64];
			int n = snprintf(line, sizeof(line), "%s%s",
					 script[i], ends[e]);
			size_t before = w.sentlen;

			after(&w, smtpc_feed_line(w.c, line, (size_t)n));
			if (script[i][3] == '-') {
				assert_int_equal(w.ev, 0);
				assert_int_equal(w.sentlen, before);
			}
			if ((w.ev & SMTPC_EV_READY) && !w.res[0].count &&
			    !w.res[1].count)
				after(&w, smtpc_start_message(w.c, &m));
		}
		result_is(&w, 0, SMTPC_DELIVERED, "250 2.0.0 ok queued");
		result_is(&w, 1, SMTPC_FAILED, "550 5.1.1 not here");
		smtpc_free(w.c);
	}
}

/* Two messages on one session: RSET before the second. */
static void
test_reuse(void **state)
{
	struct world w;
	struct smtpc_msg m = msg(1);

	(void)state;
	open_world(&w, NULL);
	hello(&w, "250-PIPELINING\r\n");
	for (int i = 0; i < 2; i++) {
		memset(w.res, 0, sizeof(w.res));
		after(&w, smtpc_start_message(w.c, &m));
		if (i == 1) {
			sent(&w, "RSET\r\n");
			server(&w, "250 2.0.0 reset\r\n");
		}
		sent(&w, "MAIL FROM:<s@src.test>\r\nRCPT TO:<a@dest.test>\r\n"
			 "DATA\r\n");
		server(&w, "250 ok\r\n250 ok\r\n354 go\r\n");
		forget(&w);
		assert_int_equal(server(&w, "250 queued\r\n"),
				 SMTPC_EV_DONE | SMTPC_EV_READY);
		result_is(&w, 0, SMTPC_DELIVERED, "250 queued");
	}
	/* A refused RSET: the message is deferred, the session ends. */
	memset(w.res, 0, sizeof(w.res));
	after(&w, smtpc_start_message(w.c, &m));
	sent(&w, "RSET\r\n");
	assert_int_equal(server(&w, "500 what\r\n"),
			 SMTPC_EV_DONE | SMTPC_EV_SEND);
	result_is(&w, 0, SMTPC_DEFERRED, "500 what");
	sent(&w, "QUIT\r\n");
	smtpc_free(w.c);
}

/* The caller's timeout or a lost connection: the message is deferred. */
static void
test_abort(void **state)
{
	struct world w;
	struct smtpc_msg m = msg(2);

	(void)state;
	session(&w, "", &m);
	server(&w, "250 ok\r\n250 ok\r\n");
	smtpc_abort(w.c, "timeout after RCPT");
	result_is(&w, 0, SMTPC_DEFERRED, "451 4.4.2 timeout after RCPT");
	result_is(&w, 1, SMTPC_DEFERRED, "451 4.4.2 timeout after RCPT");
	assert_true(smtpc_end_reply(w.c)->local);
	assert_int_equal(smtpc_timeout(w.c), 0);
	smtpc_free(w.c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reply),
		cmocka_unit_test(test_reply_bounds),
		cmocka_unit_test(test_caps),
		cmocka_unit_test(test_stuff),
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_pipelining_mixed),
		cmocka_unit_test(test_pipelining_none_accepted),
		cmocka_unit_test(test_mail_refused),
		cmocka_unit_test(test_helo_fallback),
		cmocka_unit_test(test_starttls),
		cmocka_unit_test(test_auth),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_params),
		cmocka_unit_test(test_bad_messages),
		cmocka_unit_test(test_421),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_reuse),
		cmocka_unit_test(test_abort),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
