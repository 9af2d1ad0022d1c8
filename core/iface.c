/* Interfaces (see iface.h): the way imap.so lets a module add a command,
 * and the way storage and auth backends are found. Tables begin with
 * their size; a lookup copies into the caller's zeroed struct, so a
 * consumer built for a newer table reads NULL for what is missing. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "iface.h"
#include "module.h"

struct ps_iface {
	char *kind;
	char *name;
	const void *table;
	struct ps_module_ctx *owner;
};

static struct ps_iface *ifaces;
static size_t nifaces;

static struct ps_iface *
find(const char *kind, const char *name)
{
	for (size_t i = 0; i < nifaces; i++)
		if (strcmp(ifaces[i].kind, kind) == 0 &&
		    (!name || strcmp(ifaces[i].name, name) == 0))
			return &ifaces[i];
	return NULL;
}

int
ps_iface_publish(struct ps_module_ctx *m, const char *kind, const char *name,
		 const void *table)
{
	struct ps_iface *v;

	if (!ps_module_registering(m))
		return PS_ESTATE;
	if (!kind || !name || !table || *(const size_t *)table < sizeof(size_t))
		return PS_EINVAL;
	if (find(kind, name))
		return PS_EEXIST;
	v = realloc(ifaces, (nifaces + 1) * sizeof(*v));
	if (!v)
		return PS_ENOMEM;
	ifaces = v;
	v = &ifaces[nifaces];
	v->kind = strdup(kind);
	v->name = strdup(name);
	if (!v->kind || !v->name) {
		free(v->kind);
		free(v->name);
		return PS_ENOMEM;
	}
	v->table = table;
	v->owner = m;
	nifaces++;
	return 0;
}

int
ps_iface_get(const char *kind, const char *name, void *buf, size_t bufsize)
{
	const struct ps_iface *f = kind ? find(kind, name) : NULL;
	size_t have;

	if (!f)
		return PS_ENOENT;
	have = *(const size_t *)f->table;
	memset(buf, 0, bufsize);
	memcpy(buf, f->table, have < bufsize ? have : bufsize);
	return 0;
}

struct ps_module_ctx *
ps_iface_owner(const char *kind, const char *name)
{
	const struct ps_iface *f = kind ? find(kind, name) : NULL;

	return f ? f->owner : NULL;
}

void
ps_ifaces_clear(void)
{
	for (size_t i = 0; i < nifaces; i++) {
		free(ifaces[i].kind);
		free(ifaces[i].name);
	}
	free(ifaces);
	ifaces = NULL;
	nifaces = 0;
}
