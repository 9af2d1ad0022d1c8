/* Reading messages in storage_sqlite: FETCH of metadata by UID set in UID
 * order (RFC 3501 6.4.5), byte ranges of a body through incremental blob
 * I/O so memory stays bounded whatever the size (RFC 3501 BODY[]<p.n>),
 * the protocols' cached structure, and what changed since a MODSEQ
 * (RFC 7162 3.1.4 CHANGEDSINCE, 3.2.5 QRESYNC, 3.2.10 VANISHED). */
#include <stdlib.h>

#include "storage_sqlite.h"

/* Fill m from a row of SS_MSG_SELECT, keywords split into kw. */
int
ss_msg_row(sqlite3_stmt *st, struct pst_kw *kw, struct ps_msg *m)
{
	if (pst_kw_load(kw, (const char *)sqlite3_column_text(st, 2)) < 0)
		return PS_ENOMEM;
	*m = (struct ps_msg){
		.uid = (uint32_t)sqlite3_column_int64(st, 0),
		.flags = (unsigned)sqlite3_column_int(st, 1),
		.keywords = kw->v,
		.nkeywords = kw->n,
		.internal_date = sqlite3_column_int64(st, 3),
		.internal_tz = sqlite3_column_int(st, 4),
		.size = (uint64_t)sqlite3_column_int64(st, 5),
		.modseq = (uint64_t)sqlite3_column_int64(st, 6),
		.cache = sqlite3_column_blob(st, 7),
		.cache_len = (size_t)sqlite3_column_bytes(st, 7),
	};
	return 0;
}

/* Hand each row of st (SS_MSG_SELECT) to fn: 0 at the end, fn's stop
 * value, or an error. */
static int
ss_msg_each(struct ss_conn *c, sqlite3_stmt *st, struct pst_kw *kw,
	    ps_store_msg_fn fn, void *arg, struct ps_error *err)
{
	struct ps_msg m;
	int r;

	while ((r = ss_step(c, st, err)) == 1) {
		if (ss_msg_row(st, kw, &m) < 0)
			return ss_err(err, PS_ENOMEM, "out of memory");
		r = fn(&m, arg);
		if (r)
			return r;
	}
	return r;
}

/* Hand the first column of each row of st to fn, as ss_msg_each. */
int
ss_uid_each(struct ss_conn *c, sqlite3_stmt *st, ps_store_uid_fn fn,
	    void *arg, struct ps_error *err)
{
	int r;

	while ((r = ss_step(c, st, err)) == 1) {
		r = fn((uint32_t)sqlite3_column_int64(st, 0), arg);
		if (r)
			return r;
	}
	return r;
}

int
ss_msg_fetch(struct ps_mbox *mb, const struct ps_uid_range *set, size_t nset,
	     ps_store_msg_fn fn, void *arg, struct ps_error *err)
{
	struct pst_uidset s;
	struct pst_kw kw = { .n = 0 };
	sqlite3_stmt *st = NULL;
	int r = pst_uidset(set, nset, &s, err);

	if (r == 0)
		r = ss_read_begin(&mb->c, err);
	if (r < 0) {
		pst_uidset_free(&s);
		return r;
	}
	st = ss_prep(&mb->c, err, SS_MSG_SELECT "WHERE m.mailbox_id = ?"
		     " AND m.uid BETWEEN ? AND ? ORDER BY m.uid", "");
	r = st ? 0 : PS_EIO;
	for (size_t i = 0; r == 0 && i < s.n; i++) {
		r = ss_rebind(&mb->c, st, err, "iuu", mb->id, s.r[i].first,
			      s.r[i].last);
		if (r == 0)
			r = ss_msg_each(&mb->c, st, &kw, fn, arg, err);
	}
	ss_done(&mb->c, st);
	ss_read_end(&mb->c);
	pst_kw_free(&kw);
	pst_uidset_free(&s);
	return r;
}

#define SS_BIG_READ (64 * 1024)

/* Copy up to len bytes at pos from the chunk in st's row (rowid, off,
 * length) into buf, through the connection's blob handle: moving an
 * open handle to another row costs little, opening one compiles a
 * statement, and a SEARCH reads a header from every message. */
static int
ss_chunk_copy(struct ss_conn *c, sqlite3_stmt *st, uint64_t pos,
	      unsigned char *buf, size_t len, size_t *n_r,
	      struct ps_error *err)
{
	int64_t row = sqlite3_column_int64(st, 0);
	uint64_t in = pos - (uint64_t)sqlite3_column_int64(st, 1);
	uint64_t have = (uint64_t)sqlite3_column_int64(st, 2);
	int rc = SQLITE_ERROR;

	*n_r = 0;
	if (in >= have)
		return 0;
	*n_r = have - in < len ? (size_t)(have - in) : len;
	/* A handle that cannot move (its statement failed) is replaced. */
	if (c->d->blob && sqlite3_blob_reopen(c->d->blob, row) != SQLITE_OK) {
		sqlite3_blob_close(c->d->blob);
		c->d->blob = NULL;
	}
	rc = c->d->blob ? SQLITE_OK
			: sqlite3_blob_open(c->db, "main", "chunk", "data", row,
					    0, &c->d->blob);
	if (rc == SQLITE_OK)
		rc = sqlite3_blob_read(c->d->blob, buf, (int)*n_r, (int)in);
	/* The pages of a large message would fill the connection's page
	 * cache (cache_size) and stay: past SS_BIG_READ into one, each
	 * chunk's pages are let go once copied, so reading 50 MB takes the
	 * memory reading 5 KB takes (issue 6). */
	if (rc == SQLITE_OK && pos + *n_r > SS_BIG_READ)
		sqlite3_db_release_memory(c->db);
	return rc == SQLITE_OK ? 0 : ss_dberr(c, err);
}

