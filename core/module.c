/* The module loader: opens NAME.so with libltdl, checks the descriptor
 * (magic, ABI major, ABI minor, size, name, dependencies) with one clear
 * line per refusal, binds the API table and runs init. Also the registry
 * of what modules declared: directives and protocols. */
#include "config.h"

#include <errno.h>
#include <ltdl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api.h"
#include "hook.h"
#include "iface.h"
#include "log.h"
#include "module.h"

struct ps_dirlist {
	const struct ps_directive **v;
	size_t n;
};

struct ps_module_ctx {
	char *name;
	char *path;
	lt_dlhandle handle;
	const struct ps_module *desc;
	size_t index;
	int registering;
	struct ps_dirlist dirs[2]; /* [scope - 1] */
	struct ps_conf_block **blocks; /* copies, in the module's scope */
	size_t nblocks;
	const struct ps_conf_section *section;
};

/* A protocol is copied into a zeroed struct of the core's size, so a
 * module built for an older minor reads NULL for callbacks it lacks. */
struct ps_proto_entry {
	struct ps_protocol proto;
	struct ps_module_ctx *owner;
};

static struct ps_module_ctx **modules;
static size_t nmodules;
static struct ps_proto_entry *protos;
static size_t nprotos;
static int ltdl_ready;

/* The descriptor fields every 1.x module has. */
#define PS_MODULE_MIN_SIZE (offsetof(struct ps_module, worker_exit) + \
	sizeof(((struct ps_module *)0)->worker_exit))

int
ps_module_check(const struct ps_module *d, const char *name,
		struct ps_error *err)
{
	if (d->magic != PS_MODULE_MAGIC)
		return ps_error_set(err, "bad magic 0x%08x (not a Poshta "
				    "module descriptor)", d->magic);
	if (d->abi_major != PS_ABI_MAJOR || d->abi_minor > PS_ABI_MINOR)
		return ps_error_set(err, "built for SDK ABI %u.%u, this "
				    "poshtad speaks %u.%u%s", d->abi_major,
				    d->abi_minor, PS_ABI_MAJOR, PS_ABI_MINOR,
				    d->abi_major == PS_ABI_MAJOR ?
				    " (module needs a newer poshtad)" : "");
	if (d->size < PS_MODULE_MIN_SIZE)
		return ps_error_set(err, "descriptor too small (%u bytes, "
				    "need %zu)", d->size,
				    (size_t)PS_MODULE_MIN_SIZE);
	if (!d->name || strcmp(d->name, name) != 0)
		return ps_error_set(err, "descriptor names the module '%s'",
				    d->name ? d->name : "(null)");
	if (!d->bind || !d->init)
		return ps_error_set(err, "descriptor lacks bind or init");
	return 0;
}

static int
check_requires(const struct ps_module *d, struct ps_error *err)
{
	for (const char *const *r = d->requires; r && *r; r++)
		if (!ps_module_find(*r))
			return ps_error_set(err, "requires module '%s', which "
					    "is not loaded before it", *r);
	return 0;
}

static int
valid_name(const char *name)
{
	if (!*name || strlen(name) > 64)
		return 0;
	for (const char *p = name; *p; p++)
		if (!(*p >= 'a' && *p <= 'z') && !(*p >= '0' && *p <= '9') &&
		    *p != '_' && *p != '-')
			return 0;
	return 1;
}

static struct ps_module_ctx *
ctx_new(const char *name, const char *path)
{
	struct ps_module_ctx *m = calloc(1, sizeof(*m));
	struct ps_module_ctx **v;

	if (!m)
		return NULL;
	m->name = strdup(name);
	m->path = strdup(path);
	v = realloc(modules, (nmodules + 1) * sizeof(*v));
	if (!m->name || !m->path || !v) {
		free(m->name);
		free(m->path);
		free(m);
		if (v)
			modules = v;
		return NULL;
	}
	modules = v;
	return m;
}

static void
ctx_free(struct ps_module_ctx *m)
{
	if (m->handle)
		lt_dlclose(m->handle);
	free(m->dirs[0].v);
	free(m->dirs[1].v);
	for (size_t i = 0; i < m->nblocks; i++)
		free(m->blocks[i]);
	free(m->blocks);
	free(m->name);
	free(m->path);
	free(m);
}

/* Open and check; on success m->desc is set. */
static int
open_module(struct ps_module_ctx *m, struct ps_error *err)
{
	const struct ps_module *d;

	if (access(m->path, F_OK) != 0)
		return ps_error_set(err, "%s", errno == ENOENT ?
				    "file not found" : strerror(errno));
	m->handle = lt_dlopen(m->path);
	if (!m->handle)
		return ps_error_set(err, "cannot load: %s", lt_dlerror());
	d = lt_dlsym(m->handle, "poshta_module");
	if (!d)
		return ps_error_set(err, "no poshta_module symbol (not a "
				    "Poshta module?)");
	if (ps_module_check(d, m->name, err) < 0 ||
	    check_requires(d, err) < 0)
		return PS_EFAIL;
	m->desc = d;
	return 0;
}

