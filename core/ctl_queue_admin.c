/* poshtactl queue flush|hold|release|delete: the queue's administration
 * calls (sdk/poshta/queue.h: flush, hold, remove), one message id at a
 * time. Every id is checked before the first call; an id that is not in
 * the queue is reported and the others are still done, so the exit status
 * says whether all were. */
#include "config.h"

#include <time.h>

#include "ctl.h"

typedef int (*admin_fn)(const struct ps_queue_ops *q, const char *id,
			struct ps_error *err);

/* fn on each id argument; "DONE N messages" counts those it did. */
static int
each_id(struct ctl *c, admin_fn fn, const char *done)
{
	unsigned n = 0;
	int code = CTL_OK;

	if (ctl_queue_check_ids(c) != CTL_OK)
		return CTL_FAIL;
	for (int i = 0; i < c->nargs; i++) {
		struct ps_error err = {""};
		int r = fn(&c->queue, c->args[i], &err);

		if (r == PS_ENOENT)
			code = ctl_fail("%s: no such message in the queue",
					c->args[i]);
		else if (r < 0)
			code = ctl_fail("%s: %s", c->args[i], err.msg);
		else
			n++;
	}
	printf("%s %u message%s\n", done, n, n == 1 ? "" : "s");
	return code;
}

static int
flush_one(const struct ps_queue_ops *q, const char *id, struct ps_error *err)
{
	return q->flush(id, (int64_t)time(NULL), err);
}

static int
hold_one(const struct ps_queue_ops *q, const char *id, struct ps_error *err)
{
	return q->hold(id, 1, err);
}

static int
release_one(const struct ps_queue_ops *q, const char *id,
	    struct ps_error *err)
{
	return q->hold(id, 0, err);
}

static int
delete_one(const struct ps_queue_ops *q, const char *id,
	   struct ps_error *err)
{
	return q->remove(id, err);
}

/* Without ids, every message's waiting recipients. */
int
ctl_queue_flush(struct ctl *c)
{
	struct ps_error err = {""};
	int r;

	if (CTL_LACKS(c->queue, flush))
		return CTL_FAIL;
	if (c->nargs > 0)
		return each_id(c, flush_one, "flushed");
	r = c->queue.flush(NULL, (int64_t)time(NULL), &err);
	if (r == 0)
		puts("flushed the queue");
	return ctl_done(r, &err);
}

int
ctl_queue_hold(struct ctl *c)
{
	return CTL_LACKS(c->queue, hold) ? CTL_FAIL
					 : each_id(c, hold_one, "held");
}

int
ctl_queue_release(struct ctl *c)
{
	return CTL_LACKS(c->queue, hold) ? CTL_FAIL
					 : each_id(c, release_one, "released");
}

int
ctl_queue_delete(struct ctl *c)
{
	return CTL_LACKS(c->queue, remove) ? CTL_FAIL
					   : each_id(c, delete_one, "deleted");
}
