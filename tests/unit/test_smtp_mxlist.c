/* Unit tests for the resolver's pure half (modules/smtp/mxlist.c): MX
 * order by preference (RFC 5321 5.1) with ties shuffled — both orders seen
 * over many runs, never one across preferences —, null MX (RFC 7505 3),
 * repeated and unusable names, the bounds on hosts and addresses, IPv6
 * first, and which names may be asked for. Linked without poshtad. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "mxlist.h"

/* A small LCG: deterministic, but every tie order comes up. */
static unsigned
lcg(void *arg, unsigned n)
{
	uint64_t *s = arg;

	*s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
	return (unsigned)(*s >> 33) % n;
}

/* Always the first: ties keep their order. */
static unsigned
first(void *arg, unsigned n)
{
	(void)arg;
	(void)n;
	return 0;
}

static void
test_order_by_pref(void **state)
{
	struct smtp_mx_rr rr[] = {
		{"c.test", 30}, {"a.test", 10}, {"b.test", 20}, {"z.test", 0},
	};

	(void)state;
	smtp_mx_order(rr, 4, first, NULL);
	assert_string_equal(rr[0].host, "z.test");
	assert_string_equal(rr[1].host, "a.test");
	assert_string_equal(rr[2].host, "b.test");
	assert_string_equal(rr[3].host, "c.test");
}

/* Over many runs each of the three hosts at 10 comes first, and every
 * one stays between the host at 5 and the host at 20. */
static void
test_shuffle_ties(void **state)
{
	uint64_t seed = 42;
	int firsts[3] = {0, 0, 0};

	(void)state;
	for (int run = 0; run < 300; run++) {
		struct smtp_mx_rr rr[] = {
			{"t20.test", 20}, {"a.test", 10}, {"t5.test", 5},
			{"b.test", 10}, {"c.test", 10},
		};

		smtp_mx_order(rr, 5, lcg, &seed);
		assert_string_equal(rr[0].host, "t5.test");
		assert_string_equal(rr[4].host, "t20.test");
		for (int i = 1; i < 4; i++)
			assert_int_equal(rr[i].pref, 10);
		firsts[rr[1].host[0] - 'a']++;
	}
	for (int i = 0; i < 3; i++)
		assert_true(firsts[i] > 50);
}

/* Two equal hosts: both orders, roughly half each. */
static void
test_shuffle_two(void **state)
{
	uint64_t seed = 7;
	int a_first = 0;

	(void)state;
	for (int run = 0; run < 200; run++) {
		struct smtp_mx_rr rr[] = {{"a.test", 10}, {"b.test", 10}};

		smtp_mx_order(rr, 2, lcg, &seed);
		a_first += !strcmp(rr[0].host, "a.test");
	}
	assert_true(a_first > 50 && a_first < 150);
}

static void
test_null_mx(void **state)
{
	struct smtp_mx_rr null0[] = {{"", 0}};
	struct smtp_mx_rr dot[] = {{".", 0}};
	struct smtp_mx_rr mixed[] = {{"", 0}, {"mx.test", 10}};
	struct smtp_mx_rr other[] = {{"mx.test", 0}};
	struct smtp_mxlist l;

	(void)state;
	assert_true(smtp_mx_is_null(null0, 1));
	assert_true(smtp_mx_is_null(dot, 1));
	assert_false(smtp_mx_is_null(mixed, 2));
	assert_false(smtp_mx_is_null(other, 1));
	assert_false(smtp_mx_is_null(NULL, 0));
	assert_int_equal(smtp_mxlist_from_rrs(&l, dot, 1, first, NULL),
			 SMTP_MXLIST_NULL);
	/* RFC 7505 3 forbids mixing: the root is dropped, the rest used. */
	assert_int_equal(smtp_mxlist_from_rrs(&l, mixed, 2, first, NULL),
			 SMTP_MXLIST_HOSTS);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.hosts[0].name, "mx.test");
	assert_int_equal(l.hosts[0].pref, 10);
}

static void
test_repeated_and_unusable(void **state)
{
	char long_name[300];
	struct smtp_mx_rr rr[] = {
		{"MX.test.", 20}, {"mx.test", 10}, {long_name, 5},
		{"other.test", 30},
	};
	struct smtp_mx_rr only_bad[] = {{long_name, 10}, {"", 20}};
	struct smtp_mxlist l;

	(void)state;
	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	assert_int_equal(smtp_mxlist_from_rrs(&l, rr, 4, first, NULL),
			 SMTP_MXLIST_HOSTS);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.hosts[0].name, "mx.test");
	assert_int_equal(l.hosts[0].pref, 10);
	assert_string_equal(l.hosts[1].name, "other.test");
	assert_int_equal(smtp_mxlist_from_rrs(&l, only_bad, 2, first, NULL),
			 SMTP_MXLIST_EMPTY);
	assert_int_equal(l.n, 0);
}

/* 20 records: the 16 most preferred are kept. */
static void
test_host_bound(void **state)
{
	struct smtp_mx_rr rr[20];
	char names[20][16];
	struct smtp_mxlist l;

	(void)state;
	for (int i = 0; i < 20; i++) {
		snprintf(names[i], sizeof(names[i]), "mx%d.test", i);
		rr[i].host = names[i];
		rr[i].pref = (unsigned)(100 - i);
	}
	assert_int_equal(smtp_mxlist_from_rrs(&l, rr, 20, first, NULL),
			 SMTP_MXLIST_HOSTS);
	assert_int_equal(l.n, PS_DNS_MAX_HOSTS);
	assert_string_equal(l.hosts[0].name, "mx19.test");
	assert_int_equal(l.hosts[15].pref, 100 - 4);
}

