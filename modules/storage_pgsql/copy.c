/* COPY and MOVE for storage_pgsql (RFC 3501 6.4.7, RFC 6851): messages
 * keep flags, keywords, internal date and cache and share their body;
 * the UID map is reported in source order (RFC 4315 COPYUID). A move
 * leaves tombstones in the source, a copy counts against the quota. */
#include <stdio.h>
#include <stdlib.h>

#include "storage_pgsql.h"

static int
sp_quota_check(struct sp_conn *c, int64_t user, uint64_t quota,
	       uint64_t adding, struct ps_error *err)
{
	uint64_t used;
	int r;

	if (!quota)
		return 0;
	r = sp_usage(c, user, &used, NULL, err);
	if (r == 0 && used + adding > quota)
		return sp_err(err, PS_STORE_EQUOTA, "over quota: %llu of %llu "
			      "octets used, %llu more",
			      (unsigned long long)used,
			      (unsigned long long)quota,
			      (unsigned long long)adding);
	return r;
}

/* The UIDs of set present in src, in order, with their octets. */
static PGresult *
sp_copy_collect(struct sp_conn *c, int64_t src, const struct pst_uidset *set,
		uint64_t *bytes_r, struct ps_error *err)
{
	PGresult *res;
	char *ranges;
	size_t cap = set->n * 24 + 3, at = 0;

	/* The set as an int8multirange-free array of bounds: pairs. */
	ranges = malloc(cap);
	if (!ranges) {
		sp_err(err, PS_ENOMEM, "out of memory");
		return NULL;
	}
	ranges[at++] = '{';
	for (size_t i = 0; i < set->n; i++)
		at += (size_t)snprintf(ranges + at, cap - at, "%s%u,%u",
				       i ? "," : "", set->r[i].first,
				       set->r[i].last);
	ranges[at++] = '}';
	ranges[at] = '\0';
	res = sp_query(c, err, "SELECT m.uid, m.size FROM store_message m,"
		       " (SELECT b[2 * i - 1] AS lo, b[2 * i] AS hi FROM"
		       "  (SELECT $2::bigint[] AS b) x,"
		       "  generate_series(1, cardinality($2::bigint[]) / 2) i)"
		       " r WHERE m.mailbox_id = $1 AND m.uid BETWEEN r.lo"
		       " AND r.hi ORDER BY m.uid", "is", src, ranges);
	free(ranges);
	*bytes_r = 0;
	for (int i = 0; res && i < PQntuples(res); i++)
		*bytes_r += (uint64_t)sp_int(res, i, 1);
	return res;
}

/* "{a,b,...}": the UIDs of column 0 of res, or first, first + 1, ... */
static char *
sp_uid_array(const PGresult *res, uint32_t first, struct ps_error *err)
{
	int n = PQntuples(res);
	size_t cap = (size_t)n * 11 + 3, at = 0;
	char *out = malloc(cap);

	if (!out) {
		sp_err(err, PS_ENOMEM, "out of memory");
		return NULL;
	}
	out[at++] = '{';
	for (int i = 0; i < n; i++)
		at += (size_t)snprintf(out + at, cap - at, "%s%u", i ? "," : "",
				       first ? first + (uint32_t)i
					     : (uint32_t)sp_int(res, i, 0));
	out[at++] = '}';
	out[at] = '\0';
	return out;
}

/* Insert copies of the collected messages into dst from UID first on,
 * in one statement, then report the map. */
static int
sp_copy_insert(struct sp_conn *c, int64_t src, const PGresult *uids,
	       const struct sp_mbox_row *dst, uint32_t first, uint64_t modseq,
	       ps_store_uidmap_fn map, void *arg, struct ps_error *err)
{
	char *from = sp_uid_array(uids, 0, err);
	char *to = from ? sp_uid_array(uids, first, err) : NULL;
	int r = to ? 0 : PS_ENOMEM;

	if (r == 0)
		r = sp_exec(c, err, "INSERT INTO store_message (mailbox_id,"
			    " uid, body_id, size, flags, keywords,"
			    " internal_date, internal_tz, modseq)"
			    " SELECT $1, d.dst, m.body_id, m.size, m.flags,"
			    " m.keywords, m.internal_date, m.internal_tz, $2"
			    " FROM unnest($3::bigint[], $4::bigint[])"
			    " AS d(src, dst) JOIN store_message m"
			    " ON m.mailbox_id = $5 AND m.uid = d.src", "iissi",
			    dst->id, (int64_t)modseq, from, to, src);
	free(from);
	free(to);
	for (int i = 0; r >= 0 && map && i < PQntuples(uids); i++)
		r = map((uint32_t)sp_int(uids, i, 0), first + (uint32_t)i, arg);
	return r < 0 ? r : 0;
}

