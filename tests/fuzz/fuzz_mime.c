/* libFuzzer target for libpsmime (modules/mime). The first byte picks a
 * mode; the second seeds chunk sizes and limits.
 *
 * - message: the rest is a message, fed in random chunks and whole, with
 *   the default or small limits. Both trees must be equal and keep
 *   mime_tree_check's promises, and match the input: the root spans it,
 *   each body's line count is its LF octets, each body part of a
 *   multipart follows a line starting "--" and its parent's boundary.
 *   The cache must give the tree back and write the same blob again.
 *   Envelope fields go through the address, RFC 2047 and date parsers,
 *   bodies through their transfer decoding (chunked = whole), charset
 *   conversion and case folding, whose outputs must be UTF-8; every
 *   part is found again by its IMAP section number.
 * - blob: the rest is a cache payload given a valid header and CRC, so
 *   the reader's own checks are what stands; a tree it accepts must pass
 *   the checks and write back to the same octets.
 * - text: the rest goes to the field-level parsers directly. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mime.h"
#include "mime_private.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x) ((x) ? (void)0 : abort())

static uint32_t
next(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static void
check_utf8(const char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		int k = mime_utf8_seq((const unsigned char *)s + i, n - i);

		CHECK(k > 0);
		i += (size_t)k;
	}
}

/* ---- Field-level parsers --------------------------------------------- */

static void
fuzz_addresses(const char *s, size_t n)
{
	struct mime_address *l;
	unsigned count, open = 0;

	if (s == NULL || mime_address_parse(s, n, 0, &l, &count) != MIME_OK)
		return;
	CHECK(count <= n + 1);
	for (unsigned i = 0; i < count; i++) {
		CHECK(l[i].route == NULL || l[i].host != NULL);
		if (l[i].host != NULL) {
			CHECK(l[i].mailbox != NULL);
		} else if (l[i].mailbox != NULL) {
			CHECK(!open && l[i].name == NULL);
			open = 1;
		} else {
			CHECK(open && l[i].name == NULL);
			open = 0;
		}
	}
	CHECK(!open);
	free(l);
}

static void
fuzz_charsets(const char *s, size_t n)
{
	static const char *const charsets[] = {
		"utf-8", "iso-8859-1", "koi8-r", "windows-1251", "utf-16",
		"iso-2022-jp", "gb18030", "utf-7", "x-bogus",
	};
	char *out;
	size_t len;

	for (size_t i = 0; i < sizeof(charsets) / sizeof(charsets[0]); i++)
		if (mime_charset_to_utf8(charsets[i], s, n, &out, &len) ==
		    MIME_OK) {
			check_utf8(out, len);
			free(out);
		}
}

static void
fuzz_text(const char *s, size_t n)
{
	char *out, fold[3 * 256];
	size_t len;
	int64_t t;
	int tz;

	fuzz_addresses(s, n);
	if (mime_rfc2047_decode(s, n, &out, &len) == MIME_OK) {
		CHECK(out[len] == '\0');
		check_utf8(out, len);
		if (len <= 256) {
			size_t f = mime_casefold_utf8(out, len, fold);

			CHECK(f <= MIME_CASEFOLD_MAX(len));
			check_utf8(fold, f);
		}
		free(out);
	}
	if (mime_date_parse(s, n, &t, &tz) == MIME_OK)
		CHECK(tz > -6000 && tz < 6000);
	if (n <= 256) {
		size_t f = mime_casefold_utf8(s, n, fold);

		CHECK(f <= MIME_CASEFOLD_MAX(n));
		check_utf8(fold, f);
	}
}

/* ---- Bodies ---------------------------------------------------------- */

struct sink {
	char *p;
	size_t len, cap;
};

static void
sink_add(void *arg, const char *d, size_t n)
{
	struct sink *s = arg;

	CHECK(s->len + n <= s->cap);
	memcpy(s->p + s->len, d, n);
	s->len += n;
}

static void
utf8_sink(void *arg, const char *d, size_t n)
{
	check_utf8(d, n); /* whole characters in each call */
	sink_add(arg, d, n);
}

