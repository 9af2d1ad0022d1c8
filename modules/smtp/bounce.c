/* Delivery status notifications (RFC 3464 in an RFC 6522 multipart/report,
 * RFC 3461 6) for the reports the queue says are owed: the outbound
 * runner marks a result PS_QUEUE_REPORT (a failure, a delay past
 * delay_warning, a relay to a server without DSN) and then calls
 * smtp_bounce_run on the pool. Each owed message gets one DSN built by
 * libpsdsn; it goes to the sender's INBOX when the sender is a local user
 * (final delivery, RFC 5321 4.4 trace fields), else into the queue with
 * the null sender (RFC 5321 4.5.5) for the runner to send. Only once the
 * DSN is durable does report_done clear the report. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bounce.h"
#include "smtpd.h"

#define BOUNCE_BATCH 4     /* messages per report_lease */
#define BOUNCE_ROUNDS 16   /* report_lease calls per run, so one run ends
			    * and the pool thread returns */
#define BOUNCE_LEASE 600   /* seconds a report is ours: past it, another
			    * reporter takes it over */
#define BOUNCE_HEAD 16384  /* octets of the original the loop check reads */
#define BOUNCE_ID_MAX 32   /* dsn_report.id's bound */

/* A recipient owed a report, copied out of report_lease's callback. */
struct bounce_rcpt {
	char *address, *orcpt, *diag;
	enum ps_queue_state state;
	int64_t last_attempt;
};

struct bounce_msg {
	char id[PS_QUEUE_ID_LEN + 1];
	char *sender, *envid, *client;
	int ret;
	unsigned flags;
	int64_t arrival;
	struct bounce_rcpt *rcpts;
	size_t n;
	int broken; /* not copied whole (no memory): left owed */
};

struct bounce_batch {
	struct bounce_msg v[BOUNCE_BATCH];
	size_t n;
};

/* One DSN being made: what its parts need. */
struct bounce_dsn {
	const struct ps_queue_ops *q;
	const struct bounce_msg *m;
	char id[BOUNCE_ID_MAX + 1];
	int64_t now;
	int tz;
	struct dsn_plan plan;
	struct smtp_spool spool;  /* the DSN as written */
	struct ps_error read_err; /* msg_read's, when the original fails */
};

/* ---- Copying report_lease's messages ------------------------------------ */

static char *
dup_str(const char *s, int *broken)
{
	char *d = strdup(s ? s : "");

	if (!d)
		*broken = 1;
	return d;
}

static void
msg_free(struct bounce_msg *m)
{
	for (size_t i = 0; m->rcpts && i < m->n; i++) {
		free(m->rcpts[i].address);
		free(m->rcpts[i].orcpt);
		free(m->rcpts[i].diag);
	}
	free(m->rcpts);
	free(m->sender);
	free(m->envid);
	free(m->client);
}

/* The callback's pointers live during the call only, and the work (a
 * read of the original, an append, an enqueue) must not run inside a
 * backend's read of its own tables, so each message is copied. */
static int
bounce_collect(const struct ps_queue_msg *qm, const struct ps_queue_rcpt *r,
	       size_t n, void *arg)
{
	struct bounce_batch *b = arg;
	struct bounce_msg *m;

	if (b->n == BOUNCE_BATCH)
		return 0; /* more than asked: left owed, leased again later */
	m = &b->v[b->n++];
	snprintf(m->id, sizeof(m->id), "%s", qm->id);
	m->sender = dup_str(qm->sender, &m->broken);
	m->envid = dup_str(qm->envid, &m->broken);
	m->client = dup_str(qm->client, &m->broken);
	m->ret = qm->ret;
	m->flags = qm->flags;
	m->arrival = qm->arrival;
	if (n && !(m->rcpts = calloc(n, sizeof(*m->rcpts)))) {
		m->broken = 1;
		return 0;
	}
	m->n = n;
	for (size_t i = 0; i < n; i++) {
		m->rcpts[i].address = dup_str(r[i].address, &m->broken);
		m->rcpts[i].orcpt = dup_str(r[i].orcpt, &m->broken);
		m->rcpts[i].diag = dup_str(r[i].diag, &m->broken);
		m->rcpts[i].state = r[i].state;
		m->rcpts[i].last_attempt = r[i].last_attempt;
	}
	return 0;
}

/* ---- Reading the original ----------------------------------------------- */

static int
original_read(void *arg, uint64_t offset, void *buf, size_t len,
	      size_t *got_r)
{
	struct bounce_dsn *d = arg;

	return d->q->msg_read(d->m->id, offset, buf, len, got_r,
			      &d->read_err);
}

