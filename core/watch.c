/* File descriptor watches for modules that own their sockets (a resolver
 * library such as c-ares): the worker's loop calls them back when an fd is
 * readable or writable. A thin layer over ps_loop_watch, level-triggered
 * like it. */
#include "config.h"

#include <stdlib.h>

#include "loop.h"
#include "watch.h"
#include "worker.h"

_Static_assert(PS_WATCH_READ == PS_EV_READ && PS_WATCH_WRITE == PS_EV_WRITE &&
	       PS_WATCH_ERROR == PS_EV_ERROR,
	       "SDK watch bits are the loop's event bits");

struct ps_watch {
	int fd;
	ps_watch_fn fn;
	void *arg;
};

/* Nothing of w is touched after fn: fn may remove (free) it. */
static void
watch_io(struct ps_loop *l, int fd, unsigned events, void *arg)
{
	struct ps_watch *w = arg;

	(void)l;
	w->fn(fd, events, w->arg);
}

static int
watch_events_ok(unsigned events)
{
	return !(events & ~(unsigned)(PS_WATCH_READ | PS_WATCH_WRITE));
}

struct ps_watch *
ps_watch_add(int fd, unsigned events, ps_watch_fn fn, void *arg)
{
	struct ps_loop *l = ps_worker_loop();
	struct ps_watch *w;

	if (!l || fd < 0 || !fn || !watch_events_ok(events))
		return NULL;
	if (!(w = malloc(sizeof(*w))))
		return NULL;
	w->fd = fd;
	w->fn = fn;
	w->arg = arg;
	if (ps_loop_watch(l, fd, events, watch_io, w) < 0) {
		free(w);
		return NULL;
	}
	return w;
}

int
ps_watch_set(struct ps_watch *w, unsigned events)
{
	struct ps_loop *l = ps_worker_loop();

	if (!l || !w || !watch_events_ok(events))
		return PS_EINVAL;
	return ps_loop_watch(l, w->fd, events, watch_io, w);
}

/* The loop drops events already fetched for an fd unwatched in the same
 * turn, so freeing at once is safe, from fn too. */
void
ps_watch_remove(struct ps_watch *w)
{
	struct ps_loop *l = ps_worker_loop();

	if (!w)
		return;
	if (l)
		ps_loop_unwatch(l, w->fd);
	free(w);
}
