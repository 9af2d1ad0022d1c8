/* COPY and MOVE for storage_sqlite (RFC 3501 6.4.7, RFC 6851): messages
 * keep flags, keywords, internal date and cache and share their body;
 * the UID map is reported in source order (RFC 4315 COPYUID). A move
 * leaves tombstones in the source, a copy counts against the quota. */
#include <stdlib.h>

#include "storage_sqlite.h"

struct ss_uids {
	uint32_t *v;
	size_t n, cap;
	uint64_t bytes;
};

static int
ss_uids_push(struct ss_uids *u, uint32_t uid)
{
	uint32_t *v;

	if (u->n == u->cap) {
		u->cap = u->cap ? u->cap * 2 : 64;
		v = realloc(u->v, u->cap * sizeof(*v));
		if (!v)
			return PS_ENOMEM;
		u->v = v;
	}
	u->v[u->n++] = uid;
	return 0;
}

/* The UIDs of set present in src, in order, and their octets. */
static int
ss_uids_collect(struct ss_conn *c, int64_t src, const struct pst_uidset *set,
		struct ss_uids *u, struct ps_error *err)
{
	sqlite3_stmt *st = ss_prep(c, err, "SELECT uid, size FROM message"
				   " WHERE mailbox_id = ? AND uid BETWEEN ?"
				   " AND ? ORDER BY uid", "");
	int r = st ? 0 : PS_EIO;

	for (size_t i = 0; r == 0 && i < set->n; i++) {
		r = ss_rebind(c, st, err, "iuu", src, set->r[i].first,
			      set->r[i].last);
		while (r == 0 && (r = ss_step(c, st, err)) == 1) {
			u->bytes += (uint64_t)sqlite3_column_int64(st, 1);
			r = ss_uids_push(u, (uint32_t)sqlite3_column_int64(st,
									   0));
			if (r < 0)
				r = ss_err(err, r, "out of memory");
		}
	}
	ss_done(c, st);
	return r;
}

static int
ss_quota_check(struct ss_conn *c, uint64_t quota, uint64_t adding,
	       struct ps_error *err)
{
	uint64_t used;
	int r;

	if (!quota)
		return 0;
	r = ss_usage(c, &used, NULL, err);
	if (r == 0 && used + adding > quota)
		return ss_err(err, PS_STORE_EQUOTA, "over quota: %llu of %llu "
			      "octets used, %llu more",
			      (unsigned long long)used,
			      (unsigned long long)quota,
			      (unsigned long long)adding);
	return r;
}

/* Insert copies of u's messages into dst from UID first on. */
static int
ss_copy_insert(struct ss_conn *c, int64_t src, const struct ss_uids *u,
	       const struct ss_mbox_row *dst, uint32_t first, uint64_t modseq,
	       ps_store_uidmap_fn map, void *arg, struct ps_error *err)
{
	sqlite3_stmt *st = ss_prep(c, err, "INSERT INTO message (mailbox_id,"
				   " uid, body_id, size, flags, keywords,"
				   " internal_date, internal_tz, modseq)"
				   " SELECT ?1, ?2, body_id, size, flags,"
				   " keywords, internal_date, internal_tz, ?3"
				   " FROM message WHERE mailbox_id = ?4"
				   " AND uid = ?5", "");
	int r = st ? 0 : PS_EIO;

	for (size_t i = 0; r == 0 && i < u->n; i++) {
		uint32_t uid = first + (uint32_t)i;

		r = ss_rebind(c, st, err, "iuiiu", dst->id, uid,
			      (int64_t)modseq, src, u->v[i]);
		if (r == 0)
			r = ss_step(c, st, err);
		if (r == 0 && map)
			r = map(u->v[i], uid, arg);
	}
	ss_done(c, st);
	return r;
}

/* A move removes exactly the collected messages: within the set, and,
 * when moving into the same mailbox, below the copies' first UID. */
static int
ss_move_remove(struct ss_conn *c, int64_t src, const struct pst_uidset *set,
	       const struct ss_mbox_row *dst, uint32_t first,
	       struct ps_error *err)
{
	uint32_t below = dst->id == src ? first - 1 : UINT32_MAX;
	uint64_t modseq;
	int r = ss_mbox_bump(c, src, &modseq, err);

	for (size_t i = 0; r == 0 && i < set->n; i++)
		if (set->r[i].first <= below)
			r = ss_expunge_range(c, src, set->r[i].first,
					     set->r[i].last < below
						     ? set->r[i].last
						     : below,
					     0, modseq, NULL, err);
	return r;
}

/* Copy (move) the messages of set from src to dst inside the caller's
 * transaction; *n_r counts them. */
int
ss_copy_rows(struct ss_conn *c, int64_t src, const struct pst_uidset *set,
	     const struct ss_mbox_row *dst, int move, uint64_t quota,
	     ps_store_uidmap_fn map, void *arg, size_t *n_r,
	     struct ps_error *err)
{
	struct ss_uids u = { .n = 0 };
	uint64_t modseq;
	uint32_t first = 0;
	int r = ss_uids_collect(c, src, set, &u, err);

	*n_r = u.n;
	if (r == 0 && u.n && !move)
		r = ss_quota_check(c, quota, u.bytes, err);
	if (r == 0 && u.n)
		r = ss_mbox_bump(c, dst->id, &modseq, err);
	if (r == 0 && u.n)
		r = ss_mbox_take_uids(c, dst->id, (uint32_t)u.n, &first, err);
	if (r == 0 && u.n)
		r = ss_copy_insert(c, src, &u, dst, first, modseq, map, arg,
				   err);
	if (r == 0 && u.n && move)
		r = ss_move_remove(c, src, set, dst, first, err);
	free(u.v);
	return r;
}

int
ss_msg_copy(struct ps_mbox *mb, const struct ps_uid_range *set, size_t nset,
	    const char *dest, int move, ps_store_uidmap_fn map, void *arg,
	    uint32_t *dest_uidvalidity_r, struct ps_error *err)
{
	char canon[SS_NAME_MAX + 1];
	struct ss_mbox_row src, dst;
	struct pst_uidset u;
	size_t n = 0;
	int r = move ? ss_mbox_writable(mb, err) : 0;

	if (r == 0)
		r = ss_name_canon(dest, canon, err);
	if (r == 0)
		r = ss_mbox_change(mb, set, nset, SS_SYNC_FULL, &u, &src, err);
	if (r < 0)
		return r;
	r = ss_mbox_get(&mb->c, canon, 0, 1, &dst, err);
	if (r == 0)
		r = ss_copy_rows(&mb->c, mb->id, &u, &dst, move, mb->u->quota,
				 map, arg, &n, err);
	r = ss_write_end(&mb->c, r, n > 0, err);
	if (r == 0 && dest_uidvalidity_r)
		*dest_uidvalidity_r = dst.uidvalidity;
	if (r == 0 && n)
		ss_notify(mb->u, dst.name);
	if (r == 0 && n && move)
		ss_notify(mb->u, src.name);
	pst_uidset_free(&u);
	return r;
}
