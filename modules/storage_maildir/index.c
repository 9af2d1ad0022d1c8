/* The per-user index, Maildir/poshta-index.db (SQLite): what a Maildir
 * cannot hold. Per folder (by the GUID of its UID list) the highest
 * MODSEQ and the first UID no session has claimed as \Recent; per
 * message its MODSEQ, its flags as last seen (the ":2," info), its
 * keywords beyond the folder's 26 letters, the internal date's zone and
 * the protocols' cached structure; and the
 * expunged UIDs with their MODSEQ (RFC 7162 VANISHED). The files stay
 * the truth: a scan compares them with the index and gives a new MODSEQ
 * to each message whose info changed, appeared or vanished, so the index
 * can be deleted at any time and is rebuilt (with fresh MODSEQs) from
 * the files. Every call runs under the user's lock.
 *
 * A folder the index does not know starts its MODSEQs at the time in
 * microseconds, not at 1: after the index is deleted or rebuilt
 * (poshtactl index rebuild) they go on above any a client may have
 * cached, so HIGHESTMODSEQ never goes back (RFC 7162 3.1.2.1) and
 * CONDSTORE clients resynchronise every message instead of trusting
 * stale flags. A scan that finds nothing changed writes nothing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "storage_maildir.h"

static const char md_schema[] =
	"PRAGMA journal_mode = WAL;"
	"CREATE TABLE IF NOT EXISTS folder (guid TEXT PRIMARY KEY,"
	" modseq INTEGER NOT NULL, recent_uid INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS msg (guid TEXT NOT NULL, uid INTEGER"
	" NOT NULL, modseq INTEGER NOT NULL, state TEXT NOT NULL,"
	" extra TEXT NOT NULL DEFAULT '', tz INTEGER NOT NULL DEFAULT 0,"
	" cache BLOB,"
	" PRIMARY KEY (guid, uid));"
	"CREATE TABLE IF NOT EXISTS gone (guid TEXT NOT NULL, uid INTEGER"
	" NOT NULL, modseq INTEGER NOT NULL);";

/* Version 1 adds msg.vsize: a file's size with its bare LFs as CRLF,
 * for files whose name carries no ",W=" (crlf.c); NULL until counted. */
static const char md_schema_v1[] =
	"ALTER TABLE msg ADD COLUMN vsize INTEGER;"
	"PRAGMA user_version = 1;";

static int
md_idx_upgrade(sqlite3 *db)
{
	sqlite3_stmt *st = NULL;
	int v = -1;

	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) ==
		    SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (v < 0)
		return SQLITE_ERROR;
	return v < 1 ? sqlite3_exec(db, md_schema_v1, NULL, NULL, NULL)
		     : SQLITE_OK;
}

static int
md_dberr(sqlite3 *db, struct ps_error *err)
{
	return md_err(err, PS_EIO, "index: %s", sqlite3_errmsg(db));
}

/* Each session is the only one (the user's lock), so closing it
 * checkpoints the WAL into the database and syncs both: commits need no
 * sync of their own (synchronous NORMAL), and the session is on the
 * disk when md_idx_close returns, as before. The WAL file stays between
 * sessions (truncated), so SQLite does not create it, and sync the folder
 * for it, every time: an append cost ten syncs, eight with these. */
static void
md_idx_tune(sqlite3 *db)
{
	int persist = 1;

	sqlite3_file_control(db, "main", SQLITE_FCNTL_PERSIST_WAL, &persist);
	/* Emptied to 0 bytes at close (a persistent WAL keeps its frames
	 * otherwise, and the next session's recovery would copy them into
	 * the database again, touching it on every read). */
	sqlite3_exec(db, "PRAGMA synchronous = NORMAL;"
		     "PRAGMA journal_size_limit = 0", NULL, NULL, NULL);
}

/* Open the index in a write transaction (the user's lock is held, so
 * it never waits). */
int
md_idx_open(const struct ps_store_user *u, sqlite3 **db_r,
	    struct ps_error *err)
{
	char path[MD_PATH_MAX];
	sqlite3 *db = NULL;
	int r = 0;

