/* Unit tests for libpsstore (modules/storekit): mailbox names (UTF-8 at
 * every edge RFC 3629 4 draws, wildcards, empty levels, INBOX in any
 * case, a backend's extra forbidden byte and its message), the path
 * encoding of user names, keyword syntax and STORE's three modes on
 * keyword lists (case, spelling kept, the per-message bound), and UID
 * sets (reversed, overlapping, adjacent, UID 0, NULL and empty sets),
 * and an appended message's flags, zone and keywords.
 * Links modules/storekit/libpsstore.la alone. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "storekit.h"

static int
canon(const char *name, char *out, struct ps_error *err)
{
	return pst_name_canon(name, out, NULL, "", err);
}

static void
test_utf8(void **state)
{
	(void)state;
	assert_int_equal(pst_utf8_len((const unsigned char *)"a"), 1);
	assert_int_equal(pst_utf8_len((const unsigned char *)"\xc3\xa9"), 2);
	assert_int_equal(pst_utf8_len((const unsigned char *)"\xe2\x82\xac"),
			 3);
	assert_int_equal(
		pst_utf8_len((const unsigned char *)"\xf0\x9f\x98\x80"), 4);
	/* overlongs, surrogates, past U+10FFFF, stray and cut sequences */
	assert_int_equal(pst_utf8_len((const unsigned char *)"\xc0\xaf"), 0);
	assert_int_equal(pst_utf8_len((const unsigned char *)"\xe0\x80\xaf"),
			 0);
	assert_int_equal(pst_utf8_len((const unsigned char *)"\xed\xa0\x80"),
			 0);
	assert_int_equal(
		pst_utf8_len((const unsigned char *)"\xf0\x80\x80\x80"), 0);
	assert_int_equal(
		pst_utf8_len((const unsigned char *)"\xf4\x90\x80\x80"), 0);
	assert_int_equal(pst_utf8_len((const unsigned char *)"\xf5"), 0);
	assert_int_equal(pst_utf8_len((const unsigned char *)"\x80"), 0);
	assert_int_equal(pst_utf8_len((const unsigned char *)"\xe2\x82"), 0);
	assert_int_equal(pst_utf8_len((const unsigned char *)"\xc3"), 0);
}

static void
test_names(void **state)
{
	char out[PST_NAME_MAX + 1], big[PST_NAME_MAX + 2];
	struct ps_error err = { "" };

	(void)state;
	assert_int_equal(canon("inbox", out, &err), 0);
	assert_string_equal(out, "INBOX");
	assert_int_equal(canon("InBoX/Sub", out, &err), 0);
	assert_string_equal(out, "INBOX/Sub");
	assert_int_equal(canon("INBOXES", out, &err), 0);
	assert_string_equal(out, "INBOXES");
	assert_int_equal(canon("Archive/inbox", out, &err), 0);
	assert_string_equal(out, "Archive/inbox");
	assert_int_equal(canon("Caf\xc3\xa9", out, &err), 0);
	assert_int_equal(canon("a.b", out, &err), 0);

	assert_int_equal(canon("", out, &err), PS_STORE_EBADNAME);
	assert_string_equal(err.msg, "a mailbox name has 1 to 1000 bytes");
	assert_int_equal(canon(NULL, out, &err), PS_STORE_EBADNAME);
	memset(big, 'x', sizeof(big) - 1);
	big[PST_NAME_MAX + 1] = '\0';
	assert_int_equal(canon(big, out, &err), PS_STORE_EBADNAME);
	big[PST_NAME_MAX] = '\0';
	assert_int_equal(canon(big, out, &err), 0);

	assert_int_equal(canon("a*b", out, &err), PS_STORE_EBADNAME);
	assert_string_equal(err.msg,
			    "mailbox name with a bad character at byte 1");
	assert_int_equal(canon("a%", out, &err), PS_STORE_EBADNAME);
	assert_int_equal(canon("a\tb", out, &err), PS_STORE_EBADNAME);
	assert_int_equal(canon("a\x7f", out, &err), PS_STORE_EBADNAME);
	assert_int_equal(canon("x\xc3", out, &err), PS_STORE_EBADNAME);
	assert_int_equal(canon("x\xed\xa0\x80", out, &err),
			 PS_STORE_EBADNAME);

	assert_int_equal(canon("/a", out, &err), PS_STORE_EBADNAME);
	assert_string_equal(err.msg, "mailbox name with an empty level");
	assert_int_equal(canon("a/", out, &err), PS_STORE_EBADNAME);
	assert_int_equal(canon("a//b", out, &err), PS_STORE_EBADNAME);

	/* storage_maildir's rules: no '.', and it says why */
	assert_int_equal(pst_name_canon("a.b", out, ".", " (no dots)", &err),
			 PS_STORE_EBADNAME);
	assert_string_equal(err.msg, "mailbox name with a bad character at "
			    "byte 1 (no dots)");
	assert_int_equal(pst_name_canon("ab", out, ".", " (no dots)", &err),
			 0);
	/* no message wanted */
	assert_int_equal(pst_name_canon("", out, NULL, "", NULL),
			 PS_STORE_EBADNAME);
}

