/* Authentication failure counts in shared memory, so the bounds hold for
 * the server, not per worker: the guessing defence RFC 4422 section 9 and
 * RFC 4954 section 9 leave to servers. A bucket is one 64-bit atomic word
 * (when its window opened, and failures since); C11 atomics are
 * address-free, so they work between processes. */
#include "config.h"

#include <arpa/inet.h>
#include <stdatomic.h>
#include <string.h>

#include <poshta/types.h>

#include "authfail.h"
#include "shm.h"

/* A bucket: window start (monotonic ms, 40 bits: 34 years of uptime) in
 * the high bits, the failure count (saturating) in the low 24. 0: empty. */
#define COUNT_BITS 24
#define COUNT_MAX ((1u << COUNT_BITS) - 1)

struct authfail_map {
	uint64_t seed; /* keys the bucket hash */
	atomic_uint_least64_t address[PS_AUTHFAIL_BUCKETS];
	atomic_uint_least64_t user[PS_AUTHFAIL_BUCKETS];
};

static struct authfail_map *map;
static struct ps_authfail_conf conf = {
	.delay_ms = 2000, .window_ms = 600000,
	.max_per_ip = 10, .max_per_user = 20,
};

int
ps_authfail_init(struct ps_error *err)
{
	if (!map)
		map = ps_shm_seeded(sizeof(*map), "auth failure counters", err);
	return map ? 0 : PS_EFAIL;
}

void
ps_authfail_configure(const struct ps_authfail_conf *c)
{
	conf = *c;
}

uint64_t
ps_authfail_delay_ms(void)
{
	return conf.delay_ms;
}

/* FNV-1a from the secret seed over a tag and the key, then a final mix
 * so the index bits depend on every byte. fold lowers ASCII letters. */
static size_t
bucket(char tag, const unsigned char *key, size_t n, int fold)
{
	uint64_t h = (map->seed ^ 0xcbf29ce484222325ULL) * 0x100000001b3ULL;

	h = (h ^ (unsigned char)tag) * 0x100000001b3ULL;
	for (size_t i = 0; i < n; i++) {
		unsigned char b = key[i];

		if (fold && b >= 'A' && b <= 'Z')
			b += 'a' - 'A';
		h = (h ^ b) * 0x100000001b3ULL;
	}
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 32;
	return (size_t)(h % PS_AUTHFAIL_BUCKETS);
}

/* An IPv6 client counts by its /64, the block one subscriber usually
 * holds whole; anything else by its text (IPv4, "local"). */
static atomic_uint_least64_t *
address_bucket(const char *rip)
{
	unsigned char a[16];

	if (inet_pton(AF_INET6, rip, a) == 1)
		return &map->address[bucket('6', a, 8, 0)];
	return &map->address[bucket('4', (const unsigned char *)rip,
				    strlen(rip), 0)];
}

static atomic_uint_least64_t *
user_bucket(const char *user)
{
	return &map->user[bucket('u', (const unsigned char *)user,
				 strlen(user), 1)];
}

/* The failures a bucket holds in a window still open at now. */
static unsigned
live_count(uint64_t v, uint64_t now)
{
	if (!v || now - (v >> COUNT_BITS) >= conf.window_ms)
		return 0;
	return (unsigned)(v & COUNT_MAX);
}

static int
over(atomic_uint_least64_t *b, unsigned max, uint64_t now)
{
	return max && live_count(atomic_load(b), now) >= max;
}

int
ps_authfail_blocked(const char *rip, const char *user, uint64_t now)
{
	if (!map)
		return 0;
	if (over(address_bucket(rip), conf.max_per_ip, now))
		return PS_AUTHFAIL_ADDRESS;
	if (over(user_bucket(user), conf.max_per_user, now))
		return PS_AUTHFAIL_USER;
	return 0;
}

/* One more failure; a bucket whose window has passed starts a new one.
 * The compare-and-swap retries when another process got there first. */
static void
add_failure(atomic_uint_least64_t *b, uint64_t now)
{
	uint64_t old = atomic_load(b), next;

	do {
		unsigned n = live_count(old, now);
		uint64_t start = n ? old >> COUNT_BITS : now;

		next = start << COUNT_BITS | (n < COUNT_MAX ? n + 1 : n);
	} while (!atomic_compare_exchange_weak(b, &old, next));
}

void
ps_authfail_failed(const char *rip, const char *user, uint64_t now)
{
	if (!map)
		return;
	add_failure(address_bucket(rip), now);
	add_failure(user_bucket(user), now);
}

void
ps_authfail_succeeded(const char *user)
{
	if (map)
		atomic_store(user_bucket(user), 0);
}
