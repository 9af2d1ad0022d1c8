/* Inside a connection: the struct conn.c drives, shared with connect.c,
 * which starts outbound connections and runs their connecting phase. No
 * other file includes this: modules and the rest of the core go through
 * conn.h. */
#ifndef PS_CORE_CONN_INT_H
#define PS_CORE_CONN_INT_H

#include <sys/socket.h>

#include "buf.h"
#include "conn.h"
#include "transport.h"

enum conn_phase {
	CONN_HANDSHAKE,  /* TLS handshake: implicit, or after STARTTLS */
	CONN_OPEN,       /* data flows */
	CONN_STARTTLS,   /* flushing the go-ahead before the handshake */
	CONN_CONNECTING, /* outbound: connect(2) in progress */
};

struct ps_conn {
	struct ps_loop *loop;
	struct ps_listener *l; /* outbound: a listener-shaped set of defaults */
	const struct ps_protocol *proto;
	void *session;
	void **slots;
	size_t nslots;
	struct ps_transport t;
	unsigned refs; /* one for being open, one per hold and deferred run */
	struct ps_conn *prev, *next; /* open connections */
	enum conn_phase phase;
	struct ps_buf in, out;
	struct ps_linereader lr;
	size_t in_max;     /* reading stops with this much buffered */
	size_t bytes_left; /* > 0: bytes mode */
	unsigned events;   /* the mask the loop has */
	/* The event each side waits for: a TLS read may need the fd to be
	 * writable, and a TLS write readable. */
	unsigned rd_want, wr_want, hs_want;
	unsigned readable : 1;    /* a read may make progress */
	unsigned writable : 1;    /* a write may make progress */
	unsigned opened : 1;      /* on_open was called: on_close will be */
	unsigned paused : 1;
	unsigned starved : 1;     /* delivery found no complete input */
	unsigned eof : 1;         /* the client sent all it will */
	unsigned closing : 1;
	unsigned closed : 1;      /* fd closed, on_close called */
	unsigned throttled : 1;   /* output reached out_high */
	unsigned drain_armed : 1; /* output went above out_low */
	unsigned draining : 1;    /* the worker is shutting down */
	unsigned scheduled : 1;   /* conn_run is queued */
	unsigned compress : 1;     /* ps_conn_compress: start after the
				    * line being delivered */
	unsigned outbound : 1;    /* we connected: on_close even without
				   * on_open, no listener limits */
	int connect_errno;        /* outbound: connect(2) failed at once */
	void *arg;                /* outbound: ps_connect's arg */
	struct ps_timer *timer;
	uint64_t timeout_ms, last_active;
	const char *why; /* why it closes, for the log */
	char err[192];
	struct sockaddr_storage peer_addr;
	char id[24];
	char peer[64];
};

/* conn.c, for connect.c. ps_conn_new: a connection on fd, not yet
 * watched nor counted, for protocol p (copied into the allocation when
 * copy is set: a module's unregistered struct may be older than the core's
 * or go away). NULL when out of memory, fd left open. ps_conn_start:
 * watch, count, arm the timer, call on_open if the phase is CONN_OPEN;
 * on failure c is freed and fd closed. */
struct ps_conn *ps_conn_new(struct ps_loop *loop, struct ps_listener *l,
			    const struct ps_protocol *p, int copy, int fd,
			    const struct sockaddr *peer, socklen_t peerlen);
int ps_conn_start(struct ps_conn *c);
/* Call on_open (the connection is up, TLS included). */
void ps_conn_greet(struct ps_conn *c);
/* End now, dropping queued output; why must outlive c (c->err does). */
void ps_conn_abort(struct ps_conn *c, const char *why);
void ps_conn_kick(struct ps_conn *c);
/* Set by ps_conn_drain_all: no new outbound connections. */
int ps_conn_shutting_down(void);

/* connect.c: move a connection in CONN_CONNECTING on once connect(2) has
 * an answer, to the TLS handshake or on_open, or end it with the reason. */
void ps_connect_progress(struct ps_conn *c);

#endif
