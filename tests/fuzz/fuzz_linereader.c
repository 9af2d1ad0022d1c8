/* libFuzzer target for the bounded line reader in core/buf.c. The first
 * byte picks the line bound and how the rest is cut into reads; every line
 * must meet the reader's promises and match a plain model that sees the
 * whole input at once, whatever the cuts. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <poshta/conn.h>

#include "buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x) ((x) ? (void)0 : abort())

static const size_t bounds[16] = {
	0, 1, 2, 3, 4, 5, 7, 8, 15, 16, 31, 64, 100, 255, 1000, 4096,
};

struct model_line {
	size_t off;
	size_t len;
	unsigned flags;
};

/* The reader's contract, stated directly over the whole input. */
static size_t
model(const uint8_t *p, size_t n, size_t max, struct model_line *out)
{
	size_t start = 0, i, k = 0, body;
	unsigned flags;

	for (i = 0; i < n; i++) {
		if (p[i] != '\n')
			continue;
		body = i - start;
		flags = PS_LINE_BARE_LF;
		if (body && p[i - 1] == '\r') {
			body--;
			flags = PS_LINE_CRLF;
		}
		if (body > max) {
			body = max;
			flags = PS_LINE_TOOLONG;
		}
		out[k++] = (struct model_line){ start, body, flags };
		start = i + 1;
	}
	/* An unterminated tail is reported once it is known too long. */
	body = n - start;
	if (body && p[n - 1] == '\r')
		body--;
	if (body > max)
		out[k++] = (struct model_line){ start, max, PS_LINE_TOOLONG };
	return k;
}

/* Next read size: whole, byte by byte, or pseudo-random up to a limit. */
static size_t
next_cut(unsigned mode, uint32_t *seed, size_t left)
{
	size_t n;

	if (mode == 0)
		return left;
	if (mode == 1)
		return 1;
	*seed = *seed * 1103515245u + 12345u;
	n = 1 + (*seed >> 16) % ((size_t)1 << (mode / 2 + 1));
	return n < left ? n : left;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ps_linereader r = { 0 };
	struct ps_buf b = { 0 };
	struct model_line *want;
	struct ps_line line;
	size_t nwant, got = 0, pos;
	unsigned mode;
	uint32_t seed;

	if (size < 1)
		return 0;
	r.max = bounds[data[0] & 0x0f];
	mode = data[0] >> 4;
	seed = data[0];
	data++;
	size--;
	want = malloc((size + 1) * sizeof(*want));
	CHECK(want != NULL);
	nwant = model(data, size, r.max, want);
	for (pos = 0; pos < size;) {
		size_t n = next_cut(mode, &seed, size - pos);

		CHECK(ps_buf_append(&b, data + pos, n) == 0);
		pos += n;
		while (ps_linereader_next(&r, &b, &line)) {
			CHECK(line.len <= r.max);
			CHECK(line.consumed >= line.len);
			CHECK(line.consumed <= ps_buf_used(&b));
			CHECK(line.data == b.data + b.off);
			CHECK(got < nwant);
			CHECK(line.flags == want[got].flags);
			CHECK(line.len == want[got].len);
			CHECK(memcmp(line.data, data + want[got].off,
				     line.len) == 0);
			got++;
			ps_buf_consume(&b, line.consumed);
		}
		CHECK(ps_buf_used(&b) <= r.max + 1);
	}
	CHECK(got == nwant);
	free(want);
	ps_buf_free(&b);
	return 0;
}
