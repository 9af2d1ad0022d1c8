/* Connections: flow-controlled I/O over a plain or TLS transport,
 * accepted or outbound (connect.c), handing the protocol bounded lines or exact byte counts (IMAP literals,
 * RFC 3501 section 4.3; SMTP BDAT, RFC 3030); STARTTLS that discards all
 * plaintext read before the handshake (RFC 3207 section 4.2,
 * CVE-2011-0411); compression on request (transport.c, deflate.c); idle
 * timeouts; close deferred out of callbacks. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conn_int.h"
#include "hook.h"
#include "limits.h"
#include "listen.h"
#include "log.h"
#include "loop.h"
#include "module.h"
#include "tls.h"

#define CONN_MAX_LINE 8192
#define CONN_MAX_INPUT (256 * 1024)
#define CONN_OUT_HIGH (256 * 1024)
/* Smallest read buffer: idle connections should stay small. */
#define CONN_READ_MIN 4096
/* Each read that fills its room doubles the next one, up to this: a
 * message body comes in a few reads, not one per 4 KiB. */
#define CONN_READ_MAX (64 * 1024)
/* How long a closing connection may take to flush without progress. */
#define CONN_LINGER_MS 30000

static struct ps_conn *open_conns;
static size_t nopen;
static int shutting_down;

static void conn_progress(struct ps_conn *c);
static void conn_io(struct ps_loop *loop, int fd, unsigned events, void *arg);

/* ---- Bounds ---------------------------------------------------------- */

static size_t
conn_out_high(const struct ps_conn *c)
{
	return c->l->out_high ? c->l->out_high : CONN_OUT_HIGH;
}

static size_t
conn_out_low(const struct ps_conn *c)
{
	size_t high = conn_out_high(c);

	return c->l->out_low && c->l->out_low < high ? c->l->out_low
						      : high / 4;
}

/* The input bound leaves room for a longest line and its CR LF, so the
 * line reader always finds a line or knows it is too long. */
static void
conn_bound_input(struct ps_conn *c)
{
	size_t max = c->l->max_input ? c->l->max_input : CONN_MAX_INPUT;

	c->in_max = max > c->lr.max + 2 ? max : c->lr.max + 2;
}

static size_t
conn_default_line(const struct ps_conn *c)
{
	if (c->l->max_line)
		return c->l->max_line;
	return c->proto->max_line ? c->proto->max_line : CONN_MAX_LINE;
}

/* ---- Scheduling, timers and the end ----------------------------------- */

static void
conn_run(void *arg)
{
	struct ps_conn *c = arg;

	c->scheduled = 0;
	conn_progress(c);
	ps_conn_release(c);
}

/* Make progress after the current callbacks, once however often asked:
 * a reply written line by line is flushed in one go. */
void
ps_conn_kick(struct ps_conn *c)
{
	if (c->scheduled || c->closed)
		return;
	if (ps_loop_defer(c->loop, conn_run, c) < 0) {
		/* The idle or linger timer still ends it. */
		ps_logf(NULL, c, PS_LOG_ERR, "out of memory: connection "
			"stalls until its timeout");
		return;
	}
	c->scheduled = 1;
	c->refs++;
}

static void conn_timer_fired(void *arg);

static void
conn_timer_arm(struct ps_conn *c, uint64_t ms)
{
	ps_loop_timer_cancel(c->loop, c->timer);
	c->timer = ms ? ps_loop_timer(c->loop, ms, conn_timer_fired, c) : NULL;
}

static void
conn_close_done(int verdict, const char *reply, void *arg)
{
}

/* Closing a socket with unread input makes Linux send a reset, which can
 * destroy the last reply still on its way to the client. Read away what
 * has arrived (bounded) after saying we are done writing. */
static void
conn_discard_unread(int fd)
{
	char sink[4096];

	shutdown(fd, SHUT_WR);
	for (int i = 0; i < 16; i++)
		if (recv(fd, sink, sizeof(sink), MSG_DONTWAIT) <= 0)
			break;
}

