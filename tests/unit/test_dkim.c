/* Unit tests for libpsdkim: canonicalisation (RFC 6376 3.4.5's example,
 * WSP runs, empty and blank-only bodies, missing line ends, bare CR and
 * LF, folded fields), every body fed whole, one octet at a time and cut
 * in two everywhere; RFC 8463 A.3's signature reproduced with its key;
 * signatures the same however the message is cut; the field's tags,
 * h= and folding; the header bound; names; keys that must be refused.
 * tests/integration/test_dkim.py verifies signatures with dkimpy. Links
 * modules/dkim/libpsdkim.la alone. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <openssl/pem.h>
#include <openssl/sha.h>

#include "dkim.h"
#include "dkim_private.h"

#define T0 1700000000

struct out {
	char buf[8192];
	size_t len;
};

static void
collect(void *arg, const void *data, size_t len)
{
	struct out *o = arg;

	assert_true(len <= sizeof(o->buf) - o->len);
	memcpy(o->buf + o->len, data, len);
	o->len += len;
}

/* A temporary file holding len octets of data: its name, to unlink. */
static char *
temp_file(const void *data, size_t len)
{
	char *path = strdup("/tmp/test_dkim.XXXXXX");
	int fd;

	assert_non_null(path);
	assert_true((fd = mkstemp(path)) >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
	return path;
}

/* ---- Canonicalisation ------------------------------------------------ */

static void
check_header(enum dkim_canon c, const char *field, const char *want)
{
	struct out o = {.len = 0};

	dkim_canon_header(c, field, strlen(field), collect, &o);
	assert_int_equal(o.len, strlen(want));
	assert_memory_equal(o.buf, want, o.len);
}

static void
body_cut(enum dkim_canon c, const char *in, size_t len, size_t cut,
	 struct out *o)
{
	struct dkim_body b;

	o->len = 0;
	dkim_body_init(&b, c, collect, o);
	dkim_body_feed(&b, in, cut);
	dkim_body_feed(&b, in + cut, len - cut);
	dkim_body_end(&b);
}

/* Whole, cut in two at every offset, and one octet at a time. */
static void
check_body(enum dkim_canon c, const char *in, const char *want)
{
	size_t len = strlen(in);
	struct dkim_body b;
	struct out o;

	for (size_t cut = 0; cut <= len; cut++) {
		body_cut(c, in, len, cut, &o);
		if (o.len != strlen(want) || memcmp(o.buf, want, o.len) != 0)
			fail_msg("body \"%s\" cut at %zu: \"%.*s\"", in, cut,
				 (int)o.len, o.buf);
	}
	o.len = 0;
	dkim_body_init(&b, c, collect, &o);
	for (size_t i = 0; i < len; i++)
		dkim_body_feed(&b, in + i, 1);
	dkim_body_end(&b);
	assert_int_equal(o.len, strlen(want));
	assert_memory_equal(o.buf, want, o.len);
}

/* RFC 6376 3.4.5. */
static void
test_rfc_example(void **state)
{
	const char *body = " C \r\nD \t E\r\n\r\n\r\n";

	check_header(DKIM_CANON_RELAXED, "A: X", "a:X");
	check_header(DKIM_CANON_RELAXED, "B : Y\t\r\n\tZ  ", "b:Y Z");
	check_body(DKIM_CANON_RELAXED, body, " C\r\nD E\r\n");
	check_header(DKIM_CANON_SIMPLE, "A: X", "A: X");
	check_header(DKIM_CANON_SIMPLE, "B : Y\t\r\n\tZ  ",
		     "B : Y\t\r\n\tZ  ");
	check_body(DKIM_CANON_SIMPLE, body, " C \r\nD \t E\r\n");
}

static void
test_header_relaxed(void **state)
{
	enum dkim_canon r = DKIM_CANON_RELAXED;

	check_header(r, "SUBJECT:   hello \t  world  ", "subject:hello world");
	check_header(r, "To: a@b.example,\r\n\t c@d.example,\r\n  e@f",
		     "to:a@b.example, c@d.example, e@f");
	check_header(r, "Subject:\r\n folded at once",
		     "subject:folded at once");
	check_header(r, "X-Empty:", "x-empty:");
	check_header(r, "X-Blank: \t\r\n  ", "x-blank:");
	/* Only the name is lowered; a bare CR in a value stays. */
	check_header(r, "X-A: MiXeD\rCase", "x-a:MiXeD\rCase");
	check_header(r, "From:a:b", "from:a:b");
}

/* Bodies and what each canonicalisation makes of them. */
static void
test_bodies(void **state)
{
	static const struct {
		const char *in, *relaxed, *simple;
	} cases[] = {
		/* An empty body: nothing for relaxed, CR LF for simple
		 * (3.4.3, 3.4.4). */
		{"", "", "\r\n"},
		{"\r\n", "", "\r\n"},
		{"\r\n\r\n\r\n", "", "\r\n"},
		{"  \r\n\t\r\n", "", "  \r\n\t\r\n"},
		{"   ", "", "   \r\n"},
		/* A last line without its CR LF gets one. */
		{"abc", "abc\r\n", "abc\r\n"},
		{"abc \t ", "abc\r\n", "abc \t \r\n"},
		{" \t x  y \r\n", " x y\r\n", " \t x  y \r\n"},
		/* Inner empty lines stay, trailing ones go. */
		{"a\r\n\r\n \r\nb\r\n\r\n", "a\r\n\r\n\r\nb\r\n",
		 "a\r\n\r\n \r\nb\r\n"},
		/* A bare LF is a line end, a bare CR an octet. */
		{"a\nb\n\n", "a\r\nb\r\n", "a\r\nb\r\n"},
		{"a\rb\r\n", "a\rb\r\n", "a\rb\r\n"},
		{"a\r", "a\r\r\n", "a\r\r\n"},
		/* 8-bit octets are octets. */
		{"\xc3\xa9t\xc3\xa9 \x80\r\n", "\xc3\xa9t\xc3\xa9 \x80\r\n",
		 "\xc3\xa9t\xc3\xa9 \x80\r\n"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		check_body(DKIM_CANON_RELAXED, cases[i].in, cases[i].relaxed);
		check_body(DKIM_CANON_SIMPLE, cases[i].in, cases[i].simple);
	}
}

/* Many empty lines cost a counter, not memory. */
static void
test_body_blank_run(void **state)
{
	struct out o = {.len = 0};
	struct dkim_body b;
	char blank[1024];

	for (size_t i = 0; i < sizeof(blank); i += 2)
		memcpy(blank + i, "\r\n", 2);
	dkim_body_init(&b, DKIM_CANON_RELAXED, collect, &o);
	dkim_body_feed(&b, "x\r\n", 3);
	for (int i = 0; i < 100000; i++)
		dkim_body_feed(&b, blank, sizeof(blank));
	dkim_body_end(&b);
	assert_int_equal(o.len, 3);
}

/* ---- Keys ------------------------------------------------------------ */

/* RFC 8463 A.2's private key (the seed), as PKCS#8. */
static const char rfc8463_pem[] =
	"-----BEGIN PRIVATE KEY-----\n"
	"MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g\n"
	"-----END PRIVATE KEY-----\n";

static struct dkim_key *
load_text(const char *pem)
{
	struct ps_error err = {""};
	struct dkim_key *key = NULL;
	char *path = temp_file(pem, strlen(pem));
	int r = dkim_key_load(path, &key, &err);

	unlink(path);
	free(path);
	if (r < 0)
		fail_msg("%s", err.msg);
	return key;
}

/* A key OpenSSL writes to a file; dkim_key_load's message for it. */
static void
refused(EVP_PKEY *pkey, const EVP_CIPHER *cipher, const char *why)
{
	struct ps_error err = {""};
	struct dkim_key *key = NULL;
	char path[] = "/tmp/test_dkim.XXXXXX";
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");

	assert_non_null(pkey);
	assert_non_null(f);
	assert_true(PEM_write_PrivateKey(f, pkey, cipher, NULL, 0, NULL,
					 (void *)"secret") > 0);
	fclose(f);
	EVP_PKEY_free(pkey);
	assert_int_equal(dkim_key_load(path, &key, &err), DKIM_EINVAL);
	unlink(path);
	if (!strstr(err.msg, why))
		fail_msg("'%s' lacks '%s'", err.msg, why);
}

static void
test_bad_keys(void **state)
{
	struct ps_error err = {""};
	struct dkim_key *key = NULL;
	char *big = calloc(1, DKIM_KEY_FILE_MAX + 1), *path;

	assert_int_equal(dkim_key_load("/nonexistent/k.pem", &key, &err),
			 DKIM_EIO);
	assert_non_null(strstr(err.msg, "/nonexistent/k.pem: No such file"));
	path = temp_file("hello\n", 6);
	assert_int_equal(dkim_key_load(path, &key, &err), DKIM_EINVAL);
	assert_non_null(strstr(err.msg, "no unencrypted PEM private key"));
	unlink(path);
	free(path);
	assert_non_null(big);
	path = temp_file(big, DKIM_KEY_FILE_MAX + 1);
	assert_int_equal(dkim_key_load(path, &key, &err), DKIM_EINVAL);
	assert_non_null(strstr(err.msg, "longer than"));
	unlink(path);
	free(path);
	free(big);
	refused(EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)512), NULL,
		"an RSA key of 512 bits");
	refused(EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256"), NULL,
		"not an RSA or Ed25519 key");
	/* Encrypted: refused, nobody asked for a passphrase. */
	refused(EVP_PKEY_Q_keygen(NULL, NULL, "ED25519"), EVP_aes_128_cbc(),
		"no unencrypted PEM private key");
	assert_int_equal(dkim_key_generate(DKIM_RSA_SHA256, 512, &key, &err),
			 DKIM_EINVAL);
	assert_null(key);
}

