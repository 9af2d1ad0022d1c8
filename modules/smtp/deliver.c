/* Local delivery: the message, with its trace fields (RFC 5321 4.4) and
 * the filters' fields in front, is appended to the INBOX of every local
 * user its recipients reach, each user once, in parallel on the thread
 * pool; every append is committed (durable) before the reply (6.1: the
 * 250 takes responsibility for the message).
 *
 * Batches: a worker runs at most one append job per user at a time, and
 * the messages for that user that arrive meanwhile (other sessions)
 * wait and then go together in the next job, as one append transaction
 * of several messages: one commit, one fsync and one round trip to the
 * pool for all of them, which is what lets an MX take mail for a busy
 * user faster than the disk takes fsyncs. A batch that fails (a quota
 * one message breaks, a storage error) is delivered again one message
 * at a time, so one message never costs another its delivery.
 *
 * Remote recipients (submission) go to the queue first (enqueue.c), and
 * the local deliveries only once it is durable there. With DATA there is
 * one reply (RFC 5321 3.3), so one outcome must be true for both: a
 * failed enqueue is 451 before any local copy exists, so the client's
 * retry duplicates nothing; after a good enqueue the message is 250
 * whatever the local stores do (they are logged as before), since a 4xx
 * would make the client send the queued copies again. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "smtpd.h"

#define DELIVER_TRIES 3          /* a store may fail for a moment (a lock) */
#define DELIVER_PAUSE_US 100000  /* before the second try, twice that
				  * before the third */
#define BATCH_MAX 64             /* messages in one append transaction */

struct delivery;

struct target {
	struct delivery *d;
	const char *user; /* the session's, which outlives the delivery */
	uint64_t quota;
	int result;
	int tries;
	struct ps_error err;
	struct target *next; /* in its user's batch */
};

/* One user's appends in this worker: the job running (run) and those
 * that came while it ran (wait). Loop thread only, but for run, which
 * the job's thread owns until batch_done. */
struct batch {
	struct batch *next;
	struct target *run, *wait, **wait_tail;
	char user[];
};

static struct batch *batches;

struct delivery {
	struct smtp_session *s;
	struct smtp_spool spool; /* taken over from the session */
	char *head;              /* Return-Path, Received, filters' fields */
	size_t head_len;
	size_t rp_len;           /* head's Return-Path line */
	int queued;              /* the remote recipients are in the queue */
	struct target *t;
	size_t n, pending;
	int graced;              /* the second round ran */
	int64_t now;
	int tz;
	/* The message's parsed structure (libpsmime's cache blob), made
	 * once by the first target's thread and stored with every copy, so
	 * IMAP's FETCH never reads the body to describe it. */
	pthread_mutex_t lock;
	int parsed;
	void *blob;
	size_t blob_len;
};

/* The structure, made once by the first target's thread and stored
 * with every copy (append.c). */
static void
structure_once(struct delivery *d, char *buf)
{
	pthread_mutex_lock(&d->lock);
	if (!d->parsed++)
		d->blob = smtp_append_structure(d->head, d->head_len,
						&d->spool, buf, &d->blob_len);
	pthread_mutex_unlock(&d->lock);
}

/* One user, on a pool thread: the same bytes for every user, read from
 * the spool (pread: the threads share it safely). */
static int
append_message(struct delivery *d, struct ps_store_append *a,
	       struct ps_error *err)
{
	char *buf = malloc(SMTP_APPEND_CHUNK);
	struct smtp_append m;
	int r;

	if (!buf)
		return PS_ENOMEM;
	structure_once(d, buf);
	m = (struct smtp_append){
		.head = d->head, .head_len = d->head_len, .spool = &d->spool,
		.blob = d->blob, .blob_len = d->blob_len, .now = d->now,
		.tz = d->tz};
	r = smtp_append_spool(a, &m, buf, err);
	free(buf);
	return r;
}

/* The messages of the targets from t on (one user's) in one append
 * transaction. */
