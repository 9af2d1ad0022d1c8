/* EXPUNGE and UID EXPUNGE for storage_pgsql (RFC 3501 6.4.3, RFC 4315
 * 2.1): \Deleted messages go, each leaving a tombstone (uid, modseq) so
 * that changes_since reports it (RFC 7162 3.2.10, VANISHED). Moves,
 * DELETE and renaming INBOX remove messages through the same path. */
#include "storage_pgsql.h"

/* Remove the messages of mbox in [first, last] (only \Deleted ones if
 * deleted_only) at modseq; *n_r, if given, grows by their number. */
int
sp_expunge_range(struct sp_conn *c, int64_t mbox, uint32_t first,
		 uint32_t last, int deleted_only, uint64_t modseq,
		 size_t *n_r, struct ps_error *err)
{
	unsigned need = deleted_only ? PS_FLAG_DELETED : 0;
	int r = sp_exec(c, err, "WITH gone AS (DELETE FROM store_message"
			" WHERE mailbox_id = $1 AND uid BETWEEN $2 AND $3"
			" AND flags & $5 = $5 RETURNING mailbox_id, uid)"
			" INSERT INTO store_expunged (mailbox_id, uid, modseq)"
			" SELECT mailbox_id, uid, $4 FROM gone"
			" ON CONFLICT (mailbox_id, uid) DO UPDATE"
			" SET modseq = EXCLUDED.modseq", "iuuiu", mbox, first,
			last, (int64_t)modseq, need);

	if (r < 0)
		return r;
	if (n_r)
		*n_r += (size_t)r;
	return 0;
}

/* Report what this transaction removed: the tombstones at its modseq. */
static int
sp_expunge_report(struct sp_conn *c, int64_t mbox, uint64_t modseq,
		  ps_store_uid_fn removed, void *arg, struct ps_error *err)
{
	PGresult *res = sp_query(c, err, "SELECT uid FROM store_expunged WHERE"
				 " mailbox_id = $1 AND modseq = $2"
				 " ORDER BY uid", "ii", mbox, (int64_t)modseq);
	int r = res ? sp_uid_each(res, removed, arg) : PS_EIO;

	PQclear(res);
	return r;
}

static int
sp_expunge_in(struct ps_mbox *mb, const struct pst_uidset *set,
	      ps_store_uid_fn removed, void *arg, size_t *n_r,
	      struct ps_error *err)
{
	uint64_t modseq;
	int r = sp_mbox_bump(&mb->c, mb->id, &modseq, err);

	for (size_t i = 0; r == 0 && i < set->n; i++)
		r = sp_expunge_range(&mb->c, mb->id, set->r[i].first,
				     set->r[i].last, 1, modseq, n_r, err);
	if (r == 0 && *n_r && removed)
		r = sp_expunge_report(&mb->c, mb->id, modseq, removed, arg,
				      err);
	return r;
}

int
sp_expunge(struct ps_mbox *mb, const struct ps_uid_range *set, size_t nset,
	   ps_store_uid_fn removed, void *arg, struct ps_error *err)
{
	struct sp_mbox_row row;
	struct pst_uidset u;
	size_t n = 0;
	int r = sp_mbox_writable(mb, err);

	/* No wait for the disk: a crash may bring expunged messages back,
	 * which loses no mail (docs/architecture.md, Mail store). */
	if (r == 0)
		r = sp_mbox_change(mb, set, nset, SP_SYNC_LAZY, &u, &row,
				   err);
	if (r < 0)
		return r;
	r = sp_expunge_in(mb, &u, removed, arg, &n, err);
	if (r == 0 && n)
		r = sp_announce(&mb->c, row.name, err);
	r = sp_write_end(&mb->c, r == 0 && !n ? 1 : r, err);
	if (r == 1)
		r = 0;
	if (r == 0 && n)
		sp_blob_sweep(&mb->c);
	pst_uidset_free(&u);
	return r;
}
