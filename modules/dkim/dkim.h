/* libpsdkim: DKIM signing (RFC 6376) with rsa-sha256 and ed25519-sha256
 * (RFC 8463), for the outbound relay. Pure: libc and libcrypto only, no
 * SDK calls, no global state. The message is streamed in pieces of any
 * size; memory holds its header (bounded) and never its body. Linked
 * into a module as the libtool convenience library
 * modules/dkim/libpsdkim.la. */
#ifndef DKIM_H
#define DKIM_H

#include <poshta/types.h>
#include <stddef.h>
#include <stdint.h>

/* Return codes; the same values as <poshta/types.h>'s PS_E*. Each
 * failure also fills the caller's struct ps_error. */
#define DKIM_OK 0
#define DKIM_ENOMEM (-2)
#define DKIM_EINVAL (-3)
#define DKIM_EIO (-7)

#define DKIM_HEADER_MAX (1024 * 1024) /* default header bound, octets */
#define DKIM_RSA_BITS_MIN 1024        /* RFC 8301 3.2 */
#define DKIM_RSA_BITS_MAX 4096        /* keygen: what verifiers accept */
#define DKIM_KEY_FILE_MAX 65536       /* a PEM file longer is refused */

enum dkim_alg {
	DKIM_RSA_SHA256,
	DKIM_ED25519_SHA256,
};

enum dkim_canon {
	DKIM_CANON_RELAXED = 0, /* the default, RFC 6376 3.4.2 and 3.4.4 */
	DKIM_CANON_SIMPLE,      /* RFC 6376 3.4.1 and 3.4.3 */
};

/* ---- Keys ------------------------------------------------------------ */

struct dkim_key;

/* Load an unencrypted private key from a PEM file (PKCS#8 or PKCS#1):
 * RSA of at least DKIM_RSA_BITS_MIN bits, or Ed25519. */
int dkim_key_load(const char *path, struct dkim_key **key_r,
		  struct ps_error *err);
/* A new key: RSA of bits bits (DKIM_RSA_BITS_MIN..DKIM_RSA_BITS_MAX),
 * or Ed25519 (bits ignored). */
int dkim_key_generate(enum dkim_alg alg, unsigned bits,
		      struct dkim_key **key_r, struct ps_error *err);
/* The private key as unencrypted PKCS#8 PEM, *pem_r to free() (the
 * caller should wipe it first), *len_r octets without a NUL. */
int dkim_key_pem(const struct dkim_key *key, char **pem_r, size_t *len_r,
		 struct ps_error *err);
/* The DNS TXT record that publishes the public key (RFC 6376 3.6.1):
 * "v=DKIM1; k=rsa; p=" and the SubjectPublicKeyInfo DER, or
 * "v=DKIM1; k=ed25519; p=" and the raw 32-octet key (RFC 8463 4), in
 * base64. *record_r is a string to free(). */
int dkim_key_record(const struct dkim_key *key, char **record_r,
		    struct ps_error *err);
enum dkim_alg dkim_key_alg(const struct dkim_key *key);
void dkim_key_free(struct dkim_key *key);

/* 0 when name is a domain name DKIM can use for d= or s= (RFC 6376
 * 3.5): dot-separated labels of letters, digits and inner hyphens (A
 * labels for IDN), at most 63 octets each and 253 in all. what names it
 * in the message ("domain", "selector"). */
int dkim_check_name(const char *what, const char *name,
		    struct ps_error *err);

/* ---- Signing --------------------------------------------------------- */

struct dkim_sign_options {
	enum dkim_canon header_canon; /* c=, relaxed unless said */
	enum dkim_canon body_canon;
	int64_t time;                 /* t=: now, from the caller's clock */
	int64_t expire;               /* x= is t= plus this; 0: no x= */
	size_t max_header;            /* header octets kept, lines ending
				       * in CR LF, its empty line
				       * included; 0: DKIM_HEADER_MAX */
};

struct dkim_sign;

/* A signer for one message, by key for domain (d=) with selector (s=).
 * opt may be NULL (relaxed/relaxed, t=0). key must outlive the signer. */
int dkim_sign_new(const struct dkim_key *key, const char *domain,
		  const char *selector, const struct dkim_sign_options *opt,
		  struct dkim_sign **s_r, struct ps_error *err);
/* The next len octets of the message as it will be sent: header, empty
 * line, body, cut anywhere. Lines end in CR LF; a bare LF is taken as
 * CR LF, as it will travel (RFC 5321 2.3.8). After a failure the signer
 * only fails again. */
int dkim_sign_update(struct dkim_sign *s, const void *data, size_t len,
		     struct ps_error *err);
/* The whole "DKIM-Signature:" field, folded, ending in CR LF, to put
 * before the message: *field_r is a string to free(). Fails for a
 * message without a From field (RFC 6376 5.4). */
int dkim_sign_finish(struct dkim_sign *s, char **field_r,
		     struct ps_error *err);
void dkim_sign_free(struct dkim_sign *s);

#endif
