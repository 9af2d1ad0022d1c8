/* APPEND and delivery (RFC 3501 6.3.11, MULTIAPPEND RFC 3502) the
 * classic safe Maildir way: each message is written to tmp/ under a
 * unique name (time.MusecPpidQcounter.host), fsynced, and dated with
 * utimensat (the file's mtime is the internal date, as Dovecot reads
 * it). Commit takes the user's lock, gives the messages the next UIDs in
 * the UID list (written atomically first), renames each file into new/
 * (cur/ when it has flags or keywords) and fsyncs the folders. A crash
 * before the list is written loses nothing committed; one after it
 * leaves listed messages whose files are still in tmp/, which a scan
 * treats as expunged: the commit had not returned. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "storage_maildir.h"

struct md_append_msg {
	char *tmp;      /* the file in tmp/, full path */
	char *keywords; /* NUL-separated, nkw of them */
	size_t nkw;
	unsigned flags;
	int64_t date;
	int tz;
	uint64_t size;
	uint64_t vsize;  /* with bare LFs as CRLF (crlf.c): ",W=" */
	int prev_cr;     /* the last octet so far is a CR */
	void *cache;     /* the protocols' structure, for the index */
	size_t cache_len;
	char state[48];  /* the ":2," info it is delivered with */
	char *extra;     /* keywords without a letter, for the index */
	uint32_t uid;    /* append_msg_uid's (SDK 1.6), else 0 until commit
			  * gives it the next */
};

struct ps_store_append {
	struct ps_store_user *u;
	char canon[MD_NAME_MAX + 1];
	char dir[MD_PATH_MAX];
	char guid[33]; /* the folder's, to know it at commit */
	struct md_append_msg *v;
	size_t n, cap;
	int fd;         /* the open message's, or -1 */
	int failed;     /* a call failed: commit refuses */
	uint64_t usage; /* the user's bytes when the append began */
	uint64_t added; /* bytes of this append's messages */
	uint32_t last_uid; /* the highest UID append_msg_uid gave */
};

int
md_append_begin(struct ps_store_user *u, const char *mailbox,
		struct ps_store_append **a_r, struct ps_error *err)
{
	struct ps_store_append *a = calloc(1, sizeof(*a));
	int r;

	*a_r = NULL;
	if (!a)
		return md_err(err, PS_ENOMEM, "out of memory");
	r = md_folder_find(u, mailbox, a->canon, a->dir, err);
	if (r == 0) {
		struct md_uidlist_hdr h;

		r = md_uidlist_read_hdr(a->dir, &h, err);
		memcpy(a->guid, h.guid, sizeof(a->guid));
	}
	if (r == 0 && u->quota) {
		uint64_t msgs;

		r = md_usage(u, &a->usage, &msgs, err);
	}
	if (r < 0) {
		free(a);
		return r;
	}
	a->u = u;
	a->fd = -1;
	*a_r = a;
	return 0;
}

/* A name no other delivery on any host uses: seconds, microseconds,
 * process, a counter of this process, the host (with '/' and ':', which
 * a file name cannot hold or Maildir reserves, as '_'). */
void
md_unique(char *out, size_t cap)
{
	static unsigned counter;
	struct timeval tv;
	char host[256];

	gettimeofday(&tv, NULL);
	snprintf(host, sizeof(host), "%s", ps_hostname());
	for (char *p = host; *p; p++)
		if (*p == '/' || *p == ':')
			*p = '_';
	snprintf(out, cap, "%lld.M%ldP%dQ%u.%s", (long long)tv.tv_sec,
		 (long)tv.tv_usec, (int)getpid(),
		 __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED), host);
}

static char *
md_kw_pack(const char *const *kw, size_t n)
{
	size_t len = 1;
	char *p, *o;

	for (size_t i = 0; i < n; i++)
		len += strlen(kw[i]) + 1;
	p = o = malloc(len);
	for (size_t i = 0; p && i < n; i++)
		o = stpcpy(o, kw[i]) + 1;
	return p;
}

