/* Reading messages in storage_pgsql: FETCH of metadata by UID set in UID
 * order (RFC 3501 6.4.5), byte ranges of a body cut out by the server
 * from its chunks (or read from its file) so memory stays bounded
 * whatever the size (RFC 3501 BODY[]<p.n>), the protocols' cached
 * structure, and what changed since a MODSEQ (RFC 7162 3.1.4
 * CHANGEDSINCE, 3.2.5 QRESYNC, 3.2.10 VANISHED). Message rows come back
 * in binary, so the cache needs no unescaping. */
#include <endian.h>
#include <stdlib.h>
#include <string.h>

#include "storage_pgsql.h"

static int64_t
sp_bin8(const PGresult *res, int row, int col)
{
	uint64_t v;

	if (PQgetisnull(res, row, col) || PQgetlength(res, row, col) != 8)
		return 0;
	memcpy(&v, PQgetvalue(res, row, col), 8);
	return (int64_t)be64toh(v);
}

static int32_t
sp_bin4(const PGresult *res, int row, int col)
{
	uint32_t v;

	if (PQgetisnull(res, row, col) || PQgetlength(res, row, col) != 4)
		return 0;
	memcpy(&v, PQgetvalue(res, row, col), 4);
	return (int32_t)be32toh(v);
}

/* Fill m from row i of a binary SP_MSG_SELECT result. */
int
sp_msg_row(struct sp_msg_rows *rows, int i, struct ps_msg *m)
{
	const PGresult *res = rows->res;
	int null_kw = PQgetisnull(res, i, 2);

	if (pst_kw_load(&rows->kw, null_kw ? NULL : PQgetvalue(res, i, 2)) < 0)
		return PS_ENOMEM;
	*m = (struct ps_msg){
		.uid = (uint32_t)sp_bin8(res, i, 0),
		.flags = (unsigned)sp_bin4(res, i, 1),
		.keywords = rows->kw.v,
		.nkeywords = rows->kw.n,
		.internal_date = sp_bin8(res, i, 3),
		.internal_tz = sp_bin4(res, i, 4),
		.size = (uint64_t)sp_bin8(res, i, 5),
		.modseq = (uint64_t)sp_bin8(res, i, 6),
		.cache = PQgetisnull(res, i, 7) ? NULL : PQgetvalue(res, i, 7),
		.cache_len = (size_t)PQgetlength(res, i, 7),
	};
	return 0;
}

void
sp_msg_rows_free(struct sp_msg_rows *rows)
{
	PQclear(rows->res);
	rows->res = NULL;
	pst_kw_free(&rows->kw);
}

/* Hand the first column (text) of each row to fn. */
int
sp_uid_each(PGresult *res, ps_store_uid_fn fn, void *arg)
{
	int r = 0;

	for (int i = 0; r == 0 && i < PQntuples(res); i++)
		r = fn((uint32_t)sp_int(res, i, 0), arg);
	return r;
}

/* Messages of mbox with UIDs in [first, last] (and, if modseq, a higher
 * MODSEQ) to fn in UID order, SP_BATCH rows per query: a FETCH 1:* of a
 * mailbox of 100000 messages holds one batch in memory, not all. */
int
sp_msg_batches(struct sp_conn *c, int64_t mbox, uint32_t first,
	       uint32_t last, uint64_t modseq, struct sp_msg_rows *rows,
	       sp_msg_row_fn fn, void *arg, struct ps_error *err)
{
	uint64_t lo = first;
	int n = SP_BATCH, r = 0;

	while (r == 0 && n == SP_BATCH && lo <= last) {
		PQclear(rows->res);
		rows->res = modseq
			? sp_query_bin(c, err, SP_MSG_SELECT "WHERE"
				       " m.mailbox_id = $1 AND m.uid BETWEEN"
				       " $2 AND $3 AND m.modseq > $4"
				       " ORDER BY m.uid LIMIT " SP_BATCH_SQL,
				       "iiui", mbox, (int64_t)lo, last,
				       (int64_t)modseq)
			: sp_query_bin(c, err, SP_MSG_SELECT "WHERE"
				       " m.mailbox_id = $1 AND m.uid BETWEEN"
				       " $2 AND $3 ORDER BY m.uid LIMIT "
				       SP_BATCH_SQL, "iiu", mbox, (int64_t)lo,
				       last);
		if (!rows->res)
			return PS_EIO;
		n = PQntuples(rows->res);
		for (int i = 0; r == 0 && i < n; i++)
			r = fn(rows, i, arg, err);
		if (n)
			lo = (uint64_t)sp_bin8(rows->res, n - 1, 0) + 1;
	}
	return r;
}

