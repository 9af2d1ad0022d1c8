/* greylist.so's internals, shared by its three files: the settings, client
 * networks (net.c) and the triplet database (db.c). Not an interface for
 * other modules: nothing here is exported. */
#ifndef GREYLIST_H
#define GREYLIST_H

#include <stddef.h>
#include <stdint.h>

/* The "greylist" block, read once in each worker's worker_init, before
 * any job runs, and never written again: pool threads read it unlocked. */
struct greylist_config {
	int64_t delay_ms;  /* a retry passes no sooner than this... */
	int64_t window_ms; /* ...and no later than this after the delay */
	int64_t expire_ms; /* a passed triplet unseen this long is new again */
	unsigned netmask4, netmask6;
};

extern struct greylist_config greylist_config;

/* What the database said about a triplet (RFC 6647 section 2.4's
 * client, sender and recipient). */
enum greylist_result {
	GREYLIST_ERROR = -1, /* the database failed: see the message */
	GREYLIST_NEW,        /* first seen, or seen too long ago: defer */
	GREYLIST_EARLY,      /* retried before the delay ended: defer */
	GREYLIST_PASSED,     /* retried within the window: passes now */
	GREYLIST_KNOWN,      /* passed before and not expired: passes */
};

/* ---- net.c: addresses and networks ------------------------------------ */

struct greylist_net {
	int family; /* AF_INET or AF_INET6 */
	unsigned char addr[16];
	unsigned prefix;
};

/* Parse an address as ps_conn_peer() writes it. 0 or -1. */
int greylist_net_addr(const char *text, int *family_r,
		      unsigned char addr_r[16]);

/* Parse "ADDR/PREFIX" (or a bare ADDR: the one host) into net_r. 0, or -1
 * with the reason in why. */
int greylist_net_parse(const char *text, struct greylist_net *net_r,
		       char *why, size_t whylen);

/* 1 when addr of family lies in net. */
int greylist_net_contains(const struct greylist_net *net, int family,
			  const unsigned char *addr);

/* The client's network as the triplet's first part: "192.0.2.0/24". */
void greylist_net_key(int family, const unsigned char *addr,
		      unsigned prefix, char *buf, size_t len);

/* ---- db.c: the triplets in SQLite ---------------------------------------
 * One connection per worker behind a mutex, so any pool thread may call
 * these; never on the loop thread except open and close. */

/* Open (creating) the database in worker_init. 0, or -1 with why. */
int greylist_db_open(const char *path, char *why, size_t whylen);

/* Close it in worker_exit; later calls fail instead of touching it. */
void greylist_db_close(void);

/* Look the triplet up at time now (ms since the epoch) and record what
 * the lookup decided. *age_r is how long ago it was first seen. */
enum greylist_result greylist_db_check(const char *net, const char *sender,
				       const char *rcpt, int64_t now,
				       int64_t *age_r, char *why,
				       size_t whylen);

/* Delete the triplets that would count as new anyway. Returns how many,
 * or -1 with why. */
int greylist_db_cleanup(int64_t now, char *why, size_t whylen);

#endif
