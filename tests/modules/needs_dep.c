/* needs_dep.so: requires a module named "not_loaded" that no config
 * loads. The loader must refuse it, naming both modules, before its init
 * runs (init is there only because the loader demands one). */
#include <poshta/poshta.h>

static const char *const needs_dep_requires[] = { "not_loaded", NULL };

static int
needs_dep_init(struct ps_error *err)
{
	(void)err;
	return 0;
}

PS_MODULE_DEFINE(.name = "needs_dep", .version = "1.0",
		 .requires = needs_dep_requires, .init = needs_dep_init);
