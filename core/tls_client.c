/* TLS client sessions for outbound connections: TLS 1.2 or later (RFC
 * 8996), SNI (RFC 6066 section 3), and the server's certificate checked
 * against a CA file or the system's store with its name matched as RFC
 * 6125 section 6 says (X509_VERIFY_PARAM_set1_host, no partial wildcards).
 * The check always runs; only with verify does a failure end the handshake,
 * so opportunistic TLS (RFC 7435) can still ask what it found. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "log.h"
#include "tls.h"
#include "tls_client.h"

/* No compression (CRIME) or renegotiation; a server closing TCP without
 * close_notify ends the input, as for server sessions (tls.c). */
#define TLS_CLIENT_OPTIONS                                               \
	(SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |               \
	 SSL_OP_IGNORE_UNEXPECTED_EOF)
#define TLS_CLIENT_MODES                                                 \
	(SSL_MODE_ENABLE_PARTIAL_WRITE |                                 \
	 SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS)

/* One context per trust store, made on first use and kept for the
 * process's life: loading a CA file for each connection would read it
 * each time. */
struct client_ctx {
	char *ca_file; /* NULL: the system's default paths */
	SSL_CTX *ctx;
	struct client_ctx *next;
};

static struct client_ctx *contexts;

static int
same_file(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

static SSL_CTX *
client_ctx_build(const char *ca_file, struct ps_error *err)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	char why[256];

	if (!ctx) {
		ps_tls_reason(why, sizeof(why));
		ps_error_set(err, "TLS client context: %s", why);
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, TLS_CLIENT_OPTIONS);
	SSL_CTX_set_mode(ctx, TLS_CLIENT_MODES);
	errno = 0;
	if ((ca_file ? SSL_CTX_load_verify_locations(ctx, ca_file, NULL)
		     : SSL_CTX_set_default_verify_paths(ctx)) != 1) {
		ps_tls_reason(why, sizeof(why));
		ps_error_set(err, "TLS CA file %s: %s",
			     ca_file ? ca_file : "(system default)", why);
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

static SSL_CTX *
client_ctx(const char *ca_file, struct ps_error *err)
{
	struct client_ctx *e;

	for (e = contexts; e; e = e->next)
		if (same_file(e->ca_file, ca_file))
			return e->ctx;
	e = calloc(1, sizeof(*e));
	if (!e || (ca_file && !(e->ca_file = strdup(ca_file)))) {
		free(e);
		ps_error_set(err, "TLS client context: out of memory");
		return NULL;
	}
	if (!(e->ctx = client_ctx_build(ca_file, err))) {
		free(e->ca_file);
		free(e);
		return NULL;
	}
	e->next = contexts;
	contexts = e;
	return e->ctx;
}

static int
is_ip(const char *name)
{
	unsigned char buf[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, name, buf) == 1 ||
	       inet_pton(AF_INET6, name, buf) == 1;
}

/* SNI and the name to check: an IP address is matched against the
 * certificate's iPAddress entries and never sent as SNI. */
static int
client_name(SSL *ssl, const char *name)
{
	X509_VERIFY_PARAM *param = SSL_get0_param(ssl);

	if (is_ip(name))
		return X509_VERIFY_PARAM_set1_ip_asc(param, name) == 1;
	X509_VERIFY_PARAM_set_hostflags(param,
					X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	return SSL_set_tlsext_host_name(ssl, name) == 1 &&
	       X509_VERIFY_PARAM_set1_host(param, name, 0) == 1;
}

int
ps_tls_client_new(const struct ps_tls_client *o, int fd, struct ps_tls **s_r,
		  struct ps_error *err)
{
	struct ps_tls_client opt = {0};
	struct ps_tls *s;
	SSL_CTX *ctx;
	SSL *ssl;

	if (!o || o->size < offsetof(struct ps_tls_client, verify) +
	    sizeof(o->verify)) {
		ps_error_set(err, "TLS client options: missing or too small");
		return PS_EINVAL;
	}
	memcpy(&opt, o, o->size < sizeof(opt) ? o->size : sizeof(opt));
	if (opt.verify && !opt.server_name) {
		ps_error_set(err, "TLS: verify needs a server_name");
		return PS_EINVAL;
	}
	if (!(ctx = client_ctx(opt.ca_file, err)))
		return PS_EFAIL;
	if (!(ssl = SSL_new(ctx)) || SSL_set_fd(ssl, fd) != 1 ||
	    !(s = ps_tls_wrap(ssl))) {
		ERR_clear_error();
		SSL_free(ssl);
		ps_error_set(err, "TLS client session: out of memory");
		return PS_ENOMEM;
	}
	if (opt.server_name && !client_name(ssl, opt.server_name)) {
		ERR_clear_error();
		ps_tls_free(s);
		ps_error_set(err, "TLS: cannot use server name '%s'",
			     opt.server_name);
		return PS_EINVAL;
	}
	SSL_set_verify(ssl, opt.verify ? SSL_VERIFY_PEER : SSL_VERIFY_NONE,
		       NULL);
	SSL_set_connect_state(ssl);
	*s_r = s;
	return 0;
}

/* The chain verified and a name was there to match: OpenSSL checks the
 * name as part of the chain, so X509_V_OK covers both. */
int
ps_tls_client_verified(struct ps_tls *s)
{
	SSL *ssl = ps_tls_ssl(s);
	X509_VERIFY_PARAM *param = SSL_get0_param(ssl);
	char *ip = X509_VERIFY_PARAM_get1_ip_asc(param);
	int named = X509_VERIFY_PARAM_get0_host(param, 0) || ip;

	OPENSSL_free(ip);
	return named && SSL_get0_peer_certificate(ssl) &&
	       SSL_get_verify_result(ssl) == X509_V_OK;
}
