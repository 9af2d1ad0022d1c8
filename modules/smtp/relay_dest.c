/* Where a batch goes: a static route, an address literal, or the
 * domain's MX hosts (RFC 5321 5.1); then its addresses in turn until a
 * session gets to send (a refused connection, a refused greeting or a
 * failed TLS handshake moves on to the next address, RFC 5321 5.1). */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "relay.h"

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

void
relay_batch_start(struct relay_batch *b)
{
	const struct relay_route *r = relay_route_for(b->domain);
	char buf[RELAY_ADDR_MAX];
	const char *addr;
	int rc = PS_EINVAL;

	const struct relay_smarthost *sh = &relay_cfg.relayhost;

	b->tls = relay_tls_for(b->domain);
	if (r && numeric(r->host))
		rc = hosts_one(b, r->host, r->host, r->port);
	else if ((addr = literal(b->domain, buf, sizeof(buf))))
		rc = hosts_one(b, b->domain, addr, relay_cfg.port);
	else if (sh->host && numeric(sh->host)) {
		b->tls = sh->tls;
		b->auth_user = sh->user;
		b->auth_pass = sh->pass;
		rc = hosts_one(b, sh->host, sh->host, sh->port);
	}
	if (rc == PS_ENOMEM) {
		fail_all(b, SMTPC_DEFERRED, "4.3.0 out of memory");
		return;
	}
	if (rc < 0) {
		fail_all(b, SMTPC_DEFERRED, "4.4.3 no DNS resolver in this "
			 "build for the domain's MX");
		return;
	}
	try_next(b);
}
