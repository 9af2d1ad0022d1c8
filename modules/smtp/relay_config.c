/* The smtp block's outbound directives: where mail for a domain goes
 * (route), how much TLS a domain gets (tls_policy), and the runner's
 * limits and timings. Read once per worker. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "relay.h"
#include "smtpd.h"

struct relay_config relay_cfg;

static const char *const tls_names[] = {"none", "opportunistic", "required",
					NULL};

static const struct ps_directive relay_directives[] = {
	{.name = "route", .type = PS_CONF_WORDS, .flags = PS_CONF_MULTI,
	 .min = 2, .max = 2,
	 .help = "DOMAIN HOST[:PORT]: deliver the domain's mail to HOST (an "
		 "address or a name looked up without MX) instead of its MX"},
	{.name = "tls_policy", .type = PS_CONF_WORDS, .flags = PS_CONF_MULTI,
	 .min = 2, .max = 2,
	 .help = "DOMAIN none|opportunistic|required: STARTTLS to the "
		 "domain's servers; required also verifies the certificate "
		 "against the server's name"},
	{.name = "outbound_ca_file", .type = PS_CONF_PATH,
	 .help = "trust anchors (PEM) for verifying servers' certificates; "
		 "default: the system's"},
	{.name = "outbound_port", .type = PS_CONF_INT, .min = 1, .max = 65535,
	 .def = "25", .help = "port of MX hosts (RFC 5321 4.5.4.2)"},
	{.name = "outbound_concurrency", .type = PS_CONF_INT, .min = 1,
	 .max = 10000, .def = "20",
	 .help = "outbound SMTP sessions at once, per worker"},
	{.name = "outbound_per_destination", .type = PS_CONF_INT, .min = 1,
	 .max = 1000, .def = "4",
	 .help = "outbound SMTP sessions at once to one domain, per worker"},
	{.name = "retry_first", .type = PS_CONF_DURATION, .min = 1000,
	 .max = 7LL * 86400 * 1000, .def = "5m",
	 .help = "wait before the first retry; doubles each time, +-20% "
		 "jitter"},
	{.name = "retry_max", .type = PS_CONF_DURATION, .min = 1000,
	 .max = 7LL * 86400 * 1000, .def = "1h",
	 .help = "longest wait between two attempts"},
	{.name = "queue_lifetime", .type = PS_CONF_DURATION, .min = 1000,
	 .max = 100LL * 86400 * 1000, .def = "5d",
	 .help = "give up and bounce a recipient this long after arrival "
		 "(RFC 5321 4.5.4.1)"},
	{.name = "delay_warning", .type = PS_CONF_DURATION, .min = 0,
	 .max = 100LL * 86400 * 1000, .def = "4h",
	 .help = "send one delay DSN (RFC 3464) this long after arrival; 0: "
		 "never"},
	{.name = NULL},
};

static const struct ps_directive relayhost_directives[] = {
	{.name = "auth", .type = PS_CONF_WORDS, .min = 2, .max = 2,
	 .help = "USER PASSWORD: AUTH PLAIN or LOGIN (RFC 4954), never sent "
		 "without TLS"},
	{.name = "tls", .type = PS_CONF_ENUM, .choices = tls_names,
	 .def = "opportunistic",
	 .help = "STARTTLS to the smarthost; required also verifies its "
		 "certificate against HOST"},
	{.name = NULL},
};

static const struct ps_conf_block relayhost_block = {
	.size = sizeof(struct ps_conf_block),
	.name = "relayhost",
	.args = {.name = "relayhost", .type = PS_CONF_ADDR,
		 .help = "HOST:PORT, an address or a name (looked up without "
			 "MX)"},
	.directives = relayhost_directives,
	.help = "send mail for every domain without a route through this "
		"smarthost",
};

int
relay_config_register(void)
{
	int r = ps_conf_register(PS_SCOPE_MODULE, relay_directives);

	return r < 0 ? r : ps_conf_register_block(&relayhost_block);
}

static char *
lower_dup(const char *s)
{
	char *d = strdup(s);

	for (char *p = d; p && *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return d;
}

/* HOST, HOST:PORT, [V6] or [V6]:PORT into r->host and r->port. */
static int
parse_host_port(const char *s, struct relay_route *r, uint16_t def_port)
{
	const char *end, *colon = NULL;
	size_t hlen;
	char *stop;
	long port = def_port;

	if (s[0] == '[') {
		end = strchr(s, ']');
		if (!end || (end[1] && end[1] != ':'))
			return PS_EINVAL;
		s++;
		hlen = (size_t)(end - s);
		colon = end[1] ? end + 1 : NULL;
	} else {
		colon = strrchr(s, ':');
		if (colon && strchr(s, ':') != colon)
			return PS_EINVAL; /* a bare IPv6 address: [brackets] */
		hlen = colon ? (size_t)(colon - s) : strlen(s);
	}
	if (colon) {
		port = strtol(colon + 1, &stop, 10);
		if (!colon[1] || *stop || port < 1 || port > 65535)
			return PS_EINVAL;
	}
	if (!hlen || hlen > RELAY_NAME_MAX)
		return PS_EINVAL;
	r->host = strndup(s, hlen);
	r->port = (uint16_t)port;
	return r->host ? 0 : PS_ENOMEM;
}