static struct md_append_msg *
md_append_slot(struct ps_store_append *a)
{
	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 8;
		struct md_append_msg *v = realloc(a->v, cap * sizeof(*v));

		if (!v)
			return NULL;
		a->v = v;
		a->cap = cap;
	}
	memset(&a->v[a->n], 0, sizeof(a->v[a->n]));
	return &a->v[a->n++];
}

int
md_append_msg_begin(struct ps_store_append *a, unsigned flags,
		    const char *const *keywords, size_t nkeywords,
		    int64_t internal_date, int internal_tz,
		    struct ps_error *err)
{
	char name[512], path[MD_PATH_MAX];
	struct md_append_msg *m;
	int r = md_kw_check(keywords, nkeywords, err);

	if (r < 0)
		return r;
	if (nkeywords > MD_KEYWORD_MAX)
		return md_err(err, PS_EINVAL, "more than %d keywords",
			      MD_KEYWORD_MAX);
	if (a->fd >= 0)
		return md_err(err, PS_ESTATE, "a message is still open");
	md_unique(name, sizeof(name));
	if (snprintf(path, sizeof(path), "%s/tmp/%s", a->dir, name) >=
	    (int)sizeof(path))
		return md_err(err, PS_EINVAL, "path too long: %s", a->dir);
	m = md_append_slot(a);
	if (!m || !(m->tmp = strdup(path)) ||
	    !(m->keywords = md_kw_pack(keywords, nkeywords)))
		return md_err(err, PS_ENOMEM, "out of memory");
	m->nkw = nkeywords;
	m->flags = flags & PS_FLAGS_STORED;
	m->date = internal_date;
	m->tz = internal_tz;
	a->fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (a->fd < 0)
		return md_errno(err, "create", path);
	return 0;
}

static int md_append_data_do(struct ps_store_append *a, const void *data,
			     size_t len, struct ps_error *err);

/* A failed data call leaves a message short: the append may only be
 * aborted then. */
int
md_append_data(struct ps_store_append *a, const void *data, size_t len,
	       struct ps_error *err)
{
	int r = md_append_data_do(a, data, len, err);

	if (r < 0)
		a->failed = 1;
	return r;
}

static int
md_append_data_do(struct ps_store_append *a, const void *data, size_t len,
		  struct ps_error *err)
{
	const char *p = data;
	struct md_append_msg *m;

