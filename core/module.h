/* The module loader and registry: libltdl loading, descriptor and ABI
 * checks, dependency order, and what each module registered. */
#ifndef PS_CORE_MODULE_H
#define PS_CORE_MODULE_H

#include <poshta/config.h>
#include <poshta/conn.h>
#include <poshta/module.h>

struct ps_conf_section;

/* Load "dir/NAME.so" for each name, in the order given, calling bind and
 * init. A module whose requires are not loaded earlier is refused. On error
 * returns -1 with one line naming the file and the reason in err. */
int ps_modules_load(const char *dir, char *const *names, size_t n,
		    struct ps_error *err);
/* Check a descriptor found in a file against this core, in order: magic,
 * ABI major and minor, size, name, bind/init present. Returns 0 or -1
 * with the reason (without the file name) in err. */
int ps_module_check(const struct ps_module *d, const char *name,
		    struct ps_error *err);
/* Add a module linked into the program (fuzzers, unit tests, static
 * sanitizer builds) with the same checks, bind and init as a file. */
int ps_modules_add_static(const struct ps_module *d, struct ps_error *err);
/* deinit every module in reverse order and unload them. */
void ps_modules_unload(void);
/* worker_init / worker_exit of every module in load order (exit in
 * reverse). */
int ps_modules_worker_init(struct ps_error *err);
void ps_modules_worker_exit(void);
/* The same for one module (poshtactl starts only the backends it uses).
 * The error names the module. */
int ps_module_worker_init(struct ps_module_ctx *m, struct ps_error *err);
void ps_module_worker_exit(struct ps_module_ctx *m);

size_t ps_module_count(void);
struct ps_module_ctx *ps_module_at(size_t index);
struct ps_module_ctx *ps_module_find(const char *name);
const char *ps_module_name(const struct ps_module_ctx *m);
size_t ps_module_index(const struct ps_module_ctx *m);
/* Registration is allowed only while the module's init runs. */
int ps_module_registering(const struct ps_module_ctx *m);

/* Directives a module declared, for the config validator. */
const struct ps_directive *const *ps_module_directives(
	const struct ps_module_ctx *m, enum ps_conf_scope scope, size_t *n);
int ps_module_add_directives(struct ps_module_ctx *m, enum ps_conf_scope scope,
			     const struct ps_directive *d);
/* Sub-blocks a module declared for its own block (ABI 1.5), copied at
 * the core's size. ps_module_add_block checks the declaration and refuses
 * a name the module uses already (PS_EEXIST). */
const struct ps_conf_block *const *ps_module_blocks(
	const struct ps_module_ctx *m, size_t *n);
int ps_module_add_block(struct ps_module_ctx *m, const struct ps_conf_block *b);
/* The module's validated block (owned by the active config). */
void ps_module_set_section(struct ps_module_ctx *m,
			   const struct ps_conf_section *s);
const struct ps_conf_section *ps_module_section(struct ps_module_ctx *m);

/* Protocols registered by modules. The registry keeps a copy sized for
 * this core, so callbacks an older module lacks read NULL. */
int ps_protocol_add(struct ps_module_ctx *m, const struct ps_protocol *p);
const struct ps_protocol *ps_protocol_find(const char *name,
					   struct ps_module_ctx **owner);

#endif