/* The end, now: on_close if on_open ran, close_notify if the session is
 * intact, the fd, the connection count. The memory goes with the last
 * reference. */
static void
conn_finish(struct ps_conn *c, int clean)
{
	c->closing = 1;
	c->closed = 1;
	*(c->prev ? &c->prev->next : &open_conns) = c->next;
	if (c->next)
		c->next->prev = c->prev;
	nopen--;
	conn_timer_arm(c, 0);
	ps_loop_unwatch(c->loop, c->t.fd);
	ps_logf(NULL, c, PS_LOG_INFO, "disconnect: %s", c->why);
	if ((c->opened || c->outbound) && c->proto->on_close)
		c->proto->on_close(c, c->session);
	/* Filters and other modules free what they hung on the slots. */
	ps_hook_run("conn.close", c, NULL, conn_close_done, NULL);
	if (c->t.tls && clean && c->t.encrypted)
		ps_tls_shutdown(c->t.tls);
	ps_transport_free(&c->t);
	/* After the client's end of input nothing can be left unread. */
	if (clean && !c->eof)
		conn_discard_unread(c->t.fd);
	close(c->t.fd);
	c->t.fd = -1;
	if (!c->outbound)
		ps_limits_release((struct sockaddr *)&c->peer_addr,
				  c->l->limits.slot);
	ps_buf_free(&c->in);
	ps_buf_free(&c->out);
	ps_conn_release(c);
}

/* End at once, dropping queued output: the peer is gone or misbehaves.
 * Callers hold a reference, so c stays valid after. */
void
ps_conn_abort(struct ps_conn *c, const char *why)
{
	c->why = why;
	conn_finish(c, 0);
}

/* Close once the queued output is out, within CONN_LINGER_MS of no
 * progress. */
static void
conn_close_why(struct ps_conn *c, const char *why)
{
	if (c->closing)
		return;
	c->closing = 1;
	c->why = why;
	c->last_active = ps_loop_now(c->loop);
	conn_timer_arm(c, CONN_LINGER_MS);
	ps_conn_kick(c);
}

static void
conn_expire(struct ps_conn *c)
{
	if (c->closing) {
		snprintf(c->err, sizeof(c->err), "timed out flushing %zu "
			 "bytes", ps_buf_used(&c->out));
		ps_conn_abort(c, c->err);
	} else if (c->phase == CONN_CONNECTING) {
		ps_conn_abort(c, "timed out");
	} else if (c->phase != CONN_OPEN) {
		ps_conn_abort(c, c->outbound ? "TLS: timed out"
					     : "timed out before TLS was up");
	} else {
		if (c->proto->on_timeout)
			c->proto->on_timeout(c, c->session);
		conn_close_why(c, "idle timeout");
	}
}

/* One timer per connection, re-armed lazily: activity only stamps
 * last_active, and the timer, when it fires, sleeps again for what is
 * left. */
static void
conn_timer_fired(void *arg)
{
	struct ps_conn *c = arg;
	uint64_t limit = c->closing ? CONN_LINGER_MS : c->timeout_ms;
	uint64_t now = ps_loop_now(c->loop), end = c->last_active + limit;

	c->timer = NULL;
	if (!limit)
		return;
	if (now < end) {
		conn_timer_arm(c, end - now);
		return;
	}
	ps_conn_hold(c);
	conn_expire(c);
	ps_conn_release(c);
}

/* ---- Input ----------------------------------------------------------- */

static int
conn_wants_read(const struct ps_conn *c)
{
	return c->phase == CONN_OPEN && !c->closing && !c->eof &&
	       !c->throttled && !c->draining &&
	       ps_buf_used(&c->in) < c->in_max;
}

