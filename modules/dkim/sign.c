/* The DKIM signer (RFC 6376 5): the header is kept until its empty
 * line, the body is canonicalised and hashed as it streams (bh=, 3.7),
 * and at the end the chosen header fields and the new DKIM-Signature
 * field without its b= value are hashed and signed (5.5: b= last). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dkim_private.h"

#define NAME_LEN 253  /* name.c's bound on d= and s= */
#define SHA256_LEN 32

struct dkim_sign {
	const struct dkim_key *key;
	struct dkim_sign_options opt;
	char domain[NAME_LEN + 1], selector[NAME_LEN + 1];
	struct dkim_header header;
	struct dkim_body body;
	EVP_MD_CTX *bh; /* the body hash */
	int failed;     /* or finished: only failures follow */
};

/* SHA-256 cannot fail on octets in memory: its update is not checked. */
static void
hash(void *md, const void *data, size_t len)
{
	EVP_DigestUpdate(md, data, len);
}

static char *
base64(const unsigned char *p, size_t len)
{
	char *s = malloc(4 * ((len + 2) / 3) + 1);

	if (s)
		EVP_EncodeBlock((unsigned char *)s, p, (int)len);
	return s;
}

int
dkim_sign_new(const struct dkim_key *key, const char *domain,
	      const char *selector, const struct dkim_sign_options *opt,
	      struct dkim_sign **s_r, struct ps_error *err)
{
	struct dkim_sign *s;

	if (dkim_check_name("domain", domain, err) < 0 ||
	    dkim_check_name("selector", selector, err) < 0)
		return DKIM_EINVAL;
	if (!(s = calloc(1, sizeof(*s))))
		return dkim_error(err, DKIM_ENOMEM, "out of memory");
	s->key = key;
	if (opt)
		s->opt = *opt;
	strcpy(s->domain, domain);
	strcpy(s->selector, selector);
	s->header.max = s->opt.max_header ? s->opt.max_header :
		DKIM_HEADER_MAX;
	if (!(s->bh = EVP_MD_CTX_new()) ||
	    !EVP_DigestInit_ex(s->bh, EVP_sha256(), NULL)) {
		dkim_sign_free(s);
		return dkim_ssl_error(err, DKIM_ENOMEM, "cannot start SHA-256");
	}
	dkim_body_init(&s->body, s->opt.body_canon, hash, s->bh);
	*s_r = s;
	return DKIM_OK;
}

int
dkim_sign_update(struct dkim_sign *s, const void *data, size_t len,
		 struct ps_error *err)
{
	const char *p = data;
	size_t used = 0;

	if (s->failed)
		return dkim_error(err, DKIM_EINVAL, "the signer has stopped");
	if (len == 0)
		return DKIM_OK; /* data may be NULL: no arithmetic on it */
	if (!s->header.done &&
	    dkim_header_feed(&s->header, p, len, &used, err) < 0) {
		s->failed = 1;
		return DKIM_EINVAL;
	}
	dkim_body_feed(&s->body, p + used, len - used);
	return DKIM_OK;
}

/* ---- The field ------------------------------------------------------- */

/* Every tag but b='s value (RFC 6376 3.5), in the order a reader
 * expects them. */
static void
write_tags(const struct dkim_sign *s, struct dkim_field *f,
	   const struct dkim_signed *list, size_t n, const char *bh)
{
	static const char *const canon[] = {"relaxed", "simple"};
	static const char start[] = "DKIM-Signature: v=1;";
	char tag[NAME_LEN + 8];

	dkim_field_raw(f, start, sizeof(start) - 1);
	dkim_field_tag(f, s->key->alg == DKIM_RSA_SHA256 ?
		       "a=rsa-sha256;" : "a=ed25519-sha256;");
	snprintf(tag, sizeof(tag), "c=%s/%s;", canon[s->opt.header_canon],
		 canon[s->opt.body_canon]);
	dkim_field_tag(f, tag);
	snprintf(tag, sizeof(tag), "d=%s;", s->domain);
	dkim_field_tag(f, tag);
	snprintf(tag, sizeof(tag), "s=%s;", s->selector);
	dkim_field_tag(f, tag);
	snprintf(tag, sizeof(tag), "t=%" PRId64 ";", s->opt.time);
	dkim_field_tag(f, tag);
	if (s->opt.expire > 0) {
		snprintf(tag, sizeof(tag), "x=%" PRId64 ";",
			 s->opt.time + s->opt.expire);
		dkim_field_tag(f, tag);
	}
	snprintf(tag, sizeof(tag), "h=%s", list[0].name);
	dkim_field_tag(f, tag);
	for (size_t i = 1; i < n; i++) {
		dkim_field_raw(f, ":", 1);
		dkim_field_word(f, list[i].name);
	}
	dkim_field_raw(f, ";", 1);
	snprintf(tag, sizeof(tag), "bh=%s;", bh);
	dkim_field_tag(f, tag);
	dkim_field_tag(f, "b=");
}

