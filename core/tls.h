/* TLS with OpenSSL: server contexts (a default certificate plus SNI
 * alternatives), TLS 1.2+ with a modern cipher list, and a non-blocking
 * session wrapper for connections. OpenSSL writes with write(2): the
 * process must ignore SIGPIPE, as the master and workers do. */
#ifndef PS_CORE_TLS_H
#define PS_CORE_TLS_H

#include <poshta/types.h>
#include <sys/types.h>

struct ps_tls_ctx; /* wraps SSL_CTX, shared by the listeners that use it */
struct ps_tls;     /* one session (wraps SSL) */
struct ssl_st;     /* OpenSSL's SSL */

/* One certificate/key pair; names it answers for via SNI are taken from
 * the certificate's subjectAltName DNS entries and CN. */
struct ps_tls_cert {
	const char *certificate; /* PEM chain file */
	const char *key;         /* PEM private key file */
};

/* certs[0] is the default; the others are chosen by SNI (exact names
 * before wildcards, "*.x.test" standing for one label). ciphers (TLS 1.2
 * suites) and min_version ("TLSv1.2", "TLSv1.3") may be NULL for the
 * defaults: ECDHE with AES-GCM or ChaCha20-Poly1305, and TLS 1.2. Returns
 * NULL with a message naming the file and OpenSSL's reason. */
struct ps_tls_ctx *ps_tls_ctx_new(const struct ps_tls_cert *certs,
				  size_t ncerts, const char *ciphers,
				  const char *min_version,
				  struct ps_error *err);
/* Listeners and sessions share a context; it goes when the last one
 * lets go, so a reload's new contexts leave old sessions theirs. Counts
 * are per process and not thread-safe. unref(NULL) is a no-op. */
void ps_tls_ctx_ref(struct ps_tls_ctx *t);
void ps_tls_ctx_unref(struct ps_tls_ctx *t);

/* Results of the non-blocking calls below. */
#define PS_TLS_WANT_READ (-100)
#define PS_TLS_WANT_WRITE (-101)
#define PS_TLS_CLOSED (-102) /* fatal error, or closed mid-handshake */

/* A server session on fd (NULL on ENOMEM); it holds a reference to ctx. */
struct ps_tls *ps_tls_new(struct ps_tls_ctx *ctx, int fd);
/* A session around ssl, set up by the caller (tls_client.c makes client
 * ones); it owns ssl from now on. NULL on ENOMEM, ssl not freed. */
struct ps_tls *ps_tls_wrap(struct ssl_st *ssl);
struct ssl_st *ps_tls_ssl(struct ps_tls *s);
void ps_tls_free(struct ps_tls *s);
/* 0 when done, PS_TLS_WANT_*, or PS_TLS_CLOSED (reason logged by caller
 * from ps_tls_error). */
int ps_tls_handshake(struct ps_tls *s);
/* Bytes moved (> 0), PS_TLS_WANT_*, or PS_TLS_CLOSED; ps_tls_read
 * returns 0 at the end of the client's data (close_notify, or TCP closed
 * after a whole record). Read until PS_TLS_WANT_READ before waiting for
 * the fd: OpenSSL may hold decrypted bytes epoll cannot see. A write that
 * returned PS_TLS_WANT_* is retried with at least as many bytes (the
 * buffer may move); a shorter count than asked is a partial write. */
ssize_t ps_tls_read(struct ps_tls *s, void *buf, size_t len);
ssize_t ps_tls_write(struct ps_tls *s, const void *buf, size_t len);
/* Best-effort close_notify. */
void ps_tls_shutdown(struct ps_tls *s);
/* "TLSv1.3 TLS_AES_256_GCM_SHA384" after the handshake, else NULL. */
const char *ps_tls_info(struct ps_tls *s);
/* Why the last call on s failed, as text for the log; a client's failed
 * certificate check reads "hostname mismatch" or "certificate verify
 * failed: " and X509's reason. */
const char *ps_tls_error(struct ps_tls *s);
/* OpenSSL's reason for the failure just seen into buf, emptying its error
 * queue (errno's text when the queue is empty); returns the error code. */
unsigned long ps_tls_reason(char *buf, size_t len);

#endif