/* Read until the transport would block or the input bound is reached.
 * Reading to WANT_READ also empties what OpenSSL decrypted ahead, which
 * epoll cannot see; stopping at the bound leaves readable set, and room
 * made later by delivery brings conn_progress back here. */
static void
conn_read(struct ps_conn *c)
{
	size_t want = CONN_READ_MIN;

	while (c->readable && conn_wants_read(c)) {
		size_t room = c->in_max - ps_buf_used(&c->in);
		char *p = ps_buf_reserve(&c->in, room < want ? room : want);
		ssize_t n;

		if (!p) {
			ps_conn_abort(c, "out of memory for input");
			return;
		}
		if (room > c->in.cap - c->in.len)
			room = c->in.cap - c->in.len;
		n = ps_transport_read(&c->t, p, room);
		if (n > 0) {
			c->in.len += (size_t)n;
			c->starved = 0;
			c->last_active = ps_loop_now(c->loop);
			/* A short read of a plain socket emptied it: the
			 * read that would only say EAGAIN is saved (the
			 * loop is level-triggered). TLS and compression
			 * may hold bytes the socket no longer has. */
			if ((size_t)n < room && !c->t.tls && !c->t.z) {
				c->readable = 0;
				c->rd_want = PS_EV_READ;
			}
			if ((size_t)n == room && want < CONN_READ_MAX)
				want *= 2;
		} else if (n == 0) {
			c->eof = 1;
		} else if (n == PS_TLS_WANT_READ || n == PS_TLS_WANT_WRITE) {
			c->readable = 0;
			c->rd_want = n == PS_TLS_WANT_READ ? PS_EV_READ
							    : PS_EV_WRITE;
			/* An idle connection keeps no read buffer: thousands
			 * of them wait in IDLE for hours. */
			if (!ps_buf_used(&c->in))
				ps_buf_free(&c->in);
		} else {
			ps_conn_abort(c, c->t.err);
			return;
		}
	}
}

/* Compression starts between two lines: what the client sent after the
 * line that asked for it is compressed already, and so is all that
 * follows the reply queued by then (RFC 4978 4). */
static void
conn_compress_begin(struct ps_conn *c)
{
	c->compress = 0;
	if (ps_transport_compress(&c->t, ps_buf_used(&c->out),
				  c->in.data + c->in.off,
				  ps_buf_used(&c->in)) < 0) {
		ps_conn_abort(c, "out of memory for compression");
		return;
	}
	ps_buf_clear(&c->in);
	ps_logf(NULL, c, PS_LOG_DEBUG, "compression on");
}

static int
conn_deliver_line(struct ps_conn *c)
{
	struct ps_line line;
	int r;

	if (!ps_linereader_next(&c->lr, &c->in, &line))
		return 0;
	r = c->proto->on_line(c, c->session, line.data, line.len, line.flags);
	/* Consumed after the call: the line lives in the buffer. */
	ps_buf_consume(&c->in, line.consumed);
	if (c->compress && !c->closing)
		conn_compress_begin(c);
	if (r < 0)
		conn_close_why(c, "closed by the protocol");
	return 1;
}

/* Bytes go out as they arrive; "left" counts down to 0, where the
 * connection is back to lines unless on_bytes asks for more. */
static int
conn_deliver_bytes(struct ps_conn *c)
{
	size_t n = ps_buf_used(&c->in);
	int r;

	if (n == 0)
		return 0;
	if (n > c->bytes_left)
		n = c->bytes_left;
	c->bytes_left -= n;
	r = c->proto->on_bytes(c, c->session, c->in.data + c->in.off, n,
			       c->bytes_left);
	ps_buf_consume(&c->in, n);
	if (r < 0)
		conn_close_why(c, "closed by the protocol");
	return 1;
}

/* A draining worker finishes a literal in flight but starts no new
 * command. */
static int
conn_may_deliver(const struct ps_conn *c)
{
	return c->phase == CONN_OPEN && !c->paused && !c->closing &&
	       !c->throttled && (!c->draining || c->bytes_left);
}