	*db_r = NULL;
	md_path(path, u->root, "poshta-index.db");
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE |
			    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK)
		r = md_err(err, PS_EIO, "index %s: %s", path,
			   db ? sqlite3_errmsg(db) : "out of memory");
	sqlite3_busy_timeout(db, 10000);
	if (r == 0)
		md_idx_tune(db);
	if (r == 0 && (sqlite3_exec(db, md_schema, NULL, NULL, NULL) ||
		       sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) ||
		       md_idx_upgrade(db)))
		r = md_dberr(db, err);
	if (r < 0) {
		sqlite3_close(db);
		return r;
	}
	*db_r = db;
	return 0;
}

/* Commit (when r is 0) or roll back, and close. */
int
md_idx_close(sqlite3 *db, int r, struct ps_error *err)
{
	if (!db)
		return r;
	if (r == 0 && sqlite3_exec(db, "COMMIT", NULL, NULL, NULL))
		r = md_dberr(db, err);
	if (r < 0)
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close(db);
	return r;
}

static sqlite3_stmt *
md_prep(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = NULL;

	sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	return st;
}

/* The folder's row: its highest MODSEQ and first unclaimed UID;
 * *found_r when there is one. */
static int
md_idx_folder_get(sqlite3 *db, const char *guid, uint64_t *modseq_r,
		  uint32_t *recent_r, int *found_r, struct ps_error *err)
{
	sqlite3_stmt *st = md_prep(db, "SELECT modseq, recent_uid FROM "
				   "folder WHERE guid = ?");
	struct timeval tv;
	int rc;

	gettimeofday(&tv, NULL);
	*modseq_r = (uint64_t)tv.tv_sec * 1000000u + (uint64_t)tv.tv_usec;
	*recent_r = 1;
	if (!st)
		return md_dberr(db, err);
	sqlite3_bind_text(st, 1, guid, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*modseq_r = (uint64_t)sqlite3_column_int64(st, 0);
		*recent_r = (uint32_t)sqlite3_column_int64(st, 1);
	}
	*found_r = rc == SQLITE_ROW;
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : md_dberr(db, err);
}

int
md_idx_folder(sqlite3 *db, const char *guid, uint64_t *modseq_r,
	      uint32_t *recent_r, struct ps_error *err)
{
	int found;

	return md_idx_folder_get(db, guid, modseq_r, recent_r, &found, err);
}

int
md_idx_folder_set(sqlite3 *db, const char *guid, uint64_t modseq,
		  uint32_t recent, struct ps_error *err)
{
	sqlite3_stmt *st = md_prep(db, "INSERT OR REPLACE INTO folder "
				   "(guid, modseq, recent_uid) VALUES (?, ?, ?)");
	int rc;

	if (!st)
		return md_dberr(db, err);
	sqlite3_bind_text(st, 1, guid, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)modseq);
	sqlite3_bind_int64(st, 3, recent);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : md_dberr(db, err);
}

/* A message's row as a delivery or a copy writes it. */
int
md_idx_put(sqlite3 *db, const char *guid, uint32_t uid, uint64_t modseq,
	   const char *state, const char *extra, int tz, const void *cache,
	   size_t len, struct ps_error *err)
{
	sqlite3_stmt *st = md_prep(db, "INSERT OR REPLACE INTO msg (guid, "
				   "uid, modseq, state, tz, cache, extra) "
				   "VALUES (?, ?, ?, ?, ?, ?, ?)");
	int rc;

	if (!st)
		return md_dberr(db, err);
	sqlite3_bind_text(st, 1, guid, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, uid);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)modseq);
	sqlite3_bind_text(st, 4, state, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 5, tz);
	if (len)
		sqlite3_bind_blob(st, 6, cache, (int)len, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, extra ? extra : "", -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : md_dberr(db, err);
}

/* The statements a sync runs once per message, prepared once. */
struct md_idx_stmts {
	sqlite3_stmt *get, *set_state, *set_vsize;
};

static void
md_idx_stmts_free(struct md_idx_stmts *q)
{
	sqlite3_finalize(q->get);
	sqlite3_finalize(q->set_state);
	sqlite3_finalize(q->set_vsize);
}

