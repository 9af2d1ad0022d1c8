/* queue_probe.so: drives the configured queue backend from an echo
 * connection, for tests, on the thread pool (queue calls block):
 *   enqueue [from=SENDER] [lines=N] [full] [ret=full|hdrs] [envid=X]
 *           [notify=never|success,failure,delay] [orcpt] ADDRESS...
 *     a message to remote ADDRESSes (from=: the null sender; lines=N: a
 *     body of N numbered lines; full: every optional envelope and
 *     recipient field set; ret=, envid=, notify= and orcpt (rfc822;
 *     the address) set those RFC 3461 fields alone) -> "queued id=ID"
 *   flush -> "flushed": every waiting recipient due
 *   attempt deferred|delivered|failed [DOMAIN]
 *     lease the due recipients (of DOMAIN) and record that outcome, a
 *     deferral for an hour, with a diagnostic -> "attempted N"
 * Every worker logs each "queue/" bus message it receives, with its pid,
 * which proves that queue notices reach every worker. */
#include <poshta/poshta.h>
#include <poshta/queue.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "echo.h"

#define PROBE_RCPTS 8
#define PROBE_LEASED 100

/* What "attempt" records, as a remote server's replies may be: for a
 * deferral two lines with UTF-8 and a tab (split so "e" is no part of
 * the \x escape), for a failure a byte that is not UTF-8. */
#define PROBE_DEFERRED "451-4.4.1 Try again later\r\n451 4.4.1 Gr\xc3\xb6" \
		       "\xc3\x9f" "e\tfull"
#define PROBE_DELIVERED "250 2.0.0 Ok"
#define PROBE_FAILED "550 5.1.1 No such user \xff"

static const char *const queue_probe_requires[] = { "echo", NULL };
static struct ps_queue_ops queue;

struct probe_job {
	struct ps_hook_call *call;
	char line[1024]; /* the command line, cut into words in place */
	char id[PS_QUEUE_ID_LEN + 1];
	unsigned count;  /* attempt: recipients leased */
	int result;
	struct ps_error err;
};

/* An enqueue's words: options, then the addresses. */
struct probe_enqueue {
	struct ps_queue_envelope env;
	struct ps_queue_rcpt_in rcpts[PROBE_RCPTS];
	char orcpts[PROBE_RCPTS][300];
	size_t n;
	unsigned lines;
	int full;
	int orcpt;
	unsigned notify;
};

/* "never" or a comma list of success, failure, delay (RFC 3461 4.1). */
static unsigned
notify_parse(const char *list)
{
	static const struct { const char *name; unsigned bit; } words[] = {
		{"never", PS_QUEUE_NOTIFY_NEVER},
		{"success", PS_QUEUE_NOTIFY_SUCCESS},
		{"failure", PS_QUEUE_NOTIFY_FAILURE},
		{"delay", PS_QUEUE_NOTIFY_DELAY},
	};
	unsigned bits = 0;

	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strstr(list, words[i].name))
			bits |= words[i].bit;
	return bits;
}

/* The DSN options one at a time (the tests of bounce.c). */
static int
dsn_word(char *w, struct probe_enqueue *q)
{
	if (strcmp(w, "ret=full") == 0)
		q->env.ret = PS_QUEUE_RET_FULL;
	else if (strcmp(w, "ret=hdrs") == 0)
		q->env.ret = PS_QUEUE_RET_HDRS;
	else if (strncmp(w, "envid=", 6) == 0)
		q->env.envid = w + 6;
	else if (strncmp(w, "notify=", 7) == 0)
		q->notify = notify_parse(w + 7);
	else if (strcmp(w, "orcpt") == 0)
		q->orcpt = 1;
	else
		return 0;
	return 1;
}