/* The header hash (3.7): each signed field canonicalised with its CR
 * LF, then the new field up to "b=", without one. */
static int
header_hash(const struct dkim_sign *s, const struct dkim_signed *list,
	    size_t n, const struct dkim_field *f, unsigned char *digest,
	    struct ps_error *err)
{
	enum dkim_canon c = s->opt.header_canon;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int ok = md && EVP_DigestInit_ex(md, EVP_sha256(), NULL);

	for (size_t i = 0; ok && i < n; i++) {
		if (!list[i].field)
			continue; /* over-signed: nothing to hash (5.4.2) */
		dkim_canon_header(c, list[i].field, list[i].len, hash, md);
		hash(md, "\r\n", 2);
	}
	if (ok)
		dkim_canon_header(c, f->buf, f->len, hash, md);
	ok = ok && EVP_DigestFinal_ex(md, digest, NULL);
	EVP_MD_CTX_free(md);
	return ok ? DKIM_OK : dkim_ssl_error(err, DKIM_ENOMEM, "cannot "
					      "hash the header");
}

/* Sign what f holds and append b='s value and the final CR LF. */
static int
append_signature(const struct dkim_sign *s, const struct dkim_signed *list,
		 size_t n, struct dkim_field *f, struct ps_error *err)
{
	unsigned char digest[EVP_MAX_MD_SIZE], *sig = NULL;
	size_t len = 0;
	char *b = NULL;
	int r, ok;

	if (f->oom)
		return dkim_error(err, DKIM_ENOMEM, "out of memory");
	if ((r = header_hash(s, list, n, f, digest, err)) < 0 ||
	    (r = dkim_key_sign(s->key, digest, SHA256_LEN, &sig, &len,
			       err)) < 0)
		return r;
	if ((b = base64(sig, len))) {
		dkim_field_base64(f, b, strlen(b));
		dkim_field_raw(f, "\r\n", 2);
	}
	ok = b && !f->oom;
	free(sig);
	free(b);
	return ok ? DKIM_OK : dkim_error(err, DKIM_ENOMEM, "out of memory");
}

/* The body hash, base64, to free(). */
static char *
body_hash(struct dkim_sign *s)
{
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned len = 0;

	dkim_body_end(&s->body);
	if (!EVP_DigestFinal_ex(s->bh, digest, &len))
		return NULL;
	return base64(digest, len);
}

int
dkim_sign_finish(struct dkim_sign *s, char **field_r,
		 struct ps_error *err)
{
	struct dkim_field f = {0};
	struct dkim_signed *list = NULL;
	char *bh = NULL;
	size_t n = 0;
	int r;

	if (s->failed)
		return dkim_error(err, DKIM_EINVAL, "the signer has stopped");
	s->failed = 1;
	if ((r = dkim_header_end(&s->header, err)) < 0 ||
	    (r = dkim_header_select(&s->header, &list, &n, err)) < 0)
		return r;
	if (!(bh = body_hash(s)))
		r = dkim_ssl_error(err, DKIM_ENOMEM, "cannot hash the body");
	if (r == DKIM_OK) {
		write_tags(s, &f, list, n, bh);
		r = append_signature(s, list, n, &f, err);
	}
	free(list);
	free(bh);
	if (r < 0)
		free(f.buf);
	else
		*field_r = f.buf;
	return r;
}

void
dkim_sign_free(struct dkim_sign *s)
{
	if (!s)
		return;
	dkim_header_free(&s->header);
	EVP_MD_CTX_free(s->bh);
	free(s);
}
