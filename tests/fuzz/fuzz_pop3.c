/* libFuzzer target for pop3.so's pure parts (modules/pop3/command.c,
 * stuff.c). The first byte picks a mode: command lines (checking what a
 * parsed command promises), or the stuffer fed in cuts the next bytes
 * choose, which must match a plain model over the whole input: every
 * line starting with "." doubled, a CRLF added when the last line has no
 * break, ".\r\n" at the end; TOP never sends more than the model does. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "command.h"
#include "stuff.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x) ((x) ? (void)0 : abort())

static void
fuzz_line(const char *s, size_t len)
{
	struct pop3_cmd c;
	uint32_t n;

	if (pop3_cmd_parse(s, len, &c) == 0) {
		size_t k = strlen(c.keyword);

		CHECK(k >= 3 && k <= 4);
		for (size_t i = 0; i < c.nargs && i < POP3_MAX_ARGS; i++) {
			CHECK(c.args[i] >= s && c.args[i] + c.lens[i] <= s + len);
			CHECK(c.lens[i] > 0 && !memchr(c.args[i], ' ', c.lens[i]));
			if (pop3_number(c.args[i], c.lens[i], 0, &n) == 0)
				CHECK(c.lens[i] <= 10);
		}
		CHECK(!c.rest || c.rest + c.rest_len == s + len);
	}
}

/* The model: RETR's output over the whole input at once. */
static size_t
model(const char *in, size_t len, char *out)
{
	size_t o = 0;
	int bol = 1;

	for (size_t i = 0; i < len; i++) {
		if (bol && in[i] == '.')
			out[o++] = '.';
		out[o++] = in[i];
		bol = in[i] == '\n';
	}
	if (!bol) {
		out[o++] = '\r';
		out[o++] = '\n';
	}
	memcpy(out + o, ".\r\n", 3);
	return o + 3;
}

static void
fuzz_stuff(const uint8_t *cuts, size_t ncuts, const char *in, size_t len,
	   int top, uint64_t lines)
{
	char *want = malloc(2 * len + 5), *got = malloc(2 * len + 5);
	struct pop3_stuff st;
	size_t o = 0, at = 0, wlen = model(in, len, want);

	pop3_stuff_init(&st, top, lines);
	for (size_t i = 0; at < len; i++) {
		size_t step = i < ncuts ? cuts[i] : len - at;

		if (step > len - at)
			step = len - at;
		o += pop3_stuff(&st, in + at, step, got + o);
		at += step;
	}
	o += pop3_stuff_end(&st, got + o);
	CHECK(o >= 3 && memcmp(got + o - 3, ".\r\n", 3) == 0);
	if (!top || !st.done) {
		CHECK(o == wlen && memcmp(got, want, o) == 0);
	} else {
		/* TOP stopped early: a prefix of the model, ending a line. */
		CHECK(o - 3 <= wlen && memcmp(got, want, o - 3) == 0);
		CHECK(o == 3 || got[o - 4] == '\n');
	}
	free(want);
	free(got);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t ncuts;

	if (size < 3)
		return 0;
	if (data[0] & 1) {
		fuzz_line((const char *)data + 1, size - 1);
		return 0;
	}
	ncuts = data[1] % 16;
	if (size < 3 + ncuts)
		return 0;
	fuzz_stuff(data + 3, ncuts, (const char *)data + 3 + ncuts,
		   size - 3 - ncuts, data[0] & 2, data[2] % 8);
	return 0;
}