/* 1 when the original is itself a report or an automatic reply (RFC
 * 3834 5, RFC 6522): answering it could loop between two servers. */
static int
original_is_report(struct bounce_dsn *d, struct ps_error *err)
{
	char *buf = malloc(BOUNCE_HEAD);
	size_t len = 0, got = 1;
	int r = 0;

	if (!buf)
		return PS_ENOMEM;
	while (r == 0 && got && len < BOUNCE_HEAD)
		if ((r = original_read(d, len, buf + len, BOUNCE_HEAD - len,
				       &got)) == 0)
			len += got;
	if (r < 0)
		*err = d->read_err;
	else
		r = dsn_is_report(buf, len);
	free(buf);
	return r;
}

/* ---- The report ----------------------------------------------------------- */

/* RFC 3464 2.3.3: the queue's state says the action. The runner owes a
 * DELIVERED report only when the remote had no DSN extension: relayed. */
static enum dsn_action
rcpt_action(enum ps_queue_state s)
{
	switch (s) {
	case PS_QUEUE_FAILED:
		return DSN_FAILED;
	case PS_QUEUE_DELIVERED:
		return DSN_RELAYED;
	default:
		return DSN_DELAYED;
	}
}

/* Recipients from..from+n of m as DSN recipients; 1 when one of them
 * failed only because its time ran out. */
static int
rcpts_fill(const struct bounce_msg *m, size_t from, size_t n,
	   int64_t lifetime, struct dsn_rcpt *out, struct bounce_diag *dg)
{
	int expired = 0;

	for (size_t i = 0; i < n; i++) {
		const struct bounce_rcpt *r = &m->rcpts[from + i];
		enum dsn_action a = rcpt_action(r->state);

		bounce_diag_parse(r->diag, a, &dg[i]);
		expired |= dg[i].expired;
		out[i] = (struct dsn_rcpt){
			.address = r->address, .orcpt = r->orcpt, .action = a,
			.status = dg[i].status, .remote_mta = dg[i].mta,
			.diag_type = dg[i].type, .diag = dg[i].text,
			.last_attempt = r->last_attempt,
			/* RFC 3464 2.3.9: when the queue gives up. */
			.retry_until = a == DSN_DELAYED ? m->arrival + lifetime
							: 0};
	}
	return expired;
}

/* "5 days", "4 seconds": queue_lifetime for the reader. */
static void
duration(char *out, size_t size, int64_t s)
{
	static const struct { int64_t secs; const char *name; } units[] = {
		{86400, "day"}, {3600, "hour"}, {60, "minute"}, {1, "second"},
	};
	size_t i = 0;

	while (i < 3 && (s < units[i].secs || s % units[i].secs))
		i++;
	s /= units[i].secs;
	snprintf(out, size, "%" PRId64 " %s%s", s, units[i].name,
		 s == 1 ? "" : "s");
}

/* A DSN id fit for libpsdsn (its Message-ID and boundary come from it):
 * the queue id, and 60 bits mixed from the time, the process and a
 * counter, so a second report on the same message (a delay, then the
 * failure; two workers) never shares one. */
static void
dsn_id(const char *qid, int64_t now, char out[BOUNCE_ID_MAX + 1])
{
	static uint64_t counter;
	uint64_t x = __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED);

	/* splitmix64's finaliser over the three. */
	x = x * 0x9e3779b97f4a7c15ull ^ (uint64_t)now ^
		((uint64_t)getpid() << 40);
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	x ^= x >> 31;
	snprintf(out, BOUNCE_ID_MAX + 1, "%.16s-%015" PRIx64, qid, x >> 4);
}

static void
report_fill(struct bounce_dsn *d, struct dsn_report *r, char *reason,
	    size_t reason_size, int expired, int64_t lifetime)
{
	const struct bounce_msg *m = d->m;
	char life[64];

	*r = (struct dsn_report){
		.host = smtp_cfg.hostname, .id = d->id, .now = d->now,
		.tz_minutes = d->tz, .sender = m->sender, .ret = m->ret,
		.envid = m->envid, .arrival = m->arrival, .client = m->client,
		.smtputf8 = (m->flags & PS_QUEUE_SMTPUTF8) != 0,
		.read = original_read, .read_arg = d};
	if (!expired)
		return;
	/* RFC 3463 3.5, X.4.7: said once for the whole DSN; each expired
	 * recipient's last answer stays its Diagnostic-Code. */
	duration(life, sizeof(life), lifetime);
	snprintf(reason, reason_size, "Delivery time expired: the mail "
		 "system kept trying for %s, the longest a message waits, "
		 "and gave up. The last answer is below.", life);
	r->reason = reason;
}