static int
deliver_list(struct target *t)
{
	const struct ps_storage_ops *st = &smtp_cfg.store;
	struct ps_store_append *a;
	struct ps_store_user *u;
	int r;

	if ((r = st->user_open(t->user, t->quota, &u, &t->err)) < 0)
		return r;
	if ((r = st->append_begin(u, "INBOX", &a, &t->err)) == 0) {
		for (struct target *m = t; r == 0 && m; m = m->next)
			r = append_message(m->d, a, &t->err);
		if (r == 0)
			r = st->append_commit(a, NULL, NULL, &t->err);
		else
			st->append_abort(a);
	}
	st->user_close(u);
	return r;
}

static int
deliver_once(struct target *t)
{
	struct target *next = t->next;
	int r;

	t->next = NULL;
	r = deliver_list(t);
	t->next = next;
	return r;
}

/* On a pool thread, which may wait: an append is atomic, so trying
 * again after a failure never stores the message twice, and a store that
 * was busy for a moment does not cost the user the message. */
static void
deliver_work(void *arg)
{
	struct target *t = arg;

	for (t->tries = 0; t->tries < DELIVER_TRIES;) {
		if (t->tries > 0)
			usleep((useconds_t)(DELIVER_PAUSE_US * t->tries));
		t->tries++;
		t->result = deliver_once(t);
		if (t->result == 0 || t->result == PS_STORE_EQUOTA)
			break;
	}
}

static void deliver_done(void *arg);

/* On a pool thread: the batch in one transaction, or, when that fails,
 * each message on its own with deliver_work's retries. */
static void
batch_work(void *arg)
{
	struct batch *b = arg;
	int r = -1;

	if (b->run->next)
		r = deliver_list(b->run);
	for (struct target *t = b->run; t; t = t->next) {
		if (r == 0) {
			t->result = 0;
			t->tries = 1;
		} else {
			deliver_work(t);
		}
	}
}

static void batch_done(void *arg);

/* Start the next job for b, with what waits: at most BATCH_MAX. */
static void
batch_start(struct batch *b)
{
	struct target **pp = &b->wait;

	for (size_t n = 0; *pp && n < BATCH_MAX; n++)
		pp = &(*pp)->next;
	b->run = b->wait;
	b->wait = *pp;
	*pp = NULL;
	if (!b->wait)
		b->wait_tail = &b->wait;
	/* Without the pool the targets keep their PS_ENOMEM: 451. */
	if (ps_job_submit(batch_work, batch_done, b) < 0)
		batch_done(b);
}

static void
batch_done(void *arg)
{
	struct batch *b = arg, **pp = &batches;
	struct target *t = b->run, *next;

	b->run = NULL;
	if (b->wait) {
		batch_start(b);
	} else {
		while (*pp != b)
			pp = &(*pp)->next;
		*pp = b->next;
		free(b);
	}
	/* Last: finishing a delivery may free its session. */
	for (; t; t = next) {
		next = t->next;
		t->next = NULL;
		deliver_done(t);
	}
}

/* t joins its user's batch; a batch with no job running starts one. */
static int
batch_add(struct target *t)
{
	struct batch *b;
	size_t len;

	for (b = batches; b && strcmp(b->user, t->user); b = b->next)
		;
	if (!b) {
		len = strlen(t->user) + 1;
		if (!(b = calloc(1, sizeof(*b) + len)))
			return PS_ENOMEM;
		memcpy(b->user, t->user, len);
		b->wait_tail = &b->wait;
		b->next = batches;
		batches = b;
	}
	*b->wait_tail = t;
	b->wait_tail = &t->next;
	if (!b->run)
		batch_start(b);
	return 0;
}

static void
delivery_free(struct delivery *d)
{
	smtp_spool_reset(&d->spool);
	pthread_mutex_destroy(&d->lock);
	free(d->blob);
	free(d->head);
	free(d->t);
	free(d);
}

/* Log what did not go plainly; returns how many users got the message,
 * and in *full_r how many were over quota. */
