/* STORE for storage_sqlite: flags and keywords of a UID set added,
 * removed or replaced (RFC 3501 6.4.6), each changed message taking the
 * transaction's new MODSEQ while unchanged ones keep theirs, and
 * UNCHANGEDSINCE refusals (RFC 7162 3.1.3). */
#include "storage_sqlite.h"

struct ss_store {
	struct ps_mbox *mb;
	enum ps_store_mode mode;
	unsigned flags;
	const char *const *kw;
	size_t nkw;
	uint64_t unchangedsince, modseq;
	ps_store_msg_fn changed;
	ps_store_uid_fn refused;
	void *arg;
	struct pst_kw k;
	sqlite3_stmt *sel, *upd;
	size_t nchanged;
};

static int
ss_store_write(struct ss_store *s, struct ps_msg *m, unsigned flags,
	       struct ps_error *err)
{
	struct ss_conn *c = &s->mb->c;
	const char *text = pst_kw_join(&s->k);
	int r;

	if (s->k.n && !text)
		return ss_err(err, PS_ENOMEM, "out of memory");
	r = ss_rebind(c, s->upd, err, "usiiu", flags, text,
		      (int64_t)s->modseq, s->mb->id, m->uid);
	if (r == 0)
		r = ss_step(c, s->upd, err);
	if (r < 0)
		return r;
	s->nchanged++;
	m->flags = flags;
	m->keywords = s->k.v;
	m->nkeywords = s->k.n;
	m->modseq = s->modseq;
	return s->changed ? s->changed(m, s->arg) : 0;
}

/* The message in s->sel's row: refuse it, leave it, or change it. */
static int
ss_store_one(struct ss_store *s, struct ps_error *err)
{
	struct ps_msg m;
	unsigned flags;
	int kw_changed, r;

	if (ss_msg_row(s->sel, &s->k, &m) < 0)
		return ss_err(err, PS_ENOMEM, "out of memory");
	/* A row this STORE changed already, should the scan meet it again
	 * after its update. */
	if (m.modseq == s->modseq)
		return 0;
	if (s->unchangedsince && m.modseq > s->unchangedsince)
		return s->refused ? s->refused(m.uid, s->arg) : 0;
	flags = pst_flags_apply(m.flags, s->mode, s->flags);
	r = pst_kw_apply(&s->k, s->mode, s->kw, s->nkw, &kw_changed, err);
	if (r < 0 || (flags == m.flags && !kw_changed))
		return r;
	return ss_store_write(s, &m, flags, err);
}

static int
ss_store_ranges(struct ss_store *s, const struct pst_uidset *set,
		struct ps_error *err)
{
	struct ss_conn *c = &s->mb->c;
	int r = 0;

	s->sel = ss_prep(c, err, SS_MSG_SELECT "WHERE m.mailbox_id = ?"
			 " AND m.uid BETWEEN ? AND ? ORDER BY m.uid", "");
	s->upd = ss_prep(c, err, "UPDATE message SET flags = ?, keywords = ?,"
			 " modseq = ? WHERE mailbox_id = ? AND uid = ?", "");
	if (!s->sel || !s->upd)
		r = PS_EIO;
	for (size_t i = 0; r == 0 && i < set->n; i++) {
		r = ss_rebind(c, s->sel, err, "iuu", s->mb->id,
			      set->r[i].first, set->r[i].last);
		while (r == 0 && (r = ss_step(c, s->sel, err)) == 1)
			r = ss_store_one(s, err);
	}
	ss_done(c, s->sel);
	ss_done(c, s->upd);
	return r;
}

static int
ss_store_check(struct ps_mbox *mb, enum ps_store_mode mode, unsigned flags,
	       const char *const *kw, size_t nkw, struct ps_error *err)
{
	int r = ss_mbox_writable(mb, err);

	if (r < 0)
		return r;
	return pst_store_check(mode, flags, kw, nkw, err);
}

int
ss_msg_store(struct ps_mbox *mb, const struct ps_uid_range *set, size_t nset,
	     enum ps_store_mode mode, unsigned flags,
	     const char *const *keywords, size_t nkeywords,
	     uint64_t unchangedsince, ps_store_msg_fn changed,
	     ps_store_uid_fn refused, void *arg, struct ps_error *err)
{
	/* \Recent is the server's (RFC 3501 2.3.2): never stored. */
	struct ss_store s = {
		.mb = mb, .mode = mode, .flags = flags & PS_FLAGS_STORED,
		.kw = keywords, .nkw = nkeywords,
		.unchangedsince = unchangedsince, .changed = changed,
		.refused = refused, .arg = arg,
	};
	struct ss_mbox_row row;
	struct pst_uidset u;
	int r = ss_store_check(mb, mode, flags, keywords, nkeywords, err);

	/* Flags are committed without fsync (docs/architecture.md, Mail
	 * store): a power loss may undo the last changes, never lose mail,
	 * as with Dovecot's default mail_fsync=optimized. */
	if (r == 0)
		r = ss_mbox_change(mb, set, nset, SS_SYNC_LAZY, &u, &row,
				   err);
	if (r < 0)
		return r;
	r = ss_mbox_bump(&mb->c, mb->id, &s.modseq, err);
	if (r == 0)
		r = ss_store_ranges(&s, &u, err);
	r = ss_write_end(&mb->c, r, s.nchanged > 0, err);
	if (r == 0 && s.nchanged)
		ss_notify(mb->u, row.name);
	pst_kw_free(&s.k);
	pst_uidset_free(&u);
	return r;
}
