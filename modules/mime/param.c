/* Content-Type and Content-Disposition values: "type/subtype" and
 * parameters (RFC 2045 5.1, RFC 2183 2) read the way Dovecot reads them,
 * so BODYSTRUCTURE lists what it lists: case kept, a type followed by
 * junk given up, a parameter that does not parse skipped to the next
 * ';', every plain parameter kept in order, then RFC 2231's (3, 4)
 * sorted by name, sections joined when they run 0, 1, 2... */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mime_private.h"

#define RAW_MAX 256 /* name=value pairs looked at per field */

struct raw {
	size_t key, key_len;     /* in the scratch buffer */
	size_t value, value_len;
	size_t base_len;         /* RFC 2231: key[0..base_len) is the name */
	unsigned section;
	int rfc2231, ext;
};

struct pctx {
	struct mime_arena *a;
	const char *s;
	size_t len, i;
	struct raw raw[RAW_MAX];
	unsigned nraw;
	struct mime_buf scratch; /* keys and unquoted values */
};

/* ---- Lexing (RFC 5322 3.2.2 CFWS, RFC 2045 5.1 token) ---------------- */

/* Skip white space and comments from s[*i]: 1 when something follows,
 * 0 at the end, -1 for a comment that never closes (then at the end). */
static int
cfws_at(const char *s, size_t len, size_t *i)
{
	while (*i < len) {
		unsigned depth = 0;

		if (mime_is_wsp(s[*i])) {
			++*i;
			continue;
		}
		if (s[*i] != '(')
			return 1;
		for (; *i < len; ++*i) {
			if (s[*i] == '\\' && ++*i == len)
				return -1;
			if (s[*i] == '(')
				depth++;
			else if (s[*i] == ')' && --depth == 0)
				break;
		}
		if (*i == len)
			return -1;
		++*i;
	}
	return 0;
}

static int
cfws(struct pctx *c)
{
	return cfws_at(c->s, c->len, &c->i);
}

/* Token octets: RFC 2045's, and 8-bit ones as real mail has them. */
static int
tokch(unsigned char ch)
{
	return ch >= 0x80 || mime_is_token(ch);
}

/* A token, possibly empty, into scratch; then cfws()'s answer, or 0 when
 * the token ran to the end. */
static int
token(struct pctx *c)
{
	size_t start = c->i;

	while (c->i < c->len && tokch((unsigned char)c->s[c->i]))
		c->i++;
	mime_buf_add(&c->scratch, c->s + start, c->i - start);
	return c->i < c->len ? cfws(c) : 0;
}

/* A quoted string at '"' into scratch, quoted-pairs undone; -1 when it
 * never closes. */
static int
quoted(struct pctx *c)
{
	for (c->i++; c->i < c->len; c->i++) {
		if (c->s[c->i] == '"') {
			c->i++;
			return cfws(c);
		}
		if (c->s[c->i] == '\\' && ++c->i == c->len)
			return -1;
		mime_buf_addc(&c->scratch, c->s[c->i]);
	}
	return -1;
}

/* ---- Reading the pairs ----------------------------------------------- */

/* "name", "name*", "name*N" or "name*N*" (RFC 2231 3, 4) in r. */
static void
split_key(const char *k, struct raw *r)
{
	const char *star = memchr(k, '*', r->key_len);
	size_t i;

	if (star == NULL)
		return;
	i = (size_t)(star - k) + 1;
	r->section = 0;
	if (i == r->key_len)
		i--; /* "name*": that star says extended */
	for (; i < r->key_len && k[i] >= '0' && k[i] <= '9'; i++)
		if (r->section < UINT32_MAX / 10)
			r->section = r->section * 10 + (unsigned)(k[i] - '0');
	if (i < r->key_len && k[i] == '*') {
		r->ext = 1;
		i++;
	}
	if (i != r->key_len)
		return; /* junk after the number: a plain name */
	r->rfc2231 = 1;
	r->base_len = (size_t)(star - k);
}

/* One ";" key "=" value at c->i: 1 with a pair, 0 at the end, -1 for
 * something else (the caller steps over one octet and tries again). */
