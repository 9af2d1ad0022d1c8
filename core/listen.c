/* Listening sockets: "host:port" addresses, binding in the master
 * (SO_REUSEADDR, IPV6_V6ONLY), and accepting in each worker, where the
 * connection limits are applied before a protocol sees the client. All
 * workers watch the same inherited fds, each new connection waking one
 * sleeping worker (EPOLLEXCLUSIVE: the others sleep on), and an accept4
 * that finds nothing (EAGAIN) only means another worker was quicker. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conn.h"
#include "limits.h"
#include "listen.h"
#include "log.h"
#include "loop.h"

#define LISTEN_BACKLOG 511
/* Accepts per readiness event: enough to empty a burst, few enough that
 * one busy listener cannot hold up the loop, and some share for the
 * other workers. */
#define LISTEN_BATCH 32
/* How long to stop accepting when out of file descriptors or memory. */
#define LISTEN_PAUSE_MS 100

/* The accepting side of one worker: one loop per process. */
static struct ps_loop *accept_loop;
static struct ps_listener *accepting;
static struct ps_timer *pause_timer;
static int shortage_logged; /* until an accept works again */

static int
parse_port(const char *text, const char *p, in_port_t *port,
	   struct ps_error *err)
{
	char *end;
	unsigned long n;

	if (*p < '0' || *p > '9')
		return ps_error_set(err, "listen address '%s': port missing",
				    text);
	errno = 0;
	n = strtoul(p, &end, 10);
	if (*end || errno || n == 0 || n > 65535)
		return ps_error_set(err, "listen address '%s': bad port '%s'",
				    text, p);
	*port = htons((in_port_t)n);
	return 0;
}

/* Split text into a host (copied to host, "" for "*" or nothing) and
 * the port text; *v6 says the host was in brackets. */
static int
split_addr(const char *text, char *host, size_t hostlen, const char **port,
	   int *v6, struct ps_error *err)
{
	const char *end, *colon;

	*v6 = text[0] == '[';
	if (*v6) {
		end = strchr(text, ']');
		if (!end || end[1] != ':')
			return ps_error_set(err, "listen address '%s': "
					    "expected [IPv6]:PORT", text);
		text++;
		colon = end + 1;
	} else {
		colon = strrchr(text, ':');
		if (!colon)
			return ps_error_set(err, "listen address '%s': "
					    "expected HOST:PORT", text);
		if (memchr(text, ':', (size_t)(colon - text)))
			return ps_error_set(err, "listen address '%s': IPv6 "
					    "addresses go in brackets, as in "
					    "[::1]:143", text);
		end = colon;
	}
	if ((size_t)(end - text) >= hostlen)
		return ps_error_set(err, "listen address '%.*s': host too long",
				    (int)(end - text), text);
	memcpy(host, text, (size_t)(end - text));
	host[end - text] = '\0';
	if (!*v6 && strcmp(host, "*") == 0)
		host[0] = '\0';
	*port = colon + 1;
	return 0;
}

/* "*" and "" are IPv4's any address; "[::]" is IPv6's. With IPV6_V6ONLY
 * set on every IPv6 socket, serving both takes two listen blocks. Hosts
 * are numeric: a name would be resolved once, at start, and silently
 * go stale. */
int
ps_listen_parse_addr(const char *text, struct sockaddr_storage *ss,
		     socklen_t *len, struct ps_error *err)
{
	struct addrinfo hints = {0}, *ai;
	char host[INET6_ADDRSTRLEN + 32];
	const char *port = NULL;
	in_port_t nport = 0;
	int v6, r;

	if (split_addr(text, host, sizeof(host), &port, &v6, err) < 0 ||
	    parse_port(text, port, &nport, err) < 0)
		return PS_EFAIL;
	hints.ai_family = v6 ? AF_INET6 : AF_INET;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_PASSIVE;
	r = getaddrinfo(*host ? host : NULL, "0", &hints, &ai);
	if (r != 0)
		return ps_error_set(err, "listen address '%s': '%s' is not a "
				    "numeric %s address", text, host,
				    v6 ? "IPv6" : "IPv4");
	memset(ss, 0, sizeof(*ss));
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	*len = ai->ai_addrlen;
	freeaddrinfo(ai);
	if (ss->ss_family == AF_INET6)
		((struct sockaddr_in6 *)ss)->sin6_port = nport;
	else
		((struct sockaddr_in *)ss)->sin_port = nport;
	return 0;
}

static int
bind_fail(struct ps_listener *l, int fd, struct ps_error *err)
{
	int e = errno;

	if (fd >= 0)
		close(fd);
	return ps_error_set(err, "listen %s %s: %s", l->name, l->addr_text,
			    strerror(e));
}

