/* Unit tests of core/password.c: known-answer hashes of each accepted
 * kind, wrong passwords, malformed and missing hashes, and a hash made
 * here verified there. The yescrypt and bcrypt answers were made once
 * with Python's crypt module; the sha512-crypt one agrees with
 * `openssl passwd -6 -salt saltsaltsalt`, the first bcrypt one is
 * crypt_blowfish's published test vector. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "password.h"

#define PW "correct horse"

static const char *const good[][2] = {
	{PW, "$y$j9T$F5Jx5fExrKuJdvEXM8wbl.$8pLKuZC.PlG/46z3J.76m9W1pkt5QuMMj"
	     "TowlkKFHAD"},
	{"p\xc3\xa4ssw\xc3\xb6rd", "$y$j9T$abcdefghijklmnopqrstu.$BtI1C85gEU"
				   "rt1rdmxUp3jEfe9z/jo0SzRdBMGm351nA"},
	{PW, "$6$saltsaltsalt$Cy2drr8kDRji6smvDcT28wkqtq0R0VzVL5CkrjPQCITc5d/"
	     "31j94knt9rGTcVSyjLXfjsiIsBh5ee8qR/3QDx1"},
	{PW, "$6$rounds=5000$saltsaltsalt$Cy2drr8kDRji6smvDcT28wkqtq0R0VzVL5C"
	     "krjPQCITc5d/31j94knt9rGTcVSyjLXfjsiIsBh5ee8qR/3QDx1"},
	{"U*U", "$2b$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"},
	{PW, "$2b$05$abcdefghijklmnopqrstuuHNbAKRhpaujgo33bRWs.NLUTJO3lOy2"},
	{PW, "$2y$05$abcdefghijklmnopqrstuuHNbAKRhpaujgo33bRWs.NLUTJO3lOy2"},
};

static void
test_known_answers(void **state)
{
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_int_equal(ps_password_verify(good[i][1], good[i][0]),
				 1);
}

static void
test_wrong_passwords(void **state)
{
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(ps_password_verify(good[i][1], "wrong"), 0);
		assert_int_equal(ps_password_verify(good[i][1], ""), 0);
		assert_int_equal(ps_password_verify(good[i][1], NULL), 0);
	}
	/* One character off, at the end. */
	assert_int_equal(ps_password_verify(good[0][1], PW "!"), 0);
	assert_int_equal(ps_password_verify(good[0][1], "correct hors"), 0);
}

static void
test_malformed_and_missing(void **state)
{
	static const char *const bad[] = {
		"", "*", "!", "!!", "x", "$", "$y$", "$y$j9T$", "$6$",
		"$2b$", "$2b$99$abcdefghijklmnopqrstuu",
		/* Known kinds this core refuses: */
		"$1$saltsalt$qjXMvbEw8oaL.CzflDugX/", "$5$saltsalt$x",
		"abJnggxhB/yWI",
		"$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW",
		/* A good hash, cut short or with a character changed. */
		"$y$j9T$F5Jx5fExrKuJdvEXM8wbl.$8pLKuZC.PlG/46z3J.76m9W1pkt5Qu",
		"$y$j9T$F5Jx5fExrKuJdvEXM8wbl.$8pLKuZC.PlG/46z3J.76m9W1pkt5Qu"
		"MMjTowlkKFHAE",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(ps_password_verify(bad[i], PW), 0);
		assert_int_equal(ps_password_verify(bad[i], "U*U"), 0);
	}
	assert_int_equal(ps_password_verify(NULL, PW), 0);
	assert_int_equal(ps_password_verify(NULL, NULL), 0);
}

/* The least CPU time of three checks, in nanoseconds: CPU time, so that
 * a busy machine skews it less than the wall clock. */
static long long
cost(const char *hash)
{
	long long best = -1;

	for (int i = 0; i < 3; i++) {
		struct timespec a, b;
		long long t;

		clock_gettime(CLOCK_THREAD_CPUTIME_ID, &a);
		ps_password_verify(hash, "wrong");
		clock_gettime(CLOCK_THREAD_CPUTIME_ID, &b);
		t = (b.tv_sec - a.tv_sec) * 1000000000LL +
			(b.tv_nsec - a.tv_nsec);
		if (best < 0 || t < best)
			best = t;
	}
	return best;
}

/* No user, a locked one ("!") or a broken hash costs about as much as a
 * real yescrypt check (loosely: timing on a busy machine varies). */
static void
test_unknown_costs_the_same(void **state)
{
	long long real = cost(good[0][1]);

	assert_true(cost(NULL) * 3 >= real);
	assert_true(cost("!") * 3 >= real);
	assert_true(cost("$y$j9T$") * 3 >= real);
	assert_true(cost("$2b$99$abcdefghijklmnopqrstuu") * 3 >= real);
}

static void
test_round_trip(void **state)
{
	char a[128], b[128];
	struct ps_error err = {""};

	assert_int_equal(ps_password_hash(PW, a, sizeof(a), &err), 0);
	assert_int_equal(strncmp(a, "$y$", 3), 0);
	assert_int_equal(ps_password_verify(a, PW), 1);
	assert_int_equal(ps_password_verify(a, PW " "), 0);
	/* A fresh salt each time. */
	assert_int_equal(ps_password_hash(PW, b, sizeof(b), &err), 0);
	assert_string_not_equal(a, b);
	assert_int_equal(ps_password_verify(b, PW), 1);
	assert_int_equal(ps_password_hash("", a, sizeof(a), &err), 0);
	assert_int_equal(ps_password_verify(a, ""), 1);
}

static void
test_hash_refusals(void **state)
{
	char small[64];
	struct ps_error err = {""};

	assert_int_equal(ps_password_hash(PW, small, sizeof(small), &err),
			 PS_EINVAL);
	assert_int_equal(ps_password_hash(NULL, small, 128, &err), PS_EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known_answers),
		cmocka_unit_test(test_wrong_passwords),
		cmocka_unit_test(test_malformed_and_missing),
		cmocka_unit_test(test_unknown_costs_the_same),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_hash_refusals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