/* Register m (checked) and run its bind and init. */
static int
attach(struct ps_module_ctx *m, struct ps_error *err)
{
	struct ps_error why = {""};
	int r;

	m->index = nmodules;
	modules[nmodules++] = m;
	m->desc->bind(m, ps_api_table());
	m->registering = 1;
	r = m->desc->init(&why);
	m->registering = 0;
	if (r < 0)
		return ps_error_set(err, "module '%s' (%s): init failed: %s",
				    m->name, m->path, why.msg[0] ? why.msg :
				    "no reason given");
	ps_info("loaded module %s %s path=%s", m->name,
		m->desc->version ? m->desc->version : "", m->path);
	return 0;
}

static int
load_one(const char *dir, const char *name, struct ps_error *err)
{
	char path[4096];
	struct ps_module_ctx *m;
	struct ps_error why = {""};

	if (!valid_name(name))
		return ps_error_set(err, "module '%s': bad name (use a-z, "
				    "0-9, '_', '-')", name);
	if (ps_module_find(name))
		return ps_error_set(err, "module '%s' loaded twice", name);
	snprintf(path, sizeof(path), "%s/%s.so", dir, name);
	m = ctx_new(name, path);
	if (!m)
		return ps_error_set(err, "module '%s': out of memory", name);
	if (open_module(m, &why) < 0) {
		ps_error_set(err, "module '%s' (%s): %s", name, path, why.msg);
		ctx_free(m);
		return PS_EFAIL;
	}
	return attach(m, err);
}

int
ps_modules_add_static(const struct ps_module *d, struct ps_error *err)
{
	struct ps_module_ctx *m;
	struct ps_error why = {""};

	if (ps_module_find(d->name ? d->name : ""))
		return ps_error_set(err, "module '%s' loaded twice", d->name);
	if (!(m = ctx_new(d->name ? d->name : "", "(built in)")))
		return ps_error_set(err, "out of memory");
	if (ps_module_check(d, m->name, &why) < 0 ||
	    check_requires(d, &why) < 0) {
		ps_error_set(err, "module '%s' (built in): %s", m->name,
			     why.msg);
		ctx_free(m);
		return PS_EFAIL;
	}
	m->desc = d;
	return attach(m, err);
}

int
ps_modules_load(const char *dir, char *const *names, size_t n,
		struct ps_error *err)
{
	if (!ltdl_ready) {
		if (lt_dlinit() != 0)
			return ps_error_set(err, "libltdl: %s", lt_dlerror());
		ltdl_ready = 1;
	}
	for (size_t i = 0; i < n; i++)
		if (load_one(dir, names[i], err) < 0)
			return PS_EFAIL;
	return 0;
}

void
ps_modules_unload(void)
{
	while (nmodules > 0) {
		struct ps_module_ctx *m = modules[--nmodules];
		if (m->desc->deinit)
			m->desc->deinit();
		ctx_free(m);
	}
	free(modules);
	modules = NULL;
	ps_hooks_clear();
	ps_ifaces_clear();
	free(protos);
	protos = NULL;
	nprotos = 0;
	if (ltdl_ready)
		lt_dlexit();
	ltdl_ready = 0;
}

int
ps_module_worker_init(struct ps_module_ctx *m, struct ps_error *err)
{
	struct ps_error why = {""};

	if (m->desc->worker_init && m->desc->worker_init(&why) < 0)
		return ps_error_set(err, "module '%s': worker init failed: %s",
				    m->name, why.msg);
	return 0;
}

void
ps_module_worker_exit(struct ps_module_ctx *m)
{
	if (m->desc->worker_exit)
		m->desc->worker_exit();
}

int
ps_modules_worker_init(struct ps_error *err)
{
	for (size_t i = 0; i < nmodules; i++)
		if (ps_module_worker_init(modules[i], err) < 0)
			return PS_EFAIL;
	return 0;
}

void
ps_modules_worker_exit(void)
{
	for (size_t i = nmodules; i-- > 0;)
		ps_module_worker_exit(modules[i]);
}

size_t
ps_module_count(void)
{
	return nmodules;
}

struct ps_module_ctx *
ps_module_at(size_t index)
{
	return index < nmodules ? modules[index] : NULL;
}

struct ps_module_ctx *
ps_module_find(const char *name)
{
	for (size_t i = 0; i < nmodules; i++)
		if (strcmp(modules[i]->name, name) == 0)
			return modules[i];
	return NULL;
}

const char *
ps_module_name(const struct ps_module_ctx *m)
{
	return m->name;
}

size_t
ps_module_index(const struct ps_module_ctx *m)
{
	return m->index;
}

int
ps_module_registering(const struct ps_module_ctx *m)
{
	return m && m->registering;
}

