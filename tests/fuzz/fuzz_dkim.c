/* libFuzzer target for libpsdkim (modules/dkim). The first byte picks
 * the key (Ed25519 or RSA, both made once) and the canonicalisation,
 * and with the second seeds the cut positions and the header bound (the
 * default, or 1 KiB so that libFuzzer's inputs reach it). The rest is a
 * message, signed fed whole and fed in random pieces: both must succeed
 * or fail alike with a message, and give the same field (Ed25519 and
 * PKCS #1 v1.5 signatures are deterministic), of lines of at most 78
 * octets folded with CR LF TAB and ending in CR LF. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dkim.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x) ((x) ? (void)0 : abort())

static struct dkim_key *keys[2];

static uint32_t
next(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static void
make_keys(void)
{
	struct ps_error err = {""};

	CHECK(dkim_key_generate(DKIM_ED25519_SHA256, 0, &keys[0], &err) == 0);
	CHECK(dkim_key_generate(DKIM_RSA_SHA256, 1024, &keys[1], &err) == 0);
}

/* The field for msg fed in pieces (whole when seed is 0), or NULL. */
static char *
sign(const struct dkim_sign_options *opt, const struct dkim_key *key,
     const uint8_t *msg, size_t len, uint32_t seed)
{
	struct ps_error err = {""};
	struct dkim_sign *s;
	char *field = NULL;
	size_t n;
	int r = 0;

	CHECK(dkim_sign_new(key, "example.org", "fuzz", opt, &s, &err) == 0);
	for (size_t i = 0; r == 0 && i < len; i += n) {
		n = seed ? next(&seed) % 67 + 1 : len;
		if (n > len - i)
			n = len - i;
		r = dkim_sign_update(s, msg + i, n, &err);
	}
	if (r == 0)
		r = dkim_sign_finish(s, &field, &err);
	CHECK(r == 0 ? field != NULL : r < 0 && err.msg[0]);
	dkim_sign_free(s);
	return field;
}

static void
check_shape(const char *field)
{
	const char *line = field, *end;

	CHECK(strncmp(field, "DKIM-Signature: v=1; a=", 23) == 0);
	while (*line) {
		CHECK((end = strstr(line, "\r\n")) != NULL);
		CHECK(end - line <= 78);
		CHECK(!memchr(line, '\r', (size_t)(end - line)));
		CHECK(!memchr(line, '\n', (size_t)(end - line)));
		line = end + 2;
		CHECK(*line == '\0' || *line == '\t');
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dkim_sign_options opt = {.time = 1700000000, .expire = 60};
	char *whole, *cut;
	uint32_t seed;

	if (size < 2)
		return 0;
	if (!keys[0])
		make_keys();
	opt.header_canon = data[0] & 1 ? DKIM_CANON_SIMPLE : DKIM_CANON_RELAXED;
	opt.body_canon = data[0] & 2 ? DKIM_CANON_SIMPLE : DKIM_CANON_RELAXED;
	opt.max_header = data[0] & 8 ? 1024 : 0;
	seed = ((uint32_t)data[0] << 8 | data[1]) | 1;
	whole = sign(&opt, keys[data[0] >> 2 & 1], data + 2, size - 2, 0);
	cut = sign(&opt, keys[data[0] >> 2 & 1], data + 2, size - 2, seed);
	CHECK(!whole == !cut);
	if (whole) {
		CHECK(strcmp(whole, cut) == 0);
		check_shape(whole);
	}
	free(whole);
	free(cut);
	return 0;
}
