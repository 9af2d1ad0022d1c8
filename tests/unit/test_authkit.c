/* Unit tests for libpsauth, the part both auth backends share: names
 * canonicalised and refused with the exact messages poshtactl shows
 * (every size bound at and past its limit, bytes outside ASCII and
 * control bytes quoted as '?'), hash checks, the ps_auth_ops messages,
 * and the alias walk's bookkeeping: seen once, the depth and count
 * bounds, found addresses once each in order, reset and delivery. Links
 * modules/authkit/libpsauth.la alone. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "authkit.h"

static void
expect_name(const char *in, const char *want)
{
	char out[PS_AUTH_NAME_MAX + 1];
	struct ps_error err = {0};

	assert_int_equal(authkit_name_address(in, out, &err), 0);
	assert_string_equal(out, want);
}

static void
expect_bad(int (*fn)(const char *, char *, struct ps_error *),
	   const char *in, const char *msg)
{
	char out[PS_AUTH_NAME_MAX + 1];
	struct ps_error err = {0};

	assert_int_equal(fn(in, out, &err), PS_EINVAL);
	assert_string_equal(err.msg, msg);
}

static int
domain_fn(const char *in, char *out, struct ps_error *err)
{
	return authkit_name_domain(in, out, err);
}

static void
test_names_good(void **state)
{
	char out[PS_AUTH_NAME_MAX + 1];
	struct ps_error err = {0};

	(void)state;
	expect_name("Alice@Example.COM", "alice@example.com");
	expect_name("a.b+c!#$%&'*/=?^_`{|}~-@x-1.y",
		    "a.b+c!#$%&'*/=?^_`{|}~-@x-1.y");
	assert_int_equal(authkit_name_domain("MX.Example.org", out, &err), 0);
	assert_string_equal(out, "mx.example.org");
	assert_int_equal(authkit_name_alias("@Example.ORG", out, &err), 0);
	assert_string_equal(out, "@example.org");
	assert_int_equal(authkit_name_alias("Bob@Example.ORG", out, &err), 0);
	assert_string_equal(out, "bob@example.org");
	assert_string_equal(authkit_name_domain_of("bob@example.org"),
			    "example.org");
	assert_string_equal(authkit_name_domain_of("@example.org"),
			    "example.org");
}

static void
test_names_bad(void **state)
{
	(void)state;
	expect_bad(authkit_name_address, "alice",
		   "bad address 'alice': no '@domain'");
	expect_bad(authkit_name_address, "@example.org",
		   "bad address '@example.org': empty local part");
	expect_bad(authkit_name_address, ".a@example.org",
		   "bad address '.a@example.org': local part starting or "
		   "ending with '.'");
	expect_bad(authkit_name_address, "a..b@example.org",
		   "bad address 'a..b@example.org': '..' in the local part");
	expect_bad(authkit_name_address, "a b@example.org",
		   "bad address 'a b@example.org': local part holds a "
		   "character outside RFC 5322 atext");
	expect_bad(authkit_name_address, "a\x01\xc3\xa9@x.org",
		   "bad address 'a???@x.org': local part holds a character "
		   "outside RFC 5322 atext");
	expect_bad(authkit_name_address, "a@",
		   "bad address 'a@': empty domain");
	expect_bad(authkit_name_address, "a@-x.org",
		   "bad address 'a@-x.org': label starting with '-'");
	expect_bad(authkit_name_address, "a@x-.org",
		   "bad address 'a@x-.org': empty label or label ending in "
		   "'-'");
	expect_bad(authkit_name_address, "a@x..org",
		   "bad address 'a@x..org': empty label or label ending in "
		   "'-'");
	expect_bad(authkit_name_address, "a@x.org.",
		   "bad address 'a@x.org.': empty label or label ending in "
		   "'-'");
	expect_bad(domain_fn, "x_y.org",
		   "bad domain 'x_y.org': only letters, digits, '-' and '.' "
		   "allowed");
	expect_bad(domain_fn, "", "bad domain '': empty domain");
	expect_bad(authkit_name_alias, "@", "bad domain '': empty domain");
}

