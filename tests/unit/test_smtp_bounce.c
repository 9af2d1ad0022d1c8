/* Unit tests for modules/smtp/bounce_diag.c: the DSN fields of a
 * recipient from the outbound runner's diag text, in each of its shapes
 * (remote reply with and without an enhanced code, local decision at a
 * host and without one), statuses that fit each action (RFC 3463, RFC
 * 3464 2.3.4), the expiry of a failed recipient whose last answer was
 * temporary, and text of no known shape. Linked without poshtad. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "bounce.h"

static void
diag_is(const char *in, enum dsn_action a, const char *status,
	const char *mta, const char *type, const char *text, int expired)
{
	struct bounce_diag d;

	bounce_diag_parse(in, a, &d);
	if (strcmp(d.status, status) || strcmp(d.mta, mta) ||
	    strcmp(d.type, type) || strcmp(d.text, text) ||
	    d.expired != expired)
		fail_msg("\"%s\" (action %d): status %s mta \"%s\" type %s "
			 "text \"%s\" expired %d", in ? in : "(null)", (int)a,
			 d.status, d.mta, d.type, d.text, d.expired);
}

static void
test_remote_reply(void **state)
{
	(void)state;
	diag_is("mx1.example.test[127.0.0.2]: 550 5.1.1 No such user",
		DSN_FAILED, "5.1.1", "mx1.example.test", "smtp",
		"550 5.1.1 No such user", 0);
	/* No enhanced code: X.0.0 from the reply's class. */
	diag_is("mx1.example.test[127.0.0.2]: 554 go away", DSN_FAILED,
		"5.0.0", "mx1.example.test", "smtp", "554 go away", 0);
	diag_is("mx.test[127.0.0.2]: 451 try later", DSN_DELAYED, "4.0.0",
		"mx.test", "smtp", "451 try later", 0);
	diag_is("mx.test[127.0.0.2]: 452 4.2.2 Mailbox full", DSN_DELAYED,
		"4.2.2", "mx.test", "smtp", "452 4.2.2 Mailbox full", 0);
	/* Relayed: the remote's 250 without DSN support. */
	diag_is("mx.test[127.0.0.2]: 250 2.0.0 Ok: queued as X",
		DSN_RELAYED, "2.0.0", "mx.test", "smtp",
		"250 2.0.0 Ok: queued as X", 0);
	diag_is("mx.test[127.0.0.2]: 250 2.6.0 Ok", DSN_RELAYED, "2.6.0",
		"mx.test", "smtp", "250 2.6.0 Ok", 0);
	/* A reply with a continuation mark and a bare code. */
	diag_is("mx.test[127.0.0.2]: 550-5.7.1 Blocked", DSN_FAILED, "5.7.1",
		"mx.test", "smtp", "550-5.7.1 Blocked", 0);
	diag_is("mx.test[127.0.0.2]: 550", DSN_FAILED, "5.0.0", "mx.test",
		"smtp", "550", 0);
	/* Three-digit subject and detail (RFC 3463 2). */
	diag_is("mx.test[127.0.0.2]: 550 5.123.456 x", DSN_FAILED,
		"5.123.456", "mx.test", "smtp", "550 5.123.456 x", 0);
}

static void
test_enhanced_mismatch(void **state)
{
	(void)state;
	/* RFC 2034 4: an enhanced code of another class is ignored. */
	diag_is("mx.test[127.0.0.2]: 550 4.1.1 odd", DSN_FAILED, "5.0.0",
		"mx.test", "smtp", "550 4.1.1 odd", 0);
	/* Not an enhanced code: four digits, none, no dot. */
	diag_is("mx.test[127.0.0.2]: 550 5.1.1234 x", DSN_FAILED, "5.0.0",
		"mx.test", "smtp", "550 5.1.1234 x", 0);
	diag_is("mx.test[127.0.0.2]: 550 5..1 x", DSN_FAILED, "5.0.0",
		"mx.test", "smtp", "550 5..1 x", 0);
	diag_is("mx.test[127.0.0.2]: 550 5.1.1x y", DSN_FAILED, "5.0.0",
		"mx.test", "smtp", "550 5.1.1x y", 0);
}

static void
test_expired(void **state)
{
	(void)state;
	/* FAILED with a temporary last answer: the lifetime ran out. */
	diag_is("mx.test[127.0.0.2]: 451 4.3.0 try later", DSN_FAILED,
		"4.4.7", "mx.test", "smtp", "451 4.3.0 try later", 1);
	diag_is("mx.test[127.0.0.2]: 421 closing", DSN_FAILED, "4.4.7",
		"mx.test", "smtp", "421 closing", 1);
	diag_is("4.4.3 DNS lookup failed for example.test", DSN_FAILED,
		"4.4.7", "", "X-Poshta", "DNS lookup failed for example.test",
		1);
	/* A delay keeps its own status. */
	diag_is("4.4.1 No answer from host", DSN_DELAYED, "4.4.1", "",
		"X-Poshta", "No answer from host", 0);
}