static int
load_routes(const struct ps_conf_section *m, struct ps_error *err)
{
	size_t n = ps_conf_count(m, "route");

	relay_cfg.routes = calloc(n ? n : 1, sizeof(*relay_cfg.routes));
	if (!relay_cfg.routes)
		return PS_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const struct ps_conf_value *v = ps_conf_get(m, "route", i);
		struct relay_route *r = &relay_cfg.routes[i];

		r->domain = lower_dup(v->words[0]);
		if (!r->domain ||
		    parse_host_port(v->words[1], r, relay_cfg.port) < 0) {
			snprintf(err->msg, sizeof(err->msg), "%s:%d: route: "
				 "expected DOMAIN HOST[:PORT], got '%s'",
				 v->file, v->line, v->words[1]);
			return PS_EINVAL;
		}
		relay_cfg.nroutes++;
	}
	return 0;
}

static int
load_policies(const struct ps_conf_section *m, struct ps_error *err)
{
	size_t n = ps_conf_count(m, "tls_policy");

	relay_cfg.policies = calloc(n ? n : 1, sizeof(*relay_cfg.policies));
	if (!relay_cfg.policies)
		return PS_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const struct ps_conf_value *v = ps_conf_get(m, "tls_policy", i);
		struct relay_tls_policy *p = &relay_cfg.policies[i];
		size_t t;

		for (t = 0; tls_names[t]; t++)
			if (!strcmp(v->words[1], tls_names[t]))
				break;
		if (!tls_names[t]) {
			snprintf(err->msg, sizeof(err->msg), "%s:%d: "
				 "tls_policy: expected none, opportunistic "
				 "or required, got '%s'", v->file, v->line,
				 v->words[1]);
			return PS_EINVAL;
		}
		p->domain = lower_dup(v->words[0]);
		if (!p->domain)
			return PS_ENOMEM;
		p->tls = (enum relay_tls)t;
		relay_cfg.npolicies++;
	}
	return 0;
}

static int
load_relayhost(const struct ps_conf_section *m, struct ps_error *err)
{
	const struct ps_conf_value *args, *auth;
	const struct ps_conf_section *b = ps_conf_block(m, "relayhost", 0,
							&args);
	struct relay_route r = {0};

	if (!b)
		return 0;
	if (args->str[0] == '*' || parse_host_port(args->str, &r, 25) < 0) {
		snprintf(err->msg, sizeof(err->msg), "%s:%d: relayhost: "
			 "expected HOST:PORT, got '%s'", args->file,
			 args->line, args->str);
		free(r.host);
		return PS_EINVAL;
	}
	relay_cfg.relayhost.host = r.host;
	relay_cfg.relayhost.port = r.port;
	relay_cfg.relayhost.tls = (enum relay_tls)ps_conf_num(b, "tls");
	if ((auth = ps_conf_get(b, "auth", 0))) {
		relay_cfg.relayhost.user = auth->words[0];
		relay_cfg.relayhost.pass = auth->words[1];
	}
	return 0;
}

static int64_t
seconds(const struct ps_conf_section *m, const char *name)
{
	return (int64_t)(ps_conf_num(m, name) + 999) / 1000;
}

int
relay_config_load(struct ps_error *err)
{
	const struct ps_conf_section *m = ps_conf_module();
	int r;

	relay_cfg.enabled = smtp_cfg.have_queue && smtp_cfg.queue.lease &&
			    smtp_cfg.queue.results && smtp_cfg.queue.next_due &&
			    smtp_cfg.queue.msg_read;
	relay_cfg.ca_file = ps_conf_str(m, "outbound_ca_file");
	relay_cfg.port = (uint16_t)ps_conf_num(m, "outbound_port");
	relay_cfg.concurrency = (unsigned)ps_conf_num(m,
						      "outbound_concurrency");
	relay_cfg.per_dest = (unsigned)ps_conf_num(m,
						   "outbound_per_destination");
	relay_cfg.retry_first = seconds(m, "retry_first");
	relay_cfg.retry_max = seconds(m, "retry_max");
	if (relay_cfg.retry_max < relay_cfg.retry_first)
		relay_cfg.retry_max = relay_cfg.retry_first;
	relay_cfg.lifetime = seconds(m, "queue_lifetime");
	relay_cfg.delay_warning = seconds(m, "delay_warning");
	r = load_routes(m, err);
	if (r == 0)
		r = load_policies(m, err);
	if (r == 0)
		r = load_relayhost(m, err);
	if (r == PS_ENOMEM)
		snprintf(err->msg, sizeof(err->msg), "out of memory");
	return r;
}

const struct relay_route *
relay_route_for(const char *domain)
{
	for (size_t i = 0; i < relay_cfg.nroutes; i++)
		if (!strcmp(relay_cfg.routes[i].domain, domain))
			return &relay_cfg.routes[i];
	return NULL;
}

enum relay_tls
relay_tls_for(const char *domain)
{
	for (size_t i = 0; i < relay_cfg.npolicies; i++)
		if (!strcmp(relay_cfg.policies[i].domain, domain))
			return relay_cfg.policies[i].tls;
	return RELAY_TLS_OPPORTUNISTIC;
}