static int
enqueue_parse(char *words, struct probe_enqueue *q, struct ps_error *err)
{
	char *save = NULL;

	q->env = (struct ps_queue_envelope){
		.size = sizeof(q->env), .sender = "probe@origin.test",
		.arrival = (int64_t)time(NULL),
	};
	for (char *w = strtok_r(words, " ", &save); w;
	     w = strtok_r(NULL, " ", &save)) {
		if (strncmp(w, "from=", 5) == 0)
			q->env.sender = w + 5;
		else if (strncmp(w, "lines=", 6) == 0)
			q->lines = (unsigned)strtoul(w + 6, NULL, 10);
		else if (strcmp(w, "full") == 0)
			q->full = 1;
		else if (dsn_word(w, q))
			continue;
		else if (q->n < PROBE_RCPTS)
			q->rcpts[q->n++] = (struct ps_queue_rcpt_in){
				.size = sizeof(q->rcpts[0]), .address = w,
				.kind = PS_QUEUE_REMOTE,
			};
	}
	if (q->n == 0) {
		snprintf(err->msg, sizeof(err->msg), "no recipient");
		return PS_EINVAL;
	}
	for (size_t i = 0; i < q->n; i++) {
		q->rcpts[i].notify = q->notify;
		if (q->orcpt) {
			snprintf(q->orcpts[i], sizeof(q->orcpts[i]),
				 "rfc822;%s", q->rcpts[i].address);
			q->rcpts[i].orcpt = q->orcpts[i];
		}
	}
	return 0;
}

/* "full": RET, ENVID, every flag, submitter, client, ORCPT, NOTIFY. */
static void
enqueue_fill(struct probe_enqueue *q)
{
	q->env.ret = PS_QUEUE_RET_HDRS;
	q->env.envid = "QQ314159";
	q->env.flags = PS_QUEUE_SMTPUTF8 | PS_QUEUE_8BITMIME |
		       PS_QUEUE_REQUIRETLS;
	q->env.user = "alice@example.test";
	q->env.client = "mx.origin.test [192.0.2.1]";
	for (size_t i = 0; i < q->n; i++) {
		snprintf(q->orcpts[i], sizeof(q->orcpts[i]), "rfc822;%s",
			 q->rcpts[i].address);
		q->rcpts[i].orcpt = q->orcpts[i];
		q->rcpts[i].notify = PS_QUEUE_NOTIFY_FAILURE |
				     PS_QUEUE_NOTIFY_DELAY;
	}
}

/* The body: a header, then "hello" or N numbered lines. */
static int
enqueue_body(struct ps_queue_enq *e, unsigned lines, struct ps_error *err)
{
	static const char head[] = "Subject: probe\r\n\r\n";
	char line[64];
	int r = queue.enq_data(e, head, sizeof(head) - 1, err);

	if (r == 0 && lines == 0)
		r = queue.enq_data(e, "hello\r\n", 7, err);
	for (unsigned i = 0; r == 0 && i < lines; i++) {
		int len = snprintf(line, sizeof(line), "line %08u of the "
				   "probe\r\n", i);

		r = queue.enq_data(e, line, (size_t)len, err);
	}
	return r;
}

static int
enqueue(struct probe_job *j, char *words)
{
	struct probe_enqueue q = { .n = 0 };
	struct ps_queue_enq *e;
	int r = enqueue_parse(words, &q, &j->err);

	if (r < 0)
		return r;
	if (q.full)
		enqueue_fill(&q);
	r = queue.enq_begin(&q.env, q.rcpts, q.n, &e, j->id, &j->err);
	if (r < 0)
		return r;
	r = enqueue_body(e, q.lines, &j->err);
	if (r < 0) {
		queue.enq_abort(e);
		return r;
	}
	return queue.enq_commit(e, &j->err);
}

/* The recipients one lease gave, and the outcome to record for them. */
struct probe_attempt {
	struct ps_queue_result v[PROBE_LEASED];
	char ids[PROBE_LEASED][PS_QUEUE_ID_LEN + 1];
	size_t n;
};

static int
attempt_collect(const struct ps_queue_msg *m, const struct ps_queue_rcpt *r,
		void *arg)
{
	struct probe_attempt *a = arg;

	snprintf(a->ids[a->n], sizeof(a->ids[0]), "%s", m->id);
	a->v[a->n] = (struct ps_queue_result){
		.size = sizeof(a->v[0]), .id = a->ids[a->n],
		.index = r->index, .lease = r->lease,
	};
	a->n++;
	return 0;
}

