/* Hook chains: order by priority then module name, verdicts stop the
 * chain, replies travel, PENDING handlers resume later or at once. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <poshta/poshta.h>
#include "hook.h"
#include "module.h"

static const struct ps_api *api;
static struct ps_module_ctx *self;
static char trace[256];
static struct ps_hook_call *parked;

static void
bind(struct ps_module_ctx *m, const struct ps_api *a)
{
	self = m;
	api = a;
}

/* A handler whose behaviour is its arg: "name:verdict". */
static int
handler(struct ps_hook_call *call, void *arg)
{
	const char *spec = arg;
	const char *colon = strchr(spec, ':');

	strncat(trace, spec, (size_t)(colon - spec));
	strcat(trace, " ");
	if (strcmp(colon + 1, "reject") == 0) {
		api->hook_reply(call, "550 no");
		return PS_HOOK_REJECT;
	}
	if (strcmp(colon + 1, "park") == 0) {
		parked = call;
		return PS_HOOK_PENDING;
	}
	if (strcmp(colon + 1, "sync") == 0) {
		api->hook_resume(call, PS_HOOK_CONTINUE);
		return PS_HOOK_PENDING;
	}
	if (strcmp(colon + 1, "data") == 0)
		return strcmp(api->hook_data(call), "payload") == 0 ?
			PS_HOOK_CONTINUE : PS_HOOK_DEFER;
	return PS_HOOK_CONTINUE;
}

static int
init_hooks(struct ps_error *err)
{
	/* Registered out of order on purpose. */
	return api->hook_register(self, "t.order", 10, handler, "c:go") ||
		api->hook_register(self, "t.order", -5, handler, "a:go") ||
		api->hook_register(self, "t.order", 0, handler, "b:go") ||
		api->hook_register(self, "t.stop", 0, handler, "a:go") ||
		api->hook_register(self, "t.stop", 1, handler, "b:reject") ||
		api->hook_register(self, "t.stop", 2, handler, "c:go") ||
		api->hook_register(self, "t.park", 0, handler, "a:park") ||
		api->hook_register(self, "t.park", 1, handler, "b:go") ||
		api->hook_register(self, "t.sync", 0, handler, "a:sync") ||
		api->hook_register(self, "t.sync", 1, handler, "b:data");
}

static int last_verdict = -1;
static char last_reply[64];
static int calls;

static void
done(int verdict, const char *reply, void *arg)
{
	last_verdict = verdict;
	snprintf(last_reply, sizeof(last_reply), "%s", reply ? reply : "-");
	calls++;
}

static int
setup(void **state)
{
	struct ps_module d = {
		.magic = PS_MODULE_MAGIC, .abi_major = PS_ABI_MAJOR,
		.abi_minor = PS_ABI_MINOR, .size = sizeof(struct ps_module),
		.name = "filter", .bind = bind, .init = init_hooks,
	};
	static struct ps_module desc;
	struct ps_error err = {""};

	desc = d;
	return ps_modules_add_static(&desc, &err);
}

static int
teardown(void **state)
{
	ps_modules_unload();
	return 0;
}

static void
run(const char *event, void *data)
{
	trace[0] = '\0';
	calls = 0;
	last_verdict = -1;
	ps_hook_run(event, NULL, data, done, NULL);
}

static void
test_priority_order(void **state)
{
	run("t.order", NULL);
	assert_string_equal(trace, "a b c ");
	assert_int_equal(last_verdict, PS_HOOK_CONTINUE);
	assert_int_equal(calls, 1);
}

static void
test_reject_stops_chain(void **state)
{
	run("t.stop", NULL);
	assert_string_equal(trace, "a b ");
	assert_int_equal(last_verdict, PS_HOOK_REJECT);
	assert_string_equal(last_reply, "550 no");
}

static void
test_pending_resumes_later(void **state)
{
	run("t.park", NULL);
	assert_string_equal(trace, "a ");
	assert_int_equal(calls, 0);
	ps_hook_resume(parked, PS_HOOK_CONTINUE);
	assert_string_equal(trace, "a b ");
	assert_int_equal(calls, 1);
	assert_int_equal(last_verdict, PS_HOOK_CONTINUE);
	run("t.park", NULL);
	ps_hook_resume(parked, PS_HOOK_DEFER);
	assert_string_equal(trace, "a ");
	assert_int_equal(last_verdict, PS_HOOK_DEFER);
	assert_string_equal(last_reply, "-");
}

static void
test_resume_inside_handler_and_data(void **state)
{
	run("t.sync", "payload");
	assert_string_equal(trace, "a b ");
	assert_int_equal(last_verdict, PS_HOOK_CONTINUE);
	assert_int_equal(calls, 1);
	run("t.sync", "other");
	assert_int_equal(last_verdict, PS_HOOK_DEFER);
}

static void
test_no_handlers(void **state)
{
	run("t.nobody", NULL);
	assert_string_equal(trace, "");
	assert_int_equal(last_verdict, PS_HOOK_CONTINUE);
	assert_int_equal(calls, 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_priority_order),
		cmocka_unit_test(test_reject_stops_chain),
		cmocka_unit_test(test_pending_resumes_later),
		cmocka_unit_test(test_resume_inside_handler_and_data),
		cmocka_unit_test(test_no_handlers),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
