/* Hook chains: handlers registered per event name, run in priority order
 * (ties by module name) until one returns a verdict, with PENDING handlers
 * resumed later. See <poshta/hook.h> for the module-facing contract. */
#ifndef PS_CORE_HOOK_H
#define PS_CORE_HOOK_H

#include <poshta/hook.h>

int ps_hook_register(struct ps_module_ctx *m, const char *event, int priority,
		     ps_hook_fn fn, void *arg);
void ps_hook_run(const char *event, struct ps_conn *c, void *data,
		 ps_hook_done_fn done, void *arg);
void *ps_hook_data(struct ps_hook_call *call);
struct ps_conn *ps_hook_conn(struct ps_hook_call *call);
void ps_hook_reply(struct ps_hook_call *call, const char *reply);
void ps_hook_resume(struct ps_hook_call *call, int verdict);
/* Forget every handler (at unload). */
void ps_hooks_clear(void);

#endif
