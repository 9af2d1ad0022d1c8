/* Enqueue for queue_sqlite: a message's envelope (RFC 5321 MAIL, RFC 3461
 * RET and ENVID, RFC 6531 SMTPUTF8, RFC 6152 8BITMIME, RFC 8689
 * REQUIRETLS), its recipients (RCPT with RFC 3461 NOTIFY and ORCPT) and
 * its body. The body waits in memory, and past one chunk in an unlinked
 * spool file, while it arrives, so a slow sender holds no lock; commit
 * stores everything in one transaction, shared with other commits of the
 * process (group.c), durable when it returns (RFC 5321 6.1). */
#define _GNU_SOURCE /* O_TMPFILE */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "queue_sqlite.h"

struct qs_rcpt_copy {
	char *address, *user, *route, *orcpt;
	unsigned kind, notify;
};

struct ps_queue_enq {
	char id[PS_QUEUE_ID_LEN + 1];
	char *sender, *envid, *user, *client;
	int ret;
	unsigned flags;
	int64_t arrival;
	struct qs_rcpt_copy *rcpts;
	size_t n;
	int fd;         /* the spool once the body passed one chunk */
	uint64_t len;   /* octets so far */
	int failed;     /* a call failed: nothing will be stored */
	unsigned char buf[QS_CHUNK]; /* the body's start, then the copy
				      * buffer of commit */
};

/* s is a text of at most max octets without control characters (they
 * would end up in header fields of a DSN); NULL passes when null_ok. */
static int
qs_check_text(const char *what, const char *s, size_t max, int null_ok,
	      struct ps_error *err)
{
	size_t len;

	if (!s)
		return null_ok ? 0 : qs_err(err, PS_EINVAL, "no %s", what);
	len = strlen(s);
	if (len > max)
		return qs_err(err, PS_EINVAL, "%s longer than %zu octets",
			      what, max);
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return qs_err(err, PS_EINVAL, "control character in "
				      "%s", what);
	return 0;
}

static int
qs_check_envelope(const struct ps_queue_envelope *env, struct ps_error *err)
{
	int r;

	if (!env || env->size < sizeof(*env))
		return qs_err(err, PS_EINVAL, "no envelope, or an older one "
			      "than this backend knows");
	if (env->ret < PS_QUEUE_RET_NONE || env->ret > PS_QUEUE_RET_HDRS)
		return qs_err(err, PS_EINVAL, "RET %d", env->ret);
	if (env->flags & ~PS_QUEUE_ENV_FLAGS)
		return qs_err(err, PS_EINVAL, "unknown flags 0x%x", env->flags);
	if ((r = qs_check_text("sender", env->sender, PS_QUEUE_ADDR_MAX, 0,
			       err)) < 0 ||
	    (r = qs_check_text("ENVID", env->envid, PS_QUEUE_ENVID_MAX, 1,
			       err)) < 0 ||
	    (r = qs_check_text("user", env->user, PS_QUEUE_ADDR_MAX, 1,
			       err)) < 0)
		return r;
	return qs_check_text("client", env->client, PS_QUEUE_ADDR_MAX, 1,
			     err);
}

/* The route of a remote address: its domain in lower case (RFC 5321
 * 2.4: domains compare without case), which runners batch by. */
