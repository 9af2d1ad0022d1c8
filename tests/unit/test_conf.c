/* Unit tests of the config parser and validator (core/conf_parse.c,
 * core/conf_schema.c): the syntax, includes, every error message, every
 * value type and its bounds, sections, and a good file cut at every byte. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <ftw.h>
#include <unistd.h>

#include <cmocka.h>

#include "conf.h"

static char dir[] = "/tmp/ps_test_conf_XXXXXX";

/* ---- Helpers --------------------------------------------------------- */

static int
remove_entry(const char *path, const struct stat *st, int flag,
	     struct FTW *ftw)
{
	return remove(path);
}

static int
setup(void **state)
{
	return mkdtemp(dir) ? 0 : -1;
}

static int
teardown(void **state)
{
	return nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* dir/rel, in a static buffer of its own per slot. Paths are short, so a
 * message naming two of them fits a 512-byte buffer. */
static const char *
at(int slot, const char *rel)
{
	static char paths[4][128];

	snprintf(paths[slot], sizeof(paths[slot]), "%s/%s", dir, rel);
	return paths[slot];
}

/* Write text to dir/rel, making its folder. */
static void
put(const char *rel, const char *text)
{
	const char *path = at(3, rel);
	const char *slash = strrchr(rel, '/');
	FILE *f;

	if (slash) {
		char sub[256];
		snprintf(sub, sizeof(sub), "%s/%.*s", dir, (int)(slash - rel),
			 rel);
		mkdir(sub, 0700);
	}
	assert_non_null(f = fopen(path, "w"));
	assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
	assert_int_equal(fclose(f), 0);
}

static struct ps_conf_tree *
parse(const char *text)
{
	struct ps_error err = {""};
	struct ps_conf_tree *t;

	t = ps_conf_parse_text("x.conf", text, strlen(text), &err);
	if (!t)
		fail_msg("unexpected error: %s", err.msg);
	return t;
}

static void
parse_fails(const char *text, size_t len, const char *msg)
{
	struct ps_error err = {""};

	assert_null(ps_conf_parse_text("x.conf", text, len, &err));
	assert_string_equal(err.msg, msg);
}

#define PARSE_FAILS(text, msg) parse_fails(text, strlen(text), msg)

static void
file_fails(const char *path, const char *msg)
{
	struct ps_error err = {""};

	assert_null(ps_conf_parse_file(path, &err));
	assert_string_equal(err.msg, msg);
}

/* The node's name and arguments joined by spaces, "{" when a block. */
static const char *
show(const struct ps_conf_node *n)
{
	static char buf[256];
	size_t len = (size_t)snprintf(buf, sizeof(buf), "%s", n->name);

	for (size_t i = 0; i < n->nargs; i++)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, " %s",
					n->args[i]);
	assert_null(n->args[n->nargs]);
	snprintf(buf + len, sizeof(buf) - len, "%s", n->has_block ? " {" : "");
	return buf;
}

/* ---- Syntax ---------------------------------------------------------- */

static void
test_shapes(void **state)
{
	struct ps_conf_tree *t = parse(
		"# leading comment\n"
		"workers 4;   # trailing comment\n"
		"flag;\n"
		"smtp {\n"
		"\tlisten *:25 {\n"
		"\t\ttls off;\n"
		"\t}\n"
		"\tempty {}\n"
		"}\n"
		"multi\n  line\n  args;\n"
		"a;b{c;}d\t;\r\n");
	const struct ps_conf_node *n = t->root, *c;

	assert_string_equal(show(n), "workers 4");
	assert_int_equal(n->line, 2);
	assert_string_equal(n->file, "x.conf");
	assert_string_equal(show(n = n->next), "flag");
	assert_int_equal(n->nargs, 0);
	assert_string_equal(show(n = n->next), "smtp {");
	assert_int_equal(n->line, 4);
	assert_string_equal(show(c = n->children), "listen *:25 {");
	assert_int_equal(c->line, 5);
	assert_string_equal(show(c->children), "tls off");
	assert_int_equal(c->children->line, 6);
	assert_null(c->children->next);
	assert_string_equal(show(c = c->next), "empty {");
	assert_null(c->children);
	assert_null(c->next);
	assert_string_equal(show(n = n->next), "multi line args");
	assert_int_equal(n->line, 10);
	assert_string_equal(show(n = n->next), "a");
	assert_int_equal(n->line, 13);
	assert_string_equal(show(n = n->next), "b {");
	assert_string_equal(show(n->children), "c");
	assert_string_equal(show(n = n->next), "d");
	assert_null(n->next);
	assert_int_equal(t->nfiles, 1);
	ps_conf_tree_free(t);
}

static void
test_quotes(void **state)
{
	struct ps_conf_tree *t = parse(
		"s \"a \\\"b\\\" \\\\ \\n\\t\" 'lit \\n \"x\"' \"\" '';\n"
		"m \"one\ntwo\" '#;{}' after;\n"
		"\"quoted name\" x#comment\n;\n"
		"last;");
	const struct ps_conf_node *n = t->root;

	assert_int_equal(n->nargs, 4);
	assert_string_equal(n->args[0], "a \"b\" \\ \n\t");
	assert_string_equal(n->args[1], "lit \\n \"x\"");
	assert_string_equal(n->args[2], "");
	assert_string_equal(n->args[3], "");
	n = n->next;
	assert_string_equal(n->args[0], "one\ntwo");
	assert_string_equal(n->args[1], "#;{}");
	assert_string_equal(n->args[2], "after");
	n = n->next;
	assert_string_equal(show(n), "quoted name x");
	assert_int_equal(n->line, 4);
	assert_int_equal(n->next->line, 6);
	ps_conf_tree_free(t);
}

static void
test_empty(void **state)
{
	struct ps_conf_tree *t = parse("  # nothing\n\n");

	assert_null(t->root);
	ps_conf_tree_free(t);
	t = parse("");
	assert_null(t->root);
	ps_conf_tree_free(t);
	ps_conf_tree_free(NULL);
	ps_conf_section_free(NULL);
}