static int
md_idx_stmts_prep(sqlite3 *db, struct md_idx_stmts *q)
{
	q->get = md_prep(db, "SELECT modseq, state, tz, cache, extra, vsize "
			 "FROM msg WHERE guid = ? AND uid = ?");
	q->set_state = md_prep(db, "UPDATE msg SET modseq = ?, state = ? "
			       "WHERE guid = ? AND uid = ?");
	q->set_vsize = md_prep(db, "UPDATE msg SET vsize = ? WHERE guid = ? "
			       "AND uid = ?");
	return q->get && q->set_state && q->set_vsize ? 0 : -1;
}

static int
md_idx_step(sqlite3_stmt *st, sqlite3_int64 a, const char *b,
	    const char *guid, uint32_t uid)
{
	int rc;

	sqlite3_reset(st);
	sqlite3_bind_int64(st, 1, a);
	if (b)
		sqlite3_bind_text(st, 2, b, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, b ? 3 : 2, guid, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, b ? 4 : 3, uid);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* The fields of x its row gives: MODSEQ, zone, cache, unlettered
 * keywords, the counted size; *same_r when its info is as the index saw
 * it last. 1 when there is a row, 0 when none, -1 on error. */
static int
md_idx_row(struct md_idx_stmts *q, const char *guid, struct md_msg *x,
	   const char *state, int *same_r, int *counted_r)
{
	sqlite3_stmt *st = q->get;
	int rc;

	sqlite3_reset(st);
	sqlite3_bind_text(st, 1, guid, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, x->uid);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const void *c = sqlite3_column_blob(st, 3);
		int len = sqlite3_column_bytes(st, 3);

		x->modseq = (uint64_t)sqlite3_column_int64(st, 0);
		*same_r = strcmp((const char *)sqlite3_column_text(st, 1),
				 state) == 0;
		x->tz = sqlite3_column_int(st, 2);
		if (sqlite3_column_bytes(st, 4) > 0)
			x->extra = strdup((const char *)
					  sqlite3_column_text(st, 4));
		if (c && len > 0 && (x->cache = malloc((size_t)len))) {
			memcpy(x->cache, c, (size_t)len);
			x->cache_len = (size_t)len;
		}
		*counted_r = sqlite3_column_type(st, 5) != SQLITE_NULL;
		if (*counted_r && x->vsize == MD_VSIZE_UNKNOWN)
			x->vsize = (uint64_t)sqlite3_column_int64(st, 5);
	}
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

/* x's MODSEQ, zone and cache from its row; a new row, or a new MODSEQ
 * when its info is not what the index saw last. A file whose name
 * gives no ",W=" size is read once to count its bare LFs (RFC 5322
 * 2.1: served as CRLF), and the count kept in the row. */
static int
md_idx_msg(sqlite3 *db, struct md_idx_stmts *q, const char *guid,
	   const char *dir, struct md_msg *x, uint64_t *modseq,
	   struct ps_error *err)
{
	char state[48], path[MD_PATH_MAX];
	int row, same = 0, counted = 0, r = 0;
	int named = x->vsize != MD_VSIZE_UNKNOWN; /* ",W=" gave it */

	md_info_build(x->flags, x->kw, state);
	row = md_idx_row(q, guid, x, state, &same, &counted);
	if (row < 0)
		return md_dberr(db, err);
	if (x->vsize == MD_VSIZE_UNKNOWN) {
		md_path(path, dir, x->file);
		if (md_crlf_count(path, &x->vsize) < 0)
			x->vsize = x->size; /* gone meanwhile: as it was */
	}
	if (!row) {
		x->modseq = ++*modseq;
		r = md_idx_put(db, guid, x->uid, x->modseq, state, x->extra,
			       x->tz, x->cache, x->cache_len, err);
	} else if (!same) {
		x->modseq = ++*modseq;
		if (md_idx_step(q->set_state, (sqlite3_int64)x->modseq, state,
				guid, x->uid) < 0)
			r = md_dberr(db, err);
	}
	/* Counted once, whatever the result: CRLF files too. */
	if (r == 0 && !named && !counted &&
	    md_idx_step(q->set_vsize, (sqlite3_int64)x->vsize, NULL, guid,
			x->uid) < 0)
		r = md_dberr(db, err);
	return r;
}

static int
md_msg_uid_cmp(const void *key, const void *elem)
{
	uint32_t uid = *(const uint32_t *)key;
	const struct md_msg *x = elem;

	return (uid > x->uid) - (uid < x->uid);
}

/* Rows whose file is gone: expunged, at a new MODSEQ each. */
static int
md_idx_vanished(sqlite3 *db, const char *guid, const struct md_msgs *m,
		uint64_t *modseq, struct ps_error *err)
{
	sqlite3_stmt *st = md_prep(db, "SELECT uid FROM msg WHERE guid = ?");
	sqlite3_stmt *del = md_prep(db, "DELETE FROM msg WHERE guid = ? AND "
				    "uid = ?");
	sqlite3_stmt *ins = md_prep(db, "INSERT INTO gone (guid, uid, modseq)"
				    " VALUES (?, ?, ?)");
	int rc = SQLITE_DONE;

	if (!st || !del || !ins)
		rc = SQLITE_ERROR;
	if (st)
		sqlite3_bind_text(st, 1, guid, -1, SQLITE_STATIC);
	while (st && del && ins && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		uint32_t uid = (uint32_t)sqlite3_column_int64(st, 0);

		if (m->n &&
		    bsearch(&uid, m->v, m->n, sizeof(*m->v), md_msg_uid_cmp))
			continue;
		sqlite3_reset(del);
		sqlite3_bind_text(del, 1, guid, -1, SQLITE_STATIC);
		sqlite3_bind_int64(del, 2, uid);
		sqlite3_reset(ins);
		sqlite3_bind_text(ins, 1, guid, -1, SQLITE_STATIC);
		sqlite3_bind_int64(ins, 2, uid);
		sqlite3_bind_int64(ins, 3, (sqlite3_int64)++*modseq);
		if (sqlite3_step(del) != SQLITE_DONE ||
		    sqlite3_step(ins) != SQLITE_DONE) {
			rc = SQLITE_ERROR;
			break;
		}
	}
	sqlite3_finalize(st);
	sqlite3_finalize(del);
	sqlite3_finalize(ins);
	return rc == SQLITE_DONE ? 0 : md_dberr(db, err);
}

/* Bring the index in line with the scanned messages m (UID order) of
 * folder dir. With claim, the messages past the folder's first
 * unclaimed UID become this session's \Recent ones. */
int
md_idx_sync(const struct ps_store_user *u, const char *guid,
	    const char *dir, struct md_msgs *m, uint32_t nextuid, int claim,
	    struct md_sync *s, struct ps_error *err)
{
	struct md_idx_stmts q = { 0 };
	sqlite3 *db;
	uint64_t modseq = 0, modseq0;
	uint32_t recent = 0, recent0;
	int found = 0, r = md_idx_open(u, &db, err);

	if (r == 0)
		r = md_idx_folder_get(db, guid, &modseq, &recent, &found,
				      err);
	modseq0 = modseq;
	recent0 = recent;
	if (r == 0 && md_idx_stmts_prep(db, &q) < 0)
		r = md_dberr(db, err);
	for (size_t i = 0; i < m->n && r == 0; i++)
		r = md_idx_msg(db, &q, guid, dir, &m->v[i], &modseq, err);
	md_idx_stmts_free(&q);
	if (r == 0)
		r = md_idx_vanished(db, guid, m, &modseq, err);
	s->first_recent = nextuid;
	s->recent = 0;
	for (size_t i = 0; i < m->n; i++) {
		if (m->v[i].uid < recent)
			continue;
		if (m->v[i].uid < s->first_recent)
			s->first_recent = m->v[i].uid;
		s->recent++;
	}
	if (claim)
		recent = nextuid;
	/* Unchanged, the row stays as it is: a read writes nothing. */
	if (r == 0 && (!found || modseq != modseq0 || recent != recent0))
		r = md_idx_folder_set(db, guid, modseq, recent, err);
	s->highest = modseq;
	return md_idx_close(db, r, err);
}
