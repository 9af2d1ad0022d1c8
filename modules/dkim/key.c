/* DKIM keys: an RSA or Ed25519 private key read from PEM or made anew,
 * written back as PKCS#8, the DNS record of its public half (RFC 6376
 * 3.6.1, RFC 8463 4), and the signature of a header hash. */
#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dkim_private.h"

#define ED25519_RAW 32

/* ---- Reading --------------------------------------------------------- */

/* The whole file, at most DKIM_KEY_FILE_MAX octets, into buf. */
static int
read_file(const char *path, char *buf, size_t *len_r, struct ps_error *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t len = 0;
	ssize_t n = 1;

	if (fd < 0)
		return dkim_error(err, DKIM_EIO, "%s: %s", path,
				  strerror(errno));
	while (n > 0 && len <= DKIM_KEY_FILE_MAX)
		if ((n = read(fd, buf + len, DKIM_KEY_FILE_MAX + 1 - len)) > 0)
			len += (size_t)n;
	close(fd);
	if (n < 0)
		return dkim_error(err, DKIM_EIO, "%s: %s", path,
				  strerror(errno));
	if (len > DKIM_KEY_FILE_MAX)
		return dkim_error(err, DKIM_EINVAL, "%s: longer than %d octets"
				  ", not a key", path, DKIM_KEY_FILE_MAX);
	*len_r = len;
	return DKIM_OK;
}

/* An encrypted key is refused rather than asked for on a terminal. */
static int
no_passphrase(char *buf, int size, int rwflag, void *u)
{
	return 0;
}

/* Only RSA (RFC 8301 3.2: at least 1024 bits) and Ed25519 sign DKIM. */
static int
adopt(EVP_PKEY *pkey, const char *what, struct dkim_key **key_r,
      struct ps_error *err)
{
	enum dkim_alg alg = DKIM_RSA_SHA256;
	struct dkim_key *key;

	if (EVP_PKEY_is_a(pkey, "ED25519"))
		alg = DKIM_ED25519_SHA256;
	else if (!EVP_PKEY_is_a(pkey, "RSA"))
		return dkim_error(err, DKIM_EINVAL, "%s: not an RSA or Ed25519"
				  " key", what);
	else if (EVP_PKEY_get_bits(pkey) < DKIM_RSA_BITS_MIN)
		return dkim_error(err, DKIM_EINVAL, "%s: an RSA key of %d bits"
				  ", DKIM needs %d or more (RFC 8301)", what,
				  EVP_PKEY_get_bits(pkey), DKIM_RSA_BITS_MIN);
	if (!(key = calloc(1, sizeof(*key))))
		return dkim_error(err, DKIM_ENOMEM, "out of memory");
	key->pkey = pkey;
	key->alg = alg;
	*key_r = key;
	return DKIM_OK;
}

int
dkim_key_load(const char *path, struct dkim_key **key_r,
	      struct ps_error *err)
{
	char *buf = malloc(DKIM_KEY_FILE_MAX + 1);
	EVP_PKEY *pkey = NULL;
	BIO *bio = NULL;
	size_t len = 0;
	int r;

	if (!buf)
		return dkim_error(err, DKIM_ENOMEM, "out of memory");
	if ((r = read_file(path, buf, &len, err)) == DKIM_OK &&
	    (!(bio = BIO_new_mem_buf(buf, (int)len)) ||
	     !(pkey = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase,
					      NULL))))
		r = dkim_ssl_error(err, DKIM_EINVAL, "%s: no unencrypted PEM "
				   "private key there", path);
	BIO_free(bio);
	OPENSSL_cleanse(buf, len);
	free(buf);
	if (r == DKIM_OK && (r = adopt(pkey, path, key_r, err)) < 0)
		EVP_PKEY_free(pkey);
	return r;
}

/* ---- Making and writing ---------------------------------------------- */

int
dkim_key_generate(enum dkim_alg alg, unsigned bits,
		  struct dkim_key **key_r, struct ps_error *err)
{
	EVP_PKEY *pkey;
	int r;

	if (alg == DKIM_RSA_SHA256 &&
	    (bits < DKIM_RSA_BITS_MIN || bits > DKIM_RSA_BITS_MAX))
		return dkim_error(err, DKIM_EINVAL, "RSA keys have %d to %d "
				  "bits", DKIM_RSA_BITS_MIN, DKIM_RSA_BITS_MAX);
	if (alg == DKIM_RSA_SHA256)
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);
	else
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	if (!pkey)
		return dkim_ssl_error(err, DKIM_EINVAL, "cannot make a key");
	if ((r = adopt(pkey, "new key", key_r, err)) < 0)
		EVP_PKEY_free(pkey);
	return r;
}

