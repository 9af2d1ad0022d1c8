/* Unit tests for the outbound runner's pure decisions (modules/smtp/
 * relay_policy.c): the retry backoff with its jitter bounds, giving up
 * after queue_lifetime (RFC 5321 4.5.4.1), which outcomes owe a DSN
 * under each NOTIFY (RFC 3461 4.1) and never for the null sender, the
 * one delay warning, and the diag text the queue keeps. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "relay.h"

static const struct relay_config cfg = {
	.retry_first = 300, .retry_max = 3600, .lifetime = 5 * 86400,
	.delay_warning = 4 * 3600};

static void
test_backoff(void **state)
{
	(void)state;
	/* random % 401 == 200: no jitter. */
	assert_int_equal(relay_backoff(&cfg, 1, 200), 300);
	assert_int_equal(relay_backoff(&cfg, 2, 200), 600);
	assert_int_equal(relay_backoff(&cfg, 4, 200), 2400);
	assert_int_equal(relay_backoff(&cfg, 5, 200), 3600);
	assert_int_equal(relay_backoff(&cfg, 500, 200), 3600);
	/* The jitter's ends: 0.8 and 1.2 times. */
	assert_int_equal(relay_backoff(&cfg, 1, 0), 240);
	assert_int_equal(relay_backoff(&cfg, 1, 400), 360);
	for (uint32_t r = 0; r < 2000; r += 7) {
		int64_t d = relay_backoff(&cfg, 3, r * 2654435761u);

		assert_true(d >= 960 && d <= 1440);
	}
}

static void
test_backoff_short(void **state)
{
	struct relay_config c = {.retry_first = 1, .retry_max = 2};

	(void)state;
	/* Whole seconds, never 0: a test's "1s" still waits. */
	for (uint32_t r = 0; r < 401; r++) {
		assert_in_range(relay_backoff(&c, 1, r), 1, 2);
		assert_in_range(relay_backoff(&c, 9, r), 2, 3);
	}
}

struct fixture {
	struct relay_msg m;
	struct relay_rcpt r;
	struct ps_queue_result out;
};

static void
setup(struct fixture *f, const char *sender, unsigned notify,
      enum smtpc_outcome o)
{
	memset(f, 0, sizeof(*f));
	snprintf(f->m.id, sizeof(f->m.id), "0123456789abcdef");
	f->m.sender = (char *)sender;
	f->m.arrival = 1000000;
	f->m.lease = 7;
	f->r.index = 3;
	f->r.notify = notify;
	f->r.outcome = o;
	f->r.decided = 1;
	f->r.diag = (char *)"mx[192.0.2.1]: 550 5.1.1 no";
}

static void
decide(struct fixture *f, int64_t now)
{
	relay_result(&cfg, &f->m, &f->r, now, 200, &f->out);
}

static void
test_failed(void **state)
{
	struct fixture f;

	(void)state;
	setup(&f, "a@example.test", 0, SMTPC_FAILED);
	decide(&f, 1000010);
	assert_int_equal(f.out.state, PS_QUEUE_FAILED);
	assert_int_equal(f.out.flags, PS_QUEUE_REPORT);
	assert_int_equal(f.out.index, 3);
	assert_int_equal(f.out.lease, 7);
	assert_string_equal(f.out.diag, "mx[192.0.2.1]: 550 5.1.1 no");
	setup(&f, "a@example.test", PS_QUEUE_NOTIFY_NEVER, SMTPC_FAILED);
	decide(&f, 1000010);
	assert_int_equal(f.out.flags, 0);
	setup(&f, "a@example.test", PS_QUEUE_NOTIFY_SUCCESS, SMTPC_FAILED);
	decide(&f, 1000010);
	assert_int_equal(f.out.flags, 0);
	setup(&f, "", 0, SMTPC_FAILED); /* RFC 5321 4.5.5 */
	decide(&f, 1000010);
	assert_int_equal(f.out.state, PS_QUEUE_FAILED);
	assert_int_equal(f.out.flags, 0);
}

static void
test_delivered(void **state)
{
	struct fixture f;

	(void)state;
	setup(&f, "a@example.test", 0, SMTPC_DELIVERED);
	decide(&f, 1000010);
	assert_int_equal(f.out.state, PS_QUEUE_DELIVERED);
	assert_int_equal(f.out.flags, 0);
	/* SUCCESS to a server without DSN: we report "relayed". */
	setup(&f, "a@example.test", PS_QUEUE_NOTIFY_SUCCESS, SMTPC_DELIVERED);
	decide(&f, 1000010);
	assert_int_equal(f.out.flags, PS_QUEUE_REPORT);
	f.r.dsn_offered = 1;
	decide(&f, 1000010);
	assert_int_equal(f.out.flags, 0);
}

static void
test_deferred(void **state)
{
	struct fixture f;

	(void)state;
	setup(&f, "a@example.test", 0, SMTPC_DEFERRED);
	f.r.attempts = 1;
	decide(&f, 1000010);
	assert_int_equal(f.out.state, PS_QUEUE_DEFERRED);
	assert_int_equal(f.out.next_attempt, 1000010 + 600);
	assert_int_equal(f.out.flags, 0);
	/* Past delay_warning: one delay DSN, not after REPORT_DELAYED. */
	decide(&f, 1000000 + 4 * 3600);
	assert_int_equal(f.out.flags, PS_QUEUE_REPORT);
	f.r.report = PS_QUEUE_REPORT_DELAYED;
	decide(&f, 1000000 + 5 * 3600);
	assert_int_equal(f.out.flags, 0);
	f.r.report = 0;
	f.r.notify = PS_QUEUE_NOTIFY_FAILURE;
	decide(&f, 1000000 + 5 * 3600);
	assert_int_equal(f.out.flags, 0);
	/* Past queue_lifetime: failed, with the last reply kept. */
	f.r.notify = 0;
	decide(&f, 1000000 + 5 * 86400);
	assert_int_equal(f.out.state, PS_QUEUE_FAILED);
	assert_int_equal(f.out.flags, PS_QUEUE_REPORT);
	assert_string_equal(f.out.diag, "mx[192.0.2.1]: 550 5.1.1 no");
}

static void
test_decide(void **state)
{
	struct relay_rcpt r = {0};
	struct relay_host h = {.name = "mx1.example.test",
			       .addr = "2001:db8::1"};

	(void)state;
	assert_int_equal(relay_decide(&r, SMTPC_FAILED, &h,
				      "550 5.1.1 no such user"), 1);
	assert_string_equal(r.diag,
			    "mx1.example.test[2001:db8::1]: 550 5.1.1 no such "
			    "user");
	/* Decided once: a later word does not change it. */
	assert_int_equal(relay_decide(&r, SMTPC_DEFERRED, NULL, "4.4.1 x"),
			 0);
	assert_int_equal(r.outcome, SMTPC_FAILED);
	free(r.diag);
	memset(&r, 0, sizeof(r));
	assert_int_equal(relay_decide(&r, SMTPC_FAILED, NULL,
				      "5.1.10 null MX"), 1);
	assert_string_equal(r.diag, "5.1.10 null MX");
	free(r.diag);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_backoff),
		cmocka_unit_test(test_backoff_short),
		cmocka_unit_test(test_failed),
		cmocka_unit_test(test_delivered),
		cmocka_unit_test(test_deferred),
		cmocka_unit_test(test_decide),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