static size_t
deliver_report(struct delivery *d, size_t *full_r)
{
	struct smtp_session *s = d->s;
	size_t ok = 0;

	*full_r = 0;
	for (size_t i = 0; i < d->n; i++) {
		struct target *t = &d->t[i];

		if (t->result == 0) {
			if (t->tries > 1)
				ps_conn_log(s->conn, PS_LOG_NOTICE, "delivered "
					    "after a retry id=%s user=%s "
					    "tries=%d reason=\"%s\"",
					    s->queue_id, t->user, t->tries,
					    t->err.msg);
			ok++;
			continue;
		}
		*full_r += t->result == PS_STORE_EQUOTA;
		ps_conn_log(s->conn, PS_LOG_WARN, "delivery failed id=%s "
			    "user=%s error=%d reason=\"%s\" dsn=none",
			    s->queue_id, t->user, t->result, t->err.msg);
	}
	return ok;
}

/* With DATA there is one reply for all recipients (RFC 5321 3.3): 250
 * when any user got the message; 452 when it fit nobody's quota, so
 * nobody has it. A user still without it (a storage failure) is logged:
 * telling the sender (a DSN, RFC 3464) needs the outbound queue, which
 * is the relay's job. */
static void
deliver_finish(struct delivery *d)
{
	struct smtp_session *s = d->s;
	size_t full, ok = deliver_report(d, &full);

	if (ok || d->queued) {
		ps_conn_log(s->conn, PS_LOG_INFO, "queued id=%s from=<%s> "
			    "size=%llu rcpts=%zu users=%zu delivered=%zu "
			    "enqueued=%s", s->queue_id, s->mail.path.addr,
			    (unsigned long long)d->spool.size, s->nrcpts, d->n,
			    ok, d->queued ? "yes" : "no");
		smtp_reply(s, "250 2.0.0 Ok: queued as %s", s->queue_id);
		s->errors = 0;
		smtp_hook_queued(s, d->spool.size);
	} else if (full == d->n) {
		smtp_reply(s, "452 4.2.2 Mailbox full");
	} else {
		smtp_reply(s, "451 4.3.0 Local delivery failed, try again "
			   "later");
	}
	smtp_txn_reset(s);
	delivery_free(d);
	smtp_unwait(s);
}

/* RFC 5321 6.1: an accepted message must not be lost. RCPT found room
 * for every user; one the message then does not fit, while others got
 * it, gets it past its quota (as Dovecot's quota_grace does) rather than
 * not at all, since there is no bounce yet. Returns 1 when a second
 * round runs. */
static int
deliver_grace(struct delivery *d)
{
	size_t ok = 0;

	for (size_t i = 0; i < d->n; i++)
		ok += d->t[i].result == 0;
	if (d->graced || ok == 0 || ok == d->n)
		return 0;
	d->graced = 1;
	for (size_t i = 0; i < d->n; i++) {
		struct target *t = &d->t[i];

		if (t->result != PS_STORE_EQUOTA)
			continue;
		ps_conn_log(d->s->conn, PS_LOG_NOTICE, "over quota after RCPT, "
			    "delivered past it id=%s user=%s quota=%llu",
			    d->s->queue_id, t->user,
			    (unsigned long long)t->quota);
		t->quota = 0;
		t->result = PS_ENOMEM;
		if (ps_job_submit(deliver_work, deliver_done, t) == 0)
			d->pending++;
	}
	return d->pending > 0;
}

static void
deliver_release(struct delivery *d)
{
	if (--d->pending == 0 && !deliver_grace(d))
		deliver_finish(d);
}

static void
deliver_done(void *arg)
{
	struct target *t = arg;

	deliver_release(t->d);
}

/* Each user once, whichever recipients (aliases) led to it. */
static int
collect_users(struct smtp_session *s, struct delivery *d)
{
	size_t max = 0;

	for (size_t i = 0; i < s->nrcpts; i++)
		max += s->rcpts[i].nusers;
	if (!(d->t = calloc(max ? max : 1, sizeof(*d->t))))
		return PS_ENOMEM;
	for (size_t i = 0; i < s->nrcpts; i++) {
		const struct smtp_rcpt_entry *e = &s->rcpts[i];

		for (size_t k = 0; k < e->nusers; k++) {
			size_t j = 0;

			while (j < d->n && strcmp(d->t[j].user, e->users[k]))
				j++;
			if (j < d->n)
				continue;
			d->t[d->n++] = (struct target){
				.d = d, .user = e->users[k],
				.quota = e->quotas[k]};
		}
	}
	return 0;
}