static void
fuzz_body(const struct mime_part *p, const char *body, size_t n,
	  uint32_t *rng)
{
	struct mime_decoder d;
	struct mime_charset_conv *c;
	struct sink whole = {.cap = n}, cut = {.cap = n}, text;
	const char *cs = mime_part_charset(p);

	whole.p = malloc(n + 1);
	cut.p = malloc(n + 1);
	mime_decoder_init(&d, p->cte);
	mime_decoder_feed(&d, body, n, sink_add, &whole);
	mime_decoder_finish(&d, sink_add, &whole);
	mime_decoder_init(&d, p->cte);
	for (size_t i = 0, k; i < n; i += k) {
		k = 1 + next(rng) % 16;
		k = k < n - i ? k : n - i;
		mime_decoder_feed(&d, body + i, k, sink_add, &cut);
	}
	mime_decoder_finish(&d, sink_add, &cut);
	CHECK(whole.len == cut.len &&
	      memcmp(whole.p, cut.p, whole.len) == 0);
	if (cs != NULL && mime_charset_conv_new(cs, &c) == MIME_OK) {
		text = (struct sink){.cap = whole.len * 4 + 16};
		text.p = malloc(text.cap);
		for (size_t i = 0, k; i < whole.len; i += k) {
			k = 1 + next(rng) % 16;
			k = k < whole.len - i ? k : whole.len - i;
			mime_charset_conv_feed(c, whole.p + i, k, utf8_sink,
					       &text);
		}
		mime_charset_conv_finish(c, utf8_sink, &text);
		mime_charset_conv_free(c);
		free(text.p);
	}
	free(whole.p);
	free(cut.p);
}

/* ---- Messages -------------------------------------------------------- */

struct msg {
	const char *s;
	size_t len;
	uint32_t rng;
	unsigned parts;
};

static uint64_t
lfs(const char *s, uint64_t from, uint64_t n)
{
	uint64_t k = 0;

	for (uint64_t i = from; i < from + n; i++)
		k += s[i] == '\n';
	return k;
}

/* The delimiter line before a body part at off: it starts with "--"
 * and the parent's boundary. */
static void
check_delimiter(const struct msg *m, const struct mime_part *parent,
		uint64_t off)
{
	const char *b = mime_param_get(parent->params, parent->nparams,
				       "boundary");
	uint64_t start, end = off;

	CHECK(b != NULL);
	if (off > 0 && m->s[off - 1] == '\n')
		end = off - 1;
	else
		CHECK(off == m->len);
	start = end;
	while (start > 0 && m->s[start - 1] != '\n')
		start--;
	CHECK(end - start >= 2 + strlen(b));
	CHECK(m->s[start] == '-' && m->s[start + 1] == '-');
	CHECK(memcmp(m->s + start + 2, b, strlen(b)) == 0);
}

/* IMAP section numbers (RFC 3501 6.4.5) name each part: walk the tree
 * numbering it the RFC's way and ask mime_part_section. */
static void walk_part(const struct mime_part *root,
		      const struct mime_part *p, unsigned *nums, size_t n);

static void
walk_msg(const struct mime_part *root, const struct mime_part *m,
	 unsigned *nums, size_t n)
{
	unsigned i = 0;

	if (n >= 120)
		return;
	if (!(m->flags & MIME_PART_MULTIPART)) {
		nums[n] = 1;
		walk_part(root, m, nums, n + 1);
		return;
	}
	for (const struct mime_part *c = m->children; c; c = c->next) {
		nums[n] = ++i;
		walk_part(root, c, nums, n + 1);
	}
	nums[n] = i + 1;
	CHECK(mime_part_section(root, nums, n + 1) == NULL);
}

static void
walk_part(const struct mime_part *root, const struct mime_part *p,
	  unsigned *nums, size_t n)
{
	CHECK(mime_part_section(root, nums, n) == p);
	if (p->flags & MIME_PART_MULTIPART)
		walk_msg(root, p, nums, n);
	else if (p->flags & MIME_PART_MESSAGE)
		walk_msg(root, p->children, nums, n);
	else if (n < 120) {
		nums[n] = 1;
		CHECK(mime_part_section(root, nums, n + 1) == NULL);
	}
}