static void
test_syntax_errors(void **state)
{
	static const struct {
		const char *text, *msg;
	} cases[] = {
		{"}", "x.conf:1: unexpected '}'"},
		{"a;\n\n}", "x.conf:3: unexpected '}'"},
		{";", "x.conf:1: unexpected ';'"},
		{"a { ; }", "x.conf:1: unexpected ';'"},
		{"{", "x.conf:1: unexpected '{'"},
		{"workers 2", "x.conf:1: missing ';' after 'workers 2'"},
		{"a {\n workers 2\n}",
		 "x.conf:2: missing ';' after 'workers 2'"},
		{"a {\n b;\n", "x.conf:1: missing '}' for 'a'"},
		{"a {\n b {\n }\n", "x.conf:1: missing '}' for 'a'"},
		{"a {\n b {\n", "x.conf:2: missing '}' for 'b'"},
		{"x \"abc", "x.conf:1: unterminated string"},
		{"a;\n'abc", "x.conf:2: unterminated string"},
		{"x\n\n'abc\n;", "x.conf:3: unterminated string"},
		{"x \"ab\\", "x.conf:1: unterminated string"},
		{"x \"a\\qb\";", "x.conf:1: bad escape '\\q' in string"},
		{"x \"a\\\nb\";", "x.conf:1: bad escape '\\?' in string"},
		{"x a\"b\";", "x.conf:1: missing space after 'a'"},
		{"x a'b';", "x.conf:1: missing space after 'a'"},
		{"x \"a\"b;", "x.conf:1: missing space after 'a'"},
		{"x 'a''b';", "x.conf:1: missing space after 'a'"},
		{"x \"a\"\"b\";", "x.conf:1: missing space after 'a'"},
		{"include;", "x.conf:1: 'include' takes one path"},
		{"include a b;", "x.conf:1: 'include' takes one path"},
		{"include a { }", "x.conf:1: 'include' takes no block"},
		{"a b c d e f g h i j k l m n o p q r s t u v w x y z",
		 "x.conf:1: missing ';' after "
		 "'a b c d e f g h i j k l m n o p q r s t u v ...'"},
		{"x\ty \"a\nb\"", "x.conf:1: missing ';' after 'x y a?b'"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		PARSE_FAILS(cases[i].text, cases[i].msg);
}

static void
test_nul_byte(void **state)
{
	parse_fails("a;\nb\0;", 6, "x.conf:2: NUL byte in input");
	parse_fails("\0", 1, "x.conf:1: NUL byte in input");
}

/* A string of n copies of c, freed by the caller. */
static char *
repeat(const char *prefix, char c, size_t n, const char *suffix)
{
	size_t lp = strlen(prefix), ls = strlen(suffix);
	char *s = malloc(lp + n + ls + 1);

	assert_non_null(s);
	memcpy(s, prefix, lp);
	memset(s + lp, c, n);
	memcpy(s + lp + n, suffix, ls + 1);
	return s;
}

static void
test_bounds(void **state)
{
	char *s, buf[1024] = "d";
	struct ps_conf_tree *t;
	size_t len = 1;

	s = repeat("w ", 'x', PS_CONF_MAX_WORD, ";");
	ps_conf_tree_free(parse(s));
	free(s);
	s = repeat("w \"", 'x', PS_CONF_MAX_WORD, "\";");
	ps_conf_tree_free(parse(s));
	free(s);
	s = repeat("\nw ", 'x', PS_CONF_MAX_WORD + 1, ";");
	PARSE_FAILS(s, "x.conf:2: word longer than 4096 bytes");
	free(s);
	s = repeat("w '", 'x', PS_CONF_MAX_WORD + 1, "';");
	PARSE_FAILS(s, "x.conf:1: word longer than 4096 bytes");
	free(s);

	for (int i = 0; i < PS_CONF_MAX_ARGS; i++)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, " %d", i);
	strcat(buf, ";");
	t = parse(buf);
	assert_int_equal(t->root->nargs, PS_CONF_MAX_ARGS);
	ps_conf_tree_free(t);
	strcpy(buf + len, "\n 64;");
	PARSE_FAILS(buf, "x.conf:2: too many arguments to 'd' (max 64)");

	len = 0;
	for (int i = 0; i < PS_CONF_MAX_DEPTH; i++)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "b%d {\n",
					i);
	for (int i = 0; i < PS_CONF_MAX_DEPTH; i++)
		strcat(buf, "}");
	ps_conf_tree_free(parse(buf));
	strcpy(buf + len, "deep {}");
	PARSE_FAILS(buf, "x.conf:17: blocks nested too deep (max 16)");

	s = repeat("", '#', PS_CONF_MAX_FILE, "");
	ps_conf_tree_free(parse(s));
	free(s);
	s = repeat("", '#', PS_CONF_MAX_FILE + 1, "");
	PARSE_FAILS(s, "'x.conf' is larger than 1 MiB");
	free(s);
}

/* A good file cut at every byte: each prefix parses or fails with a
 * located message, and reads nothing past its end (ASan, valgrind). */
static void
test_truncated(void **state)
{
	static const char good[] =
		"# poshta\nworkers 4;\nname \"Posh \\\"ta\\\"\\n\";\n"
		"smtp 'x y' {\n\tlisten [::1]:25 {\n\t\ttls on; }\n"
		"\tbanner 'a{b}c';\n}\nalias a b c;  # end\n";

	for (size_t len = 0; len <= sizeof(good) - 1; len++) {
		struct ps_error err = {""};
		struct ps_conf_tree *t;
		char *copy = malloc(len ? len : 1);

		assert_non_null(copy);
		memcpy(copy, good, len);
		t = ps_conf_parse_text("t.conf", copy, len, &err);
		if (t)
			ps_conf_tree_free(t);
		else
			assert_int_equal(strncmp(err.msg, "t.conf:", 7), 0);
		free(copy);
	}
}

/* ---- Files and includes --------------------------------------------- */

