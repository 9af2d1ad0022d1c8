/* Unit tests for core/buf.c: buffer growth and compaction, and the line
 * reader fed whole, split at every offset, one byte at a time and in
 * random chunks, which must all give the same lines and flags. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <poshta/conn.h>

#include "buf.h"

/* Lines seen, serialised as flags, length and bytes so two runs compare
 * with one memcmp. */
struct seen {
	struct ps_buf rec;
	size_t nlines;
};

static void
seen_add(struct seen *s, const struct ps_line *line)
{
	unsigned char flags = (unsigned char)line->flags;

	assert_int_equal(ps_buf_append(&s->rec, &flags, 1), 0);
	assert_int_equal(ps_buf_append(&s->rec, &line->len,
				       sizeof(line->len)), 0);
	assert_int_equal(ps_buf_append(&s->rec, line->data, line->len), 0);
	s->nlines++;
}

/* Take every complete line out of b, checking the reader's promises. */
static void
drain(struct ps_linereader *r, struct ps_buf *b, struct seen *s)
{
	struct ps_line line;
	unsigned f;

	while (ps_linereader_next(r, b, &line)) {
		f = line.flags;
		assert_true(f == PS_LINE_CRLF || f == PS_LINE_BARE_LF ||
			    f == PS_LINE_TOOLONG);
		assert_true(line.len <= r->max);
		assert_true(line.consumed >= line.len);
		assert_true(line.consumed <= ps_buf_used(b));
		assert_ptr_equal(line.data, b->data + b->off);
		seen_add(s, &line);
		ps_buf_consume(b, line.consumed);
	}
	/* An unfinished line never needs more than its body and a CR. */
	assert_true(ps_buf_used(b) <= r->max + 1);
}

/* Feed in[0..len) cut at the increasing offsets cuts[0..ncuts). */
static void
feed(const char *in, size_t len, size_t max, const size_t *cuts,
     size_t ncuts, struct seen *s)
{
	struct ps_linereader r = { .max = max };
	struct ps_buf b = { 0 };
	size_t i, from = 0;

	for (i = 0; i <= ncuts; i++) {
		size_t to = i < ncuts ? cuts[i] : len;

		assert_int_equal(ps_buf_append(&b, in + from, to - from), 0);
		drain(&r, &b, s);
		from = to;
	}
	ps_buf_free(&b);
}

static void
seen_free(struct seen *s)
{
	ps_buf_free(&s->rec);
}

static void
assert_same(const struct seen *a, const struct seen *b)
{
	assert_int_equal(a->nlines, b->nlines);
	assert_int_equal(ps_buf_used(&a->rec), ps_buf_used(&b->rec));
	assert_memory_equal(a->rec.data + a->rec.off, b->rec.data + b->rec.off,
			    ps_buf_used(&a->rec));
}

/* Every way of splitting in must give what feeding it whole gives. */
static void
check_splits(const char *in, size_t len, size_t max)
{
	struct seen whole = { 0 };
	size_t *cuts = malloc((len + 1) * sizeof(*cuts));
	size_t i, j, n;

	assert_non_null(cuts);
	feed(in, len, max, NULL, 0, &whole);
	for (i = 0; i <= len; i++) {
		struct seen two = { 0 };

		feed(in, len, max, &i, 1, &two);
		assert_same(&whole, &two);
		seen_free(&two);
	}
	for (i = 0; i + 1 < len; i++)
		cuts[i] = i + 1;
	{
		struct seen bytes = { 0 };

		feed(in, len, max, cuts, len ? len - 1 : 0, &bytes);
		assert_same(&whole, &bytes);
		seen_free(&bytes);
	}
	srand(7);
	for (j = 0; j < 50; j++) {
		struct seen rnd = { 0 };

		for (n = 0, i = (size_t)rand() % 5; i < len;
		     i += 1 + (size_t)rand() % 7)
			cuts[n++] = i;
		feed(in, len, max, cuts, n, &rnd);
		assert_same(&whole, &rnd);
		seen_free(&rnd);
	}
	seen_free(&whole);
	free(cuts);
}

