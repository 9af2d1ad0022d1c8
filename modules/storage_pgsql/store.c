/* STORE for storage_pgsql: flags and keywords of a UID set added,
 * removed or replaced (RFC 3501 6.4.6), each changed message taking the
 * transaction's new MODSEQ while unchanged ones keep theirs, and
 * UNCHANGEDSINCE refusals (RFC 7162 3.1.3). The rows are read under the
 * user's lock, so no other change slips in between read and write. */
#include "storage_pgsql.h"

struct sp_store {
	struct ps_mbox *mb;
	enum ps_store_mode mode;
	unsigned flags;
	const char *const *kw;
	size_t nkw;
	uint64_t unchangedsince, modseq;
	ps_store_msg_fn changed;
	ps_store_uid_fn refused;
	void *arg;
	struct sp_msg_rows rows;
	size_t nchanged;
};

static int
sp_store_write(struct sp_store *s, struct ps_msg *m, unsigned flags,
	       struct ps_error *err)
{
	const char *text = pst_kw_join(&s->rows.kw);
	int r;

	if (s->rows.kw.n && !text)
		return sp_err(err, PS_ENOMEM, "out of memory");
	r = sp_exec(&s->mb->c, err, "UPDATE store_message SET flags = $1,"
		    " keywords = $2, modseq = $3 WHERE mailbox_id = $4"
		    " AND uid = $5", "usiiu", flags, text, (int64_t)s->modseq,
		    s->mb->id, m->uid);
	if (r < 0)
		return r;
	s->nchanged++;
	m->flags = flags;
	m->keywords = s->rows.kw.v;
	m->nkeywords = s->rows.kw.n;
	m->modseq = s->modseq;
	return s->changed ? s->changed(m, s->arg) : 0;
}

/* Row i: refuse it, leave it, or change it. */
static int
sp_store_one(struct sp_msg_rows *rows, int i, void *arg,
	     struct ps_error *err)
{
	struct sp_store *s = arg;
	struct ps_msg m;
	unsigned flags;
	int kw_changed, r;

	if (sp_msg_row(rows, i, &m) < 0)
		return sp_err(err, PS_ENOMEM, "out of memory");
	if (s->unchangedsince && m.modseq > s->unchangedsince)
		return s->refused ? s->refused(m.uid, s->arg) : 0;
	flags = pst_flags_apply(m.flags, s->mode, s->flags);
	r = pst_kw_apply(&rows->kw, s->mode, s->kw, s->nkw, &kw_changed, err);
	if (r < 0 || (flags == m.flags && !kw_changed))
		return r;
	return sp_store_write(s, &m, flags, err);
}

static int
sp_store_ranges(struct sp_store *s, const struct pst_uidset *set,
		struct ps_error *err)
{
	int r = 0;

	for (size_t i = 0; r == 0 && i < set->n; i++)
		r = sp_msg_batches(&s->mb->c, s->mb->id, set->r[i].first,
				   set->r[i].last, 0, &s->rows, sp_store_one,
				   s, err);
	return r;
}

static int
sp_store_check(struct ps_mbox *mb, enum ps_store_mode mode, unsigned flags,
	       const char *const *kw, size_t nkw, struct ps_error *err)
{
	int r = sp_mbox_writable(mb, err);

	if (r < 0)
		return r;
	return pst_store_check(mode, flags, kw, nkw, err);
}

int
sp_msg_store(struct ps_mbox *mb, const struct ps_uid_range *set, size_t nset,
	     enum ps_store_mode mode, unsigned flags,
	     const char *const *keywords, size_t nkeywords,
	     uint64_t unchangedsince, ps_store_msg_fn changed,
	     ps_store_uid_fn refused, void *arg, struct ps_error *err)
{
	/* \Recent is the server's (RFC 3501 2.3.2): never stored. */
	struct sp_store s = {
		.mb = mb, .mode = mode, .flags = flags & PS_FLAGS_STORED,
		.kw = keywords, .nkw = nkeywords,
		.unchangedsince = unchangedsince, .changed = changed,
		.refused = refused, .arg = arg,
	};
	struct sp_mbox_row row;
	struct pst_uidset u;
	int r = sp_store_check(mb, mode, flags, keywords, nkeywords, err);

	/* Flags commit without waiting for the disk (docs/architecture.md,
	 * Mail store): a crash may undo the last changes, never lose mail. */
	if (r == 0)
		r = sp_mbox_change(mb, set, nset, SP_SYNC_LAZY, &u, &row,
				   err);
	if (r < 0)
		return r;
	r = sp_mbox_bump(&mb->c, mb->id, &s.modseq, err);
	if (r == 0)
		r = sp_store_ranges(&s, &u, err);
	if (r == 0 && s.nchanged)
		r = sp_announce(&mb->c, row.name, err);
	/* Nothing changed: the bumped MODSEQ is rolled back with the rest,
	 * so HIGHESTMODSEQ moves only with a change. */
	r = sp_write_end(&mb->c, r == 0 && !s.nchanged ? 1 : r, err);
	if (r == 1)
		r = 0;
	sp_msg_rows_free(&s.rows);
	pst_uidset_free(&u);
	return r;
}
