/* APPEND and MULTIAPPEND for storage_sqlite (RFC 3501 6.3.11, RFC 3502,
 * RFC 4315 APPENDUID). Bytes are spooled while they arrive, in memory up
 * to SS_CHUNK and then in an unlinked file, so a slow client holds no
 * lock; commit copies them into chunk rows in one BEGIN IMMEDIATE
 * transaction, which is atomic and, with synchronous=FULL, durable when
 * it returns; concurrent commits to one user share that transaction
 * (group.c). A crash leaves nothing. */
#define _GNU_SOURCE /* mkostemp */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "storage_sqlite.h"

struct ss_append_msg {
	unsigned flags;
	char *keywords; /* as stored, or NULL */
	int64_t date;
	int tz;
	uint64_t off, size; /* the body in the spool; its cache follows */
	size_t cache_len;
	uint32_t uid; /* append_msg_uid's (SDK 1.6), or 0: the next one */
};

struct ps_store_append {
	struct ps_store_user *u;
	struct ss_conn c;
	int64_t mbox;
	uint64_t usage; /* the user's octets when the append began */
	uint64_t added; /* octets of the messages so far */
	int fd;           /* the spool file, once buf was not enough */
	uint64_t spool_len;
	struct ss_append_msg *msgs;
	size_t n, cap;
	int open;   /* a message is between msg_begin and msg_end */
	uint32_t last_uid; /* the highest UID append_msg_uid gave */
	int failed; /* a call failed: nothing will be stored */
	unsigned char buf[SS_CHUNK]; /* the spool until fd, then a chunk */
};

/* Any failure dooms the whole transaction (RFC 3502 3: if one message
 * fails, none is appended). */
static int
ss_append_fail(struct ps_store_append *a, int r)
{
	if (r < 0)
		a->failed = 1;
	return r;
}

static int
ss_append_state(struct ps_store_append *a, int open, struct ps_error *err)
{
	if (a->failed)
		return ss_err(err, PS_ESTATE, "the append failed already");
	if (a->open != open)
		return ss_append_fail(a, ss_err(err, PS_ESTATE, open
			? "no message is begun" : "a message is not ended"));
	return 0;
}

static int
ss_spool_put(struct ps_store_append *a, const void *data, size_t len,
	     struct ps_error *err)
{
	const char *p = data;

