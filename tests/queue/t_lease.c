/* Conformance: leases and the caller's clock. Only due recipients are
 * leased, the longest waiting first, up to the limit, reported by route,
 * message and index; a live lease hides a recipient from every other
 * lessee and one that ran out makes it due again (at-least-once
 * delivery); a deferral is due exactly at the time given (RFC 5321
 * 4.5.4.1), and next_due says when. */
#include <stdio.h>
#include <string.h>

#include "suite.h"

static struct qt_leased qt_got, qt_got2;

void
qt_test_lease(void **state)
{
	char a[PS_QUEUE_ID_LEN + 1], b[PS_QUEUE_ID_LEN + 1];
	struct qt_msg m;

	(void)state;
	qt_empty();
	qt_enqueue_simple(a, QT_T0 + 10, 2, 1);
	qt_enqueue_simple(b, QT_T0 + 20, 1, 0);
	assert_int_equal(qt_next_due(0), QT_T0 + 10);
	/* Nothing is due before its arrival. */
	assert_int_equal(qt_lease(QT_T0 + 9, 60, 100, 0, NULL, &qt_got), 0);
	assert_int_equal(qt_got.lease != 0, 1);
	/* The limit takes the longest waiting; a's three first. */
	assert_int_equal(qt_lease(QT_T0 + 20, 60, 3, 0, NULL, &qt_got), 3);
	for (size_t i = 0; i < 3; i++)
		assert_string_equal(qt_got.v[i].id, a);
	/* Reported by route, then message, then index: remote.test < u0. */
	assert_string_equal(qt_got.v[0].route, "remote.test");
	assert_int_equal(qt_got.v[0].index, 0);
	assert_int_equal(qt_got.v[1].index, 1);
	assert_string_equal(qt_got.v[2].route, "u0");
	assert_int_equal(qt_got.v[2].kind, PS_QUEUE_LOCAL);
	assert_string_equal(qt_got.v[0].sender, "sender@origin.test");
	/* The claim shows, and hides them from the next lessee. */
	assert_int_equal(qt_get(a, &m), 0);
	assert_int_equal(m.r[1].lease, qt_got.lease);
	assert_int_equal(m.r[1].lease_until, QT_T0 + 80);
	assert_int_equal(qt_lease(QT_T0 + 20, 60, 100, 0, NULL, &qt_got2), 1);
	assert_string_equal(qt_got2.v[0].id, b);
	assert_true(qt_got2.lease != qt_got.lease);
	assert_int_equal(qt_lease(QT_T0 + 21, 60, 100, 0, NULL, &qt_got2), 0);
	/* Everything is leased: due again when the first lease ends. */
	assert_int_equal(qt_next_due(0), QT_T0 + 80);
}

void
qt_test_lease_filters(void **state)
{
	struct ps_queue_rcpt_in r[4] = {
		qt_remote("x@Zeta.test"),
		qt_remote("y@alpha.test"),
		qt_local("u@here.test", "u@here.test"),
		qt_remote("z@ALPHA.test"),
	};
	struct ps_queue_envelope env = qt_env("s@origin.test", QT_T0);
	struct ps_queue_lease_args bad;
	char id[PS_QUEUE_ID_LEN + 1];
	struct ps_error err = {""};
	uint64_t lease;
	unsigned count;

	(void)state;
	qt_empty();
	qt_enqueue(id, &env, r, 4, "body\r\n");
	assert_int_equal(qt_next_due(PS_QUEUE_LOCAL), QT_T0);
	assert_int_equal(qt_lease(QT_T0, 60, 10, PS_QUEUE_LOCAL, NULL,
				  &qt_got), 1);
	assert_int_equal(qt_got.v[0].index, 2);
	assert_int_equal(qt_next_due(PS_QUEUE_LOCAL), QT_T0 + 60);
	assert_int_equal(qt_next_due(PS_QUEUE_REMOTE), QT_T0);
	/* One domain, whatever the case it was written in. */
	assert_int_equal(qt_lease(QT_T0, 60, 10, PS_QUEUE_REMOTE,
				  "alpha.test", &qt_got), 2);
	assert_int_equal(qt_got.v[0].index, 1);
	assert_int_equal(qt_got.v[1].index, 3);
	assert_int_equal(qt_lease(QT_T0, 60, 10, PS_QUEUE_LOCAL, "zeta.test",
				  &qt_got), 0);
	assert_int_equal(qt_lease(QT_T0, 60, 10, 0, NULL, &qt_got), 1);
	assert_string_equal(qt_got.v[0].route, "zeta.test");
	/* Arguments out of bounds. */
	bad = (struct ps_queue_lease_args){ .size = sizeof(bad), .now = QT_T0,
					    .seconds = 60, .limit = 0 };
	assert_int_equal(qt_ops.lease(&bad, NULL, NULL, &lease, &count, &err),
			 PS_EINVAL);
	bad.limit = PS_QUEUE_LEASE_MAX + 1;
	assert_int_equal(qt_ops.lease(&bad, NULL, NULL, &lease, &count, &err),
			 PS_EINVAL);
	bad.limit = 1, bad.seconds = 0;
	assert_int_equal(qt_ops.lease(&bad, NULL, NULL, &lease, &count, &err),
			 PS_EINVAL);
	bad.seconds = 1, bad.kinds = 4;
	assert_int_equal(qt_ops.lease(&bad, NULL, NULL, &lease, &count, &err),
			 PS_EINVAL);
	bad.kinds = 0, bad.size = 8;
	assert_int_equal(qt_ops.lease(&bad, NULL, NULL, &lease, &count, &err),
			 PS_EINVAL);
	assert_int_equal(qt_ops.next_due(8, &env.arrival, &err), PS_EINVAL);
}

