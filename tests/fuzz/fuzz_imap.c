/* libFuzzer target for imap.so's pure parts (modules/imap/). The first
 * byte picks a mode and its options:
 * - parser: the input is client traffic, split into lines (LF, a CR
 *   before it dropped; past 512 octets a line arrives truncated, as the
 *   core delivers it) and the literals the parser asks for. The session
 *   runs twice, literals fed whole and in varying chunks, and both must
 *   answer the same; every token tree must keep the grammar's promises.
 * - sequence sets: normalized, matching a plain model, and formatting
 *   then parsing again gives the same set.
 * - modified UTF-7: decode(encode(x)) == x for valid UTF-8 x without
 *   NUL, encode(decode(y)) == y for every y decode accepts.
 * - dates, quoting and sections: format(parse(x)) parses to the same
 *   time; a quoted or literal string parses back to the same octets. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "chars.h"
#include "datetime.h"
#include "mutf7.h"
#include "parser.h"
#include "quote.h"
#include "section.h"
#include "seqset.h"
#include "utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x) ((x) ? (void)0 : abort())
#define MAX_LINE 512

/* ---- Parser ------------------------------------------------------------- */

struct session {
	struct imap_limits lim;
	unsigned flags;
	unsigned opts;   /* bit 0: chunked literals; 1: refuse big APPEND
			  * literals; 2: fail after a streamed one */
	uint32_t seed;
	struct imap_buf out;
};

static void
check_args(const struct session *se, const struct imap_arg *a, size_t n,
	   unsigned depth, size_t *tokens, int in_section);

/* in_section: a is what a section's brackets hold, where "NIL" is the
 * text of a section-spec, not NIL. */
static void
check_arg(const struct session *se, const struct imap_arg *a,
	  unsigned depth, size_t *tokens, int in_section)
{
	const unsigned char *s = (const unsigned char *)a->str;
	const char *t;
	size_t len;
	unsigned f = 0;
	uint32_t u;
	uint64_t u64;
	struct imap_section sec;

	++*tokens;
	switch (a->type) {
	case IMAP_ARG_ATOM:
	case IMAP_ARG_NIL:
		CHECK(a->len > 0 && s[a->len] == '\0');
		for (size_t i = 0; i < a->len; i++) {
			if (i == 0 && s[0] == '\\') {
				f |= IMAP_ARGF_BACKSLASH;
				continue;
			}
			CHECK(imap_is_list_char(s[i]));
			if (s[i] == '%' || s[i] == '*')
				f |= IMAP_ARGF_WILDCARD;
			if (s[i] == ']')
				f |= IMAP_ARGF_RBRACKET;
		}
		CHECK(f == a->flags);
		CHECK((f & IMAP_ARGF_BACKSLASH) == 0 ||
		      (a->len > 1 && f == IMAP_ARGF_BACKSLASH));
		CHECK((a->type == IMAP_ARG_NIL) == (!in_section &&
		      a->len == 3 && strcasecmp(a->str, "NIL") == 0 && !f));
		break;
	case IMAP_ARG_QUOTED:
		CHECK(s[a->len] == '\0');
		for (size_t i = 0; i < a->len; i++) {
			CHECK(s[i] && s[i] != '\r' && s[i] != '\n');
			if (s[i] >= 0x80)
				f |= IMAP_ARGF_8BIT;
		}
		CHECK(f == a->flags);
		if (f)
			CHECK((se->flags & IMAP_PARSE_UTF8) &&
			      imap_utf8_valid(a->str, a->len));
		CHECK(imap_arg_get_string(a, &t, &len) == 0 && len == a->len);
		break;
	case IMAP_ARG_LITERAL:
		CHECK(s[a->len] == '\0' && a->len == a->size);
		CHECK(a->len <= se->lim.max_literal);
		CHECK(!(a->flags & IMAP_ARGF_NUL) ||
		      (a->flags & IMAP_ARGF_LITERAL8));
		CHECK((memchr(s, 0, a->len) != NULL) ==
		      !!(a->flags & IMAP_ARGF_NUL));
		break;
	case IMAP_ARG_STREAM:
		CHECK(a->str == NULL && a->count == 0);
		break;
	case IMAP_ARG_LIST:
	case IMAP_ARG_SECTION:
		CHECK(depth < se->lim.max_depth);
		check_args(se, a->list, a->count, depth + 1, tokens,
			   a->type == IMAP_ARG_SECTION);
		if (a->type == IMAP_ARG_LIST)
			break;
		CHECK(a->count <= 2);
		if (a->flags & IMAP_ARGF_RAW)
			CHECK(a->raw_len > a->len && a->raw[a->len] == '[' &&
			      strncmp(a->raw, a->str, a->len) == 0 &&
			      imap_arg_get_astring(a, &t, &len) == 0);
		if (a->flags & IMAP_ARGF_PARTIAL)
			CHECK(a->partial_len > 0);
		if (imap_section_parse(a, &sec) == 0) {
			CHECK(sec.nparts <= IMAP_SECTION_PARTS);
			for (size_t i = 0; i < sec.nparts; i++)
				CHECK(sec.part[i] > 0);
			CHECK(sec.att < IMAP_BINARY ||
			      sec.text == IMAP_SECTION_ALL);
		}
		break;
	}
	/* The accessors must agree with the type and never crash. */
	if (imap_arg_get_atom(a, &t) == 0)
		CHECK(a->type == IMAP_ARG_ATOM || a->type == IMAP_ARG_NIL);
	if (imap_arg_get_nstring(a, &t, &len) == 0)
		CHECK(t != NULL || a->type == IMAP_ARG_NIL);
	if (imap_arg_get_number(a, &u) == 0)
		CHECK(imap_arg_get_number64(a, &u64) == 0 && u64 == u);
	imap_arg_get_nz_number(a, &u);
	imap_arg_get_list_mailbox(a, &t, &len);
	imap_arg_get_flag(a, &t);
	imap_section_parse(a, &sec);
}

