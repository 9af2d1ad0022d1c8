/* Conformance: results, removal and reports. A message leaves the queue
 * in the transaction of its last final result (RFC 5321 6.1), unless a
 * delivery status notification is owed (RFC 3461 NOTIFY, RFC 3464): then
 * it stays until a reporter has made its DSN, and a reporter that dies
 * leaves the report owed, never lost. */
#include <stdio.h>
#include <string.h>

#include "suite.h"

static struct qt_leased qt_got;

void
qt_test_results(void **state)
{
	char id[PS_QUEUE_ID_LEN + 1], buf[64];
	struct ps_queue_result v[3];
	struct ps_error err = {""};
	size_t got;
	struct qt_msg m;

	(void)state;
	qt_empty();
	qt_enqueue_simple(id, QT_T0, 2, 1);
	assert_int_equal(qt_lease(QT_T0, 60, 10, 0, NULL, &qt_got), 3);
	/* A batch in one call: each gets its status. */
	for (int i = 0; i < 3; i++)
		v[i] = (struct ps_queue_result){
			.size = sizeof(v[i]), .id = id, .index = (unsigned)i,
			.lease = qt_got.lease, .status = 99,
		};
	v[0].state = PS_QUEUE_DELIVERED;
	v[0].diag = "250 2.0.0 ok";
	v[1].state = PS_QUEUE_FAILED;
	v[1].diag = "550 5.1.1 no such user";
	v[2].state = PS_QUEUE_DEFERRED;
	v[2].next_attempt = QT_T0 + 100;
	v[2].diag = "452 4.2.2 over quota";
	assert_int_equal(qt_ops.results(v, 3, QT_T0 + 1, &err), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(v[i].status, 0);
	assert_int_equal(qt_get(id, &m), 0);
	assert_int_equal(m.r[0].state, PS_QUEUE_DELIVERED);
	assert_int_equal(m.r[1].state, PS_QUEUE_FAILED);
	assert_string_equal(m.r[1].diag, "550 5.1.1 no such user");
	assert_int_equal(m.r[2].state, PS_QUEUE_DEFERRED);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(m.r[i].attempts, 1);
		assert_int_equal(m.r[i].lease, 0);
		assert_int_equal(m.r[i].last_attempt, QT_T0 + 1);
	}
	/* Final recipients are never leased or changed again. */
	assert_int_equal(qt_lease(QT_T0 + 100, 60, 10, 0, NULL, &qt_got), 1);
	assert_int_equal(qt_got.v[0].index, 2);
	assert_int_equal(qt_result(id, 0, 0, PS_QUEUE_FAILED, 0, "x", 0,
				   QT_T0 + 101), PS_QUEUE_ESTALE);
	/* The last one final: the message goes, body and all. */
	assert_int_equal(qt_result(id, 2, qt_got.lease, PS_QUEUE_DELIVERED, 0,
				   NULL, 0, QT_T0 + 101), 0);
	assert_int_equal(qt_get(id, &m), PS_ENOENT);
	assert_int_equal(qt_ops.msg_read(id, 0, buf, sizeof(buf), &got, &err),
			 PS_ENOENT);
	assert_int_equal(qt_next_due(0), -1);
	assert_int_equal(qt_ops.results(v, 0, QT_T0, &err), 0);
}