/* A lessee that dies (never reports) loses its claim when the lease runs
 * out; its late result still counts if final, not if a deferral. */
void
qt_test_lease_expiry(void **state)
{
	char id[PS_QUEUE_ID_LEN + 1];
	uint64_t first;
	struct qt_msg m;

	(void)state;
	qt_empty();
	qt_enqueue_simple(id, QT_T0, 2, 0);
	assert_int_equal(qt_lease(QT_T0, 60, 10, 0, NULL, &qt_got), 2);
	first = qt_got.lease;
	assert_int_equal(qt_lease(QT_T0 + 59, 60, 10, 0, NULL, &qt_got), 0);
	assert_int_equal(qt_lease(QT_T0 + 60, 60, 10, 0, NULL, &qt_got), 2);
	assert_true(qt_got.lease != first);
	/* The first lessee comes back late: its deferral would undo the
	 * second's claim, so it is refused; its delivery is a fact. */
	assert_int_equal(qt_result(id, 0, first, PS_QUEUE_DEFERRED,
				   QT_T0 + 999, "451 late", 0, QT_T0 + 61),
			 PS_QUEUE_ESTALE);
	assert_int_equal(qt_result(id, 1, first, PS_QUEUE_DELIVERED, 0,
				   "250 late but done", 0, QT_T0 + 61), 0);
	/* The second lessee's result for it then no longer applies. */
	assert_int_equal(qt_result(id, 1, qt_got.lease, PS_QUEUE_DELIVERED, 0,
				   "250 again", 0, QT_T0 + 62),
			 PS_QUEUE_ESTALE);
	assert_int_equal(qt_get(id, &m), 0);
	assert_int_equal(m.r[0].state, PS_QUEUE_QUEUED);
	assert_int_equal(m.r[0].lease, qt_got.lease);
	assert_int_equal(m.r[1].state, PS_QUEUE_DELIVERED);
	assert_string_equal(m.r[1].diag, "250 late but done");
	assert_int_equal(m.r[1].attempts, 1);
	/* With no live lease of another, a deferral from an expired one
	 * applies: nobody else is working on it. */
	assert_int_equal(qt_result(id, 0, first, PS_QUEUE_DEFERRED,
				   QT_T0 + 500, "451 try later", 0,
				   QT_T0 + 121), 0);
	assert_int_equal(qt_get(id, &m), 0);
	assert_int_equal(m.r[0].state, PS_QUEUE_DEFERRED);
	assert_int_equal(m.r[0].lease, 0);
	assert_int_equal(m.r[0].next_attempt, QT_T0 + 500);
}

void
qt_test_deferral(void **state)
{
	char id[PS_QUEUE_ID_LEN + 1];
	struct qt_msg m;

	(void)state;
	qt_empty();
	qt_enqueue_simple(id, QT_T0, 1, 0);
	assert_int_equal(qt_lease(QT_T0, 600, 10, 0, NULL, &qt_got), 1);
	assert_int_equal(qt_result(id, 0, qt_got.lease, PS_QUEUE_DEFERRED,
				   QT_T0 + 300, "451 4.3.0 try later", 0,
				   QT_T0 + 2), 0);
	assert_int_equal(qt_next_due(0), QT_T0 + 300);
	assert_int_equal(qt_next_due(PS_QUEUE_LOCAL), -1);
	assert_int_equal(qt_lease(QT_T0 + 299, 600, 10, 0, NULL, &qt_got), 0);
	assert_int_equal(qt_lease(QT_T0 + 300, 600, 10, 0, NULL, &qt_got), 1);
	assert_int_equal(qt_result(id, 0, qt_got.lease, PS_QUEUE_DEFERRED,
				   QT_T0 + 1200, "421 4.4.2 timeout", 0,
				   QT_T0 + 301), 0);
	assert_int_equal(qt_get(id, &m), 0);
	assert_int_equal(m.r[0].state, PS_QUEUE_DEFERRED);
	assert_int_equal(m.r[0].attempts, 2);
	assert_int_equal(m.r[0].next_attempt, QT_T0 + 1200);
	assert_int_equal(m.r[0].last_attempt, QT_T0 + 301);
	assert_string_equal(m.r[0].diag, "421 4.4.2 timeout");
	assert_int_equal(qt_next_due(0), QT_T0 + 1200);
	/* A deferral into the past is due at once. */
	assert_int_equal(qt_lease(QT_T0 + 1200, 600, 10, 0, NULL, &qt_got), 1);
	assert_int_equal(qt_result(id, 0, qt_got.lease, PS_QUEUE_DEFERRED,
				   QT_T0, "451 again", 0, QT_T0 + 1201), 0);
	assert_int_equal(qt_next_due(0), QT_T0);
	assert_int_equal(qt_lease(QT_T0 + 1201, 600, 10, 0, NULL, &qt_got),
			 1);
}
