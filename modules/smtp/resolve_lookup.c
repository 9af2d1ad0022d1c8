/* The lookups of smtp.so's resolver: MX for a domain (RFC 5321 5.1: by
 * preference, ties shuffled, the domain itself as implicit MX without MX
 * records; RFC 7505 null MX), then AAAA and A for each host; or AAAA and
 * A for one host. Queries go out on the worker's c-ares channel
 * (resolve.c); mxlist.c decides what the answers mean. */
#include <ares.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mxlist.h"
#include "resolve.h"
#include "resolve_private.h"

enum lookup_kind { LOOKUP_MX, LOOKUP_HOST };

struct lookup;

/* The context of one address query: which host, which family. */
struct addr_query {
	struct lookup *l;
	size_t host;
	int family;
};

struct lookup {
	struct lookup *prev, *next; /* results waiting for their turn */
	ps_dns_fn fn;
	void *arg;
	enum lookup_kind kind;
	int implicit;  /* hosts are the name itself, not MX hosts */
	int starting;  /* inside smtp_dns_*: deliver in a later turn */
	unsigned pending; /* address queries in flight */
	enum ps_dns_status st;
	char why[64];
	struct ps_timer *later;
	char name[PS_DNS_NAME_MAX + 1];
	struct smtp_mxlist list;
	struct addr_query q[2 * PS_DNS_MAX_HOSTS];
};

static struct lookup *waiting;
static uint64_t rng;

/* ---- Randomness for equal preferences -------------------------------- */

/* RFC 5321 5.1 wants load spread, not secrecy: xorshift64* per worker,
 * seeded differently in each (pid, time). */
void
resolve_seed(void)
{
	rng = ps_now_ms() * 0x9E3779B97F4A7C15ULL ^ (uint64_t)getpid() << 32 ^
	      (uint64_t)(uintptr_t)&rng;
	if (!rng)
		rng = 1;
}

static unsigned
rand_below(void *arg, unsigned n)
{
	(void)arg;
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return (unsigned)((rng * 0x2545F4914F6CDD1DULL) >> 32) % n;
}

/* ---- Results --------------------------------------------------------- */

static void
unlink_waiting(struct lookup *l)
{
	if (l->prev)
		l->prev->next = l->next;
	else
		waiting = l->next;
	if (l->next)
		l->next->prev = l->prev;
}

static void
deliver(struct lookup *l)
{
	size_t n = l->st == PS_DNS_OK ? smtp_mxlist_result(&l->list) : 0;

	l->fn(l->arg, l->st, n ? l->list.out : NULL, n, l->why);
	free(l);
}

static void
deliver_later(void *arg)
{
	struct lookup *l = arg;

	unlink_waiting(l);
	deliver(l);
}

/* The end of l: now, or in a later turn when still inside the call that
 * asked (the contract: never from inside smtp_dns_*). */
static void
finish(struct lookup *l, enum ps_dns_status st, const char *why)
{
	l->st = st;
	snprintf(l->why, sizeof(l->why), "%s", why);
	if (!l->starting)
		deliver(l);
}

void
resolve_flush(void)
{
	while (waiting) {
		struct lookup *l = waiting;

		ps_timer_cancel(l->later);
		unlink_waiting(l);
		deliver(l);
	}
}

/* c-ares statuses as a word for logs and bounce diagnostics. */
static const char *
status_why(int status)
{
	switch (status) {
	case ARES_ENOTFOUND: return "NXDOMAIN";
	case ARES_ENODATA: return "no records";
	case ARES_ESERVFAIL: return "SERVFAIL";
	case ARES_EREFUSED: return "REFUSED";
	case ARES_EFORMERR: return "FORMERR";
	case ARES_ENOTIMP: return "NOTIMP";
	case ARES_ETIMEOUT: return "timeout";
	case ARES_ECONNREFUSED: return "resolver refused or unreachable";
	case ARES_EDESTRUCTION: return "shutdown";
	case ARES_ENOMEM: return "out of memory";
	default: return ares_strerror(status);
	}
}

/* ---- Addresses ------------------------------------------------------- */

