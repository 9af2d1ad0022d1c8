/* Connection counters shared by every worker process: how many clients
 * the server holds in all, and from each client address, so that
 * max_connections and max_connections_per_ip hold for the server as a
 * whole, not per worker.
 *
 * The master maps the counters before forking; each worker names its
 * slot once with ps_limits_set_worker. Before ps_limits_init (unit tests,
 * tools) nothing is counted and every connection is allowed. */
#ifndef PS_CORE_LIMITS_H
#define PS_CORE_LIMITS_H

#include <stddef.h>

struct ps_error;
struct sockaddr;

/* Worker slots: twice the config's bound on "workers", so that during a
 * reload the new workers take slots the draining old ones do not hold. A
 * slot belongs to one live process at a time. */
#define PS_LIMITS_MAX_WORKERS 512
/* Client addresses are counted in this many buckets by a keyed hash. Two
 * addresses in one bucket share its count, which can only refuse a client
 * early, never let one in over its limit. */
#define PS_LIMITS_BUCKETS 4096

/* Listeners are counted in this many slots, by name: two listeners in
 * one slot share its count (stricter, never looser). */
#define PS_LIMITS_LISTENERS 64

/* What ps_limits_acquire refused on. */
#define PS_LIMITS_TOTAL (-1)    /* the server holds max_total connections */
#define PS_LIMITS_PEER (-2)     /* this address holds max_per_ip */
#define PS_LIMITS_LISTENER (-3) /* the listener holds its max */

/* What a new connection may not pass (0: no limit). */
struct ps_limits_max {
	size_t total;     /* the server's connections */
	size_t per_ip;    /* the server's connections from one address */
	size_t listener;  /* this listener's connections */
	unsigned slot;    /* the listener's slot, ps_limits_slot(name) */
};

/* The counting slot of a listener name. */
unsigned ps_limits_slot(const char *listener);

/* In the master, before forking workers: map the shared counters (about
 * 8 MiB of address space; pages are touched only as buckets are used).
 * A second call keeps the counters. Returns 0 or -1 with err. */
int ps_limits_init(struct ps_error *err);

/* In a worker after fork: count its connections in slot index (the
 * worker's number, below PS_LIMITS_MAX_WORKERS). Returns 0 or PS_EINVAL. */
int ps_limits_set_worker(unsigned index);

/* Count one more connection from peer on listener max->slot, unless that
 * would pass one of max's limits. Returns 0, PS_LIMITS_TOTAL,
 * PS_LIMITS_LISTENER or PS_LIMITS_PEER; a refused connection counts for
 * nothing. */
int ps_limits_acquire(const struct sockaddr *peer,
		      const struct ps_limits_max *max);

/* The connection from peer on listener slot that this worker acquired has
 * closed. Without a matching acquire in this worker it does nothing. */
void ps_limits_release(const struct sockaddr *peer, unsigned slot);

/* In the master, after reaping worker index and before forking its
 * replacement: forget the connections it held. A worker killed in the
 * middle of an acquire or release may leave one count too many behind,
 * which makes the limits stricter, never looser. */
void ps_limits_worker_died(unsigned index);

#endif
