/* Where a batch goes: a static route, an address literal, or the
 * domain's MX hosts (RFC 5321 5.1); then its addresses in turn until a
 * session gets to send (a refused connection, a refused greeting or a
 * failed TLS handshake moves on to the next address, RFC 5321 5.1). */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "command.h"
#include "idn.h"
#include "relay.h"
#include "resolve.h"

void
relay_batch_decide_all(struct relay_batch *b, enum smtpc_outcome o,
		       const struct relay_host *host, const char *text)
{
	struct relay_msg *m;

	while ((m = b->msgs)) {
		b->msgs = m->next;
		b->nmsgs--;
		for (size_t i = 0; i < m->n; i++)
			relay_decide(&m->rcpts[i], o, host, text);
		relay_msg_done(m);
	}
}

static int
numeric(const char *s)
{
	unsigned char buf[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, s, buf) == 1 ||
	       inet_pton(AF_INET6, s, buf) == 1;
}

static int
hosts_one(struct relay_batch *b, const char *name, const char *addr,
	  uint16_t port)
{
	b->hosts = calloc(1, sizeof(*b->hosts));
	if (!b->hosts)
		return PS_ENOMEM;
	snprintf(b->hosts[0].name, sizeof(b->hosts[0].name), "%s", name);
	snprintf(b->hosts[0].addr, sizeof(b->hosts[0].addr), "%s", addr);
	b->hosts[0].port = port;
	b->nhosts = 1;
	return 0;
}

/* "[192.0.2.1]" or "[ipv6:2001:db8::1]" (RFC 5321 4.1.3; the queue's
 * route is lower case): the address, or NULL when domain is not one. */
static const char *
literal(const char *domain, char *buf, size_t size)
{
	size_t len = strlen(domain);

	if (len < 3 || domain[0] != '[' || domain[len - 1] != ']')
		return NULL;
	domain++;
	len -= 2;
	if (len > 5 && !strncmp(domain, "ipv6:", 5)) {
		domain += 5;
		len -= 5;
	}
	if (len >= size)
		return NULL;
	memcpy(buf, domain, len);
	buf[len] = '\0';
	return numeric(buf) ? buf : NULL;
}

/* Stopping: the messages go back undecided, which relay.c records as
 * due at once rather than as a failed attempt with its backoff. */
static void
give_back(struct relay_batch *b)
{
	struct relay_msg *m;

	while ((m = b->msgs)) {
		b->msgs = m->next;
		b->nmsgs--;
		relay_msg_done(m);
	}
	relay_batch_done(b);
}

static void
try_next(struct relay_batch *b)
{
	struct ps_error err = {""};
	struct relay_host *h;

	if (relay_stopping()) {
		give_back(b);
		return;
	}
	while (b->next_host < b->nhosts) {
		h = &b->hosts[b->next_host++];
		if (relay_session_start(b, h, &err) == 0)
			return;
		snprintf(b->why, sizeof(b->why), "%s[%s]: 4.4.1 %s", h->name,
			 h->addr, err.msg);
	}
	relay_batch_decide_all(b, SMTPC_DEFERRED, NULL,
			       b->why[0] ? b->why : "4.4.1 no host to try");
	relay_batch_done(b);
}

void
relay_batch_session_end(struct relay_batch *b, int attempted)
{
	if (relay_stopping()) {
		give_back(b);
		return;
	}
	if (b->msgs && !attempted) {
		try_next(b);
		return;
	}
	relay_batch_decide_all(b, SMTPC_DEFERRED, NULL, b->why);
	relay_batch_done(b);
}

static void
fail_all(struct relay_batch *b, enum smtpc_outcome o, const char *text)
{
	relay_batch_decide_all(b, o, NULL, text);
	relay_batch_done(b);
}

/* One host per address, in the resolver's order (RFC 5321 5.1:
 * preference, ties shuffled), at most RELAY_HOSTS_MAX. */
