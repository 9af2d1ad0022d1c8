/* store_probe.so: proves that storage changes reach every worker. A line
 * "append USER" appends a message to USER's INBOX through the configured
 * storage backend, on the thread pool; every worker logs each "store/"
 * bus message it receives, with its pid. */
#include <poshta/poshta.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "echo.h"

static const char *const store_probe_requires[] = { "echo", NULL };
static struct ps_storage_ops store;

struct probe_job {
	struct ps_hook_call *call;
	char user[PS_AUTH_NAME_MAX + 1];
	int result;
	uint32_t uid;
	struct ps_error err;
};

static int
append_one(struct ps_store_user *u, struct probe_job *j)
{
	static const char msg[] = "Subject: probe\r\n\r\nhello\r\n";
	struct ps_store_append *a;
	int r = store.append_begin(u, "INBOX", &a, &j->err);

	if (r < 0)
		return r;
	if ((r = store.append_msg_begin(a, 0, NULL, 0, time(NULL), 0,
					&j->err)) < 0 ||
	    (r = store.append_data(a, msg, sizeof(msg) - 1, &j->err)) < 0 ||
	    (r = store.append_msg_end(a, NULL, 0, &j->err)) < 0) {
		store.append_abort(a);
		return r;
	}
	return store.append_commit(a, &j->uid, NULL, &j->err);
}

/* On a pool thread: storage calls block. */
static void
append_work(void *arg)
{
	struct probe_job *j = arg;
	struct ps_store_user *u;

	j->result = store.user_open(j->user, 0, &u, &j->err);
	if (j->result < 0)
		return;
	j->result = append_one(u, j);
	store.user_close(u);
}

static void
append_done(void *arg)
{
	struct probe_job *j = arg;
	char reply[320];

	if (j->result < 0)
		snprintf(reply, sizeof(reply), "append failed: %s", j->err.msg);
	else
		snprintf(reply, sizeof(reply), "appended uid=%u", j->uid);
	ps_hook_reply(j->call, reply);
	ps_hook_resume(j->call, PS_HOOK_REJECT);
	free(j);
}

static int
on_line(struct ps_hook_call *call, void *arg)
{
	const struct echo_line_event *ev = ps_hook_data(call);
	struct probe_job *j;

	(void)arg;
	if (ev->len <= 7 || strncmp(ev->line, "append ", 7) != 0)
		return PS_HOOK_CONTINUE;
	if (!(j = calloc(1, sizeof(*j))))
		return PS_HOOK_DEFER;
	j->call = call;
	snprintf(j->user, sizeof(j->user), "%.*s", (int)(ev->len - 7),
		 ev->line + 7);
	if (ps_job_submit(append_work, append_done, j) < 0) {
		free(j);
		return PS_HOOK_DEFER;
	}
	return PS_HOOK_PENDING;
}

static void
on_change(const char *topic, const void *data, size_t len, void *arg)
{
	(void)arg;
	ps_log(PS_LOG_NOTICE, "change topic=%s mailbox=%.*s pid=%d", topic,
	       (int)len, (const char *)data, (int)getpid());
}

static int
store_probe_init(struct ps_error *err)
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
store_probe_worker_init(struct ps_error *err)
{
	if (ps_iface_get(PS_STORAGE_KIND, NULL, &store, sizeof(store)) < 0) {
		snprintf(err->msg, sizeof(err->msg), "no storage backend");
		return PS_EFAIL;
	}
	return ps_bus_subscribe(PS_STORAGE_TOPIC, on_change, NULL);
}

PS_MODULE_DEFINE(.name = "store_probe", .version = "1.0",
		 .requires = store_probe_requires, .init = store_probe_init,
		 .worker_init = store_probe_worker_init);