static int
spool_put(void *arg, const void *data, size_t len)
{
	return smtp_spool_write(arg, data, len) < 0 ? DSN_EIO : 0;
}

/* Plan the DSN for r and write it into d->spool. 1 when the report can
 * never be made (dsn_plan refused it: err says why), else 0 or a
 * negative code. */
static int
dsn_build(struct bounce_dsn *d, const struct dsn_report *r,
	  struct ps_error *err)
{
	const char *why = NULL;
	int rc = dsn_plan(r, &d->plan, &why);

	if (rc == DSN_EINVAL) {
		snprintf(err->msg, sizeof(err->msg), "no DSN can be made: "
			 "%.200s", why ? why : "bad report");
		return 1;
	}
	if (rc == 0)
		rc = dsn_write(r, &d->plan, spool_put, &d->spool, &why);
	if (rc == 0 && smtp_spool_flush(&d->spool) < 0)
		rc = PS_EIO;
	if (rc < 0)
		snprintf(err->msg, sizeof(err->msg), "DSN not written: "
			 "%.100s%s%.100s", why ? why : "spool failed",
			 d->read_err.msg[0] ? ": " : "", d->read_err.msg);
	return rc < 0 ? PS_EIO : 0;
}

/* ---- Delivering it ---------------------------------------------------------- */

/* Where the sender's address leads (auth backend's resolve, as RCPT
 * does in lookup.c): local users, remote addresses. */
struct bounce_targets {
	char **users, **remote;
	size_t nusers, nremote;
};

static void
targets_free(struct bounce_targets *t)
{
	for (size_t i = 0; i < t->nusers; i++)
		free(t->users[i]);
	for (size_t i = 0; i < t->nremote; i++)
		free(t->remote[i]);
	free(t->users);
	free(t->remote);
	*t = (struct bounce_targets){0};
}

static int
targets_add(char ***v, size_t *n, const char *address)
{
	char **nv = realloc(*v, (*n + 1) * sizeof(*nv));

	if (!nv)
		return PS_ENOMEM;
	*v = nv;
	if (!(nv[*n] = strdup(address)))
		return PS_ENOMEM;
	(*n)++;
	return 0;
}

static int
target(const char *address, int local, void *arg)
{
	struct bounce_targets *t = arg;

	return local ? targets_add(&t->users, &t->nusers, address)
		     : targets_add(&t->remote, &t->nremote, address);
}

/* PS_ENOENT when the address is in our domain and reaches nobody. */
static int
targets_resolve(const char *sender, struct bounce_targets *t,
		struct ps_error *err)
{
	int r = PS_AUTH_ENOTLOCAL;

	if (smtp_cfg.have_auth)
		r = smtp_cfg.auth.resolve(sender, target, t, err);
	if (r == PS_AUTH_ENOTLOCAL) {
		targets_free(t);
		return targets_add(&t->remote, &t->nremote, sender);
	}
	return r;
}

/* The DSN into user's INBOX: one durable append transaction (storage.h).
 * No quota: a report on the user's own mail matters more than the limit,
 * and it is bounded (libpsdsn returns at most max_return octets), as
 * deliver.c lets a message past a quota rather than lose it. */
static int
append_user(const char *user, const struct smtp_append *m, char *buf,
	    struct ps_error *err)
{
	const struct ps_storage_ops *st = &smtp_cfg.store;
	struct ps_store_append *a;
	struct ps_store_user *u;
	int r;

	if ((r = st->user_open(user, 0, &u, err)) < 0)
		return r;
	if ((r = st->append_begin(u, "INBOX", &a, err)) == 0) {
		r = smtp_append_spool(a, m, buf, err);
		if (r == 0)
			r = st->append_commit(a, NULL, NULL, err);
		else
			st->append_abort(a);
	}
	st->user_close(u);
	return r;
}

/* Final delivery to each local user, with Return-Path: <> and Received
 * in front (RFC 5321 4.4). A user that fails leaves the report owed:
 * the next try gives the others a second copy rather than losing it. */
static int
deliver_local(struct bounce_dsn *d, const struct bounce_targets *t,
	      struct ps_error *err)
{
	struct smtp_trace tr = {
		.sender = "", .hostname = smtp_cfg.hostname, .id = d->id,
		.rcpt = d->m->sender, .now = d->now, .tz_minutes = d->tz};
	struct smtp_append m = {.spool = &d->spool, .now = d->now,
				.tz = d->tz};
	char *head, *buf = NULL;
	int r = 0;

