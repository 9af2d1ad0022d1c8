/* APPEND and MULTIAPPEND for storage_pgsql (RFC 3501 6.3.11, RFC 3502,
 * RFC 4315 APPENDUID). Bytes are spooled while they arrive, in memory up
 * to SP_CHUNK and then in an unlinked file, so a slow client holds no
 * connection. The commit is one transaction, shared with concurrent
 * commits to the same user in this worker (group.c): the bodies go in
 * first (as chunk rows, or files under blob_dir), then, under the user's
 * row lock, the quota check, the UIDs and MODSEQ and the message rows;
 * COMMIT with synchronous_commit on returns once the WAL is on the disk.
 * A crash before it leaves nothing. */
#define _GNU_SOURCE /* mkostemp */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "storage_pgsql.h"

struct sp_append_msg {
	unsigned flags;
	char *keywords; /* as stored, or NULL */
	int64_t date;
	int tz;
	uint32_t uid;       /* append_msg_uid's, or 0 */
	uint64_t off, size; /* the body in the spool; its cache follows */
	size_t cache_len;
	int64_t body;       /* its store_body row, at commit */
	char blob[40];      /* its file under blob_dir, once written */
};

struct ps_store_append {
	struct ps_store_user *u;
	struct sp_conn c;
	int64_t mbox;
	uint32_t uidnext; /* the mailbox's when the append began */
	uint64_t usage;   /* the user's octets when the append began */
	uint64_t added;   /* octets of the messages so far */
	int fd;           /* the spool file, once buf was not enough */
	uint64_t spool_len;
	struct sp_append_msg *msgs;
	size_t n, cap;
	int open;   /* a message is between msg_begin and msg_end */
	int failed; /* a call failed: nothing will be stored */
	unsigned char buf[SP_CHUNK]; /* the spool until fd, then a chunk */
};

/* Any failure dooms the whole transaction (RFC 3502 3: if one message
 * fails, none is appended). */
static int
sp_append_fail(struct ps_store_append *a, int r)
{
	if (r < 0)
		a->failed = 1;
	return r;
}

static int
sp_append_state(struct ps_store_append *a, int open, struct ps_error *err)
{
	if (a->failed)
		return sp_err(err, PS_ESTATE, "the append failed already");
	if (a->open != open)
		return sp_append_fail(a, sp_err(err, PS_ESTATE, open
			? "no message is begun" : "a message is not ended"));
	return 0;
}

static int
sp_spool_put(struct ps_store_append *a, const void *data, size_t len,
	     struct ps_error *err)
{
	const char *p = data;