static void
test_names_bounds(void **state)
{
	char in[600], want[600], out[PS_AUTH_NAME_MAX + 1];
	struct ps_error err = {0};

	(void)state;
	/* A local part of 64 is fine, 65 is not. */
	memset(in, 'a', 64);
	strcpy(in + 64, "@x.org");
	expect_name(in, in);
	memset(in, 'a', 65);
	strcpy(in + 65, "@x.org");
	assert_int_equal(authkit_name_address(in, out, &err), PS_EINVAL);
	assert_non_null(strstr(err.msg, ": local part longer than 64 "
			       "octets"));
	/* The quote is cut at 64 octets. */
	memcpy(want, "bad address '", 13);
	memset(want + 13, 'a', 64);
	strcpy(want + 77, "...': local part longer than 64 octets");
	assert_string_equal(err.msg, want);
	/* A label of 63 is fine, 64 is not. */
	strcpy(in, "a@");
	memset(in + 2, 'b', 63);
	strcpy(in + 65, ".org");
	expect_name(in, in);
	memset(in + 2, 'b', 64);
	strcpy(in + 66, ".org");
	assert_int_equal(authkit_name_address(in, out, &err), PS_EINVAL);
	assert_non_null(strstr(err.msg, ": label longer than 63 octets"));
	/* A domain of 255 is fine, 256 is not: labels of 63 and dots. */
	for (int i = 0; i < 4; i++) {
		memset(in + i * 64, 'c', 63);
		in[i * 64 + 63] = '.';
	}
	in[255] = '\0';
	in[254] = 'd';
	in[253] = '.';
	assert_int_equal(authkit_name_domain(in, out, &err), 0);
	in[253] = 'e';
	in[255] = 'f';
	in[256] = '\0';
	assert_int_equal(authkit_name_domain(in, out, &err), PS_EINVAL);
	assert_non_null(strstr(err.msg, ": domain longer than 255 octets"));
	/* An address past 320 octets. */
	memset(in, 'a', 64);
	in[64] = '@';
	memset(in + 65, 'b', 300);
	in[365] = '\0';
	assert_int_equal(authkit_name_address(in, out, &err), PS_EINVAL);
	assert_non_null(strstr(err.msg, ": longer than 320 octets"));
}

static void
test_hash(void **state)
{
	char big[AUTHKIT_HASH_MAX + 2];
	struct ps_error err = {0};
	char *copy;

	(void)state;
	assert_int_equal(authkit_hash_check("$y$j9T$abc$def", &err), 0);
	memset(big, 'x', AUTHKIT_HASH_MAX);
	big[AUTHKIT_HASH_MAX] = '\0';
	assert_int_equal(authkit_hash_check(big, &err), 0);
	big[AUTHKIT_HASH_MAX] = 'x';
	big[AUTHKIT_HASH_MAX + 1] = '\0';
	assert_int_equal(authkit_hash_check(big, &err), PS_EINVAL);
	assert_string_equal(err.msg, "password hash empty or longer than "
			    "512 bytes");
	assert_int_equal(authkit_hash_check("", &err), PS_EINVAL);
	assert_string_equal(err.msg, "password hash empty or longer than "
			    "512 bytes");
	static const char *const bad[] = {"a b", "a\tb", "a\x7f", "a\xc3\xa9"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		assert_int_equal(authkit_hash_check(bad[i], &err), PS_EINVAL);
		assert_string_equal(err.msg, "password hash holds a space or "
				    "control byte");
	}
	authkit_hash_free(NULL);
	copy = strdup("$6$salt$hash");
	assert_non_null(copy);
	authkit_hash_free(copy);
}

static void
test_fail(void **state)
{
	struct ps_error err = {0};

	(void)state;
	assert_int_equal(authkit_fail(&err, PS_AUTH_EDENIED, "%s %d", "x", 1),
			 PS_AUTH_EDENIED);
	assert_string_equal(err.msg, "x 1");
	assert_int_equal(authkit_no_domain(&err, "example.org"), PS_ENOENT);
	assert_string_equal(err.msg, "no domain example.org (add the domain "
			    "first)");
	assert_int_equal(authkit_user_changed(0, "a@x.org", &err), PS_ENOENT);
	assert_string_equal(err.msg, "no user a@x.org");
	assert_int_equal(authkit_user_changed(1, "a@x.org", &err), 0);
	assert_int_equal(authkit_user_changed(PS_EIO, "a@x.org", &err),
			 PS_EIO);
	assert_int_equal(authkit_user_added(1, "a@x.org", &err), 0);
	assert_int_equal(authkit_user_added(PS_EEXIST, "a@x.org", &err),
			 PS_EEXIST);
	assert_string_equal(err.msg, "user a@x.org exists");
	assert_int_equal(authkit_user_added(PS_ENOENT, "a@x.org", &err),
			 PS_ENOENT);
	assert_string_equal(err.msg, "no domain x.org (add the domain first)");
	assert_int_equal(authkit_user_added(PS_EIO, "a@x.org", &err), PS_EIO);
	assert_int_equal(authkit_alias_added(1, "@x.org", "b@y.org", &err), 0);
	assert_int_equal(authkit_alias_added(PS_EEXIST, "@x.org", "b@y.org",
					     &err), PS_EEXIST);
	assert_string_equal(err.msg, "alias @x.org -> b@y.org exists");
	assert_int_equal(authkit_alias_added(PS_ENOENT, "a@x.org", "b@y.org",
					     &err), PS_ENOENT);
	assert_string_equal(err.msg, "no domain x.org (add the domain first)");
	assert_int_equal(authkit_alias_added(PS_EIO, "a@x.org", "b@y.org",
					     &err), PS_EIO);
}

