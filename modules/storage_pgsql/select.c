/* STATUS (RFC 3501 6.3.10, RFC 7162 3.1.7 HIGHESTMODSEQ, RFC 8438 SIZE)
 * and SELECT/EXAMINE (RFC 3501 6.3.1, 6.3.2) for storage_pgsql. \Recent
 * (RFC 3501 2.3.2) is a watermark per mailbox: messages above it are not
 * yet claimed; a read-write open claims them all by raising it, under
 * the user's row lock, so of two sessions in any front ends exactly one
 * gets each message as \Recent. */
#include <stdlib.h>

#include "storage_pgsql.h"

/* Messages with a UID above uid. */
static int
sp_count_above(struct sp_conn *c, int64_t id, uint32_t uid, uint32_t *n_r,
	       struct ps_error *err)
{
	int64_t n = 0;
	int r = sp_query_int(c, err, &n, "SELECT count(*) FROM store_message"
			     " WHERE mailbox_id = $1 AND uid > $2", "iu", id,
			     uid);

	*n_r = (uint32_t)n;
	return r < 0 ? r : 0;
}

static void
sp_status_fill(const struct sp_mbox_row *row, uint32_t recent,
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
sp_status_in(struct sp_conn *c, int64_t user, const char *name,
	     struct sp_mbox_row *row, struct ps_mailbox_status *st,
	     struct ps_error *err)
{
	uint32_t recent = 0;
	int r = sp_mbox_get(c, user, name, 0, 1, row, err);

	if (r == 0)
		r = sp_count_above(c, row->id, row->recent_uid, &recent, err);
	if (r == 0)
		sp_status_fill(row, recent, st);
	return r;
}

int
sp_mailbox_status(struct ps_store_user *u, const char *name,
		  struct ps_mailbox_status *st_r, struct ps_error *err)
{
	char canon[SP_NAME_MAX + 1];
	struct sp_mbox_row row;
	int r = sp_name_canon(name, canon, err);

	if (r == 0)
		r = sp_read_begin(&u->c, err);
	if (r < 0)
		return r;
	r = sp_status_in(&u->c, u->id, canon, &row, st_r, err);
	sp_read_end(&u->c);
	return r;
}

/* Claim the unclaimed messages for this session: the lowest of them is
 * its first \Recent one (uidnext when there is none). */
static int
sp_claim_recent(struct sp_conn *c, const struct sp_mbox_row *row,
		uint32_t *first_r, struct ps_error *err)
{
	int64_t first = 0;
	int r = sp_query_int(c, err, &first, "SELECT min(uid) FROM"
			     " store_message WHERE mailbox_id = $1"
			     " AND uid > $2", "iu", row->id, row->recent_uid);

	if (r < 0)
		return r;
	*first_r = first ? (uint32_t)first : row->uidnext;
	if (!first)
		return 0;
	r = sp_exec(c, err, "UPDATE store_mailbox SET recent_uid = uidnext - 1"
		    " WHERE id = $1", "i", row->id);
	return r < 0 ? r : 0;
}

/* SELECT: RECENT is what this session claimed. A claim a crash undoes
 * makes the messages \Recent once more for the next session, which RFC
 * 3501 2.3.2 allows: committed without waiting for the disk. */
static int
sp_select(struct ps_mbox *mb, const char *name, struct sp_mbox_row *row,
	  struct ps_mailbox_status *st, uint32_t *first_r,
	  struct ps_error *err)
{
	uint32_t recent = 0;
	int r = sp_write_begin(&mb->c, mb->u, SP_SYNC_LAZY, err);

	if (r < 0)
		return r;
	r = sp_mbox_get(&mb->c, mb->u->id, name, 0, 1, row, err);
	if (r == 0)
		r = sp_claim_recent(&mb->c, row, first_r, err);
	if (r == 0)
		r = sp_count_above(&mb->c, row->id, *first_r - 1, &recent,
				   err);
	if (r == 0)
		sp_status_fill(row, recent, st);
	return sp_write_end(&mb->c, r, err);
}

/* EXAMINE claims nothing: RECENT is what nobody has claimed yet. */
static int
sp_examine(struct ps_mbox *mb, const char *name, struct sp_mbox_row *row,
	   struct ps_mailbox_status *st, uint32_t *first_r,
	   struct ps_error *err)
{
	int r = sp_read_begin(&mb->c, err);

	if (r < 0)
		return r;
	r = sp_status_in(&mb->c, mb->u->id, name, row, st, err);
	sp_read_end(&mb->c);
	if (r == 0)
		*first_r = row->uidnext;
	return r;
}

/* The handle takes its own connection for each call, so it may work in
 * another thread than the user handle and the other mailboxes. */
int
sp_mailbox_open(struct ps_store_user *u, const char *name, unsigned mode,
		struct ps_mbox **mb_r, struct ps_mailbox_status *st_r,
		uint32_t *first_recent_r, struct ps_error *err)
{
	char canon[SP_NAME_MAX + 1];
	struct sp_mbox_row row;
	struct ps_mbox *mb;
	int r = sp_name_canon(name, canon, err);

	*mb_r = NULL;
	if (r < 0)
		return r;
	mb = calloc(1, sizeof(*mb));
	if (!mb)
		return sp_err(err, PS_ENOMEM, "out of memory");
	mb->u = u;
	mb->mode = mode;
	sp_conn_init(&mb->c);
	r = mode & PS_OPEN_READONLY
			? sp_examine(mb, canon, &row, st_r, first_recent_r, err)
			: sp_select(mb, canon, &row, st_r, first_recent_r, err);
	if (r < 0) {
		sp_mailbox_close(mb);
		return r;
	}
	mb->id = row.id;
	mb->uidvalidity = row.uidvalidity;
	*mb_r = mb;
	return 0;
}

void
sp_mailbox_close(struct ps_mbox *mb)
{
	if (!mb)
		return;
	sp_conn_close(&mb->c);
	free(mb);
}

void
sp_mailbox_hold(struct ps_mbox *mb)
{
	sp_conn_hold(&mb->c);
}

void
sp_mailbox_release(struct ps_mbox *mb)
{
	sp_conn_release(&mb->c);
}

/* EXAMINE (RFC 3501 6.3.2) allows no change to the mailbox. */
int
sp_mbox_writable(const struct ps_mbox *mb, struct ps_error *err)
{
	if (mb->mode & PS_OPEN_READONLY)
		return sp_err(err, PS_ESTATE, "the mailbox is open read-only");
	return 0;
}

/* The open mailbox's row, if it still is the mailbox that was opened:
 * DELETE removes the row or leaves it \Noselect, and a CREATE of that
 * name then gives the row a new UIDVALIDITY (RFC 3501 2.3.1.1); either
 * way the handle's mailbox is gone. A rename keeps the row. */
int
sp_mbox_current(struct ps_mbox *mb, struct sp_mbox_row *row,
		struct ps_error *err)
{
	int r = sp_mbox_get(&mb->c, mb->u->id, NULL, mb->id, 0, row, err);

	if (r == 0 && (row->noselect || row->uidvalidity != mb->uidvalidity))
		r = sp_err(err, PS_STORE_ENOMBOX,
			   "the open mailbox was deleted");
	return r;
}

/* Start a change of an open mailbox: the set sorted, the write
 * transaction begun and the mailbox's row read. On failure nothing is
 * left to undo. */
int
sp_mbox_change(struct ps_mbox *mb, const struct ps_uid_range *set,
	       size_t nset, enum sp_sync sync, struct pst_uidset *u,
	       struct sp_mbox_row *row, struct ps_error *err)
{
	int r = pst_uidset(set, nset, u, err);

	if (r == 0)
		r = sp_write_begin(&mb->c, mb->u, sync, err);
	if (r == 0) {
		r = sp_mbox_current(mb, row, err);
		if (r < 0)
			sp_write_end(&mb->c, r, err);
	}
	if (r < 0)
		pst_uidset_free(u);
	return r;
}