static void
test_records(void **state)
{
	static const char rsa1024[] = "v=DKIM1; k=rsa; "
		"p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQ";
	struct dkim_key *key = load_text(rfc8463_pem), *again;
	struct ps_error err = {""};
	char *rec, *pem;
	size_t len;

	assert_int_equal(dkim_key_alg(key), DKIM_ED25519_SHA256);
	assert_int_equal(dkim_key_record(key, &rec, &err), DKIM_OK);
	/* RFC 8463 A.2's DNS record. */
	assert_string_equal(rec, "v=DKIM1; k=ed25519; "
			    "p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=");
	free(rec);
	assert_int_equal(dkim_key_pem(key, &pem, &len, &err), DKIM_OK);
	assert_int_equal(len, strlen(rfc8463_pem));
	assert_memory_equal(pem, rfc8463_pem, len);
	free(pem);
	dkim_key_free(key);

	assert_int_equal(dkim_key_generate(DKIM_RSA_SHA256, 1024, &key, &err),
			 DKIM_OK);
	assert_int_equal(dkim_key_record(key, &rec, &err), DKIM_OK);
	/* SubjectPublicKeyInfo of 1024-bit RSA: 162 octets, 216 base64. */
	assert_int_equal(strncmp(rec, rsa1024, strlen(rsa1024)), 0);
	assert_int_equal(strlen(rec), 18 + 216);
	free(rec);
	assert_int_equal(dkim_key_pem(key, &pem, &len, &err), DKIM_OK);
	pem = realloc(pem, len + 1);
	pem[len] = '\0';
	again = load_text(pem);
	assert_int_equal(dkim_key_alg(again), DKIM_RSA_SHA256);
	free(pem);
	dkim_key_free(again);
	dkim_key_free(key);
}

