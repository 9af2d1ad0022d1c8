/* The worker's c-ares channel on its event loop: c-ares tells which of
 * its sockets to watch (ARES_OPT_SOCK_STATE_CB) and we watch them with
 * ps_watch_*; one ps_timer follows ares_timeout for retries and timeouts.
 * Nothing here blocks the loop: c-ares sockets are non-blocking, and the
 * only file it reads (/etc/resolv.conf without "resolver" directives) is
 * read once at worker start. The lookups themselves are resolve_lookup.c;
 * this file also holds the directives and the published "dns" interface. */
#include <ares.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "resolve.h"
#include "resolve_private.h"

static const struct ps_directive resolve_directives[] = {
	{.name = "resolver", .type = PS_CONF_ADDR, .flags = PS_CONF_MULTI,
	 .help = "a DNS server for outbound mail, numeric ADDR:PORT or "
		 "[V6]:PORT, tried in order (none: those of /etc/resolv.conf)"},
	{.name = "resolver_timeout", .type = PS_CONF_DURATION, .min = 10,
	 .max = 60000, .def = "5s",
	 .help = "wait for one DNS answer; c-ares doubles it at each round "
		 "over the servers"},
	{.name = "resolver_tries", .type = PS_CONF_INT, .min = 1, .max = 10,
	 .def = "2",
	 .help = "rounds of queries over the resolvers before a lookup "
		 "fails temporarily"},
	{.name = NULL},
};

/* Other modules reach the resolver as ps_iface_get(PS_DNS_KIND, ...). */
static const struct ps_dns_ops resolve_ops = {
	.size = sizeof(struct ps_dns_ops),
	.mx = smtp_dns_mx,
	.host = smtp_dns_host,
};

/* One watched c-ares socket. A channel has few (one UDP socket per
 * server, TCP ones for truncated answers): a list will do. */
struct resolve_sock {
	struct resolve_sock *next;
	ares_socket_t fd;
	struct ps_watch *w;
};

struct resolve_state resolve_state;
static struct resolve_sock *socks;
static struct ps_timer *retry_timer;

int
smtp_resolve_init(void)
{
	if (ps_conf_register(PS_SCOPE_MODULE, resolve_directives) < 0 ||
	    ps_iface_publish(PS_DNS_KIND, "smtp", &resolve_ops) < 0)
		return PS_EFAIL;
	return 0;
}

/* ---- Sockets and the timer ------------------------------------------- */

static void
on_ready(int fd, unsigned events, void *arg)
{
	ares_socket_t r = ARES_SOCKET_BAD, w = ARES_SOCKET_BAD;

	(void)arg;
	/* An error or hangup is reported with READ: c-ares reads it and
	 * learns about it then. */
	if (events & (PS_WATCH_READ | PS_WATCH_ERROR))
		r = fd;
	if (events & PS_WATCH_WRITE)
		w = fd;
	ares_process_fd(resolve_state.chan, r, w);
	resolve_rearm();
}

static struct resolve_sock **
sock_find(ares_socket_t fd)
{
	struct resolve_sock **p = &socks;

	while (*p && (*p)->fd != fd)
		p = &(*p)->next;
	return p;
}

static void
sock_watch(ares_socket_t fd, unsigned events)
{
	struct resolve_sock *s = malloc(sizeof(*s));

	if (s && (s->w = ps_watch_add(fd, events, on_ready, NULL))) {
		s->fd = fd;
		s->next = socks;
		socks = s;
		return;
	}
	/* Its queries then end by timeout: slow, but they do end. */
	free(s);
	ps_log(PS_LOG_ERR, "resolver: cannot watch fd=%d", (int)fd);
}

/* c-ares's ARES_OPT_SOCK_STATE_CB: what fd needs now; neither means the
 * socket is about to be closed, so its watch goes first. */
static void
on_sock_state(void *data, ares_socket_t fd, int readable, int writable)
{
	struct resolve_sock **p = sock_find(fd), *s = *p;
	unsigned events = (readable ? PS_WATCH_READ : 0) |
			  (writable ? PS_WATCH_WRITE : 0);

	(void)data;
	if (s && !events) {
		*p = s->next;
		ps_watch_remove(s->w);
		free(s);
	} else if (s) {
		if (ps_watch_set(s->w, events) < 0)
			ps_log(PS_LOG_ERR, "resolver: cannot rewatch fd=%d",
			       (int)fd);
	} else if (events) {
		sock_watch(fd, events);
	}
}

