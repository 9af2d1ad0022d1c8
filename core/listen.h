/* Listeners: the sockets "listen" blocks describe, bound by the master and
 * inherited by workers, which accept on them. */
#ifndef PS_CORE_LISTEN_H
#define PS_CORE_LISTEN_H

#include <poshta/types.h>
#include <sys/socket.h>

#include "limits.h"

struct ps_protocol;
struct ps_tls_ctx;
struct ps_conf_section;
struct ps_module_ctx;
struct ps_loop;

enum ps_tls_mode {
	PS_TLSMODE_NONE = 0, /* plain text only */
	PS_TLSMODE_STARTTLS, /* offered */
	PS_TLSMODE_REQUIRED, /* STARTTLS before authentication and mail */
	PS_TLSMODE_IMPLICIT, /* handshake on connect */
};

struct ps_listener {
	char *name;      /* "imaps" */
	char *addr_text; /* "127.0.0.1:1993" as written */
	struct sockaddr_storage addr;
	socklen_t addrlen;
	int fd;          /* -1 until bound */
	const struct ps_protocol *proto;
	struct ps_module_ctx *owner; /* the module that registered proto */
	enum ps_tls_mode tls_mode;
	struct ps_tls_ctx *tls;      /* NULL when no certificate applies */
	const struct ps_conf_section *conf; /* the listen block */
	/* Limits, from the listen block or the top level. Connections are
	 * counted server-wide (all workers, all listeners, see limits.h);
	 * each listener compares the counts with its own bounds. */
	struct ps_limits_max limits; /* server-wide and this listener's */
	uint64_t idle_timeout_ms; /* 0: none */
	int idle_timeout_given;   /* written in the file, not a default */
	size_t max_line;         /* 0: the protocol's or 8192 */
	/* Reading stops while this much input is buffered (at least
	 * max_line + 2, so a line always fits); 0: 256 KiB. */
	size_t max_input;
	/* Output water marks: at out_high queued bytes the protocol gets no
	 * more input until the queue is down to out_low. 0: 256 KiB and a
	 * quarter of out_high. */
	size_t out_high, out_low;
	/* auth_plaintext allow: passwords in the clear (SASL PLAIN, LOGIN,
	 * plain logins) are accepted without TLS; 0 (tls): only over TLS. */
	int auth_plaintext;
	struct ps_listener *next;
};

/* Parse "host:port", "[v6]:port", "*:port" or ":port" with a numeric
 * host; "*" and "" mean 0.0.0.0, "[::]" IPv6's any address (IPv6 sockets
 * are IPV6_V6ONLY, so both take two listeners). Returns 0 or -1. */
int ps_listen_parse_addr(const char *text, struct sockaddr_storage *ss,
			 socklen_t *len, struct ps_error *err);
/* Bind and listen (SO_REUSEADDR, IPV6_V6ONLY for v6, non-blocking,
 * close-on-exec) and set l->fd. Returns 0 or -1 with err, e.g.
 * "listen imap 127.0.0.1:1143: Address already in use". */
int ps_listen_bind(struct ps_listener *l, struct ps_error *err);
/* Format a sockaddr's address (no port) into buf and return buf; an
 * IPv4-mapped IPv6 address as IPv4, a non-IP one as "local". */
const char *ps_listen_addr_text(const struct sockaddr *sa, char *buf,
				size_t len);

/* In a worker: accept on every listener of the list from first on, up to
 * 32 clients per wake-up. A client over a limit is closed at once with
 * a notice "connection refused: too many connections from ADDR limit=N
 * listener=NAME" (or "server connection limit reached peer=ADDR ..."); the
 * others go to ps_conn_accept. Out of fds, accepting pauses for 100 ms
 * at a time. One loop per process. Returns 0 or -1. */
int ps_listen_start(struct ps_loop *loop, struct ps_listener *first);
/* Stop accepting (the worker drains); the fds stay open. */
void ps_listen_stop(struct ps_loop *loop, struct ps_listener *first);

#endif
