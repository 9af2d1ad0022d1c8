/* EXPUNGE and UID EXPUNGE for storage_sqlite (RFC 3501 6.4.3, RFC 4315
 * 2.1): \Deleted messages go, each leaving a tombstone (uid, modseq) so
 * that changes_since reports it (RFC 7162 3.2.10, VANISHED). Moves,
 * DELETE and renaming INBOX remove messages through the same path. */
#include "storage_sqlite.h"

/* Remove the messages of mbox in [first, last] (only \Deleted ones if
 * deleted_only) at modseq; *n_r, if given, grows by their number. */
int
ss_expunge_range(struct ss_conn *c, int64_t mbox, uint32_t first,
		 uint32_t last, int deleted_only, uint64_t modseq,
		 size_t *n_r, struct ps_error *err)
{
	unsigned need = deleted_only ? PS_FLAG_DELETED : 0;
	int r = ss_exec(c, err, "INSERT INTO expunged (mailbox_id, uid,"
			" modseq) SELECT mailbox_id, uid, ?4 FROM message"
			" WHERE mailbox_id = ?1 AND uid BETWEEN ?2 AND ?3"
			" AND (flags & ?5) = ?5", "iuuiu", mbox, first, last,
			(int64_t)modseq, need);

	if (r >= 0)
		r = ss_exec(c, err, "DELETE FROM message WHERE mailbox_id = ?1"
			    " AND uid BETWEEN ?2 AND ?3 AND (flags & ?4) = ?4",
			    "iuuu", mbox, first, last, need);
	if (r < 0)
		return r;
	if (n_r)
		*n_r += (size_t)r;
	return 0;
}

/* Report what this transaction removed: the tombstones at its modseq. */
static int
ss_expunge_report(struct ss_conn *c, int64_t mbox, uint64_t modseq,
		  ps_store_uid_fn removed, void *arg, struct ps_error *err)
{
	sqlite3_stmt *st = ss_prep(c, err, "SELECT uid FROM expunged WHERE"
				   " mailbox_id = ? AND modseq = ?"
				   " ORDER BY uid", "ii", mbox,
				   (int64_t)modseq);
	int r = st ? ss_uid_each(c, st, removed, arg, err) : PS_EIO;

	ss_done(c, st);
	return r;
}

static int
ss_expunge_in(struct ps_mbox *mb, const struct pst_uidset *set,
	      ps_store_uid_fn removed, void *arg, size_t *n_r,
	      struct ps_error *err)
{
	uint64_t modseq;
	int r = ss_mbox_bump(&mb->c, mb->id, &modseq, err);

	for (size_t i = 0; r == 0 && i < set->n; i++)
		r = ss_expunge_range(&mb->c, mb->id, set->r[i].first,
				     set->r[i].last, 1, modseq, n_r, err);
	if (r == 0 && *n_r && removed)
		r = ss_expunge_report(&mb->c, mb->id, modseq, removed, arg,
				      err);
	return r;
}

int
ss_expunge(struct ps_mbox *mb, const struct ps_uid_range *set, size_t nset,
	   ps_store_uid_fn removed, void *arg, struct ps_error *err)
{
	struct ss_mbox_row row;
	struct pst_uidset u;
	size_t n = 0;
	int r = ss_mbox_writable(mb, err);

	/* No fsync: a power loss may bring expunged messages back, which
	 * loses no mail (docs/architecture.md, Mail store). */
	if (r == 0)
		r = ss_mbox_change(mb, set, nset, SS_SYNC_LAZY, &u, &row,
				   err);
	if (r < 0)
		return r;
	r = ss_expunge_in(mb, &u, removed, arg, &n, err);
	r = ss_write_end(&mb->c, r, n > 0, err);
	if (r == 0 && n)
		ss_notify(mb->u, row.name);
	pst_uidset_free(&u);
	return r;
}