/* Each callback may close, pause, start TLS, switch to bytes or write
 * past the high-water mark: look again before the next piece. */
static void
conn_deliver(struct ps_conn *c)
{
	while (conn_may_deliver(c)) {
		int more = c->bytes_left ? conn_deliver_bytes(c)
					 : conn_deliver_line(c);

		if (!more) {
			c->starved = 1;
			return;
		}
	}
}

/* ---- Output ---------------------------------------------------------- */

/* on_drain: once each time the queue, having gone above out_low, is
 * back to out_low or less. Delivery stopped at out_high resumes then. */
static void
conn_low_water(struct ps_conn *c)
{
	if (ps_buf_used(&c->out) > conn_out_low(c))
		return;
	c->throttled = 0;
	if (!c->drain_armed)
		return;
	c->drain_armed = 0;
	if (c->phase == CONN_OPEN && !c->closing && c->proto->on_drain &&
	    c->proto->on_drain(c, c->session) < 0)
		conn_close_why(c, "closed by the protocol");
}

/* Write as much as the transport takes; only a write that would block
 * makes the loop watch for writability. */
static size_t
conn_out_queued(const struct ps_conn *c)
{
	return ps_buf_used(&c->out) + ps_transport_pending(&c->t);
}

/* The compression layer's own queue goes first. */
static ssize_t
conn_write_some(struct ps_conn *c)
{
	ssize_t n;

	if (!ps_buf_used(&c->out))
		return ps_transport_flush(&c->t);
	n = ps_transport_write(&c->t, c->out.data + c->out.off,
			       ps_buf_used(&c->out));
	if (n > 0)
		ps_buf_consume(&c->out, (size_t)n);
	return n;
}

static void
conn_flush(struct ps_conn *c)
{
	while (c->writable && conn_out_queued(c)) {
		ssize_t n = conn_write_some(c);

		if (n > 0) {
			c->last_active = ps_loop_now(c->loop);
		} else if (n == PS_TLS_WANT_READ || n == PS_TLS_WANT_WRITE) {
			c->writable = 0;
			c->wr_want = n == PS_TLS_WANT_READ ? PS_EV_READ
							    : PS_EV_WRITE;
		} else {
			ps_conn_abort(c, c->t.err);
			return;
		}
	}
	/* Nor an output buffer once everything is out. */
	if (!ps_buf_used(&c->out))
		ps_buf_free(&c->out);
	conn_low_water(c);
}

static void
conn_queued(struct ps_conn *c)
{
	size_t used = ps_buf_used(&c->out);

	if (used >= conn_out_high(c))
		c->throttled = 1;
	if (used > conn_out_low(c))
		c->drain_armed = 1;
	ps_conn_kick(c);
}

/* ---- TLS ------------------------------------------------------------- */

void
ps_conn_greet(struct ps_conn *c)
{
	c->opened = 1;
	if (c->proto->on_open && c->proto->on_open(c, c->session) < 0)
		conn_close_why(c, "closed by the protocol");
}

static void
conn_handshake(struct ps_conn *c)
{
	int r = ps_tls_handshake(c->t.tls);

	if (r == PS_TLS_WANT_READ || r == PS_TLS_WANT_WRITE) {
		c->hs_want = r == PS_TLS_WANT_READ ? PS_EV_READ : PS_EV_WRITE;
		return;
	}
	if (r < 0) {
		snprintf(c->err, sizeof(c->err), "%s%s", c->outbound ? "TLS: "
			 : "TLS handshake failed: ", ps_tls_error(c->t.tls));
		ps_conn_abort(c, c->err);
		return;
	}
	c->phase = CONN_OPEN;
	c->t.encrypted = 1;
	c->readable = c->writable = 1;
	c->rd_want = PS_EV_READ;
	c->wr_want = PS_EV_WRITE;
	ps_logf(NULL, c, PS_LOG_DEBUG, "TLS up: %s", ps_tls_info(c->t.tls));
	if (!c->opened)
		ps_conn_greet(c);
	else if (c->proto->on_tls && c->proto->on_tls(c, c->session) < 0)
		conn_close_why(c, "closed by the protocol");
}

