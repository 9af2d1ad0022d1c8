/* Outcomes for queue_sqlite: per-recipient results of delivery attempts
 * (RFC 5321 4.5.4.1 retries, 6.1: a message leaves the queue once each
 * recipient is delivered or failed), and the reports owed for them (RFC
 * 3461 NOTIFY, RFC 3464 DSNs), which keep the message until a reporter
 * has made its DSN. Results and report_done are durable and share the
 * group commit with enqueues. */
#include <stdlib.h>
#include <string.h>

#include "queue_sqlite.h"

struct qs_results {
	struct ps_queue_result *v;
	size_t n, stride;
	int64_t now;
	int64_t *mids; /* messages an applied result touched */
	size_t nmids;
};

static struct ps_queue_result *
qs_result_at(struct qs_results *rs, size_t i)
{
	return (struct ps_queue_result *)(void *)((char *)rs->v +
						  i * rs->stride);
}

/* diag cut to PS_QUEUE_DIAG_MAX octets, not inside a UTF-8 sequence. */
static const char *
qs_diag(const char *diag, char *buf)
{
	size_t len = diag ? strlen(diag) : 0;

	if (!diag)
		return "";
	if (len <= PS_QUEUE_DIAG_MAX)
		return diag;
	len = PS_QUEUE_DIAG_MAX;
	while (len > 0 && ((unsigned char)diag[len] & 0xc0) == 0x80)
		len--;
	memcpy(buf, diag, len);
	buf[len] = '\0';
	return buf;
}

static int
qs_result_one(struct qs_results *rs, sqlite3 *db, sqlite3_stmt *upd,
	      struct ps_queue_result *res, struct ps_error *err)
{
	char cut[PS_QUEUE_DIAG_MAX + 1];
	int64_t mid, one;
	int r;

	if (res->state != PS_QUEUE_DELIVERED && res->state != PS_QUEUE_FAILED &&
	    res->state != PS_QUEUE_DEFERRED) {
		res->status = PS_EINVAL;
		return 0;
	}
	res->status = qs_mid(db, res->id, &mid, err);
	if (res->status == PS_ENOENT || res->status == PS_EINVAL)
		return 0;
	if (res->status < 0)
		return res->status;
	r = qs_rebind(db, upd, err, "iiuiisui", mid, (int64_t)res->index,
		      (unsigned)res->state, res->next_attempt, rs->now,
		      qs_diag(res->diag, cut),
		      (unsigned)((res->flags & PS_QUEUE_REPORT) != 0),
		      (int64_t)res->lease);
	if (r == 0)
		r = qs_step(db, upd, err);
	if (r < 0)
		return r;
	if (sqlite3_changes(db) == 1) {
		rs->mids[rs->nmids++] = mid;
		return 0;
	}
	r = qs_query_int(db, err, &one, "SELECT 1 FROM rcpt WHERE mid = ?"
			 " AND idx = ?", "ii", mid, (int64_t)res->index);
	if (r < 0)
		return r;
	res->status = r ? PS_QUEUE_ESTALE : PS_ENOENT;
	return 0;
}

static int
qs_mid_cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* The batch's part of a group commit. A result applies to a recipient
 * that is not final when the lease is its own, or the outcome is final,
 * or no live lease of another holds it (queue.h, results). */
static int
qs_results_store(void *arg, sqlite3 *db, struct ps_error *err)
{
	struct qs_results *rs = arg;
	sqlite3_stmt *upd = qs_prep(db, err, "UPDATE rcpt SET state = ?3,"
				    " attempts = attempts + 1,"
				    " next_attempt = CASE WHEN ?3 = 1"
				    "  THEN ?4 ELSE next_attempt END,"
				    " last_attempt = ?5, diag = ?6,"
				    " report = CASE WHEN ?7"
				    "  THEN report | 1 ELSE report END,"
				    " report_lease = CASE WHEN ?7"
				    "  THEN 0 ELSE report_lease END,"
				    " lease = 0, lease_until = 0"
				    " WHERE mid = ?1 AND idx = ?2 AND state < 2"
				    " AND (lease = ?8 OR ?3 >= 2"
				    "  OR lease_until <= ?5)", "");
	int r = upd ? 0 : PS_EIO;

	rs->nmids = 0;
	for (size_t i = 0; r == 0 && i < rs->n; i++)
		r = qs_result_one(rs, db, upd, qs_result_at(rs, i), err);
	sqlite3_finalize(upd);
	qsort(rs->mids, rs->nmids, sizeof(*rs->mids), qs_mid_cmp);
	for (size_t i = 0; r == 0 && i < rs->nmids; i++)
		if (i == 0 || rs->mids[i] != rs->mids[i - 1])
			r = qs_settle(db, rs->mids[i], err);
	return r < 0 ? r : 0;
}

int
qs_results(struct ps_queue_result *v, size_t n, int64_t now,
	   struct ps_error *err)
{
	struct qs_results rs = { .v = v, .n = n, .now = now };
	int r;

