/* Signals as loop events: the signals are blocked and read from a
 * signalfd on the loop, so their handling never interrupts a callback. */
#ifndef PS_CORE_SIGWATCH_H
#define PS_CORE_SIGWATCH_H

#include <poshta/types.h>

struct ps_loop;

/* Block the signals in sigs (0-terminated) and call fn(signo) from the
 * loop for each one that arrives. Returns the signalfd (close it to stop,
 * e.g. in a forked child) or -1 with err. */
int ps_sigwatch(struct ps_loop *loop, const int *sigs, void (*fn)(int signo),
		struct ps_error *err);

#endif
