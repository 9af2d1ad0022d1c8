/* libpsdkim's inside: what its files share, and what the unit test
 * reaches (the canonicalisers). Not for the library's users. */
#ifndef DKIM_PRIVATE_H
#define DKIM_PRIVATE_H

#include <openssl/evp.h>

#include "dkim.h"

struct dkim_key {
	EVP_PKEY *pkey;
	enum dkim_alg alg;
};

/* error.c: err's message from fmt, returning code. dkim_ssl_error adds
 * OpenSSL's reason for its last failure, and clears its queue. */
int dkim_error(struct ps_error *err, int code, const char *fmt, ...)
	PS_PRINTF(3, 4);
int dkim_ssl_error(struct ps_error *err, int code, const char *fmt, ...)
	PS_PRINTF(3, 4);

/* key.c: the signature of a SHA-256 digest by key (RFC 6376 3.3.1:
 * RSASSA-PKCS1-v1_5; RFC 8463 3: PureEdDSA over the digest), into
 * *sig_r (to free()), *len_r octets. */
int dkim_key_sign(const struct dkim_key *key, const unsigned char *digest,
		  size_t digest_len, unsigned char **sig_r, size_t *len_r,
		  struct ps_error *err);

/* canon.c: canonicalisation (RFC 6376 3.4). Output goes to emit in
 * pieces. */
typedef void (*dkim_emit_fn)(void *arg, const void *data, size_t len);
struct dkim_sink {
	dkim_emit_fn emit;
	void *arg;
	size_t n;
	char buf[1024];    /* output gathered for emit */
};

/* One header field as written: name, colon, value with its folding,
 * without the CR LF that ends it. Emits it canonicalised, without a
 * final CR LF (the caller adds it, except for DKIM-Signature, 3.7). */
void dkim_canon_header(enum dkim_canon canon, const char *field,
		       size_t len, dkim_emit_fn emit, void *arg);

/* The body, streamed: lines held back only as a count of empty ones
 * (3.4.3, 3.4.4), so memory does not grow with the body. */
struct dkim_body {
	enum dkim_canon canon;
	struct dkim_sink out;
	uint64_t blank;    /* empty lines not yet emitted */
	unsigned cr : 1;   /* a CR whose LF may come next */
	unsigned wsp : 1;  /* relaxed: WSP seen, an SP owed if more follows */
	unsigned line : 1; /* the current line has content */
	unsigned any : 1;  /* some line had content */
};
void dkim_body_init(struct dkim_body *b, enum dkim_canon canon,
		    dkim_emit_fn emit, void *arg);
void dkim_body_feed(struct dkim_body *b, const char *data, size_t len);
/* The end of the body: the last line's CR LF, the empty body's. */
void dkim_body_end(struct dkim_body *b);

/* header.c: the header, kept until its end (bounded), then split into
 * fields and the signed ones chosen (RFC 6376 5.4). */
struct dkim_header {
	char *buf;         /* lines ending in CR LF */
	size_t len, cap, max;
	size_t line;       /* where the current line starts */
	int done;          /* its empty line came (not kept) */
};
/* Take octets from data until the header's end; *used_r says how many
 * were taken. */
int dkim_header_feed(struct dkim_header *h, const char *data, size_t len,
		     size_t *used_r, struct ps_error *err);
/* Close a header the message ended in. */
int dkim_header_end(struct dkim_header *h, struct ps_error *err);
void dkim_header_free(struct dkim_header *h);

/* The fields to sign, in the order h= lists them: a name listed more
 * often than it occurs signs its absence too (over-signing). */
struct dkim_signed {
	const char *name;  /* lower case, as h= lists it */
	const char *field; /* the instance hashed, NULL for none */
	size_t len;        /* its length without the final CR LF */
};
/* *list_r (to free()) and *n_r entries, or an error when there is no
 * From field. */
int dkim_header_select(const struct dkim_header *h,
		       struct dkim_signed **list_r, size_t *n_r,
		       struct ps_error *err);

/* field.c: the DKIM-Signature field being written, folded at about 78
 * octets a line (RFC 5322 2.1.1). */
struct dkim_field {
	char *buf;
	size_t len, cap;
	size_t col;        /* octets on the current line */
	int oom;           /* an allocation failed: buf is incomplete */
};
void dkim_field_raw(struct dkim_field *f, const char *s, size_t len);
/* A tag starting with s: after SP, or on a new line when it would not
 * fit on this one. */
void dkim_field_tag(struct dkim_field *f, const char *s);
/* More of a value where folding white space may go before s (h= after
 * a colon). */
void dkim_field_word(struct dkim_field *f, const char *s);
/* base64 text, folded wherever a line is full (3.5: FWS is allowed
 * between its characters). */
void dkim_field_base64(struct dkim_field *f, const char *s, size_t len);

#endif