static int
attempt(struct probe_job *j, char *words)
{
	struct probe_attempt *a = calloc(1, sizeof(*a));
	char *save = NULL, *state = strtok_r(words, " ", &save);
	int64_t now = (int64_t)time(NULL);
	struct ps_queue_lease_args args = {
		.size = sizeof(args), .now = now, .seconds = 60,
		.limit = PROBE_LEASED, .route = strtok_r(NULL, " ", &save),
	};
	enum ps_queue_state s = !state ? PS_QUEUE_QUEUED
		: strcmp(state, "deferred") == 0 ? PS_QUEUE_DEFERRED
		: strcmp(state, "delivered") == 0 ? PS_QUEUE_DELIVERED
		: strcmp(state, "failed") == 0 ? PS_QUEUE_FAILED
		: PS_QUEUE_QUEUED;
	uint64_t lease;
	int r;

	if (!a || s == PS_QUEUE_QUEUED) {
		free(a);
		snprintf(j->err.msg, sizeof(j->err.msg), "no outcome");
		return PS_EINVAL;
	}
	r = queue.lease(&args, attempt_collect, a, &lease, &j->count,
			&j->err);
	for (size_t i = 0; i < a->n; i++) {
		a->v[i].state = s;
		a->v[i].next_attempt = now + 3600;
		a->v[i].diag = s == PS_QUEUE_DEFERRED ? PROBE_DEFERRED
			       : s == PS_QUEUE_DELIVERED ? PROBE_DELIVERED
			       : PROBE_FAILED;
	}
	if (r == 0 && a->n > 0)
		r = queue.results(a->v, a->n, now, &j->err);
	free(a);
	return r;
}

static void
probe_work(void *arg)
{
	struct probe_job *j = arg;
	char *rest = j->line + strcspn(j->line, " ");

	/* j->line keeps the verb alone, for probe_done. */
	if (*rest)
		*rest++ = '\0';
	if (strcmp(j->line, "enqueue") == 0)
		j->result = enqueue(j, rest);
	else if (strcmp(j->line, "attempt") == 0)
		j->result = attempt(j, rest);
	else
		j->result = queue.flush(NULL, (int64_t)time(NULL), &j->err);
}

static void
probe_done(void *arg)
{
	struct probe_job *j = arg;
	char reply[320];

	if (j->result < 0)
		snprintf(reply, sizeof(reply), "queue failed: %s", j->err.msg);
	else if (j->id[0])
		snprintf(reply, sizeof(reply), "queued id=%s", j->id);
	else if (strcmp(j->line, "attempt") == 0)
		snprintf(reply, sizeof(reply), "attempted %u", j->count);
	else
		snprintf(reply, sizeof(reply), "flushed");
	ps_hook_reply(j->call, reply);
	ps_hook_resume(j->call, PS_HOOK_REJECT);
	free(j);
}

static int
is_verb(const struct echo_line_event *ev, const char *verb)
{
	size_t n = strlen(verb);

	return ev->len >= n && strncmp(ev->line, verb, n) == 0 &&
	       (ev->len == n || ev->line[n] == ' ');
}

static int
on_line(struct ps_hook_call *call, void *arg)
{
	const struct echo_line_event *ev = ps_hook_data(call);
	struct probe_job *j;

	(void)arg;
	if (!is_verb(ev, "enqueue") && !is_verb(ev, "flush") &&
	    !is_verb(ev, "attempt"))
		return PS_HOOK_CONTINUE;
	if (!(j = calloc(1, sizeof(*j))))
		return PS_HOOK_DEFER;
	j->call = call;
	snprintf(j->line, sizeof(j->line), "%.*s", (int)ev->len, ev->line);
	if (ps_job_submit(probe_work, probe_done, j) < 0) {
		free(j);
		return PS_HOOK_DEFER;
	}
	return PS_HOOK_PENDING;
}

static void
on_notice(const char *topic, const void *data, size_t len, void *arg)
{
	(void)arg;
	ps_log(PS_LOG_NOTICE, "notice topic=%s id=%.*s pid=%d", topic,
	       (int)len, (const char *)data, (int)getpid());
}

static int
queue_probe_init(struct ps_error *err)
{
	if (ps_hook_register(ECHO_HOOK_LINE, PS_HOOK_MIDDLE, on_line,
			     NULL) < 0) {
		snprintf(err->msg, sizeof(err->msg),
			 "cannot register on " ECHO_HOOK_LINE);
		return PS_EFAIL;
	}
	return 0;
}

static int
queue_probe_worker_init(struct ps_error *err)
{
	if (ps_iface_get(PS_QUEUE_KIND, NULL, &queue, sizeof(queue)) < 0) {
		snprintf(err->msg, sizeof(err->msg), "no queue backend");
		return PS_EFAIL;
	}
	return ps_bus_subscribe(PS_QUEUE_TOPIC, on_notice, NULL);
}

PS_MODULE_DEFINE(.name = "queue_probe", .version = "1.0",
		 .requires = queue_probe_requires, .init = queue_probe_init,
		 .worker_init = queue_probe_worker_init);
