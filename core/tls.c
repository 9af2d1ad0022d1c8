/* TLS with OpenSSL 3: server contexts built from certificate/key pairs,
 * one chosen per client by SNI (RFC 6066 section 3; wildcards as RFC 6125
 * section 6.4.3 allows), TLS 1.2 or later (RFC 8996) with ECDHE and AEAD
 * ciphers (BCP 195, RFC 9325), and non-blocking sessions whose
 * WANT_READ/WANT_WRITE results drive the connection's epoll mask (client
 * sessions are set up in tls_client.c). */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "log.h"
#include "tls.h"

/* TLS 1.2 suites with forward secrecy and an AEAD; TLS 1.3 keeps
 * OpenSSL's defaults, which are all of that kind. */
#define TLS_DEFAULT_CIPHERS                                              \
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"     \
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"     \
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"

/* No compression (CRIME), no renegotiation (CVE-2009-3555 and CPU
 * exhaustion), and a peer closing TCP without close_notify is an ordinary
 * end of input: a mail command is complete only with its line end, so a
 * truncation cannot forge one. */
#define TLS_OPTIONS                                                      \
	(SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |               \
	 SSL_OP_IGNORE_UNEXPECTED_EOF)

/* The connection's output queue may move between retries and is written
 * record by record; idle connections give their buffers back. */
#define TLS_MODES                                                        \
	(SSL_MODE_ENABLE_PARTIAL_WRITE |                                 \
	 SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS)

/* A DNS name a certificate answers for, lower case; "*.x.test" stands for
 * any single label in front of "x.test". */
struct tls_name {
	char *name;
	SSL_CTX *ctx;
};

/* Reference counts are plain ints: contexts are built in the master and
 * each process uses its copy from one thread. */
struct ps_tls_ctx {
	int refs;
	SSL_CTX **ctxs; /* ctxs[0] is the default */
	size_t nctx;
	struct tls_name *names;
	size_t nnames;
};

struct ps_tls {
	SSL *ssl;
	struct ps_tls_ctx *ctx; /* referenced: the SNI callback reads it */
	int failed;             /* a fatal error: no close_notify */
	char info[96];
	char err[256];
};

/* OpenSSL's reason for the failure just seen, emptying its error queue;
 * returns the error code. The oldest entry is the root cause ("No such
 * file or directory"), the later ones only say which layer passed it on. */
unsigned long
ps_tls_reason(char *buf, size_t len)
{
	const char *data = NULL, *reason;
	unsigned long e, first = 0;
	int flags = 0;

	snprintf(buf, len, "%s", errno ? strerror(errno) : "unknown error");
	while ((e = ERR_get_error_all(NULL, NULL, NULL,
				      first ? NULL : &data,
				      first ? NULL : &flags)))
		if (!first)
			first = e;
	if (!first)
		return 0;
	/* A system error's detail only repeats the file name. */
	if (ERR_SYSTEM_ERROR(first))
		data = NULL;
	reason = ERR_SYSTEM_ERROR(first) ? strerror(ERR_GET_REASON(first))
					 : ERR_reason_error_string(first);
	if (!reason)
		ERR_error_string_n(first, buf, len);
	else if (data && *data && (flags & ERR_TXT_STRING))
		snprintf(buf, len, "%s (%s)", reason, data);
	else
		snprintf(buf, len, "%s", reason);
	return first;
}

static int
tls_fail(struct ps_error *err, const char *what, const char *file)
{
	char why[256];

	ps_tls_reason(why, sizeof(why));
	return ps_error_set(err, "tls %s %s: %s", what, file, why);
}

static int
tls_min_version(const char *text, int *version, struct ps_error *err)
{
	if (!text || strcmp(text, "TLSv1.2") == 0)
		*version = TLS1_2_VERSION;
	else if (strcmp(text, "TLSv1.3") == 0)
		*version = TLS1_3_VERSION;
	else
		return ps_error_set(err, "tls min_version '%s': use TLSv1.2 "
				    "or TLSv1.3", text);
	return 0;
}