static void
on_timer(void *arg)
{
	(void)arg;
	retry_timer = NULL;
	/* No fd: c-ares only looks at its deadlines. */
	ares_process_fd(resolve_state.chan, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	resolve_rearm();
}

void
resolve_rearm(void)
{
	struct timeval tv;
	uint64_t ms;

	if (retry_timer) {
		ps_timer_cancel(retry_timer);
		retry_timer = NULL;
	}
	if (!resolve_state.up || resolve_state.exiting ||
	    !ares_timeout(resolve_state.chan, NULL, &tv))
		return;
	/* Rounded up: a timer a millisecond early would find nothing due
	 * and spin. */
	ms = (uint64_t)tv.tv_sec * 1000 + ((uint64_t)tv.tv_usec + 999) / 1000;
	retry_timer = ps_timer_add(ms, on_timer, NULL);
	if (!retry_timer)
		ps_log(PS_LOG_ERR, "resolver: cannot arm its timer");
}

/* ---- The channel ----------------------------------------------------- */

/* c-ares takes numeric servers only; the config grammar of an address
 * also allows a wildcard and a host name, which name no server here. */
static int
server_ok(const char *addr)
{
	char host[INET_ADDRSTRLEN];
	const char *colon = strrchr(addr, ':');
	struct in_addr a;
	size_t len = colon ? (size_t)(colon - addr) : 0;

	if (addr[0] == '[')
		return 1; /* checked as IPv6 by the config parser */
	if (len == 0 || len >= sizeof(host))
		return 0;
	memcpy(host, addr, len);
	host[len] = '\0';
	return inet_pton(AF_INET, host, &a) == 1;
}

/* The "resolver" directives as c-ares's "host:port,[v6]:port" list,
 * without those that name no server (logged). */
static int
servers_csv(const struct ps_conf_section *m, char *buf, size_t size)
{
	size_t n = ps_conf_count(m, "resolver"), len = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		const struct ps_conf_value *v = ps_conf_get(m, "resolver", i);
		int w;

		if (!server_ok(v->str)) {
			ps_log(PS_LOG_ERR, "%s:%d: resolver %s: not a numeric "
			       "address, ignored", v->file, v->line, v->str);
			continue;
		}
		w = snprintf(buf + len, size - len, "%s%s", len ? "," : "",
			     v->str);
		if (w < 0 || (size_t)w >= size - len)
			return -1;
		len += (size_t)w;
	}
	return 0;
}

/* Resolvers given but none usable: lookups fail temporarily (mail waits,
 * the log says why) rather than go to the system's resolvers, which the
 * operator chose not to use. Without asking c-ares: its ares_send leaks
 * a little on a channel without servers (c-ares 1.18.1). */
static int
channel_servers(const struct ps_conf_section *m, struct ps_error *err)
{
	char csv[4096];
	int r;

	if (servers_csv(m, csv, sizeof(csv)) < 0) {
		snprintf(err->msg, sizeof(err->msg), "resolver: too many "
			 "servers");
		return PS_EINVAL;
	}
	if (!ps_conf_count(m, "resolver"))
		return 0;
	if (!csv[0]) {
		resolve_state.no_server = 1;
		return 0;
	}
	r = ares_set_servers_ports_csv(resolve_state.chan, csv);
	if (r != ARES_SUCCESS) {
		snprintf(err->msg, sizeof(err->msg), "resolver %s: %s", csv,
			 ares_strerror(r));
		return PS_EINVAL;
	}
	return 0;
}

int
smtp_resolve_worker_init(struct ps_error *err)
{
	const struct ps_conf_section *m = ps_conf_module();
	struct ares_options o;
	int r;

	memset(&o, 0, sizeof(o));
	o.sock_state_cb = on_sock_state;
	o.timeout = (int)ps_conf_num(m, "resolver_timeout");
	o.tries = (int)ps_conf_num(m, "resolver_tries");
	r = ares_library_init(ARES_LIB_INIT_ALL);
	if (r == ARES_SUCCESS)
		r = ares_init_options(&resolve_state.chan, &o,
				      ARES_OPT_SOCK_STATE_CB |
				      ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES);
	if (r != ARES_SUCCESS) {
		snprintf(err->msg, sizeof(err->msg), "resolver: c-ares: %s",
			 ares_strerror(r));
		return PS_EFAIL;
	}
	resolve_state.up = 1;
	resolve_state.exiting = 0;
	resolve_state.no_server = 0;
	resolve_seed();
	return channel_servers(m, err);
}

/* Lookups in flight end with ARES_EDESTRUCTION inside ares_destroy (their
 * callbacks run: PS_DNS_TEMP), its sockets' watches go through
 * on_sock_state, then results still waiting for their loop turn are
 * handed over here too, since no loop turn comes any more. */
void
smtp_resolve_worker_exit(void)
{
	if (!resolve_state.up)
		return;
	resolve_state.exiting = 1;
	ares_destroy(resolve_state.chan);
	resolve_state.up = 0;
	resolve_flush();
	if (retry_timer)
		ps_timer_cancel(retry_timer);
	retry_timer = NULL;
	while (socks) {
		struct resolve_sock *s = socks;

		socks = s->next;
		ps_watch_remove(s->w);
		free(s);
	}
	ares_library_cleanup();
}