	while (len) {
		ssize_t n = write(a->fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return sp_err(err, PS_EIO, "spool: %s",
				      strerror(errno));
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* The spool file, unlinked at once: whatever happens to this process,
 * the spool goes with its descriptor. It takes over what buf held. */
static int
sp_spool_open(struct ps_store_append *a, struct ps_error *err)
{
	const char *tmp = getenv("TMPDIR");
	char path[4096];

	if (sp_config.blob_dir)
		snprintf(path, sizeof(path), "%s/tmp/.spool-XXXXXX",
			 sp_config.blob_dir);
	else
		snprintf(path, sizeof(path), "%s/poshta-spool-XXXXXX",
			 tmp && *tmp ? tmp : "/tmp");
	a->fd = mkostemp(path, O_CLOEXEC);
	if (a->fd < 0)
		return sp_err(err, PS_EIO, "spool %s: %s", path,
			      strerror(errno));
	unlink(path);
	return sp_spool_put(a, a->buf, (size_t)a->spool_len, err);
}

static int
sp_spool_write(struct ps_store_append *a, const void *data, size_t len,
	       struct ps_error *err)
{
	int r = 0;

	if (a->fd < 0 && len <= SP_CHUNK - a->spool_len) {
		memcpy(a->buf + a->spool_len, data, len);
		a->spool_len += len;
		return 0;
	}
	if (a->fd < 0)
		r = sp_spool_open(a, err);
	if (r == 0)
		r = sp_spool_put(a, data, len, err);
	if (r == 0)
		a->spool_len += len;
	return r;
}

/* len octets of the spool at off: in buf where it holds them, else read
 * into to (or malloc'd into *copy when to is NULL). NULL on error. */
static const void *
sp_spool_at(struct ps_store_append *a, uint64_t off, size_t len, void *to,
	    void **copy, struct ps_error *err)
{
	char *p;

	if (a->fd < 0)
		return a->buf + off;
	if (!to && !(to = *copy = malloc(len ? len : 1))) {
		sp_err(err, PS_ENOMEM, "out of memory");
		return NULL;
	}
	for (p = to; len;) {
		ssize_t n = pread(a->fd, p, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			sp_err(err, PS_EIO, "spool: %s",
			       n ? strerror(errno) : "short read");
			return NULL;
		}
		p += n;
		off += (uint64_t)n;
		len -= (size_t)n;
	}
	return to;
}

/* The target must exist and hold messages now; commit checks again. */
static int
sp_append_target(struct ps_store_append *a, const char *name,
		 struct ps_error *err)
{
	struct sp_mbox_row row;
	int r = sp_read_begin(&a->c, err);

	if (r < 0)
		return r;
	r = sp_mbox_get(&a->c, a->u->id, name, 0, 1, &row, err);
	if (r == 0) {
		a->mbox = row.id;
		a->uidnext = row.uidnext;
		/* Usage matters only against a quota. */
		if (a->u->quota)
			r = sp_usage(&a->c, a->u->id, &a->usage, NULL, err);
	}
	sp_read_end(&a->c);
	return r;
}

int
sp_append_begin(struct ps_store_user *u, const char *mailbox,
		struct ps_store_append **a_r, struct ps_error *err)
{
	char canon[SP_NAME_MAX + 1];
	struct ps_store_append *a;
	int r = sp_name_canon(mailbox, canon, err);

	*a_r = NULL;
	if (r < 0)
		return r;
	a = calloc(1, sizeof(*a));
	if (!a)
		return sp_err(err, PS_ENOMEM, "out of memory");
	a->u = u;
	a->fd = -1;
	sp_conn_init(&a->c);
	r = sp_append_target(a, canon, err);
	if (r < 0) {
		sp_append_abort(a);
		return r;
	}
	*a_r = a;
	return 0;
}

int
sp_append_msg_begin(struct ps_store_append *a, unsigned flags,
		    const char *const *keywords, size_t nkeywords,
		    int64_t internal_date, int internal_tz,
		    struct ps_error *err)
{
	struct sp_append_msg *m;
	int r = sp_append_state(a, 0, err);

	if (r == 0)
		r = pst_append_check(flags, keywords, nkeywords, internal_tz,
				     err);
	if (r == 0 && a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 4;

		m = realloc(a->msgs, cap * sizeof(*m));
		if (!m)
			r = sp_err(err, PS_ENOMEM, "out of memory");
		else {
			a->msgs = m;
			a->cap = cap;
		}
	}
	if (r < 0)
		return sp_append_fail(a, r);
	m = &a->msgs[a->n++];
	*m = (struct sp_append_msg){
		.flags = flags & PS_FLAGS_STORED, .date = internal_date,
		.tz = internal_tz, .off = a->spool_len,
	};
	a->open = 1;
	return sp_append_fail(a, pst_append_keywords(keywords, nkeywords,
						     &m->keywords, err));
}

/* poshtactl migrate (since 1.6): the message keeps the UID it had
 * elsewhere. At least the mailbox's uidnext, above the earlier ones of
 * this append; the commit checks again against uidnext then. */
int
sp_append_msg_uid(struct ps_store_append *a, uint32_t uid,
		  struct ps_error *err)
{
	uint32_t above = a->uidnext;
	int r = sp_append_state(a, 1, err);

	if (r < 0)
		return r;
	for (size_t i = 0; i + 1 < a->n; i++)
		if (a->msgs[i].uid >= above)
			above = a->msgs[i].uid + 1;
	if (!uid || uid < above)
		return sp_err(err, PS_EINVAL, "UID %u is below %u", uid, above);
	a->msgs[a->n - 1].uid = uid;
	return 0;
}

int
sp_append_data(struct ps_store_append *a, const void *data, size_t len,
	       struct ps_error *err)
{
	uint64_t quota = a->u->quota;
	int r = sp_append_state(a, 1, err);

	if (r < 0)
		return r;
	if (quota && a->usage + a->added + len > quota)
		return sp_append_fail(a, sp_err(err, PS_STORE_EQUOTA,
			"over quota: %llu octets", (unsigned long long)quota));
	r = sp_spool_write(a, data, len, err);
	a->msgs[a->n - 1].size += len;
	a->added += len;
	return sp_append_fail(a, r);
}

int
sp_append_msg_end(struct ps_store_append *a, const void *cache,
		  size_t cache_len, struct ps_error *err)
{
	int r = sp_append_state(a, 1, err);

	if (r < 0)
		return r;
	if (cache_len > SP_CACHE_MAX)
		return sp_append_fail(a, sp_err(err, PS_EINVAL, "a cache holds"
						" at most %d bytes",
						SP_CACHE_MAX));
	r = cache ? sp_spool_write(a, cache, cache_len, err) : 0;
	a->msgs[a->n - 1].cache_len = cache ? cache_len : 0;
	a->open = 0;
	return sp_append_fail(a, r);
}

/* The message's bytes, a chunk at a time. */
static int
sp_append_chunks(struct ps_store_append *a, struct sp_conn *c,
		 const struct sp_append_msg *m, struct ps_error *err)
{
	int r = 0;

	for (uint64_t off = 0; r == 0 && off < m->size; off += SP_CHUNK) {
		size_t n = m->size - off < SP_CHUNK ? (size_t)(m->size - off)
						   : SP_CHUNK;
		const void *p = sp_spool_at(a, m->off + off, n, a->buf, NULL,
					    err);

		r = p ? sp_exec(c, err, "INSERT INTO store_body_chunks"
				" (body_id, off, data) VALUES ($1, $2, $3)",
				"iib", m->body, (int64_t)off, p, n)
		      : PS_EIO;
		if (r > 0)
			r = 0;
	}
	return r < 0 ? r : 0;
}

/* The body row (with the cache) and the bytes: chunk rows, or a file. */
static int
sp_append_body(struct ps_store_append *a, struct sp_conn *c,
	       struct sp_append_msg *m, struct ps_error *err)
{
	const void *cache = NULL;
	void *copy = NULL;
	int r = 0;

	if (m->cache_len && !(cache = sp_spool_at(a, m->off + m->size,
						  m->cache_len, NULL, &copy,
						  err)))
		r = PS_EIO;
	if (r == 0 && sp_config.blob_dir)
		r = sp_blob_write(a->fd, a->buf, m->off, m->size, m->blob,
				  sizeof(m->blob), err);
	if (r == 0)
		r = sp_query_int(c, err, &m->body, "INSERT INTO store_body"
				 " (user_id, cache, blob) VALUES ($1, $2, $3)"
				 " RETURNING id", "ibs", a->u->id, cache,
				 m->cache_len, sp_config.blob_dir ? m->blob
								  : NULL);
	free(copy);
	if (r == 1 && !sp_config.blob_dir)
		r = sp_append_chunks(a, c, m, err);
	return r < 0 ? r : 0;
}

/* UIDs for the messages from uidnext on, or the ones append_msg_uid
 * asked for; *next_r is the mailbox's uidnext afterwards. */
static int
sp_append_uids(struct ps_store_append *a, uint32_t uidnext, uint32_t *uids,
	       uint64_t *next_r, struct ps_error *err)
{
	uint64_t next = uidnext;

	for (size_t i = 0; i < a->n; i++) {
		if (a->msgs[i].uid && a->msgs[i].uid < next)
			return sp_err(err, PS_EINVAL, "UID %u is below %llu",
				      a->msgs[i].uid,
				      (unsigned long long)next);
		uids[i] = a->msgs[i].uid ? a->msgs[i].uid : (uint32_t)next;
		next = (uint64_t)uids[i] + 1;
		if (next > UINT32_MAX)
			return sp_err(err, PS_EFAIL, "the mailbox has no UIDs "
				      "left");
	}
	*next_r = next;
	return 0;
}

/* Under the user's lock: the quota against what is there now, then the
 * rows. */
static int
sp_append_rows(struct ps_store_append *a, struct sp_conn *c,
	       struct sp_mbox_row *row, uint32_t *uids, struct ps_error *err)
{
	uint64_t used = 0, modseq, next = 0;
	int r = sp_lock_user(c, a->u, err);

	/* Read after the lock, in a statement of its own: a SELECT that
	 * joined the mailbox and locked the user's row would, having waited
	 * for the lock, see the mailbox as it was before the wait (READ
	 * COMMITTED rechecks only the locked row) and hand out a UID twice. */
	if (r == 0)
		r = sp_mbox_get(c, a->u->id, NULL, a->mbox, 1, row, err);
	if (r == 0 && a->u->quota)
		r = sp_usage(c, a->u->id, &used, NULL, err);
	if (r == 0 && a->u->quota && used + a->added > a->u->quota)
		r = sp_err(err, PS_STORE_EQUOTA, "over quota: %llu octets",
			   (unsigned long long)a->u->quota);
	if (r == 0)
		r = sp_append_uids(a, row->uidnext, uids, &next, err);
	/* One new MODSEQ (RFC 7162 3) and the UIDs, in one statement. */
	if (r == 0)
		r = sp_query_int(c, err, (int64_t *)&modseq, "UPDATE"
				 " store_mailbox SET highestmodseq ="
				 " highestmodseq + 1, uidnext = $2"
				 " WHERE id = $1 RETURNING highestmodseq", "ii",
				 a->mbox,
				 (int64_t)next);
	if (r == 1)
		r = 0;
	else if (r == 0)
		r = sp_err(err, PS_STORE_ENOMBOX, "the mailbox was deleted");
	for (size_t i = 0; r >= 0 && i < a->n; i++) {
		const struct sp_append_msg *m = &a->msgs[i];

		r = sp_exec(c, err, "INSERT INTO store_message"
			    " (mailbox_id, uid, body_id, size, flags, keywords,"
			    " internal_date, internal_tz, modseq) VALUES"
			    " ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
			    "iuiiusiii", a->mbox, uids[i], m->body,
			    (int64_t)m->size, m->flags, m->keywords, m->date,
			    (int64_t)m->tz, (int64_t)modseq);
	}
	if (r >= 0)
		r = sp_announce(c, row->name, err);
	return r < 0 ? r : 0;
}

/* What a commit hands to the group and gets back. */
struct sp_append_done {
	struct ps_store_append *a;
	struct sp_mbox_row row;
	uint32_t *uids;
};

/* The append's part of a group commit, on the leader's connection c:
 * the bodies, then (the user's lock taken by the first of the group)
 * the rows. */
static int
sp_append_store(void *arg, struct sp_conn *c, struct ps_error *err)
{
	struct sp_append_done *d = arg;
	int r = 0;

	for (size_t i = 0; r == 0 && i < d->a->n; i++)
		r = sp_append_body(d->a, c, &d->a->msgs[i], err);
	return r < 0 ? r : sp_append_rows(d->a, c, &d->row, d->uids, err);
}

int
sp_append_commit(struct ps_store_append *a, uint32_t *uids_r,
		 uint32_t *uidvalidity_r, struct ps_error *err)
{
	struct sp_append_done d = { .a = a };
	int r = sp_append_state(a, 0, err);

	if (r == 0 && !a->n)
		r = sp_err(err, PS_EINVAL, "no message to append");
	if (r == 0 && !(d.uids = calloc(a->n, sizeof(*d.uids))))
		r = sp_err(err, PS_ENOMEM, "out of memory");
	if (r == 0) {
		r = sp_group_commit(&a->c, a->u, sp_append_store, &d, err);
		/* Files of a transaction that did not commit are no one's. */
		for (size_t i = 0; r < 0 && i < a->n; i++)
			if (a->msgs[i].blob[0])
				sp_blob_unlink(a->msgs[i].blob);
	}
	if (r == 0) {
		if (uids_r)
			memcpy(uids_r, d.uids, a->n * sizeof(*d.uids));
		if (uidvalidity_r)
			*uidvalidity_r = d.row.uidvalidity;
	}
	free(d.uids);
	sp_append_abort(a);
	return r;
}

void
sp_append_abort(struct ps_store_append *a)
{
	if (!a)
		return;
	sp_conn_close(&a->c);
	if (a->fd >= 0)
		close(a->fd);
	for (size_t i = 0; i < a->n; i++)
		free(a->msgs[i].keywords);
	free(a->msgs);
	free(a);
}