	if (a->fd < 0)
		return md_err(err, PS_ESTATE, "no message is open");
	m = &a->v[a->n - 1]; /* an open fd means a message */
	if (a->u->quota && a->usage + a->added + len > a->u->quota)
		return md_err(err, PS_STORE_EQUOTA, "over quota: %llu octets",
			      (unsigned long long)a->u->quota);
	while (len) {
		ssize_t n = write(a->fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return md_errno(err, "write", m->tmp);
		for (ssize_t i = 0; i < n; i++) {
			m->vsize += 1 + (p[i] == '\n' && !m->prev_cr);
			m->prev_cr = p[i] == '\r';
		}
		p += n;
		len -= (size_t)n;
		m->size += (uint64_t)n;
		a->added += (uint64_t)n;
	}
	return 0;
}

/* The message is on the disk and dated before commit may list it. */
int
md_append_msg_end(struct ps_store_append *a, const void *cache,
		  size_t cache_len, struct ps_error *err)
{
	struct md_append_msg *m;
	struct timespec ts[2];
	int r = 0;

	if (a->fd < 0)
		return md_err(err, PS_ESTATE, "no message is open");
	m = &a->v[a->n - 1];
	if (cache_len && (m->cache = malloc(cache_len))) {
		memcpy(m->cache, cache, cache_len);
		m->cache_len = cache_len;
	}
	ts[0].tv_sec = ts[1].tv_sec = (time_t)m->date;
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	if (futimens(a->fd, ts) < 0)
		r = md_errno(err, "futimens", m->tmp);
	if (r == 0 && md_config.fsync && fsync(a->fd) < 0)
		r = md_errno(err, "fsync", m->tmp);
	if (close(a->fd) < 0 && r == 0)
		r = md_errno(err, "close", m->tmp);
	a->fd = -1;
	if (r < 0)
		a->failed = 1;
	return r;
}

/* SDK 1.6: the open message gets uid instead of the next one. Commit
 * checks it against the UID list's next UID under the user's lock. */
int
md_append_msg_uid(struct ps_store_append *a, uint32_t uid,
		  struct ps_error *err)
{
	if (a->fd < 0)
		return md_err(err, PS_ESTATE, "no message is open");
	/* uidnext must pass it and is 32 bits in the UID list too. */
	if (uid == 0 || uid == UINT32_MAX || uid <= a->last_uid) {
		a->failed = 1;
		return md_err(err, PS_EINVAL, "UID %u is not above the"
			      " append's UID %u", uid, a->last_uid);
	}
	a->v[a->n - 1].uid = a->last_uid = uid;
	return 0;
}

void
md_append_abort(struct ps_store_append *a)
{
	if (!a)
		return;
	if (a->fd >= 0)
		close(a->fd);
	for (size_t i = 0; i < a->n; i++) {
		if (a->v[i].tmp && a->v[i].tmp[0])
			unlink(a->v[i].tmp);
		free(a->v[i].tmp);
		free(a->v[i].keywords);
		free(a->v[i].cache);
		free(a->v[i].extra);
	}
	free(a->v);
	free(a);
}

/* Where message m goes: new/BASE, or cur/BASE:2,INFO with flags or
 * keywords; BASE is the tmp/ name with Dovecot's ",S=size". */
static int
md_append_place(struct ps_store_append *a, struct md_append_msg *m,
		struct md_keywords *k, struct md_uidlist *l, char *dst,
		struct ps_error *err)
{
	const char *kw[MD_KEYWORD_MAX + 1], *p = m->keywords;
	char base[600], info[48];
	uint32_t mask = 0;
	int r = 0;

	for (size_t i = 0; i < m->nkw; i++, p += strlen(p) + 1)
		kw[i] = p;
	r = md_kw_mask(a->dir, k, kw, m->nkw, 1, &mask, &m->extra, err);
	if (r < 0)
		return r;
	snprintf(base, sizeof(base), "%s,S=%llu,W=%llu",
		 strrchr(m->tmp, '/') + 1, (unsigned long long)m->size,
		 (unsigned long long)m->vsize);
	md_info_build(m->flags, mask, info);
	memcpy(m->state, info, sizeof(m->state));
	if (!m->flags && !mask)
		info[0] = '\0';
	if (snprintf(dst, MD_PATH_MAX, "%s/%s/%s%s", a->dir,
		     info[0] ? "cur" : "new", base, info) >= MD_PATH_MAX)
		return md_err(err, PS_EINVAL, "path too long: %s", a->dir);
	if (m->uid && m->uid < l->h.nextuid)
		return md_err(err, PS_EINVAL, "UID %u is below the mailbox's"
			      " next UID %u", m->uid, l->h.nextuid);
	if (!m->uid)
		m->uid = l->h.nextuid;
	l->h.nextuid = m->uid + 1;
	r = md_uidlist_add(l, m->uid, base, strlen(base));
	return r < 0 ? md_err(err, r, "out of memory") : 0;
}

/* The index learns each message's zone and cache, at a new MODSEQ. The
 * files are in place already: a failure here loses no mail, the next
 * scan indexes them without the cache. */
static int
md_append_index(struct ps_store_append *a, const struct md_uidlist *l,
		struct ps_error *err)
{
	sqlite3 *db;
	uint64_t modseq;
	uint32_t recent;
	int r = md_idx_open(a->u, &db, err);

