/* Content-Type and Content-Disposition values: "type/subtype" and
 * parameters (RFC 2045 5.1, RFC 2183 2), parsed leniently as real mail
 * needs (CFWS anywhere, unquoted values with tspecials, stray text
 * skipped), with RFC 2231's continuations and charset'language'%XX
 * values joined and decoded. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mime_private.h"

#define RAW_MAX 256     /* name=value pairs looked at per field */
#define SECTION_MAX 999 /* RFC 2231 continuation numbers */

struct raw {
	const char *name; /* the base name, before any '*' */
	size_t name_len;
	int section;      /* -1: none */
	int ext;          /* the name ended in '*' */
	size_t value;     /* offset in the scratch buffer */
	size_t value_len;
	unsigned group;   /* index of the first with this name */
	uint32_t hash;    /* of the name, case-folded */
};

struct pctx {
	struct mime_arena *a;
	const char *s;
	size_t len;
	struct raw raw[RAW_MAX];
	unsigned nraw;
	struct mime_buf scratch; /* unquoted values */
};

/* The index of the ';' that ends what starts at i (quotes and comments
 * skipped), or len. */
static size_t
skip_to_semicolon(const char *s, size_t len, size_t i)
{
	while (i < len && s[i] != ';') {
		if (s[i] == '"') {
			for (i++; i < len && s[i] != '"'; i++)
				if (s[i] == '\\' && i + 1 < len)
					i++;
			if (i < len)
				i++;
		} else if (s[i] == '(') {
			i = mime_skip_cfws(s, len, i);
		} else {
			i++;
		}
	}
	return i;
}

static size_t
token_end(const char *s, size_t len, size_t i)
{
	while (i < len && mime_is_token((unsigned char)s[i]))
		i++;
	return i;
}

/* "name", "name*", "name*N" or "name*N*" into r. */
static void
split_name(const char *n, size_t len, struct raw *r)
{
	const char *star = memchr(n, '*', len);
	size_t i, num = 0;

	r->name = n;
	r->name_len = len;
	r->section = -1;
	r->ext = 0;
	if (star == NULL || star == n)
		return;
	i = (size_t)(star - n) + 1;
	if (i == len) { /* name* */
		r->name_len = i - 1;
		r->ext = 1;
		return;
	}
	for (; i < len && n[i] >= '0' && n[i] <= '9'; i++) {
		num = num * 10 + (size_t)(n[i] - '0');
		if (num > SECTION_MAX)
			return;
	}
	if (n[i - 1] == '*' || (i < len && (n[i] != '*' || i + 1 != len)))
		return; /* no digits, or junk after them: a plain name */
	r->name_len = (size_t)(star - n);
	r->section = (int)num;
	r->ext = i < len;
}

/* One "attribute = value" at s[i], after its ';'. */
static size_t
parse_one(struct pctx *c, size_t i)
{
	const char *s = c->s;
	size_t len = c->len, ne, vstart;
	struct raw *r;

	i = mime_skip_cfws(s, len, i);
	ne = token_end(s, len, i);
	if (ne == i)
		return skip_to_semicolon(s, len, i);
	r = &c->raw[c->nraw];
	*r = (struct raw){.group = 0};
	split_name(s + i, ne - i, r);
	i = mime_skip_cfws(s, len, ne);
	if (i >= len || s[i] != '=')
		return skip_to_semicolon(s, len, i);
	i = mime_skip_cfws(s, len, i + 1);
	vstart = c->scratch.len;
	if (i < len && s[i] == '"') {
		for (i++; i < len && s[i] != '"'; i++) {
			if (s[i] == '\\' && i + 1 < len)
				i++;
			mime_buf_addc(&c->scratch, s[i]);
		}
		if (i < len)
			i++;
	} else {
		size_t start = i;

		while (i < len && s[i] != ';' && !mime_is_wsp(s[i]))
			i++;
		mime_buf_add(&c->scratch, s + start, i - start);
	}
	r->value = vstart;
	r->value_len = c->scratch.len - vstart;
	c->nraw++;
	return skip_to_semicolon(s, len, i);
}

static int
hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	ch = mime_tolower(ch);
	return ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

static void
percent_decode(struct mime_buf *out, const char *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int hi, lo;

		if (v[i] == '%' && i + 2 < n &&
		    (hi = hexval((unsigned char)v[i + 1])) >= 0 &&
		    (lo = hexval((unsigned char)v[i + 2])) >= 0) {
			mime_buf_addc(out, (char)(hi << 4 | lo));
			i += 2;
		} else {
			mime_buf_addc(out, v[i]);
		}
	}
}

/* RFC 2231 7 attribute-char: a non-extended section joined into an
 * extended value is percent-encoded so raw stays one valid value. */
