/* libFuzzer target for smtp.so's pure parts (modules/smtp/address.c,
 * command.c, body.c). The first byte picks a mode: command lines (every
 * parser on every line, checking what a parsed path promises), or the
 * DATA or BDAT state machine fed in cuts the byte chooses, which must
 * match a plain model over the whole input: the end only after CRLF "."
 * CRLF, dot-unstuffing, bare CR and LF flagged, BDAT octets unchanged. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "body.h"
#include "command.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x) ((x) ? (void)0 : abort())

static void
check_path(const struct smtp_path *p)
{
	size_t len = strlen(p->addr);

	CHECK(len <= SMTP_PATH_MAX);
	if (p->flags & SMTP_PATH_NULL) {
		CHECK(len == 0);
		return;
	}
	CHECK(p->local_len > 0 || (p->flags & SMTP_PATH_QUOTED));
	CHECK(p->local_len <= SMTP_LOCAL_MAX);
	if (!(p->flags & SMTP_PATH_NODOMAIN)) {
		CHECK(p->local_len < len && p->addr[p->local_len] == '@');
		CHECK(len - p->local_len - 1 <= SMTP_DOMAIN_MAX + 2);
	}
}

static void
fuzz_line(const char *s, size_t len)
{
	struct smtp_mail m;
	struct smtp_rcpt r;
	struct smtp_path p;
	uint64_t n;
	size_t args, end;
	int last;

	smtp_verb_parse(s, len, &args);
	CHECK(args <= len);
	if (smtp_mail_parse(s, len, &m) == SMTP_P_OK) {
		check_path(&m.path);
		CHECK(strlen(m.envid) <= SMTP_ENVID_MAX);
	}
	if (smtp_rcpt_parse(s, len, &r) == SMTP_P_OK) {
		check_path(&r.path);
		CHECK(!(r.path.flags & SMTP_PATH_NULL));
		CHECK(strlen(r.orcpt) <= SMTP_ORCPT_MAX);
	}
	if (smtp_path_parse(s, len, 1, 1, &p, &end) == SMTP_P_OK) {
		check_path(&p);
		CHECK(end >= 2 && end <= len && s[end - 1] == '>');
	}
	if (smtp_bdat_parse(s, len, &n, &last) == SMTP_P_OK)
		CHECK(len > 0 && s[0] >= '0' && s[0] <= '9');
	smtp_helo_ok(s, len);
	smtp_domain_ok(s, len);
}

static void
fuzz_lines(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data, *nl;

	while (size > 0) {
		size_t n = (nl = memchr(s, '\n', size)) ? (size_t)(nl - s) :
			size;

		fuzz_line(s, n);
		n += nl ? 1 : 0;
		s += n;
		size -= n;
	}
}

struct out {
	uint8_t *p;
	size_t len, cap;
};

static void
collect(void *arg, const char *data, size_t len)
{
	struct out *o = arg;

	CHECK(o->len + len <= o->cap);
	memcpy(o->p + o->len, data, len);
	o->len += len;
}

/* The model: where the data ends (0: no end), octets included. */
static size_t
model_end(const uint8_t *p, size_t n)
{
	if (n >= 3 && memcmp(p, ".\r\n", 3) == 0)
		return 3;
	for (size_t i = 0; i + 5 <= n; i++)
		if (memcmp(p + i, "\r\n.\r\n", 5) == 0)
			return i + 5;
	return 0;
}

static unsigned
model_flags(const uint8_t *p, size_t n, int cr_at_end_is_bare)
{
	unsigned f = 0;

	for (size_t i = 0; i < n; i++) {
		if (p[i] == '\n' && (i == 0 || p[i - 1] != '\r'))
			f |= SMTP_BODY_BARE_LF;
		if (p[i] == '\r' && (i + 1 < n ? p[i + 1] != '\n' :
				     cr_at_end_is_bare))
			f |= SMTP_BODY_BARE_CR;
	}
	return f;
}

/* Unstuffed lines, when every line end is CRLF. */
static size_t
model_unstuff(const uint8_t *p, size_t n, uint8_t *out)
{
	size_t k = 0;
	int bol = 1;

	for (size_t i = 0; i < n; i++) {
		if (!(bol && p[i] == '.'))
			out[k++] = p[i];
		bol = p[i] == '\n';
	}
	return k;
}

static void
fuzz_body(const uint8_t *data, size_t size, int raw, unsigned mode)
{
	struct out o = {malloc(size + 1), 0, size + 1};
	uint8_t *want = malloc(size + 1);
	struct smtp_body b;
	size_t pos = 0, end = raw ? 0 : model_end(data, size), used;
	uint32_t seed = mode;

	CHECK(o.p && want);
	smtp_body_init(&b, raw);
	while (pos < size && !smtp_body_done(&b)) {
		size_t n = size - pos;

		seed = seed * 1103515245u + 12345u;
		if (mode & 1)
			n = 1 + (seed >> 16) % (n < 64 ? n : 64);
		used = smtp_body_feed(&b, (const char *)data + pos, n,
				      collect, &o);
		CHECK(used == n || smtp_body_done(&b));
		pos += used;
	}
	if (raw)
		smtp_body_finish(&b, collect, &o);
	CHECK(b.size == o.len);
	CHECK(smtp_body_done(&b) == (end != 0));
	CHECK(pos == (end ? end : size));
	CHECK(b.flags == model_flags(data, pos, raw || end));
	if (raw) {
		CHECK(o.len == size && memcmp(o.p, data, size) == 0);
	} else if (!b.flags && end) {
		size_t k = model_unstuff(data, end - 3, want);

		CHECK(o.len == k && memcmp(o.p, want, k) == 0);
	}
	free(o.p);
	free(want);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned mode;

	if (size < 1)
		return 0;
	mode = data[0];
	data++;
	size--;
	switch (mode % 3) {
	case 0:
		fuzz_lines(data, size);
		break;
	case 1:
		fuzz_body(data, size, 0, mode / 3);
		break;
	default:
		fuzz_body(data, size, 1, mode / 3);
		break;
	}
	return 0;
}
