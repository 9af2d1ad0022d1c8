/* What changed after a MODSEQ (RFC 7162 3.1, QRESYNC's VANISHED): a
 * scan brings the index in line with the files, then the messages with
 * a higher MODSEQ are reported in UID order and the UIDs expunged after
 * it from the index's gone table. And the cache: the protocols' parsed
 * structure of a message, kept in its index row. */
#include <stdlib.h>

#include "storage_maildir.h"

/* The UIDs of mb's folder expunged after modseq (*uids_r: malloc'd). */
static int
md_gone_since(struct ps_mbox *mb, uint64_t modseq, uint32_t **uids_r,
	      size_t *n_r, struct ps_error *err)
{
	sqlite3 *db;
	sqlite3_stmt *st = NULL;
	size_t cap = 0;
	int r = md_idx_open(mb->u, &db, err), rc = SQLITE_DONE;

	*uids_r = NULL;
	*n_r = 0;
	if (r < 0)
		return r;
	if (sqlite3_prepare_v2(db, "SELECT DISTINCT uid FROM gone WHERE "
			       "guid = ? AND modseq > ? ORDER BY uid", -1,
			       &st, NULL) != SQLITE_OK)
		rc = SQLITE_ERROR;
	sqlite3_bind_text(st, 1, mb->guid, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)modseq);
	while (st && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n_r == cap) {
			uint32_t *v = realloc(*uids_r, (cap = cap * 2 + 64) *
						       sizeof(*v));

			if (!v) {
				rc = SQLITE_NOMEM;
				break;
			}
			*uids_r = v;
		}
		(*uids_r)[(*n_r)++] = (uint32_t)sqlite3_column_int64(st, 0);
	}
	if (rc != SQLITE_DONE)
		r = md_err(err, PS_EIO, "index: %s", sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return md_idx_close(db, r, err);
}

int
md_changes_since(struct ps_mbox *mb, uint64_t modseq,
		 ps_store_msg_fn changed, ps_store_uid_fn expunged, void *arg,
		 struct ps_error *err)
{
	char dir[MD_PATH_MAX];
	struct md_uidlist_hdr h;
	struct md_lock l;
	uint32_t first, *gone = NULL;
	size_t ngone = 0;
	int r = md_lock(mb->u, &l, err);

	if (r < 0)
		return r;
	r = md_mbox_scan_locked(mb, 0, dir, &h, &first, err);
	if (r == 0 && expunged)
		r = md_gone_since(mb, modseq, &gone, &ngone, err);
	md_unlock(&l);
	for (size_t i = 0; i < mb->msgs.n && r == 0 && changed; i++)
		if (mb->msgs.v[i].modseq > modseq)
			r = md_mbox_report(mb, &mb->msgs.v[i], changed, arg);
	for (size_t i = 0; i < ngone && r == 0; i++)
		r = expunged(gone[i], arg);
	free(gone);
	return r;
}

static int
md_cache_put(struct ps_mbox *mb, uint32_t uid, const void *cache,
	     size_t len, struct ps_error *err)
{
	sqlite3 *db;
	sqlite3_stmt *st = NULL;
	int r = md_idx_open(mb->u, &db, err), rc = SQLITE_ERROR;

	if (r < 0)
		return r;
	if (sqlite3_prepare_v2(db, "UPDATE msg SET cache = ? WHERE guid = ? "
			       "AND uid = ?", -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_blob(st, 1, cache, (int)len, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, mb->guid, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, uid);
		rc = sqlite3_step(st);
	}
	if (rc != SQLITE_DONE)
		r = md_err(err, PS_EIO, "index: %s", sqlite3_errmsg(db));
	else if (sqlite3_changes(db) == 0)
		r = md_err(err, PS_STORE_ENOMSG, "no message %u", uid);
	sqlite3_finalize(st);
	return md_idx_close(db, r, err);
}

/* The cache is no change a client sees: no MODSEQ, no notice. */
int
md_msg_set_cache(struct ps_mbox *mb, uint32_t uid, const void *cache,
		 size_t len, struct ps_error *err)
{
	char dir[MD_PATH_MAX];
	struct md_lock l;
	int r;

	if (len > MD_CACHE_MAX)
		return md_err(err, PS_EINVAL, "cache of %zu bytes", len);
	r = md_lock(mb->u, &l, err);
	if (r < 0)
		return r;
	r = md_folder_by_guid(mb->u, mb->guid, dir, err);
	if (r == 0)
		r = md_cache_put(mb, uid, cache, len, err);
	md_unlock(&l);
	return r;
}
