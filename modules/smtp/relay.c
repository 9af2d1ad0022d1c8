/* The runner: every worker leases due remote recipients from the queue
 * (woken by the queue's bus notices and by a timer at the next due
 * time), groups them per destination into batches, runs a bounded number
 * of sessions at once, and records each message's results as soon as
 * its recipients are decided. Queue calls block: they run on the pool.
 *
 * At worker exit (SIGTERM, a reload) the recipients still held are
 * recorded as deferred and due at once, so another worker or the next
 * start takes them up without waiting for the lease to run out. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "relay.h"
#include "smtpd.h"

#define TIMER_MAX_MS 60000 /* look again at least this often: another
			    * process may have changed the queue */

struct lease_job;

static struct relay_batch *pending, **pending_tail = &pending;
static struct relay_batch *active;
static unsigned nactive;
static int leasing, again, stopping;
static struct ps_timer *timer;
static struct lease_job *lease_running;

/* Results waiting for the pool, which worker_exit records itself if the
 * pool never starts them (pool_stop drops waiting jobs). */
struct results_job {
	struct results_job *next, **prev;
	struct relay_msg *m;
	int taken; /* a pool thread or worker_exit has it */
};
static pthread_mutex_t jobs_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t jobs_cv = PTHREAD_COND_INITIALIZER;
static struct results_job *jobs;

static int64_t
now_s(void)
{
	return (int64_t)time(NULL);
}

void
relay_msg_free(struct relay_msg *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n; i++) {
		free(m->rcpts[i].address);
		free(m->rcpts[i].orcpt);
		free(m->rcpts[i].diag);
	}
	free(m->rcpts);
	free(m->sender);
	free(m->envid);
	free(m);
}

static void
batch_free(struct relay_batch *b)
{
	struct relay_msg *m;

	while ((m = b->msgs)) {
		b->msgs = m->next;
		relay_msg_free(m);
	}
	free(b->hosts);
	free(b->domain);
	free(b);
}

/* ---- Recording results ------------------------------------------------ */

/* The DSNs the queue owes (bounce.c), blocking: after results that
 * asked for one, and when next_due says owed reports are due (left by a
 * reporter that failed or died: the timer would fire for them at once,
 * again and again, if nothing made them). */
static void
reports(int64_t now)
{
	struct ps_error err = {""};
	int r = smtp_bounce_run(&smtp_cfg.queue, now, relay_cfg.lifetime,
				&err);

	if (r < 0 || err.msg[0])
		ps_log(r < 0 ? PS_LOG_ERR : PS_LOG_WARN, "relay: reports: %s "
		       "made=%d", err.msg, r < 0 ? 0 : r);
}

/* Record m's results (blocking); rcpts not decided count as deferred
 * and due at once (an exiting worker's). 1 when a DSN is owed. */
static int
record(struct relay_msg *m, int64_t now)
{
	struct ps_queue_result *v = calloc(m->n, sizeof(*v));
	struct ps_error err = {""};
	int report = 0;

	if (!v) {
		ps_log(PS_LOG_ERR, "relay: id=%s: no memory for its results: "
		       "due again when the lease runs out", m->id);
		return 0;
	}
	for (size_t i = 0; i < m->n; i++) {
		struct relay_rcpt *r = &m->rcpts[i];

		relay_result(&relay_cfg, m, r, now, arc4random(), &v[i]);
		if (!r->decided) {
			v[i].state = PS_QUEUE_DEFERRED;
			v[i].next_attempt = now;
			v[i].flags = 0;
		}
		report |= (v[i].flags & PS_QUEUE_REPORT) != 0;
	}
	if (smtp_cfg.queue.results(v, m->n, now, &err) < 0) {
		ps_log(PS_LOG_ERR, "relay: id=%s: recording results failed: "
		       "%s (due again when the lease runs out)", m->id,
		       err.msg);
		report = 0;
	}
	free(v);
	return report;
}