/* The go-ahead is out and nothing is read: forget every plaintext byte
 * the client sent after STARTTLS, whatever mode the input was in, and
 * hand the fd to OpenSSL. */
static void
conn_starttls_begin(struct ps_conn *c)
{
	size_t dropped = ps_buf_used(&c->in);

	ps_buf_clear(&c->in);
	c->lr.discarding = 0;
	c->bytes_left = 0;
	if (dropped)
		ps_logf(NULL, c, PS_LOG_INFO, "STARTTLS: discarded plaintext "
			"sent before the handshake bytes=%zu", dropped);
	/* An outbound connection brought its client session. */
	if (!c->t.tls)
		c->t.tls = ps_tls_new(c->l->tls, c->t.fd);
	if (!c->t.tls) {
		ps_conn_abort(c, "out of memory for TLS");
		return;
	}
	ps_logf(NULL, c, PS_LOG_DEBUG, "STARTTLS: handshake");
	c->phase = CONN_HANDSHAKE;
	c->hs_want = PS_EV_READ;
}

/* ---- Progress -------------------------------------------------------- */

/* The loop watches only what a blocked side waits for. */
static void
conn_watch(struct ps_conn *c)
{
	unsigned ev = 0;

	if (c->phase == CONN_CONNECTING) {
		ev = PS_EV_WRITE;
	} else if (c->phase == CONN_HANDSHAKE) {
		ev = c->hs_want;
	} else {
		if (!c->readable && conn_wants_read(c))
			ev |= c->rd_want;
		if (!c->writable && conn_out_queued(c))
			ev |= c->wr_want;
	}
	if (ev == c->events)
		return;
	if (ps_loop_watch(c->loop, c->t.fd, ev, conn_io, c) < 0) {
		ps_conn_abort(c, "cannot watch the socket");
		return;
	}
	c->events = ev;
}

/* The client has sent its last byte and everything complete in it was
 * delivered; a draining worker has nothing in flight here. */
static int
conn_done(const struct ps_conn *c)
{
	if (c->phase != CONN_OPEN || c->paused)
		return 0;
	if (c->eof && c->starved && !c->throttled)
		return 1;
	return c->draining && !c->bytes_left && !conn_out_queued(c);
}

static void
conn_settle(struct ps_conn *c)
{
	if (!c->closing && conn_done(c))
		conn_close_why(c, !c->eof ? "server draining"
				  : c->outbound ? "closed by the peer"
						: "client closed");
	/* Output queued before the connection is up has no way out. */
	if (c->closing && (!conn_out_queued(c) || c->phase == CONN_HANDSHAKE ||
			   c->phase == CONN_CONNECTING)) {
		conn_finish(c, 1);
		return;
	}
	conn_watch(c);
	if (!c->closed && c->readable && conn_wants_read(c))
		ps_conn_kick(c);
}

/* Everything the connection can do now, in order: flush, move on from
 * STARTTLS, shake hands, read, deliver; then close or wait. Runs from I/O
 * events, timers' aftermath and deferred runs, never inside a protocol
 * callback; callers hold a reference. */