void
qt_test_result_errors(void **state)
{
	char id[PS_QUEUE_ID_LEN + 1], diag[3001];
	struct ps_queue_result v;
	struct ps_error err = {""};
	struct qt_msg m;
	size_t len;

	(void)state;
	qt_empty();
	qt_enqueue_simple(id, QT_T0, 2, 0);
	assert_int_equal(qt_result("0123456789abcdef", 0, 0,
				   PS_QUEUE_DELIVERED, 0, NULL, 0, QT_T0),
			 PS_ENOENT);
	assert_int_equal(qt_result(id, 2, 0, PS_QUEUE_DELIVERED, 0, NULL, 0,
				   QT_T0), PS_ENOENT);
	assert_int_equal(qt_result(id, 0, 0, PS_QUEUE_QUEUED, 0, NULL, 0,
				   QT_T0), PS_EINVAL);
	assert_int_equal(qt_result(NULL, 0, 0, PS_QUEUE_DELIVERED, 0, NULL, 0,
				   QT_T0), PS_EINVAL);
	v = (struct ps_queue_result){ .size = 8 };
	assert_int_equal(qt_ops.results(&v, 1, QT_T0, &err), PS_EINVAL);
	/* A diagnostic past the bound is cut, never inside a UTF-8
	 * character: "a" then 1500 two-octet characters. */
	diag[0] = 'a';
	for (int i = 0; i < 1500; i++)
		memcpy(diag + 1 + 2 * i, "\xc3\xa9", 2);
	diag[3000] = '\0';
	assert_int_equal(qt_result(id, 0, 0, PS_QUEUE_DEFERRED, QT_T0 + 5,
				   diag, 0, QT_T0), 0);
	assert_int_equal(qt_get(id, &m), 0);
	len = strlen(m.r[0].diag);
	assert_true(len <= PS_QUEUE_DIAG_MAX && len >= PS_QUEUE_DIAG_MAX - 3);
	assert_int_equal(len % 2, 1); /* "a" and whole characters */
	assert_memory_equal(m.r[0].diag, diag, len);
	/* None of that touched the other recipient. */
	assert_int_equal(m.r[1].attempts, 0);
	assert_int_equal(m.r[1].state, PS_QUEUE_QUEUED);
}

static struct qt_msgs qt_reported;

static unsigned
qt_report_lease(int64_t now, unsigned seconds, uint64_t *lease)
{
	struct ps_error err = {""};

	qt_reported.n = 0;
	if (qt_ops.report_lease(now, seconds, 100, qt_collect_msg,
				&qt_reported, lease, &err) < 0)
		fail_msg("report_lease: %s", err.msg);
	return (unsigned)qt_reported.n;
}

void
qt_test_reports(void **state)
{
	char id[PS_QUEUE_ID_LEN + 1], buf[64];
	struct ps_error err = {""};
	uint64_t lease, other;
	struct qt_msg m;

	(void)state;
	qt_empty();
	qt_enqueue_simple(id, QT_T0, 3, 0);
	assert_int_equal(qt_lease(QT_T0, 60, 10, 0, NULL, &qt_got), 3);
	assert_int_equal(qt_report_lease(QT_T0, 60, &lease), 0);
	/* r0 failed, a DSN owed; r1 delivered, none; r2 deferred with a
	 * delay DSN owed. */
	assert_int_equal(qt_result(id, 0, qt_got.lease, PS_QUEUE_FAILED, 0,
				   "550 5.1.1 unknown", PS_QUEUE_REPORT,
				   QT_T0 + 1), 0);
	assert_int_equal(qt_result(id, 1, qt_got.lease, PS_QUEUE_DELIVERED, 0,
				   "250 ok", 0, QT_T0 + 1), 0);
	assert_int_equal(qt_result(id, 2, qt_got.lease, PS_QUEUE_DEFERRED,
				   QT_T0 + 3600, "451 later", PS_QUEUE_REPORT,
				   QT_T0 + 1), 0);
	assert_int_equal(qt_get(id, &m), 0);
	assert_int_equal(m.r[0].report, PS_QUEUE_REPORT_OWED);
	assert_int_equal(m.r[1].report, 0);
	assert_true(qt_next_due(0) <= QT_T0 + 2); /* the report: now */
	assert_int_equal(qt_next_due(PS_QUEUE_REMOTE), QT_T0 + 3600);
	assert_int_equal(qt_report_lease(QT_T0 + 2, 60, &lease), 1);
	assert_string_equal(qt_reported.m[0].id, id);
	assert_int_equal(qt_reported.m[0].nrcpts, 3);
	assert_int_equal(qt_reported.m[0].n, 2);
	assert_int_equal(qt_reported.m[0].r[0].index, 0);
	assert_int_equal(qt_reported.m[0].r[0].state, PS_QUEUE_FAILED);
	assert_string_equal(qt_reported.m[0].r[0].diag, "550 5.1.1 unknown");
	assert_int_equal(qt_reported.m[0].r[1].index, 2);
	assert_int_equal(qt_reported.m[0].r[1].state, PS_QUEUE_DEFERRED);
	/* The reporter reads the body for RET=FULL. */
	qt_read_all(id, buf, sizeof(buf));
	assert_string_equal(buf, "Subject: simple\r\n\r\nbody\r\n");
	/* Claimed: no second reporter gets it meanwhile. */
	assert_int_equal(qt_report_lease(QT_T0 + 3, 60, &other), 0);
	assert_int_equal(qt_ops.report_done(id, lease, &err), 0);
	assert_int_equal(qt_get(id, &m), 0);
	assert_int_equal(m.r[0].report, 0);
	assert_int_equal(m.r[2].report, PS_QUEUE_REPORT_DELAYED);
	assert_int_equal(qt_report_lease(QT_T0 + 100, 60, &other), 0);
	/* The deferred one delivered at last: nothing holds the message. */
	assert_int_equal(qt_lease(QT_T0 + 3600, 60, 10, 0, NULL, &qt_got), 1);
	assert_int_equal(qt_result(id, 2, qt_got.lease, PS_QUEUE_DELIVERED, 0,
				   "250 ok", 0, QT_T0 + 3601), 0);
	assert_int_equal(qt_get(id, &m), PS_ENOENT);

	/* Every recipient final before the report: report_done removes. */
	qt_enqueue_simple(id, QT_T0, 1, 0);
	assert_int_equal(qt_result(id, 0, 0, PS_QUEUE_FAILED, 0, "554 no",
				   PS_QUEUE_REPORT, QT_T0), 0);
	assert_int_equal(qt_get(id, &m), 0);
	assert_int_equal(qt_report_lease(QT_T0, 60, &lease), 1);
	assert_int_equal(qt_ops.report_done(id, lease, &err), 0);
	assert_int_equal(qt_get(id, &m), PS_ENOENT);
	assert_int_equal(qt_ops.report_done(id, lease, &err), PS_ENOENT);
}