static void
check_args(const struct session *se, const struct imap_arg *a, size_t n,
	   unsigned depth, size_t *tokens, int in_section)
{
	for (size_t i = 0; i < n; i++)
		check_arg(se, &a[i], depth, tokens, in_section);
}

static void
dump(struct imap_buf *b, const struct imap_arg *a, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		imap_buf_addu64(b, a[i].type);
		imap_buf_addu64(b, a[i].flags);
		imap_buf_addu64(b, a[i].len);
		imap_buf_addc(b, ':');
		if (a[i].str)
			imap_buf_add(b, a[i].str, a[i].len);
		imap_buf_addu64(b, a[i].size);
		imap_buf_addu64(b, a[i].partial_start);
		imap_buf_addu64(b, a[i].partial_len);
		imap_buf_addc(b, '(');
		dump(b, a[i].list, a[i].count);
		imap_buf_addc(b, ')');
	}
}

static void
command_done(struct session *se, struct imap_parser *p)
{
	const struct imap_arg *a = NULL;
	const char *tag = imap_parser_tag(p), *cmd = imap_parser_command(p);
	size_t n, tokens = 0;

	CHECK(tag && cmd && imap_parser_error(p) == NULL);
	for (size_t i = 0; tag[i]; i++)
		CHECK(imap_is_tag_char((unsigned char)tag[i]));
	for (size_t i = 0; cmd[i]; i++)
		CHECK(imap_is_atom_char((unsigned char)cmd[i]) &&
		      !(cmd[i] >= 'a' && cmd[i] <= 'z'));
	a = imap_parser_args(p, &n);
	check_args(se, a, n, 0, &tokens, 0);
	CHECK(tokens <= se->lim.max_tokens);
	imap_buf_adds(&se->out, "DONE ");
	imap_buf_adds(&se->out, tag);
	imap_buf_adds(&se->out, cmd);
	dump(&se->out, a, n);
	imap_buf_addc(&se->out, '\n');
}