/* The message's chunks from the one holding offset on, in order, found
 * in one statement. No row: no such message, or one of no octets. */
static int
ss_body_read(struct ps_mbox *mb, uint32_t uid, uint64_t offset,
	     unsigned char *buf, size_t len, size_t *got_r,
	     struct ps_error *err)
{
	struct ss_conn *c = &mb->c;
	sqlite3_stmt *st = ss_prep(c, err, "SELECT c.rowid, c.off,"
				   " length(c.data) FROM message m"
				   " JOIN chunk c ON c.body_id = m.body_id"
				   " WHERE m.mailbox_id = ?1 AND m.uid = ?2"
				   " AND c.off >= (SELECT max(off) FROM chunk"
				   "  WHERE body_id = m.body_id AND off <= ?3)"
				   " ORDER BY c.off", "iui", mb->id, uid,
				   (int64_t)offset);
	int rows = 0, r = st ? 0 : PS_EIO;
	size_t n;

	while (r == 0 && *got_r < len && (r = ss_step(c, st, err)) == 1) {
		rows++;
		r = ss_chunk_copy(c, st, offset + *got_r, buf + *got_r,
				  len - *got_r, &n, err);
		*got_r += n;
	}
	ss_done(c, st);
	if (r == 0 && !rows) {
		int64_t one;

		r = ss_query_int(c, err, &one, "SELECT 1 FROM message"
				 " WHERE mailbox_id = ? AND uid = ?", "iu",
				 mb->id, uid);
		if (r == 0)
			r = ss_err(err, PS_STORE_ENOMSG,
				   "no message with UID %u", uid);
	}
	return r < 0 ? r : 0;
}

int
ss_msg_read(struct ps_mbox *mb, uint32_t uid, uint64_t offset, void *buf,
	    size_t len, size_t *got_r, struct ps_error *err)
{
	int r;

	*got_r = 0;
	if (offset > INT64_MAX)
		return 0;
	r = ss_read_begin(&mb->c, err);
	if (r < 0)
		return r;
	r = ss_body_read(mb, uid, offset, buf, len, got_r, err);
	ss_read_end(&mb->c);
	return r;
}

/* The cache belongs to the body, so copies of a message share it. It is
 * no change a client sees: no MODSEQ, no notice, and no fsync (lost, it
 * is parsed again). */
int
ss_msg_set_cache(struct ps_mbox *mb, uint32_t uid, const void *cache,
		 size_t len, struct ps_error *err)
{
	int r;

	if (len > SS_CACHE_MAX)
		return ss_err(err, PS_EINVAL, "a cache holds at most %d bytes",
			      SS_CACHE_MAX);
	r = ss_write_begin(&mb->c, SS_SYNC_LAZY, err);
	if (r < 0)
		return r;
	r = ss_exec(&mb->c, err, "UPDATE body SET cache = ?3 WHERE id ="
		    " (SELECT body_id FROM message WHERE mailbox_id = ?1"
		    " AND uid = ?2)", "iub", mb->id, uid,
		    len ? cache : NULL, len);
	if (r == 0)
		r = ss_err(err, PS_STORE_ENOMSG, "no message with UID %u",
			   uid);
	return ss_write_end(&mb->c, r < 0 ? r : 0, 1, err);
}

/* A mailbox deleted since the open has no changes to tell, only that it
 * is gone (ss_mbox_current): its rows and tombstones went with it. */
int
ss_changes_since(struct ps_mbox *mb, uint64_t modseq,
		 ps_store_msg_fn changed, ps_store_uid_fn expunged, void *arg,
		 struct ps_error *err)
{
	struct pst_kw kw = { .n = 0 };
	struct ss_mbox_row row;
	sqlite3_stmt *st;
	int r = ss_read_begin(&mb->c, err);

	if (r < 0)
		return r;
	r = ss_mbox_current(mb, &row, err);
	/* Without statistics SQLite walks the whole mailbox in UID order
	 * rather than sort what the MODSEQ index finds, and this runs after
	 * every IMAP command (the view's sync): the indexes are named. */
	if (r == 0 && changed) {
		st = ss_prep(&mb->c, err,
			     SS_MSG_FROM("INDEXED BY message_modseq ")
			     "WHERE m.mailbox_id = ? AND m.modseq > ?"
			     " ORDER BY m.uid", "ii", mb->id, (int64_t)modseq);
		r = st ? ss_msg_each(&mb->c, st, &kw, changed, arg, err)
		       : PS_EIO;
		ss_done(&mb->c, st);
	}
	if (r == 0 && expunged) {
		st = ss_prep(&mb->c, err, "SELECT uid FROM expunged"
			     " INDEXED BY expunged_modseq WHERE mailbox_id = ?"
			     " AND modseq > ? ORDER BY uid", "ii", mb->id,
			     (int64_t)modseq);
		r = st ? ss_uid_each(&mb->c, st, expunged, arg, err) : PS_EIO;
		ss_done(&mb->c, st);
	}
	ss_read_end(&mb->c);
	pst_kw_free(&kw);
	return r;
}