const struct ps_directive *const *
ps_module_directives(const struct ps_module_ctx *m, enum ps_conf_scope scope,
		     size_t *n)
{
	const struct ps_dirlist *l = &m->dirs[scope - 1];
	*n = l->n;
	return l->v;
}

/* A name declared twice in one scope of one module is a module bug, and
 * so is a sub-block named like a directive of the module's block. */
static int
declared(const struct ps_module_ctx *m, enum ps_conf_scope scope,
	 const char *name)
{
	const struct ps_dirlist *l = &m->dirs[scope - 1];

	for (size_t i = 0; i < l->n; i++)
		for (const struct ps_directive *d = l->v[i]; d->name; d++)
			if (strcmp(d->name, name) == 0)
				return 1;
	for (size_t i = 0; scope == PS_SCOPE_MODULE && i < m->nblocks; i++)
		if (strcmp(m->blocks[i]->name, name) == 0)
			return 1;
	return 0;
}

int
ps_module_add_directives(struct ps_module_ctx *m, enum ps_conf_scope scope,
			 const struct ps_directive *d)
{
	struct ps_dirlist *l;
	const struct ps_directive **v;

	if (!ps_module_registering(m))
		return PS_ESTATE;
	if (scope != PS_SCOPE_MODULE && scope != PS_SCOPE_LISTEN)
		return PS_EINVAL;
	l = &m->dirs[scope - 1];
	for (const struct ps_directive *p = d; p->name; p++)
		if (declared(m, scope, p->name))
			return PS_EEXIST;
	v = realloc(l->v, (l->n + 1) * sizeof(*v));
	if (!v)
		return PS_ENOMEM;
	v[l->n++] = d;
	l->v = v;
	return 0;
}

const struct ps_conf_block *const *
ps_module_blocks(const struct ps_module_ctx *m, size_t *n)
{
	*n = m->nblocks;
	return (const struct ps_conf_block *const *)m->blocks;
}

/* The fields of a 1.5 block; a later minor may add more after them. */
#define PS_CONF_BLOCK_MIN_SIZE (offsetof(struct ps_conf_block, help) + \
	sizeof(((struct ps_conf_block *)0)->help))

/* A declaration the validator can use: at least the 1.5 fields, a name
 * a config file can spell (a word without blanks, quotes, braces, ';' or
 * '#'), directives, and an argument type it knows (0: none). */
static int
block_ok(const struct ps_conf_block *b)
{
	if (!b || b->size < PS_CONF_BLOCK_MIN_SIZE || !b->name ||
	    !*b->name || strpbrk(b->name, " \t\n;{}#\"'") || !b->directives)
		return 0;
	return (unsigned)b->args.type <= PS_CONF_WORDS;
}

int
ps_module_add_block(struct ps_module_ctx *m, const struct ps_conf_block *b)
{
	struct ps_conf_block **v, *copy;

	if (!ps_module_registering(m))
		return PS_ESTATE;
	if (!block_ok(b))
		return PS_EINVAL;
	if (declared(m, PS_SCOPE_MODULE, b->name))
		return PS_EEXIST;
	v = realloc(m->blocks, (m->nblocks + 1) * sizeof(*v));
	if (!v)
		return PS_ENOMEM;
	m->blocks = v;
	/* Copied into a zeroed struct of the core's size, like protocols. */
	if (!(copy = calloc(1, sizeof(*copy))))
		return PS_ENOMEM;
	memcpy(copy, b, b->size < sizeof(*b) ? b->size : sizeof(*b));
	copy->size = sizeof(*copy);
	v[m->nblocks++] = copy;
	return 0;
}

void
ps_module_set_section(struct ps_module_ctx *m, const struct ps_conf_section *s)
{
	m->section = s;
}

const struct ps_conf_section *
ps_module_section(struct ps_module_ctx *m)
{
	return m->section;
}

int
ps_protocol_add(struct ps_module_ctx *m, const struct ps_protocol *p)
{
	struct ps_proto_entry *v;

	if (!ps_module_registering(m))
		return PS_ESTATE;
	if (!p || p->size < offsetof(struct ps_protocol, on_line) +
	    sizeof(p->on_line) || !p->name || !p->on_line)
		return PS_EINVAL;
	if (ps_protocol_find(p->name, NULL))
		return PS_EEXIST;
	v = realloc(protos, (nprotos + 1) * sizeof(*v));
	if (!v)
		return PS_ENOMEM;
	protos = v;
	memset(&protos[nprotos].proto, 0, sizeof(struct ps_protocol));
	memcpy(&protos[nprotos].proto, p, p->size < sizeof(*p) ? p->size :
	       sizeof(*p));
	protos[nprotos++].owner = m;
	return 0;
}

const struct ps_protocol *
ps_protocol_find(const char *name, struct ps_module_ctx **owner)
{
	for (size_t i = 0; i < nprotos; i++)
		if (strcmp(protos[i].proto.name, name) == 0) {
			if (owner)
				*owner = protos[i].owner;
			return &protos[i].proto;
		}
	return NULL;
}