static void
test_path_encode(void **state)
{
	static const struct {
		const char *in;
		size_t len;
		const char *out;
	} t[] = {
		{ "Alice.B+x_y-z", 13, "alice.b+x_y-z" },
		{ ".hidden", 7, "%2ehidden" },
		{ "../a/b", 6, "%2e.%2fa%2fb" },
		{ "a%b\xc3\xa9", 5, "a%25b%c3%a9" },
		{ "abc", 0, "" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char *s = pst_path_encode(t[i].in, t[i].len);

		assert_non_null(s);
		assert_string_equal(s, t[i].out);
		free(s);
	}
}

static void
test_kw_check(void **state)
{
	const char *ok[] = { "$Forwarded", "NonJunk", "x" };
	const char *bad[] = { "ok", "a b" };
	const char *many[PST_KEYWORD_MAX + 1];
	char long_kw[PST_KEYWORD_LEN + 2];
	struct ps_error err = { "" };

	(void)state;
	assert_int_equal(pst_kw_check(ok, 3, &err), 0);
	assert_int_equal(pst_kw_check(bad, 2, &err), PS_EINVAL);
	assert_string_equal(err.msg, "keyword 2 is not an atom of 1 to 255 "
			    "bytes");
	for (size_t i = 0; i < PST_KEYWORD_MAX + 1; i++)
		many[i] = "k";
	assert_int_equal(pst_kw_check(many, PST_KEYWORD_MAX, &err), 0);
	assert_int_equal(pst_kw_check(many, PST_KEYWORD_MAX + 1, &err),
			 PS_EINVAL);
	assert_string_equal(err.msg, "more than 128 keywords");

	for (const char *p = "(){%*\"\\] "; *p; p++) {
		char kw[] = { 'a', *p, 'b', '\0' };

		assert_false(pst_kw_valid(kw));
	}
	assert_false(pst_kw_valid("a\x01"));
	assert_false(pst_kw_valid("\xc3\xa9"));
	assert_false(pst_kw_valid(""));
	assert_false(pst_kw_valid(NULL));
	assert_true(pst_kw_valid("[a$x"));
	memset(long_kw, 'k', sizeof(long_kw) - 1);
	long_kw[PST_KEYWORD_LEN + 1] = '\0';
	assert_false(pst_kw_valid(long_kw));
	long_kw[PST_KEYWORD_LEN] = '\0';
	assert_true(pst_kw_valid(long_kw));
}

/* k loaded from stored, then changed by mode with kw: changed or not,
 * and the list as stored afterwards (NULL: none). */
static void
check_apply(struct pst_kw *k, const char *stored, enum ps_store_mode mode,
	    const char *const *kw, size_t n, int want_changed,
	    const char *want)
{
	struct ps_error err = { "" };
	int changed = -1;

	assert_int_equal(pst_kw_load(k, stored), 0);
	assert_int_equal(pst_kw_apply(k, mode, kw, n, &changed, &err), 0);
	assert_int_equal(changed, want_changed);
	if (want)
		assert_string_equal(pst_kw_join(k), want);
	else
		assert_null(pst_kw_join(k));
}

static void
test_kw_apply(void **state)
{
	struct pst_kw k = { .n = 0 };
	const char *add[] = { "b", "C", "d" };
	const char *rm[] = { "A", "zz" };
	const char *rep[] = { "x" };

	(void)state;
	assert_int_equal(pst_kw_load(&k, NULL), 0);
	assert_int_equal(k.n, 0);
	assert_null(pst_kw_join(&k));
	assert_int_equal(pst_kw_load(&k, "a B c"), 0);
	assert_int_equal(k.n, 3);

	/* ADD keeps the stored spelling, adds what is new */
	check_apply(&k, "a B c", PS_STORE_ADD, add, 3, 1, "a B c d");
	check_apply(&k, "a B c d", PS_STORE_ADD, add, 3, 0, "a B c d");
	/* REMOVE without regard to case; a missing one changes nothing */
	check_apply(&k, "a B c d", PS_STORE_REMOVE, rm, 2, 1, "B c d");
	check_apply(&k, "B c d", PS_STORE_REMOVE, rm + 1, 1, 0, "B c d");
	/* REPLACE: the same set in another case is no change */
	check_apply(&k, "B c d", PS_STORE_REPLACE, rep, 1, 1, "x");
	check_apply(&k, "X", PS_STORE_REPLACE, rep, 1, 0, "x");
	check_apply(&k, "X", PS_STORE_REPLACE, NULL, 0, 1, NULL);
	assert_int_equal(k.n, 0);
	pst_kw_free(&k);
	pst_kw_free(&k);
}

static void
test_kw_bound(void **state)
{
	struct pst_kw k = { .n = 0 };
	char names[PST_KEYWORD_MAX + 1][8];
	const char *kw[PST_KEYWORD_MAX + 1];
	struct ps_error err = { "" };
	int changed;

	(void)state;
	for (size_t i = 0; i <= PST_KEYWORD_MAX; i++) {
		snprintf(names[i], sizeof(names[i]), "k%zu", i);
		kw[i] = names[i];
	}
	assert_int_equal(pst_kw_apply(&k, PS_STORE_ADD, kw, PST_KEYWORD_MAX,
				      &changed, &err), 0);
	assert_int_equal(k.n, PST_KEYWORD_MAX);
	assert_non_null(pst_kw_join(&k));
	assert_int_equal(pst_kw_load(&k, k.text), 0);
	assert_int_equal(k.n, PST_KEYWORD_MAX);
	assert_int_equal(pst_kw_apply(&k, PS_STORE_ADD, kw + PST_KEYWORD_MAX,
				      1, &changed, &err), PS_EINVAL);
	assert_string_equal(err.msg, "a message holds at most 128 keywords");
	pst_kw_free(&k);
}

static void
check_set(const struct pst_uidset *s, const uint32_t *want, size_t n)
{
	assert_int_equal(s->n, n);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(s->r[i].first, want[2 * i]);
		assert_int_equal(s->r[i].last, want[2 * i + 1]);
	}
}