/* ---- Signing --------------------------------------------------------- */

/* RFC 8463 A.3: its header data, hashed and signed with its key, gives
 * its b= (PureEdDSA over the SHA-256 hash, not Ed25519ph). */
static void
test_rfc8463_signature(void **state)
{
	static const char *const fields[] = {
		"From: Joe SixPack <joe@football.example.com>",
		"To: Suzie Q <suzie@shopping.example.net>",
		"Subject: Is dinner ready?",
		"Date: Fri, 11 Jul 2003 21:00:37 -0700 (PDT)",
		"Message-ID: <20030712040037.46341.5F8J@football.example.com>",
		"DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed;\r\n"
		" d=football.example.com; i=@football.example.com;\r\n"
		" q=dns/txt; s=brisbane; t=1528637909; h=from : to :\r\n"
		" subject : date : message-id : from : subject : date;\r\n"
		" bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;\r\n b=",
	};
	struct dkim_key *key = load_text(rfc8463_pem);
	unsigned char digest[32], *sig;
	struct ps_error err = {""};
	struct out o = {.len = 0};
	char b64[128];
	size_t len;

	for (size_t i = 0; i < 6; i++) {
		dkim_canon_header(DKIM_CANON_RELAXED, fields[i],
				  strlen(fields[i]), collect, &o);
		if (i < 5)
			collect(&o, "\r\n", 2);
	}
	SHA256((unsigned char *)o.buf, o.len, digest);
	assert_int_equal(dkim_key_sign(key, digest, 32, &sig, &len, &err),
			 DKIM_OK);
	EVP_EncodeBlock((unsigned char *)b64, sig, (int)len);
	assert_string_equal(b64, "/gCrinpcQOoIfuHNQIbq4pgh9kyIK3AQUdt9OdqQe"
			    "hSwhEIug4D11BusFa3bT3FY5OsU7ZbnKELq+eXdp1Q1Dw==");
	free(sig);
	dkim_key_free(key);
}

