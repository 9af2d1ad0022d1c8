/* STATUS (RFC 3501 6.3.10, RFC 7162 3.1.7 HIGHESTMODSEQ, RFC 8438 SIZE)
 * and SELECT/EXAMINE (RFC 3501 6.3.1, 6.3.2) for storage_sqlite. \Recent
 * (RFC 3501 2.3.2) is a watermark per mailbox: messages above it are not
 * yet claimed; a read-write open claims them all by raising it. */
#include <stdlib.h>

#include "storage_sqlite.h"

/* Messages with a UID above uid. */
static int
ss_count_above(struct ss_conn *c, int64_t id, uint32_t uid, uint32_t *n_r,
	       struct ps_error *err)
{
	int64_t n = 0;
	int r = ss_query_int(c, err, &n, "SELECT count(*) FROM message"
			     " WHERE mailbox_id = ? AND uid > ?", "iu", id,
			     uid);

	*n_r = (uint32_t)n;
	return r < 0 ? r : 0;
}

static void
ss_status_fill(const struct ss_mbox_row *row, uint32_t recent,
	       struct ps_mailbox_status *st)
{
	st->messages = row->messages;
	st->recent = recent;
	st->unseen = row->unseen;
	st->uidnext = row->uidnext;
	st->uidvalidity = row->uidvalidity;
	st->highestmodseq = row->modseq;
	st->size = row->bytes;
}

/* RECENT here counts the messages no session has claimed yet. */
static int
ss_status_in(struct ss_conn *c, const char *name, struct ss_mbox_row *row,
	     struct ps_mailbox_status *st, struct ps_error *err)
{
	uint32_t recent = 0;
	int r = ss_mbox_get(c, name, 0, 1, row, err);

	if (r == 0)
		r = ss_count_above(c, row->id, row->recent_uid, &recent, err);
	if (r == 0)
		ss_status_fill(row, recent, st);
	return r;
}

int
ss_mailbox_status(struct ps_store_user *u, const char *name,
		  struct ps_mailbox_status *st_r, struct ps_error *err)
{
	char canon[SS_NAME_MAX + 1];
	struct ss_mbox_row row;
	int r = ss_name_canon(name, canon, err);

	if (r == 0)
		r = ss_read_begin(&u->c, err);
	if (r < 0)
		return r;
	r = ss_status_in(&u->c, canon, &row, st_r, err);
	ss_read_end(&u->c);
	return r;
}

/* Claim the unclaimed messages for this session: the lowest of them is
 * its first \Recent one (uidnext when there is none). */
static int
ss_claim_recent(struct ss_conn *c, const struct ss_mbox_row *row,
		uint32_t *first_r, struct ps_error *err)
{
	int64_t first = 0;
	int r = ss_query_int(c, err, &first, "SELECT min(uid) FROM message"
			     " WHERE mailbox_id = ? AND uid > ?", "iu",
			     row->id, row->recent_uid);

	if (r < 0)
		return r;
	*first_r = first ? (uint32_t)first : row->uidnext;
	if (!first)
		return 0;
	r = ss_exec(c, err, "UPDATE mailbox SET recent_uid = uidnext - 1"
		    " WHERE id = ?", "i", row->id);
	return r < 0 ? r : 0;
}

/* SELECT: RECENT is what this session claimed. A claim a power loss
 * undoes makes the messages \Recent once more for the next session,
 * which RFC 3501 2.3.2 allows ("only one session", at best): no fsync. */
static int
ss_select(struct ps_mbox *mb, const char *name, struct ss_mbox_row *row,
	  struct ps_mailbox_status *st, uint32_t *first_r,
	  struct ps_error *err)
{
	uint32_t recent = 0;
	int r = ss_write_begin(&mb->c, SS_SYNC_LAZY, err);

	if (r < 0)
		return r;
	r = ss_mbox_get(&mb->c, name, 0, 1, row, err);
	if (r == 0)
		r = ss_claim_recent(&mb->c, row, first_r, err);
	if (r == 0)
		r = ss_count_above(&mb->c, row->id, *first_r - 1, &recent,
				   err);
	if (r == 0)
		ss_status_fill(row, recent, st);
	return ss_write_end(&mb->c, r, 1, err);
}

