/* The pure half of the outbound resolver: orders MX records (RFC 5321
 * 5.1), recognises a null MX (RFC 7505 3), bounds hosts and addresses and
 * builds the result of <poshta/dns.h>. No DNS and no SDK calls here:
 * resolve.c feeds it what c-ares parsed. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "mxlist.h"

static int
is_root(const char *host)
{
	return host[0] == '\0' || !strcmp(host, ".");
}

int
smtp_mx_is_null(const struct smtp_mx_rr *rr, size_t n)
{
	return n == 1 && is_root(rr[0].host);
}

/* Insertion sort: stable, and answers hold a handful of records. */
static void
sort_by_pref(struct smtp_mx_rr *rr, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		struct smtp_mx_rr v = rr[i];
		size_t j = i;

		for (; j > 0 && rr[j - 1].pref > v.pref; j--)
			rr[j] = rr[j - 1];
		rr[j] = v;
	}
}

/* Fisher-Yates over rr[0..n-1]. */
static void
shuffle(struct smtp_mx_rr *rr, size_t n, smtp_rand_fn rnd, void *arg)
{
	for (size_t i = n; i > 1; i--) {
		size_t j = rnd(arg, (unsigned)i);
		struct smtp_mx_rr t = rr[i - 1];

		rr[i - 1] = rr[j];
		rr[j] = t;
	}
}

void
smtp_mx_order(struct smtp_mx_rr *rr, size_t n, smtp_rand_fn rnd, void *arg)
{
	size_t start = 0;

	sort_by_pref(rr, n);
	for (size_t i = 1; i <= n; i++) {
		if (i < n && rr[i].pref == rr[start].pref)
			continue;
		shuffle(rr + start, i - start, rnd, arg);
		start = i;
	}
}

/* The host's name without a trailing dot; -1 if it does not fit. */
static int
host_set(struct smtp_mx_host *h, const char *name, unsigned pref)
{
	size_t len = strlen(name);

	if (len && name[len - 1] == '.')
		len--;
	if (len == 0 || len > PS_DNS_NAME_MAX)
		return -1;
	memcpy(h->name, name, len);
	h->name[len] = '\0';
	h->pref = pref;
	h->naddrs = 0;
	h->temp = 0;
	return 0;
}

static int
seen(const struct smtp_mxlist *l, const char *name)
{
	size_t len = strlen(name);

	if (len && name[len - 1] == '.')
		len--;
	for (size_t i = 0; i < l->n; i++)
		if (strlen(l->hosts[i].name) == len &&
		    !strncasecmp(l->hosts[i].name, name, len))
			return 1;
	return 0;
}

enum smtp_mxlist_kind
smtp_mxlist_from_rrs(struct smtp_mxlist *l, struct smtp_mx_rr *rr, size_t n,
		     smtp_rand_fn rnd, void *arg)
{
	l->n = 0;
	if (smtp_mx_is_null(rr, n))
		return SMTP_MXLIST_NULL;
	smtp_mx_order(rr, n, rnd, arg);
	for (size_t i = 0; i < n && l->n < PS_DNS_MAX_HOSTS; i++) {
		/* Ordered first, so a repeated name keeps its best
		 * preference. */
		if (is_root(rr[i].host) || seen(l, rr[i].host))
			continue;
		if (host_set(&l->hosts[l->n], rr[i].host, rr[i].pref) == 0)
			l->n++;
	}
	return l->n ? SMTP_MXLIST_HOSTS : SMTP_MXLIST_EMPTY;
}

int
smtp_mxlist_single(struct smtp_mxlist *l, const char *name)
{
	l->n = 0;
	if (host_set(&l->hosts[0], name, 0) < 0)
		return -1;
	l->n = 1;
	return 0;
}

/* Where an address of family goes: after the IPv6 ones if it is IPv6
 * (RFC 6724's default prefers IPv6), at the end otherwise. */
static size_t
addr_slot(const struct smtp_mx_host *h, int family)
{
	size_t i = 0;

	if (family != AF_INET6)
		return h->naddrs;
	while (i < h->naddrs && h->addrs[i].family == AF_INET6)
		i++;
	return i;
}

int
smtp_mxlist_add_addr(struct smtp_mxlist *l, size_t i, int family,
		     const char *text)
{
	struct smtp_mx_host *h;
	size_t at;

	if (i >= l->n || (family != AF_INET && family != AF_INET6) ||
	    strlen(text) >= PS_DNS_ADDR_LEN)
		return -1;
	h = &l->hosts[i];
	for (size_t k = 0; k < h->naddrs; k++)
		if (h->addrs[k].family == family &&
		    !strcmp(h->addrs[k].text, text))
			return 1;
	at = addr_slot(h, family);
	if (at >= PS_DNS_MAX_ADDRS)
		return 1;
	/* Full: the last address (IPv4 when there are both) makes room. */
	if (h->naddrs == PS_DNS_MAX_ADDRS)
		h->naddrs--;
	memmove(&h->addrs[at + 1], &h->addrs[at],
		(h->naddrs - at) * sizeof(h->addrs[0]));
	h->addrs[at].family = family;
	snprintf(h->addrs[at].text, sizeof(h->addrs[at].text), "%s", text);
	h->naddrs++;
	return 0;
}

size_t
smtp_mxlist_result(struct smtp_mxlist *l)
{
	size_t n = 0;

	for (size_t i = 0; i < l->n; i++) {
		const struct smtp_mx_host *h = &l->hosts[i];

		if (!h->naddrs)
			continue;
		l->out[n].name = h->name;
		l->out[n].pref = h->pref;
		l->out[n].addrs = h->addrs;
		l->out[n].naddrs = h->naddrs;
		n++;
	}
	return n;
}

static int
labels_ok(const char *name, size_t len)
{
	size_t label = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)name[i];

		if (ch <= ' ' || ch >= 0x7f)
			return 0;
		if (ch != '.') {
			if (++label > 63)
				return 0;
			continue;
		}
		if (label == 0)
			return 0;
		label = 0;
	}
	return label > 0;
}

int
smtp_dns_name_ok(const char *name)
{
	unsigned char buf[sizeof(struct in6_addr)];
	size_t len = name ? strlen(name) : 0;

	if (len && name[len - 1] == '.')
		len--;
	/* RFC 1035 3.1: 255 octets in wire form, a length octet per label
	 * and the root's: 253 in text. */
	if (len == 0 || len > PS_DNS_NAME_MAX - 2 || name[0] == '[')
		return 0;
	if (inet_pton(AF_INET, name, buf) == 1 ||
	    inet_pton(AF_INET6, name, buf) == 1)
		return 0;
	return labels_ok(name, len);
}