/* Read record i of s; returns its flags. */
static unsigned
seen_get(const struct seen *s, size_t i, const char **data, size_t *len)
{
	const char *p = s->rec.data + s->rec.off;
	unsigned flags;

	for (;;) {
		flags = (unsigned char)*p;
		memcpy(len, p + 1, sizeof(*len));
		*data = p + 1 + sizeof(*len);
		if (i-- == 0)
			return flags;
		p = *data + *len;
	}
}

static void
assert_line(const struct seen *s, size_t i, const char *want, size_t wlen,
	    unsigned wflags)
{
	const char *data;
	size_t len;

	assert_true(i < s->nlines);
	assert_int_equal(seen_get(s, i, &data, &len), wflags);
	assert_int_equal(len, wlen);
	assert_memory_equal(data, want, wlen);
}

#define LINE(s, i, lit, f) assert_line(s, i, lit, sizeof(lit) - 1, f)
#define WHOLE(s, lit, max) feed(lit, sizeof(lit) - 1, max, NULL, 0, s)

static void
test_append_consume(void **state)
{
	struct ps_buf b = { 0 };

	assert_int_equal(ps_buf_used(&b), 0);
	assert_int_equal(ps_buf_append(&b, NULL, 0), 0);
	assert_int_equal(ps_buf_append(&b, "hello world", 11), 0);
	assert_int_equal(ps_buf_used(&b), 11);
	ps_buf_consume(&b, 6);
	assert_int_equal(ps_buf_used(&b), 5);
	assert_memory_equal(b.data + b.off, "world", 5);
	ps_buf_consume(&b, 100);
	assert_int_equal(ps_buf_used(&b), 0);
	assert_int_equal(b.off, 0);
	assert_int_equal(ps_buf_append(&b, "x", 1), 0);
	ps_buf_clear(&b);
	assert_int_equal(ps_buf_used(&b), 0);
	ps_buf_free(&b);
	assert_null(b.data);
	assert_int_equal(b.cap, 0);
}

static void
test_compaction(void **state)
{
	struct ps_buf b = { 0 };
	char block[200], *p;
	size_t cap;

	memset(block, 'a', sizeof(block));
	block[150] = 'Z';
	assert_int_equal(ps_buf_append(&b, block, sizeof(block)), 0);
	cap = b.cap;
	p = b.data;
	ps_buf_consume(&b, 150);
	/* Room exists once the consumed front is reclaimed: no growth. */
	assert_non_null(ps_buf_reserve(&b, cap - 50));
	assert_int_equal(b.cap, cap);
	assert_ptr_equal(b.data, p);
	assert_int_equal(b.off, 0);
	assert_int_equal(ps_buf_used(&b), 50);
	assert_int_equal(b.data[0], 'Z');
	/* More than fits: it grows and keeps the bytes. */
	p = ps_buf_reserve(&b, cap);
	assert_non_null(p);
	assert_true(b.cap >= 50 + cap);
	assert_ptr_equal(p, b.data + b.len);
	assert_int_equal(b.data[0], 'Z');
	ps_buf_free(&b);
}

static void
test_growth(void **state)
{
	struct ps_buf b = { 0 };
	size_t total = 0, i, n;
	char chunk[4096];

	srand(1);
	while (total < (1u << 20)) {
		n = 1 + (size_t)rand() % sizeof(chunk);
		for (i = 0; i < n; i++)
			chunk[i] = (char)((total + i) % 251);
		assert_int_equal(ps_buf_append(&b, chunk, n), 0);
		total += n;
	}
	assert_int_equal(ps_buf_used(&b), total);
	for (i = 0; i < total; i++)
		assert_int_equal((unsigned char)b.data[i], i % 251);
	ps_buf_free(&b);
}