	if (!smtp_cfg.have_store) {
		snprintf(err->msg, sizeof(err->msg), "no storage backend");
		return PS_ESTATE;
	}
	if (!(head = smtp_trace_headers(&tr, &m.head_len)) ||
	    !(buf = malloc(SMTP_APPEND_CHUNK))) {
		free(head);
		return PS_ENOMEM;
	}
	m.head = head;
	m.blob = smtp_append_structure(head, m.head_len, &d->spool, buf,
				       &m.blob_len);
	for (size_t i = 0; i < t->nusers; i++) {
		struct ps_error e = {{0}};
		int ri = append_user(t->users[i], &m, buf, &e);

		if (ri < 0) {
			r = ri;
			snprintf(err->msg, sizeof(err->msg), "DSN not delivered "
				 "user=%.80s: %.120s", t->users[i], e.msg);
		}
	}
	free((void *)m.blob);
	free(buf);
	free(head);
	return r;
}

static int
enqueue_body(struct bounce_dsn *d, struct ps_queue_enq *e,
	     struct ps_error *err)
{
	char *buf = malloc(SMTP_APPEND_CHUNK);
	uint64_t off = 0;
	size_t got = 1;
	int r = buf ? 0 : PS_ENOMEM;

	while (r == 0 && got) {
		if (smtp_spool_read(&d->spool, off, buf, SMTP_APPEND_CHUNK,
				    &got) < 0)
			r = PS_EIO;
		else if (got)
			r = d->q->enq_data(e, buf, got, err);
		off += got;
	}
	free(buf);
	return r;
}

/* Into the queue for the runner: the null sender (RFC 3461 6.1, RFC 5321
 * 4.5.5), so nothing ever reports on the DSN itself, and NOTIFY=NEVER to
 * tell the next hop so (RFC 3461 4.1). The transport must offer what the
 * DSN needs (dsn_plan's flags); a DSN about a REQUIRETLS message carries
 * the original, so it asks for REQUIRETLS too (RFC 8689 5). */
static int
deliver_remote(struct bounce_dsn *d, const struct bounce_targets *t,
	       struct ps_error *err)
{
	struct ps_queue_envelope env = {
		.size = sizeof(env), .sender = "", .arrival = d->now,
		.flags = (d->plan.flags & DSN_F_SMTPUTF8 ? PS_QUEUE_SMTPUTF8
							 : 0) |
			 (d->plan.flags & DSN_F_8BITMIME ? PS_QUEUE_8BITMIME
							 : 0) |
			 (d->m->flags & PS_QUEUE_REQUIRETLS)};
	struct ps_queue_rcpt_in *rc = calloc(t->nremote, sizeof(*rc));
	char qid[PS_QUEUE_ID_LEN + 1];
	struct ps_queue_enq *e;
	int r;

	if (!rc)
		return PS_ENOMEM;
	for (size_t i = 0; i < t->nremote; i++)
		rc[i] = (struct ps_queue_rcpt_in){
			.size = sizeof(*rc), .address = t->remote[i],
			.kind = PS_QUEUE_REMOTE,
			.notify = PS_QUEUE_NOTIFY_NEVER};
	r = d->q->enq_begin(&env, rc, t->nremote, &e, qid, err);
	free(rc);
	if (r < 0)
		return r;
	if ((r = enqueue_body(d, e, err)) < 0) {
		d->q->enq_abort(e);
		return r;
	}
	return d->q->enq_commit(e, err);
}

/* 0 delivered (or queued), 1 undeliverable for good (err says why),
 * negative to try again later. */
static int
dsn_deliver(struct bounce_dsn *d, struct ps_error *err)
{
	struct bounce_targets t = {0};
	int r = targets_resolve(d->m->sender, &t, err);

	if (r == PS_ENOENT || r == PS_EINVAL) {
		/* Our domain, nobody there (or no address at all): a DSN
		 * that cannot be delivered is dropped, never bounced
		 * (RFC 3461 6.1). */
		snprintf(err->msg, sizeof(err->msg), "DSN dropped: sender "
			 "<%.160s> reaches nobody", d->m->sender);
		r = 1;
	}
	if (r == 0 && t.nusers)
		r = deliver_local(d, &t, err);
	if (r == 0 && t.nremote)
		r = deliver_remote(d, &t, err);
	targets_free(&t);
	return r;
}

/* ---- One message ---------------------------------------------------------- */

/* One DSN on recipients from..from+n of m. 1 made, 0 none can be
 * (err says why), negative to try again later. */
