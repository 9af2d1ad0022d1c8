/* Whom the server runs as: the "user" and "group" directives resolved,
 * the state folder owned by them, and the switch a worker (or poshtactl)
 * makes to become them. */
#ifndef PS_CORE_PRIVILEGE_H
#define PS_CORE_PRIVILEGE_H

#include <poshta/types.h>

struct ps_config;

/* Fill cfg->uid, gid and drop_privileges from user and group. Returns 0
 * or -1 with "FILE: user 'x' does not exist" and the like. */
int ps_privilege_resolve(struct ps_config *cfg, struct ps_error *err);
/* Create state_dir (0750) if missing and give it to the user. */
int ps_privilege_state_dir(const struct ps_config *cfg, struct ps_error *err);
/* Become the user, for good (no-op when there is nobody to become). */
int ps_privilege_drop(const struct ps_config *cfg, struct ps_error *err);

#endif