static void
test_include(void **state)
{
	struct ps_error err = {""};
	struct ps_conf_tree *t;
	const struct ps_conf_node *n;
	char text[600];

	put("main.conf", "a 1;\n"
			 "include sub/inc.conf;\n"
			 "blk {\n"
			 "  include conf.d/*.conf;\n"
			 "  include none.d/*.conf;\n"
			 "}\n"
			 "include conf.d/10-x.conf;\n"
			 "z;\n");
	put("sub/inc.conf", "b 2;\ninclude deeper.conf;\n");
	put("sub/deeper.conf", "\n\ndeep;\n");
	put("conf.d/20-y.conf", "d;\n");
	put("conf.d/10-x.conf", "c;\n");
	put("conf.d/skip.txt", "}\n");
	t = ps_conf_parse_file(at(0, "main.conf"), &err);
	assert_non_null(t);
	n = t->root;
	assert_string_equal(show(n), "a 1");
	assert_string_equal(n->file, at(0, "main.conf"));
	assert_string_equal(show(n = n->next), "b 2");
	assert_string_equal(n->file, at(0, "sub/inc.conf"));
	assert_string_equal(show(n = n->next), "deep");
	assert_string_equal(n->file, at(0, "sub/deeper.conf"));
	assert_int_equal(n->line, 3);
	assert_string_equal(show(n = n->next), "blk {");
	assert_string_equal(show(n->children), "c");
	assert_string_equal(n->children->file, at(0, "conf.d/10-x.conf"));
	assert_string_equal(show(n->children->next), "d");
	assert_null(n->children->next->next);
	assert_string_equal(show(n = n->next), "c");
	/* The same file twice is shared in the tree, not a cycle. */
	assert_ptr_equal(n->file, t->root->next->next->next->children->file);
	assert_string_equal(show(n = n->next), "z");
	assert_int_equal(n->line, 8);
	assert_null(n->next);
	assert_int_equal(t->nfiles, 5);
	ps_conf_tree_free(t);

	/* A glob under a folder whose name has glob metacharacters. */
	put("br[1]*/x.conf", "x;\n");
	put("br1x/x.conf", "wrong;\n");
	t = ps_conf_parse_text(at(0, "br[1]*/v.conf"), "include *.conf;", 15,
			       &err);
	assert_non_null(t);
	assert_string_equal(show(t->root), "x");
	assert_null(t->root->next);
	ps_conf_tree_free(t);

	/* An absolute path is taken as it is. */
	snprintf(text, sizeof(text), "include %s;", at(0, "sub/deeper.conf"));
	t = ps_conf_parse_text("elsewhere/x.conf", text, strlen(text), &err);
	assert_non_null(t);
	assert_string_equal(show(t->root), "deep");
	ps_conf_tree_free(t);

	/* parse_text resolves includes against the folder of its name. */
	t = ps_conf_parse_text(at(0, "virtual.conf"), "include sub/*.conf;",
			       19, &err);
	assert_non_null(t);
	/* deeper.conf sorts before inc.conf, which includes it again. */
	assert_string_equal(show(t->root), "deep");
	assert_string_equal(show(t->root->next), "b 2");
	ps_conf_tree_free(t);
}

static void
test_include_errors(void **state)
{
	char msg[512];

	put("missing.conf", "a;\ninclude nope.conf;\n");
	snprintf(msg, sizeof(msg), "%s:2: cannot open '%s': No such file or "
		 "directory", at(0, "missing.conf"), at(1, "nope.conf"));
	file_fails(at(0, "missing.conf"), msg);

	put("self.conf", "include self.conf;\n");
	snprintf(msg, sizeof(msg), "%s:1: include cycle at '%s'",
		 at(0, "self.conf"), at(1, "self.conf"));
	file_fails(at(0, "self.conf"), msg);

	put("cyc/a.conf", "x;\ninclude b.conf;\n");
	put("cyc/b.conf", "\ninclude *.conf;\n");
	snprintf(msg, sizeof(msg), "%s:2: include cycle at '%s'",
		 at(0, "cyc/b.conf"), at(1, "cyc/a.conf"));
	file_fails(at(0, "cyc/a.conf"), msg);

	put("bad/main.conf", "s {\n include inner.conf;\n}\n");
	put("bad/inner.conf", "ok;\n}\n");
	snprintf(msg, sizeof(msg), "%s:2: unexpected '}'",
		 at(0, "bad/inner.conf"));
	file_fails(at(0, "bad/main.conf"), msg);
	put("bad/inner.conf", "a {\n");
	snprintf(msg, sizeof(msg), "%s:1: missing '}' for 'a'",
		 at(0, "bad/inner.conf"));
	file_fails(at(0, "bad/main.conf"), msg);

	/* A folder glob cannot read (here a symlink loop) is an error. */
	assert_int_equal(symlink(at(0, "loop"), at(1, "loop")), 0);
	put("unreadable.conf", "\ninclude loop/*.conf;\n");
	snprintf(msg, sizeof(msg), "%s:2: cannot read 'loop/*.conf'",
		 at(0, "unreadable.conf"));
	file_fails(at(0, "unreadable.conf"), msg);

	put("isdir.conf", "include .;\n");
	snprintf(msg, sizeof(msg), "%s:1: '%s' is not a regular file",
		 at(0, "isdir.conf"), at(1, "."));
	file_fails(at(0, "isdir.conf"), msg);
}

static void
test_include_depth(void **state)
{
	char name[32], text[64], msg[512];

	struct ps_error err = {""};
	struct ps_conf_tree *t;

	/* f0 includes f1 ... f8: eight levels. */
	for (int i = 0; i <= PS_CONF_MAX_INCLUDE; i++) {
		snprintf(name, sizeof(name), "depth/f%d.conf", i);
		snprintf(text, sizeof(text), "l%d;\ninclude f%d.conf;\n", i,
			 i + 1);
		put(name, i == PS_CONF_MAX_INCLUDE ? "last;\n" : text);
	}
	t = ps_conf_parse_file(at(0, "depth/f0.conf"), &err);
	assert_non_null(t);
	ps_conf_tree_free(t);
	put("depth/f8.conf", "l8;\ninclude f9.conf;\n");
	put("depth/f9.conf", "last;\n");
	snprintf(msg, sizeof(msg), "%s:2: include nested too deep",
		 at(0, "depth/f8.conf"));
	file_fails(at(0, "depth/f0.conf"), msg);
}