static int
job_take(struct results_job *j)
{
	int mine;

	pthread_mutex_lock(&jobs_mu);
	mine = !j->taken;
	j->taken = 1;
	if (j->prev) {
		*j->prev = j->next;
		if (j->next)
			j->next->prev = j->prev;
		j->prev = NULL;
	}
	pthread_mutex_unlock(&jobs_mu);
	return mine;
}

static void
results_work(void *arg)
{
	struct results_job *j = arg;
	int64_t now = now_s();

	if (job_take(j) && record(j->m, now))
		reports(now);
}

static void
results_done(void *arg)
{
	struct results_job *j = arg;

	relay_msg_free(j->m);
	free(j);
	relay_kick();
}

/* The delivery log line is written before the result is recorded: a
 * worker killed in between delivers again, and the operator can see
 * the first delivery here (the queue's at-least-once). */
static void
log_outcomes(const struct relay_msg *m)
{
	static const char *const names[] = {"delivered", "deferred",
					    "failed"};

	for (size_t i = 0; i < m->n; i++) {
		const struct relay_rcpt *r = &m->rcpts[i];

		ps_log(PS_LOG_INFO, "relay: id=%s to=<%s> status=%s "
		       "attempt=%u diag=\"%s\"", m->id, r->address,
		       r->decided ? names[r->outcome] : "deferred",
		       r->attempts + 1, r->diag ? r->diag : "");
	}
}

void
relay_msg_done(struct relay_msg *m)
{
	struct results_job *j = calloc(1, sizeof(*j));

	log_outcomes(m);
	if (!j) {
		relay_msg_free(m);
		return;
	}
	j->m = m;
	pthread_mutex_lock(&jobs_mu);
	j->next = jobs;
	if (jobs)
		jobs->prev = &j->next;
	j->prev = &jobs;
	jobs = j;
	pthread_mutex_unlock(&jobs_mu);
	if (ps_job_submit(results_work, results_done, j) < 0) {
		results_work(j);
		results_done(j);
	}
}

/* ---- Leasing ----------------------------------------------------------- */

struct lease_job {
	int finished; /* under jobs_mu: lease_work returned */
	int64_t now;
	unsigned limit;
	struct relay_batch *batches, *last;
	int64_t next_due; /* -1: nothing pending */
	unsigned count;
	int failed;
	struct ps_error err;
};

static struct relay_batch *
batch_for(struct lease_job *l, const char *route)
{
	struct relay_batch *b = l->last;

	if (b && b->nmsgs < RELAY_BATCH_MSGS && !strcmp(b->domain, route))
		return b;
	b = calloc(1, sizeof(*b));
	if (!b || !(b->domain = strdup(route))) {
		free(b);
		return NULL;
	}
	if (l->last)
		l->last->next = b;
	else
		l->batches = b;
	l->last = b;
	return b;
}

static struct relay_msg *
msg_new(const struct ps_queue_msg *qm, uint64_t lease)
{
	struct relay_msg *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	snprintf(m->id, sizeof(m->id), "%s", qm->id);
	m->lease = lease;
	m->sender = strdup(qm->sender);
	m->envid = strdup(qm->envid);
	m->ret = qm->ret;
	m->flags = qm->flags;
	m->arrival = qm->arrival;
	m->size = qm->body_size;
	if (!m->sender || !m->envid) {
		relay_msg_free(m);
		return NULL;
	}
	return m;
}

static int
rcpt_add(struct relay_msg *m, const struct ps_queue_rcpt *qr)
{
	struct relay_rcpt *v = realloc(m->rcpts, (m->n + 1) * sizeof(*v));
	struct relay_rcpt *r;

	if (!v)
		return PS_ENOMEM;
	m->rcpts = v;
	r = memset(&v[m->n], 0, sizeof(*r));
	r->index = qr->index;
	r->notify = qr->notify;
	r->attempts = qr->attempts;
	r->report = qr->report;
	r->address = strdup(qr->address);
	r->orcpt = qr->orcpt[0] ? strdup(qr->orcpt) : NULL;
	m->n++;
	return r->address && (r->orcpt || !qr->orcpt[0]) ? 0 : PS_ENOMEM;
}