static void
percent_encode(struct mime_buf *out, const char *v, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";

	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)v[i];

		if (mime_is_token(ch) && ch != '*' && ch != '\'' && ch != '%') {
			mime_buf_addc(out, (char)ch);
		} else {
			mime_buf_addc(out, '%');
			mime_buf_addc(out, hex[ch >> 4]);
			mime_buf_addc(out, hex[ch & 15]);
		}
	}
}

static char *
lower_dup(struct mime_arena *a, const char *s, size_t n)
{
	char *p = mime_arena_strndup(a, s, n);

	if (p != NULL)
		for (size_t i = 0; i < n; i++)
			p[i] = (char)mime_tolower((unsigned char)p[i]);
	return p;
}

static int
same_name(const struct raw *x, const struct raw *y)
{
	if (x->name_len != y->name_len)
		return 0;
	for (size_t i = 0; i < x->name_len; i++)
		if (mime_tolower((unsigned char)x->name[i]) !=
		    mime_tolower((unsigned char)y->name[i]))
			return 0;
	return 1;
}

static uint32_t
name_hash(const struct raw *r)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < r->name_len; i++)
		h = (h ^ (uint32_t)mime_tolower((unsigned char)r->name[i])) *
		    16777619u;
	return h;
}

/* Number each name's entries by the first of them, comparing names once
 * per pair at most (and only when their hashes agree), so a hostile
 * list of long names costs no more than its length squared in hashes. */
static void
group_names(struct pctx *c)
{
	for (unsigned k = 0; k < c->nraw; k++) {
		c->raw[k].hash = name_hash(&c->raw[k]);
		c->raw[k].group = k;
		for (unsigned j = 0; j < k; j++)
			if (c->raw[j].group == j &&
			    c->raw[j].hash == c->raw[k].hash &&
			    same_name(&c->raw[j], &c->raw[k])) {
				c->raw[k].group = j;
				break;
			}
	}
}

/* The extended value of the RFC 2231 sections in secs[0..n) (section
 * order; the first has the charset'language' prefix when extended). */
static int
extended(struct pctx *c, struct mime_param *out, struct raw **secs,
	 unsigned n)
{
	const char *v = c->scratch.p + secs[0]->value, *q1, *q2;
	size_t vlen = secs[0]->value_len, cs_len = 0, lang_len = 0, len;
	struct mime_buf raw, oct;
	char *conv = NULL;
	int ret = MIME_ENOMEM;

	mime_buf_init(&raw, SIZE_MAX);
	mime_buf_init(&oct, SIZE_MAX);
	q1 = secs[0]->ext ? memchr(v, '\'', vlen) : NULL;
	q2 = q1 ? memchr(q1 + 1, '\'', vlen - (size_t)(q1 + 1 - v)) : NULL;
	if (q2 != NULL) {
		cs_len = (size_t)(q1 - v);
		lang_len = (size_t)(q2 - q1 - 1);
	}
	out->charset = mime_arena_strndup(c->a, v, cs_len);
	out->language = mime_arena_strndup(c->a, q1 ? q1 + 1 : v, lang_len);
	for (unsigned i = 0; i < n; i++) {
		const char *sv = c->scratch.p + secs[i]->value;
		size_t sl = secs[i]->value_len, skip = 0;

		if (i == 0 && q2 != NULL)
			skip = (size_t)(q2 + 1 - v);
		else if (i == 0)
			mime_buf_add(&raw, "''", 2);
		if (secs[i]->ext) {
			mime_buf_add(&raw, sv, sl);
			percent_decode(&oct, sv + skip, sl - skip);
		} else {
			percent_encode(&raw, sv, sl);
			mime_buf_add(&oct, sv, sl);
		}
	}
	if (raw.failed || oct.failed || out->charset == NULL ||
	    out->language == NULL)
		goto out;
	out->raw = mime_arena_strndup(c->a, raw.p ? raw.p : "", raw.len);
	if (cs_len > 0 &&
	    mime_charset_to_utf8(out->charset, oct.p ? oct.p : "", oct.len,
				 &conv, &len) == MIME_OK) {
		out->value = mime_arena_strndup(c->a, conv, len);
		free(conv);
	} else {
		out->value = mime_arena_strndup(c->a, oct.p ? oct.p : "",
						oct.len);
	}
	if (out->raw != NULL && out->value != NULL)
		ret = MIME_OK;
out:
	mime_buf_free(&raw);
	mime_buf_free(&oct);
	return ret;
}

/* The parameter named like raw[first]: its RFC 2231 form if there is
 * one, else its first plain value. */