static void
test_file_errors(void **state)
{
	char msg[512], *big;
	FILE *f;

	snprintf(msg, sizeof(msg), "cannot open '%s': No such file or "
		 "directory", at(0, "none.conf"));
	file_fails(at(0, "none.conf"), msg);
	snprintf(msg, sizeof(msg), "'%s' is not a regular file", dir);
	file_fails(dir, msg);

	big = repeat("", '#', PS_CONF_MAX_FILE + 1, "");
	assert_non_null(f = fopen(at(0, "big.conf"), "w"));
	fputs(big, f);
	fclose(f);
	free(big);
	snprintf(msg, sizeof(msg), "'%s' is larger than 1 MiB",
		 at(0, "big.conf"));
	file_fails(at(0, "big.conf"), msg);
	put("inc_big.conf", "\ninclude big.conf;");
	snprintf(msg, sizeof(msg), "%s:2: '%s' is larger than 1 MiB",
		 at(0, "inc_big.conf"), at(1, "big.conf"));
	file_fails(at(0, "inc_big.conf"), msg);
}

/* ---- One value ------------------------------------------------------- */

static const char *const modes[] = {"plain", "starttls", "tls", NULL};

/* Check one value of d; returns the error message or "" (and *num). */
static const char *
check(const struct ps_directive *d, const char *text, long long *num)
{
	static struct ps_error err;
	char *args[2] = {(char *)text, NULL};
	struct ps_conf_value v;

	err.msg[0] = '\0';
	if (ps_conf_check_value(d, args, 1, &v, &err) == 0) {
		assert_string_equal(err.msg, "");
		assert_ptr_equal(v.str, text);
		assert_int_equal(v.nwords, 1);
		if (num)
			*num = v.num;
		return "";
	}
	assert_string_not_equal(err.msg, "");
	return err.msg;
}

static void
expect_num(const struct ps_directive *d, const char *text, long long want)
{
	long long num = -12345;

	assert_string_equal(check(d, text, &num), "");
	assert_true(num == want);
}

static void
test_flag(void **state)
{
	struct ps_directive d = {.name = "tls", .type = PS_CONF_FLAG};

	expect_num(&d, "on", 1);
	expect_num(&d, "off", 0);
	expect_num(&d, "ON", 1);
	expect_num(&d, "Off", 0);
	assert_string_equal(check(&d, "yes", NULL),
			    "tls: expected 'on' or 'off', got 'yes'");
	assert_string_equal(check(&d, "", NULL),
			    "tls: expected 'on' or 'off', got ''");
}

static void
test_int(void **state)
{
	struct ps_directive d = {.name = "workers", .type = PS_CONF_INT,
				 .min = 1, .max = 64};
	static const char *const bad[] = {
		"x", "", "0", "65", "-1", "1x", " 1", "+1", "1 ", "--1",
		"9223372036854775808", "99999999999999999999",
	};
	char ex[PS_CONF_EXCERPT], msg[256];

	expect_num(&d, "1", 1);
	expect_num(&d, "64", 64);
	expect_num(&d, "007", 7);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(msg, sizeof(msg), "workers: expected an integer from "
			 "1 to 64, got '%s'", ps_conf_excerpt(ex, bad[i]));
		assert_string_equal(check(&d, bad[i], NULL), msg);
	}
	d.min = -5;
	d.max = 0; /* no upper bound */
	expect_num(&d, "-5", -5);
	expect_num(&d, "9223372036854775807", 9223372036854775807LL);
	assert_string_equal(check(&d, "-6", NULL),
			    "workers: expected an integer of at least -5, "
			    "got '-6'");
	d.min = 0;
	assert_string_equal(check(&d, "-1", NULL),
			    "workers: expected an integer of at least 0, "
			    "got '-1'");
}

static void
test_size(void **state)
{
	struct ps_directive d = {.name = "max_size", .type = PS_CONF_SIZE};

	expect_num(&d, "0", 0);
	expect_num(&d, "10", 10);
	expect_num(&d, "1k", 1024);
	expect_num(&d, "1K", 1024);
	expect_num(&d, "2m", 2 << 20);
	expect_num(&d, "3G", 3LL << 30);
	expect_num(&d, "8589934591g", 8589934591LL << 30);
	assert_string_equal(check(&d, "8589934592g", NULL),
			    "max_size: expected a size (bytes, or with suffix "
			    "k, m, g), got '8589934592g'");
	assert_string_equal(check(&d, "1t", NULL),
			    "max_size: expected a size (bytes, or with suffix "
			    "k, m, g), got '1t'");
	assert_string_not_equal(check(&d, "k", NULL), "");
	assert_string_not_equal(check(&d, "-1", NULL), "");
	assert_string_not_equal(check(&d, "1kb", NULL), "");
	assert_string_not_equal(check(&d, "1.5m", NULL), "");
	d.min = 1024;
	d.max = 50 << 20;
	expect_num(&d, "1024", 1024);
	expect_num(&d, "50m", 50 << 20);
	assert_string_equal(check(&d, "1023", NULL),
			    "max_size: expected a size (bytes, or with suffix "
			    "k, m, g) from 1k to 50m, got '1023'");
	assert_string_not_equal(check(&d, "51201k", NULL), "");
	d.min = 1000;
	d.max = 0;
	assert_string_equal(check(&d, "999", NULL),
			    "max_size: expected a size (bytes, or with suffix "
			    "k, m, g) of at least 1000, got '999'");
}

