/* bus_probe.so: proves that a bus message published in one worker reaches
 * every worker. Each worker subscribes to "test." and logs what arrives at
 * notice, with its pid; on echo, the line "publish X" publishes "test.X",
 * "local X" hands "test.X" to this worker's subscribers only, and
 * "subscribe X" tries to subscribe to "X" after worker_init. */
#include <poshta/poshta.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "echo.h"

static const char *const bus_probe_requires[] = { "echo", NULL };

static void
on_message(const char *topic, const void *data, size_t len, void *arg)
{
	(void)arg;
	ps_log(PS_LOG_NOTICE, "got %s pid=%ld from=%.*s", topic,
	       (long)getpid(), (int)len, (const char *)data);
}

/* Last, so that echo_filter's verdicts come first; always continues. */
static int
on_line(struct ps_hook_call *call, void *arg)
{
	const struct echo_line_event *ev = ps_hook_data(call);
	struct ps_conn *c = ps_hook_conn(call);
	char topic[128], pid[24];
	int n;

	int local = strncmp(ev->line, "local ", 6) == 0;

	(void)arg;
	if (strncmp(ev->line, "subscribe ", 10) == 0) {
		ps_conn_log(c, PS_LOG_NOTICE, "late subscribe prefix=%s r=%d",
			    ev->line + 10,
			    ps_bus_subscribe(ev->line + 10, on_message, NULL));
		return PS_HOOK_CONTINUE;
	}
	if (!local && strncmp(ev->line, "publish ", 8) != 0)
		return PS_HOOK_CONTINUE;
	snprintf(topic, sizeof(topic), "test.%s", ev->line + (local ? 6 : 8));
	n = snprintf(pid, sizeof(pid), "%ld", (long)getpid());
	if ((local ? ps_bus_publish_local(topic, pid, (size_t)n) :
		     ps_bus_publish(topic, pid, (size_t)n)) < 0) {
		ps_hook_reply(call, "bus publish failed");
		return PS_HOOK_DEFER;
	}
	ps_conn_log(c, PS_LOG_NOTICE, "published%s topic=%s pid=%s",
		    local ? " locally" : "", topic, pid);
	return PS_HOOK_CONTINUE;
}

static int
bus_probe_init(struct ps_error *err)
{
	if (ps_hook_register(ECHO_HOOK_LINE, PS_HOOK_LAST, on_line, NULL) < 0) {
		snprintf(err->msg, sizeof(err->msg), "cannot register hook");
		return PS_EFAIL;
	}
	return 0;
}

/* Subscriptions belong to the worker's loop, so they are made here. */
static int
bus_probe_worker_init(struct ps_error *err)
{
	if (ps_bus_subscribe("test.", on_message, NULL) < 0) {
		snprintf(err->msg, sizeof(err->msg), "cannot subscribe");
		return PS_EFAIL;
	}
	ps_log(PS_LOG_NOTICE, "subscribed prefix=test. pid=%ld",
	       (long)getpid());
	return 0;
}

PS_MODULE_DEFINE(.name = "bus_probe", .version = "1.0",
		 .requires = bus_probe_requires, .init = bus_probe_init,
		 .worker_init = bus_probe_worker_init);
