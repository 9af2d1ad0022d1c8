/* The module descriptor: the one symbol a module exports.
 *
 * The loader checks magic, ABI major, ABI minor and struct size in turn and
 * refuses a mismatch with one line naming the file and both versions. */
#ifndef POSHTA_MODULE_H
#define POSHTA_MODULE_H

#include <poshta/types.h>
#include <poshta/version.h>

#define PS_MODULE_MAGIC 0x50534854u /* "PSHT" */

struct ps_api;

struct ps_module {
	uint32_t magic;     /* PS_MODULE_MAGIC */
	uint16_t abi_major; /* PS_ABI_MAJOR the module was built with */
	uint16_t abi_minor; /* PS_ABI_MINOR the module was built with */
	uint32_t size;      /* sizeof(struct ps_module) at build time */
	const char *name;   /* must equal the name in "load NAME;" */
	const char *version;
	/* Modules that must be loaded first, NULL-terminated, or NULL. */
	const char *const *requires;
	/* Called by the core before anything else; PS_MODULE_DEFINE fills it. */
	void (*bind)(struct ps_module_ctx *self, const struct ps_api *api);
	/* In the master, once, after bind: register directives, protocols,
	 * hooks and interfaces. Registration is refused anywhere else.
	 * Return 0, or negative with a message in err. */
	int (*init)(struct ps_error *err);
	/* In the master at exit. */
	void (*deinit)(void);
	/* In each worker after fork, once the config is final: read config,
	 * open databases, start timers. Return 0 or negative with err. */
	int (*worker_init)(struct ps_error *err);
	/* In each worker before it exits. */
	void (*worker_exit)(void);
};

/* The API table and this module's handle, set by bind. Hidden: each module
 * has its own copy and exports nothing but poshta_module. */
extern PS_HIDDEN const struct ps_api *ps__api;
extern PS_HIDDEN struct ps_module_ctx *ps__self;

/* Define the descriptor. Use once per module, with designated initialisers:
 *   PS_MODULE_DEFINE(.name = "echo", .version = "1.0", .init = echo_init);
 */
#define PS_MODULE_DEFINE(...)                                                \
	PS_HIDDEN const struct ps_api *ps__api;                              \
	PS_HIDDEN struct ps_module_ctx *ps__self;                            \
	static void ps__bind(struct ps_module_ctx *self,                     \
			     const struct ps_api *api)                       \
	{                                                                    \
		ps__self = self;                                             \
		ps__api = api;                                               \
	}                                                                    \
	PS_EXPORT const struct ps_module poshta_module = {                   \
		.magic = PS_MODULE_MAGIC,                                    \
		.abi_major = PS_ABI_MAJOR,                                   \
		.abi_minor = PS_ABI_MINOR,                                   \
		.size = sizeof(struct ps_module),                            \
		.bind = ps__bind,                                            \
		__VA_ARGS__}

#endif
