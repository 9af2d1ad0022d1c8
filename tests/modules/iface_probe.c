/* iface_probe.so: checks the SDK rules a module relies on from inside a
 * worker, and logs one line saying what it found: a published interface
 * reads back zero-filled past the publisher's size, an unknown one is
 * PS_ENOENT, PS_API_HAS sees 1.0 entries, and late registration fails. */
#include <poshta/poshta.h>

#include <stdio.h>
#include <string.h>

/* Version 1 of a made-up interface, as its publisher was built... */
struct probe_v1 {
	size_t size;
	int (*answer)(void);
};

/* ...and version 2, as a newer consumer sees it. */
struct probe_v2 {
	size_t size;
	int (*answer)(void);
	int (*added_later)(void);
};

static int
answer(void)
{
	return 42;
}

static const struct probe_v1 probe_table = {
	.size = sizeof(struct probe_v1),
	.answer = answer,
};

static int
never_called(struct ps_hook_call *call, void *arg)
{
	(void)call;
	(void)arg;
	return PS_HOOK_CONTINUE;
}

static int
iface_probe_init(struct ps_error *err)
{
	if (ps_iface_publish("test.probe", "v1", &probe_table) < 0) {
		snprintf(err->msg, sizeof(err->msg), "cannot publish");
		return PS_EFAIL;
	}
	return 0;
}

static int
iface_probe_worker_init(struct ps_error *err)
{
	struct probe_v2 t;
	int got, missing, late;

	(void)err;
	memset(&t, 0xff, sizeof(t));
	got = ps_iface_get("test.probe", "v1", &t, sizeof(t));
	missing = ps_iface_get("test.probe", "nope", &t, 0);
	late = ps_hook_register("echo.line", 0, never_called, NULL);
	ps_log(PS_LOG_NOTICE,
	       "get=%d size_is_v1=%d answer=%d zero_filled=%d missing=%d "
	       "late_register=%d api_has_slot=%d",
	       got, got == 0 && t.size == sizeof(struct probe_v1),
	       got == 0 ? t.answer() : -1,
	       got == 0 && t.added_later == NULL, missing, late,
	       (int)PS_API_HAS(conn_slot));
	return 0;
}

PS_MODULE_DEFINE(.name = "iface_probe", .version = "1.0",
		 .init = iface_probe_init,
		 .worker_init = iface_probe_worker_init);
