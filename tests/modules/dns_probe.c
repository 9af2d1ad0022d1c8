/* dns_probe.so: smtp.so's resolver through the "dns" interface
 * (<poshta/dns.h>), driven over a listener of protocol "dnsprobe":
 *
 *   MX tag domain      RFC 5321 5.1 hosts for domain
 *   HOST tag name      the addresses of one host
 *
 * "tag" is the caller's word, so lookups may overlap. Each ends with
 *   tag STATUS n why          STATUS: OK NOTFOUND NULLMX TEMP
 *   tag name pref addr...     n lines, in the order to try them
 * or at once "tag ERR code" when the call refused it (no callback then). */
#include <poshta/poshta.h>
#include <poshta/dns.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ctl {
	struct ps_conn *c;
};

/* One lookup in flight: the connection is held until its answer. */
struct ask {
	struct ps_conn *c;
	char tag[64];
};

static struct ps_dns_ops dns;

static const char *const status_names[] = {"OK", "NOTFOUND", "NULLMX",
					   "TEMP"};

static void
say_host(struct ps_conn *c, const char *tag, const struct ps_dns_host *h)
{
	char line[1024];
	size_t len;

	len = (size_t)snprintf(line, sizeof(line), "%s %s %u", tag, h->name,
			       h->pref);
	for (size_t i = 0; i < h->naddrs && len < sizeof(line); i++)
		len += (size_t)snprintf(line + len, sizeof(line) - len, " %s",
					h->addrs[i].text);
	ps_conn_printf(c, "%s\r\n", line);
}

/* The callback of both methods: report, then let the connection go. */
static void
answered(void *arg, enum ps_dns_status st, const struct ps_dns_host *hosts,
	 size_t n, const char *why)
{
	struct ask *a = arg;

	if (!ps_conn_closing(a->c)) {
		ps_conn_printf(a->c, "%s %s %zu %s\r\n", a->tag,
			       (unsigned)st < 4 ? status_names[st] : "?", n,
			       why);
		for (size_t i = 0; i < n; i++)
			say_host(a->c, a->tag, &hosts[i]);
	}
	ps_conn_release(a->c);
	free(a);
}

static void
ask(struct ctl *ctl, int mx, const char *tag, const char *name)
{
	struct ask *a = calloc(1, sizeof(*a));
	int r;

	if (!a || !dns.mx) {
		ps_conn_printf(ctl->c, "%s ERR %s\r\n", tag,
			       a ? "no dns interface" : "out of memory");
		free(a);
		return;
	}
	a->c = ctl->c;
	snprintf(a->tag, sizeof(a->tag), "%s", tag);
	/* Held first: the answer never comes inside the call, but the
	 * hold must cover it either way. */
	ps_conn_hold(ctl->c);
	r = mx ? dns.mx(name, answered, a) : dns.host(name, answered, a);
	if (r < 0) {
		ps_conn_printf(ctl->c, "%s ERR %d\r\n", tag, r);
		ps_conn_release(ctl->c);
		free(a);
	}
}

static int
ctl_open(struct ps_conn *c, void *s)
{
	struct ctl *ctl = s;

	ctl->c = c;
	ps_conn_printf(c, "DNSPROBE ready\r\n");
	return 0;
}

static int
ctl_line(struct ps_conn *c, void *s, const char *line, size_t len,
	 unsigned flags)
{
	char buf[1024], verb[16], tag[64], name[512];

	(void)flags;
	snprintf(buf, sizeof(buf), "%.*s", (int)len, line);
	name[0] = '\0';
	if (sscanf(buf, "%15s %63s %511s", verb, tag, name) < 2) {
		ps_conn_printf(c, "ERR usage\r\n");
		return 0;
	}
	if (!strcmp(verb, "MX") || !strcmp(verb, "HOST"))
		ask(s, !strcmp(verb, "MX"), tag, name);
	else
		ps_conn_printf(c, "%s ERR unknown\r\n", tag);
	return 0;
}

static const struct ps_protocol probe = {
	.size = sizeof(struct ps_protocol),
	.name = "dnsprobe",
	.session_size = sizeof(struct ctl),
	.on_open = ctl_open,
	.on_line = ctl_line,
};

static int
dns_probe_init(struct ps_error *err)
{
	if (ps_protocol_register(&probe) < 0) {
		snprintf(err->msg, sizeof(err->msg), "cannot register "
			 "dnsprobe");
		return PS_EFAIL;
	}
	return 0;
}

/* Interfaces are looked up once every module has published. */
static int
dns_probe_worker_init(struct ps_error *err)
{
	(void)err;
	if (ps_iface_get(PS_DNS_KIND, "smtp", &dns, sizeof(dns)) < 0)
		ps_log(PS_LOG_WARN, "no dns interface: load smtp");
	return 0;
}

static const char *const requires[] = {"smtp", NULL};

PS_MODULE_DEFINE(.name = "dns_probe", .version = "1.0",
		 .requires = requires, .init = dns_probe_init,
		 .worker_init = dns_probe_worker_init);