/* A key that does not fit the certificate is refused while loading; one
 * of another type (EC for RSA) is filed beside it, which only
 * SSL_CTX_check_private_key notices. Either way the message names both
 * files. */
static int
tls_load_pair(SSL_CTX *ctx, const struct ps_tls_cert *c,
	      struct ps_error *err)
{
	char why[256];
	unsigned long e;

	errno = 0;
	if (SSL_CTX_use_certificate_chain_file(ctx, c->certificate) != 1)
		return tls_fail(err, "certificate", c->certificate);
	errno = 0;
	if (SSL_CTX_use_PrivateKey_file(ctx, c->key, SSL_FILETYPE_PEM) != 1) {
		e = ps_tls_reason(why, sizeof(why));
		if (ERR_GET_LIB(e) != ERR_LIB_X509 ||
		    ERR_GET_REASON(e) != X509_R_KEY_VALUES_MISMATCH)
			return ps_error_set(err, "tls key %s: %s", c->key, why);
	} else if (SSL_CTX_check_private_key(ctx) == 1) {
		return 0;
	}
	ERR_clear_error();
	return ps_error_set(err, "tls key %s does not match certificate %s",
			    c->key, c->certificate);
}

static SSL_CTX *
tls_ctx_build(const struct ps_tls_cert *c, const char *ciphers, int minv,
	      struct ps_error *err)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	if (!ctx) {
		tls_fail(err, "context for", c->certificate);
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, minv);
	SSL_CTX_set_options(ctx, TLS_OPTIONS);
	SSL_CTX_set_mode(ctx, TLS_MODES);
	if (SSL_CTX_set_cipher_list(ctx, ciphers ? ciphers
					 : TLS_DEFAULT_CIPHERS) != 1) {
		ERR_clear_error();
		ps_error_set(err, "tls ciphers '%s': no cipher matches",
			     ciphers ? ciphers : TLS_DEFAULT_CIPHERS);
		SSL_CTX_free(ctx);
		return NULL;
	}
	if (tls_load_pair(ctx, c, err) < 0) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

static int
tls_add_name(struct ps_tls_ctx *t, const unsigned char *p, int len,
	     SSL_CTX *ctx)
{
	struct tls_name *names;
	char *name;

	/* A NUL inside a name is an attack on C string handling. */
	if (len <= 0 || memchr(p, '\0', (size_t)len))
		return 0;
	names = realloc(t->names, (t->nnames + 1) * sizeof(*names));
	if (!names)
		return PS_ENOMEM;
	t->names = names;
	name = malloc((size_t)len + 1);
	if (!name)
		return PS_ENOMEM;
	for (int i = 0; i < len; i++)
		name[i] = (char)tolower(p[i]);
	name[len] = '\0';
	names[t->nnames].name = name;
	names[t->nnames++].ctx = ctx;
	return 0;
}

/* The names of ctx's certificate: its DNS subjectAltNames, or its common
 * name when it has none (RFC 6125 section 6.4.4). */
static int
tls_cert_names(struct ps_tls_ctx *t, SSL_CTX *ctx)
{
	X509 *x = SSL_CTX_get0_certificate(ctx);
	GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL,
					       NULL);
	int ndns = 0, r = 0;

	for (int i = 0; i < sk_GENERAL_NAME_num(gens) && r == 0; i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);

		if (g->type != GEN_DNS)
			continue;
		ndns++;
		r = tls_add_name(t, ASN1_STRING_get0_data(g->d.dNSName),
				 ASN1_STRING_length(g->d.dNSName), ctx);
	}
	GENERAL_NAMES_free(gens);
	if (r == 0 && ndns == 0) {
		X509_NAME *subj = X509_get_subject_name(x);
		int idx = X509_NAME_get_index_by_NID(subj, NID_commonName, -1);

		if (idx >= 0) {
			ASN1_STRING *cn = X509_NAME_ENTRY_get_data(
				X509_NAME_get_entry(subj, idx));
			r = tls_add_name(t, ASN1_STRING_get0_data(cn),
					 ASN1_STRING_length(cn), ctx);
		}
	}
	return r;
}