int
ps_listen_bind(struct ps_listener *l, struct ps_error *err)
{
	int fd, one = 1;

	fd = socket(l->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, 0);
	if (fd < 0)
		return bind_fail(l, fd, err);
	/* Restarting must not wait for old connections in TIME_WAIT. */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
		return bind_fail(l, fd, err);
	if (l->addr.ss_family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0)
		return bind_fail(l, fd, err);
	/* Replies are whole lines written at once: do not hold them back.
	 * Accepted sockets inherit it from the listener (Linux clones the
	 * listener's socket), which saves a call per connection. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&l->addr, l->addrlen) < 0 ||
	    listen(fd, LISTEN_BACKLOG) < 0)
		return bind_fail(l, fd, err);
	l->fd = fd;
	return 0;
}

const char *
ps_listen_addr_text(const struct sockaddr *sa, char *buf, size_t len)
{
	const void *a = NULL;
	int family = sa->sa_family;

	if (family == AF_INET) {
		a = &((const struct sockaddr_in *)sa)->sin_addr;
	} else if (family == AF_INET6) {
		const struct in6_addr *a6 =
			&((const struct sockaddr_in6 *)sa)->sin6_addr;

		/* Show an IPv4 client as such, as the logs' readers expect. */
		a = IN6_IS_ADDR_V4MAPPED(a6) ? (const void *)&a6->s6_addr[12]
					     : (const void *)a6;
		if (IN6_IS_ADDR_V4MAPPED(a6))
			family = AF_INET;
	}
	if (!a || !inet_ntop(family, a, buf, (socklen_t)len))
		snprintf(buf, len, "local");
	return buf;
}

/* A connection the limits let in becomes a ps_conn; the others are
 * closed unanswered, with one line an operator (or fail2ban) can match. */
static void
listen_take(struct ps_listener *l, int fd, const struct sockaddr *sa,
	    socklen_t salen)
{
	char peer[INET6_ADDRSTRLEN];
	int r = ps_limits_acquire(sa, &l->limits);

	if (r == PS_LIMITS_PEER)
		ps_notice("connection refused: too many connections from %s "
			  "limit=%zu listener=%s",
			  ps_listen_addr_text(sa, peer, sizeof(peer)),
			  l->limits.per_ip, l->name);
	else if (r == PS_LIMITS_TOTAL)
		ps_notice("connection refused: server connection limit "
			  "reached peer=%s limit=%zu listener=%s",
			  ps_listen_addr_text(sa, peer, sizeof(peer)),
			  l->limits.total, l->name);
	else if (r == PS_LIMITS_LISTENER)
		ps_notice("connection refused: listener connection limit "
			  "reached peer=%s limit=%zu listener=%s",
			  ps_listen_addr_text(sa, peer, sizeof(peer)),
			  l->limits.listener, l->name);
	if (r != 0) {
		close(fd);
		return;
	}
	if (!ps_conn_accept(accept_loop, l, fd, sa, salen))
		ps_limits_release(sa, l->limits.slot);
}

static void listen_ready(struct ps_loop *loop, int fd, unsigned events,
			 void *arg);

static int
listen_watch_all(unsigned events)
{
	for (struct ps_listener *l = accepting; l; l = l->next)
		if (ps_loop_watch(accept_loop, l->fd, events, listen_ready,
				  l) < 0)
			return PS_EFAIL;
	return 0;
}

static void
listen_unpause(void *arg)
{
	pause_timer = NULL;
	if (listen_watch_all(PS_EV_READ | PS_EV_EXCLUSIVE) < 0)
		ps_err("cannot watch the listeners again: not accepting");
}

/* Out of fds or memory (or a listener gone wrong): the connection stays
 * in the backlog and a level-triggered loop would see the listener ready
 * again at once. Look away for a moment: closing connections make room,
 * or another worker takes it. */
static void
listen_pause(const struct ps_listener *l, int e)
{
	if (!shortage_logged)
		ps_warn("accept on listener %s: %s: pausing accepts for %d ms "
			"at a time until it works again", l->name, strerror(e),
			LISTEN_PAUSE_MS);
	shortage_logged = 1;
	if (pause_timer)
		return;
	listen_watch_all(0);
	pause_timer = ps_loop_timer(accept_loop, LISTEN_PAUSE_MS,
				    listen_unpause, NULL);
	if (!pause_timer)
		listen_unpause(NULL);
}

/* Returns 1 to go on accepting, 0 to stop for this event. */
static int
listen_one(struct ps_listener *l)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int fd;

	fd = accept4(l->fd, (struct sockaddr *)&ss, &len,
		     SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd >= 0) {
		shortage_logged = 0;
		listen_take(l, fd, (struct sockaddr *)&ss, len);
		return 1;
	}
	switch (errno) {
	case EAGAIN:
		return 0;
	case EINTR:
	case ECONNABORTED:
	case EPROTO:
	case EPERM:
	case ENETDOWN:
	case ENOPROTOOPT:
	case EHOSTDOWN:
	case ENONET:
	case EHOSTUNREACH:
	case ENETUNREACH:
		/* This client gave up or its network failed: the next one
		 * may be fine (accept(2) says to retry). */
		return 1;
	default:
		/* EMFILE, ENFILE, ENOBUFS, ENOMEM above all. */
		listen_pause(l, errno);
		return 0;
	}
}

static void
listen_ready(struct ps_loop *loop, int fd, unsigned events, void *arg)
{
	for (int i = 0; i < LISTEN_BATCH && listen_one(arg); i++)
		continue;
}

int
ps_listen_start(struct ps_loop *loop, struct ps_listener *first)
{
	accept_loop = loop;
	accepting = first;
	shortage_logged = 0;
	return listen_watch_all(PS_EV_READ | PS_EV_EXCLUSIVE);
}

void
ps_listen_stop(struct ps_loop *loop, struct ps_listener *first)
{
	for (struct ps_listener *l = first; l; l = l->next)
		ps_loop_unwatch(loop, l->fd);
	ps_loop_timer_cancel(loop, pause_timer);
	pause_timer = NULL;
	accepting = NULL;
}