	while (len) {
		ssize_t n = write(a->fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return ss_err(err, PS_EIO, "spool: %s",
				      strerror(errno));
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* The spool file, unlinked at once: whatever happens to this process,
 * the spool goes with its descriptor. It takes over what buf held. */
static int
ss_spool_open(struct ps_store_append *a, struct ps_error *err)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/.spool-XXXXXX", a->u->dir);
	a->fd = mkostemp(path, O_CLOEXEC);
	if (a->fd < 0)
		return ss_err(err, PS_EIO, "spool %s: %s", path,
			      strerror(errno));
	unlink(path);
	return ss_spool_put(a, a->buf, (size_t)a->spool_len, err);
}

/* The first SS_CHUNK octets stay in buf, so a message of the usual
 * size never touches the file system: creating and unlinking a spool
 * file cost three system calls and journal writes that the commit's
 * fsync then waited for. */
static int
ss_spool_write(struct ps_store_append *a, const void *data, size_t len,
	       struct ps_error *err)
{
	int r = 0;

	if (a->fd < 0 && len <= SS_CHUNK - a->spool_len) {
		memcpy(a->buf + a->spool_len, data, len);
		a->spool_len += len;
		return 0;
	}
	if (a->fd < 0)
		r = ss_spool_open(a, err);
	if (r == 0)
		r = ss_spool_put(a, data, len, err);
	if (r == 0)
		a->spool_len += len;
	return r;
}

/* len octets of the spool file at off into buf. */
static int
ss_spool_read(struct ps_store_append *a, uint64_t off, void *buf,
	      size_t len, struct ps_error *err)
{
	char *p = buf;

	while (len) {
		ssize_t n = pread(a->fd, p, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return ss_err(err, PS_EIO, "spool: %s",
				      n ? strerror(errno) : "short read");
		p += n;
		off += (uint64_t)n;
		len -= (size_t)n;
	}
	return 0;
}

/* len octets of the spool at off: where buf holds them, else in *copy
 * (malloc'd, for the caller to free) or, when copy is NULL and len fits,
 * read into buf. NULL on error. */
static const void *
ss_spool_at(struct ps_store_append *a, uint64_t off, size_t len,
	    void **copy, struct ps_error *err)
{
	void *to = a->buf;

	if (a->fd < 0)
		return a->buf + off;
	if (copy && !(to = *copy = malloc(len ? len : 1))) {
		ss_err(err, PS_ENOMEM, "out of memory");
		return NULL;
	}
	return ss_spool_read(a, off, to, len, err) == 0 ? to : NULL;
}

/* The target must exist and hold messages now; commit checks again. */
static int
ss_append_target(struct ps_store_append *a, const char *name,
		 struct ps_error *err)
{
	struct ss_mbox_row row;
	int r = ss_read_begin(&a->c, err);

	if (r < 0)
		return r;
	r = ss_mbox_get(&a->c, name, 0, 1, &row, err);
	if (r == 0) {
		a->mbox = row.id;
		r = ss_usage(&a->c, &a->usage, NULL, err);
	}
	ss_read_end(&a->c);
	return r;
}

int
ss_append_begin(struct ps_store_user *u, const char *mailbox,
		struct ps_store_append **a_r, struct ps_error *err)
{
	char canon[SS_NAME_MAX + 1];
	struct ps_store_append *a;
	int r = ss_name_canon(mailbox, canon, err);

	*a_r = NULL;
	if (r < 0)
		return r;
	a = calloc(1, sizeof(*a));
	if (!a)
		return ss_err(err, PS_ENOMEM, "out of memory");
	a->u = u;
	a->fd = -1;
	ss_conn_init(&a->c, u->file);
	r = ss_append_target(a, canon, err);
	if (r < 0) {
		ss_append_abort(a);
		return r;
	}
	*a_r = a;
	return 0;
}

int
ss_append_msg_begin(struct ps_store_append *a, unsigned flags,
		    const char *const *keywords, size_t nkeywords,
		    int64_t internal_date, int internal_tz,
		    struct ps_error *err)
{
	struct ss_append_msg *m;
	int r = ss_append_state(a, 0, err);

	if (r == 0)
		r = pst_append_check(flags, keywords, nkeywords, internal_tz,
				     err);
	if (r == 0 && a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 4;

		m = realloc(a->msgs, cap * sizeof(*m));
		if (!m)
			r = ss_err(err, PS_ENOMEM, "out of memory");
		else {
			a->msgs = m;
			a->cap = cap;
		}
	}
	if (r < 0)
		return ss_append_fail(a, r);
	m = &a->msgs[a->n++];
	*m = (struct ss_append_msg){
		.flags = flags & PS_FLAGS_STORED, .date = internal_date,
		.tz = internal_tz, .off = a->spool_len,
	};
	a->open = 1;
	return ss_append_fail(a, pst_append_keywords(keywords, nkeywords,
						     &m->keywords, err));
}

int
ss_append_data(struct ps_store_append *a, const void *data, size_t len,
	       struct ps_error *err)
{
	uint64_t quota = a->u->quota;
	int r = ss_append_state(a, 1, err);

	if (r < 0)
		return r;
	if (quota && a->usage + a->added + len > quota)
		return ss_append_fail(a, ss_err(err, PS_STORE_EQUOTA,
			"over quota: %llu octets", (unsigned long long)quota));
	r = ss_spool_write(a, data, len, err);
	a->msgs[a->n - 1].size += len;
	a->added += len;
	return ss_append_fail(a, r);
}

/* SDK 1.6: the open message gets uid instead of the next one. It must
 * be above the transaction's earlier given UIDs here; commit checks it
 * against uidnext and the messages before it under the write lock. */
int
ss_append_msg_uid(struct ps_store_append *a, uint32_t uid,
		  struct ps_error *err)
{
	int r = ss_append_state(a, 1, err);

	if (r < 0)
		return r;
	if (uid == 0 || uid <= a->last_uid)
		return ss_append_fail(a, ss_err(err, PS_EINVAL, "UID %u is not"
						" above the append's UID %u",
						uid, a->last_uid));
	a->msgs[a->n - 1].uid = uid;
	a->last_uid = uid;
	return 0;
}

int
ss_append_msg_end(struct ps_store_append *a, const void *cache,
		  size_t cache_len, struct ps_error *err)
{
	int r = ss_append_state(a, 1, err);

	if (r < 0)
		return r;
	if (cache_len > SS_CACHE_MAX)
		return ss_append_fail(a, ss_err(err, PS_EINVAL, "a cache holds"
						" at most %d bytes",
						SS_CACHE_MAX));
	r = cache ? ss_spool_write(a, cache, cache_len, err) : 0;
	a->msgs[a->n - 1].cache_len = cache ? cache_len : 0;
	a->open = 0;
	return ss_append_fail(a, r);
}

/* A body row holding the message's cache. */
static int
ss_append_cache(struct ps_store_append *a, struct ss_conn *c,
		const struct ss_append_msg *m, int64_t *body_r,
		struct ps_error *err)
{
	const void *cache = NULL;
	void *copy = NULL;
	int r = 0;

	if (m->cache_len && !(cache = ss_spool_at(a, m->off + m->size,
						  m->cache_len, &copy, err)))
		r = PS_EIO;
	if (r == 0)
		r = ss_exec(c, err, "INSERT INTO body (cache) VALUES (?)",
			    "b", cache, m->cache_len);
	free(copy);
	*body_r = sqlite3_last_insert_rowid(c->db);
	return r < 0 ? r : 0;
}

/* The message's bytes, a chunk at a time. */
static int
ss_append_chunks(struct ps_store_append *a, struct ss_conn *c,
		 const struct ss_append_msg *m, int64_t body,
		 struct ps_error *err)
{
	sqlite3_stmt *st = ss_prep(c, err, "INSERT INTO chunk (body_id,"
				   " off, data) VALUES (?, ?, ?)", "");
	int r = st ? 0 : PS_EIO;

	for (uint64_t off = 0; r == 0 && off < m->size; off += SS_CHUNK) {
		size_t n = m->size - off < SS_CHUNK ? (size_t)(m->size - off)
						   : SS_CHUNK;
		const void *p = ss_spool_at(a, m->off + off, n, NULL, err);

		r = p ? 0 : PS_EIO;
		if (r == 0)
			r = ss_rebind(c, st, err, "iib", body,
				      (int64_t)off, p, n);
		if (r == 0)
			r = ss_step(c, st, err);
	}
	ss_done(c, st);
	return r;
}

static int
ss_append_one(struct ps_store_append *a, struct ss_conn *c,
	      const struct ss_append_msg *m, uint32_t uid, uint64_t modseq,
	      struct ps_error *err)
{
	int64_t body;
	int r = ss_append_cache(a, c, m, &body, err);

	if (r == 0)
		r = ss_append_chunks(a, c, m, body, err);
	if (r == 0)
		r = ss_exec(c, err, "INSERT INTO message (mailbox_id, uid,"
			    " body_id, size, flags, keywords, internal_date,"
			    " internal_tz, modseq) VALUES"
			    " (?, ?, ?, ?, ?, ?, ?, ?, ?)", "iuiiusiii",
			    a->mbox, uid, body, (int64_t)m->size, m->flags,
			    m->keywords, m->date, (int64_t)m->tz,
			    (int64_t)modseq);
	return r < 0 ? r : 0;
}

/* What a commit reports back. */
struct ss_append_done {
	struct ps_store_append *a;
	struct ss_mbox_row row;
	uint32_t first;
};

/* The messages' UIDs when append_msg_uid gave some (SDK 1.6, poshtactl
 * migrate): each given one, the others the next after the one before;
 * all at least the mailbox's uidnext, checked again under the write
 * lock, which then moves past the last (RFC 3501 2.3.1.1: ascending). */
static int
ss_append_store_uids(struct ps_store_append *a, struct ss_conn *c,
		     struct ss_append_done *d, uint64_t modseq,
		     struct ps_error *err)
{
	uint64_t next = d->row.uidnext;
	int r = 0;

	for (size_t i = 0; r == 0 && i < a->n; i++) {
		uint64_t uid = a->msgs[i].uid ? a->msgs[i].uid : next;

		if (uid < next || uid > UINT32_MAX)
			return ss_err(err, PS_EINVAL, "UID %llu is below the"
				      " mailbox's next UID %llu",
				      (unsigned long long)uid,
				      (unsigned long long)next);
		a->msgs[i].uid = (uint32_t)uid;
		r = ss_append_one(a, c, &a->msgs[i], (uint32_t)uid, modseq,
				  err);
		next = uid + 1;
	}
	if (r == 0)
		r = ss_exec(c, err, "UPDATE mailbox SET uidnext = ? WHERE"
			    " id = ?", "ii", (int64_t)next, a->mbox);
	d->first = 0;
	return r < 0 ? r : 0;
}

/* The append's part of a group commit, on the leader's connection c. The
 * quota is checked again under the write lock: other sessions may have
 * added mail since the append began. */
static int
ss_append_store(void *arg, struct ss_conn *c, struct ps_error *err)
{
	struct ss_append_done *d = arg;
	struct ps_store_append *a = d->a;
	uint64_t used, modseq;
	int r = ss_mbox_get(c, NULL, a->mbox, 1, &d->row, err);

	if (r == 0)
		r = ss_usage(c, &used, NULL, err);
	if (r == 0 && a->u->quota && used + a->added > a->u->quota)
		r = ss_err(err, PS_STORE_EQUOTA, "over quota: %llu octets",
			   (unsigned long long)a->u->quota);
	if (r == 0)
		r = ss_mbox_bump(c, a->mbox, &modseq, err);
	if (r == 0 && a->last_uid)
		return ss_append_store_uids(a, c, d, modseq, err);
	if (r == 0)
		r = ss_mbox_take_uids(c, a->mbox, (uint32_t)a->n, &d->first,
				      err);
	for (size_t i = 0; r == 0 && i < a->n; i++)
		r = ss_append_one(a, c, &a->msgs[i], d->first + (uint32_t)i,
				  modseq, err);
	return r;
}

int
ss_append_commit(struct ps_store_append *a, uint32_t *uids_r,
		 uint32_t *uidvalidity_r, struct ps_error *err)
{
	struct ss_append_done d = { .a = a };
	int r = ss_append_state(a, 0, err);

	if (r == 0 && !a->n)
		r = ss_err(err, PS_EINVAL, "no message to append");
	if (r == 0)
		r = ss_group_commit(&a->c, ss_append_store, &d, err);
	if (r == 0) {
		for (size_t i = 0; uids_r && i < a->n; i++)
			uids_r[i] = a->last_uid ? a->msgs[i].uid
						: d.first + (uint32_t)i;
		if (uidvalidity_r)
			*uidvalidity_r = d.row.uidvalidity;
		ss_notify(a->u, d.row.name);
	}
	ss_append_abort(a);
	return r;
}

void
ss_append_abort(struct ps_store_append *a)
{
	if (!a)
		return;
	ss_conn_close(&a->c);
	if (a->fd >= 0)
		close(a->fd);
	for (size_t i = 0; i < a->n; i++)
		free(a->msgs[i].keywords);
	free(a->msgs);
	free(a);
}
