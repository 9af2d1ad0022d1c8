/* libFuzzer target for libpsdsn. The first byte picks a mode: xtext (a
 * valid input decodes, and encode/decode round trips give the octets
 * back), the loop check on an arbitrary header, or a whole DSN whose
 * diagnostic and original are the input: CRLF lines of at most 998
 * octets, and the boundary at the start of no line but the delimiters. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dsn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x) ((x) ? (void)0 : abort())

static void
fuzz_xtext(const char *s, size_t len)
{
	char *dec = malloc(len + 1), *enc = malloc(3 * len + 1), *back;
	size_t dl, el, bl;
	int valid = dsn_xtext_valid(s, len);

	CHECK(dec && enc);
	if (dsn_xtext_decode(s, len, dec, len + 1, &dl) == 0) {
		CHECK(valid && dl <= len && strlen(dec) == dl);
		/* decoding then encoding gives canonical xtext that decodes
		 * to the same octets */
		CHECK(dsn_xtext_encode(dec, dl, enc, 3 * dl + 1, &el) == 0);
		CHECK(dsn_xtext_valid(enc, el));
	}
	CHECK(dsn_xtext_encode(s, len, enc, 3 * len + 1, &el) == 0);
	CHECK(dsn_xtext_valid(enc, el) && el >= len);
	back = malloc(el + 1);
	CHECK(back);
	if (!memchr(s, '\0', len)) {
		CHECK(dsn_xtext_decode(enc, el, back, el + 1, &bl) == 0);
		CHECK(bl == len && memcmp(back, s, len) == 0);
	}
	free(back);
	free(enc);
	free(dec);
}

struct mem {
	const char *data;
	size_t len;
	char *out;
	size_t out_len, out_cap;
};

static int
mem_read(void *arg, uint64_t off, void *buf, size_t len, size_t *got_r)
{
	struct mem *m = arg;

	*got_r = off >= m->len ? 0 : (m->len - off < len ? m->len - off : len);
	memcpy(buf, m->data + (off < m->len ? off : m->len), *got_r);
	return 0;
}

static int
mem_write(void *arg, const void *data, size_t len)
{
	struct mem *m = arg;

	if (m->out_len + len > m->out_cap) {
		m->out_cap = (m->out_len + len) * 2;
		m->out = realloc(m->out, m->out_cap);
		CHECK(m->out);
	}
	memcpy(m->out + m->out_len, data, len);
	m->out_len += len;
	return 0;
}

static void
check_dsn(const char *o, size_t len, const char *boundary)
{
	size_t bl = strlen(boundary), start = 0, delims = 0;

	for (size_t i = 0; i < len; i++) {
		CHECK(o[i] != '\r' || (i + 1 < len && o[i + 1] == '\n'));
		if (o[i] != '\n')
			continue;
		CHECK(i > 0 && o[i - 1] == '\r' && i - 1 - start <= 998);
		if (i - 1 - start >= bl + 2 && o[start] == '-' &&
		    o[start + 1] == '-' &&
		    strncasecmp(o + start + 2, boundary, bl) == 0)
			delims++;
		start = i + 1;
	}
	CHECK(start == len && delims == 4);
}

/* Input: the diagnostic up to a NUL, then the original. */
static void
fuzz_build(const char *s, size_t len, unsigned mode)
{
	const char *nul = memchr(s, '\0', len);
	size_t dl = nul ? (size_t)(nul - s) : 0;
	char diag[2001];
	struct mem m = {.data = s + (nul ? dl + 1 : 0),
			.len = len - (nul ? dl + 1 : 0)};
	struct dsn_rcpt rc = {
		.address = "bob@example.com", .status = "5.1.1",
		.action = mode & 1 ? DSN_FAILED : DSN_DELAYED,
		.remote_mta = "mx.example.com", .diag = diag,
	};
	struct dsn_report r = {
		.host = "mx.example.org", .id = "fuzz", .now = 1700000000,
		.sender = "alice@example.org", .ret = (int)(mode >> 1) % 3,
		.rcpts = &rc, .nrcpts = 1, .max_return = 1 << 16,
		.read = mem_read, .read_arg = &m, .smtputf8 = (mode >> 3) & 1,
	};
	struct dsn_plan p;

	if (rc.action == DSN_DELAYED)
		rc.status = "4.4.1";
	if (dl > 2000)
		dl = 2000;
	memcpy(diag, s, dl);
	diag[dl] = '\0';
	CHECK(dsn_plan(&r, &p, NULL) == 0);
	CHECK(dsn_write(&r, &p, mem_write, &m, NULL) == 0);
	check_dsn(m.out, m.out_len, p.boundary);
	free(m.out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data + 1;

	if (size == 0)
		return 0;
	switch (data[0] % 3) {
	case 0:
		fuzz_xtext(s, size - 1);
		break;
	case 1:
		CHECK(dsn_is_report(s, size - 1) >= 0);
		break;
	default:
		fuzz_build(s, size - 1, data[0] / 3);
		break;
	}
	return 0;
}