static int
pair(struct pctx *c)
{
	struct raw *r = &c->raw[c->nraw];
	int ret;

	if (c->i >= c->len)
		return 0;
	if (c->s[c->i] != ';')
		return -1;
	c->i++;
	if (cfws(c) <= 0)
		return -1;
	*r = (struct raw){.key = c->scratch.len};
	if (token(c) <= 0 || c->s[c->i] != '=')
		return -1;
	r->key_len = c->scratch.len - r->key;
	r->value = c->scratch.len;
	c->i++;
	if ((ret = cfws(c)) <= 0) {
		/* no value: "" */
	} else if (c->s[c->i] == '"') {
		ret = quoted(c);
	} else if (c->s[c->i] == '=') {
		/* name==?utf-8?b?...?=, unquoted */
		while (c->i < c->len && c->s[c->i] != ';' &&
		       !mime_is_wsp(c->s[c->i]))
			mime_buf_addc(&c->scratch, c->s[c->i++]);
	} else {
		ret = token(c);
	}
	if (ret < 0)
		return -1;
	r->value_len = c->scratch.len - r->value;
	split_key(c->scratch.p + r->key, r);
	c->nraw++;
	return 1;
}

static void
read_pairs(struct pctx *c)
{
	int r;

	while (c->nraw < RAW_MAX && (r = pair(c)) != 0) {
		if (r > 0)
			continue;
		if (c->i >= c->len)
			break;
		c->i++; /* not a parameter: try again one octet on */
	}
}

/* ---- RFC 2231 -------------------------------------------------------- */

static const char *
key_of(const struct pctx *c, const struct raw *r)
{
	return c->scratch.p + r->key;
}

/* Base names in byte order (strcmp), then sections. */
static int
before(const struct pctx *c, const struct raw *x, const struct raw *y)
{
	size_t n = x->base_len < y->base_len ? x->base_len : y->base_len;
	int d = memcmp(key_of(c, x), key_of(c, y), n);

	if (d != 0)
		return d < 0;
	if (x->base_len != y->base_len)
		return x->base_len < y->base_len;
	return x->section < y->section;
}

