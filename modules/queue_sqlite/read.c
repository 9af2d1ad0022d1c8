/* Reading the queue: rows as the SDK reports them, a message with its
 * recipients (list, msg_get, report_lease), the body by byte range
 * through incremental blob I/O so memory stays bounded whatever the size,
 * and the removal of a message nothing holds any more. */
#include <stdlib.h>
#include <string.h>

#include "queue_sqlite.h"

static const char *
qs_text(sqlite3_stmt *st, int col)
{
	return (const char *)sqlite3_column_text(st, col);
}

/* Fill m from a row whose first columns are QS_MSG_COLS. */
void
qs_msg_row(sqlite3_stmt *st, struct ps_queue_msg *m)
{
	*m = (struct ps_queue_msg){
		.size = sizeof(*m),
		.id = qs_text(st, 0),
		.sender = qs_text(st, 1),
		.ret = sqlite3_column_int(st, 2),
		.envid = qs_text(st, 3),
		.flags = (unsigned)sqlite3_column_int64(st, 4),
		.arrival = sqlite3_column_int64(st, 5),
		.body_size = (uint64_t)sqlite3_column_int64(st, 6),
		.user = qs_text(st, 7),
		.client = qs_text(st, 8),
		.held = sqlite3_column_int(st, 9),
		.nrcpts = (unsigned)sqlite3_column_int64(st, 10),
	};
}

/* Fill r from a row holding QS_RCPT_COLS from column col. */
void
qs_rcpt_row(sqlite3_stmt *st, int col, struct ps_queue_rcpt *r)
{
	*r = (struct ps_queue_rcpt){
		.size = sizeof(*r),
		.index = (unsigned)sqlite3_column_int64(st, col),
		.address = qs_text(st, col + 1),
		.kind = (unsigned)sqlite3_column_int(st, col + 2),
		.user = qs_text(st, col + 3),
		.route = qs_text(st, col + 4),
		.orcpt = qs_text(st, col + 5),
		.notify = (unsigned)sqlite3_column_int(st, col + 6),
		.state = (enum ps_queue_state)sqlite3_column_int(st, col + 7),
		.attempts = (unsigned)sqlite3_column_int64(st, col + 8),
		.next_attempt = sqlite3_column_int64(st, col + 9),
		.last_attempt = sqlite3_column_int64(st, col + 10),
		.diag = qs_text(st, col + 11),
		.report = (unsigned)sqlite3_column_int(st, col + 12),
		.lease = (uint64_t)sqlite3_column_int64(st, col + 13),
		.lease_until = sqlite3_column_int64(st, col + 14),
	};
}

/* r's strings copied into one block that starts with the address, so
 * freeing r->address frees them all. */
static int
qs_rcpt_keep(struct ps_queue_rcpt *r)
{
	const char *src[] = { r->address, r->user, r->route, r->orcpt,
			      r->diag };
	const char **dst[] = { &r->address, &r->user, &r->route, &r->orcpt,
			       &r->diag };
	size_t len[5], total = 0;
	char *block, *p;

	for (int i = 0; i < 5; i++) {
		len[i] = src[i] ? strlen(src[i]) + 1 : 0;
		total += len[i];
	}
	block = malloc(total ? total : 1);
	if (!block)
		return PS_ENOMEM;
	p = block;
	for (int i = 0; i < 5; i++) {
		*dst[i] = src[i] ? p : NULL;
		if (src[i])
			memcpy(p, src[i], len[i]);
		p += len[i];
	}
	return 0;
}

struct qs_rcpts {
	struct ps_queue_rcpt *v;
	size_t n, cap;
};

static void
qs_rcpts_clear(struct qs_rcpts *rs)
{
	for (size_t i = 0; i < rs->n; i++)
		free((void *)rs->v[i].address);
	rs->n = 0;
}

/* The recipients st gives, kept past its next step. */
static int
qs_rcpts_load(sqlite3 *db, sqlite3_stmt *st, struct qs_rcpts *rs,
	      struct ps_error *err)
{
	int r;

	while ((r = qs_step(db, st, err)) == 1) {
		if (rs->n == rs->cap) {
			size_t cap = rs->cap ? rs->cap * 2 : 16;
			void *v = realloc(rs->v, cap * sizeof(*rs->v));

			if (!v)
				return qs_err(err, PS_ENOMEM, "out of memory");
			rs->v = v;
			rs->cap = cap;
		}
		qs_rcpt_row(st, 0, &rs->v[rs->n]);
		if (qs_rcpt_keep(&rs->v[rs->n]) < 0)
			return qs_err(err, PS_ENOMEM, "out of memory");
		rs->n++;
	}
	return r;
}

/* For each row of msgs (QS_MSG_COLS, then m.mid), run rcpt_sql (which
 * selects QS_RCPT_COLS for ?1 = mid, and ?2 = lease if it has a second
 * parameter) and hand fn the message with those recipients; *count_r
 * (if not NULL) counts the messages. 0 at the end, fn's stop value, or
 * an error. */
int
qs_msg_each(sqlite3 *db, sqlite3_stmt *msgs, const char *rcpt_sql,
	    int64_t lease, ps_queue_msg_fn fn, void *arg, unsigned *count_r,
	    struct ps_error *err)
{
	struct qs_rcpts rs = { .n = 0 };
	struct ps_queue_msg m;
	sqlite3_stmt *st = qs_prep(db, err, rcpt_sql, "");
	int r = st ? 0 : PS_EIO;