/* "*.example.test" matches "a.example.test", not "example.test" nor
 * "a.b.example.test". */
static int
tls_wildcard_match(const char *pattern, const char *host)
{
	const char *dot = strchr(host, '.');

	return pattern[0] == '*' && pattern[1] == '.' && dot && dot != host &&
	       strcasecmp(dot + 1, pattern + 2) == 0;
}

/* Exact names win over wildcards; among equals, the first certificate. */
static SSL_CTX *
tls_find(const struct ps_tls_ctx *t, const char *host)
{
	for (size_t i = 0; i < t->nnames; i++)
		if (strcasecmp(t->names[i].name, host) == 0)
			return t->names[i].ctx;
	for (size_t i = 0; i < t->nnames; i++)
		if (tls_wildcard_match(t->names[i].name, host))
			return t->names[i].ctx;
	return NULL;
}

/* Runs during the ClientHello: answer with the certificate for the name
 * asked for, or the default one. */
static int
tls_sni(SSL *ssl, int *alert, void *arg)
{
	const char *host = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
	SSL_CTX *ctx;

	if (!host)
		return SSL_TLSEXT_ERR_NOACK;
	ctx = tls_find(arg, host);
	if (ctx && ctx != SSL_get_SSL_CTX(ssl))
		SSL_set_SSL_CTX(ssl, ctx);
	return SSL_TLSEXT_ERR_OK;
}

static struct ps_tls_ctx *
tls_ctx_alloc(size_t ncerts)
{
	struct ps_tls_ctx *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->refs = 1;
	t->ctxs = calloc(ncerts, sizeof(*t->ctxs));
	if (!t->ctxs) {
		free(t);
		return NULL;
	}
	return t;
}

struct ps_tls_ctx *
ps_tls_ctx_new(const struct ps_tls_cert *certs, size_t ncerts,
	       const char *ciphers, const char *min_version,
	       struct ps_error *err)
{
	struct ps_tls_ctx *t;
	int minv;

	if (ncerts == 0) {
		ps_error_set(err, "tls: no certificate given");
		return NULL;
	}
	if (tls_min_version(min_version, &minv, err) < 0)
		return NULL;
	if (!(t = tls_ctx_alloc(ncerts))) {
		ps_error_set(err, "tls: out of memory");
		return NULL;
	}
	for (; t->nctx < ncerts; t->nctx++) {
		t->ctxs[t->nctx] = tls_ctx_build(&certs[t->nctx], ciphers,
						 minv, err);
		if (!t->ctxs[t->nctx])
			goto fail;
		/* With one certificate there is nothing to choose. */
		if (ncerts > 1 && tls_cert_names(t, t->ctxs[t->nctx]) < 0) {
			ps_error_set(err, "tls: out of memory");
			t->nctx++;
			goto fail;
		}
	}
	if (ncerts > 1) {
		SSL_CTX_set_tlsext_servername_callback(t->ctxs[0], tls_sni);
		SSL_CTX_set_tlsext_servername_arg(t->ctxs[0], t);
	}
	return t;
fail:
	ps_tls_ctx_unref(t);
	return NULL;
}

void
ps_tls_ctx_ref(struct ps_tls_ctx *t)
{
	t->refs++;
}

void
ps_tls_ctx_unref(struct ps_tls_ctx *t)
{
	if (!t || --t->refs > 0)
		return;
	for (size_t i = 0; i < t->nnames; i++)
		free(t->names[i].name);
	free(t->names);
	for (size_t i = 0; i < t->nctx; i++)
		SSL_CTX_free(t->ctxs[i]);
	free(t->ctxs);
	free(t);
}

struct ps_tls *
ps_tls_new(struct ps_tls_ctx *ctx, int fd)
{
	struct ps_tls *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->ssl = SSL_new(ctx->ctxs[0]);
	if (!s->ssl || SSL_set_fd(s->ssl, fd) != 1) {
		ERR_clear_error();
		SSL_free(s->ssl);
		free(s);
		return NULL;
	}
	SSL_set_accept_state(s->ssl);
	ps_tls_ctx_ref(ctx);
	s->ctx = ctx;
	return s;
}