/* Recipients come ordered by route, then message (queue.h), so a batch
 * is the run of one route and a message the run of one id in it. */
static int
lease_one(const struct ps_queue_msg *qm, const struct ps_queue_rcpt *qr,
	  void *arg)
{
	struct lease_job *l = arg;
	struct relay_batch *b = l->last;
	struct relay_msg *m;

	if (!b || strcmp(b->domain, qr->route) ||
	    !b->msgs || strcmp(b->msgs->id, qm->id)) {
		b = batch_for(l, qr->route);
		m = b ? msg_new(qm, qr->lease) : NULL;
		if (!m)
			return PS_ENOMEM;
		m->next = b->msgs; /* newest first: the one being filled */
		b->msgs = m;
		b->nmsgs++;
	}
	return rcpt_add(b->msgs, qr);
}

static void
lease_work(void *arg)
{
	struct lease_job *l = arg;
	struct ps_queue_lease_args a = {
		.size = sizeof(a), .now = l->now, .seconds = RELAY_LEASE_SECONDS,
		.limit = l->limit, .kinds = PS_QUEUE_REMOTE};
	uint64_t lease;

	if (smtp_cfg.queue.lease(&a, lease_one, l, &lease, &l->count,
			      &l->err) < 0)
		l->failed = 1;
	if (smtp_cfg.queue.next_due(0, &l->next_due, &l->err) < 0)
		l->next_due = -1;
	if (l->next_due >= 0 && l->next_due <= l->now) {
		reports(l->now);
		if (smtp_cfg.queue.next_due(0, &l->next_due, &l->err) < 0)
			l->next_due = -1;
	}
	pthread_mutex_lock(&jobs_mu);
	l->finished = 1;
	pthread_cond_broadcast(&jobs_cv);
	pthread_mutex_unlock(&jobs_mu);
}

static int
dest_busy(const char *domain)
{
	unsigned n = 0;

	for (struct relay_batch *b = active; b; b = b->next)
		n += !strcmp(b->domain, domain);
	return n >= relay_cfg.per_dest;
}

/* Start pending batches while the limits allow, oldest first. */
static void
start_pending(void)
{
	struct relay_batch **pp = &pending, *b;

	while (!relay_stopping() && (b = *pp) &&
	       nactive < relay_cfg.concurrency) {
		if (dest_busy(b->domain)) {
			pp = &b->next;
			continue;
		}
		*pp = b->next;
		if (!*pp)
			pending_tail = pp;
		b->next = active;
		active = b;
		b->active = 1;
		nactive++;
		relay_batch_start(b);
	}
}

static void
timer_fire(void *arg)
{
	(void)arg;
	timer = NULL;
	relay_kick();
}

static void
timer_set(int64_t when, int64_t now)
{
	uint64_t ms = TIMER_MAX_MS;

	if (when >= 0 && (when - now) * 1000 < TIMER_MAX_MS)
		ms = when > now ? (uint64_t)(when - now) * 1000 : 100;
	if (timer)
		ps_timer_cancel(timer);
	timer = ps_timer_add(ms, timer_fire, NULL);
}

/* lease_one put the newest first: deliver in the queue's order. */
static void
msgs_reverse(struct relay_batch *b)
{
	struct relay_msg *m = b->msgs, *prev = NULL, *next;

	for (; m; m = next) {
		next = m->next;
		m->next = prev;
		prev = m;
	}
	b->msgs = prev;
}