static void
command_failed(struct session *se, struct imap_parser *p)
{
	const struct imap_parse_error *e = imap_parser_error(p);
	const char *tag = imap_parser_tag(p);

	CHECK(e && e->text && e->text[0]);
	imap_buf_adds(&se->out, "ERROR ");
	imap_buf_adds(&se->out, tag ? tag : "*");
	imap_buf_adds(&se->out, e->text);
	imap_buf_addu64(&se->out, (unsigned)e->no * 2 + (unsigned)e->close);
	imap_buf_addc(&se->out, '\n');
}

/* The next chunk size for a literal with left octets to come. */
static size_t
chunk(struct session *se, uint64_t left)
{
	size_t n;

	if (!(se->opts & 1))
		return (size_t)left;
	se->seed = se->seed * 1103515245u + 12345u;
	n = 1 + (se->seed >> 16) % 97;
	return n < left ? n : (size_t)left;
}

/* Literal octets at data[*pos_r]; the answer after the last of them,
 * or 0 when the input ran out. */
static int
feed_literal(struct session *se, struct imap_parser *p, const uint8_t *data,
	     size_t size, size_t *pos_r)
{
	const struct imap_literal *li = imap_parser_literal_info(p);
	uint64_t left = li->size;
	int r = IMAP_PARSE_LINE;

	if (left > size - *pos_r)
		return 0;
	if (left == 0 && ((se->seed >> 3) & 1))
		return imap_parser_literal(p, NULL, 0);
	while (left > 0) {
		size_t n = chunk(se, left);

		r = imap_parser_literal(p, data + *pos_r, n);
		*pos_r += n;
		left -= n;
		CHECK(r == (left ? IMAP_PARSE_MORE : IMAP_PARSE_LINE) ||
		      (r == IMAP_PARSE_MORE && left));
	}
	return r;
}

static void
session(struct session *se, const uint8_t *data, size_t size)
{
	struct imap_parser *p = imap_parser_new(&se->lim, se->flags);
	size_t pos = 0;

	CHECK(p);
	imap_buf_reset(&se->out);
	while (pos < size) {
		const uint8_t *nl = memchr(data + pos, '\n', size - pos);
		size_t len, next;
		unsigned lflags = 0;
		int r;

		if (!nl)
			break;
		next = (size_t)(nl - data) + 1;
		len = (size_t)(nl - data) - pos;
		if (len && data[pos + len - 1] == '\r')
			len--;
		if (len > MAX_LINE) {
			len = MAX_LINE;
			lflags = IMAP_LINE_TRUNCATED;
		}
		r = imap_parser_line(p, (const char *)data + pos, len, lflags);
		pos = next;
		while (r == IMAP_PARSE_LITERAL) {
			const struct imap_literal *li;
			const char *cmd = imap_parser_command(p);
			int append;

			li = imap_parser_literal_info(p);
			append = cmd && !strcmp(cmd, "APPEND") &&
				li->depth == 0 && !li->discard;

			imap_buf_adds(&se->out, "LIT ");
			imap_buf_addu64(&se->out, li->size);
			imap_buf_addu64(&se->out, (unsigned)li->sync);
			imap_buf_addu64(&se->out, li->argno);
			imap_buf_addu64(&se->out, li->depth);
			imap_buf_addu64(&se->out, (unsigned)li->discard);
			if (li->discard)
				CHECK(!li->sync);
			if (append && (se->opts & 2) && li->size > 64)
				r = imap_parser_fail(p, 1, "TOOBIG", "big");
			else
				r = imap_parser_literal_begin(p, append);
			if (r != IMAP_PARSE_LITERAL)
				break;
			li = imap_parser_literal_info(p);
			if (li->discard)
				CHECK(!li->sync && !li->stream);
			imap_buf_addu64(&se->out, (unsigned)li->discard);
			if (li->stream) {
				if (li->size > size - pos)
					goto out;
				pos += li->size;
				r = IMAP_PARSE_LINE;
				if (se->opts & 4)
					r = imap_parser_fail(p, 1, NULL, "x");
				CHECK(r == IMAP_PARSE_LINE);
				break;
			}
			if ((r = feed_literal(se, p, data, size, &pos)) == 0)
				goto out;
			CHECK(r == IMAP_PARSE_LINE);
		}
		CHECK(r != IMAP_PARSE_MORE);
		if (r == IMAP_PARSE_DONE)
			command_done(se, p);
		else if (r == IMAP_PARSE_ERROR) {
			command_failed(se, p);
			if (imap_parser_error(p)->close)
				break;
		} else {
			CHECK(r == IMAP_PARSE_LINE);
		}
	}
out:
	CHECK(!se->out.error);
	imap_parser_free(p);
}