static void
test_reserve_overflow(void **state)
{
	struct ps_buf b = { 0 };

	assert_int_equal(ps_buf_append(&b, "0123456789", 10), 0);
	assert_null(ps_buf_reserve(&b, SIZE_MAX - 5));
	assert_int_equal(ps_buf_used(&b), 10);
	assert_memory_equal(b.data, "0123456789", 10);
	ps_buf_free(&b);
}

static void
test_line_basic(void **state)
{
	struct seen s = { 0 };

	WHOLE(&s, "HELO a\r\nMAIL\n\r\nx\ry\r\n\nab\r\r\nlast", 100);
	assert_int_equal(s.nlines, 6);
	LINE(&s, 0, "HELO a", PS_LINE_CRLF);
	LINE(&s, 1, "MAIL", PS_LINE_BARE_LF);
	LINE(&s, 2, "", PS_LINE_CRLF);
	LINE(&s, 3, "x\ry", PS_LINE_CRLF);
	LINE(&s, 4, "", PS_LINE_BARE_LF);
	LINE(&s, 5, "ab\r", PS_LINE_CRLF);
	seen_free(&s);
}

/* A CR as the last byte buffered waits to learn what follows it. */
static void
test_line_cr_at_end(void **state)
{
	struct ps_linereader r = { .max = 100 };
	struct ps_buf b = { 0 };
	struct ps_line line;

	ps_buf_append(&b, "abc\r", 4);
	assert_int_equal(ps_linereader_next(&r, &b, &line), 0);
	ps_buf_append(&b, "\n", 1);
	assert_int_equal(ps_linereader_next(&r, &b, &line), 1);
	assert_int_equal(line.flags, PS_LINE_CRLF);
	assert_int_equal(line.len, 3);
	assert_int_equal(line.consumed, 5);
	ps_buf_consume(&b, line.consumed);
	ps_buf_append(&b, "abc\r", 4);
	assert_int_equal(ps_linereader_next(&r, &b, &line), 0);
	ps_buf_append(&b, "d\n", 2);
	assert_int_equal(ps_linereader_next(&r, &b, &line), 1);
	assert_int_equal(line.flags, PS_LINE_BARE_LF);
	assert_int_equal(line.len, 5);
	assert_memory_equal(line.data, "abc\rd", 5);
	ps_buf_free(&b);
}

static void
test_line_binary(void **state)
{
	static const char in[] = "a\0b\xff\r\n\0\n\x80\r\0\r\n";
	struct seen s = { 0 };

	feed(in, sizeof(in) - 1, 64, NULL, 0, &s);
	assert_int_equal(s.nlines, 3);
	LINE(&s, 0, "a\0b\xff", PS_LINE_CRLF);
	LINE(&s, 1, "\0", PS_LINE_BARE_LF);
	LINE(&s, 2, "\x80\r\0", PS_LINE_CRLF);
	check_splits(in, sizeof(in) - 1, 64);
	check_splits(in, sizeof(in) - 1, 2);
	seen_free(&s);
}

/* Lines of exactly max, max + 1 and more, with each terminator. */
static void
test_line_bounds(void **state)
{
	static const char in[] = "12345678\r\n"
				 "12345678\n"
				 "123456789\r\n"
				 "123456789\n"
				 "12345678\r\r\n"
				 "1234567890abcdef\n"
				 "next\r\n";
	struct seen s = { 0 };

	WHOLE(&s, in, 8);
	assert_int_equal(s.nlines, 7);
	LINE(&s, 0, "12345678", PS_LINE_CRLF);
	LINE(&s, 1, "12345678", PS_LINE_BARE_LF);
	LINE(&s, 2, "12345678", PS_LINE_TOOLONG);
	LINE(&s, 3, "12345678", PS_LINE_TOOLONG);
	LINE(&s, 4, "12345678", PS_LINE_TOOLONG);
	LINE(&s, 5, "12345678", PS_LINE_TOOLONG);
	LINE(&s, 6, "next", PS_LINE_CRLF);
	seen_free(&s);
	check_splits(in, sizeof(in) - 1, 8);
	check_splits(in, sizeof(in) - 1, 0);
	check_splits(in, sizeof(in) - 1, 1);
}