int
dkim_key_pem(const struct dkim_key *key, char **pem_r, size_t *len_r,
	     struct ps_error *err)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data, *pem = NULL;
	long len = 0;

	if (bio && PEM_write_bio_PrivateKey(bio, key->pkey, NULL, NULL, 0,
					    NULL, NULL) > 0 &&
	    (len = BIO_get_mem_data(bio, &data)) > 0 &&
	    (pem = malloc((size_t)len)))
		memcpy(pem, data, (size_t)len);
	BIO_free_all(bio); /* a memory BIO wipes what it held */
	if (!pem)
		return dkim_ssl_error(err, DKIM_ENOMEM, "cannot write the key");
	*pem_r = pem;
	*len_r = (size_t)len;
	return DKIM_OK;
}

/* ---- The public half ------------------------------------------------- */

/* RSA: SubjectPublicKeyInfo DER (RFC 6376 3.6.1); Ed25519: the raw key
 * (RFC 8463 4). *der_r to OPENSSL_free(). */
static int
public_octets(const struct dkim_key *key, unsigned char **der_r,
	      size_t *len_r)
{
	int n;

	if (key->alg == DKIM_RSA_SHA256) {
		*der_r = NULL;
		if ((n = i2d_PUBKEY(key->pkey, der_r)) <= 0)
			return -1;
		*len_r = (size_t)n;
		return 0;
	}
	*len_r = ED25519_RAW;
	if (!(*der_r = OPENSSL_malloc(ED25519_RAW)))
		return -1;
	return EVP_PKEY_get_raw_public_key(key->pkey, *der_r, len_r) > 0 ?
		0 : -1;
}

int
dkim_key_record(const struct dkim_key *key, char **record_r,
		struct ps_error *err)
{
	const char *head = key->alg == DKIM_RSA_SHA256 ?
		"v=DKIM1; k=rsa; p=" : "v=DKIM1; k=ed25519; p=";
	unsigned char *der = NULL;
	size_t len, hlen = strlen(head);
	char *rec = NULL;

	if (public_octets(key, &der, &len) == 0 &&
	    (rec = malloc(hlen + 4 * ((len + 2) / 3) + 1))) {
		memcpy(rec, head, hlen);
		EVP_EncodeBlock((unsigned char *)rec + hlen, der, (int)len);
	}
	OPENSSL_free(der);
	if (!rec)
		return dkim_ssl_error(err, DKIM_ENOMEM, "cannot write the "
				      "public key");
	*record_r = rec;
	return DKIM_OK;
}

enum dkim_alg
dkim_key_alg(const struct dkim_key *key)
{
	return key->alg;
}

void
dkim_key_free(struct dkim_key *key)
{
	if (!key)
		return;
	EVP_PKEY_free(key->pkey);
	free(key);
}

/* ---- Signing --------------------------------------------------------- */

/* RSASSA-PKCS1-v1_5 with SHA-256's DigestInfo (RFC 6376 3.3.1). */
static int
sign_rsa(EVP_PKEY *pkey, const unsigned char *digest, size_t dlen,
	 unsigned char *sig, size_t *len)
{
	EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
	int ok = pc && EVP_PKEY_sign_init(pc) > 0 &&
		 EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PADDING) > 0 &&
		 EVP_PKEY_CTX_set_signature_md(pc, EVP_sha256()) > 0 &&
		 EVP_PKEY_sign(pc, sig, len, digest, dlen) > 0;

	EVP_PKEY_CTX_free(pc);
	return ok;
}

/* PureEdDSA over the SHA-256 hash itself (RFC 8463 3), not Ed25519ph. */
static int
sign_ed25519(EVP_PKEY *pkey, const unsigned char *digest, size_t dlen,
	     unsigned char *sig, size_t *len)
{
	EVP_MD_CTX *mc = EVP_MD_CTX_new();
	int ok = mc && EVP_DigestSignInit(mc, NULL, NULL, NULL, pkey) > 0 &&
		 EVP_DigestSign(mc, sig, len, digest, dlen) > 0;

	EVP_MD_CTX_free(mc);
	return ok;
}

int
dkim_key_sign(const struct dkim_key *key, const unsigned char *digest,
	      size_t digest_len, unsigned char **sig_r, size_t *len_r,
	      struct ps_error *err)
{
	size_t len = (size_t)EVP_PKEY_get_size(key->pkey);
	unsigned char *sig = malloc(len);
	int ok;

	if (!sig)
		return dkim_error(err, DKIM_ENOMEM, "out of memory");
	if (key->alg == DKIM_RSA_SHA256)
		ok = sign_rsa(key->pkey, digest, digest_len, sig, &len);
	else
		ok = sign_ed25519(key->pkey, digest, digest_len, sig, &len);
	if (!ok) {
		free(sig);
		return dkim_ssl_error(err, DKIM_EINVAL, "cannot sign");
	}
	*sig_r = sig;
	*len_r = len;
	return DKIM_OK;
}
