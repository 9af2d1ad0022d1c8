/* Shared interfaces and backends: tables of functions a module publishes
 * under a kind and a name for other modules to look up. */
#ifndef PS_CORE_IFACE_H
#define PS_CORE_IFACE_H

#include <poshta/types.h>

int ps_iface_publish(struct ps_module_ctx *m, const char *kind,
		     const char *name, const void *table);
int ps_iface_get(const char *kind, const char *name, void *buf, size_t bufsize);
/* The module that published kind/name (name NULL: the first of that kind,
 * the one ps_iface_get finds), or NULL. */
struct ps_module_ctx *ps_iface_owner(const char *kind, const char *name);
void ps_ifaces_clear(void);

#endif
