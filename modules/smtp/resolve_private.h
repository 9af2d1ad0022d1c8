/* What resolve.c (the channel on the loop) and resolve_lookup.c (the
 * lookups) share inside smtp.so. */
#ifndef SMTP_RESOLVE_PRIVATE_H
#define SMTP_RESOLVE_PRIVATE_H

#include <ares.h>

struct resolve_state {
	ares_channel chan;
	int up;      /* the channel exists: from worker_init to worker_exit */
	int exiting; /* worker_exit runs: no new lookups */
	int no_server; /* "resolver" given, none usable: every lookup TEMP */
};
extern struct resolve_state resolve_state;

/* After anything that may have given c-ares work: arm the timer for its
 * next deadline (ares_timeout), or none. */
void resolve_rearm(void);

/* Seed the worker's generator for shuffling equal MX preferences. */
void resolve_seed(void);

/* Hand over the results still waiting for their loop turn (worker exit). */
void resolve_flush(void);

#endif