	if (n == 0)
		return 0;
	if (!v || v->size < sizeof(*v))
		return qs_err(err, PS_EINVAL, "no results, or older ones than "
			      "this backend knows");
	if (n > PS_QUEUE_LEASE_MAX)
		return qs_err(err, PS_EINVAL, "%zu results at once (at most "
			      "%d)", n, PS_QUEUE_LEASE_MAX);
	rs.stride = v->size;
	rs.mids = malloc(n * sizeof(*rs.mids));
	if (!rs.mids)
		return qs_err(err, PS_ENOMEM, "out of memory");
	r = qs_group_commit(qs_results_store, &rs, err);
	for (size_t i = 0; r < 0 && i < n; i++)
		qs_result_at(&rs, i)->status = r;
	free(rs.mids);
	return r;
}

/* Claim messages with owed reports, and mark the owed recipients with
 * the same lease: a recipient owed again later is not among them. */
static int
qs_report_claim(int64_t now, unsigned seconds, unsigned limit,
		int64_t lease, struct ps_error *err)
{
	sqlite3 *db;
	int r = qs_write_begin(&db, 0, err);

	if (r < 0)
		return r;
	r = qs_exec(db, err, "UPDATE message SET report_lease = ?1,"
		    " report_until = ?2 WHERE mid IN (SELECT m.mid"
		    "  FROM message m WHERE m.mid IN (SELECT r.mid FROM rcpt r"
		    "   WHERE r.report & 1)"
		    "  AND m.held = 0 AND m.report_until <= ?3"
		    "  ORDER BY m.arrival, m.mid LIMIT ?4)", "iiiu", lease,
		    now + (int64_t)seconds, now, limit);
	if (r > 0)
		r = qs_exec(db, err, "UPDATE rcpt SET report_lease = ?1 WHERE"
			    " report & 1 AND mid IN (SELECT mid FROM message"
			    " WHERE report_lease = ?1 AND report_lease != 0)",
			    "i", lease);
	return qs_write_end(db, 0, r < 0 ? r : 0, err);
}

int
qs_report_lease(int64_t now, unsigned seconds, unsigned limit,
		ps_queue_msg_fn fn, void *arg, uint64_t *lease_r,
		struct ps_error *err)
{
	int64_t lease = (int64_t)(qs_random() & INT64_MAX);
	sqlite3_stmt *st;
	sqlite3 *db;
	int r;

	*lease_r = 0;
	if (limit < 1 || limit > PS_QUEUE_LEASE_MAX)
		return qs_err(err, PS_EINVAL, "report lease limit %u (1..%d)",
			      limit, PS_QUEUE_LEASE_MAX);
	if (seconds < 1 || now < 0 || now > INT64_MAX - seconds)
		return qs_err(err, PS_EINVAL, "report lease of %u seconds at "
			      "%lld", seconds, (long long)now);
	if (!lease)
		lease = 1;
	r = qs_report_claim(now, seconds, limit, lease, err);
	if (r < 0)
		return r;
	*lease_r = (uint64_t)lease;
	r = qs_read_begin(&db, err);
	if (r < 0)
		return r;
	st = qs_prep(db, err, "SELECT " QS_MSG_COLS ", m.mid FROM message m"
		     " WHERE m.report_lease = ? AND m.report_lease != 0"
		     " ORDER BY m.arrival, m.mid", "i", lease);
	r = st ? qs_msg_each(db, st, "SELECT " QS_RCPT_COLS " FROM rcpt r"
			     " WHERE r.mid = ?1 AND r.report_lease = ?2"
			     " AND r.report & 1 ORDER BY r.idx", lease, fn,
			     arg, NULL, err)
	       : PS_EIO;
	sqlite3_finalize(st);
	qs_read_end(db);
	return r;
}

struct qs_report_done {
	const char *id;
	int64_t lease;
};

static int
qs_report_store(void *arg, sqlite3 *db, struct ps_error *err)
{
	struct qs_report_done *d = arg;
	int64_t mid, held;
	int r = qs_mid(db, d->id, &mid, err);

	if (r == 0)
		r = qs_query_int(db, err, &held, "SELECT 1 FROM message WHERE"
				 " mid = ? AND report_lease = ?", "ii", mid,
				 d->lease);
	if (r == 0)
		return qs_err(err, PS_QUEUE_ESTALE, "the report lease of %s "
			      "ran out and was taken over", d->id);
	if (r > 0)
		r = qs_exec(db, err, "UPDATE rcpt SET report = (report & ~1)"
			    " | CASE WHEN state = 1 THEN 2 ELSE 0 END,"
			    " report_lease = 0 WHERE mid = ? AND"
			    " report_lease = ? AND report & 1", "ii", mid,
			    d->lease);
	if (r >= 0)
		r = qs_exec(db, err, "UPDATE message SET report_lease = 0,"
			    " report_until = 0 WHERE mid = ?", "i", mid);
	if (r >= 0)
		r = qs_settle(db, mid, err);
	return r < 0 ? r : 0;
}

int
qs_report_done(const char *id, uint64_t lease, struct ps_error *err)
{
	struct qs_report_done d = { .id = id, .lease = (int64_t)lease };

	if (!lease || lease > INT64_MAX)
		return qs_err(err, PS_QUEUE_ESTALE, "no such report lease");
	return qs_group_commit(qs_report_store, &d, err);
}