static void
test_duration(void **state)
{
	struct ps_directive d = {.name = "timeout", .type = PS_CONF_DURATION};

	expect_num(&d, "30", 30000);
	expect_num(&d, "0", 0);
	expect_num(&d, "250ms", 250);
	expect_num(&d, "250MS", 250);
	expect_num(&d, "7s", 7000);
	expect_num(&d, "2m", 120000);
	expect_num(&d, "1h", 3600000);
	expect_num(&d, "2D", 172800000);
	assert_string_equal(check(&d, "1w", NULL),
			    "timeout: expected a duration (seconds, or with "
			    "suffix ms, s, m, h, d), got '1w'");
	assert_string_not_equal(check(&d, "9999999999999999d", NULL), "");
	assert_string_not_equal(check(&d, "9223372036854776", NULL), "");
	assert_string_not_equal(check(&d, "s", NULL), "");
	assert_string_not_equal(check(&d, "1 s", NULL), "");
	assert_string_not_equal(check(&d, "1h30m", NULL), "");
	d.min = 1000;
	d.max = 3600000;
	expect_num(&d, "1s", 1000);
	expect_num(&d, "60m", 3600000);
	assert_string_equal(check(&d, "2h", NULL),
			    "timeout: expected a duration (seconds, or with "
			    "suffix ms, s, m, h, d) from 1s to 1h, got '2h'");
	assert_string_not_equal(check(&d, "999ms", NULL), "");
	d.min = 1500;
	d.max = 90000;
	assert_string_equal(check(&d, "1s", NULL),
			    "timeout: expected a duration (seconds, or with "
			    "suffix ms, s, m, h, d) from 1500ms to 90s, "
			    "got '1s'");
}

static void
test_string_path_enum(void **state)
{
	struct ps_directive s = {.name = "banner", .type = PS_CONF_STRING};
	struct ps_directive p = {.name = "root", .type = PS_CONF_PATH};
	struct ps_directive e = {.name = "mode", .type = PS_CONF_ENUM,
				 .choices = modes};

	assert_string_equal(check(&s, "", NULL), "");
	assert_string_equal(check(&s, "any thing {;}", NULL), "");
	assert_string_equal(check(&p, "/var/lib/poshta", NULL), "");
	assert_string_equal(check(&p, "relative", NULL), "");
	assert_string_equal(check(&p, "", NULL), "root: empty path");
	p.type = 0; /* a module's bug, not a crash */
	assert_string_equal(check(&p, "x", NULL),
			    "root: unknown directive type 0");
	expect_num(&e, "plain", 0);
	expect_num(&e, "tls", 2);
	assert_string_equal(check(&e, "TLS", NULL),
			    "mode: expected one of 'plain', 'starttls', 'tls', "
			    "got 'TLS'");
}

static void
test_addr(void **state)
{
	struct ps_directive d = {.name = "listen", .type = PS_CONF_ADDR};
	static const char *const good[] = {
		"127.0.0.1:25", "*:25", "[::1]:993", "[::]:1", "localhost:1",
		"mail.example.com:65535", "[::ffff:1.2.3.4]:25", "my_host:25",
	};
	static const char *const bad[] = {
		"25", ":25", "*:0", "*:65536", "*:", "host:", "::1:25",
		"[::1]25", "[zz]:25", "[]:25", "a b:25", "*:+25", "*:25x",
		"*:-1", "[::1:25", "**:25", "h@st:25", "*:99999999999999999999",
	};

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_string_equal(check(&d, good[i], NULL), "");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_string_not_equal(check(&d, bad[i], NULL), "");
	assert_string_equal(check(&d, "*:0", NULL),
			    "listen: expected host:port, [v6]:port or *:port "
			    "(port 1 to 65535), got '*:0'");
}

static const char *
check_words(const struct ps_directive *d, size_t n)
{
	static struct ps_error err;
	char *args[] = {"a", "b", "c", "d", NULL};
	struct ps_conf_value v;

	args[n] = NULL;
	err.msg[0] = '\0';
	if (ps_conf_check_value(d, args, n, &v, &err) < 0)
		return err.msg;
	assert_int_equal(v.nwords, n);
	assert_string_equal(v.str, "a");
	assert_string_equal(v.words[n - 1], args[n - 1]);
	assert_null(v.words[n]);
	return "";
}

static void
test_words_and_counts(void **state)
{
	struct ps_directive w = {.name = "alias", .type = PS_CONF_WORDS};
	struct ps_directive i = {.name = "workers", .type = PS_CONF_INT};
	struct ps_conf_value v;
	struct ps_error err;
	char *two[] = {"1", "2", NULL};

	assert_string_equal(check_words(&w, 1), "");
	assert_string_equal(check_words(&w, 4), "");
	assert_string_equal(check_words(&w, 0),
			    "alias: expected at least 1 word, got 0");
	w.min = 2;
	w.max = 3;
	assert_string_equal(check_words(&w, 2), "");
	assert_string_equal(check_words(&w, 3), "");
	assert_string_equal(check_words(&w, 1),
			    "alias: expected 2 to 3 words, got 1");
	assert_string_equal(check_words(&w, 4),
			    "alias: expected 2 to 3 words, got 4");
	w.max = 2;
	assert_string_equal(check_words(&w, 3),
			    "alias: expected 2 words, got 3");
	w.max = 0;
	w.min = 3;
	assert_string_equal(check_words(&w, 2),
			    "alias: expected at least 3 words, got 2");

	assert_int_equal(ps_conf_check_value(&i, two, 0, &v, &err), -1);
	assert_string_equal(err.msg, "workers: missing value");
	assert_int_equal(ps_conf_check_value(&i, two, 2, &v, &err), -1);
	assert_string_equal(err.msg, "workers: expected one value, got 2");
}

static void
test_excerpt(void **state)
{
	char ex[PS_CONF_EXCERPT], *s, *cut, msg[256];
	struct ps_directive d = {.name = "n", .type = PS_CONF_INT};

	assert_string_equal(ps_conf_excerpt(ex, "a\tb\x7f\n"), "a?b??");
	s = repeat("", 'x', PS_CONF_EXCERPT - 1, "");
	assert_string_equal(ps_conf_excerpt(ex, s), s);
	free(s);
	s = repeat("", 'x', 5000, "");
	cut = repeat("", 'x', PS_CONF_EXCERPT - 4, "...");
	assert_string_equal(ps_conf_excerpt(ex, s), cut);
	snprintf(msg, sizeof(msg), "n: expected an integer of at least 0, "
		 "got '%s'", cut);
	assert_string_equal(check(&d, s, NULL), msg);
	free(cut);
	free(s);
}

/* ---- Sections -------------------------------------------------------- */