/* A move removes exactly the collected messages: within the set, and,
 * when moving into the same mailbox, below the copies' first UID. */
static int
sp_move_remove(struct sp_conn *c, int64_t src, const struct pst_uidset *set,
	       const struct sp_mbox_row *dst, uint32_t first,
	       struct ps_error *err)
{
	uint32_t below = dst->id == src ? first - 1 : UINT32_MAX;
	uint64_t modseq;
	int r = sp_mbox_bump(c, src, &modseq, err);

	for (size_t i = 0; r == 0 && i < set->n; i++)
		if (set->r[i].first <= below)
			r = sp_expunge_range(c, src, set->r[i].first,
					     set->r[i].last < below
						     ? set->r[i].last
						     : below,
					     0, modseq, NULL, err);
	return r;
}

/* Copy (move) the messages of set from src to dst inside the caller's
 * transaction; *n_r counts them. */
int
sp_copy_rows(struct sp_conn *c, int64_t user, int64_t src,
	     const struct pst_uidset *set, const struct sp_mbox_row *dst,
	     int move, uint64_t quota, ps_store_uidmap_fn map, void *arg,
	     size_t *n_r, struct ps_error *err)
{
	uint64_t bytes, modseq;
	uint32_t first = 0;
	PGresult *uids = sp_copy_collect(c, src, set, &bytes, err);
	int n = uids ? PQntuples(uids) : 0;
	int r = uids ? 0 : PS_EIO;

	*n_r = (size_t)n;
	if (r == 0 && n && !move)
		r = sp_quota_check(c, user, quota, bytes, err);
	if (r == 0 && n)
		r = sp_mbox_bump(c, dst->id, &modseq, err);
	if (r == 0 && n)
		r = sp_mbox_take_uids(c, dst->id, (uint32_t)n, &first, err);
	if (r == 0 && n)
		r = sp_copy_insert(c, src, uids, dst, first, modseq, map, arg,
				   err);
	if (r == 0 && n && move)
		r = sp_move_remove(c, src, set, dst, first, err);
	PQclear(uids);
	return r;
}

int
sp_msg_copy(struct ps_mbox *mb, const struct ps_uid_range *set, size_t nset,
	    const char *dest, int move, ps_store_uidmap_fn map, void *arg,
	    uint32_t *dest_uidvalidity_r, struct ps_error *err)
{
	char canon[SP_NAME_MAX + 1];
	struct sp_mbox_row src, dst;
	struct pst_uidset u;
	size_t n = 0;
	int r = move ? sp_mbox_writable(mb, err) : 0;

	if (r == 0)
		r = sp_name_canon(dest, canon, err);
	if (r == 0)
		r = sp_mbox_change(mb, set, nset, SP_SYNC_FULL, &u, &src, err);
	if (r < 0)
		return r;
	r = sp_mbox_get(&mb->c, mb->u->id, canon, 0, 1, &dst, err);
	if (r == 0)
		r = sp_copy_rows(&mb->c, mb->u->id, mb->id, &u, &dst, move,
				 mb->u->quota, map, arg, &n, err);
	if (r == 0 && n)
		r = sp_announce(&mb->c, dst.name, err);
	if (r == 0 && n && move)
		r = sp_announce(&mb->c, src.name, err);
	r = sp_write_end(&mb->c, r, err);
	if (r == 0 && dest_uidvalidity_r)
		*dest_uidvalidity_r = dst.uidvalidity;
	pst_uidset_free(&u);
	return r;
}