static int
hosts_from(struct relay_batch *b, const struct ps_dns_host *hosts, size_t n)
{
	b->hosts = calloc(RELAY_HOSTS_MAX, sizeof(*b->hosts));
	if (!b->hosts)
		return PS_ENOMEM;
	for (size_t i = 0; i < n; i++)
		for (size_t a = 0; a < hosts[i].naddrs &&
		     b->nhosts < RELAY_HOSTS_MAX; a++) {
			struct relay_host *h = &b->hosts[b->nhosts++];

			snprintf(h->name, sizeof(h->name), "%s",
				 hosts[i].name);
			snprintf(h->addr, sizeof(h->addr), "%s",
				 hosts[i].addrs[a].text);
			h->port = b->port;
		}
	return 0;
}

static void
resolved(void *arg, enum ps_dns_status st, const struct ps_dns_host *hosts,
	 size_t n, const char *why)
{
	struct relay_batch *b = arg;
	char text[PS_QUEUE_DIAG_MAX + 1];

	if (relay_stopping()) {
		give_back(b);
		return;
	}
	switch (st) {
	case PS_DNS_OK:
		if (hosts_from(b, hosts, n) < 0) {
			fail_all(b, SMTPC_DEFERRED, "4.3.0 out of memory");
			return;
		}
		try_next(b);
		return;
	case PS_DNS_NULLMX:
		/* RFC 7505 3: the domain takes no mail; bounce at once. */
		snprintf(text, sizeof(text), "5.1.10 %s accepts no mail "
			 "(null MX, RFC 7505)", b->domain);
		fail_all(b, SMTPC_FAILED, text);
		return;
	case PS_DNS_NOTFOUND:
		/* The recipient's domain does not exist: permanent (RFC
		 * 3463 5.1.2). A route's or relayhost's host that does not
		 * is our mistake, to be mended: temporary. */
		snprintf(text, sizeof(text), "%s %s: %s", b->mx ? "5.1.2" : "4.4.3", b->domain, why ? why : "not found");
		fail_all(b, b->mx ? SMTPC_FAILED : SMTPC_DEFERRED, text);
		return;
	case PS_DNS_TEMP:
		break;
	}
	snprintf(text, sizeof(text), "4.4.3 DNS lookup for %s failed: %s",
		 b->domain, why ? why : "temporary failure");
	fail_all(b, SMTPC_DEFERRED, text);
}

/* Where b goes (RFC 5321 5.1): an address literal; a route; the
 * relayhost; else the domain's MX hosts. Names are looked up, numeric
 * hosts used as they are. */
void
relay_batch_start(struct relay_batch *b)
{
	const struct relay_smarthost *sh = &relay_cfg.relayhost;
	const struct relay_route *r;
	char buf[RELAY_ADDR_MAX], domain[SMTP_DOMAIN_MAX + 1];
	const char *addr, *name = NULL;
	int rc;

	/* RFC 6531 3.2: routes and the DNS know the domain by its
	 * A-labels; b->domain stays the queue's route. */
	if (smtp_idn_domain(b->domain, domain, sizeof(domain)) < 0) {
		fail_all(b, SMTPC_FAILED, "5.1.2 the domain is not a valid "
			 "domain name (RFC 5891)");
		return;
	}
	r = relay_route_for(domain);
	b->tls = relay_tls_for(domain);
	b->port = relay_cfg.port;
	if ((addr = literal(domain, buf, sizeof(buf))))
		name = domain;
	else if (r) {
		name = r->host;
		b->port = r->port;
	} else if (sh->host) {
		name = sh->host;
		b->port = sh->port;
		b->tls = sh->tls;
		b->auth_user = sh->user;
		b->auth_pass = sh->pass;
	}
	if (addr || (name && numeric(name))) {
		if (hosts_one(b, name, addr ? addr : name, b->port) < 0)
			fail_all(b, SMTPC_DEFERRED, "4.3.0 out of memory");
		else
			try_next(b);
		return;
	}
	b->mx = !name;
	rc = name ? smtp_dns_host(name, resolved, b)
		  : smtp_dns_mx(domain, resolved, b);
	if (rc == PS_EINVAL)
		fail_all(b, b->mx ? SMTPC_FAILED : SMTPC_DEFERRED, b->mx ?
			 "5.1.2 the domain is not a valid host name" :
			 "4.4.3 the route's host is not a valid name");
	else if (rc < 0 && relay_stopping())
		give_back(b);
	else if (rc < 0)
		fail_all(b, SMTPC_DEFERRED, "4.4.3 no DNS lookup possible now");
}