static void
test_local(void **state)
{
	(void)state;
	diag_is("mx1.example.test[127.0.0.2]: 5.6.7 SMTPUTF8 not offered",
		DSN_FAILED, "5.6.7", "mx1.example.test", "X-Poshta",
		"SMTPUTF8 not offered", 0);
	diag_is("5.1.10 Null MX: example.test takes no mail", DSN_FAILED,
		"5.1.10", "", "X-Poshta",
		"Null MX: example.test takes no mail", 0);
	diag_is("5.1.2 example.test: no such domain", DSN_FAILED, "5.1.2", "",
		"X-Poshta", "example.test: no such domain", 0);
	/* A host given only by its address. */
	diag_is("[127.0.0.2]: 550 5.1.1 x", DSN_FAILED, "5.1.1",
		"[127.0.0.2]", "smtp", "550 5.1.1 x", 0);
	diag_is("mx.test[IPv6:2001:db8::1]: 550 5.1.1 x", DSN_FAILED, "5.1.1",
		"mx.test", "smtp", "550 5.1.1 x", 0);
	diag_is("mx.test[2001:db8::1]: 550 5.1.1 x", DSN_FAILED, "5.1.1",
		"mx.test", "smtp", "550 5.1.1 x", 0);
}

static void
test_other_text(void **state)
{
	char longhost[600];

	(void)state;
	diag_is(NULL, DSN_FAILED, "5.0.0", "", "X-Poshta", "", 0);
	diag_is("", DSN_DELAYED, "4.0.0", "", "X-Poshta", "", 0);
	diag_is("", DSN_RELAYED, "2.0.0", "", "X-Poshta", "", 0);
	diag_is("something broke", DSN_FAILED, "5.0.0", "", "X-Poshta",
		"something broke", 0);
	/* Not the host form: no space after the colon, no bracket. */
	diag_is("mx.test[1.2.3.4]:550 x", DSN_FAILED, "5.0.0", "", "X-Poshta",
		"mx.test[1.2.3.4]:550 x", 0);
	diag_is("mx.test[1.2.3.4: 550 x", DSN_FAILED, "5.0.0", "", "X-Poshta",
		"mx.test[1.2.3.4: 550 x", 0);
	diag_is("mx.test[]: 550 x", DSN_FAILED, "5.0.0", "", "X-Poshta",
		"mx.test[]: 550 x", 0);
	/* A status of the wrong class for the action. */
	diag_is("5.1.1 odd delay", DSN_DELAYED, "4.0.0", "", "X-Poshta",
		"odd delay", 0);
	diag_is("mx.test[1.2.3.4]: 550 5.1.1 x", DSN_RELAYED, "2.0.0",
		"mx.test", "smtp", "550 5.1.1 x", 0);
	/* A reply code out of range is text. */
	diag_is("mx.test[1.2.3.4]: 650 x", DSN_FAILED, "5.0.0", "mx.test",
		"X-Poshta", "650 x", 0);
	/* A host name too long for Remote-MTA: the reply still counts. */
	memset(longhost, 'a', 300);
	snprintf(longhost + 300, sizeof(longhost) - 300,
		 "[1.2.3.4]: 550 5.1.1 x");
	diag_is(longhost, DSN_FAILED, "5.1.1", "[1.2.3.4]", "smtp",
		"550 5.1.1 x", 0);
}

/* Every prefix of a well-formed diag parses to something valid: the
 * status always fits the action, the text is inside the input. */
static void
test_prefixes(void **state)
{
	const char *in = "mx1.example.test[IPv6:2001:db8::1]: 550-5.1.1 No";
	static const enum dsn_action acts[] = {DSN_FAILED, DSN_DELAYED,
					       DSN_RELAYED};
	char buf[128];

	(void)state;
	for (size_t n = 0; n <= strlen(in); n++) {
		for (size_t k = 0; k < 3; k++) {
			struct bounce_diag d;

			snprintf(buf, sizeof(buf), "%.*s", (int)n, in);
			bounce_diag_parse(buf, acts[k], &d);
			assert_true(d.text >= buf && d.text <= buf + n);
			assert_true(d.status[0] == "542"[k] ||
				    (k == 0 && d.status[0] == '4'));
			assert_int_equal(d.status[1], '.');
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_remote_reply),
		cmocka_unit_test(test_enhanced_mismatch),
		cmocka_unit_test(test_expired),
		cmocka_unit_test(test_local),
		cmocka_unit_test(test_other_text),
		cmocka_unit_test(test_prefixes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