static int
dsn_one(struct bounce_dsn *d, size_t from, size_t n, int64_t lifetime,
	struct ps_error *err)
{
	struct dsn_rcpt *rc = calloc(n, sizeof(*rc));
	struct bounce_diag *dg = calloc(n, sizeof(*dg));
	char reason[256];
	struct dsn_report r;
	int expired, rv = PS_ENOMEM;

	smtp_spool_init(&d->spool, smtp_cfg.state_dir);
	if (rc && dg) {
		expired = rcpts_fill(d->m, from, n, lifetime, rc, dg);
		report_fill(d, &r, reason, sizeof(reason), expired,
			    lifetime);
		r.rcpts = rc;
		r.nrcpts = n;
		dsn_id(d->m->id, d->now, d->id);
		if ((rv = dsn_build(d, &r, err)) == 0)
			rv = dsn_deliver(d, err);
		rv = rv == 0 ? 1 : rv == 1 ? 0 : rv;
	}
	smtp_spool_reset(&d->spool);
	free(rc);
	free(dg);
	return rv;
}

/* Every DSN m is owed (DSN_RCPTS_MAX recipients in each), then
 * report_done. DSNs made, or negative with the report left owed. */
static int
bounce_message(struct bounce_dsn *d, uint64_t lease, int64_t lifetime,
	       struct ps_error *err)
{
	const struct bounce_msg *m = d->m;
	struct ps_error e = {{0}};
	int r = 0, made = 0;

	if (m->broken)
		return PS_ENOMEM;
	/* The null sender gets no DSN (RFC 3461 6.1, RFC 5321 4.5.5);
	 * the runner asks for none, but a report owed anyway ends here. */
	if (m->sender[0] && (r = original_is_report(d, err)) < 0)
		return r;
	for (size_t from = 0; m->sender[0] && !r && from < m->n;
	     from += DSN_RCPTS_MAX) {
		size_t n = m->n - from < DSN_RCPTS_MAX ? m->n - from
							: DSN_RCPTS_MAX;
		int k = dsn_one(d, from, n, lifetime, err);

		if (k < 0)
			return k;
		made += k;
	}
	/* Only now, with the DSN durable: a crash before this line leaves
	 * the report owed, and it is made again (sent twice, never lost).
	 * A report lease that ran out (PS_QUEUE_ESTALE) or a message gone
	 * meanwhile is another reporter's now. */
	r = d->q->report_done(m->id, lease, &e);
	if (r < 0 && r != PS_QUEUE_ESTALE && r != PS_ENOENT)
		snprintf(err->msg, sizeof(err->msg), "report_done: %.200s",
			 e.msg);
	return made;
}

static int
bounce_batch_run(const struct ps_queue_ops *q, struct bounce_batch *b,
		 uint64_t lease, int64_t now, int64_t lifetime,
		 struct ps_error *err)
{
	struct tm tm;
	time_t t = (time_t)now;
	int made = 0;

	localtime_r(&t, &tm);
	for (size_t i = 0; i < b->n; i++) {
		struct bounce_dsn d = {.q = q, .m = &b->v[i], .now = now,
				       .tz = (int)(tm.tm_gmtoff / 60)};
		struct ps_error e = {{0}};
		int k = bounce_message(&d, lease, lifetime, &e);

		/* The last message that failed or was dropped, for the
		 * caller's log; the others go on regardless. */
		if (k < 0 || e.msg[0])
			snprintf(err->msg, sizeof(err->msg), "id=%s %.200s%s",
				 b->v[i].id, e.msg[0] ? e.msg : "failed",
				 k < 0 ? " (left owed)" : "");
		if (k > 0)
			made += k;
		msg_free(&b->v[i]);
	}
	return made;
}

int
smtp_bounce_run(const struct ps_queue_ops *q, int64_t now, int64_t lifetime,
		struct ps_error *err)
{
	int made = 0;

	err->msg[0] = '\0';
	for (int round = 0; round < BOUNCE_ROUNDS; round++) {
		struct bounce_batch *b = calloc(1, sizeof(*b));
		uint64_t lease;
		size_t got;
		int r;

		if (!b) {
			snprintf(err->msg, sizeof(err->msg), "out of memory");
			return made ? made : PS_ENOMEM;
		}
		r = q->report_lease(now, BOUNCE_LEASE, BOUNCE_BATCH,
				    bounce_collect, b, &lease, err);
		got = b->n;
		if (r == 0)
			made += bounce_batch_run(q, b, lease, now, lifetime,
						 err);
		else
			for (size_t i = 0; i < b->n; i++)
				msg_free(&b->v[i]);
		free(b);
		if (r < 0)
			return made ? made : r;
		if (got < BOUNCE_BATCH)
			break;
	}
	return made;
}