	if (r == 0)
		r = md_idx_folder(db, l->h.guid, &modseq, &recent, err);
	for (size_t i = 0; i < a->n && r == 0; i++)
		r = md_idx_put(db, l->h.guid, a->v[i].uid, ++modseq,
			       a->v[i].state, a->v[i].extra, a->v[i].tz,
			       a->v[i].cache,
			       a->v[i].cache_len, err);
	if (r == 0)
		r = md_idx_folder_set(db, l->h.guid, modseq, recent, err);
	return md_idx_close(db, r, err);
}

static int
md_append_locked(struct ps_store_append *a, uint32_t *uids_r,
		 uint32_t *uidvalidity_r, struct ps_error *err)
{
	struct md_keywords k;
	struct md_uidlist l;
	char (*dst)[MD_PATH_MAX] = calloc(a->n ? a->n : 1, sizeof(*dst));
	uint64_t used = 0, msgs;
	int r = dst ? md_uidlist_load(a->dir, &l, NULL)
		    : md_err(err, PS_ENOMEM, "out of memory");

	/* The folder may have been deleted (and made again) meanwhile. */
	if (r == 0 && strcmp(l.h.guid, a->guid) != 0) {
		md_uidlist_free(&l);
		r = PS_EIO;
	}
	if (r == PS_EIO)
		r = md_err(err, PS_STORE_ENOMBOX, "mailbox %s was deleted",
			   a->canon);

	/* Other sessions may have delivered since the append began. */
	if (r == 0 && a->u->quota) {
		r = md_usage(a->u, &used, &msgs, err);
		if (r == 0 && used + a->added > a->u->quota)
			r = md_err(err, PS_STORE_EQUOTA, "over quota: %llu "
				   "octets", (unsigned long long)a->u->quota);
		if (r < 0)
			md_uidlist_free(&l);
	}
	if (r < 0) {
		free(dst);
		return r;
	}
	r = md_kw_load(a->dir, &k, err);
	for (size_t i = 0; i < a->n && r == 0; i++) {
		r = md_append_place(a, &a->v[i], &k, &l, dst[i], err);
		if (uids_r)
			uids_r[i] = a->v[i].uid;
	}
	if (r == 0)
		r = md_uidlist_save(a->dir, &l, err);
	for (size_t i = 0; i < a->n && r == 0; i++) {
		if (rename(a->v[i].tmp, dst[i]) < 0)
			r = md_errno(err, "rename", a->v[i].tmp);
		else
			a->v[i].tmp[0] = '\0'; /* abort must not unlink it */
	}
	if (r == 0)
		r = md_append_index(a, &l, err);
	if (r == 0)
		*uidvalidity_r = l.h.uidvalidity;
	md_kw_free(&k);
	md_uidlist_free(&l);
	free(dst);
	return r;
}

/* Whether a message went to new/ (cur 0: no info) or cur/. */
static int
md_append_went(const struct ps_store_append *a, int cur)
{
	for (size_t i = 0; i < a->n; i++)
		if ((strlen(a->v[i].state) > 3) == cur)
			return 1;
	return 0;
}

int
md_append_commit(struct ps_store_append *a, uint32_t *uids_r,
		 uint32_t *uidvalidity_r, struct ps_error *err)
{
	char sub[MD_PATH_MAX];
	struct md_lock l;
	uint32_t v = 0;
	int r;

	if (a->fd >= 0)
		r = md_err(err, PS_ESTATE, "a message is open");
	else if (a->failed)
		r = md_err(err, PS_ESTATE, "an earlier call of this append "
			   "failed");
	else
		r = md_lock(a->u, &l, err);

	if (r == 0) {
		r = md_append_locked(a, uids_r, &v, err);
		md_unlock(&l);
	}
	/* Only the folders the messages went to have renames to sync. */
	for (size_t i = 0; i < 2 && r == 0; i++) {
		md_path(sub, a->dir, i ? "cur" : "new");
		if (md_append_went(a, i))
			r = md_fsync_dir(sub, err);
	}
	if (r == 0 && uidvalidity_r)
		*uidvalidity_r = v;
	if (r == 0)
		md_notify(a->u, a->canon);
	md_append_abort(a);
	return r;
}