	while (r == 0 && (r = qs_step(db, msgs, err)) == 1) {
		int64_t mid = sqlite3_column_int64(msgs, QS_MSG_NCOLS);

		r = sqlite3_bind_parameter_count(st) > 1
			? qs_rebind(db, st, err, "ii", mid, lease)
			: qs_rebind(db, st, err, "i", mid);
		if (r == 0)
			r = qs_rcpts_load(db, st, &rs, err);
		if (r == 0) {
			qs_msg_row(msgs, &m);
			if (count_r)
				(*count_r)++;
			r = fn(&m, rs.v, rs.n, arg);
		}
		qs_rcpts_clear(&rs);
	}
	sqlite3_finalize(st);
	free(rs.v);
	return r;
}

/* The row key of message id: 0 with *mid_r, PS_ENOENT, or an error. */
int
qs_mid(sqlite3 *db, const char *id, int64_t *mid_r, struct ps_error *err)
{
	int r;

	if (!id)
		return qs_err(err, PS_EINVAL, "no message id");
	r = qs_query_int(db, err, mid_r, "SELECT mid FROM message WHERE"
			 " id = ?", "s", id);
	if (r == 0)
		return qs_err(err, PS_ENOENT, "no message %.40s in the queue",
			      id);
	return r < 0 ? r : 0;
}

/* Remove message mid when every recipient is final and no report is
 * owed (its chunks and recipients go by ON DELETE CASCADE): 1 when it
 * went, 0 when it stays, or an error. */
int
qs_settle(sqlite3 *db, int64_t mid, struct ps_error *err)
{
	return qs_exec(db, err, "DELETE FROM message WHERE mid = ?1 AND NOT"
		       " EXISTS (SELECT 1 FROM rcpt WHERE mid = ?1 AND"
		       " (state < 2 OR report & 1))", "i", mid);
}

#define QS_RCPTS_OF "SELECT " QS_RCPT_COLS " FROM rcpt r WHERE r.mid = ?1" \
		    " ORDER BY r.idx"

int
qs_msg_get(const char *id, ps_queue_msg_fn fn, void *arg,
	   struct ps_error *err)
{
	sqlite3_stmt *st;
	sqlite3 *db;
	unsigned found = 0;
	int r;

	if (!id)
		return qs_err(err, PS_EINVAL, "no message id");
	r = qs_read_begin(&db, err);
	if (r < 0)
		return r;
	st = qs_prep(db, err, "SELECT " QS_MSG_COLS ", m.mid FROM message m"
		     " WHERE m.id = ?", "s", id);
	if (!st) {
		qs_read_end(db);
		return PS_EIO;
	}
	r = qs_msg_each(db, st, QS_RCPTS_OF, 0, fn, arg, &found, err);
	sqlite3_finalize(st);
	qs_read_end(db);
	if (r == 0 && !found)
		r = qs_err(err, PS_ENOENT, "no message %.40s in the queue",
			   id);
	return r;
}

int
qs_list(ps_queue_msg_fn fn, void *arg, struct ps_error *err)
{
	sqlite3_stmt *st;
	sqlite3 *db;
	int r = qs_read_begin(&db, err);

	if (r < 0)
		return r;
	st = qs_prep(db, err, "SELECT " QS_MSG_COLS ", m.mid FROM message m"
		     " ORDER BY m.arrival, m.mid", "");
	r = st ? qs_msg_each(db, st, QS_RCPTS_OF, 0, fn, arg, NULL, err)
	       : PS_EIO;
	sqlite3_finalize(st);
	qs_read_end(db);
	return r;
}

/* Copy up to len bytes at pos from the chunk in st's row (id, off,
 * length) into buf. */
static int
qs_chunk_copy(sqlite3 *db, sqlite3_stmt *st, sqlite3_blob **blob,
	      uint64_t pos, unsigned char *buf, size_t len, size_t *n_r,
	      struct ps_error *err)
{
	int64_t row = sqlite3_column_int64(st, 0);
	uint64_t in = pos - (uint64_t)sqlite3_column_int64(st, 1);
	uint64_t have = (uint64_t)sqlite3_column_int64(st, 2);
	int rc;

	*n_r = 0;
	if (in >= have)
		return 0;
	*n_r = have - in < len ? (size_t)(have - in) : len;
	rc = *blob ? sqlite3_blob_reopen(*blob, row)
		   : sqlite3_blob_open(db, "main", "chunk", "data", row, 0,
				       blob);
	if (rc == SQLITE_OK)
		rc = sqlite3_blob_read(*blob, buf, (int)*n_r, (int)in);
	return rc == SQLITE_OK ? 0 : qs_dberr(db, err);
}

int
qs_msg_read(const char *id, uint64_t offset, void *buf, size_t len,
	    size_t *got_r, struct ps_error *err)
{
	sqlite3_blob *blob = NULL;
	sqlite3_stmt *st = NULL;
	sqlite3 *db;
	int64_t mid;
	size_t n;
	int r;

	*got_r = 0;
	if (offset > INT64_MAX)
		return 0;
	r = qs_read_begin(&db, err);
	if (r < 0)
		return r;
	r = qs_mid(db, id, &mid, err);
	/* The chunks from the one holding offset on, in order. */
	if (r == 0 && !(st = qs_prep(db, err, "SELECT id, off, length(data)"
				     " FROM chunk WHERE mid = ?1 AND off >="
				     " (SELECT max(off) FROM chunk"
				     "  WHERE mid = ?1 AND off <= ?2)"
				     " ORDER BY off", "ii", mid,
				     (int64_t)offset)))
		r = PS_EIO;
	while (r == 0 && *got_r < len && (r = qs_step(db, st, err)) == 1) {
		r = qs_chunk_copy(db, st, &blob, offset + *got_r,
				  (unsigned char *)buf + *got_r, len - *got_r,
				  &n, err);
		*got_r += n;
	}
	sqlite3_blob_close(blob);
	sqlite3_finalize(st);
	qs_read_end(db);
	return r < 0 ? r : 0;
}
