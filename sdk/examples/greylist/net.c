/* Client addresses and networks for greylist.so: the "whitelist" CIDR
 * entries, and the client's /24 or /64 that stands for it in a triplet,
 * since a large sender often retries from another host of its pool.
 * Pure functions: no SDK calls, safe on any thread. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "greylist.h"

int
greylist_net_addr(const char *text, int *family_r, unsigned char addr_r[16])
{
	memset(addr_r, 0, 16);
	if (inet_pton(AF_INET, text, addr_r) == 1)
		*family_r = AF_INET;
	else if (inet_pton(AF_INET6, text, addr_r) == 1)
		*family_r = AF_INET6;
	else
		return -1;
	return 0;
}

static unsigned
family_bits(int family)
{
	return family == AF_INET ? 32 : 128;
}

/* Clear every bit after the first prefix bits. */
static void
mask(unsigned char *addr, unsigned prefix, unsigned bits)
{
	for (unsigned i = 0; i < bits / 8; i++) {
		if (prefix >= 8 * (i + 1))
			continue;
		addr[i] &= prefix > 8 * i ?
			(unsigned char)(0xff00u >> (prefix - 8 * i)) : 0;
	}
}

/* A decimal prefix length, digits only. -1 when it is none. */
static long
prefix_parse(const char *s)
{
	char *end;
	long n;

	if (*s < '0' || *s > '9' || strlen(s) > 3)
		return -1;
	n = strtol(s, &end, 10);
	return *end ? -1 : n;
}

int
greylist_net_parse(const char *text, struct greylist_net *net_r, char *why,
		   size_t whylen)
{
	char host[INET6_ADDRSTRLEN];
	const char *slash = strchr(text, '/');
	size_t hostlen = slash ? (size_t)(slash - text) : strlen(text);
	unsigned char masked[16];
	long prefix;

	if (hostlen >= sizeof(host))
		goto bad;
	memcpy(host, text, hostlen);
	host[hostlen] = '\0';
	if (greylist_net_addr(host, &net_r->family, net_r->addr) < 0)
		goto bad;
	prefix = slash ? prefix_parse(slash + 1) :
		(long)family_bits(net_r->family);
	if (prefix < 0 || prefix > (long)family_bits(net_r->family)) {
		snprintf(why, whylen, "'%s': the prefix length must be 0 to "
			 "%u", text, family_bits(net_r->family));
		return -1;
	}
	net_r->prefix = (unsigned)prefix;
	/* 10.1.2.3/8 is most likely a typo for a host or for 10.0.0.0/8;
	 * refuse to guess which. */
	memcpy(masked, net_r->addr, 16);
	mask(masked, net_r->prefix, family_bits(net_r->family));
	if (memcmp(masked, net_r->addr, 16) != 0) {
		snprintf(why, whylen, "'%s': address bits set past the "
			 "/%ld prefix", text, prefix);
		return -1;
	}
	return 0;
bad:
	snprintf(why, whylen, "'%s' is not an IPv4 or IPv6 network in CIDR "
		 "notation (ADDRESS/PREFIX)", text);
	return -1;
}

int
greylist_net_contains(const struct greylist_net *net, int family,
		      const unsigned char *addr)
{
	unsigned char a[16];

	if (family != net->family)
		return 0;
	memcpy(a, addr, 16);
	mask(a, net->prefix, family_bits(family));
	return memcmp(a, net->addr, 16) == 0;
}

void
greylist_net_key(int family, const unsigned char *addr, unsigned prefix,
		 char *buf, size_t len)
{
	char text[INET6_ADDRSTRLEN];
	unsigned char a[16];

	memcpy(a, addr, 16);
	mask(a, prefix, family_bits(family));
	if (!inet_ntop(family, a, text, sizeof(text)))
		snprintf(text, sizeof(text), "?");
	snprintf(buf, len, "%s/%u", text, prefix);
}