static void
test_addresses(void **state)
{
	struct smtp_mxlist l;
	char text[PS_DNS_ADDR_LEN];
	size_t n;

	(void)state;
	assert_int_equal(smtp_mxlist_single(&l, "host.test."), 0);
	assert_string_equal(l.hosts[0].name, "host.test");
	assert_int_equal(smtp_mxlist_result(&l), 0);
	assert_int_equal(smtp_mxlist_add_addr(&l, 0, AF_INET, "192.0.2.1"), 0);
	assert_int_equal(smtp_mxlist_add_addr(&l, 0, AF_INET6, "2001:db8::1"),
			 0);
	assert_int_equal(smtp_mxlist_add_addr(&l, 0, AF_INET, "192.0.2.1"), 1);
	assert_int_equal(smtp_mxlist_add_addr(&l, 1, AF_INET, "192.0.2.2"),
			 -1);
	assert_int_equal(smtp_mxlist_add_addr(&l, 0, AF_UNIX, "x"), -1);
	n = smtp_mxlist_result(&l);
	assert_int_equal(n, 1);
	assert_int_equal(l.out[0].naddrs, 2);
	assert_int_equal(l.out[0].addrs[0].family, AF_INET6);
	assert_string_equal(l.out[0].addrs[1].text, "192.0.2.1");
	/* Past the bound, IPv6 still goes before IPv4, pushing one out. */
	for (int i = 2; i < 12; i++) {
		snprintf(text, sizeof(text), "192.0.2.%d", i);
		smtp_mxlist_add_addr(&l, 0, AF_INET, text);
	}
	assert_int_equal(l.hosts[0].naddrs, PS_DNS_MAX_ADDRS);
	assert_int_equal(smtp_mxlist_add_addr(&l, 0, AF_INET6, "2001:db8::2"),
			 0);
	assert_int_equal(l.hosts[0].naddrs, PS_DNS_MAX_ADDRS);
	assert_string_equal(l.hosts[0].addrs[1].text, "2001:db8::2");
	assert_int_equal(l.hosts[0].addrs[2].family, AF_INET);
	assert_int_equal(smtp_mxlist_add_addr(&l, 0, AF_INET, "192.0.2.99"),
			 1);
}

/* Hosts without addresses are left out of the result, order kept. */
static void
test_result_skips(void **state)
{
	struct smtp_mx_rr rr[] = {{"a.test", 10}, {"b.test", 20},
				  {"c.test", 30}};
	struct smtp_mxlist l;

	(void)state;
	smtp_mxlist_from_rrs(&l, rr, 3, first, NULL);
	smtp_mxlist_add_addr(&l, 2, AF_INET, "192.0.2.3");
	smtp_mxlist_add_addr(&l, 0, AF_INET6, "::1");
	assert_int_equal(smtp_mxlist_result(&l), 2);
	assert_string_equal(l.out[0].name, "a.test");
	assert_string_equal(l.out[1].name, "c.test");
	assert_int_equal(l.out[1].pref, 30);
}

static void
test_names(void **state)
{
	char name[300];

	(void)state;
	assert_true(smtp_dns_name_ok("example.test"));
	assert_true(smtp_dns_name_ok("example.test."));
	assert_true(smtp_dns_name_ok("localhost"));
	assert_true(smtp_dns_name_ok("_dmarc.example.test"));
	assert_false(smtp_dns_name_ok(NULL));
	assert_false(smtp_dns_name_ok(""));
	assert_false(smtp_dns_name_ok("."));
	assert_false(smtp_dns_name_ok("a..test"));
	assert_false(smtp_dns_name_ok(".a.test"));
	assert_false(smtp_dns_name_ok("a.test.."));
	assert_false(smtp_dns_name_ok("a b.test"));
	assert_false(smtp_dns_name_ok("caf\xc3\xa9.test"));
	assert_false(smtp_dns_name_ok("192.0.2.1"));
	assert_false(smtp_dns_name_ok("::1"));
	assert_false(smtp_dns_name_ok("[192.0.2.1]"));
	memset(name, 'a', 64);
	strcpy(name + 64, ".test");
	assert_false(smtp_dns_name_ok(name));
	/* RFC 1035 3.1: 255 octets on the wire, so 253 in text. */
	for (int i = 0; i < 64; i++)
		memcpy(name + 4 * i, "abc.", 4);
	name[253] = '\0';
	assert_true(smtp_dns_name_ok(name));
	name[253] = '.';
	name[254] = '\0';
	assert_true(smtp_dns_name_ok(name));
	name[253] = 'x';
	assert_false(smtp_dns_name_ok(name));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order_by_pref),
		cmocka_unit_test(test_shuffle_ties),
		cmocka_unit_test(test_shuffle_two),
		cmocka_unit_test(test_null_mx),
		cmocka_unit_test(test_repeated_and_unusable),
		cmocka_unit_test(test_host_bound),
		cmocka_unit_test(test_addresses),
		cmocka_unit_test(test_result_skips),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
