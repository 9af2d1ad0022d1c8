/* Conformance: administration (poshtactl queue list|show|flush|hold|
 * release|delete) and restarts. Held messages are never leased until
 * released; flush makes waiting recipients due now; delete removes at
 * once; everything, claims included, survives stopping and starting the
 * backend. */
#include <stdio.h>
#include <string.h>

#include "suite.h"

static struct qt_leased qt_got;

void
qt_test_admin(void **state)
{
	char a[PS_QUEUE_ID_LEN + 1], b[PS_QUEUE_ID_LEN + 1],
		c[PS_QUEUE_ID_LEN + 1];
	static const char nobody[] = "fedcba9876543210";
	struct ps_error err = {""};
	static struct qt_msgs all;
	struct qt_msg m;

	(void)state;
	qt_empty();
	qt_enqueue_simple(a, QT_T0, 1, 0);
	qt_enqueue_simple(b, QT_T0 + 1, 1, 1);
	qt_enqueue_simple(c, QT_T0 + 2, 2, 0);
	qt_list(&all);
	assert_int_equal(all.n, 3);
	assert_string_equal(all.m[0].id, a);
	assert_string_equal(all.m[2].id, c);
	assert_int_equal(all.m[1].n, 2);
	/* Defer everything far away, then flush one message. */
	assert_int_equal(qt_lease(QT_T0 + 2, 60, 10, 0, NULL, &qt_got), 5);
	for (size_t i = 0; i < qt_got.n; i++)
		assert_int_equal(qt_result(qt_got.v[i].id, qt_got.v[i].index,
					   qt_got.lease, PS_QUEUE_DEFERRED,
					   QT_T0 + 10000, "451", 0,
					   QT_T0 + 3), 0);
	assert_int_equal(qt_next_due(0), QT_T0 + 10000);
	assert_int_equal(qt_ops.flush(b, QT_T0 + 10, &err), 0);
	assert_int_equal(qt_next_due(0), QT_T0 + 10);
	assert_int_equal(qt_lease(QT_T0 + 10, 60, 10, 0, NULL, &qt_got), 2);
	assert_string_equal(qt_got.v[0].id, b);
	/* Flush leaves a claimed recipient alone; flush all does the
	 * rest. */
	assert_int_equal(qt_ops.flush(NULL, QT_T0 + 20, &err), 0);
	assert_int_equal(qt_lease(QT_T0 + 20, 60, 10, 0, NULL, &qt_got), 3);
	assert_int_equal(qt_get(b, &m), 0);
	assert_int_equal(m.r[0].next_attempt, QT_T0 + 10);
	/* Delete one, then all. */
	assert_int_equal(qt_ops.remove(a, &err), 0);
	assert_int_equal(qt_get(a, &m), PS_ENOENT);
	qt_list(&all);
	assert_int_equal(all.n, 2);
	/* Unknown ids. */
	assert_int_equal(qt_ops.remove(nobody, &err), PS_ENOENT);
	assert_int_equal(qt_ops.hold(nobody, 1, &err), PS_ENOENT);
	assert_int_equal(qt_ops.flush(nobody, QT_T0, &err), PS_ENOENT);
	assert_int_equal(qt_ops.msg_get(NULL, qt_collect_msg, &all, &err),
			 PS_EINVAL);
	assert_int_equal(qt_ops.remove(NULL, &err), 0);
	qt_list(&all);
	assert_int_equal(all.n, 0);
	assert_int_equal(qt_ops.remove(NULL, &err), 0);
}

void
qt_test_hold(void **state)
{
	char a[PS_QUEUE_ID_LEN + 1], b[PS_QUEUE_ID_LEN + 1];
	struct ps_queue_rcpt_in r = qt_remote("q@quarantine.test");
	struct ps_queue_envelope env = qt_env("s@origin.test", QT_T0);
	struct ps_error err = {""};
	struct qt_msg m;

	(void)state;
	qt_empty();
	qt_enqueue_simple(a, QT_T0, 1, 0);
	env.flags = PS_QUEUE_HOLD;
	qt_enqueue(b, &env, &r, 1, "held\r\n");
	assert_int_equal(qt_get(b, &m), 0);
	assert_int_equal(m.held, 1);
	assert_int_equal(m.flags, 0);
	assert_int_equal(qt_ops.hold(a, 1, &err), 0);
	assert_int_equal(qt_next_due(0), -1);
	assert_int_equal(qt_lease(QT_T0, 60, 10, 0, NULL, &qt_got), 0);
	assert_int_equal(qt_ops.hold(b, 0, &err), 0);
	assert_int_equal(qt_lease(QT_T0, 60, 10, 0, NULL, &qt_got), 1);
	assert_string_equal(qt_got.v[0].id, b);
	/* A held message's claimed recipients still finish their attempt. */
	assert_int_equal(qt_ops.hold(NULL, 1, &err), 0);
	assert_int_equal(qt_result(b, 0, qt_got.lease, PS_QUEUE_DEFERRED,
				   QT_T0 + 5, "451", 0, QT_T0 + 1), 0);
	assert_int_equal(qt_get(b, &m), 0);
	assert_int_equal(m.held, 1);
	assert_int_equal(m.r[0].state, PS_QUEUE_DEFERRED);
	assert_int_equal(qt_lease(QT_T0 + 5, 60, 10, 0, NULL, &qt_got), 0);
	assert_int_equal(qt_ops.hold(NULL, 0, &err), 0);
	assert_int_equal(qt_lease(QT_T0 + 5, 60, 10, 0, NULL, &qt_got), 2);
}

/* Stop the backend and start it again: messages, recipients' states,
 * diagnostics, claims, holds and owed reports all come back. */
void
qt_test_restart(void **state)
{
	char a[PS_QUEUE_ID_LEN + 1], b[PS_QUEUE_ID_LEN + 1], buf[64];
	static struct qt_msgs before, after;
	struct ps_error err = {""};

	(void)state;
	qt_empty();
	qt_enqueue_simple(a, QT_T0, 2, 1);
	qt_enqueue_simple(b, QT_T0, 1, 0);
	assert_int_equal(qt_lease(QT_T0, 600, 2, 0, NULL, &qt_got), 2);
	assert_int_equal(qt_result(a, 0, qt_got.lease, PS_QUEUE_FAILED, 0,
				   "550 gone", PS_QUEUE_REPORT, QT_T0 + 1), 0);
	assert_int_equal(qt_ops.hold(b, 1, &err), 0);
	qt_list(&before);
	qt_restart();
	qt_list(&after);
	assert_int_equal(after.n, 2);
	assert_memory_equal(&before, &after, sizeof(before));
	qt_read_all(a, buf, sizeof(buf));
	assert_string_equal(buf, "Subject: simple\r\n\r\nbody\r\n");
	/* The claim made before the restart still holds. */
	assert_int_equal(qt_lease(QT_T0 + 1, 600, 10, 0, NULL, &qt_got), 1);
	assert_string_equal(qt_got.v[0].route, "u0");
}