static char *
qs_domain(const char *domain)
{
	char *d = strdup(domain);

	for (char *p = d; p && *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return d;
}

static int
qs_copy_rcpt(const struct ps_queue_rcpt_in *in, size_t i,
	     struct qs_rcpt_copy *c, struct ps_error *err)
{
	unsigned notify = in->notify;
	int r;

	if (in->size < sizeof(*in))
		return qs_err(err, PS_EINVAL, "recipient %zu: older struct "
			      "than this backend knows", i);
	if ((r = qs_check_text("address", in->address, PS_QUEUE_ADDR_MAX, 0,
			       err)) < 0 ||
	    (r = qs_check_text("user", in->user, PS_QUEUE_ADDR_MAX, 1,
			       err)) < 0 ||
	    (r = qs_check_text("ORCPT", in->orcpt, PS_QUEUE_ORCPT_MAX, 1,
			       err)) < 0)
		return r;
	if (!in->address[0])
		return qs_err(err, PS_EINVAL, "recipient %zu: empty address",
			      i);
	/* RFC 3461 4.1: NEVER stands alone. */
	if (notify > 0xf || ((notify & PS_QUEUE_NOTIFY_NEVER) &&
			     notify != PS_QUEUE_NOTIFY_NEVER))
		return qs_err(err, PS_EINVAL, "recipient %zu: NOTIFY 0x%x", i,
			      notify);
	c->kind = in->kind;
	c->notify = notify;
	c->address = strdup(in->address);
	c->orcpt = strdup(in->orcpt ? in->orcpt : "");
	if (in->kind == PS_QUEUE_LOCAL) {
		if (!in->user || !in->user[0])
			return qs_err(err, PS_EINVAL, "recipient %zu: local "
				      "without a user", i);
		c->user = strdup(in->user);
		c->route = strdup(in->user);
	} else if (in->kind == PS_QUEUE_REMOTE) {
		const char *at = strrchr(in->address, '@');

		if (in->user)
			return qs_err(err, PS_EINVAL, "recipient %zu: remote "
				      "with a user", i);
		if (!at || !at[1])
			return qs_err(err, PS_EINVAL, "recipient %zu: remote "
				      "address without a domain", i);
		c->route = qs_domain(at + 1);
	} else {
		return qs_err(err, PS_EINVAL, "recipient %zu: kind %u", i,
			      in->kind);
	}
	if (!c->address || !c->orcpt || !c->route ||
	    (in->kind == PS_QUEUE_LOCAL && !c->user))
		return qs_err(err, PS_ENOMEM, "out of memory");
	return 0;
}

static char *
qs_dup_or_null(const char *s, int *oom)
{
	char *d = s ? strdup(s) : NULL;

	if (s && !d)
		*oom = 1;
	return d;
}

int
qs_enq_begin(const struct ps_queue_envelope *env,
	     const struct ps_queue_rcpt_in *rcpts, size_t n,
	     struct ps_queue_enq **e_r, char id_r[PS_QUEUE_ID_LEN + 1],
	     struct ps_error *err)
{
	struct ps_queue_enq *e;
	int oom = 0, r = qs_check_envelope(env, err);

	*e_r = NULL;
	if (r < 0)
		return r;
	if (!rcpts || n == 0 || n > PS_QUEUE_RCPTS_MAX)
		return qs_err(err, PS_EINVAL, "%zu recipients (1..%d)", n,
			      PS_QUEUE_RCPTS_MAX);
	if (!qs_config.file)
		return qs_err(err, PS_ESTATE, "the queue is not started");
	e = calloc(1, sizeof(*e));
	if (!e || !(e->rcpts = calloc(n, sizeof(*e->rcpts)))) {
		free(e);
		return qs_err(err, PS_ENOMEM, "out of memory");
	}
	e->fd = -1;
	e->ret = env->ret;
	e->flags = env->flags;
	e->arrival = env->arrival;
	e->sender = qs_dup_or_null(env->sender, &oom);
	e->envid = qs_dup_or_null(env->envid ? env->envid : "", &oom);
	e->user = qs_dup_or_null(env->user, &oom);
	e->client = qs_dup_or_null(env->client, &oom);
	r = oom ? qs_err(err, PS_ENOMEM, "out of memory") : 0;
	/* The caller's struct may be newer and bigger: step by its size. */
	e->n = n;
	for (size_t i = 0; r == 0 && i < n; i++)
		r = qs_copy_rcpt((const void *)((const char *)rcpts +
						i * rcpts->size),
				 i, &e->rcpts[i], err);
	if (r < 0) {
		qs_enq_abort(e);
		return r;
	}
	snprintf(e->id, sizeof(e->id), "%016llx",
		 (unsigned long long)qs_random());
	memcpy(id_r, e->id, sizeof(e->id));
	*e_r = e;
	return 0;
}

/* The spool: an unlinked file in the queue's folder, so whatever happens
 * to this process the bytes go with its descriptor. */
static int
qs_spool_open(struct ps_queue_enq *e, struct ps_error *err)
{
	char path[4096];

	e->fd = open(qs_config.path, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (e->fd >= 0)
		return 0;
	/* Filesystems without O_TMPFILE: a new name, unlinked at once. */
	for (int tries = 0; e->fd < 0 && tries < 8; tries++) {
		snprintf(path, sizeof(path), "%s/.spool-%016llx",
			 qs_config.path, (unsigned long long)qs_random());
		e->fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC |
				   O_NOFOLLOW, 0600);
		if (e->fd < 0 && errno != EEXIST)
			break;
	}
	if (e->fd < 0)
		return qs_err(err, PS_EIO, "spool in %s: %s", qs_config.path,
			      strerror(errno));
	unlink(path);
	return 0;
}

static int
qs_spool_write(struct ps_queue_enq *e, const void *data, size_t len,
	       struct ps_error *err)
{
	const char *p = data;

	while (len) {
		ssize_t n = write(e->fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return qs_err(err, PS_EIO, "spool: %s",
				      strerror(errno));
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
qs_enq_data(struct ps_queue_enq *e, const void *data, size_t len,
	    struct ps_error *err)
{
	int r = 0;

	if (e->failed)
		return qs_err(err, PS_ESTATE, "the enqueue failed already");
	if (!len)
		return 0;
	if (e->fd < 0 && e->len + len <= QS_CHUNK) {
		memcpy(e->buf + e->len, data, len);
		e->len += len;
		return 0;
	}
	if (e->fd < 0) {
		r = qs_spool_open(e, err);
		if (r == 0)
			r = qs_spool_write(e, e->buf, (size_t)e->len, err);
	}
	if (r == 0)
		r = qs_spool_write(e, data, len, err);
	if (r < 0)
		e->failed = 1;
	else
		e->len += len;
	return r;
}

static int
qs_spool_read(struct ps_queue_enq *e, uint64_t off, size_t len,
	      struct ps_error *err)
{
	unsigned char *p = e->buf;

	if (e->fd < 0)
		return 0; /* the whole body is in buf already */
	while (len) {
		ssize_t n = pread(e->fd, p, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return qs_err(err, PS_EIO, "spool: %s",
				      n ? strerror(errno) : "short read");
		p += n;
		off += (uint64_t)n;
		len -= (size_t)n;
	}
	return 0;
}

static int
qs_enq_chunks(struct ps_queue_enq *e, sqlite3 *db, int64_t mid,
	      struct ps_error *err)
{
	sqlite3_stmt *st = qs_prep(db, err, "INSERT INTO chunk (mid, off,"
				   " data) VALUES (?, ?, ?)", "");
	int r = st ? 0 : PS_EIO;

	for (uint64_t off = 0; r == 0 && off < e->len; off += QS_CHUNK) {
		size_t n = e->len - off < QS_CHUNK ? (size_t)(e->len - off)
						   : QS_CHUNK;

		r = qs_spool_read(e, off, n, err);
		if (r == 0)
			r = qs_rebind(db, st, err, "iib", mid, (int64_t)off,
				      e->buf, n);
		if (r == 0)
			r = qs_step(db, st, err);
	}
	sqlite3_finalize(st);
	return r;
}

static int
qs_enq_rcpts(struct ps_queue_enq *e, sqlite3 *db, int64_t mid,
	     struct ps_error *err)
{
	sqlite3_stmt *st = qs_prep(db, err, "INSERT INTO rcpt (mid, idx,"
				   " address, kind, user, route, orcpt, notify,"
				   " next_attempt) VALUES"
				   " (?, ?, ?, ?, ?, ?, ?, ?, ?)", "");
	int r = st ? 0 : PS_EIO;

	for (size_t i = 0; r == 0 && i < e->n; i++) {
		const struct qs_rcpt_copy *c = &e->rcpts[i];

		r = qs_rebind(db, st, err, "iisusssui", mid, (int64_t)i,
			      c->address, c->kind, c->user, c->route,
			      c->orcpt, c->notify, e->arrival);
		if (r == 0)
			r = qs_step(db, st, err);
	}
	sqlite3_finalize(st);
	return r;
}

/* The enqueue's part of a group commit, on the leader's connection. */
static int
qs_enq_store(void *arg, sqlite3 *db, struct ps_error *err)
{
	struct ps_queue_enq *e = arg;
	int64_t mid;
	int r = qs_exec(db, err, "INSERT INTO message (id, sender, ret, envid,"
			" flags, arrival, size, user, client, nrcpts, held)"
			" VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
			"ssisuiissii", e->id, e->sender, (int64_t)e->ret,
			e->envid, e->flags & ~PS_QUEUE_HOLD, e->arrival,
			(int64_t)e->len, e->user, e->client, (int64_t)e->n,
			(int64_t)((e->flags & PS_QUEUE_HOLD) != 0));

	if (r < 0)
		return r;
	mid = sqlite3_last_insert_rowid(db);
	r = qs_enq_chunks(e, db, mid, err);
	if (r == 0)
		r = qs_enq_rcpts(e, db, mid, err);
	return r;
}

int
qs_enq_commit(struct ps_queue_enq *e, struct ps_error *err)
{
	int r = e->failed ? qs_err(err, PS_ESTATE, "the enqueue failed "
				   "already")
			  : qs_group_commit(qs_enq_store, e, err);

	if (r == 0 && !(e->flags & PS_QUEUE_HOLD))
		qs_notify(PS_QUEUE_TOPIC_NEW, e->id);
	qs_enq_abort(e);
	return r;
}

void
qs_enq_abort(struct ps_queue_enq *e)
{
	if (!e)
		return;
	if (e->fd >= 0)
		close(e->fd);
	for (size_t i = 0; i < e->n; i++) {
		free(e->rcpts[i].address);
		free(e->rcpts[i].user);
		free(e->rcpts[i].route);
		free(e->rcpts[i].orcpt);
	}
	free(e->rcpts);
	free(e->sender);
	free(e->envid);
	free(e->user);
	free(e->client);
	free(e);
}
