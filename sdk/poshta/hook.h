/* Hooks: named points ("smtp.rcpt", "auth.fail") where modules filter.
 *
 * The module that owns an area runs a chain with ps_hook_run(); handlers
 * registered for the event run in priority order (lower first, ties by
 * module name) until one returns something other than PS_HOOK_CONTINUE.
 * What "data" points to is defined by the area's owner in its own header.
 *
 * Events the core itself runs:
 *   conn.close  a connection is closing (after the protocol's on_close);
 *               data is NULL and the verdict is ignored. Modules that are
 *               not the connection's protocol free what they hung on
 *               ps_conn_slot() here. Since 1.0. */
#ifndef POSHTA_HOOK_H
#define POSHTA_HOOK_H

#include <poshta/types.h>

enum ps_verdict {
	PS_HOOK_CONTINUE = 0, /* no opinion: next handler */
	PS_HOOK_ACCEPT,       /* accept now, skip the rest */
	PS_HOOK_REJECT,       /* permanent refusal, with ps_hook_reply() */
	PS_HOOK_DEFER,        /* temporary refusal, with ps_hook_reply() */
	PS_HOOK_PENDING,      /* answer later with ps_hook_resume() */
};

/* Priorities: a hint for ordering, any int works. */
#define PS_HOOK_FIRST (-100)
#define PS_HOOK_MIDDLE 0
#define PS_HOOK_LAST 100

typedef int (*ps_hook_fn)(struct ps_hook_call *call, void *arg);
/* The chain's result: CONTINUE when every handler continued. "reply" is
 * the text a handler set, or NULL. Called exactly once, possibly before
 * ps_hook_run returns. */
typedef void (*ps_hook_done_fn)(int verdict, const char *reply, void *arg);

#endif