struct ps_tls *
ps_tls_wrap(SSL *ssl)
{
	struct ps_tls *s = calloc(1, sizeof(*s));

	if (s)
		s->ssl = ssl;
	return s;
}

SSL *
ps_tls_ssl(struct ps_tls *s)
{
	return s->ssl;
}

void
ps_tls_free(struct ps_tls *s)
{
	if (!s)
		return;
	SSL_free(s->ssl);
	ps_tls_ctx_unref(s->ctx);
	free(s);
}

/* The error queue is per thread and shared by every session: clear it
 * before each call, or SSL_get_error may blame this one for another's. */
static void
tls_begin(void)
{
	ERR_clear_error();
	errno = 0;
}

/* OpenSSL's reason, or for a client that checks the server's certificate
 * (tls_client.c) what the check found. */
static void
tls_failure(struct ps_tls *s)
{
	unsigned long e = ps_tls_reason(s->err, sizeof(s->err));
	long v = SSL_get_verify_result(s->ssl);

	if (ERR_GET_REASON(e) != SSL_R_CERTIFICATE_VERIFY_FAILED ||
	    v == X509_V_OK)
		return;
	if (v == X509_V_ERR_HOSTNAME_MISMATCH ||
	    v == X509_V_ERR_IP_ADDRESS_MISMATCH)
		snprintf(s->err, sizeof(s->err), "hostname mismatch");
	else
		snprintf(s->err, sizeof(s->err), "certificate verify "
			 "failed: %s", X509_verify_cert_error_string(v));
}

/* Map a result <= 0 of SSL_do_handshake, SSL_read or SSL_write. A clean
 * end of the peer's data maps to eof. */
static int
tls_result(struct ps_tls *s, int r, int eof)
{
	switch (SSL_get_error(s->ssl, r)) {
	case SSL_ERROR_WANT_READ:
		return PS_TLS_WANT_READ;
	case SSL_ERROR_WANT_WRITE:
		return PS_TLS_WANT_WRITE;
	case SSL_ERROR_ZERO_RETURN:
		snprintf(s->err, sizeof(s->err), "closed by the peer");
		return eof;
	case SSL_ERROR_SYSCALL:
		snprintf(s->err, sizeof(s->err), "%s",
			 errno ? strerror(errno) : "connection closed");
		ERR_clear_error();
		break;
	default:
		tls_failure(s);
		break;
	}
	s->failed = 1;
	return PS_TLS_CLOSED;
}

int
ps_tls_handshake(struct ps_tls *s)
{
	int r;

	tls_begin();
	r = SSL_do_handshake(s->ssl);
	if (r != 1)
		return tls_result(s, r, PS_TLS_CLOSED);
	snprintf(s->info, sizeof(s->info), "%s %s", SSL_get_version(s->ssl),
		 SSL_get_cipher_name(s->ssl));
	return 0;
}

ssize_t
ps_tls_read(struct ps_tls *s, void *buf, size_t len)
{
	int r;

	tls_begin();
	r = SSL_read(s->ssl, buf, len > INT_MAX ? INT_MAX : (int)len);
	return r > 0 ? r : tls_result(s, r, 0);
}

ssize_t
ps_tls_write(struct ps_tls *s, const void *buf, size_t len)
{
	int r;

	if (len == 0)
		return 0;
	tls_begin();
	r = SSL_write(s->ssl, buf, len > INT_MAX ? INT_MAX : (int)len);
	return r > 0 ? r : tls_result(s, r, PS_TLS_CLOSED);
}

void
ps_tls_shutdown(struct ps_tls *s)
{
	/* After a fatal error OpenSSL forbids further calls on the session. */
	if (s->failed)
		return;
	tls_begin();
	SSL_shutdown(s->ssl);
	ERR_clear_error();
}

const char *
ps_tls_info(struct ps_tls *s)
{
	return s->info[0] ? s->info : NULL;
}

const char *
ps_tls_error(struct ps_tls *s)
{
	return s->err[0] ? s->err : "unknown error";
}