static void
fuzz_parser(const uint8_t *data, size_t size, unsigned opt)
{
	struct session a, b;

	memset(&a, 0, sizeof(a));
	imap_limits_default(&a.lim);
	if (opt & 1) {
		a.lim.max_depth = 3;
		a.lim.max_tokens = 12;
		a.lim.max_literal = 40;
		a.lim.max_command = 300;
		a.lim.max_discard = 100;
	}
	if (opt & 2)
		a.lim.max_nonsync = UINT64_MAX;
	a.flags = (opt & 4 ? IMAP_PARSE_UTF8 : 0) |
		(opt & 8 ? IMAP_PARSE_BINARY : 0);
	a.opts = ((opt >> 4) & 3) << 1;
	a.seed = opt;
	imap_buf_init(&a.out, 1 << 24);
	b = a;
	imap_buf_init(&b.out, 1 << 24);
	b.opts |= 1;
	session(&a, data, size);
	session(&b, data, size);
	CHECK(a.out.len == b.out.len &&
	      memcmp(imap_buf_str(&a.out), imap_buf_str(&b.out),
		     a.out.len) == 0);
	imap_buf_free(&a.out);
	imap_buf_free(&b.out);
}

/* ---- Sequence sets ------------------------------------------------------ */

/* The plain model: each item's range, in the order written. */
static size_t
model_ranges(const char *s, size_t len, uint32_t star, uint32_t *lo,
	     uint32_t *hi, size_t max)
{
	size_t n = 0, i = 0;

	while (i < len && n < max) {
		uint32_t v[2];
		int k = 0;

		for (; k < 2; k++) {
			if (s[i] == '*') {
				v[k] = star;
				i++;
			} else {
				v[k] = (uint32_t)strtoul(s + i, NULL, 10);
				while (i < len && imap_is_digit(
					(unsigned char)s[i]))
					i++;
			}
			if (i == len || s[i] != ':')
				break;
			i++;
		}
		if (k == 0)
			v[1] = v[0];
		lo[n] = v[0] < v[1] ? v[0] : v[1];
		hi[n] = v[0] < v[1] ? v[1] : v[0];
		n++;
		i++; /* "," */
	}
	return n;
}

static int
model_contains(const uint32_t *lo, const uint32_t *hi, size_t n, uint32_t v)
{
	for (size_t i = 0; i < n; i++)
		if (v >= lo[i] && v <= hi[i] && v != 0)
			return 1;
	return 0;
}

static void
check_normal(const struct imap_seqset *s)
{
	for (size_t i = 0; i < s->n; i++) {
		CHECK(s->r[i].first >= 1 && s->r[i].first <= s->r[i].last);
		if (i)
			CHECK((uint64_t)s->r[i - 1].last + 1 < s->r[i].first);
	}
}