/* EXAMINE claims nothing: RECENT is what nobody has claimed yet. */
static int
ss_examine(struct ps_mbox *mb, const char *name, struct ss_mbox_row *row,
	   struct ps_mailbox_status *st, uint32_t *first_r,
	   struct ps_error *err)
{
	int r = ss_read_begin(&mb->c, err);

	if (r < 0)
		return r;
	r = ss_status_in(&mb->c, name, row, st, err);
	ss_read_end(&mb->c);
	if (r == 0)
		*first_r = row->uidnext;
	return r;
}

/* The handle has its own connection, so it may work in another thread
 * than the user handle and the other mailboxes. */
int
ss_mailbox_open(struct ps_store_user *u, const char *name, unsigned mode,
		struct ps_mbox **mb_r, struct ps_mailbox_status *st_r,
		uint32_t *first_recent_r, struct ps_error *err)
{
	char canon[SS_NAME_MAX + 1];
	struct ss_mbox_row row;
	struct ps_mbox *mb;
	int r = ss_name_canon(name, canon, err);

	*mb_r = NULL;
	if (r < 0)
		return r;
	mb = calloc(1, sizeof(*mb));
	if (!mb)
		return ss_err(err, PS_ENOMEM, "out of memory");
	mb->u = u;
	mb->mode = mode;
	ss_conn_init(&mb->c, u->file);
	r = mode & PS_OPEN_READONLY
			? ss_examine(mb, canon, &row, st_r, first_recent_r, err)
			: ss_select(mb, canon, &row, st_r, first_recent_r, err);
	if (r < 0) {
		ss_mailbox_close(mb);
		return r;
	}
	mb->id = row.id;
	mb->uidvalidity = row.uidvalidity;
	*mb_r = mb;
	return 0;
}

void
ss_mailbox_close(struct ps_mbox *mb)
{
	if (!mb)
		return;
	ss_conn_release(&mb->c);
	ss_conn_close(&mb->c);
	free(mb);
}

void
ss_mailbox_hold(struct ps_mbox *mb)
{
	ss_conn_hold(&mb->c);
}

void
ss_mailbox_release(struct ps_mbox *mb)
{
	ss_conn_release(&mb->c);
}

/* EXAMINE (RFC 3501 6.3.2) allows no change to the mailbox. */
int
ss_mbox_writable(const struct ps_mbox *mb, struct ps_error *err)
{
	if (mb->mode & PS_OPEN_READONLY)
		return ss_err(err, PS_ESTATE, "the mailbox is open read-only");
	return 0;
}

/* The open mailbox's row, inside the caller's transaction, if it still
 * is the mailbox that was opened. DELETE removes the row, or with
 * children leaves it \Noselect (RFC 3501 6.3.4), and a CREATE of that
 * name then makes the same row a new mailbox with a new UIDVALIDITY
 * (2.3.1.1): each time the handle's mailbox is gone, and its calls fail
 * with PS_STORE_ENOMBOX rather than reach the new one. A rename keeps
 * the row as it is. */
int
ss_mbox_current(struct ps_mbox *mb, struct ss_mbox_row *row,
		struct ps_error *err)
{
	int r = ss_mbox_get(&mb->c, NULL, mb->id, 0, row, err);

	if (r == 0 && (row->noselect || row->uidvalidity != mb->uidvalidity))
		r = ss_err(err, PS_STORE_ENOMBOX,
			   "the open mailbox was deleted");
	return r;
}

/* Start a change of an open mailbox: the set sorted, the write
 * transaction begun and the mailbox's row read (it may be gone since
 * the open: ss_mbox_current). On failure nothing is left to undo. */
int
ss_mbox_change(struct ps_mbox *mb, const struct ps_uid_range *set,
	       size_t nset, enum ss_sync sync, struct pst_uidset *u,
	       struct ss_mbox_row *row, struct ps_error *err)
{
	int r = pst_uidset(set, nset, u, err);

	if (r == 0)
		r = ss_write_begin(&mb->c, sync, err);
	if (r == 0) {
		r = ss_mbox_current(mb, row, err);
		if (r < 0)
			ss_write_end(&mb->c, r, 0, err);
	}
	if (r < 0)
		pst_uidset_free(u);
	return r;
}