static void
lease_done(void *arg)
{
	struct lease_job *l = arg;
	struct relay_batch *b;

	leasing = 0;
	lease_running = NULL;
	if (l->failed)
		ps_log(PS_LOG_ERR, "relay: leasing from the queue failed: %s",
		       l->err.msg);
	while ((b = l->batches)) {
		l->batches = b->next;
		b->next = NULL;
		msgs_reverse(b);
		*pending_tail = b;
		pending_tail = &b->next;
	}
	start_pending();
	timer_set(l->next_due, l->now);
	/* A full lease may have left due recipients behind. */
	if (l->count && !l->failed)
		again = 1;
	free(l);
	if (again)
		relay_kick();
}

void
relay_kick(void)
{
	struct lease_job *l;

	if (!relay_cfg.enabled || relay_stopping())
		return;
	if (leasing || pending || nactive >= relay_cfg.concurrency) {
		again = 1;
		return;
	}
	again = 0;
	l = calloc(1, sizeof(*l));
	if (!l)
		return;
	l->now = now_s();
	/* No more than the free sessions can start on. */
	l->limit = (relay_cfg.concurrency - nactive) * RELAY_BATCH_MSGS;
	if (l->limit > RELAY_LEASE_LIMIT)
		l->limit = RELAY_LEASE_LIMIT;
	leasing = 1;
	lease_running = l;
	if (ps_job_submit(lease_work, lease_done, l) < 0) {
		leasing = 0;
		lease_running = NULL;
		free(l);
		timer_set(-1, 0);
	}
}

void
relay_stop(void)
{
	stopping = 1;
}

int
relay_stopping(void)
{
	if (!stopping && ps_worker_stopping())
		stopping = 1;
	return stopping;
}

void
relay_batch_done(struct relay_batch *b)
{
	struct relay_batch **pp;

	for (pp = &active; *pp && *pp != b; pp = &(*pp)->next)
		;
	if (*pp) {
		*pp = b->next;
		nactive--;
	}
	batch_free(b);
	start_pending();
	if (again)
		relay_kick();
}

/* ---- Worker start and exit ----------------------------------------------- */

static void
on_queue_notice(const char *topic, const void *data, size_t len, void *arg)
{
	(void)topic;
	(void)data;
	(void)len;
	(void)arg;
	relay_kick();
}

int
relay_worker_init(struct ps_error *err)
{
	if (relay_config_load(err) < 0)
		return PS_EFAIL;
	if (!relay_cfg.enabled)
		return 0;
	if (ps_bus_subscribe(PS_QUEUE_TOPIC, on_queue_notice, NULL) < 0) {
		snprintf(err->msg, sizeof(err->msg), "relay: cannot subscribe "
			 "to the queue's notices");
		return PS_EFAIL;
	}
	timer = ps_timer_add(100, timer_fire, NULL);
	return 0;
}

static void
record_batches(struct relay_batch *b, int64_t now)
{
	for (; b; b = b->next)
		for (struct relay_msg *m = b->msgs; m; m = m->next)
			record(m, now);
}

/* Runs after the worker's connections closed (their sessions decided
 * what they could) and before the pool stops, which drops the jobs not
 * started and never runs a done call again: record what they held. */
void
relay_worker_exit(void)
{
	int64_t now = now_s();
	struct results_job *j;

	stopping = 1;
	if (lease_running) {
		pthread_mutex_lock(&jobs_mu);
		while (!lease_running->finished)
			pthread_cond_wait(&jobs_cv, &jobs_mu);
		pthread_mutex_unlock(&jobs_mu);
		record_batches(lease_running->batches, now);
	}
	record_batches(pending, now);
	record_batches(active, now);
	/* job_take unlinks each; one a pool thread took is its to record. */
	for (;;) {
		pthread_mutex_lock(&jobs_mu);
		j = jobs;
		pthread_mutex_unlock(&jobs_mu);
		if (!j)
			break;
		if (job_take(j))
			record(j->m, now);
	}
}
