/* Internationalized domain names in addresses (RFC 6531 3.2, RFC 5890,
 * RFC 5891). A domain written in U-labels ("bücher.example") names the
 * same domain as its A-label form ("xn--bcher-kva.example"), which is
 * how the DNS, the routes and the auth backends know it: lookups and
 * routing use that form, while the address as the client wrote it stays
 * in the envelope and the trace. The mapping is UTS #46 nontransitional
 * processing (IDNA2008 with case folded and NFC applied, ß and ς kept),
 * as today's browsers and mail libraries do. */
#include <idn2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "idn.h"

static int
ascii_only(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s >= 0x80)
			return 0;
	return 1;
}

int
smtp_idn_domain(const char *domain, char *out, size_t size)
{
	char *a = NULL;
	int r;

	if (ascii_only(domain))
		return (size_t)snprintf(out, size, "%s", domain) < size ? 0 : -1;
	if (idn2_to_ascii_8z(domain, &a, IDN2_NFC_INPUT |
					 IDN2_NONTRANSITIONAL) != IDN2_OK)
		return -1;
	r = (size_t)snprintf(out, size, "%s", a) < size ? 0 : -1;
	idn2_free(a);
	return r;
}

int
smtp_idn_address(const char *addr, char *out, size_t size)
{
	const char *at = strrchr(addr, '@');
	size_t local;

	if (!at || at[1] == '[')
		return (size_t)snprintf(out, size, "%s", addr) < size ? 0 : -1;
	local = (size_t)(at - addr) + 1;
	if (local >= size)
		return -1;
	memcpy(out, addr, local);
	return smtp_idn_domain(at + 1, out + local, size - local);
}
