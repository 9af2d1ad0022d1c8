/* STORE (RFC 3501 6.4.6): flags and keywords live in the file names, so
 * a change is a rename of cur/BASE:2,OLD to cur/BASE:2,NEW (a message
 * still in new/ moves to cur/ on the way), under the user's lock. The
 * changed messages are reported after the lock is let go, since a
 * callback may read the store. A scan after the renames gives the
 * changed messages their new MODSEQs (index.c); UNCHANGEDSINCE (RFC 7162
 * 3.1.3) compares with the MODSEQs before. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "storage_maildir.h"


struct md_store {
	enum ps_store_mode mode;
	unsigned flags;
	uint32_t kw;
	char *extra; /* the asked keywords without a letter (index.c) */
};

static void
md_store_apply(const struct md_store *s, const struct md_msg *x,
	       unsigned *flags_r, uint32_t *kw_r)
{
	*flags_r = pst_flags_apply(x->flags, s->mode, s->flags);
	*kw_r = pst_flags_apply(x->kw, s->mode, s->kw);
}

/* 1 when space-separated list has word, in any case (RFC 3501 2.3.2). */
static int
md_words_has(const char *list, const char *word, size_t len)
{
	for (const char *p = list; p && *p;) {
		size_t n = strcspn(p, " ");

		if (n == len && strncasecmp(p, word, len) == 0)
			return 1;
		p += n + (p[n] == ' ');
	}
	return 0;
}

/* The unlettered keywords of x after the STORE (malloc'd), and how
 * many there are. */
static char *
md_extra_apply(const struct md_store *s, const struct md_msg *x,
	       size_t *n_r)
{
	const char *cur = x->extra ? x->extra : "";
	char *out = malloc(strlen(cur) + strlen(s->extra) + 2), *o = out;
	const char *lists[2] = { cur, s->mode == PS_STORE_ADD ? s->extra : "" };

	*n_r = 0;
	if (!out)
		return NULL;
	if (s->mode == PS_STORE_REPLACE)
		lists[0] = s->extra;
	for (size_t l = 0; l < 2; l++)
		for (const char *p = lists[l]; *p;) {
			size_t n = strcspn(p, " ");

			*o = '\0';
			if (!(s->mode == PS_STORE_REMOVE &&
			      md_words_has(s->extra, p, n)) &&
			    !md_words_has(out, p, n)) {
				o += sprintf(o, "%s%.*s", o > out ? " " : "",
					     (int)n, p);
				(*n_r)++;
			}
			p += n + (p[n] == ' ');
		}
	*o = '\0';
	return out;
}

/* A change of the unlettered keywords only touches the index: the row
 * takes them and forgets its info, so the scan that follows gives the
 * message a new MODSEQ as for any other change. */
static int
md_store_extra(struct ps_mbox *mb, uint32_t uid, const char *extra,
	       struct ps_error *err)
{
	sqlite3 *db;
	sqlite3_stmt *st = NULL;
	int r = md_idx_open(mb->u, &db, err), rc = SQLITE_ERROR;

	if (r < 0)
		return r;
	if (sqlite3_prepare_v2(db, "UPDATE msg SET extra = ?, state = '' "
			       "WHERE guid = ? AND uid = ?", -1, &st,
			       NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, extra, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, mb->guid, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, uid);
		rc = sqlite3_step(st);
	}
	if (rc != SQLITE_DONE)
		r = md_err(err, PS_EIO, "index: %s", sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return md_idx_close(db, r, err);
}

/* Rename x's file to carry flags and kw. */
static int
md_store_rename(const char *dir, struct md_msg *x, unsigned flags,
		uint32_t kw, struct ps_error *err)
{
	char src[MD_PATH_MAX], dst[MD_PATH_MAX], rel[MD_PATH_MAX], info[48];
	const char *name = x->file + 4; /* past "cur/" or "new/" */
	char *file;

	md_info_build(flags, kw, info);
	md_info_keep(name, info);
	if (snprintf(rel, sizeof(rel), "cur/%.*s%s", (int)md_base_len(name),
		     name, info) >= (int)sizeof(rel))
		return md_err(err, PS_EINVAL, "file name too long");
	md_path(src, dir, x->file);
	md_path(dst, dir, rel);
	if (rename(src, dst) < 0)
		return md_errno(err, "rename", src);
	file = strdup(rel);
	if (!file)
		return md_err(err, PS_ENOMEM, "out of memory");
	free(x->file);
	x->file = file;
	x->flags = flags;
	x->kw = kw;
	return 0;
}

/* The UIDs a STORE changed or refused. */
struct md_store_out {
	uint32_t *changed, *refused;
	size_t nchanged, nrefused;
};

static int
md_popcount(uint32_t v)
{
	return __builtin_popcount(v);
}

/* One message of the set: its new flags and keywords, or refused. */
static int
md_store_one(struct ps_mbox *mb, const char *dir, const struct md_store *s,
	     struct md_msg *x, uint64_t unchangedsince,
	     struct md_store_out *o, struct ps_error *err)
{
	unsigned flags;
	uint32_t kw;
	size_t nextra;
	char *extra = NULL;
	int r = 0, same_extra;

