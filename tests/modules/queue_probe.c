/* queue_probe.so: proves that queue notices reach every worker. A line
 * "enqueue ADDRESS" enqueues a small message to a remote ADDRESS through
 * the configured queue backend, on the thread pool, and "flush" makes
 * every waiting recipient due; every worker logs each "queue/" bus
 * message it receives, with its pid. */
#include <poshta/poshta.h>
#include <poshta/queue.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "echo.h"

static const char *const queue_probe_requires[] = { "echo", NULL };
static struct ps_queue_ops queue;

struct probe_job {
	struct ps_hook_call *call;
	char address[256]; /* "" for flush */
	char id[PS_QUEUE_ID_LEN + 1];
	int result;
	struct ps_error err;
};

static int
enqueue_one(struct probe_job *j)
{
	static const char msg[] = "Subject: probe\r\n\r\nhello\r\n";
	struct ps_queue_envelope env = {
		.size = sizeof(env), .sender = "probe@origin.test",
		.arrival = (int64_t)time(NULL),
	};
	struct ps_queue_rcpt_in r = {
		.size = sizeof(r), .address = j->address,
		.kind = PS_QUEUE_REMOTE,
	};
	struct ps_queue_enq *e;
	int rc = queue.enq_begin(&env, &r, 1, &e, j->id, &j->err);

	if (rc < 0)
		return rc;
	rc = queue.enq_data(e, msg, sizeof(msg) - 1, &j->err);
	if (rc < 0) {
		queue.enq_abort(e);
		return rc;
	}
	return queue.enq_commit(e, &j->err);
}

/* On a pool thread: queue calls block. */
static void
probe_work(void *arg)
{
	struct probe_job *j = arg;

	j->result = j->address[0]
		? enqueue_one(j)
		: queue.flush(NULL, (int64_t)time(NULL), &j->err);
}

static void
probe_done(void *arg)
{
	struct probe_job *j = arg;
	char reply[320];

	if (j->result < 0)
		snprintf(reply, sizeof(reply), "queue failed: %s", j->err.msg);
	else if (j->address[0])
		snprintf(reply, sizeof(reply), "queued id=%s", j->id);
	else
		snprintf(reply, sizeof(reply), "flushed");
	ps_hook_reply(j->call, reply);
	ps_hook_resume(j->call, PS_HOOK_REJECT);
	free(j);
}

static int
on_line(struct ps_hook_call *call, void *arg)
{
	const struct echo_line_event *ev = ps_hook_data(call);
	struct probe_job *j;
	int flush = ev->len == 5 && strncmp(ev->line, "flush", 5) == 0;

	(void)arg;
	if (!flush && (ev->len <= 8 || strncmp(ev->line, "enqueue ", 8) != 0))
		return PS_HOOK_CONTINUE;
	if (!(j = calloc(1, sizeof(*j))))
		return PS_HOOK_DEFER;
	j->call = call;
	if (!flush)
		snprintf(j->address, sizeof(j->address), "%.*s",
			 (int)(ev->len - 8), ev->line + 8);
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