static void
conn_progress(struct ps_conn *c)
{
	if (c->closed)
		return;
	if (!c->closing && c->phase == CONN_CONNECTING)
		ps_connect_progress(c);
	if (!c->closed && c->compress && !c->closing && c->phase == CONN_OPEN)
		conn_compress_begin(c);
	if (!c->closed && c->phase != CONN_HANDSHAKE &&
	    c->phase != CONN_CONNECTING)
		conn_flush(c);
	if (!c->closed && !c->closing && c->phase == CONN_STARTTLS &&
	    !ps_buf_used(&c->out))
		conn_starttls_begin(c);
	if (!c->closed && !c->closing && c->phase == CONN_HANDSHAKE)
		conn_handshake(c);
	if (!c->closed && c->phase == CONN_OPEN) {
		conn_read(c);
		if (!c->closed)
			conn_deliver(c);
	}
	if (!c->closed)
		conn_settle(c);
}

static void
conn_io(struct ps_loop *loop, int fd, unsigned events, void *arg)
{
	struct ps_conn *c = arg;

	/* An error or hangup is met by the next read or write. */
	if (events & (c->rd_want | PS_EV_ERROR))
		c->readable = 1;
	if (events & (c->wr_want | PS_EV_ERROR))
		c->writable = 1;
	ps_conn_hold(c);
	conn_progress(c);
	ps_conn_release(c);
}

/* ---- Accepting ------------------------------------------------------- */

static char *
base36(unsigned long long n, char *end)
{
	*--end = '\0';
	do
		*--end = "0123456789abcdefghijklmnopqrstuvwxyz"[n % 36];
	while (n /= 36);
	return end;
}

/* Unique in the server's lifetime as long as pids are not reused within
 * it: the worker's pid, then a counter. Only workers make connections,
 * each after its fork: the pid is asked once. */
static void
conn_name(struct ps_conn *c)
{
	static unsigned long long counter;
	static pid_t self;
	char pid[16], seq[16];

	if (!self)
		self = getpid();
	snprintf(c->id, sizeof(c->id), "%s.%s",
		 base36((unsigned long long)self, pid + sizeof(pid)),
		 base36(++counter, seq + sizeof(seq)));
}

/* One allocation: the connection, the module slots, the protocol when it
 * is copied, then the protocol's session, aligned for anything. */
static struct ps_conn *
conn_alloc(const struct ps_protocol *p, int copy)
{
	size_t nslots = ps_module_count(), align = _Alignof(max_align_t);
	size_t pat = sizeof(struct ps_conn) + nslots * sizeof(void *);
	size_t at = pat + (copy ? sizeof(struct ps_protocol) : 0);
	struct ps_conn *c;

	at = (at + align - 1) / align * align;
	c = calloc(1, at + p->session_size);
	if (!c)
		return NULL;
	c->slots = (void **)(c + 1);
	c->nslots = nslots;
	c->session = (char *)c + at;
	c->proto = p;
	if (copy) {
		c->proto = memcpy((char *)c + pat, p, p->size < sizeof(*p) ?
				  p->size : sizeof(*p));
	}
	return c;
}

struct ps_conn *
ps_conn_new(struct ps_loop *loop, struct ps_listener *l,
	    const struct ps_protocol *p, int copy, int fd,
	    const struct sockaddr *peer, socklen_t peerlen)
{
	struct ps_conn *c = conn_alloc(p, copy);

	if (!c)
		return NULL;
	c->loop = loop;
	c->l = l;
	c->t.fd = fd;
	c->refs = 1;
	c->phase = CONN_OPEN;
	c->lr.max = conn_default_line(c);
	conn_bound_input(c);
	c->readable = c->writable = 1;
	c->rd_want = PS_EV_READ;
	c->wr_want = PS_EV_WRITE;
	c->timeout_ms = l->idle_timeout_given || !c->proto->idle_timeout_ms
				? l->idle_timeout_ms : c->proto->idle_timeout_ms;
	c->last_active = ps_loop_now(loop);
	c->why = "closed";
	if (peerlen > sizeof(c->peer_addr))
		peerlen = sizeof(c->peer_addr);
	memcpy(&c->peer_addr, peer, peerlen);
	ps_listen_addr_text(peer, c->peer, sizeof(c->peer));
	conn_name(c);
	return c;
}