static int
build_head(struct smtp_session *s, struct delivery *d)
{
	struct tm tm;
	time_t now = time(NULL);
	struct smtp_trace t = {
		.sender = s->mail.path.addr,
		.helo = s->helo,
		.client_ip = ps_conn_peer(s->conn),
		.hostname = smtp_cfg.hostname,
		.with = smtp_trace_with(s->esmtp, s->mail.smtputf8,
					(ps_conn_tls(s->conn) &
					 PS_TLS_ACTIVE) != 0, s->user[0]),
		.tls_info = ps_conn_tls_info(s->conn),
		.user = s->user[0] ? s->user : NULL,
		.id = s->queue_id,
		.rcpt = s->nrcpts == 1 ? s->rcpts[0].addr : NULL,
		.now = now,
	};
	char *head;

	localtime_r(&now, &tm);
	t.tz_minutes = (int)(tm.tm_gmtoff / 60);
	d->now = now;
	d->tz = t.tz_minutes;
	if (!(head = smtp_trace_headers(&t, &d->head_len)))
		return PS_ENOMEM;
	d->head = realloc(head, d->head_len + s->added_len + 1);
	if (!d->head) {
		free(head);
		return PS_ENOMEM;
	}
	if (s->added_len)
		memcpy(d->head + d->head_len, s->added, s->added_len);
	d->head_len += s->added_len;
	return 0;
}

/* The local users' appends; with none (only remote recipients) d
 * finishes at once. */
static void
deliver_local(struct delivery *d)
{
	/* One more than the targets, so no batch finishes d meanwhile. */
	d->pending = d->n + 1;
	for (size_t i = 0; i < d->n; i++) {
		d->t[i].result = PS_ENOMEM;
		if (batch_add(&d->t[i]) < 0)
			d->pending--;
	}
	deliver_release(d);
}

/* Only once the queue holds the remote recipients do the local copies
 * exist; a client gone meanwhile still gets both, as local delivery
 * alone does (at least once, RFC 5321 6.1). */
static void
deliver_enqueued(void *arg, int result)
{
	struct delivery *d = arg;
	struct smtp_session *s = d->s;

	if (result == 0) {
		d->queued = 1;
		deliver_local(d);
		return;
	}
	smtp_reply(s, "451 4.3.0 Queueing failed, try again later");
	smtp_txn_reset(s);
	delivery_free(d);
	smtp_unwait(s);
}

/* smtp_trace_headers puts Return-Path first, on one line: the queue
 * stores the rest, final delivery adds its own (RFC 5321 4.4). */
static void
find_return_path(struct delivery *d)
{
	const char *eol = memchr(d->head, '\n', d->head_len);

	d->rp_len = eol && strncmp(d->head, "Return-Path:", 12) == 0 ?
		(size_t)(eol + 1 - d->head) : 0;
}

void
smtp_deliver(struct smtp_session *s)
{
	struct delivery *d = calloc(1, sizeof(*d));

	if (d) {
		smtp_spool_init(&d->spool, smtp_cfg.state_dir);
		pthread_mutex_init(&d->lock, NULL);
	}
	if (!d || !smtp_cfg.have_store || collect_users(s, d) < 0 ||
	    build_head(s, d) < 0) {
		if (d)
			delivery_free(d);
		smtp_reply(s, "451 4.3.0 Local delivery failed, try again "
			   "later");
		smtp_txn_reset(s);
		return;
	}
	d->s = s;
	d->spool = s->spool;
	smtp_spool_init(&s->spool, smtp_cfg.state_dir);
	smtp_wait(s);
	if (!smtp_has_remote(s)) {
		deliver_local(d);
		return;
	}
	find_return_path(d);
	if (smtp_enqueue(s, &d->spool, d->head + d->rp_len,
			 d->head_len - d->rp_len, d->now, deliver_enqueued,
			 d) < 0)
		deliver_enqueued(d, PS_EFAIL);
}
