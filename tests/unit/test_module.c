/* Descriptor checks of the module loader, and registration rules, with
 * modules linked into the test (ps_modules_add_static). */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <poshta/poshta.h>
#include "module.h"

static const struct ps_api *api;
static struct ps_module_ctx *self;

static void
bind(struct ps_module_ctx *m, const struct ps_api *a)
{
	self = m;
	api = a;
}

static int
init_ok(struct ps_error *err)
{
	return 0;
}

static int
init_fails(struct ps_error *err)
{
	snprintf(err->msg, sizeof(err->msg), "database missing");
	return -1;
}

static struct ps_module
good(const char *name)
{
	struct ps_module d = {
		.magic = PS_MODULE_MAGIC, .abi_major = PS_ABI_MAJOR,
		.abi_minor = PS_ABI_MINOR, .size = sizeof(struct ps_module),
		.name = name, .bind = bind, .init = init_ok,
	};
	return d;
}

static void
expect_refusal(const struct ps_module *d, const char *name, const char *msg)
{
	struct ps_error err = {""};
	assert_int_equal(ps_module_check(d, name, &err), PS_EFAIL);
	assert_non_null(strstr(err.msg, msg));
}

static void
test_check_good(void **state)
{
	struct ps_module d = good("echo");
	struct ps_error err = {""};
	assert_int_equal(ps_module_check(&d, "echo", &err), 0);
}

static void
test_check_refusals(void **state)
{
	struct ps_module d = good("echo");
	char want[64];

	d.magic = 0x12345678;
	expect_refusal(&d, "echo", "bad magic 0x12345678");
	d = good("echo");
	d.abi_major = PS_ABI_MAJOR + 1;
	snprintf(want, sizeof(want), "built for SDK ABI %d.%d, this poshtad "
		 "speaks %d.%d", PS_ABI_MAJOR + 1, PS_ABI_MINOR, PS_ABI_MAJOR,
		 PS_ABI_MINOR);
	expect_refusal(&d, "echo", want);
	d = good("echo");
	d.abi_minor = PS_ABI_MINOR + 1;
	expect_refusal(&d, "echo", "needs a newer poshtad");
	d = good("echo");
	d.size = 8;
	expect_refusal(&d, "echo", "descriptor too small");
	d = good("echo");
	expect_refusal(&d, "smtp", "names the module 'echo'");
	d = good("echo");
	d.init = NULL;
	expect_refusal(&d, "echo", "lacks bind or init");
}

static const struct ps_directive dirs[] = {
	{"greeting", PS_CONF_STRING, 0, 0, 0, NULL, "hi", "greeting"},
	{NULL, 0, 0, 0, 0, NULL, NULL, NULL},
};

static int
init_registers(struct ps_error *err)
{
	if (api->conf_register(self, PS_SCOPE_MODULE, dirs) != 0)
		return -1;
	/* The same name twice in one scope is a module bug. */
	return api->conf_register(self, PS_SCOPE_MODULE, dirs) == PS_EEXIST ?
		0 : -1;
}

static void
test_static_and_registration(void **state)
{
	struct ps_module a = good("alpha"), b = good("beta"), c = good("gamma");
	const char *const needs[] = {"missing", NULL};
	struct ps_error err = {""};
	size_t n;

	a.init = init_registers;
	assert_int_equal(ps_modules_add_static(&a, &err), 0);
	assert_ptr_equal(ps_module_find("alpha"), self);
	ps_module_directives(self, PS_SCOPE_MODULE, &n);
	assert_int_equal(n, 1);
	/* Outside init, registration is refused. */
	assert_int_equal(api->conf_register(self, PS_SCOPE_LISTEN, dirs),
			 PS_ESTATE);
	b.init = init_fails;
	assert_int_equal(ps_modules_add_static(&b, &err), PS_EFAIL);
	assert_non_null(strstr(err.msg, "init failed: database missing"));
	c.requires = needs;
	assert_int_equal(ps_modules_add_static(&c, &err), PS_EFAIL);
	assert_non_null(strstr(err.msg, "requires module 'missing'"));
	assert_int_equal(ps_modules_add_static(&a, &err), PS_EFAIL);
	assert_non_null(strstr(err.msg, "loaded twice"));
	ps_modules_unload();
	assert_int_equal(ps_module_count(), 0);
}

static void
test_api_table(void **state)
{
	struct ps_module a = good("alpha");
	struct ps_error err = {""};

	assert_int_equal(ps_modules_add_static(&a, &err), 0);
	assert_int_equal(api->size, sizeof(struct ps_api));
	assert_int_equal(api->abi_major, PS_ABI_MAJOR);
	/* Every entry of this ABI is filled. */
	for (size_t off = offsetof(struct ps_api, logv); off < api->size;
	     off += sizeof(void (*)(void))) {
		void (*fn)(void);
		memcpy(&fn, (const char *)api + off, sizeof(fn));
		assert_non_null(fn);
	}
	ps_modules_unload();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_check_good),
		cmocka_unit_test(test_check_refusals),
		cmocka_unit_test(test_static_and_registration),
		cmocka_unit_test(test_api_table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
