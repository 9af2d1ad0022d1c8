/* RFC 2047 encoded words in unstructured header text, decoded to UTF-8:
 * "=?charset?B?...?=" and "=?charset?Q?...?=" (4.1, 4.2), with RFC
 * 2231 5's "charset*language". Words are found anywhere, as Dovecot
 * does, white space between two of them is dropped (6.2), and the octets
 * of adjacent words in one charset are converted together, since
 * senders cut multi-octet characters between words. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mime_private.h"

#define CHARSET_MAX 64

struct word {
	char charset[CHARSET_MAX + 1];
	int b;             /* "B" encoding, else "Q" */
	const char *text;
	size_t text_len;
	size_t end;        /* the index after "?=" */
};

struct dctx {
	struct mime_buf out;
	struct mime_buf octets;     /* decoded, not yet converted */
	char charset[CHARSET_MAX + 1]; /* of octets */
	char known_cs[CHARSET_MAX + 1]; /* the last charset looked up */
	int known;
};

/* An encoded word at s[i] ("=?" there), into w. */
static int
parse_word(const char *s, size_t len, size_t i, struct word *w)
{
	size_t j = i + 2, cs = j, n;
	const char *star;

	while (j < len && s[j] != '?' && !mime_is_wsp(s[j]) &&
	       (unsigned char)s[j] > ' ' && j - cs <= CHARSET_MAX)
		j++;
	n = j - cs;
	if (n == 0 || n > CHARSET_MAX || j + 2 >= len || s[j] != '?' ||
	    s[j + 2] != '?')
		return 0;
	memcpy(w->charset, s + cs, n);
	w->charset[n] = '\0';
	if ((star = strchr(w->charset, '*')) != NULL) /* RFC 2231 5 */
		w->charset[star - w->charset] = '\0';
	if (w->charset[0] == '\0')
		return 0;
	switch (s[j + 1]) {
	case 'B': case 'b': w->b = 1; break;
	case 'Q': case 'q': w->b = 0; break;
	default: return 0;
	}
	j += 3;
	w->text = s + j;
	while (j < len && s[j] != '?' && (unsigned char)s[j] > ' ')
		j++;
	if (j + 1 >= len || s[j] != '?' || s[j + 1] != '=')
		return 0;
	w->text_len = (size_t)(s + j - w->text);
	w->end = j + 2;
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
decode_q(struct mime_buf *b, const char *t, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int hi, lo;

		if (t[i] == '_') {
			mime_buf_addc(b, ' ');
		} else if (t[i] == '=' && i + 2 < n &&
			   (hi = hexval((unsigned char)t[i + 1])) >= 0 &&
			   (lo = hexval((unsigned char)t[i + 2])) >= 0) {
			mime_buf_addc(b, (char)(hi << 4 | lo));
			i += 2;
		} else {
			mime_buf_addc(b, t[i]);
		}
	}
}

static void
decode_b(struct mime_buf *b, const char *t, size_t n)
{
	struct mime_decoder d;

	mime_decoder_init(&d, MIME_CTE_BASE64);
	mime_decoder_feed(&d, t, n, mime_buf_emit, b);
	mime_decoder_finish(&d, mime_buf_emit, b);
}

/* Octets that should be UTF-8 to the output, checked. */
static void
put_utf8(struct dctx *c, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, start = 0;

	while (i < n) {
		int k = mime_utf8_seq(u + i, n - i);

		if (k > 0) {
			i += (size_t)k;
			continue;
		}
		mime_buf_add(&c->out, s + start, i - start);
		mime_buf_add(&c->out, MIME_REPLACEMENT, 3);
		i = k < 0 ? n : i + 1;
		start = i;
	}
	mime_buf_add(&c->out, s + start, i - start);
}

/* Convert the octets of the adjacent words decoded so far. */
static void
flush_words(struct dctx *c)
{
	char *conv;
	size_t n;
	int r;

	if (c->octets.len == 0)
		return;
	r = mime_charset_to_utf8(c->charset, c->octets.p, c->octets.len,
				 &conv, &n);
	if (r == MIME_OK) {
		mime_buf_add(&c->out, conv, n);
		free(conv);
	} else if (r == MIME_ENOMEM) {
		c->out.failed = 1;
	} else {
		put_utf8(c, c->octets.p, c->octets.len);
	}
	c->octets.len = 0;
}

/* Plain text: line breaks unfolded. */
static void
put_plain(struct dctx *c, const char *s, size_t n)
{
	size_t start = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] != '\n' && !(s[i] == '\r' && i + 1 < n &&
				      s[i + 1] == '\n'))
			continue;
		put_utf8(c, s + start, i - start);
		start = i + 1;
	}
	put_utf8(c, s + start, n - start);
}

static int
all_wsp(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!mime_is_wsp(s[i]))
			return 0;
	return 1;
}

static int
charset_known(struct dctx *c, const char *cs)
{
	if (strcmp(c->known_cs, cs) != 0) {
		strcpy(c->known_cs, cs);
		c->known = mime_charset_known(cs);
	}
	return c->known;
}

int
mime_rfc2047_decode(const char *s, size_t len, char **out_r, size_t *len_r)
{
	struct dctx c;
	struct word w;
	size_t i = 0, plain = 0;
	int after_word = 0;

	memset(&c, 0, sizeof(c));
	mime_buf_init(&c.out, len > (SIZE_MAX - 16) / 4 ? SIZE_MAX :
							   len * 4 + 16);
	mime_buf_init(&c.octets, len);
	while (i + 1 < len) {
		const char *q = memchr(s + i, '=', len - i - 1);

		if (q == NULL)
			break;
		i = (size_t)(q - s);
		if (s[i + 1] != '?' || !parse_word(s, len, i, &w) ||
		    !charset_known(&c, w.charset)) {
			i++;
			continue;
		}
		if (!after_word || !all_wsp(s + plain, i - plain) ||
		    strcasecmp(c.charset, w.charset) != 0) {
			flush_words(&c);
			if (!after_word || !all_wsp(s + plain, i - plain))
				put_plain(&c, s + plain, i - plain);
			strcpy(c.charset, w.charset);
		}
		if (w.b)
			decode_b(&c.octets, w.text, w.text_len);
		else
			decode_q(&c.octets, w.text, w.text_len);
		i = plain = w.end;
		after_word = 1;
	}
	flush_words(&c);
	put_plain(&c, s + plain, len - plain);
	c.out.failed |= c.octets.failed;
	mime_buf_free(&c.octets);
	*out_r = mime_buf_steal(&c.out, len_r);
	return *out_r != NULL ? MIME_OK : MIME_ENOMEM;
}