/* A reporter killed before report_done: its lease runs out and another
 * takes the report over; the first one's report_done then no longer
 * applies. A recipient owed again during a report lease stays owed. */
void
qt_test_report_races(void **state)
{
	char id[PS_QUEUE_ID_LEN + 1];
	struct ps_error err = {""};
	uint64_t dead, lease;
	struct qt_msg m;

	(void)state;
	qt_empty();
	qt_enqueue_simple(id, QT_T0, 2, 0);
	assert_int_equal(qt_result(id, 0, 0, PS_QUEUE_FAILED, 0, "550 a",
				   PS_QUEUE_REPORT, QT_T0), 0);
	assert_int_equal(qt_report_lease(QT_T0, 60, &dead), 1);
	assert_int_equal(qt_next_due(0), QT_T0);  /* r1 is still due */
	assert_int_equal(qt_report_lease(QT_T0 + 59, 60, &lease), 0);
	assert_int_equal(qt_report_lease(QT_T0 + 60, 60, &lease), 1);
	assert_true(lease != dead);
	assert_int_equal(qt_ops.report_done(id, dead, &err), PS_QUEUE_ESTALE);
	assert_int_equal(qt_ops.report_done(id, 0, &err), PS_QUEUE_ESTALE);
	/* r1 fails while the report of r0 is being made. */
	assert_int_equal(qt_result(id, 1, 0, PS_QUEUE_FAILED, 0, "550 b",
				   PS_QUEUE_REPORT, QT_T0 + 61), 0);
	assert_int_equal(qt_ops.report_done(id, lease, &err), 0);
	assert_int_equal(qt_get(id, &m), 0);
	assert_int_equal(m.r[0].report, 0);
	assert_int_equal(m.r[1].report, PS_QUEUE_REPORT_OWED);
	assert_int_equal(qt_report_lease(QT_T0 + 62, 60, &lease), 1);
	assert_int_equal(qt_reported.m[0].n, 1);
	assert_int_equal(qt_reported.m[0].r[0].index, 1);
	assert_int_equal(qt_ops.report_done(id, lease, &err), 0);
	assert_int_equal(qt_get(id, &m), PS_ENOENT);
	/* Held messages make no reports either. */
	qt_enqueue_simple(id, QT_T0, 1, 0);
	assert_int_equal(qt_result(id, 0, 0, PS_QUEUE_FAILED, 0, "550 c",
				   PS_QUEUE_REPORT, QT_T0), 0);
	assert_int_equal(qt_ops.hold(id, 1, &err), 0);
	assert_int_equal(qt_report_lease(QT_T0, 60, &lease), 0);
	assert_int_equal(qt_next_due(0), -1);
	assert_int_equal(qt_ops.hold(id, 0, &err), 0);
	assert_int_equal(qt_report_lease(QT_T0, 60, &lease), 1);
}
