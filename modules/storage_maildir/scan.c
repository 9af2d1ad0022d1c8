/* A folder as its files say: every file in new/ and cur/ is a message,
 * the UID list maps base names to UIDs, a file it does not list (a
 * delivery by another MDA, or a commit cut short by a crash) gets the
 * next UID, and a listed file that is gone was expunged by someone. With
 * claim, files in new/ move to cur/ (with an empty ":2," info): that is
 * how a Maildir marks mail a session has seen arrive (\Recent). The
 * caller holds the user's lock. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "storage_maildir.h"

struct md_file {
	char *name;
	size_t base_len;
	int sub; /* 0: new/, 1: cur/ */
	int used;
};

struct md_files {
	struct md_file *v;
	size_t n, cap;
};

static const char *const md_sub[] = { "new", "cur" };

static int
md_file_cmp(const void *a, const void *b)
{
	const struct md_file *x = a, *y = b;
	size_t n = x->base_len < y->base_len ? x->base_len : y->base_len;
	int c = memcmp(x->name, y->name, n);

	return c ? c : (x->base_len > y->base_len) - (x->base_len < y->base_len);
}

static int
md_files_read(const char *dir, int sub, struct md_files *f,
	      struct ps_error *err)
{
	char path[MD_PATH_MAX];
	struct dirent *de;
	DIR *d;

	md_path(path, dir, md_sub[sub]);
	d = opendir(path);
	if (!d)
		return md_errno(err, "opendir", path);
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (f->n == f->cap) {
			size_t cap = f->cap ? f->cap * 2 : 64;
			struct md_file *v = realloc(f->v, cap * sizeof(*v));

			if (!v)
				break;
			f->v = v;
			f->cap = cap;
		}
		f->v[f->n].name = strdup(de->d_name);
		if (!f->v[f->n].name)
			break;
		f->v[f->n].base_len = md_base_len(de->d_name);
		f->v[f->n].sub = sub;
		f->v[f->n++].used = 0;
	}
	closedir(d);
	return de ? md_err(err, PS_ENOMEM, "out of memory") : 0;
}

static void
md_files_free(struct md_files *f)
{
	for (size_t i = 0; i < f->n; i++)
		free(f->v[i].name);
	free(f->v);
}

/* Add file (its size and date from stat) as message uid. */
static int
md_msgs_add(const char *dir, struct md_msgs *m, uint32_t uid,
	    const struct md_file *file)
{
	char rel[MD_PATH_MAX], path[MD_PATH_MAX];
	struct md_msg *x;
	struct stat st;

	md_path(rel, md_sub[file->sub], file->name);
	md_path(path, dir, rel);
	if (stat(path, &st) < 0)
		return 0; /* gone since readdir: expunged meanwhile */
	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 64;
		struct md_msg *v = realloc(m->v, cap * sizeof(*v));

		if (!v)
			return PS_ENOMEM;
		m->v = v;
		m->cap = cap;
	}
	x = &m->v[m->n];
	memset(x, 0, sizeof(*x));
	x->file = strdup(rel);
	if (!x->file)
		return PS_ENOMEM;
	x->uid = uid;
	md_info_parse(file->name, &x->flags, &x->kw);
	x->size = (uint64_t)st.st_size;
	/* Dovecot's ",W=" is the size with CRLF lines (ours say it too);
	 * else the index has it, or the sync counts it (crlf.c). */
	if (md_name_size(file->name, ",W=", &x->vsize) < 0)
		x->vsize = MD_VSIZE_UNKNOWN;
	x->mtime = (int64_t)st.st_mtime;
	m->n++;
	return 0;
}

/* Listed files keep their UIDs; *changed_r when some are gone. */
static int
md_scan_known(const char *dir, struct md_files *f, struct md_uidlist *l,
	      struct md_uidlist *keep, struct md_msgs *m)
{
	int r = 0;

	for (size_t i = 0; i < l->n && r == 0; i++) {
		struct md_file key = { .name = l->v[i].base,
				       .base_len = strlen(l->v[i].base) };
		/* qsort and bsearch want a non-NULL array, even empty. */
		struct md_file *hit = f->n ? bsearch(&key, f->v, f->n,
						     sizeof(*f->v),
						     md_file_cmp)
					   : NULL;

		if (!hit || hit->used)
			continue;
		hit->used = 1;
		r = md_uidlist_add(keep, l->v[i].uid, hit->name,
				   hit->base_len);
		if (r == 0)
			r = md_msgs_add(dir, m, l->v[i].uid, hit);
	}
	return r;
}

/* Files no list names, in name order (Maildir names start with the
 * time of delivery), get the next UIDs. */