/* The body up to max plus a trailing CR is not yet known to be too long. */
static void
test_line_max_then_cr(void **state)
{
	struct ps_linereader r = { .max = 4 };
	struct ps_buf b = { 0 };
	struct ps_line line;

	ps_buf_append(&b, "abcd\r", 5);
	assert_int_equal(ps_linereader_next(&r, &b, &line), 0);
	ps_buf_append(&b, "e", 1);
	assert_int_equal(ps_linereader_next(&r, &b, &line), 1);
	assert_int_equal(line.flags, PS_LINE_TOOLONG);
	assert_int_equal(line.len, 4);
	assert_int_equal(line.consumed, 6);
	assert_memory_equal(line.data, "abcd", 4);
	ps_buf_consume(&b, line.consumed);
	assert_int_equal(r.discarding, 1);
	ps_buf_append(&b, "fg\r", 3);
	assert_int_equal(ps_linereader_next(&r, &b, &line), 0);
	assert_int_equal(ps_buf_used(&b), 0);
	ps_buf_append(&b, "\nok\n", 4);
	assert_int_equal(ps_linereader_next(&r, &b, &line), 1);
	assert_int_equal(r.discarding, 0);
	assert_int_equal(line.flags, PS_LINE_BARE_LF);
	assert_int_equal(line.len, 2);
	assert_memory_equal(line.data, "ok", 2);
	ps_buf_free(&b);
}

/* A 4 MiB line in 4 KiB reads: delivered once, never buffered whole. */
static void
test_line_huge(void **state)
{
	struct ps_linereader r = { .max = 1000 };
	struct ps_buf b = { 0 };
	struct seen s = { 0 };
	char chunk[4096];
	size_t i;

	for (i = 0; i < sizeof(chunk); i++)
		chunk[i] = (char)('a' + i % 26);
	for (i = 0; i < 1024; i++) {
		assert_int_equal(ps_buf_append(&b, chunk, sizeof(chunk)), 0);
		drain(&r, &b, &s);
		assert_int_equal(ps_buf_used(&b), 0);
	}
	assert_true(b.cap <= 2 * sizeof(chunk));
	assert_int_equal(ps_buf_append(&b, "tail\r\nnext line\r\n", 17), 0);
	drain(&r, &b, &s);
	assert_int_equal(s.nlines, 2);
	assert_line(&s, 0, chunk, 1000, PS_LINE_TOOLONG);
	LINE(&s, 1, "next line", PS_LINE_CRLF);
	seen_free(&s);
	ps_buf_free(&b);
}

/* A longer mixed session, checked against every way of splitting it. */
static void
test_line_splits(void **state)
{
	static const char in[] = "EHLO client.example\r\n"
				 "MAIL FROM:<a@b>\r\n"
				 "\r\n"
				 "bare\n"
				 "cr\rinside\r\n"
				 "\r\r\n"
				 "a much longer line than the bound\r\n"
				 "\n"
				 "nul\0byte\r\n"
				 "QUIT\r\n"
				 "unterminated\r";
	size_t max;

	for (max = 0; max < 40; max += 3)
		check_splits(in, sizeof(in) - 1, max);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_append_consume),
		cmocka_unit_test(test_compaction),
		cmocka_unit_test(test_growth),
		cmocka_unit_test(test_reserve_overflow),
		cmocka_unit_test(test_line_basic),
		cmocka_unit_test(test_line_cr_at_end),
		cmocka_unit_test(test_line_binary),
		cmocka_unit_test(test_line_bounds),
		cmocka_unit_test(test_line_max_then_cr),
		cmocka_unit_test(test_line_huge),
		cmocka_unit_test(test_line_splits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
