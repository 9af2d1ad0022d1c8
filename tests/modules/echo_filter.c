/* echo_filter.so: a filter on echo.so's "echo.line" hook that tests hook
 * ordering, every verdict, PENDING finished by a timer and by a job, and
 * per-connection slots freed on conn.close. A line containing "vip" is accepted first thing;
 * otherwise "reject", "defer", "count", "slow" and "job" act as below. */
#include <poshta/poshta.h>

#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "echo.h"

static const char *const echo_filter_requires[] = { "echo", NULL };

/* At PS_HOOK_FIRST: a vip line is accepted before judge() can see it. */
static int
vip_first(struct ps_hook_call *call, void *arg)
{
	const struct echo_line_event *ev = ps_hook_data(call);

	(void)arg;
	return strstr(ev->line, "vip") ? PS_HOOK_ACCEPT : PS_HOOK_CONTINUE;
}

/* Timer and job completions run on the loop thread, where resuming is
 * allowed. */
static void
accept_later(void *call)
{
	ps_hook_resume(call, PS_HOOK_ACCEPT);
}

/* On a pool thread: stands for a DNS lookup or a database query. No SDK
 * calls here. */
static void
slow_work(void *arg)
{
	struct timespec ts = { .tv_nsec = 50 * 1000 * 1000 };

	(void)arg;
	nanosleep(&ts, NULL);
}

static int
judge(struct ps_hook_call *call, void *arg)
{
	const struct echo_line_event *ev = ps_hook_data(call);
	struct ps_conn *c = ps_hook_conn(call);
	void **slot = ps_conn_slot(c);
	unsigned long *count = *slot, seen;
	char reply[32];

	(void)arg;
	/* Ours until conn.close frees it (closed() below). */
	if (!count && !(count = *slot = calloc(1, sizeof(*count))))
		return PS_HOOK_DEFER;
	seen = ++*count;
	if (strstr(ev->line, "reject")) {
		ps_conn_log(c, PS_LOG_INFO, "verdict=reject seen=%lu", seen);
		ps_hook_reply(call, "filtered");
		return PS_HOOK_REJECT;
	}
	if (strstr(ev->line, "defer"))
		return PS_HOOK_DEFER;
	if (strstr(ev->line, "count")) {
		snprintf(reply, sizeof(reply), "seen=%lu", seen);
		ps_hook_reply(call, reply);
		return PS_HOOK_REJECT;
	}
	if (strstr(ev->line, "slow"))
		return ps_timer_add(200, accept_later, call) ? PS_HOOK_PENDING
							     : PS_HOOK_DEFER;
	if (strstr(ev->line, "job"))
		return ps_job_submit(slow_work, accept_later, call) == 0
			       ? PS_HOOK_PENDING
			       : PS_HOOK_DEFER;
	return PS_HOOK_CONTINUE;
}

/* The core's conn.close event: free what this module hung on the slot. */
static int
closed(struct ps_hook_call *call, void *arg)
{
	struct ps_conn *c = ps_hook_conn(call);
	void **slot = ps_conn_slot(c);

	(void)arg;
	if (*slot)
		ps_conn_log(c, PS_LOG_INFO, "closed seen=%lu",
			    *(unsigned long *)*slot);
	free(*slot);
	*slot = NULL;
	return PS_HOOK_CONTINUE;
}

static int
echo_filter_init(struct ps_error *err)
{
	if (ps_hook_register(ECHO_HOOK_LINE, PS_HOOK_MIDDLE, judge, NULL) < 0 ||
	    ps_hook_register("conn.close", PS_HOOK_MIDDLE, closed, NULL) < 0 ||
	    ps_hook_register(ECHO_HOOK_LINE, PS_HOOK_FIRST, vip_first,
			     NULL) < 0) {
		snprintf(err->msg, sizeof(err->msg),
			 "cannot register on " ECHO_HOOK_LINE);
		return PS_EFAIL;
	}
	return 0;
}

PS_MODULE_DEFINE(.name = "echo_filter", .version = "1.0",
		 .requires = echo_filter_requires, .init = echo_filter_init);
