/* Server-wide connection counters in an anonymous shared mapping: totals
 * and per-address buckets summed over workers, plus each worker's own
 * share so the master can subtract what a worker held when it dies.
 * Updates are C11 atomics, which are address-free and so work between
 * processes. Invariant: each sum is at least the sum of the shares. */
#include "config.h"

#include <netinet/in.h>
#include <stdatomic.h>
#include <string.h>

#include "limits.h"
#include "log.h"
#include "shm.h"

struct limits_counts {
	atomic_uint total;
	atomic_uint listener[PS_LIMITS_LISTENERS];
	atomic_uint bucket[PS_LIMITS_BUCKETS];
};

struct limits_map {
	uint64_t seed; /* keys the bucket hash: a client cannot aim at one */
	struct limits_counts sum;
	struct limits_counts worker[PS_LIMITS_MAX_WORKERS];
};

static struct limits_map *map;
static unsigned self;

int
ps_limits_init(struct ps_error *err)
{
	if (!map)
		map = ps_shm_seeded(sizeof(*map), "connection limits", err);
	return map ? 0 : PS_EFAIL;
}

int
ps_limits_set_worker(unsigned index)
{
	if (index >= PS_LIMITS_MAX_WORKERS)
		return PS_EINVAL;
	self = index;
	return 0;
}

/* The address bytes that identify a client: an IPv4-mapped IPv6 address
 * is the IPv4 client it stands for. */
static size_t
peer_key(const struct sockaddr *sa, const unsigned char **key)
{
	if (sa->sa_family == AF_INET) {
		*key = (const unsigned char *)&((const struct sockaddr_in *)sa)
			       ->sin_addr;
		return 4;
	}
	if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a =
			&((const struct sockaddr_in6 *)sa)->sin6_addr;

		*key = a->s6_addr;
		if (IN6_IS_ADDR_V4MAPPED(a)) {
			*key += 12;
			return 4;
		}
		return 16;
	}
	*key = NULL;
	return 0;
}

/* FNV-1a from a secret starting point, then a final mix so that the low
 * bits used as the index depend on every byte. */
static size_t
peer_bucket(const struct sockaddr *sa)
{
	const unsigned char *key;
	size_t n = peer_key(sa, &key);
	uint64_t h = map->seed ^ 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < n; i++) {
		h ^= key[i];
		h *= 0x100000001b3ULL;
	}
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 32;
	return (size_t)(h % PS_LIMITS_BUCKETS);
}

unsigned
ps_limits_slot(const char *listener)
{
	uint32_t h = 2166136261u;

	for (; *listener; listener++)
		h = (h ^ (unsigned char)*listener) * 16777619u;
	return h % PS_LIMITS_LISTENERS;
}

/* Add one to a sum unless it passes max (0: none). */
static int
take(atomic_uint *n, size_t max)
{
	size_t now = (size_t)atomic_fetch_add(n, 1) + 1;

	if (max && now > max) {
		atomic_fetch_sub(n, 1);
		return -1;
	}
	return 0;
}

/* Sums go up before the worker's share and come down after it, so a
 * worker dying between the two steps leaves a sum too high, not too low. */
int
ps_limits_acquire(const struct sockaddr *peer,
		  const struct ps_limits_max *max)
{
	struct limits_counts *mine;
	unsigned s = max->slot % PS_LIMITS_LISTENERS;
	size_t b;

	if (!map)
		return 0;
	b = peer_bucket(peer);
	if (take(&map->sum.total, max->total) < 0)
		return PS_LIMITS_TOTAL;
	if (take(&map->sum.listener[s], max->listener) < 0) {
		atomic_fetch_sub(&map->sum.total, 1);
		return PS_LIMITS_LISTENER;
	}
	if (take(&map->sum.bucket[b], max->per_ip) < 0) {
		atomic_fetch_sub(&map->sum.listener[s], 1);
		atomic_fetch_sub(&map->sum.total, 1);
		return PS_LIMITS_PEER;
	}
	mine = &map->worker[self];
	atomic_fetch_add(&mine->bucket[b], 1);
	atomic_fetch_add(&mine->listener[s], 1);
	atomic_fetch_add(&mine->total, 1);
	return 0;
}

void
ps_limits_release(const struct sockaddr *peer, unsigned slot)
{
	struct limits_counts *mine;
	unsigned s = slot % PS_LIMITS_LISTENERS;
	size_t b;

	if (!map)
		return;
	b = peer_bucket(peer);
	mine = &map->worker[self];
	/* Only this process writes its share while it lives, so the check
	 * and the decrement cannot race. */
	if (atomic_load(&mine->bucket[b]) == 0 ||
	    atomic_load(&mine->listener[s]) == 0)
		return;
	atomic_fetch_sub(&mine->bucket[b], 1);
	atomic_fetch_sub(&mine->listener[s], 1);
	atomic_fetch_sub(&mine->total, 1);
	atomic_fetch_sub(&map->sum.bucket[b], 1);
	atomic_fetch_sub(&map->sum.listener[s], 1);
	atomic_fetch_sub(&map->sum.total, 1);
}

void
ps_limits_worker_died(unsigned index)
{
	struct limits_counts *dead;
	unsigned n;

	if (!map || index >= PS_LIMITS_MAX_WORKERS)
		return;
	dead = &map->worker[index];
	for (size_t b = 0; b < PS_LIMITS_BUCKETS; b++) {
		n = atomic_exchange(&dead->bucket[b], 0);
		if (n)
			atomic_fetch_sub(&map->sum.bucket[b], n);
	}
	for (size_t s = 0; s < PS_LIMITS_LISTENERS; s++) {
		n = atomic_exchange(&dead->listener[s], 0);
		if (n)
			atomic_fetch_sub(&map->sum.listener[s], n);
	}
	n = atomic_exchange(&dead->total, 0);
	atomic_fetch_sub(&map->sum.total, n);
}