static void
test_uidset(void **state)
{
	struct ps_uid_range in[] = {
		{ 9, 7 }, { 0, 0 }, { 1, 2 }, { 3, 3 }, { 20, 30 }, { 25, 21 },
		{ 0, 1 }, { 31, 31 }, { 40, UINT32_MAX }, { 50, 60 },
	};
	const uint32_t want[] = { 1, 3, 7, 9, 20, 31, 40, UINT32_MAX };
	const uint32_t all[] = { 1, UINT32_MAX };
	struct pst_uidset s;
	struct ps_error err = { "" };

	(void)state;
	assert_int_equal(pst_uidset(in, sizeof(in) / sizeof(in[0]), &s, &err),
			 0);
	check_set(&s, want, 4);
	pst_uidset_free(&s);
	assert_int_equal(s.n, 0);

	assert_int_equal(pst_uidset(NULL, 0, &s, &err), 0);
	check_set(&s, all, 1);
	pst_uidset_free(&s);

	assert_int_equal(pst_uidset(in, 0, &s, &err), 0);
	assert_int_equal(s.n, 0);
	pst_uidset_free(&s);

	assert_int_equal(pst_uidset(in + 1, 1, &s, &err), 0);
	assert_int_equal(s.n, 0);
	pst_uidset_free(&s);
}

/* An appended message: flags, zone, keywords checked; keywords stored
 * once each, in the spelling first given. */
static void
test_append(void **state)
{
	const char *kw[] = { "$Junk", "work", "$junk", "Work" };
	const char *bad[] = { "a b" };
	struct ps_error err = { "" };
	char *text = (char *)1;

	(void)state;
	assert_int_equal(pst_append_check(PS_FLAG_SEEN | PS_FLAG_RECENT, kw,
					  4, -300, &err), 0);
	assert_int_equal(pst_append_check(1u << 30, kw, 0, 0, &err),
			 PS_EINVAL);
	assert_non_null(strstr(err.msg, "unknown flags"));
	assert_int_equal(pst_append_check(0, NULL, 0, 24 * 60, &err),
			 PS_EINVAL);
	assert_int_equal(pst_append_check(0, NULL, 0, -24 * 60 + 1, &err),
			 0);
	assert_int_equal(pst_append_check(0, bad, 1, 0, &err), PS_EINVAL);

	assert_int_equal(pst_append_keywords(kw, 4, &text, &err), 0);
	assert_string_equal(text, "$Junk work");
	free(text);
	assert_int_equal(pst_append_keywords(NULL, 0, &text, &err), 0);
	assert_null(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_path_encode),
		cmocka_unit_test(test_kw_check),
		cmocka_unit_test(test_kw_apply),
		cmocka_unit_test(test_kw_bound),
		cmocka_unit_test(test_uidset),
		cmocka_unit_test(test_append),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
