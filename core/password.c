/* Password hashing and checking with libxcrypt's crypt_r (crypt(5)):
 * yescrypt for new hashes, and yescrypt, sha512-crypt and bcrypt accepted
 * when checking, with a constant-time comparison and the same work spent
 * for users that do not exist (no timing oracle, RFC 4422 section 9). */
#include "config.h"

#include <crypt.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "log.h"
#include "password.h"

/* What an unknown user's check costs: a yescrypt hash of the default
 * cost (of a password nobody knows; its value does not matter). */
static const char dummy_hash[] = "$y$j9T$F5Jx5fExrKuJdvEXM8wbl.$"
				 "8pLKuZC.PlG/46z3J.76m9W1pkt5QuMMjTowlkKFHAD";

static const char *const accepted[] = {"$y$", "$6$", "$2b$", "$2y$", NULL};

/* struct crypt_data is over 32 KiB: too big for a pool thread's stack
 * frame, so each call takes one from the heap. calloc zeroes it, which
 * is how crypt_r wants a fresh one. */
static struct crypt_data *
data_new(void)
{
	return calloc(1, sizeof(struct crypt_data));
}

/* Wiped: it holds the password and the derived hash. */
static void
data_free(struct crypt_data *d)
{
	explicit_bzero(d, sizeof(*d));
	free(d);
}

int
ps_password_hash(const char *password, char *buf, size_t len,
		 struct ps_error *err)
{
	char salt[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data *d;
	const char *h;
	int r = 0;

	if (!password || len < 128)
		return PS_EINVAL;
	/* Count 0 and no random bytes: libxcrypt's default cost, salt from
	 * the kernel's generator. */
	if (!crypt_gensalt_rn("$y$", 0, NULL, 0, salt, sizeof(salt)))
		return ps_error_set(err, "password hash: no yescrypt salt");
	if (!(d = data_new()))
		return ps_error_set(err, "password hash: out of memory");
	h = crypt_r(password, salt, d);
	/* On failure crypt_r returns NULL or a token starting with '*'. */
	if (!h || h[0] == '*')
		r = ps_error_set(err, "password hash: crypt failed");
	else if (strlen(h) >= len)
		r = ps_error_set(err, "password hash: buffer too small");
	else
		memcpy(buf, h, strlen(h) + 1);
	data_free(d);
	return r;
}

static int
accepted_kind(const char *hash)
{
	for (const char *const *p = accepted; *p; p++)
		if (strncmp(hash, *p, strlen(*p)) == 0)
			return 1;
	return 0;
}

int
ps_password_verify(const char *hash, const char *password)
{
	struct crypt_data *d = data_new();
	const char *setting = hash && accepted_kind(hash) ? hash : dummy_hash;
	const char *h;
	int ok = 0;

	if (!d)
		return 0;
	h = crypt_r(password ? password : "", setting, d);
	if ((!h || h[0] == '*') && setting != dummy_hash)
		/* A malformed hash of an accepted kind may fail fast: spend
		 * the dummy's work instead. */
		crypt_r("", dummy_hash, d);
	else if (h && setting == hash && password &&
		 strlen(h) == strlen(hash))
		/* Lengths are no secret: a hash's length follows its kind. */
		ok = CRYPTO_memcmp(h, hash, strlen(hash)) == 0;
	data_free(d);
	return ok;
}