static void
fuzz_seqset(const uint8_t *data, size_t size)
{
	struct imap_seqset s, t;
	struct imap_buf b;
	uint32_t star, lo[64], hi[64];
	size_t max, n;
	char text[256];
	int r;

	if (size < 5)
		return;
	memcpy(&star, data, 4);
	max = data[4] % 64;
	data += 5;
	size -= 5;
	if (size >= sizeof(text))
		return;
	memcpy(text, data, size);
	text[size] = '\0';
	imap_seqset_init(&s);
	imap_seqset_init(&t);
	imap_buf_init(&b, 4096);
	r = imap_seqset_parse(&s, text, size, star, max);
	if (r == IMAP_SEQSET_SAVED)
		CHECK(size == 1 && text[0] == '$' && s.n == 0);
	if (r != 0) {
		CHECK(s.n == 0);
		goto out;
	}
	check_normal(&s);
	n = model_ranges(text, size, star, lo, hi, 64);
	CHECK(n >= 1 && n <= max);
	for (size_t i = 0; i < n; i++) {
		uint32_t probe[4] = {lo[i], hi[i], lo[i] - 1, hi[i] + 1};

		for (int k = 0; k < 4; k++)
			CHECK(imap_seqset_contains(&s, probe[k]) ==
			      model_contains(lo, hi, n, probe[k]));
	}
	CHECK(imap_seqset_last(&s) == (s.n ? s.r[s.n - 1].last : 0));
	/* Format, parse again: the same set. */
	CHECK(imap_seqset_format(&s, &b) == 0);
	if (s.n) {
		CHECK(imap_seqset_parse(&t, imap_buf_str(&b), b.len, 0,
					s.n) == 0);
		CHECK(t.n == s.n &&
		      memcmp(t.r, s.r, s.n * sizeof(*s.r)) == 0);
		CHECK(imap_seqset_count(&t) == imap_seqset_count(&s));
	}
	/* The items in their order, as COPYUID writes them. */
	imap_buf_reset(&b);
	for (size_t i = 0; i < n; i++)
		lo[i] = lo[i] ? lo[i] : 1;
	CHECK(imap_seqset_format_list(lo, n, &b) == 0);
	CHECK(imap_seqset_parse(&t, imap_buf_str(&b), b.len, 0, n) == 0);
	for (size_t i = 0; i < n; i++)
		CHECK(imap_seqset_contains(&t, lo[i]));
out:
	imap_buf_free(&b);
	imap_seqset_free(&s);
	imap_seqset_free(&t);
}

/* ---- Modified UTF-7 ----------------------------------------------------- */

static void
fuzz_mutf7(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	struct imap_buf a, b;
	int r;

	imap_buf_init(&a, 1 << 20);
	imap_buf_init(&b, 1 << 20);
	r = imap_mutf7_decode(in, size, &a);
	CHECK(r == 0 || r == IMAP_MUTF7_EINVAL);
	CHECK((r == 0) == imap_mutf7_valid(in, size));
	if (r == 0) {
		CHECK(imap_utf8_valid(a.data ? a.data : "", a.len));
		CHECK(!a.len || !memchr(a.data, 0, a.len));
		CHECK(imap_mutf7_encode(imap_buf_str(&a), a.len, &b) == 0);
		CHECK(b.len == size && memcmp(imap_buf_str(&b), in, size) == 0);
	}
	imap_buf_reset(&a);
	imap_buf_reset(&b);
	r = imap_mutf7_encode(in, size, &a);
	CHECK((r == 0) == (imap_utf8_valid(in, size) &&
			   !memchr(in, 0, size)));
	if (r == 0) {
		for (size_t i = 0; i < a.len; i++)
			CHECK(a.data[i] >= 0x20 && a.data[i] <= 0x7e);
		CHECK(imap_mutf7_decode(imap_buf_str(&a), a.len, &b) == 0);
		CHECK(b.len == size && memcmp(imap_buf_str(&b), in, size) == 0);
	}
	imap_buf_free(&a);
	imap_buf_free(&b);
}

/* ---- Dates, quoting ----------------------------------------------------- */