static int
md_scan_new(const char *dir, struct md_files *f, struct md_uidlist *keep,
	    struct md_msgs *m)
{
	int r = 0;

	for (size_t i = 0; i < f->n && r == 0; i++) {
		if (f->v[i].used)
			continue;
		r = md_uidlist_add(keep, keep->h.nextuid, f->v[i].name,
				   f->v[i].base_len);
		if (r == 0)
			r = md_msgs_add(dir, m, keep->h.nextuid, &f->v[i]);
		keep->h.nextuid++;
	}
	return r;
}

/* new/NAME to cur/NAME:2, for every message still in new/. */
static int
md_scan_claim(const char *dir, struct md_msgs *m, uint32_t *first_r,
	      struct ps_error *err)
{
	char src[MD_PATH_MAX], dst[MD_PATH_MAX], rel[MD_PATH_MAX];
	int moved = 0;

	for (size_t i = 0; i < m->n; i++) {
		if (strncmp(m->v[i].file, "new/", 4) != 0)
			continue;
		snprintf(rel, sizeof(rel), "cur/%s%s", m->v[i].file + 4,
			 strstr(m->v[i].file, ":2,") ? "" : ":2,");
		md_path(src, dir, m->v[i].file);
		md_path(dst, dir, rel);
		if (rename(src, dst) < 0)
			return md_errno(err, "rename", src);
		free(m->v[i].file);
		m->v[i].file = strdup(rel);
		if (!m->v[i].file)
			return md_err(err, PS_ENOMEM, "out of memory");
		if (m->v[i].uid < *first_r)
			*first_r = m->v[i].uid;
		moved = 1;
	}
	return moved ? md_fsync_dir(dir, err) : 0;
}

static int
md_uid_cmp(const void *a, const void *b)
{
	const struct md_msg *x = a, *y = b;

	return (x->uid > y->uid) - (x->uid < y->uid);
}

int
md_scan(const char *dir, int claim, struct md_msgs *out,
	struct md_uidlist_hdr *h_r, uint32_t *first_r, struct ps_error *err)
{
	struct md_files f = { 0 };
	struct md_uidlist l, keep = { 0 };
	int r = md_uidlist_load(dir, &l, err);

	memset(out, 0, sizeof(*out));
	if (r == 0)
		r = md_files_read(dir, 0, &f, err);
	if (r == 0)
		r = md_files_read(dir, 1, &f, err);
	if (r < 0)
		goto out;
	if (f.n)
		qsort(f.v, f.n, sizeof(*f.v), md_file_cmp);
	keep.h = l.h;
	r = md_scan_known(dir, &f, &l, &keep, out);
	if (r == 0)
		r = md_scan_new(dir, &f, &keep, out);
	if (r < 0) {
		r = md_err(err, r, "out of memory");
		goto out;
	}
	if (out->n)
		qsort(out->v, out->n, sizeof(*out->v), md_uid_cmp);
	*first_r = keep.h.nextuid;
	if (claim)
		r = md_scan_claim(dir, out, first_r, err);
	if (r == 0 && (keep.n != l.n || keep.h.nextuid != l.h.nextuid))
		r = md_uidlist_save(dir, &keep, err);
	*h_r = keep.h;
out:
	md_files_free(&f);
	md_uidlist_free(&l);
	md_uidlist_free(&keep);
	if (r < 0)
		md_msgs_free(out);
	return r;
}

void
md_msgs_free(struct md_msgs *m)
{
	for (size_t i = 0; i < m->n; i++) {
		free(m->v[i].file);
		free(m->v[i].cache);
		free(m->v[i].extra);
	}
	free(m->v);
	memset(m, 0, sizeof(*m));
}

/* The folder whose UID list carries guid: an open mailbox finds its
 * folder again after a rename this way. */
int
md_folder_by_guid(const struct ps_store_user *u, const char *guid,
		  char *dir, struct ps_error *err)
{
	struct md_uidlist_hdr h;
	struct dirent *de;
	DIR *d;

	if (md_uidlist_read_hdr(u->root, &h, NULL) == 0 &&
	    strcmp(h.guid, guid) == 0) {
		snprintf(dir, MD_PATH_MAX, "%s", u->root);
		return 0;
	}
	d = opendir(u->root);
	if (!d)
		return md_errno(err, "opendir", u->root);
	while ((de = readdir(d))) {
		if (de->d_name[0] != '.' || md_path(dir, u->root, de->d_name) ||
		    md_uidlist_read_hdr(dir, &h, NULL) < 0)
			continue;
		if (strcmp(h.guid, guid) == 0)
			break;
	}
	closedir(d);
	if (!de)
		return md_err(err, PS_STORE_ENOMBOX, "the mailbox was deleted");
	return 0;
}