static const char message[] =
	"Received: from x by y; Tue, 14 Nov 2023 22:13:20 +0000\r\n"
	"From: Joe SixPack <joe@football.example.com>\r\n"
	"To: Suzie Q <suzie@shopping.example.net>,\r\n"
	"\tBob <bob@example.net>\r\n"
	"Subject: Is dinner ready?\r\n"
	"Date: Fri, 11 Jul 2003 21:00:37 -0700 (PDT)\r\n"
	"Message-ID: <20030712040037.46341.5F8J@football.example.com>\r\n"
	"X-Mailer: nothing signed\r\n"
	"\r\n"
	"Hi.\r\n"
	"\r\n"
	"We lost the game.  Are you hungry yet?\r\n"
	"\r\n"
	"Joe.\r\n"
	"\r\n";

/* Sign len octets of msg fed in pieces: chunk octets each, or random
 * sizes for chunk 0. The field, to free(), or NULL with err set. */
static char *
sign(const struct dkim_key *key, const struct dkim_sign_options *opt,
     const char *msg, size_t len, size_t chunk, struct ps_error *err)
{
	struct dkim_sign *s;
	char *field = NULL;
	size_t n;

	assert_int_equal(dkim_sign_new(key, "football.example.com",
				       "brisbane", opt, &s, err), DKIM_OK);
	for (size_t i = 0; i < len; i += n) {
		n = chunk ? chunk : (size_t)rand() % 40 + 1;
		if (n > len - i)
			n = len - i;
		if (dkim_sign_update(s, msg + i, n, err) < 0)
			break;
	}
	if (dkim_sign_finish(s, &field, err) < 0)
		field = NULL;
	dkim_sign_free(s);
	return field;
}

static void
test_cuts(void **state)
{
	struct dkim_sign_options opt = {.time = T0, .expire = 3600};
	struct ps_error err = {""};
	size_t len = strlen(message);
	struct dkim_key *keys[2];
	char *whole, *other;

	keys[0] = load_text(rfc8463_pem);
	assert_int_equal(dkim_key_generate(DKIM_RSA_SHA256, 1024, &keys[1],
					   &err), DKIM_OK);
	srand(7);
	/* Both signatures are deterministic: Ed25519 and PKCS #1 v1.5. */
	for (int k = 0; k < 2; k++) {
		whole = sign(keys[k], &opt, message, len, len, &err);
		assert_non_null(whole);
		for (size_t chunk = 0; chunk < 4; chunk++) {
			other = sign(keys[k], &opt, message, len, chunk, &err);
			assert_non_null(other);
			assert_string_equal(whole, other);
			free(other);
		}
		for (int i = 0; i < 20; i++) {
			other = sign(keys[k], &opt, message, len, 0, &err);
			assert_non_null(other);
			assert_string_equal(whole, other);
			free(other);
		}
		free(whole);
		dkim_key_free(keys[k]);
	}
}

/* The field without its white space: what its tags say. */
static void
unfold(const char *field, char *out)
{
	for (; *field; field++)
		if (!strchr(" \t\r\n", *field))
			*out++ = *field;
	*out = '\0';
}

static void
test_field(void **state)
{
	struct dkim_sign_options opt = {.time = T0, .expire = 86400};
	struct dkim_key *key = load_text(rfc8463_pem);
	struct ps_error err = {""};
	const char *line, *end;
	char *field, flat[2048];

	field = sign(key, &opt, message, strlen(message), 0, &err);
	assert_non_null(field);
	unfold(field, flat);
	assert_non_null(strstr(flat, "DKIM-Signature:v=1;a=ed25519-sha256;"
			       "c=relaxed/relaxed;d=football.example.com;"
			       "s=brisbane;"));
	assert_non_null(strstr(flat, "t=1700000000;"));
	assert_non_null(strstr(flat, "x=1700086400;"));
	/* From, To, Cc, Subject and Reply-To over-signed even when absent;
	 * Date and Message-ID when present; Received and X-Mailer not. */
	assert_non_null(strstr(flat, "h=from:from:reply-to:subject:subject:"
			       "date:date:to:to:cc:message-id:message-id;"));
	/* RFC 8463's body: its bh=. */
	assert_non_null(strstr(flat, "bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIk"
			       "fJVOzv8=;"));
	/* b= last: 64 octets of Ed25519 signature. */
	assert_int_equal(strlen(strstr(strstr(flat, "bh="), ";b=")), 3 + 88);
	/* Lines of at most 78 octets, each fold CR LF TAB, CR LF last. */
	for (line = field; *line; line = end + 2) {
		end = strstr(line, "\r\n");
		assert_non_null(end);
		assert_true(end - line <= 78);
		assert_true(end[2] == '\0' || end[2] == '\t');
	}
	free(field);
	dkim_key_free(key);
}