struct sp_msg_call {
	ps_store_msg_fn fn;
	void *arg;
};

static int
sp_msg_call(struct sp_msg_rows *rows, int i, void *arg,
	    struct ps_error *err)
{
	struct sp_msg_call *call = arg;
	struct ps_msg m;

	if (sp_msg_row(rows, i, &m) < 0)
		return sp_err(err, PS_ENOMEM, "out of memory");
	return call->fn(&m, call->arg);
}

int
sp_msg_fetch(struct ps_mbox *mb, const struct ps_uid_range *set, size_t nset,
	     ps_store_msg_fn fn, void *arg, struct ps_error *err)
{
	struct sp_msg_call call = { fn, arg };
	struct pst_uidset s;
	struct sp_msg_rows rows = { .res = NULL };
	int r = pst_uidset(set, nset, &s, err);

	if (r == 0)
		r = sp_read_begin(&mb->c, err);
	if (r < 0) {
		pst_uidset_free(&s);
		return r;
	}
	for (size_t i = 0; r == 0 && i < s.n; i++)
		r = sp_msg_batches(&mb->c, mb->id, s.r[i].first, s.r[i].last,
				   0, &rows, sp_msg_call, &call, err);
	sp_read_end(&mb->c);
	sp_msg_rows_free(&rows);
	pst_uidset_free(&s);
	return r;
}

/* Up to len bytes from offset, cut out of the chunks by the server: a
 * SEARCH reading a header moves a few KiB, not a whole chunk. */
static int
sp_chunks_read(struct sp_conn *c, int64_t body, uint64_t offset,
	       unsigned char *buf, size_t len, size_t *got_r,
	       struct ps_error *err)
{
	PGresult *res = sp_query_bin(c, err, "SELECT c.off + greatest($2 -"
				     " c.off, 0), substring(c.data FROM"
				     " (greatest($2 - c.off, 0) + 1)::int"
				     " FOR $3::int) FROM store_body_chunks c"
				     " WHERE c.body_id = $1 AND c.off < $2 + $3"
				     " AND c.off + length(c.data) > $2"
				     " ORDER BY c.off", "iiu", body,
				     (int64_t)offset, (uint32_t)len);

	if (!res)
		return PS_EIO;
	for (int i = 0; i < PQntuples(res); i++) {
		uint64_t at = (uint64_t)sp_bin8(res, i, 0);
		size_t n = (size_t)PQgetlength(res, i, 1);

		/* Chunks are contiguous; stop at a gap rather than guess. */
		if (at != offset + *got_r)
			break;
		if (n > len - *got_r)
			n = len - *got_r;
		memcpy(buf + *got_r, PQgetvalue(res, i, 1), n);
		*got_r += n;
	}
	PQclear(res);
	return 0;
}

static int
sp_body_read(struct ps_mbox *mb, uint32_t uid, uint64_t offset,
	     unsigned char *buf, size_t len, size_t *got_r,
	     struct ps_error *err)
{
	PGresult *res = sp_query(&mb->c, err, "SELECT b.id, b.blob, m.size"
				 " FROM store_message m JOIN store_body b"
				 " ON b.id = m.body_id WHERE m.mailbox_id = $1"
				 " AND m.uid = $2", "iu", mb->id, uid);
	int64_t body;
	uint64_t size;
	int r = 0;