static int
same_base(const struct pctx *c, const struct raw *x, const struct raw *y)
{
	const char *a = key_of(c, x), *b = key_of(c, y);

	if (x->base_len != y->base_len)
		return 0;
	for (size_t i = 0; i < x->base_len; i++)
		if (mime_tolower((unsigned char)a[i]) !=
		    mime_tolower((unsigned char)b[i]))
			return 0;
	return 1;
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

/* A plain section joined into an extended value is percent-encoded
 * outside RFC 2231 7's attribute-char, so the value stays one valid
 * extended-other-values (Dovecot encodes only '%'). */
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

/* charset'language'text of an extended value v, whose first section has
 * first octets: decoded, charset and language of out. */
static int
decode_ext(struct pctx *c, struct mime_param *out, const char *v,
	   size_t len, size_t first)
{
	const char *q1 = memchr(v, '\'', first), *q2 = NULL, *text = v;
	struct mime_buf oct;
	char *conv;
	size_t n;
	int failed;

	if (q1 != NULL)
		q2 = memchr(q1 + 1, '\'', first - (size_t)(q1 + 1 - v));
	if (q2 != NULL) {
		out->charset = mime_arena_strndup(c->a, v, (size_t)(q1 - v));
		out->language = mime_arena_strndup(c->a, q1 + 1,
						   (size_t)(q2 - q1 - 1));
		text = q2 + 1;
	} else {
		out->charset = out->language = "";
	}
	mime_buf_init(&oct, SIZE_MAX);
	percent_decode(&oct, text, len - (size_t)(text - v));
	if (*out->charset != '\0' &&
	    mime_charset_to_utf8(out->charset, oct.p ? oct.p : "", oct.len,
				 &conv, &n) == MIME_OK) {
		out->decoded = mime_arena_strndup(c->a, conv, n);
		free(conv);
	} else {
		out->decoded = mime_arena_strndup(c->a, oct.p ? oct.p : "",
						  oct.len);
	}
	failed = oct.failed || out->charset == NULL ||
		 out->language == NULL || out->decoded == NULL;
	mime_buf_free(&oct);
	return failed ? MIME_ENOMEM : MIME_OK;
}

/* The sections g[0..n) of one name (sorted) as one parameter. */
static int
join(struct pctx *c, struct raw **g, unsigned n, struct mime_param *out)
{
	struct mime_buf v;
	size_t first = 0;
	int ext = 0, r;

	for (unsigned i = 0; i < n; i++)
		ext |= g[i]->ext;
	mime_buf_init(&v, SIZE_MAX);
	if (ext && !g[0]->ext)
		mime_buf_add(&v, "''", 2); /* no charset, no language */
	for (unsigned i = 0; i < n; i++) {
		const char *s = c->scratch.p + g[i]->value;

		if (ext && !g[i]->ext)
			percent_encode(&v, s, g[i]->value_len);
		else
			mime_buf_add(&v, s, g[i]->value_len);
		if (i == 0)
			first = v.len;
	}
	/* "name*" when extended: the key's own star follows its name. */
	out->name = mime_arena_strndup(c->a, key_of(c, g[0]),
				       g[0]->base_len + (size_t)ext);
	out->value = mime_arena_strndup(c->a, v.p ? v.p : "", v.len);
	r = v.failed || !out->name || !out->value ? MIME_ENOMEM : MIME_OK;
	if (r == MIME_OK && ext)
		r = decode_ext(c, out, out->value, v.len, first);
	mime_buf_free(&v);
	return r;
}

/* A section that does not join: "name*N" or "name*N*" and its value. */
static int
alone(struct pctx *c, const struct raw *r, struct mime_param *out)
{
	struct mime_buf k;
	char num[16];
	int n;

	mime_buf_init(&k, SIZE_MAX);
	mime_buf_add(&k, key_of(c, r), r->base_len);
	n = snprintf(num, sizeof(num), "*%u", r->section);
	mime_buf_add(&k, num, (size_t)n);
	if (r->ext)
		mime_buf_addc(&k, '*');
	out->name = mime_arena_strndup(c->a, k.p ? k.p : "", k.len);
	out->value = mime_arena_strndup(c->a, c->scratch.p + r->value,
					r->value_len);
	mime_buf_free(&k);
	return k.failed || !out->name || !out->value ? MIME_ENOMEM : MIME_OK;
}

/* The list: plain pairs in order, then the RFC 2231 ones in order of
 * name and section (a stable sort), one parameter per name when its
 * sections run 0, 1, 2..., else each as it came. */
static int
assemble(struct pctx *c, struct mime_param *out, unsigned *nout)
{
	struct raw *s[RAW_MAX];
	unsigned ns = 0, n = 0;
	int r = MIME_OK;

	for (unsigned k = 0; k < c->nraw && n < MIME_PARAMS_MAX; k++) {
		struct raw *x = &c->raw[k];

		if (x->rfc2231) {
			unsigned j = ns++;

			for (; j > 0 && before(c, x, s[j - 1]); j--)
				s[j] = s[j - 1];
			s[j] = x;
			continue;
		}
		out[n] = (struct mime_param){
			.name = mime_arena_strndup(c->a, key_of(c, x),
						   x->key_len),
			.value = mime_arena_strndup(
				c->a, c->scratch.p + x->value, x->value_len),
		};
		if (out[n].name == NULL || out[n].value == NULL)
			return MIME_ENOMEM;
		n++;
	}
	for (unsigned i = 0, next; i < ns && r == MIME_OK; i = next) {
		int ok = 1;

		for (next = i; next < ns && same_base(c, s[i], s[next]); next++)
			ok &= s[next]->section == next - i;
		if (ok && n < MIME_PARAMS_MAX) {
			out[n] = (struct mime_param){.name = NULL};
			r = join(c, s + i, next - i, &out[n++]);
		}
		for (unsigned j = i; !ok && j < next && r == MIME_OK; j++) {
			if (n == MIME_PARAMS_MAX)
				break;
			out[n] = (struct mime_param){.name = NULL};
			r = alone(c, s[j], &out[n++]);
		}
	}
	*nout = n;
	return r;
}

/* ---- The field ------------------------------------------------------- */

/* "type/subtype" at c->i into scratch from t (Dovecot's
 * rfc822_parse_content_type): 1 or 0 (at the end) when whole, -1 when
 * not. *tlen_r, *sub_r and *slen_r say what is kept: a type alone at the
 * end stays, anything else broken is "". */
static int
content_type(struct pctx *c, size_t t, size_t *tlen_r, size_t *sub_r,
	     size_t *slen_r)
{
	size_t s;
	int r;

	*tlen_r = *slen_r = 0;
	if (cfws(c) <= 0)
		return -1;
	r = token(c);
	*tlen_r = c->scratch.len - t;
	if (r <= 0 || *tlen_r == 0)
		return -1;
	if (c->s[c->i] != '/' || (c->i++, cfws(c) <= 0)) {
		*tlen_r = 0;
		return -1;
	}
	s = c->scratch.len;
	r = token(c);
	*sub_r = s;
	*slen_r = c->scratch.len - s;
	if (r < 0 || *slen_r == 0 || (c->i < c->len && c->s[c->i] != ';')) {
		*tlen_r = *slen_r = 0;
		return -1;
	}
	return r;
}

int
mime_param_parse(struct mime_arena *a, const char *s, size_t len,
		 int slash, const char **type_r, const char **subtype_r,
		 struct mime_param **params_r, unsigned *nparams_r)
{
	struct mime_param out[MIME_PARAMS_MAX];
	struct pctx *c;
	unsigned nout = 0;
	size_t t, tlen, sub = 0, slen = 0;
	int ret = MIME_OK, r;

	*params_r = NULL;
	*nparams_r = 0;
	/* Not zeroed: raw[] is filled as it is used. */
	if ((c = malloc(sizeof(*c))) == NULL)
		return MIME_ENOMEM;
	c->a = a;
	c->s = s;
	c->len = len;
	c->i = 0;
	c->nraw = 0;
	mime_buf_init(&c->scratch, SIZE_MAX);
	mime_buf_addc(&c->scratch, '\0'); /* never NULL; texts from 1 */
	t = c->scratch.len;
	if (slash) {
		r = content_type(c, t, &tlen, &sub, &slen);
	} else {
		(void)cfws(c);
		r = token(c);
		tlen = c->scratch.len - t;
	}
	if (c->scratch.failed) {
		ret = MIME_ENOMEM;
		goto out;
	}
	*type_r = mime_arena_strndup(a, c->scratch.p + t, tlen);
	if (slash)
		*subtype_r = mime_arena_strndup(a, c->scratch.p + sub, slen);
	if (*type_r == NULL || (slash && *subtype_r == NULL)) {
		ret = MIME_ENOMEM;
		goto out;
	}
	if (r < 0) {
		/* The type as far as it went, no parameters (Dovecot). */
		ret = MIME_EINVAL;
		goto out;
	}
	read_pairs(c);
	if (c->scratch.failed) {
		ret = MIME_ENOMEM;
		goto out;
	}
	if ((ret = assemble(c, out, &nout)) != MIME_OK || nout == 0)
		goto out;
	if ((*params_r = mime_arena_alloc(a, nout * sizeof(out[0]))) == NULL) {
		ret = MIME_ENOMEM;
		goto out;
	}
	memcpy(*params_r, out, nout * sizeof(out[0]));
	*nparams_r = nout;
out:
	mime_buf_free(&c->scratch);
	free(c);
	return ret;
}

int
mime_param_token(const char *v, size_t len, size_t *start_r, size_t *len_r)
{
	size_t i = 0;

	(void)cfws_at(v, len, &i);
	*start_r = i;
	while (i < len && tokch((unsigned char)v[i]))
		i++;
	*len_r = i - *start_r;
	return *len_r > 0 && cfws_at(v, len, &i) == 0;
}