static void
fuzz_dates(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	char out[IMAP_DATETIME_LEN + 1];
	struct imap_date d;
	int64_t t, t2;
	int tz, tz2;
	int16_t z;

	if (imap_datetime_parse(in, size, &t, &tz) == 0) {
		CHECK(imap_datetime_format(t, tz, out) == IMAP_DATETIME_LEN);
		CHECK(out[0] == '"' && out[27] == '"' && out[28] == '\0');
		CHECK(imap_datetime_parse(out + 1, 26, &t2, &tz2) == 0);
		/* A leap second reads as the next minute's first. */
		CHECK(tz2 == tz && (t2 == t || memcmp(in + 18, "60", 2) == 0));
		if (in[0] != ' ' && memcmp(in + 18, "60", 2) != 0 &&
		    memcmp(in + 21, "-0000", 5) != 0)
			CHECK(strncasecmp(out + 1, in, 26) == 0);
	}
	if (imap_date_parse(in, size, &d) == 0) {
		struct imap_date d2;

		CHECK(d.mon >= 1 && d.mon <= 12 && d.mday >= 1 &&
		      d.mday <= 31);
		imap_datetime_format(imap_date_time(&d), 0, out);
		CHECK(imap_date_parse(out + 1, 11, &d2) == 0);
		CHECK(d2.year == d.year && d2.mon == d.mon &&
		      d2.mday == d.mday);
	}
	/* Any time formats into something that parses. */
	if (size >= 10) {
		memcpy(&t, data, 8);
		memcpy(&z, data + 8, 2);
		imap_datetime_format(t, z, out);
		CHECK(imap_datetime_parse(out + 1, 26, &t2, &tz2) == 0);
	}
}

/* What quote.c writes parses back to the same octets. */
static void
fuzz_quote(const uint8_t *data, size_t size, unsigned opt)
{
	unsigned qflags = opt & 3, pflags = 0;
	struct imap_limits lim;
	struct imap_parser *p;
	struct imap_buf b;
	const struct imap_arg *a;
	const char *line, *lit;
	size_t n;
	int r;

	if (qflags & IMAP_QUOTE_UTF8)
		pflags |= IMAP_PARSE_UTF8;
	if (qflags & IMAP_QUOTE_BINARY)
		pflags |= IMAP_PARSE_BINARY;
	imap_limits_default(&lim);
	lim.max_literal = 1 << 20;
	lim.max_command = 1 << 21;
	p = imap_parser_new(&lim, pflags);
	imap_buf_init(&b, 1 << 21);
	imap_buf_adds(&b, "t X ");
	r = (opt & 4 ? imap_quote_astring : imap_quote_string)(
		&b, (const char *)data, size, qflags);
	if (r == IMAP_QUOTE_ENUL) {
		CHECK(memchr(data, 0, size) && !(qflags & IMAP_QUOTE_BINARY));
		goto out;
	}
	CHECK(r == 0);
	line = imap_buf_str(&b);
	lit = strstr(line, "}\r\n");
	if (lit && (size_t)(lit - line) + 3 + size == b.len) {
		r = imap_parser_line(p, line, (size_t)(lit - line) + 1, 0);
		CHECK(r == IMAP_PARSE_LITERAL);
		CHECK(imap_parser_literal_begin(p, 0) == IMAP_PARSE_LITERAL);
		CHECK(imap_parser_literal(p, lit + 3, size) == IMAP_PARSE_LINE);
		r = imap_parser_line(p, "", 0, 0);
	} else {
		CHECK(!memchr(line, '\n', b.len));
		r = imap_parser_line(p, line, b.len, 0);
	}
	CHECK(r == IMAP_PARSE_DONE);
	a = imap_parser_args(p, &n);
	CHECK(n == 1);
	if (a->type == IMAP_ARG_SECTION) /* an atom that looks like one */
		CHECK(a->raw_len == size && !memcmp(a->raw, data, size));
	else
		CHECK(a->len == size && !memcmp(a->str, data, size));
out:
	imap_buf_free(&b);
	imap_parser_free(p);
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
	switch (mode % 5) {
	case 0:
		fuzz_parser(data, size, mode / 5);
		break;
	case 1:
		fuzz_seqset(data, size);
		break;
	case 2:
		fuzz_mutf7(data, size);
		break;
	case 3:
		fuzz_dates(data, size);
		break;
	default:
		fuzz_quote(data, size, mode / 5);
		break;
	}
	return 0;
}