static void
add_a(struct lookup *l, size_t host, const unsigned char *abuf, int alen)
{
	struct ares_addrttl a[PS_DNS_MAX_ADDRS];
	int n = PS_DNS_MAX_ADDRS;
	char text[PS_DNS_ADDR_LEN];

	/* CNAME chains in the answer are followed by the parser. */
	if (ares_parse_a_reply(abuf, alen, NULL, a, &n) != ARES_SUCCESS)
		return;
	for (int i = 0; i < n; i++)
		if (inet_ntop(AF_INET, &a[i].ipaddr, text, sizeof(text)))
			smtp_mxlist_add_addr(&l->list, host, AF_INET, text);
}

static void
add_aaaa(struct lookup *l, size_t host, const unsigned char *abuf, int alen)
{
	struct ares_addr6ttl a[PS_DNS_MAX_ADDRS];
	int n = PS_DNS_MAX_ADDRS;
	char text[PS_DNS_ADDR_LEN];

	if (ares_parse_aaaa_reply(abuf, alen, NULL, a, &n) != ARES_SUCCESS)
		return;
	for (int i = 0; i < n; i++)
		if (inet_ntop(AF_INET6, &a[i].ip6addr, text, sizeof(text)))
			smtp_mxlist_add_addr(&l->list, host, AF_INET6, text);
}

/* Every address query answered: the hosts that have addresses, else
 * why none has. */
static void
addrs_done(struct lookup *l)
{
	int temp = 0;

	if (resolve_state.exiting) {
		finish(l, PS_DNS_TEMP, "shutdown");
		return;
	}
	if (smtp_mxlist_result(&l->list)) {
		finish(l, PS_DNS_OK, "ok");
		return;
	}
	for (size_t i = 0; i < l->list.n; i++)
		temp |= l->list.hosts[i].temp;
	if (temp)
		finish(l, PS_DNS_TEMP, "address lookup failed");
	else if (!l->implicit)
		/* Every MX host skipped (RFC 5321 5.1): a DNS mistake that
		 * may be mended; the queue tries again. */
		finish(l, PS_DNS_TEMP, "no MX host has an address");
	else
		finish(l, PS_DNS_NOTFOUND, l->kind == LOOKUP_MX ?
		       "no MX and no A/AAAA records" : "no A/AAAA records");
}

static void
on_addr(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct addr_query *q = arg;
	struct lookup *l = q->l;

	(void)timeouts;
	if (status == ARES_SUCCESS && q->family == AF_INET6)
		add_aaaa(l, q->host, abuf, alen);
	else if (status == ARES_SUCCESS)
		add_a(l, q->host, abuf, alen);
	else if (status != ARES_ENOTFOUND && status != ARES_ENODATA)
		/* NXDOMAIN or NODATA: this family has nothing, for good. */
		l->list.hosts[q->host].temp = 1;
	if (--l->pending == 0)
		addrs_done(l);
}

/* AAAA and A for every host of l. The count is set first: an answer may
 * come back inside ares_query, and the last one ends (frees) l, so l is
 * not touched after the last query. */
static void
query_addrs(struct lookup *l)
{
	size_t total = 2 * l->list.n;

	l->pending = (unsigned)total;
	for (size_t k = 0; k < total; k++) {
		struct addr_query *q = &l->q[k];

		q->l = l;
		q->host = k / 2;
		q->family = k % 2 ? AF_INET : AF_INET6;
		ares_query(resolve_state.chan, l->list.hosts[q->host].name,
			   ns_c_in, q->family == AF_INET6 ? ns_t_aaaa : ns_t_a,
			   on_addr, q);
	}
}

/* ---- MX -------------------------------------------------------------- */

