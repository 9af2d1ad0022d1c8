/* Outbound connections (SDK 1.4): a non-blocking connect(2) to a numeric
 * address, then the same buffered connection conn.c gives an accepted
 * client, driven by the module's struct ps_protocol. TLS is implicit or
 * STARTTLS from the client side, where RFC 3207 section 4.2's rule holds the
 * other way round: whatever the server sent with its go-ahead is discarded
 * before the handshake. */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conn_int.h"
#include "listen.h"
#include "log.h"
#include "loop.h"
#include "tls.h"
#include "tls_client.h"
#include "worker.h"

#define CONNECT_TIMEOUT_MS 60000

/* What outbound connections read where accepted ones read their listen
 * block: the core's default bounds, no TLS of the server's, no limits. */
static struct ps_listener outbound = {.name = "-", .fd = -1};

static int
connect_addr(const char *text, uint16_t port, struct sockaddr_storage *ss,
	     socklen_t *len)
{
	struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (text && inet_pton(AF_INET, text, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons(port);
		*len = sizeof(*in4);
		return 0;
	}
	if (text && inet_pton(AF_INET6, text, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		*len = sizeof(*in6);
		return 0;
	}
	return PS_EINVAL;
}

/* Checks the caller can be told about at once. */
static int
connect_check(const struct ps_protocol *p, const struct ps_connect *o,
	      struct ps_error *err)
{
	if (!ps_worker_loop())
		return ps_error_set(err, "connect: only in a worker");
	if (ps_conn_shutting_down())
		return ps_error_set(err, "connect: the server is shutting "
				    "down");
	if (!p || p->size < offsetof(struct ps_protocol, on_line) +
	    sizeof(p->on_line) || !p->on_line)
		return ps_error_set(err, "connect: the protocol has no "
				    "on_line");
	if (!o->port)
		return ps_error_set(err, "connect: port 0");
	if ((o->tls & PS_CONNECT_TLS) && !o->tls_opts)
		return ps_error_set(err, "connect: implicit TLS needs "
				    "tls_opts");
	return 0;
}

/* A socket bound to o->source if given, connect(2) started. An error
 * from connect itself (refused, unreachable) is kept for the loop to
 * report as on_close, like one that comes later. Returns the fd or -1. */
static int
connect_socket(const struct ps_connect *o, const struct sockaddr *peer,
	       socklen_t peerlen, int *errno_r, struct ps_error *err)
{
	struct sockaddr_storage src;
	socklen_t srclen;
	int fd;

	if (o->source && (connect_addr(o->source, 0, &src, &srclen) < 0 ||
			  src.ss_family != peer->sa_family)) {
		ps_error_set(err, "connect: source '%s' is not a numeric "
			     "address of the destination's family", o->source);
		return -1;
	}
	fd = socket(peer->sa_family, SOCK_STREAM | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, 0);
	if (fd < 0) {
		ps_error_set(err, "connect: socket: %s", strerror(errno));
		return -1;
	}
	if (o->source && bind(fd, (struct sockaddr *)&src, srclen) < 0) {
		ps_error_set(err, "connect: bind %s: %s", o->source,
			     strerror(errno));
		close(fd);
		return -1;
	}
	*errno_r = 0;
	if (connect(fd, peer, peerlen) < 0 && errno != EINPROGRESS)
		*errno_r = errno;
	return fd;
}

static struct ps_conn *
connect_conn(struct ps_module_ctx *m, const struct ps_protocol *p,
	     const struct ps_connect *o, int fd, const struct sockaddr *peer,
	     socklen_t peerlen, struct ps_error *err)
{
	struct ps_tls *tls = NULL;
	struct ps_conn *c;

	if ((o->tls & PS_CONNECT_TLS) &&
	    ps_tls_client_new(o->tls_opts, fd, &tls, err) < 0)
		return NULL;
	c = ps_conn_new(ps_worker_loop(), &outbound, p, 1, fd, peer, peerlen);
	if (!c) {
		ps_tls_free(tls);
		ps_error_set(err, "connect: out of memory");
		return NULL;
	}
	c->t.tls = tls;
	c->outbound = 1;
	c->arg = o->arg;
	c->phase = CONN_CONNECTING;
	c->readable = c->writable = 0;
	c->events = PS_EV_WRITE;
	c->timeout_ms = o->timeout_ms ? o->timeout_ms : CONNECT_TIMEOUT_MS;
	ps_logf(m, c, PS_LOG_INFO, "connect to %s port=%u protocol=%s tls=%s",
		c->peer, (unsigned)o->port, p->name ? p->name : "-",
		tls ? "implicit" : "none");
	return c;
}

struct ps_conn *
ps_conn_connect(struct ps_module_ctx *m, const struct ps_protocol *p,
		const struct ps_connect *o, struct ps_error *err)
{
	struct ps_connect opt = {0};
	struct sockaddr_storage peer;
	socklen_t peerlen;
	struct ps_conn *c;
	int fd, connect_errno;

	if (!o || o->size < offsetof(struct ps_connect, arg) +
	    sizeof(o->arg)) {
		ps_error_set(err, "connect: options missing or too small");
		return NULL;
	}
	memcpy(&opt, o, o->size < sizeof(opt) ? o->size : sizeof(opt));
	if (connect_check(p, &opt, err) < 0)
		return NULL;
	if (connect_addr(opt.address, opt.port, &peer, &peerlen) < 0) {
		ps_error_set(err, "connect: '%s' is not a numeric IPv4 or "
			     "IPv6 address", opt.address ? opt.address : "");
		return NULL;
	}
	fd = connect_socket(&opt, (struct sockaddr *)&peer, peerlen,
			    &connect_errno, err);
	if (fd < 0)
		return NULL;
	c = connect_conn(m, p, &opt, fd, (struct sockaddr *)&peer, peerlen,
			 err);
	if (!c) {
		close(fd);
		return NULL;
	}
	c->connect_errno = connect_errno;
	if (ps_conn_start(c) < 0) {
		ps_error_set(err, "connect: cannot watch the socket");
		return NULL;
	}
	return c;
}

/* "Connection refused" reads "connection refused" after "TLS: " and the
 * like. */
static void
connect_failed(struct ps_conn *c, int e)
{
	snprintf(c->err, sizeof(c->err), "%s", strerror(e));
	c->err[0] = (char)tolower((unsigned char)c->err[0]);
	ps_conn_abort(c, c->err);
}

void
ps_connect_progress(struct ps_conn *c)
{
	socklen_t len = sizeof(int);
	int e = c->connect_errno;

	if (!e && !c->writable)
		return;
	if (!e && getsockopt(c->t.fd, SOL_SOCKET, SO_ERROR, &e, &len) < 0)
		e = errno;
	if (e) {
		connect_failed(c, e);
		return;
	}
	c->readable = c->writable = 1;
	if (c->t.tls) {
		/* The client speaks first. */
		c->phase = CONN_HANDSHAKE;
		c->hs_want = PS_EV_WRITE;
		return;
	}
	c->phase = CONN_OPEN;
	ps_logf(NULL, c, PS_LOG_DEBUG, "connected");
	ps_conn_greet(c);
}

int
ps_conn_starttls_client(struct ps_conn *c, const struct ps_tls_client *o)
{
	struct ps_error err;
	int r;

	if (!c->outbound || c->t.tls || c->closing || c->phase != CONN_OPEN ||
	    c->t.z || c->compress)
		return PS_ESTATE;
	r = ps_tls_client_new(o, c->t.fd, &c->t.tls, &err);
	if (r < 0) {
		ps_logf(NULL, c, PS_LOG_ERR, "STARTTLS: %s", err.msg);
		return r;
	}
	/* conn.c flushes, discards the input and hands over to OpenSSL. */
	c->phase = CONN_STARTTLS;
	ps_conn_kick(c);
	return 0;
}

int
ps_conn_tls_verified(struct ps_conn *c)
{
	return c->outbound && c->t.encrypted &&
	       ps_tls_client_verified(c->t.tls);
}

void *
ps_conn_arg(struct ps_conn *c)
{
	return c->arg;
}

const char *
ps_conn_error(struct ps_conn *c)
{
	return c->closing ? c->why : NULL;
}