static void
test_shapes(void **state)
{
	struct dkim_sign_options opt = {.header_canon = DKIM_CANON_SIMPLE,
					.body_canon = DKIM_CANON_SIMPLE};
	struct dkim_key *key = load_text(rfc8463_pem);
	struct ps_error err = {""};
	char *field, flat[2048];
	const char *m;

	/* A header without a body, its last line without CR LF; simple's
	 * empty body is CR LF. Two To fields: both, and one more. */
	m = "from: a@b\r\nTo: c@d\nTO: e@f";
	field = sign(key, &opt, m, strlen(m), 1, &err);
	assert_non_null(field);
	unfold(field, flat);
	assert_non_null(strstr(flat, "c=simple/simple;"));
	assert_non_null(strstr(flat, "t=0;"));
	assert_null(strstr(flat, "x="));
	assert_non_null(strstr(flat, "h=from:from:reply-to:subject:to:to:to:"
			       "cc;"));
	assert_non_null(strstr(flat, "bh=frcCV1k9oG9oKj3dpUqdJg1PxRT2RSN/XKdLC"
			       "PjaYaY=;"));
	free(field);
	dkim_key_free(key);
}

static void
test_missing_from(void **state)
{
	struct dkim_key *key = load_text(rfc8463_pem);
	struct ps_error err = {""};
	const char *m = "To: a@b\r\nFromage: no\r\n X-From: no\r\n\r\n"
			"From: in the body\r\n";

	assert_null(sign(key, NULL, m, strlen(m), 3, &err));
	assert_non_null(strstr(err.msg, "no From field"));
	assert_null(sign(key, NULL, "", 0, 1, &err));
	assert_non_null(strstr(err.msg, "no From field"));
	dkim_key_free(key);
}

static void
test_header_bound(void **state)
{
	struct dkim_sign_options opt = {.max_header = 64};
	struct dkim_key *key = load_text(rfc8463_pem);
	struct ps_error err = {""};
	struct dkim_sign *s;
	char *field;
	const char *m = "From: a@b\r\nSubject: 0123456789012345678901234567"
			"890123456789\r\n\r\nbody\r\n";

	/* 64 octets of header fit, its empty line included... */
	field = sign(key, &opt, m, strlen(m), 5, &err);
	assert_non_null(field);
	free(field);
	/* ...one more does not, and the signer stays failed. */
	opt.max_header = 63;
	assert_int_equal(dkim_sign_new(key, "b.example", "s", &opt, &s, &err),
			 DKIM_OK);
	assert_int_equal(dkim_sign_update(s, m, strlen(m), &err), DKIM_EINVAL);
	assert_string_equal(err.msg, "header longer than 63 octets");
	assert_int_equal(dkim_sign_update(s, "x", 1, &err), DKIM_EINVAL);
	assert_int_equal(dkim_sign_finish(s, &field, &err), DKIM_EINVAL);
	dkim_sign_free(s);
	dkim_key_free(key);
}

static void
test_names(void **state)
{
	static const char *const good[] = {"example.org", "a", "a-1.b2.c",
					   "2023", "xn--bcher-kva.example"};
	static const char *const bad[] = {"", ".", "a.", ".a", "a..b", "-a",
					  "a-", "a_b", "a b", "a;b", "a/b",
					  "1234567890123456789012345678901234"
					  "567890123456789012345678901234"};
	struct ps_error err = {""};
	struct dkim_key *key = load_text(rfc8463_pem);
	struct dkim_sign *s = NULL;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_int_equal(dkim_check_name("domain", good[i], &err), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(dkim_check_name("domain", bad[i], &err),
				 DKIM_EINVAL);
	assert_int_equal(dkim_sign_new(key, "example.org", "s;x=1", NULL, &s,
				       &err), DKIM_EINVAL);
	assert_string_equal(err.msg, "selector 's;x=1' is not a domain name "
			    "(letters, digits, hyphens, dots)");
	assert_null(s);
	dkim_key_free(key);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc_example),
		cmocka_unit_test(test_header_relaxed),
		cmocka_unit_test(test_bodies),
		cmocka_unit_test(test_body_blank_run),
		cmocka_unit_test(test_bad_keys),
		cmocka_unit_test(test_records),
		cmocka_unit_test(test_rfc8463_signature),
		cmocka_unit_test(test_cuts),
		cmocka_unit_test(test_field),
		cmocka_unit_test(test_shapes),
		cmocka_unit_test(test_missing_from),
		cmocka_unit_test(test_header_bound),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