static const struct ps_directive core_set[] = {
	{.name = "workers", .type = PS_CONF_INT, .min = 1, .max = 64,
	 .def = "4"},
	{.name = "hostname", .type = PS_CONF_STRING,
	 .flags = PS_CONF_REQUIRED},
	{.name = "alias", .type = PS_CONF_WORDS, .flags = PS_CONF_MULTI},
	{.name = "timeout", .type = PS_CONF_DURATION, .def = "5m"},
	{.name = "mode", .type = PS_CONF_ENUM, .choices = modes,
	 .def = "tls"},
	{.name = "max_size", .type = PS_CONF_SIZE},
	{.name = "peers", .type = PS_CONF_WORDS, .flags = PS_CONF_MULTI,
	 .def = "a  b\tc"},
	{.name = NULL},
};

static const struct ps_directive module_set[] = {
	{.name = "smtp_banner", .type = PS_CONF_STRING, .def = "hi there"},
	{.name = NULL},
};

static const struct ps_directive listen_set[] = {
	{.name = "port", .type = PS_CONF_ADDR, .flags = PS_CONF_REQUIRED},
	{.name = "tls", .type = PS_CONF_FLAG, .def = "off"},
	{.name = NULL},
};

static const struct ps_directive *core_sets[] = {core_set, module_set};
static const struct ps_conf_schema core_schema = {.sets = core_sets,
						  .nsets = 2};
static const struct ps_directive *listen_sets[] = {listen_set};
static const struct ps_conf_schema listen_schema = {.sets = listen_sets,
						    .nsets = 1};
static const char *const blocks[] = {"listen", "smtp", NULL};

static struct ps_conf_section *
section(const struct ps_conf_tree *t, struct ps_error *err)
{
	return ps_conf_section_new(t->root, &core_schema, blocks, err);
}

static void
test_section(void **state)
{
	struct ps_conf_tree *t = parse(
		"hostname mx.example.org;\n"
		"alias a;\n"
		"listen *:25 { port *:25; }\n"
		"alias b c;\n"
		"workers 8;\n"
		"smtp { whatever goes here; }\n"
		"timeout 90;\n");
	struct ps_error err = {""};
	struct ps_conf_section *s = section(t, &err);
	const struct ps_conf_value *v;

	assert_non_null(s);
	ps_conf_tree_free(t); /* the section owns its values */
	v = ps_conf_section_get(s, "workers", 0);
	assert_true(v->num == 8);
	assert_string_equal(v->str, "8");
	assert_string_equal(v->file, "x.conf");
	assert_int_equal(v->line, 5);
	assert_null(ps_conf_section_get(s, "workers", 1));
	assert_string_equal(ps_conf_section_get(s, "hostname", 0)->str,
			    "mx.example.org");
	assert_true(ps_conf_section_get(s, "timeout", 0)->num == 90000);
	assert_int_equal(ps_conf_section_count(s, "alias"), 2);
	v = ps_conf_section_get(s, "alias", 1);
	assert_int_equal(v->nwords, 2);
	assert_string_equal(v->words[0], "b");
	assert_string_equal(v->words[1], "c");
	assert_null(v->words[2]);
	assert_int_equal(v->line, 4);

	v = ps_conf_section_get(s, "mode", 0); /* default */
	assert_true(v->num == 2);
	assert_string_equal(v->str, "tls");
	assert_string_equal(v->file, "(default)");
	assert_int_equal(v->line, 0);
	assert_int_equal(ps_conf_section_count(s, "mode"), 1);
	v = ps_conf_section_get(s, "peers", 0);
	assert_int_equal(v->nwords, 3);
	assert_string_equal(v->words[2], "c");
	assert_string_equal(ps_conf_section_get(s, "smtp_banner", 0)->str,
			    "hi there");

	assert_null(ps_conf_section_get(s, "max_size", 0));
	assert_int_equal(ps_conf_section_count(s, "max_size"), 0);
	assert_null(ps_conf_section_get(s, "listen", 0));
	assert_null(ps_conf_section_get(s, "nonesuch", 0));
	assert_int_equal(ps_conf_section_count(s, "nonesuch"), 0);
	ps_conf_section_free(s);
}

static void
test_section_block(void **state)
{
	struct ps_conf_tree *t = parse("hostname h;\n"
				       "listen *:25 {\n"
				       "  port *:25;\n"
				       "  tls on;\n"
				       "}\n"
				       "listen {\n"
				       "}\n");
	const struct ps_conf_node *l = t->root->next;
	struct ps_error err = {""};
	struct ps_conf_section *s;

	s = ps_conf_section_block(l, &listen_schema, NULL, &err);
	assert_non_null(s);
	assert_true(ps_conf_section_get(s, "tls", 0)->num == 1);
	assert_int_equal(ps_conf_section_get(s, "port", 0)->line, 3);
	ps_conf_section_free(s);
	assert_null(ps_conf_section_block(l->next, &listen_schema, NULL,
					  &err));
	assert_string_equal(err.msg, "x.conf:6: block 'listen' lacks "
			    "required directive 'port'");
	ps_conf_tree_free(t);
}

static void
section_fails(const char *text, const char *msg)
{
	struct ps_conf_tree *t = parse(text);
	struct ps_error err = {""};

	assert_null(section(t, &err));
	assert_string_equal(err.msg, msg);
	ps_conf_tree_free(t);
}

static void
test_section_errors(void **state)
{
	section_fails("hostname h;\nfoo 1;",
		      "x.conf:2: unknown directive 'foo'");
	section_fails("hostname h;\nwrokers 1;",
		      "x.conf:2: unknown directive 'wrokers' (did you mean "
		      "'workers'?)");
	section_fails("hostname h;\nlisen { }",
		      "x.conf:2: unknown directive 'lisen' (did you mean "
		      "'listen'?)");
	section_fails("hostname h;\nmod 1;",
		      "x.conf:2: unknown directive 'mod' (did you mean "
		      "'mode'?)");
	section_fails("hostname h;\nxyz 1;",
		      "x.conf:2: unknown directive 'xyz'");
	section_fails("hostname h;\nworkers_workers_workers_workers_workers;",
		      "x.conf:2: unknown directive "
		      "'workers_workers_workers_workers_workers'");
	section_fails("workers 2;\nhostname h;\n\nworkers 3;",
		      "x.conf:4: 'workers' given twice (first at x.conf:1)");
	section_fails("hostname h;\nworkers 2 { }",
		      "x.conf:2: 'workers' takes no block");
	section_fails("hostname h;\nworkers x;",
		      "x.conf:2: workers: expected an integer from 1 to 64, "
		      "got 'x'");
	section_fails("hostname;", "x.conf:1: hostname: missing value");
	section_fails("workers 2;", "x.conf: missing required directive "
		      "'hostname'");
	section_fails("", "missing required directive 'hostname'");
}