int
ps_conn_start(struct ps_conn *c)
{
	if (ps_loop_watch(c->loop, c->t.fd, c->events, conn_io, c) < 0) {
		ps_transport_free(&c->t);
		close(c->t.fd);
		free(c);
		return PS_EIO;
	}
	c->next = open_conns;
	if (open_conns)
		open_conns->prev = c;
	open_conns = c;
	nopen++;
	conn_timer_arm(c, c->timeout_ms);
	if (c->phase == CONN_OPEN)
		ps_conn_greet(c);
	ps_conn_kick(c);
	return 0;
}

struct ps_conn *
ps_conn_accept(struct ps_loop *loop, struct ps_listener *l, int fd,
	       const struct sockaddr *peer, socklen_t peerlen)
{
	struct ps_conn *c = ps_conn_new(loop, l, l->proto, 0, fd, peer,
					peerlen);

	if (!c)
		goto fail;
	if (l->tls_mode == PS_TLSMODE_IMPLICIT) {
		if (!l->tls || !(c->t.tls = ps_tls_new(l->tls, fd)))
			goto fail;
		c->phase = CONN_HANDSHAKE;
		c->hs_want = PS_EV_READ;
	} else {
		/* No read until the loop reports input: a client has seldom
		 * spoken by now (never in a protocol where the server greets
		 * first), and the level-triggered loop reports it if it
		 * has. This saves a read that would say EAGAIN. */
		c->readable = 0;
	}
	c->events = PS_EV_READ;
	ps_logf(NULL, c, PS_LOG_INFO, "connect from %s listener=%s", c->peer,
		l->name);
	if (ps_conn_start(c) == 0)
		return c;
	ps_err("connection on listener %s dropped: cannot watch its socket",
	       l->name);
	return NULL;
fail:
	ps_err("connection on listener %s dropped: cannot set it up (out of "
	       "memory)", l->name);
	if (c)
		ps_transport_free(&c->t);
	free(c);
	close(fd);
	return NULL;
}

size_t
ps_conn_count(void)
{
	return nopen;
}

int
ps_conn_shutting_down(void)
{
	return shutting_down;
}

void
ps_conn_drain_all(void)
{
	struct ps_conn *c, *next;

	shutting_down = 1;
	for (c = open_conns; c; c = next) {
		next = c->next;
		if (c->opened && c->proto->on_shutdown) {
			/* The protocol says goodbye at its own boundary. */
			ps_conn_hold(c);
			c->proto->on_shutdown(c, c->session);
			next = c->next;
			ps_conn_release(c);
			continue;
		}
		c->draining = 1;
		if (c->opened) {
			ps_conn_kick(c);
			continue;
		}
		/* A client still in its implicit TLS handshake has not been
		 * greeted: nothing to finish. */
		ps_conn_hold(c);
		ps_conn_abort(c, "server draining");
		ps_conn_release(c);
	}
}

void
ps_conn_close_all(void)
{
	while (open_conns) {
		struct ps_conn *c = open_conns;

		ps_conn_hold(c);
		ps_conn_abort(c, "server exiting");
		ps_conn_release(c);
	}
}

/* ---- The API --------------------------------------------------------- */

int
ps_conn_write(struct ps_conn *c, const void *data, size_t len)
{
	if (c->closed)
		return PS_ESTATE;
	if (ps_buf_append(&c->out, data, len) < 0)
		return PS_ENOMEM;
	conn_queued(c);
	return 0;
}

int
ps_conn_vprintf(struct ps_conn *c, const char *fmt, va_list ap)
{
	va_list ap2;
	char *p;
	int n;

	if (c->closed)
		return PS_ESTATE;
	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return PS_EINVAL;
	p = ps_buf_reserve(&c->out, (size_t)n + 1);
	if (!p)
		return PS_ENOMEM;
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	c->out.len += (size_t)n;
	conn_queued(c);
	return 0;
}