/* The MX records of an answer as a list to order: 0, or an ares status. */
static int
mx_hosts(struct lookup *l, const unsigned char *abuf, int alen)
{
	struct ares_mx_reply *mx, *p;
	struct smtp_mx_rr *rr;
	size_t n = 0;
	int r = ares_parse_mx_reply(abuf, alen, &mx);

	if (r != ARES_SUCCESS)
		return r;
	for (p = mx; p; p = p->next)
		n++;
	if (!n) {
		/* An answer of only a CNAME to a name without MX: no MX
		 * records, whatever the parser made of it. */
		ares_free_data(mx);
		return ARES_ENODATA;
	}
	if (!(rr = calloc(n, sizeof(*rr)))) {
		ares_free_data(mx);
		return ARES_ENOMEM;
	}
	n = 0;
	for (p = mx; p; p = p->next, n++) {
		rr[n].host = p->host;
		rr[n].pref = p->priority;
	}
	switch (smtp_mxlist_from_rrs(&l->list, rr, n, rand_below, NULL)) {
	case SMTP_MXLIST_NULL: r = -1; break;
	case SMTP_MXLIST_EMPTY: r = -2; break;
	case SMTP_MXLIST_HOSTS: r = 0; break;
	}
	free(rr);
	ares_free_data(mx);
	return r;
}

/* No MX records (NODATA; or an answer of only a CNAME): RFC 5321 5.1's
 * implicit MX, the domain itself with preference 0. */
static void
implicit_mx(struct lookup *l)
{
	l->implicit = 1;
	smtp_mxlist_single(&l->list, l->name);
	query_addrs(l);
}

static void
on_mx(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct lookup *l = arg;
	int r = status;

	(void)timeouts;
	if (status == ARES_SUCCESS)
		r = mx_hosts(l, abuf, alen);
	if (r == 0)
		query_addrs(l);
	else if (r == -1)
		finish(l, PS_DNS_NULLMX, "null MX");
	else if (r == -2)
		finish(l, PS_DNS_TEMP, "no usable MX host name");
	else if (r == ARES_ENODATA && !resolve_state.exiting)
		implicit_mx(l);
	else if (r == ARES_ENOTFOUND)
		finish(l, PS_DNS_NOTFOUND, "NXDOMAIN");
	else
		finish(l, PS_DNS_TEMP, status_why(r));
}

/* ---- Entry points ---------------------------------------------------- */

static struct lookup *
lookup_new(const char *name, ps_dns_fn fn, void *arg, int *err)
{
	struct lookup *l;

	*err = PS_ESTATE;
	if (!resolve_state.up || resolve_state.exiting)
		return NULL;
	*err = PS_EINVAL;
	if (!fn || !smtp_dns_name_ok(name))
		return NULL;
	*err = PS_ENOMEM;
	if (!(l = calloc(1, sizeof(*l))))
		return NULL;
	snprintf(l->name, sizeof(l->name), "%s", name);
	l->fn = fn;
	l->arg = arg;
	l->starting = 1;
	return l;
}

/* The end of smtp_dns_*: a result that came inside the call waits for
 * a timer of 0 ms (a later loop turn), on the list worker_exit flushes. */
static int
lookup_started(struct lookup *l)
{
	int done = l->why[0] != '\0';

	l->starting = 0;
	resolve_rearm();
	if (!done)
		return 0;
	if (!(l->later = ps_timer_add(0, deliver_later, l))) {
		free(l);
		return PS_ENOMEM;
	}
	l->next = waiting;
	if (waiting)
		waiting->prev = l;
	waiting = l;
	return 0;
}

int
smtp_dns_mx(const char *domain, ps_dns_fn fn, void *arg)
{
	int err;
	struct lookup *l = lookup_new(domain, fn, arg, &err);

	if (!l)
		return err;
	l->kind = LOOKUP_MX;
	if (resolve_state.no_server)
		finish(l, PS_DNS_TEMP, "no usable resolver");
	else
		ares_query(resolve_state.chan, l->name, ns_c_in, ns_t_mx,
			   on_mx, l);
	return lookup_started(l);
}

int
smtp_dns_host(const char *name, ps_dns_fn fn, void *arg)
{
	int err;
	struct lookup *l = lookup_new(name, fn, arg, &err);

	if (!l)
		return err;
	l->kind = LOOKUP_HOST;
	l->implicit = 1;
	smtp_mxlist_single(&l->list, l->name);
	if (resolve_state.no_server)
		finish(l, PS_DNS_TEMP, "no usable resolver");
	else
		query_addrs(l);
	return lookup_started(l);
}
