/* COPY and MOVE (RFC 3501 6.4.7, RFC 6851, COPYUID RFC 4315): each
 * source file is hard-linked into the destination's tmp/ under a new
 * unique name (the copy shares the bytes and the mtime, that is the
 * internal date, as Dovecot's copies do), the destination's UID list
 * gets the next UIDs (written first), and the links are renamed into
 * new/ or cur/ with the flags and the keywords, by name, in the
 * destination's letters. A move then unlinks the sources. All under the
 * user's lock, which covers every folder of the user; the UID map is
 * reported after it is let go. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "storage_maildir.h"

struct md_copy {
	const char *src_dir;
	char dst_dir[MD_PATH_MAX];
	struct md_uidlist l;
	struct md_keywords kw;
	uint32_t *src, *dst; /* the map */
	const struct md_msg **from; /* each copy's source */
	char (*state)[48];          /* and its info in the destination */
	char **extra;               /* and its unlettered keywords there */
	size_t n;
};

/* Link source message x into the destination's tmp/ and choose its
 * final name (dst: MD_PATH_MAX bytes). */
static int
md_copy_one(struct ps_mbox *mb, struct md_copy *c, const struct md_msg *x,
	    char *tmp, char *dst, struct ps_error *err)
{
	const char *names[MD_KW_LETTERS + MD_KEYWORD_MAX];
	char src[MD_PATH_MAX], base[600], info[48], *save = NULL;
	char *extra = x->extra ? strdup(x->extra) : NULL;
	uint32_t mask;
	size_t n = 0;
	int r;

	/* The keywords by name: lettered in the source or not, they get
	 * the destination's letters where it has room. */
	for (unsigned i = 0; i < MD_KW_LETTERS; i++)
		if (x->kw & 1u << i && i < mb->kw.n && mb->kw.v[i])
			names[n++] = mb->kw.v[i];
	for (char *w = extra ? strtok_r(extra, " ", &save) : NULL;
	     w && n < sizeof(names) / sizeof(names[0]);
	     w = strtok_r(NULL, " ", &save))
		names[n++] = w;
	r = md_kw_mask(c->dst_dir, &c->kw, names, n, 1, &mask,
		       &c->extra[c->n], err);
	free(extra);
	if (r < 0)
		return r;
	md_unique(base, sizeof(base) - 64);
	snprintf(base + strlen(base), 64, ",S=%llu,W=%llu",
		 (unsigned long long)x->size, (unsigned long long)x->vsize);
	md_info_build(x->flags, mask, info);
	if (!x->flags && !mask)
		info[0] = '\0';
	md_path(src, c->src_dir, x->file);
	if (snprintf(tmp, MD_PATH_MAX, "%s/tmp/%s", c->dst_dir, base) >=
		    MD_PATH_MAX ||
	    snprintf(dst, MD_PATH_MAX, "%s/%s/%s%s", c->dst_dir,
		     info[0] ? "cur" : "new", base, info) >= MD_PATH_MAX)
		return md_err(err, PS_EINVAL, "path too long");
	if (link(src, tmp) < 0)
		return md_errno(err, "link", src);
	c->from[c->n] = x;
	md_info_build(x->flags, mask, c->state[c->n]);
	c->src[c->n] = x->uid;
	c->dst[c->n++] = c->l.h.nextuid;
	r = md_uidlist_add(&c->l, c->l.h.nextuid++, base, strlen(base));
	return r < 0 ? md_err(err, r, "out of memory") : 0;
}

/* Link every message of the set, list them, then put them in place. */
static int
md_copy_all(struct ps_mbox *mb, const struct ps_uid_range *set, size_t nset,
	    struct md_copy *c, struct ps_error *err)
{
	char (*tmp)[MD_PATH_MAX] = calloc(mb->msgs.n + 1, sizeof(*tmp));
	char (*dst)[MD_PATH_MAX] = calloc(mb->msgs.n + 1, sizeof(*dst));
	size_t n = 0;
	int r = tmp && dst ? 0 : md_err(err, PS_ENOMEM, "out of memory");

	for (size_t i = 0; i < mb->msgs.n && r == 0; i++) {
		if (!md_in_set(mb->msgs.v[i].uid, set, nset))
			continue;
		r = md_copy_one(mb, c, &mb->msgs.v[i], tmp[n], dst[n], err);
		if (r == 0)
			n++;
	}
	if (r == 0 && n)
		r = md_uidlist_save(c->dst_dir, &c->l, err);
	for (size_t i = 0; i < n; i++) {
		if (r == 0 && rename(tmp[i], dst[i]) < 0)
			r = md_errno(err, "rename", tmp[i]);
		if (r < 0)
			unlink(tmp[i]);
	}
	free(tmp);
	free(dst);
	return r;
}

/* The copies keep their sources' zone and cache (index.c), at new
 * MODSEQs of the destination. */
