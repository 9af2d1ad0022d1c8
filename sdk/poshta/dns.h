/* Asynchronous DNS for modules: where to deliver mail for a domain (MX,
 * RFC 5321 5.1, with RFC 7505 null MX) and the addresses of a host name,
 * answered on the worker's event loop. smtp.so publishes it as
 * ps_iface_publish(PS_DNS_KIND, "smtp", &ops), resolving with c-ares
 * through the servers of its "resolver" directives (else the system's
 * /etc/resolv.conf). It adds nothing to struct ps_api: find it with
 *
 *   struct ps_dns_ops dns;
 *   if (ps_iface_get(PS_DNS_KIND, NULL, &dns, sizeof(dns)) == 0) ...
 *
 * from worker_init on (load smtp before the module, or list it in the
 * descriptor's requires). The table only grows at its end: check a method
 * added after the table you were built with for NULL.
 *
 * Threads: call the methods on a worker's loop thread only (callbacks,
 * timers, job completions), never from a job's work function. The result
 * comes by callback on the same thread, in a later loop turn, never from
 * inside the call that asked.
 *
 * Ownership: a method returns 0 and then calls fn exactly once, or
 * returns a negative PS_E* code and never calls fn. Everything fn is
 * handed (hosts, their names and addresses, why) is valid during the
 * call only: copy what you keep. When the worker exits with lookups in
 * flight, fn still comes, with PS_DNS_TEMP, from the module's worker_exit;
 * arg must stay valid until then. */
#ifndef POSHTA_DNS_H
#define POSHTA_DNS_H

#include <stddef.h>

#define PS_DNS_KIND "dns"

/* Bounds of a result: more MX hosts or addresses are dropped (the least
 * preferred hosts; addresses past the bound in the order received). */
#define PS_DNS_MAX_HOSTS 16
#define PS_DNS_MAX_ADDRS 8  /* per host */
#define PS_DNS_NAME_MAX 255 /* octets of a name (RFC 1035 2.3.4) */
#define PS_DNS_ADDR_LEN 46  /* INET6_ADDRSTRLEN: text of an address */

/* One address of a host, numeric: give text to ps_connect.address. */
struct ps_dns_addr {
	int family; /* AF_INET6 or AF_INET */
	char text[PS_DNS_ADDR_LEN];
};

/* A host to try, in the order to try them; addrs IPv6 first, never
 * empty (a host without addresses is left out). */
struct ps_dns_host {
	const char *name; /* without a trailing dot */
	unsigned pref;    /* MX preference; 0 for the implicit MX and host() */
	const struct ps_dns_addr *addrs;
	size_t naddrs;
};

enum ps_dns_status {
	/* hosts[0..n-1], n >= 1. */
	PS_DNS_OK = 0,
	/* Permanent: the name does not exist (NXDOMAIN), or has neither MX
	 * nor A/AAAA records. Mail to it bounces (550 5.1.2). */
	PS_DNS_NOTFOUND = 1,
	/* Permanent: the domain publishes a null MX (RFC 7505 3): it accepts
	 * no mail. Bounce at once with 556 5.1.10 (RFC 7505 4.2). mx() only. */
	PS_DNS_NULLMX = 2,
	/* Temporary: SERVFAIL, timeouts, no usable address for any MX host,
	 * out of memory, the worker exiting. Try again later. */
	PS_DNS_TEMP = 3,
};

/* The result. hosts is NULL and n 0 unless st is PS_DNS_OK; why is a
 * short text for logs and diagnostics ("NXDOMAIN", "timeout", ...),
 * never NULL. */
typedef void (*ps_dns_fn)(void *arg, enum ps_dns_status st,
			  const struct ps_dns_host *hosts, size_t n,
			  const char *why);

struct ps_dns_ops {
	size_t size; /* sizeof(struct ps_dns_ops) of the publisher */

	/* Where mail for domain goes (RFC 5321 5.1): its MX hosts by
	 * preference, hosts of equal preference in random order, each with
	 * its addresses (AAAA and A); without MX records (NODATA), the
	 * domain itself as one implicit MX of preference 0. domain is a
	 * name, not an address literal; one trailing dot is allowed.
	 * Returns 0, or PS_EINVAL (a bad name), PS_ENOMEM, PS_ESTATE (not
	 * on a worker's loop, or the worker exiting). */
	int (*mx)(const char *domain, ps_dns_fn fn, void *arg);

	/* The addresses of one host name (a static route, a relay host):
	 * one host of preference 0 on PS_DNS_OK. Same returns as mx(). */
	int (*host)(const char *name, ps_dns_fn fn, void *arg);
};

#endif
