/* Listeners: the sockets "listen" blocks describe, bound by the master and
 * inherited by workers, which accept on them. */
#ifndef PS_CORE_LISTEN_H
#define PS_CORE_LISTEN_H

#include <poshta/types.h>
#include <sys/socket.h>

struct ps_protocol;
struct ps_tls_ctx;
struct ps_conf_section;
struct ps_module_ctx;

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
	/* Limits, from the listen block or the top level. */
	size_t max_conns;        /* per worker, 0: unlimited */
	size_t max_conns_per_ip; /* per worker, 0: unlimited */
	uint64_t idle_timeout_ms;
	size_t max_line;         /* 0: the protocol's or 8192 */
	size_t max_input;        /* input buffered while paused */
	size_t out_high, out_low; /* output water marks */
	struct ps_listener *next;
};

/* Parse "host:port", "[v6]:port", "*:port" or ":port". Returns 0 or -1. */
int ps_listen_parse_addr(const char *text, struct sockaddr_storage *ss,
			 socklen_t *len, struct ps_error *err);
/* Bind and listen (SO_REUSEADDR, IPV6_V6ONLY for v6, non-blocking,
 * close-on-exec). Returns 0 or -1 with err. */
int ps_listen_bind(struct ps_listener *l, struct ps_error *err);
/* Format a sockaddr as "addr" (no port) into buf. */
const char *ps_listen_addr_text(const struct sockaddr *sa, char *buf,
				size_t len);

#endif