static void
test_walk_seen_depth(void **state)
{
	struct authkit_walk w;
	struct ps_error err = {0};

	(void)state;
	assert_int_equal(authkit_walk_init(&w, &err), 0);
	/* a -> b -> a: the loop stops at the second a. */
	assert_int_equal(authkit_walk_enter(&w, "a@x.org", 0), 1);
	assert_int_equal(authkit_walk_enter(&w, "b@x.org", 1), 1);
	assert_int_equal(authkit_walk_enter(&w, "a@x.org", 2), 0);
	/* Seen wins over depth: nothing to do, no error. */
	assert_int_equal(authkit_walk_enter(&w, "b@x.org", 99), 0);
	assert_int_equal(authkit_walk_enter(&w, "c@x.org",
					    AUTHKIT_ALIAS_DEPTH), 1);
	assert_int_equal(authkit_walk_enter(&w, "d@x.org",
					    AUTHKIT_ALIAS_DEPTH + 1), PS_EFAIL);
	assert_string_equal(err.msg, "aliases nested deeper than 8 at "
			    "d@x.org");
	assert_int_equal(authkit_walk_mark(&w, "@x.org"), 1);
	assert_int_equal(authkit_walk_mark(&w, "@x.org"), 0);
	assert_int_equal(w.seen.n, 4);
	authkit_walk_reset(&w);
	assert_int_equal(w.seen.n, 0);
	assert_int_equal(authkit_walk_enter(&w, "a@x.org", 0), 1);
	authkit_walk_free(&w);
}

struct got {
	char names[8][64];
	int local[8];
	int n, stop_at;
};

static int
collect(const char *address, int local, void *arg)
{
	struct got *g = arg;

	strcpy(g->names[g->n], address);
	g->local[g->n] = local;
	return ++g->n == g->stop_at ? 7 : 0;
}

static void
test_walk_emit(void **state)
{
	struct authkit_walk w;
	struct ps_error err = {0};
	struct got g = {.stop_at = -1};
	char name[32];

	(void)state;
	assert_int_equal(authkit_walk_init(&w, &err), 0);
	assert_int_equal(authkit_walk_emit(&w, "b@x.org", 1), 0);
	assert_int_equal(authkit_walk_emit(&w, "r@remote.org", 0), 0);
	assert_int_equal(authkit_walk_emit(&w, "b@x.org", 1), 0);
	assert_int_equal(authkit_walk_emit(&w, "a@x.org", 1), 0);
	assert_int_equal(authkit_walk_deliver(&w, collect, &g), 0);
	assert_int_equal(g.n, 3);
	assert_string_equal(g.names[0], "b@x.org");
	assert_string_equal(g.names[1], "r@remote.org");
	assert_string_equal(g.names[2], "a@x.org");
	assert_int_equal(g.local[0], 1);
	assert_int_equal(g.local[1], 0);
	assert_int_equal(g.local[2], 1);
	/* The callback's non-zero stops the delivery and is returned. */
	memset(&g, 0, sizeof(g));
	g.stop_at = 2;
	assert_int_equal(authkit_walk_deliver(&w, collect, &g), 7);
	assert_int_equal(g.n, 2);
	/* The count bound: 1000 found, the 1001st refused. */
	authkit_walk_reset(&w);
	for (int i = 0; i < AUTHKIT_RESOLVE_MAX; i++) {
		snprintf(name, sizeof(name), "u%d@x.org", i);
		assert_int_equal(authkit_walk_emit(&w, name, i & 1), 0);
	}
	assert_int_equal(authkit_walk_emit(&w, "one@more.org", 0), PS_EFAIL);
	assert_string_equal(err.msg, "aliases reach more than 1000 addresses");
	assert_int_equal(w.out.n, AUTHKIT_RESOLVE_MAX);
	assert_int_equal(w.local[AUTHKIT_RESOLVE_MAX - 1], 1);
	/* And on seen, through the same bound. */
	for (int i = 0; i < AUTHKIT_RESOLVE_MAX; i++) {
		snprintf(name, sizeof(name), "s%d@x.org", i);
		assert_int_equal(authkit_walk_mark(&w, name), 1);
	}
	assert_int_equal(authkit_walk_enter(&w, "s@x.org", 0), PS_EFAIL);
	authkit_walk_free(&w);
	/* Freeing twice, or a zeroed walk, is harmless. */
	authkit_walk_free(&w);
}

static void
test_names_list(void **state)
{
	struct authkit_names l = {NULL, 0};
	struct ps_error err = {0};

	(void)state;
	authkit_names_free(&l);
	assert_int_equal(authkit_names_init(&l, &err), 0);
	assert_int_equal(authkit_names_push(&l, "@x.org", &err), 0);
	assert_int_equal(authkit_names_push(&l, "a@x.org", &err), 0);
	assert_true(authkit_names_has(&l, "a@x.org"));
	assert_false(authkit_names_has(&l, "b@x.org"));
	assert_null(l.v[l.n]);
	authkit_names_clear(&l);
	assert_int_equal(l.n, 0);
	assert_false(authkit_names_has(&l, "a@x.org"));
	authkit_names_free(&l);
	assert_null(l.v);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names_good),
		cmocka_unit_test(test_names_bad),
		cmocka_unit_test(test_names_bounds),
		cmocka_unit_test(test_hash),
		cmocka_unit_test(test_fail),
		cmocka_unit_test(test_walk_seen_depth),
		cmocka_unit_test(test_walk_emit),
		cmocka_unit_test(test_names_list),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
