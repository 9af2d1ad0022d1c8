/* new_minor.so: built for a newer minor of this ABI (PS_ABI_MINOR + 5), so
 * it may call api entries this core lacks. The loader must refuse it with
 * both versions in the message. Written out by hand because overriding
 * abi_minor inside PS_MODULE_DEFINE would trip -Woverride-init. */
#include <poshta/poshta.h>

static void
new_minor_bind(struct ps_module_ctx *self, const struct ps_api *api)
{
	(void)self;
	(void)api;
}

PS_EXPORT const struct ps_module poshta_module = {
	.magic = PS_MODULE_MAGIC,
	.abi_major = PS_ABI_MAJOR,
	.abi_minor = PS_ABI_MINOR + 5,
	.size = sizeof(struct ps_module),
	.name = "new_minor",
	.version = "1.0",
	.bind = new_minor_bind,
};
