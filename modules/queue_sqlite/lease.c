/* Leases for queue_sqlite: the delivery side's claim on due recipients.
 * A claim is a lease number and an expiry written on the recipient's row
 * in one BEGIN IMMEDIATE transaction, so threads and worker processes
 * never claim the same recipient while the claim lasts, and a claim whose
 * holder died simply runs out (at-least-once delivery, RFC 5321 6.1).
 * next_due tells a runner when to look again (RFC 5321 4.5.4.1 leaves the
 * retry schedule to the sender; the caller's results set it). */
#include <stdint.h>

#include "queue_sqlite.h"

/* A new lease number: positive as SQLite stores it, never 0 (none). */
static int64_t
qs_lease_number(void)
{
	int64_t v = (int64_t)(qs_random() & INT64_MAX);

	return v ? v : 1;
}

static int
qs_lease_check(const struct ps_queue_lease_args *a, struct ps_error *err)
{
	if (!a || a->size < sizeof(*a))
		return qs_err(err, PS_EINVAL, "no lease arguments, or older "
			      "ones than this backend knows");
	if (a->limit < 1 || a->limit > PS_QUEUE_LEASE_MAX)
		return qs_err(err, PS_EINVAL, "lease limit %u (1..%d)",
			      a->limit, PS_QUEUE_LEASE_MAX);
	if (a->seconds < 1 || a->now < 0 || a->now > INT64_MAX - a->seconds)
		return qs_err(err, PS_EINVAL, "lease of %u seconds at %lld",
			      a->seconds, (long long)a->now);
	if (a->kinds & ~(PS_QUEUE_LOCAL | PS_QUEUE_REMOTE))
		return qs_err(err, PS_EINVAL, "unknown kinds 0x%x", a->kinds);
	return 0;
}

/* Claim: the longest waiting due recipients first. */
static int
qs_lease_claim(const struct ps_queue_lease_args *a, int64_t lease,
	       unsigned *count_r, struct ps_error *err)
{
	sqlite3 *db;
	int r = qs_write_begin(&db, 0, err);

	if (r < 0)
		return r;
	r = qs_exec(db, err, "UPDATE rcpt SET lease = ?1, lease_until = ?2"
		    " WHERE (mid, idx) IN (SELECT r.mid, r.idx FROM rcpt r"
		    "  JOIN message m ON m.mid = r.mid"
		    "  WHERE r.state < 2 AND r.next_attempt <= ?3"
		    "  AND r.lease_until <= ?3 AND m.held = 0"
		    "  AND (?4 = 0 OR r.kind & ?4)"
		    "  AND (?5 IS NULL OR r.route = ?5)"
		    "  ORDER BY r.next_attempt, r.mid, r.idx LIMIT ?6)",
		    "iiiusu", lease, a->now + (int64_t)a->seconds, a->now,
		    a->kinds, a->route, a->limit);
	if (r >= 0)
		*count_r = (unsigned)r;
	return qs_write_end(db, 0, r < 0 ? r : 0, err);
}

/* Hand fn what the lease holds, by route, message and index. */
static int
qs_lease_report(int64_t lease, ps_queue_rcpt_fn fn, void *arg,
		struct ps_error *err)
{
	struct ps_queue_msg m;
	struct ps_queue_rcpt rc;
	sqlite3_stmt *st;
	sqlite3 *db;
	int r = qs_read_begin(&db, err);

	if (r < 0)
		return r;
	st = qs_prep(db, err, "SELECT " QS_MSG_COLS ", " QS_RCPT_COLS
		     " FROM rcpt r JOIN message m ON m.mid = r.mid"
		     " WHERE r.lease = ? AND r.lease != 0" /* the index's */
		     " ORDER BY r.route, r.mid, r.idx", "i",
		     lease);
	r = st ? 0 : PS_EIO;
	while (r == 0 && (r = qs_step(db, st, err)) == 1) {
		qs_msg_row(st, &m);
		qs_rcpt_row(st, QS_MSG_NCOLS, &rc);
		r = fn(&m, &rc, arg);
	}
	sqlite3_finalize(st);
	qs_read_end(db);
	return r;
}

int
qs_lease(const struct ps_queue_lease_args *a, ps_queue_rcpt_fn fn,
	 void *arg, uint64_t *lease_r, unsigned *count_r,
	 struct ps_error *err)
{
	int64_t lease = qs_lease_number();
	unsigned count = 0;
	int r = qs_lease_check(a, err);

	*lease_r = 0;
	*count_r = 0;
	if (r == 0)
		r = qs_lease_claim(a, lease, &count, err);
	if (r < 0)
		return r;
	*lease_r = (uint64_t)lease;
	*count_r = count;
	/* Claimed and committed: a failure to report them now only delays
	 * them until the lease runs out. */
	return count && fn ? qs_lease_report(lease, fn, arg, err) : 0;
}

int
qs_next_due(unsigned kinds, int64_t *when_r, struct ps_error *err)
{
	int64_t rcpt = 0, report = 0;
	sqlite3 *db;
	int have_rcpt = 0, have_report = 0, r;

	if (kinds & ~(PS_QUEUE_LOCAL | PS_QUEUE_REMOTE))
		return qs_err(err, PS_EINVAL, "unknown kinds 0x%x", kinds);
	r = qs_read_begin(&db, err);
	if (r < 0)
		return r;
	r = have_rcpt = qs_query_int(db, err, &rcpt, "SELECT"
				     " min(max(r.next_attempt, r.lease_until))"
				     " FROM rcpt r JOIN message m"
				     " ON m.mid = r.mid WHERE r.state < 2"
				     " AND m.held = 0"
				     " AND (?1 = 0 OR r.kind & ?1)", "u",
				     kinds);
	if (r >= 0 && kinds == 0)
		r = have_report = qs_query_int(db, err, &report, "SELECT"
					       " min(m.report_until) FROM"
					       " message m WHERE m.held = 0"
					       " AND m.mid IN (SELECT r.mid"
					       " FROM rcpt r WHERE"
					       " r.report & 1)", "");
	qs_read_end(db);
	if (r < 0)
		return r;
	if (!have_rcpt && !have_report)
		return qs_err(err, PS_ENOENT, "nothing pending");
	*when_r = !have_report || (have_rcpt && rcpt < report) ? rcpt
							       : report;
	return 0;
}