size_t
ps_conn_pending(struct ps_conn *c)
{
	return conn_out_queued(c);
}

int
ps_conn_read_bytes(struct ps_conn *c, size_t n)
{
	if (c->closing || c->bytes_left || !c->proto->on_bytes)
		return PS_ESTATE;
	c->bytes_left = n;
	ps_conn_kick(c);
	return 0;
}

void
ps_conn_pause(struct ps_conn *c)
{
	c->paused = 1;
}

/* Input already buffered is delivered from the loop, not from inside
 * this call, which may come from a callback of the same connection. */
void
ps_conn_resume(struct ps_conn *c)
{
	if (!c->paused)
		return;
	c->paused = 0;
	ps_conn_kick(c);
}

int
ps_conn_starttls(struct ps_conn *c)
{
	if (!(ps_conn_tls(c) & PS_TLS_OFFERED) || c->closing || c->t.z ||
	    c->compress)
		return PS_ESTATE;
	c->phase = CONN_STARTTLS;
	ps_conn_kick(c);
	return 0;
}

int
ps_conn_compress(struct ps_conn *c)
{
	if (c->t.z || c->compress || c->closing || c->phase != CONN_OPEN)
		return PS_ESTATE;
	c->compress = 1;
	ps_conn_kick(c);
	return 0;
}

void
ps_conn_close(struct ps_conn *c)
{
	conn_close_why(c, "closed");
}

void
ps_conn_hold(struct ps_conn *c)
{
	c->refs++;
}

void
ps_conn_release(struct ps_conn *c)
{
	if (--c->refs > 0)
		return;
	/* The open connection holds itself: a release too many is a bug
	 * that would otherwise become a use after free. */
	if (!c->closed)
		abort();
	free(c);
}

int
ps_conn_closing(struct ps_conn *c)
{
	return c->closing;
}

void
ps_conn_set_timeout(struct ps_conn *c, uint64_t ms)
{
	c->timeout_ms = ms;
	if (c->closing)
		return;
	c->last_active = ps_loop_now(c->loop);
	conn_timer_arm(c, ms);
}

void
ps_conn_set_max_line(struct ps_conn *c, size_t max)
{
	c->lr.max = max ? max : conn_default_line(c);
	conn_bound_input(c);
}

unsigned
ps_conn_tls(struct ps_conn *c)
{
	enum ps_tls_mode mode = c->l->tls_mode;
	unsigned bits = 0;

	if (c->t.encrypted)
		bits |= PS_TLS_ACTIVE;
	else if ((mode == PS_TLSMODE_STARTTLS || mode == PS_TLSMODE_REQUIRED) &&
		 c->l->tls && c->phase == CONN_OPEN)
		bits |= PS_TLS_OFFERED;
	if (mode == PS_TLSMODE_REQUIRED || mode == PS_TLSMODE_IMPLICIT)
		bits |= PS_TLS_REQUIRED;
	return bits;
}

const char *
ps_conn_tls_info(struct ps_conn *c)
{
	return c->t.encrypted && c->t.tls ? ps_tls_info(c->t.tls) : NULL;
}

const char *
ps_conn_id(struct ps_conn *c)
{
	return c->id;
}

const char *
ps_conn_peer(struct ps_conn *c)
{
	return c->peer;
}

const char *
ps_conn_listener(struct ps_conn *c)
{
	return c->l->name;
}

const struct ps_conf_section *
ps_conn_conf(struct ps_conn *c)
{
	return c->l->conf;
}

struct ps_loop *
ps_conn_loop(struct ps_conn *c)
{
	return c->loop;
}

int
ps_conn_auth_plaintext(struct ps_conn *c)
{
	return c->l->auth_plaintext;
}

void **
ps_conn_slot(struct ps_conn *c, struct ps_module_ctx *m)
{
	size_t i = ps_module_index(m);

	return i < c->nslots ? &c->slots[i] : NULL;
}
