/* Unit tests for pop3.so's pure parts: command lines (RFC 1939 3, RFC
 * 2449 4), message numbers, and byte-stuffing with TOP's line limit (RFC
 * 1939 3 and 7), fed whole, one byte at a time and split at every
 * offset. They link modules/pop3/{command,stuff}.c without poshtad. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "command.h"
#include "stuff.h"

/* ---- Command lines --------------------------------------------------- */

static void
parse_ok(const char *line, const char *kw, size_t nargs)
{
	struct pop3_cmd c;

	assert_int_equal(pop3_cmd_parse(line, strlen(line), &c), 0);
	assert_string_equal(c.keyword, kw);
	assert_int_equal(c.nargs, nargs);
}

static void
test_keywords(void **state)
{
	struct pop3_cmd c;

	(void)state;
	parse_ok("STAT", "STAT", 0);
	parse_ok("top 1 10", "TOP", 2);
	parse_ok("Utf8", "UTF8", 0);
	parse_ok("LIST ", "LIST", 0);
	parse_ok("LIST  2", "LIST", 1);
	parse_ok("PASS a b c", "PASS", 3);
	assert_int_equal(pop3_cmd_parse("", 0, &c), -1);
	assert_int_equal(pop3_cmd_parse("RE", 2, &c), -1);
	assert_int_equal(pop3_cmd_parse("RETRX 1", 7, &c), -1);
	assert_int_equal(pop3_cmd_parse(" STAT", 5, &c), -1);
	assert_int_equal(pop3_cmd_parse("ST-T", 4, &c), -1);
	assert_int_equal(pop3_cmd_parse("STAT\t1", 6, &c), -1);
}

static void
test_arguments(void **state)
{
	struct pop3_cmd c;
	const char *line = "TOP 12 0";

	(void)state;
	assert_int_equal(pop3_cmd_parse(line, strlen(line), &c), 0);
	assert_int_equal(c.lens[0], 2);
	assert_memory_equal(c.args[0], "12", 2);
	assert_int_equal(c.lens[1], 1);
	assert_memory_equal(c.args[1], "0", 1);
	/* PASS keeps the rest of the line, spaces and all (RFC 1939 7). */
	line = "PASS  my secret ";
	assert_int_equal(pop3_cmd_parse(line, strlen(line), &c), 0);
	assert_int_equal(c.rest_len, strlen(" my secret "));
	assert_memory_equal(c.rest, " my secret ", c.rest_len);
	line = "NOOP";
	assert_int_equal(pop3_cmd_parse(line, strlen(line), &c), 0);
	assert_null(c.rest);
}

static void
test_numbers(void **state)
{
	uint32_t n;

	(void)state;
	assert_int_equal(pop3_number("1", 1, 1, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(pop3_number("4294967295", 10, 1, &n), 0);
	assert_int_equal(n, UINT32_MAX);
	assert_int_equal(pop3_number("0", 1, 0, &n), 0);
	assert_int_equal(pop3_number("0", 1, 1, &n), -1);
	assert_int_equal(pop3_number("4294967296", 10, 1, &n), -1);
	assert_int_equal(pop3_number("00000000001", 11, 1, &n), -1);
	assert_int_equal(pop3_number("+1", 2, 1, &n), -1);
	assert_int_equal(pop3_number("-1", 2, 0, &n), -1);
	assert_int_equal(pop3_number("1a", 2, 1, &n), -1);
	assert_int_equal(pop3_number("", 0, 0, &n), -1);
}

/* ---- Stuffing ---------------------------------------------------------- */

/* Stuff in, cut at every position in turn (and fed a byte at a time),
 * and check each way gives want. */
static void
stuffed(const char *in, int top, uint64_t lines, const char *want)
{
	size_t len = strlen(in);
	char *out = malloc(2 * len + 8);

	for (size_t cut = 0; cut <= len + 1; cut++) {
		struct pop3_stuff st;
		size_t o = 0;

		pop3_stuff_init(&st, top, lines);
		if (cut <= len) {
			o += pop3_stuff(&st, in, cut, out);
			o += pop3_stuff(&st, in + cut, len - cut, out + o);
		} else {
			for (size_t i = 0; i < len; i++)
				o += pop3_stuff(&st, in + i, 1, out + o);
		}
		o += pop3_stuff_end(&st, out + o);
		out[o] = '\0';
		if (strcmp(out, want) != 0)
			fail_msg("cut %zu of \"%s\": got \"%s\"", cut, in, out);
	}
	free(out);
}

static void
test_stuff(void **state)
{
	(void)state;
	stuffed("a\r\nb\r\n", 0, 0, "a\r\nb\r\n.\r\n");
	stuffed(".\r\n..x\r\n.", 0, 0, "..\r\n...x\r\n..\r\n.\r\n");
	stuffed("a.b\r\n", 0, 0, "a.b\r\n.\r\n");
	/* No line break at the end: one is added before the ".". */
	stuffed("a\r\nb", 0, 0, "a\r\nb\r\n.\r\n");
	stuffed("", 0, 0, ".\r\n");
}

static void
test_top(void **state)
{
	const char *msg = "S: x\r\nT: y\r\n\r\none\r\n.two\r\nthree\r\n";

	(void)state;
	stuffed(msg, 1, 0, "S: x\r\nT: y\r\n\r\n.\r\n");
	stuffed(msg, 1, 1, "S: x\r\nT: y\r\n\r\none\r\n.\r\n");
	stuffed(msg, 1, 2, "S: x\r\nT: y\r\n\r\none\r\n..two\r\n.\r\n");
	stuffed(msg, 1, 3, "S: x\r\nT: y\r\n\r\none\r\n..two\r\nthree\r\n"
		".\r\n");
	stuffed(msg, 1, 1000, "S: x\r\nT: y\r\n\r\none\r\n..two\r\nthree\r\n"
		".\r\n");
	/* A header alone, with no blank line: all of it. */
	stuffed("S: x\r\n", 1, 0, "S: x\r\n.\r\n");
	/* The body's first line empty: it counts as a line. */
	stuffed("S: x\r\n\r\n\r\nb\r\n", 1, 1, "S: x\r\n\r\n\r\n.\r\n");
	/* Bare LF ends lines too. */
	stuffed("S: x\n\n.a\nb\n", 1, 1, "S: x\n\n..a\n.\r\n");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keywords),
		cmocka_unit_test(test_arguments),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_stuff),
		cmocka_unit_test(test_top),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