	md_store_apply(s, x, &flags, &kw);
	extra = md_extra_apply(s, x, &nextra);
	if (!extra)
		return md_err(err, PS_ENOMEM, "out of memory");
	same_extra = strcmp(extra, x->extra ? x->extra : "") == 0;
	if (flags == x->flags && kw == x->kw && same_extra)
		goto out;
	if ((size_t)md_popcount(kw) + nextra > MD_KEYWORD_MAX) {
		r = md_err(err, PS_EINVAL, "a message holds %d keywords",
			   MD_KEYWORD_MAX);
		goto out;
	}
	if (unchangedsince && x->modseq > unchangedsince) {
		o->refused[o->nrefused++] = x->uid;
		goto out;
	}
	if (flags != x->flags || kw != x->kw)
		r = md_store_rename(dir, x, flags, kw, err);
	if (r == 0 && !same_extra)
		r = md_store_extra(mb, x->uid, extra, err);
	if (r == 0)
		o->changed[o->nchanged++] = x->uid;
out:
	free(extra);
	return r;
}

/* The changes under the lock; name (MD_NAME_MAX + 1) gets the
 * mailbox's name for the notice. */
static int
md_store_locked(struct ps_mbox *mb, const struct ps_uid_range *set,
		size_t nset, struct md_store *s, const char *const *keywords,
		size_t nkeywords, uint64_t unchangedsince,
		struct md_store_out *o, char *name, struct ps_error *err)
{
	char dir[MD_PATH_MAX];
	struct md_uidlist_hdr h;
	uint32_t first;
	int r = md_mbox_scan_locked(mb, 0, dir, &h, &first, err);

	if (r < 0)
		return r;
	md_dir_mailbox(mb->u, dir, name);
	o->changed = calloc(mb->msgs.n + 1, sizeof(*o->changed));
	o->refused = calloc(mb->msgs.n + 1, sizeof(*o->refused));
	if (!o->changed || !o->refused)
		return md_err(err, PS_ENOMEM, "out of memory");
	if (r == 0)
		r = md_kw_mask(dir, &mb->kw, keywords, nkeywords,
			       s->mode != PS_STORE_REMOVE, &s->kw, &s->extra,
			       err);
	for (size_t i = 0; i < mb->msgs.n && r == 0; i++) {
		struct md_msg *x = &mb->msgs.v[i];

		if (md_in_set(x->uid, set, nset))
			r = md_store_one(mb, dir, s, x, unchangedsince, o, err);
	}
	if (r == 0 && o->nchanged)
		r = md_mbox_scan_locked(mb, 0, dir, &h, &first, err);
	return r;
}

static int
md_store_check(struct ps_mbox *mb, unsigned flags,
	       const char *const *keywords, size_t nkeywords,
	       struct ps_error *err)
{
	if (mb->mode & PS_OPEN_READONLY)
		return md_err(err, PS_ESTATE, "the mailbox is read-only");
	/* \Recent is no flag a client sets: ignored, as storage.h says. */
	if (flags & ~(PS_FLAGS_STORED | PS_FLAG_RECENT))
		return md_err(err, PS_EINVAL, "unknown flags 0x%x", flags);
	if (nkeywords > MD_KEYWORD_MAX)
		return md_err(err, PS_EINVAL, "more than %d keywords",
			      MD_KEYWORD_MAX);
	return md_kw_check(keywords, nkeywords, err);
}

int
md_msg_store(struct ps_mbox *mb, const struct ps_uid_range *set,
	     size_t nset, enum ps_store_mode mode, unsigned flags,
	     const char *const *keywords, size_t nkeywords,
	     uint64_t unchangedsince, ps_store_msg_fn changed,
	     ps_store_uid_fn refused, void *arg, struct ps_error *err)
{
	struct md_store s = { .mode = mode, .flags = flags & PS_FLAGS_STORED };
	char name[MD_NAME_MAX + 1] = "INBOX";
	struct md_store_out o = { 0 };
	struct md_lock l;
	int r = md_store_check(mb, flags, keywords, nkeywords, err);

	if (r == 0)
		r = md_lock(mb->u, &l, err);
	if (r < 0)
		return r;
	r = md_store_locked(mb, set, nset, &s, keywords, nkeywords,
			    unchangedsince, &o, name, err);
	md_unlock(&l);
	if (o.nchanged)
		md_notify(mb->u, name);
	/* Both lists and mb->msgs are in UID order. */
	for (size_t i = 0, j = 0; i < mb->msgs.n && j < o.nchanged && r == 0;
	     i++) {
		if (mb->msgs.v[i].uid != o.changed[j])
			continue;
		j++;
		if (changed)
			r = md_mbox_report(mb, &mb->msgs.v[i], changed, arg);
	}
	for (size_t i = 0; i < o.nrefused && r == 0 && refused; i++)
		r = refused(o.refused[i], arg);
	free(o.changed);
	free(o.refused);
	free(s.extra);
	return r;
}