	if (!res)
		return PS_EIO;
	if (!PQntuples(res)) {
		PQclear(res);
		return sp_err(err, PS_STORE_ENOMSG, "no message with UID %u",
			      uid);
	}
	body = sp_int(res, 0, 0);
	size = (uint64_t)sp_int(res, 0, 2);
	if (offset >= size)
		len = 0;
	else if (len > size - offset)
		len = (size_t)(size - offset);
	if (len && !PQgetisnull(res, 0, 1))
		r = sp_blob_read(PQgetvalue(res, 0, 1), offset, buf, len,
				 got_r, err);
	else if (len)
		r = sp_chunks_read(&mb->c, body, offset, buf, len, got_r, err);
	PQclear(res);
	return r;
}

int
sp_msg_read(struct ps_mbox *mb, uint32_t uid, uint64_t offset, void *buf,
	    size_t len, size_t *got_r, struct ps_error *err)
{
	int r;

	*got_r = 0;
	if (offset > INT64_MAX / 2)
		return 0;
	if (len > SP_CHUNK)
		len = SP_CHUNK;
	r = sp_read_begin(&mb->c, err);
	if (r < 0)
		return r;
	r = sp_body_read(mb, uid, offset, buf, len, got_r, err);
	sp_read_end(&mb->c);
	return r;
}

/* The cache belongs to the body, so copies of a message share it. It is
 * no change a client sees: no MODSEQ, no notice, no wait for the disk
 * (lost, it is parsed again). */
int
sp_msg_set_cache(struct ps_mbox *mb, uint32_t uid, const void *cache,
		 size_t len, struct ps_error *err)
{
	int r;

	if (len > SP_CACHE_MAX)
		return sp_err(err, PS_EINVAL, "a cache holds at most %d bytes",
			      SP_CACHE_MAX);
	r = sp_write_begin(&mb->c, mb->u, SP_SYNC_LAZY, err);
	if (r < 0)
		return r;
	r = len ? sp_exec(&mb->c, err, "UPDATE store_body SET cache = $3"
			  " WHERE id = (SELECT body_id FROM store_message"
			  " WHERE mailbox_id = $1 AND uid = $2)", "iub",
			  mb->id, uid, cache, len)
		: sp_exec(&mb->c, err, "UPDATE store_body SET cache = NULL"
			  " WHERE id = (SELECT body_id FROM store_message"
			  " WHERE mailbox_id = $1 AND uid = $2)", "iu",
			  mb->id, uid);
	if (r == 0)
		r = sp_err(err, PS_STORE_ENOMSG, "no message with UID %u",
			   uid);
	return sp_write_end(&mb->c, r < 0 ? r : 0, err);
}

/* A mailbox deleted since the open has no changes to tell, only that it
 * is gone (sp_mbox_current): its rows and tombstones went with it. */
int
sp_changes_since(struct ps_mbox *mb, uint64_t modseq,
		 ps_store_msg_fn changed, ps_store_uid_fn expunged, void *arg,
		 struct ps_error *err)
{
	struct sp_msg_call call = { changed, arg };
	struct sp_msg_rows rows = { .res = NULL };
	struct sp_mbox_row row;
	PGresult *res;
	int r = sp_read_begin(&mb->c, err);

	if (r < 0)
		return r;
	r = sp_mbox_current(mb, &row, err);
	if (r == 0 && changed)
		r = sp_msg_batches(&mb->c, mb->id, 1, UINT32_MAX,
				   modseq, &rows, sp_msg_call,
				   &call, err);
	if (r == 0 && expunged) {
		res = sp_query(&mb->c, err, "SELECT uid FROM store_expunged"
			       " WHERE mailbox_id = $1 AND modseq > $2"
			       " ORDER BY uid", "ii", mb->id,
			       (int64_t)modseq);
		r = res ? sp_uid_each(res, expunged, arg) : PS_EIO;
		PQclear(res);
	}
	sp_read_end(&mb->c);
	sp_msg_rows_free(&rows);
	return r;
}