/* ---- Sub-blocks (SDK 1.5) --------------------------------------------- */

static const char *const relay_auth_choices[] = {"none", "plain", NULL};

static const struct ps_directive relay_set[] = {
	{.name = "auth", .type = PS_CONF_WORDS, .min = 2, .max = 2},
	{.name = "tls", .type = PS_CONF_ENUM, .choices = relay_auth_choices,
	 .def = "plain"},
	{.name = "weight", .type = PS_CONF_INT, .min = 1, .max = 10,
	 .flags = PS_CONF_REQUIRED},
	{.name = NULL},
};

static const struct ps_conf_block relay_block = {
	.size = sizeof(struct ps_conf_block),
	.name = "relayhost",
	.flags = PS_CONF_MULTI,
	.args = {.type = PS_CONF_ADDR},
	.directives = relay_set,
};

static const struct ps_directive cert_set[] = {
	{.name = "file", .type = PS_CONF_PATH, .def = "c.pem"},
	{.name = NULL},
};

/* Once at most, no arguments, and required. */
static const struct ps_conf_block cert_block = {
	.size = sizeof(struct ps_conf_block),
	.name = "cert",
	.flags = PS_CONF_REQUIRED,
	.directives = cert_set,
};

static const struct ps_conf_block *const sub_blocks[] = {&relay_block,
							 &cert_block};
static const struct ps_directive *module_sets[] = {module_set};
static const struct ps_conf_schema module_schema = {
	.sets = module_sets, .nsets = 1, .blocks = sub_blocks, .nblocks = 2,
};

/* The children of the first node of text, as a module's block. */
static struct ps_conf_section *
module_section(const char *text, struct ps_error *err)
{
	struct ps_conf_tree *t = ps_conf_parse_text("/etc/x.conf", text,
						    strlen(text), err);
	struct ps_conf_section *s;

	assert_non_null(t);
	s = ps_conf_section_block(t->root, &module_schema, NULL, err);
	ps_conf_tree_free(t); /* sub-blocks own their values too */
	return s;
}

static void
test_sub_blocks(void **state)
{
	struct ps_error err = {""};
	struct ps_conf_section *s = module_section(
		"smtp {\n"
		"  relayhost a.test:587 {\n"
		"    auth user \"pass word\";\n"
		"    weight 3;\n"
		"  }\n"
		"  cert { }\n"
		"  relayhost [::1]:25 { tls none; weight 1; }\n"
		"}\n", &err);
	const struct ps_conf_section *r;
	const struct ps_conf_value *args, *v;

	assert_non_null(s);
	assert_int_equal(ps_conf_section_block_count(s, "relayhost"), 2);
	r = ps_conf_section_sub(s, "relayhost", 0, &args);
	assert_non_null(r);
	assert_string_equal(args->str, "a.test:587");
	assert_int_equal(args->line, 2);
	v = ps_conf_section_get(r, "auth", 0);
	assert_string_equal(v->words[1], "pass word");
	assert_int_equal(v->line, 3);
	assert_true(ps_conf_section_get(r, "tls", 0)->num == 1); /* default */
	assert_true(ps_conf_section_get(r, "weight", 0)->num == 3);
	r = ps_conf_section_sub(s, "relayhost", 1, &args);
	assert_string_equal(args->str, "[::1]:25");
	assert_int_equal(ps_conf_section_count(r, "auth"), 0);
	assert_true(ps_conf_section_get(r, "tls", 0)->num == 0);
	assert_null(ps_conf_section_sub(s, "relayhost", 2, &args));
	assert_null(args);

	r = ps_conf_section_sub(s, "cert", 0, &args);
	assert_int_equal(args->nwords, 0);
	assert_null(args->str);
	/* A default PATH inside a block is taken as written. */
	assert_string_equal(ps_conf_section_get(r, "file", 0)->str, "c.pem");
	assert_string_equal(ps_conf_section_get(s, "smtp_banner", 0)->str,
			    "hi there");
	assert_int_equal(ps_conf_section_block_count(s, "nonesuch"), 0);
	assert_int_equal(ps_conf_section_block_count(NULL, "cert"), 0);
	assert_null(ps_conf_section_get(s, "relayhost", 0));
	ps_conf_section_free(s);
}

static void
sub_block_fails(const char *text, const char *msg)
{
	struct ps_error err = {""};

	assert_null(module_section(text, &err));
	assert_string_equal(err.msg, msg);
}

