/* Hook chains (see hook.h). A chain runs synchronously until a handler
 * returns PENDING; ps_hook_resume picks it up where it stopped, so a
 * filter can wait for DNS or the thread pool without blocking the loop. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conn.h"
#include "hook.h"
#include "module.h"

struct ps_handler {
	int priority;
	struct ps_module_ctx *owner;
	ps_hook_fn fn;
	void *arg;
};

struct ps_event {
	char *name;
	struct ps_handler *v;
	size_t n;
};

struct ps_hook_call {
	const struct ps_event *event; /* NULL: no handlers */
	size_t next;                  /* handler to run next */
	struct ps_conn *conn;
	void *data;
	ps_hook_done_fn done;
	void *arg;
	int running;   /* inside a handler */
	int resumed;   /* ps_hook_resume called while running */
	int verdict;
	char reply[512];
	int has_reply;
};

static struct ps_event *events;
static size_t nevents;

static struct ps_event *
find_event(const char *name)
{
	for (size_t i = 0; i < nevents; i++)
		if (strcmp(events[i].name, name) == 0)
			return &events[i];
	return NULL;
}

static struct ps_event *
add_event(const char *name)
{
	struct ps_event *v = realloc(events, (nevents + 1) * sizeof(*v));
	if (!v)
		return NULL;
	events = v;
	v = &events[nevents];
	memset(v, 0, sizeof(*v));
	v->name = strdup(name);
	if (!v->name)
		return NULL;
	nevents++;
	return v;
}

static int
before(const struct ps_handler *a, const struct ps_handler *b)
{
	if (a->priority != b->priority)
		return a->priority < b->priority;
	return strcmp(ps_module_name(a->owner), ps_module_name(b->owner)) < 0;
}

int
ps_hook_register(struct ps_module_ctx *m, const char *event, int priority,
		 ps_hook_fn fn, void *arg)
{
	struct ps_event *e;
	struct ps_handler h = {priority, m, fn, arg}, *v;
	size_t i;

	if (!ps_module_registering(m))
		return PS_ESTATE;
	if (!event || !*event || !fn)
		return PS_EINVAL;
	e = find_event(event);
	if (!e && !(e = add_event(event)))
		return PS_ENOMEM;
	v = realloc(e->v, (e->n + 1) * sizeof(*v));
	if (!v)
		return PS_ENOMEM;
	e->v = v;
	/* Stable insertion: equal keys keep registration order. */
	for (i = e->n; i > 0 && before(&h, &v[i - 1]); i--)
		v[i] = v[i - 1];
	v[i] = h;
	e->n++;
	return 0;
}

static void
finish(struct ps_hook_call *call, int verdict)
{
	ps_hook_done_fn done = call->done;
	void *arg = call->arg;
	struct ps_conn *c = call->conn;
	char reply[sizeof(call->reply)];
	int has_reply = call->has_reply;

	memcpy(reply, call->reply, sizeof(reply));
	free(call);
	done(verdict, has_reply ? reply : NULL, arg);
	if (c)
		ps_conn_release(c);
}

/* Run handlers from call->next on until a verdict or PENDING. */
static void
advance(struct ps_hook_call *call)
{
	while (call->event && call->next < call->event->n) {
		const struct ps_handler *h = &call->event->v[call->next++];
		int v;

		call->running = 1;
		call->resumed = 0;
		v = h->fn(call, h->arg);
		call->running = 0;
		if (v == PS_HOOK_PENDING) {
			if (!call->resumed)
				return;
			v = call->verdict;
		}
		if (v != PS_HOOK_CONTINUE) {
			finish(call, v);
			return;
		}
	}
	finish(call, PS_HOOK_CONTINUE);
}

void
ps_hook_run(const char *event, struct ps_conn *c, void *data,
	    ps_hook_done_fn done, void *arg)
{
	struct ps_hook_call *call = calloc(1, sizeof(*call));

	if (!call) {
		/* Fail closed: a filter that could not run must not pass. */
		done(PS_HOOK_DEFER, "temporary server error", arg);
		return;
	}
	call->event = find_event(event);
	call->conn = c;
	call->data = data;
	call->done = done;
	call->arg = arg;
	if (c)
		ps_conn_hold(c);
	advance(call);
}

void *
ps_hook_data(struct ps_hook_call *call)
{
	return call->data;
}

struct ps_conn *
ps_hook_conn(struct ps_hook_call *call)
{
	return call->conn;
}

void
ps_hook_reply(struct ps_hook_call *call, const char *reply)
{
	snprintf(call->reply, sizeof(call->reply), "%s", reply ? reply : "");
	call->has_reply = reply != NULL;
}

void
ps_hook_resume(struct ps_hook_call *call, int verdict)
{
	if (verdict == PS_HOOK_PENDING)
		verdict = PS_HOOK_DEFER;
	if (call->running) {
		call->resumed = 1;
		call->verdict = verdict;
		return;
	}
	if (verdict != PS_HOOK_CONTINUE)
		finish(call, verdict);
	else
		advance(call);
}

void
ps_hooks_clear(void)
{
	for (size_t i = 0; i < nevents; i++) {
		free(events[i].name);
		free(events[i].v);
	}
	free(events);
	events = NULL;
	nevents = 0;
}
