/* Authentication failures: the delay before a failure is answered, and
 * failure counts per client address and per user name, shared by every
 * worker process, that stop password guessing at a bound.
 *
 * The master maps the counters before forking (ps_authfail_init), next to
 * the connection counters of limits.h. Before that (unit tests, tools)
 * nothing is counted and nothing is blocked. */
#ifndef PS_CORE_AUTHFAIL_H
#define PS_CORE_AUTHFAIL_H

#include <stdint.h>

struct ps_error;

/* Each table (addresses, users) has this many buckets, chosen by a hash
 * keyed with a secret, so a client cannot aim at another's bucket. Two
 * keys in one bucket share its count: their failures add up (a block
 * comes early) and a success of one user clears the other's count too.
 * With the default bounds, that takes thousands of active keys within a
 * window to matter. */
#define PS_AUTHFAIL_BUCKETS 16384

/* What ps_authfail_blocked found over its bound. */
#define PS_AUTHFAIL_ADDRESS 1
#define PS_AUTHFAIL_USER 2

struct ps_authfail_conf {
	uint64_t delay_ms;     /* before a failure is answered */
	uint64_t window_ms;    /* how long a count lives after its first
				* failure */
	unsigned max_per_ip;   /* failures from one address; 0: no bound */
	unsigned max_per_user; /* failures for one user name; 0: no bound */
};

/* In the master, before forking workers: map the counters (256 KiB). A
 * second call keeps them. Returns 0 or PS_EFAIL with err. */
int ps_authfail_init(struct ps_error *err);

/* Set the bounds (from the top level of the active config). Until then:
 * 2 s delay, 10 per address and 20 per user within 10 minutes. */
void ps_authfail_configure(const struct ps_authfail_conf *conf);
uint64_t ps_authfail_delay_ms(void);

/* Whether address rip (as ps_conn_peer gives it) or user has reached its
 * bound of failures in the window open at now: 0, PS_AUTHFAIL_ADDRESS or
 * PS_AUTHFAIL_USER. Checks already under way when a bound is reached
 * still finish: a client gets at most its concurrent connections past
 * it. user compares without regard to ASCII case. now is
 * CLOCK_MONOTONIC in ms (ps_loop_now), one clock for every process on
 * the host. */
int ps_authfail_blocked(const char *rip, const char *user, uint64_t now);
/* Count one failure against rip and against user at now. */
void ps_authfail_failed(const char *rip, const char *user, uint64_t now);
/* user authenticated: forget its failures (not the address's: one good
 * password must not open an address that guesses at other users). */
void ps_authfail_succeeded(const char *user);

#endif
