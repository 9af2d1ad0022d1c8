/* Protocols and connections: what a protocol module implements, and the
 * buffered connection the core gives it, accepted from a listener or, since
 * 1.4, opened by a module (ps_conn_connect).
 *
 * Input arrives as lines (bounded, CRLF or bare LF reported) or, after
 * ps_conn_read_bytes(), as an exact number of bytes. Output is queued and
 * flushed by the core; past the high-water mark the core stops handing the
 * protocol input until the client reads its replies. */
#ifndef POSHTA_CONN_H
#define POSHTA_CONN_H

#include <poshta/types.h>

/* Flags of a delivered line. The line never includes its terminator. */
#define PS_LINE_CRLF 0x1    /* ended with CR LF */
#define PS_LINE_BARE_LF 0x2 /* ended with LF alone */
#define PS_LINE_TOOLONG 0x4 /* longer than max_line: this is its start, the
			     * rest up to the next LF was discarded */

/* ps_conn_tls() bits. */
#define PS_TLS_ACTIVE 0x1   /* the connection is encrypted now */
#define PS_TLS_OFFERED 0x2  /* STARTTLS may be offered (listener + cert) */
#define PS_TLS_REQUIRED 0x4 /* listener says: no authentication or mail
			     * commands before TLS */

/* A protocol. Callbacks return 0 to go on or a negative code to close the
 * connection at once (queued output is still flushed). The core allocates
 * session_size zeroed bytes per connection and passes them as "s". */
struct ps_protocol {
	size_t size;             /* sizeof(struct ps_protocol) */
	const char *name;        /* what "listen NAME" or "protocol NAME" says */
	size_t session_size;
	size_t max_line;         /* default line bound; 0: the core's (8192) */
	/* A new connection (after the implicit TLS handshake): greet. For an
	 * outbound connection: connected (and TLS up, if implicit). */
	int (*on_open)(struct ps_conn *c, void *s);
	/* One line of input, see the PS_LINE_* flags. */
	int (*on_line)(struct ps_conn *c, void *s, const char *line, size_t len,
		       unsigned flags);
	/* Bytes asked for with ps_conn_read_bytes(); "left" is how many are
	 * still to come after these. At 0 the connection is back to lines. */
	int (*on_bytes)(struct ps_conn *c, void *s, const char *data, size_t len,
			size_t left);
	/* The output queue fell to the low-water mark: write more. Optional. */
	int (*on_drain)(struct ps_conn *c, void *s);
	/* The STARTTLS handshake finished (either side): forget everything
	 * learned before. */
	int (*on_tls)(struct ps_conn *c, void *s);
	/* The idle timeout fired: say goodbye; the core closes afterwards.
	 * Optional. */
	void (*on_timeout)(struct ps_conn *c, void *s);
	/* The connection is closing (client gone, error, or ps_conn_close):
	 * free what the session owns. Called exactly once: for an accepted
	 * connection only if on_open was; for an outbound one always, also
	 * when the connect or TLS failed (ps_conn_error says why). */
	void (*on_close)(struct ps_conn *c, void *s);
	/* The server is shutting down (SIGTERM): finish the command in
	 * progress, say goodbye (421, "* BYE") and ps_conn_close. Input keeps
	 * flowing until then; shutdown_timeout cuts what is still open.
	 * Optional: without it the core closes the connection as soon as it
	 * is between commands (nothing buffered, paused or queued). */
	void (*on_shutdown)(struct ps_conn *c, void *s);
	/* Since 1.3: the idle timeout this protocol's standard asks for (RFC
	 * 1939's 10 minutes, RFC 9051's 30), used where neither the listen
	 * block nor the top level sets idle_timeout. 0: the core's default. */
	uint64_t idle_timeout_ms;
};

/* Since 1.4: TLS as a client, for ps_conn_connect (implicit TLS) and
 * ps_conn_starttls_client. The peer's certificate is always checked; verify
 * says whether a failed check fails the handshake. */
struct ps_tls_client {
	size_t size; /* sizeof(struct ps_tls_client) */
	/* The server's name: sent as SNI (not when it is an IP address, RFC
	 * 6066 section 3) and the name its certificate must match (RFC 6125,
	 * no partial wildcards). Required with verify; without it the
	 * connection never counts as verified. */
	const char *server_name;
	/* 1: fail the handshake unless the chain verifies against ca_file and
	 * the name matches. 0: go on whatever the certificate is (opportunistic
	 * TLS, RFC 7435); ps_conn_tls_verified tells what the check found. */
	int verify;
	const char *ca_file; /* PEM trust anchors; NULL: the system's */
};

#define PS_CONNECT_TLS 0x1 /* ps_connect.tls: handshake right after connect */

/* Since 1.4: where ps_conn_connect goes. */
struct ps_connect {
	size_t size;         /* sizeof(struct ps_connect) */
	const char *address; /* numeric IPv4 or IPv6: no DNS here */
	uint16_t port;
	const char *source;  /* numeric local address to bind, or NULL */
	/* Bounds the connect and an implicit TLS handshake together, then is
	 * the idle timeout until ps_conn_set_timeout. 0: 60 s. */
	uint64_t timeout_ms;
	unsigned tls;        /* 0, or PS_CONNECT_TLS for implicit TLS */
	const struct ps_tls_client *tls_opts; /* with PS_CONNECT_TLS */
	void *arg;           /* given back by ps_conn_arg */
};

#endif
