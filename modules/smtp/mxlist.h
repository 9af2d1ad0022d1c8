/* The pure half of the resolver (resolve.c): what to do with the records
 * DNS gave, without DNS or the SDK, for the unit test. MX records ordered
 * by preference with ties shuffled (RFC 5321 5.1), null MX detected (RFC
 * 7505 3), hosts and addresses bounded, and the result shape of
 * <poshta/dns.h> built from what arrived. */
#ifndef SMTP_MXLIST_H
#define SMTP_MXLIST_H

#include <poshta/dns.h>
#include <poshta/types.h>

/* One MX record as parsed: host without a trailing dot ("" or "." for the
 * root, i.e. a null MX). */
struct smtp_mx_rr {
	const char *host;
	unsigned pref;
};

/* A uniform random number below n (n >= 1). Injected so the test can
 * replay orders; resolve.c uses a per-worker generator. */
typedef unsigned (*smtp_rand_fn)(void *arg, unsigned n);

/* One host to look up, and what its address lookups brought. */
struct smtp_mx_host {
	char name[PS_DNS_NAME_MAX + 1];
	unsigned pref;
	struct ps_dns_addr addrs[PS_DNS_MAX_ADDRS];
	size_t naddrs;
	int temp; /* a lookup of its addresses failed temporarily */
};

/* The hosts of one lookup, then the result handed to the caller (out[],
 * pointing into hosts[]). */
struct smtp_mxlist {
	struct smtp_mx_host hosts[PS_DNS_MAX_HOSTS];
	size_t n;
	struct ps_dns_host out[PS_DNS_MAX_HOSTS];
};

/* What smtp_mxlist_from_rrs made of the records. */
enum smtp_mxlist_kind {
	SMTP_MXLIST_HOSTS, /* l->n >= 1 hosts to look up */
	SMTP_MXLIST_NULL,  /* RFC 7505 null MX: no mail */
	SMTP_MXLIST_EMPTY, /* no usable host name among the records */
};

/* Whether the records are a null MX: exactly one, whose host is the root.
 * RFC 7505 3 also asks for preference 0; a lone "." of another preference
 * names no host either, so it is read as a null MX as well. */
int smtp_mx_is_null(const struct smtp_mx_rr *rr, size_t n);

/* Sort rr by preference (RFC 5321 5.1: lowest first), then shuffle each
 * run of equal preference with rnd: the RFC asks senders to spread load
 * across equal-preference hosts. */
void smtp_mx_order(struct smtp_mx_rr *rr, size_t n, smtp_rand_fn rnd,
		   void *arg);

/* l from the records of one MX answer (reordered in place): a null MX, or
 * the first PS_DNS_MAX_HOSTS usable hosts in order. Unusable: the root
 * among other records (RFC 7505 3 forbids mixing), names too long, a name
 * repeated (kept at its best preference). */
enum smtp_mxlist_kind smtp_mxlist_from_rrs(struct smtp_mxlist *l,
					   struct smtp_mx_rr *rr, size_t n,
					   smtp_rand_fn rnd, void *arg);

/* l as one host of preference 0: a host lookup, or a domain without MX
 * records (RFC 5321 5.1, the implicit MX). 0, or -1 if name is too long. */
int smtp_mxlist_single(struct smtp_mxlist *l, const char *name);

/* Add an address of host i (IPv6 before IPv4, at most PS_DNS_MAX_ADDRS,
 * duplicates once). 0 added, 1 dropped, -1 bad arguments. */
int smtp_mxlist_add_addr(struct smtp_mxlist *l, size_t i, int family,
			 const char *text);

/* Fill l->out with the hosts that have addresses, in order; their count. */
size_t smtp_mxlist_result(struct smtp_mxlist *l);

/* A name fit to ask DNS for: 1..253 octets (255 in wire form, RFC 1035
 * 3.1) with at most one trailing dot, labels of 1..63 octets (2.3.4),
 * printable ASCII without spaces, not an address or an address literal
 * (the caller's business: RFC 5321 4.1.3). 1 or 0. */
int smtp_dns_name_ok(const char *name);

#endif
