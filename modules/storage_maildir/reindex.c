/* poshtactl index rebuild USER (the optional user_reindex op, SDK 1.6):
 * the user's index made again from the files alone. Under the user's
 * lock the old Maildir/poshta-index.db (and its -wal and -shm) is read
 * for what only it holds, when it still can be (keywords past a folder's
 * 26 letters, the internal dates' zones), then deleted, and every folder
 * with a UID list is scanned into a fresh one: UIDs, UIDVALIDITY, flags
 * and lettered keywords come from dovecot-uidlist and the file names, as
 * always; MODSEQs start again above the old ones (index.c), nothing is
 * \Recent, and the cached structures are parsed again when next read. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "storage_maildir.h"

/* A row of the old index worth keeping. */
struct md_keep {
	char guid[33];
	uint32_t uid;
	int tz;
	char *extra;
};
struct md_keeps {
	struct md_keep *v;
	size_t n, cap;
};

static void
md_keeps_free(struct md_keeps *k)
{
	for (size_t i = 0; i < k->n; i++)
		free(k->v[i].extra);
	free(k->v);
}

/* What the old index still gives; a damaged one gives what it can. */
static void
md_keeps_read(const char *path, struct md_keeps *k)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;

	if (access(path, F_OK) != 0 ||
	    sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) !=
		    SQLITE_OK ||
	    sqlite3_prepare_v2(db, "SELECT guid, uid, tz, extra FROM msg "
			       "WHERE tz != 0 OR extra != ''", -1, &st,
			       NULL) != SQLITE_OK)
		goto out;
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *g = (const char *)sqlite3_column_text(st, 0);
		const char *e = (const char *)sqlite3_column_text(st, 3);
		struct md_keep *x;

		if (k->n == k->cap) {
			size_t cap = k->cap ? k->cap * 2 : 64;
			struct md_keep *v = realloc(k->v, cap * sizeof(*v));

			if (!v)
				break;
			k->v = v;
			k->cap = cap;
		}
		x = &k->v[k->n];
		snprintf(x->guid, sizeof(x->guid), "%s", g ? g : "");
		x->uid = (uint32_t)sqlite3_column_int64(st, 1);
		x->tz = sqlite3_column_int(st, 2);
		x->extra = strdup(e ? e : "");
		if (!x->extra)
			break;
		k->n++;
	}
out:
	sqlite3_finalize(st);
	sqlite3_close(db);
}

/* Put the kept rows back on the messages the scans found again. */
static int
md_keeps_apply(const struct ps_store_user *u, const struct md_keeps *k,
	       struct ps_error *err)
{
	sqlite3 *db;
	sqlite3_stmt *st = NULL;
	int r = md_idx_open(u, &db, err);

	if (r < 0)
		return r;
	if (sqlite3_prepare_v2(db, "UPDATE msg SET tz = ?, extra = ? WHERE "
			       "guid = ? AND uid = ?", -1, &st, NULL) !=
	    SQLITE_OK)
		r = md_err(err, PS_EIO, "index: %s", sqlite3_errmsg(db));
	for (size_t i = 0; i < k->n && r == 0; i++) {
		sqlite3_reset(st);
		sqlite3_bind_int(st, 1, k->v[i].tz);
		sqlite3_bind_text(st, 2, k->v[i].extra, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, k->v[i].guid, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 4, k->v[i].uid);
		if (sqlite3_step(st) != SQLITE_DONE)
			r = md_err(err, PS_EIO, "index: %s",
				   sqlite3_errmsg(db));
	}
	sqlite3_finalize(st);
	return md_idx_close(db, r, err);
}

/* One folder into the new index: its files as a scan reads them, none
 * of them \Recent. */
static int
md_reindex_folder(const struct ps_store_user *u, const char *dir,
		  struct ps_error *err)
{
	struct md_msgs m;
	struct md_sync s;
	struct md_uidlist_hdr h;
	uint32_t first;
	int r = md_scan(dir, 0, &m, &h, &first, err);

	if (r < 0)
		return r;
	r = md_idx_sync(u, h.guid, dir, &m, h.nextuid, 1, &s, err);
	md_msgs_free(&m);
	return r;
}

/* INBOX and every folder below the root that has a UID list. */
static int
md_reindex_all(const struct ps_store_user *u, struct ps_error *err)
{
	char dir[MD_PATH_MAX], list[MD_PATH_MAX];
	struct dirent *de;
	DIR *d = opendir(u->root);
	int r;

	if (!d)
		return md_errno(err, "opendir", u->root);
	r = md_reindex_folder(u, u->root, err);
	while (r == 0 && (de = readdir(d))) {
		if (de->d_name[0] != '.' || !strcmp(de->d_name, ".") ||
		    !strcmp(de->d_name, "..") ||
		    md_path(dir, u->root, de->d_name) ||
		    md_path(list, dir, MD_UIDLIST) || access(list, F_OK) != 0)
			continue;
		r = md_reindex_folder(u, dir, err);
	}
	closedir(d);
	return r;
}

static int
md_reindex_locked(const struct ps_store_user *u, struct ps_error *err)
{
	static const char *const files[] = { "", "-wal", "-shm", "-journal" };
	char path[MD_PATH_MAX], db[MD_PATH_MAX];
	struct md_keeps k = { 0 };
	int r = 0;

	md_path(db, u->root, "poshta-index.db");
	md_keeps_read(db, &k);
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]) && r == 0;
	     i++) {
		snprintf(path, sizeof(path), "%s%s", db, files[i]);
		if (unlink(path) < 0 && access(path, F_OK) == 0)
			r = md_errno(err, "unlink", path);
	}
	if (r == 0)
		r = md_reindex_all(u, err);
	if (r == 0 && k.n)
		r = md_keeps_apply(u, &k, err);
	md_keeps_free(&k);
	return r;
}

int
md_user_reindex(const char *user, struct ps_error *err)
{
	struct ps_store_user u = { 0 };
	char path[MD_PATH_MAX];
	struct md_lock l;
	int r = md_user_dirs(user, &u.name, &u.home, &u.root, err);

	if (r == 0) {
		md_path(path, u.root, MD_UIDLIST);
		if (access(path, F_OK) != 0)
			r = md_err(err, PS_STORE_ENOMBOX, "%s has no mail "
				   "store (%s)", user, u.root);
	}
	if (r == 0)
		r = md_lock(&u, &l, err);
	if (r == 0) {
		r = md_reindex_locked(&u, err);
		md_unlock(&l);
	}
	free(u.name);
	free(u.home);
	free(u.root);
	return r;
}