static void
check_part(struct msg *m, const struct mime_part *p)
{
	const struct mime_envelope *e = p->envelope;

	m->parts++;
	CHECK(p->body_offset + p->body_size <= m->len);
	CHECK(p->body_lines == lfs(m->s, p->body_offset, p->body_size));
	if (p->parent != NULL && (p->parent->flags & MIME_PART_MULTIPART))
		check_delimiter(m, p->parent, p->header_offset);
	if (e != NULL) {
		fuzz_addresses(e->from, e->from ? strlen(e->from) : 0);
		fuzz_addresses(e->to, e->to ? strlen(e->to) : 0);
		if (e->subject != NULL)
			fuzz_text(e->subject, strlen(e->subject));
		if (e->date != NULL)
			fuzz_text(e->date, strlen(e->date));
	}
	if (p->nchildren == 0 && p->body_size <= 4096)
		fuzz_body(p, m->s + p->body_offset, p->body_size, &m->rng);
	for (const struct mime_part *c = p->children; c; c = c->next)
		check_part(m, c);
}

static struct mime_part *
parse(const char *s, size_t n, const struct mime_limits *lim, uint32_t *rng)
{
	struct mime_parser *p = mime_parser_new(lim);

	if (p == NULL)
		return NULL;
	for (size_t i = 0, k; i < n; i += k) {
		k = rng == NULL ? n : 1 + next(rng) % (1u << (next(rng) % 9));
		k = k < n - i ? k : n - i;
		CHECK(mime_parser_feed(p, s + i, k) == MIME_OK);
	}
	return mime_parser_finish(p);
}

static void
fuzz_message(const char *s, size_t n, uint8_t seed)
{
	struct mime_limits lim, *limp = NULL;
	struct msg m = {.s = s, .len = n, .rng = seed * 2654435761u + 1};
	struct mime_part *a, *b, *c;
	void *blob, *blob2;
	size_t bl, bl2;

	if (seed & 1) { /* small limits */
		lim = (struct mime_limits){
			.max_depth = 1 + seed % 7,
			.max_parts = 1 + seed % 23,
			.max_header = 1 + (size_t)seed * 7,
			.max_header_total = 1 + (size_t)seed * 29,
		};
		limp = &lim;
	}
	a = parse(s, n, limp, NULL);
	b = parse(s, n, limp, &m.rng);
	CHECK(a != NULL && b != NULL);
	CHECK(mime_tree_check(a) == MIME_OK);
	CHECK(mime_tree_compare(a, b) == 0);
	CHECK(a->header_offset == 0 && a->body_offset + a->body_size == n);
	check_part(&m, a);
	{
		unsigned nums[128];

		walk_msg(a, a, nums, 0);
	}
	if (limp != NULL)
		CHECK(m.parts <= lim.max_parts);

	CHECK(mime_cache_write(a, &blob, &bl) == MIME_OK);
	CHECK(mime_cache_read(blob, bl, &c) == MIME_OK);
	CHECK(mime_tree_compare(a, c) == 0);
	CHECK(mime_cache_write(c, &blob2, &bl2) == MIME_OK);
	CHECK(bl == bl2 && memcmp(blob, blob2, bl) == 0);
	free(blob);
	free(blob2);
	mime_tree_free(a);
	mime_tree_free(b);
	mime_tree_free(c);
}

/* ---- Blobs ----------------------------------------------------------- */

static void
fuzz_blob(const uint8_t *payload, size_t n)
{
	unsigned char *blob = malloc(16 + n);
	uint32_t crc = mime_crc32(payload, n);
	struct mime_part *t;
	void *again;
	size_t len;

	memcpy(blob, "PSMC", 4);
	blob[4] = MIME_CACHE_VERSION;
	memset(blob + 5, 0, 3);
	for (int i = 0; i < 4; i++) {
		blob[8 + i] = (unsigned char)(n >> (8 * i));
		blob[12 + i] = (unsigned char)(crc >> (8 * i));
	}
	memcpy(blob + 16, payload, n);
	if (mime_cache_read(blob, 16 + n, &t) == MIME_OK) {
		CHECK(mime_tree_check(t) == MIME_OK);
		CHECK(mime_cache_write(t, &again, &len) == MIME_OK);
		CHECK(len == 16 + n && memcmp(again, blob, len) == 0);
		free(again);
		mime_tree_free(t);
	}
	free(blob);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	switch (data[0] % 8) {
	case 6:
		fuzz_blob(data + 2, size - 2);
		break;
	case 7:
		fuzz_text((const char *)data + 2, size - 2);
		fuzz_charsets((const char *)data + 2, size - 2);
		break;
	default:
		fuzz_message((const char *)data + 2, size - 2, data[1]);
		break;
	}
	return 0;
}