static int
md_copy_index(struct ps_mbox *mb, struct md_copy *c, struct ps_error *err)
{
	sqlite3 *db;
	uint64_t modseq;
	uint32_t recent;
	int r = md_idx_open(mb->u, &db, err);

	if (r == 0)
		r = md_idx_folder(db, c->l.h.guid, &modseq, &recent, err);
	for (size_t i = 0; i < c->n && r == 0; i++)
		r = md_idx_put(db, c->l.h.guid, c->dst[i], ++modseq,
			       c->state[i], c->extra[i], c->from[i]->tz,
			       c->from[i]->cache,
			       c->from[i]->cache_len, err);
	if (r == 0)
		r = md_idx_folder_set(db, c->l.h.guid, modseq, recent, err);
	return md_idx_close(db, r, err);
}

/* A move's sources go once every copy is in place. */
static void
md_copy_unlink(struct ps_mbox *mb, const struct md_copy *c)
{
	char path[MD_PATH_MAX];

	for (size_t i = 0, j = 0; i < mb->msgs.n && j < c->n; i++) {
		if (mb->msgs.v[i].uid != c->src[j])
			continue;
		md_path(path, c->src_dir, mb->msgs.v[i].file);
		unlink(path);
		j++;
	}
}

/* A copy adds its sources' bytes to the user's (a move adds none). */
static int
md_copy_quota(struct ps_mbox *mb, const struct ps_uid_range *set,
	      size_t nset, struct ps_error *err)
{
	uint64_t used, msgs, add = 0;
	int r = md_usage(mb->u, &used, &msgs, err);

	for (size_t i = 0; i < mb->msgs.n; i++)
		if (md_in_set(mb->msgs.v[i].uid, set, nset))
			add += mb->msgs.v[i].size;
	if (r == 0 && add && used + add > mb->u->quota)
		r = md_err(err, PS_STORE_EQUOTA, "over quota: %llu octets",
			   (unsigned long long)mb->u->quota);
	return r;
}

static int
md_copy_locked(struct ps_mbox *mb, const struct ps_uid_range *set,
	       size_t nset, const char *dest, int move, struct md_copy *c,
	       char *src_name, char *dst_name, struct ps_error *err)
{
	char dir[MD_PATH_MAX];
	struct md_uidlist_hdr h;
	uint32_t first;
	int r = md_mbox_scan_locked(mb, 0, dir, &h, &first, err);

	if (r == 0)
		r = md_folder_find(mb->u, dest, dst_name, c->dst_dir, err);
	if (r == 0 && mb->u->quota && !move)
		r = md_copy_quota(mb, set, nset, err);
	if (r == 0)
		r = md_uidlist_load(c->dst_dir, &c->l, err);
	if (r == 0)
		r = md_kw_load(c->dst_dir, &c->kw, err);
	if (r < 0)
		return r;
	md_dir_mailbox(mb->u, dir, src_name);
	c->src_dir = dir;
	c->src = calloc(mb->msgs.n + 1, sizeof(*c->src));
	c->dst = calloc(mb->msgs.n + 1, sizeof(*c->dst));
	c->from = calloc(mb->msgs.n + 1, sizeof(*c->from));
	c->state = calloc(mb->msgs.n + 1, sizeof(*c->state));
	c->extra = calloc(mb->msgs.n + 1, sizeof(*c->extra));
	if (!c->src || !c->dst || !c->from || !c->state || !c->extra)
		return md_err(err, PS_ENOMEM, "out of memory");
	r = md_copy_all(mb, set, nset, c, err);
	if (r == 0 && c->n)
		r = md_copy_index(mb, c, err);
	if (r == 0 && move && c->n) {
		md_copy_unlink(mb, c);
		r = md_mbox_scan_locked(mb, 0, dir, &h, &first, err);
	}
	return r;
}

int
md_msg_copy(struct ps_mbox *mb, const struct ps_uid_range *set, size_t nset,
	    const char *dest, int move, ps_store_uidmap_fn map, void *arg,
	    uint32_t *dest_uidvalidity_r, struct ps_error *err)
{
	char src_name[MD_NAME_MAX + 1], dst_name[MD_NAME_MAX + 1];
	struct md_copy c = { 0 };
	struct md_lock l;
	int r;

	if (move && (mb->mode & PS_OPEN_READONLY))
		return md_err(err, PS_ESTATE, "the mailbox is read-only");
	r = md_lock(mb->u, &l, err);
	if (r < 0)
		return r;
	r = md_copy_locked(mb, set, nset, dest, move, &c, src_name, dst_name,
			   err);
	md_unlock(&l);
	if (r == 0 && dest_uidvalidity_r)
		*dest_uidvalidity_r = c.l.h.uidvalidity;
	if (r == 0 && c.n) {
		md_notify(mb->u, dst_name);
		if (move)
			md_notify(mb->u, src_name);
	}
	for (size_t i = 0; i < c.n && r == 0 && map; i++)
		r = map(c.src[i], c.dst[i], arg);
	md_uidlist_free(&c.l);
	md_kw_free(&c.kw);
	free(c.src);
	free(c.dst);
	free(c.from);
	free(c.state);
	for (size_t i = 0; c.extra && c.extra[i]; i++)
		free(c.extra[i]);
	free(c.extra);
	return r;
}
