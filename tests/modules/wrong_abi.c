/* wrong_abi.so: a descriptor claiming SDK ABI 99.0, written out by hand
 * instead of with PS_MODULE_DEFINE, as a module built against some future
 * SDK would carry. The loader must refuse it with one line naming the file
 * and both versions, before calling anything in it. */
#include <poshta/poshta.h>

static void
wrong_abi_bind(struct ps_module_ctx *self, const struct ps_api *api)
{
	(void)self;
	(void)api;
}

PS_EXPORT const struct ps_module poshta_module = {
	.magic = PS_MODULE_MAGIC,
	.abi_major = 99,
	.abi_minor = 0,
	.size = sizeof(struct ps_module),
	.name = "wrong_abi",
	.version = "1.0",
	.bind = wrong_abi_bind,
};