static void
test_sub_block_errors(void **state)
{
	sub_block_fails("smtp {\n cert { }\n relayhost a:1 {\n colour 1;"
			"\n }\n}", "/etc/x.conf:4: unknown directive "
			"'colour'");
	sub_block_fails("smtp {\n cert { }\n relayhost a:1 {\n wieght 1;"
			"\n }\n}", "/etc/x.conf:4: unknown directive "
			"'wieght' (did you mean 'weight'?)");
	sub_block_fails("smtp {\n cert { }\n relayhost a:x { weight 1; }"
			"\n}", "/etc/x.conf:3: relayhost: expected host:port,"
			" [v6]:port or *:port (port 1 to 65535), got 'a:x'");
	sub_block_fails("smtp {\n cert { }\n relayhost { weight 1; }\n}",
			"/etc/x.conf:3: relayhost: missing value");
	sub_block_fails("smtp {\n cert { }\n relayhost a:1 {\n tls "
			"none;\n }\n}", "/etc/x.conf:3: block 'relayhost' "
			"lacks required directive 'weight'");
	sub_block_fails("smtp {\n cert { }\n relayhost a:1;\n}",
			"/etc/x.conf:3: 'relayhost' is a block: relayhost "
			"ARGUMENTS { ... }");
	sub_block_fails("smtp {\n cert;\n}",
			"/etc/x.conf:2: 'cert' is a block: cert { ... }");
	sub_block_fails("smtp {\n cert { }\n\n cert { }\n}",
			"/etc/x.conf:4: block 'cert' given twice (first at "
			"/etc/x.conf:2)");
	sub_block_fails("smtp {\n cert x { }\n}",
			"/etc/x.conf:2: 'cert' takes no arguments");
	sub_block_fails("smtp {\n cert { relayhost a:1 { } }\n}",
			"/etc/x.conf:2: unknown directive 'relayhost'");
	sub_block_fails("smtp {\n smtp_banner x;\n}",
			"/etc/x.conf:1: block 'smtp' lacks required block "
			"'cert'");
	sub_block_fails("smtp {\n crt { }\n}", "/etc/x.conf:2: unknown "
			"directive 'crt' (did you mean 'cert'?)");
}

/* A module block not written still needs its required sub-blocks. */
static void
test_sub_block_absent(void **state)
{
	struct ps_error err = {""};

	assert_null(ps_conf_section_new(NULL, &module_schema, NULL, &err));
	assert_string_equal(err.msg, "missing required block 'cert'");
}

/* Relative paths are taken from the folder of the file that names them. */
static void
test_relative_path(void **state)
{
	static const struct ps_directive set[] = {
		{.name = "cert", .type = PS_CONF_PATH, .flags = PS_CONF_MULTI},
		{.name = NULL},
	};
	static const struct ps_directive *sets[] = {set};
	static const struct ps_conf_schema schema = {.sets = sets, .nsets = 1};
	const char *text = "cert a.pem;\ncert /abs/b.pem;\ncert ../c.pem;";
	struct ps_error err = {""};
	struct ps_conf_tree *t = ps_conf_parse_text("/etc/poshta/x.conf", text,
						    strlen(text), &err);
	struct ps_conf_section *s;

	assert_non_null(t);
	s = ps_conf_section_new(t->root, &schema, NULL, &err);
	assert_non_null(s);
	assert_string_equal(ps_conf_section_get(s, "cert", 0)->str,
			    "/etc/poshta/a.pem");
	assert_string_equal(ps_conf_section_get(s, "cert", 1)->str,
			    "/abs/b.pem");
	assert_string_equal(ps_conf_section_get(s, "cert", 2)->words[0],
			    "/etc/poshta/../c.pem");
	ps_conf_section_free(s);
	ps_conf_tree_free(t);
}

static void
test_bad_default(void **state)
{
	static const struct ps_directive bad_set[] = {
		{.name = "workers", .type = PS_CONF_INT, .min = 1, .max = 64,
		 .def = "100"},
		{.name = NULL},
	};
	static const struct ps_directive *sets[] = {bad_set};
	static const struct ps_conf_schema schema = {.sets = sets, .nsets = 1};
	struct ps_conf_tree *t = parse("workers 3;");
	struct ps_error err = {""};
	struct ps_conf_section *s;

	/* A bad default is only an error when it is used. */
	s = ps_conf_section_new(t->root, &schema, NULL, &err);
	assert_non_null(s);
	ps_conf_section_free(s);
	assert_null(ps_conf_section_new(NULL, &schema, NULL, &err));
	assert_string_equal(err.msg, "(default): workers: expected an "
			    "integer from 1 to 64, got '100'");
	ps_conf_tree_free(t);
}

/* A MULTI REQUIRED directive, and an empty schema. */
static void
test_section_edges(void **state)
{
	static const struct ps_directive set[] = {
		{.name = "user", .type = PS_CONF_WORDS,
		 .flags = PS_CONF_MULTI | PS_CONF_REQUIRED, .min = 2, .max = 2},
		{.name = NULL},
	};
	static const struct ps_directive *sets[] = {set};
	static const struct ps_conf_schema schema = {.sets = sets, .nsets = 1};
	static const struct ps_conf_schema none = {.sets = NULL, .nsets = 0};
	struct ps_conf_tree *t = parse("user a 1;\nuser b 2;\nuser c 3;\n");
	struct ps_error err = {""};
	struct ps_conf_section *s;

	s = ps_conf_section_new(t->root, &schema, NULL, &err);
	assert_non_null(s);
	assert_int_equal(ps_conf_section_count(s, "user"), 3);
	assert_string_equal(ps_conf_section_get(s, "user", 2)->words[1], "3");
	ps_conf_section_free(s);
	assert_null(ps_conf_section_new(t->root, &none, NULL, &err));
	assert_string_equal(err.msg, "x.conf:1: unknown directive 'user'");
	s = ps_conf_section_new(NULL, &none, NULL, &err);
	assert_non_null(s);
	ps_conf_section_free(s);
	ps_conf_tree_free(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shapes),
		cmocka_unit_test(test_quotes),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_syntax_errors),
		cmocka_unit_test(test_nul_byte),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_include),
		cmocka_unit_test(test_include_errors),
		cmocka_unit_test(test_include_depth),
		cmocka_unit_test(test_file_errors),
		cmocka_unit_test(test_flag),
		cmocka_unit_test(test_int),
		cmocka_unit_test(test_size),
		cmocka_unit_test(test_duration),
		cmocka_unit_test(test_string_path_enum),
		cmocka_unit_test(test_addr),
		cmocka_unit_test(test_words_and_counts),
		cmocka_unit_test(test_excerpt),
		cmocka_unit_test(test_section),
		cmocka_unit_test(test_section_block),
		cmocka_unit_test(test_section_errors),
		cmocka_unit_test(test_sub_blocks),
		cmocka_unit_test(test_sub_block_errors),
		cmocka_unit_test(test_sub_block_absent),
		cmocka_unit_test(test_bad_default),
		cmocka_unit_test(test_relative_path),
		cmocka_unit_test(test_section_edges),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