static int
assemble(struct pctx *c, unsigned first, struct mime_param *out)
{
	struct raw *plain = NULL, *single = NULL, *secs[RAW_MAX];
	struct raw *r0 = &c->raw[first];
	unsigned n = 0;

	for (unsigned i = first; i < c->nraw; i++) {
		struct raw *r = &c->raw[i];

		if (r->group != first)
			continue;
		if (r->section < 0 && !r->ext && plain == NULL)
			plain = r;
		else if (r->section < 0 && r->ext && single == NULL)
			single = r;
	}
	/* Continuations in order, up to the first missing number. */
	for (unsigned want = 0; want <= SECTION_MAX; want++) {
		struct raw *found = NULL;

		for (unsigned i = first; i < c->nraw && found == NULL; i++)
			if (c->raw[i].group == first &&
			    c->raw[i].section == (int)want)
				found = &c->raw[i];
		if (found == NULL)
			break;
		secs[n++] = found;
	}
	out->name = lower_dup(c->a, r0->name, r0->name_len);
	if (out->name == NULL)
		return MIME_ENOMEM;
	if (n == 0 && single != NULL)
		secs[n++] = single;
	if (n > 0) {
		struct mime_buf j;
		int any_ext = 0;

		for (unsigned i = 0; i < n; i++)
			any_ext |= secs[i]->ext;
		if (any_ext)
			return extended(c, out, secs, n);
		mime_buf_init(&j, SIZE_MAX);
		for (unsigned i = 0; i < n; i++)
			mime_buf_add(&j, c->scratch.p + secs[i]->value,
				     secs[i]->value_len);
		out->value = mime_arena_strndup(c->a, j.p ? j.p : "", j.len);
		j.failed |= out->value == NULL;
		mime_buf_free(&j);
		return j.failed ? MIME_ENOMEM : MIME_OK;
	}
	if (plain == NULL)
		plain = r0; /* "name*x": kept whole as a plain name */
	out->value = mime_arena_strndup(c->a, c->scratch.p + plain->value,
					plain->value_len);
	return out->value != NULL ? MIME_OK : MIME_ENOMEM;
}

int
mime_param_parse(struct mime_arena *a, const char *s, size_t len,
		 int slash, const char **type_r, const char **subtype_r,
		 struct mime_param **params_r, unsigned *nparams_r)
{
	struct pctx *c;
	struct mime_param out[MIME_PARAMS_MAX];
	unsigned nout = 0;
	size_t i, te, se = 0, ss = 0;
	int ret = MIME_OK;

	*params_r = NULL;
	*nparams_r = 0;
	i = mime_skip_cfws(s, len, 0);
	te = token_end(s, len, i);
	if (te == i)
		return MIME_EINVAL;
	*type_r = lower_dup(a, s + i, te - i);
	i = mime_skip_cfws(s, len, te);
	if (slash) {
		if (i >= len || s[i] != '/')
			return MIME_EINVAL;
		ss = mime_skip_cfws(s, len, i + 1);
		se = token_end(s, len, ss);
		if (se == ss)
			return MIME_EINVAL;
		*subtype_r = lower_dup(a, s + ss, se - ss);
		i = mime_skip_cfws(s, len, se);
	}
	if (*type_r == NULL || (slash && *subtype_r == NULL))
		return MIME_ENOMEM;

	/* Not zeroed: raw[] is filled as it is used. */
	if ((c = malloc(sizeof(*c))) == NULL)
		return MIME_ENOMEM;
	c->nraw = 0;
	c->a = a;
	c->s = s;
	c->len = len;
	mime_buf_init(&c->scratch, SIZE_MAX);
	mime_buf_addc(&c->scratch, '\0'); /* never NULL; values from 1 */
	i = skip_to_semicolon(s, len, i);
	while (i < len && c->nraw < RAW_MAX)
		i = parse_one(c, i + 1);
	if (c->scratch.failed) {
		ret = MIME_ENOMEM;
		goto out;
	}
	group_names(c);
	for (unsigned k = 0; k < c->nraw && nout < MIME_PARAMS_MAX; k++) {
		if (c->raw[k].group != k)
			continue;
		memset(&out[nout], 0, sizeof(out[nout]));
		if ((ret = assemble(c, k, &out[nout])) != MIME_OK)
			goto out;
		nout++;
	}
	if (nout > 0) {
		*params_r = mime_arena_alloc(a, nout * sizeof(out[0]));
		if (*params_r == NULL) {
			ret = MIME_ENOMEM;
			goto out;
		}
		memcpy(*params_r, out, nout * sizeof(out[0]));
		*nparams_r = nout;
	}
out:
	mime_buf_free(&c->scratch);
	free(c);
	return ret;
}
