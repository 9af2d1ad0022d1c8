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

/* A run of adjacent words in one charset is decoded into octets, then
 * converted at once (one iconv_open per run); in an unknown charset the
 * run goes out as written. White space before a run is dropped only if
 * the runs on both sides of it decoded. */
struct dctx {
	const char *s;
	struct mime_buf out;
	struct mime_buf octets;     /* the run's, not yet converted */
	char charset[CHARSET_MAX + 1]; /* the run's */
	int in_run;
	size_t run_start, run_end;  /* where the run's words are in s */
	int has_gap;
	size_t gap_start, gap_end;  /* white space before the run */
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

/* Convert the run; 1 when it went out as written (unknown charset). */
static int
flush_words(struct dctx *c)
{
	struct mime_charset_conv *conv;
	int r, raw = 0;

	if (!c->in_run)
		return 0;
	r = mime_charset_conv_new(c->charset, &conv);
	if (r == MIME_OK) {
		if (c->octets.len > 0)
			mime_charset_conv_feed(conv, c->octets.p,
					       c->octets.len, mime_buf_emit,
					       &c->out);
		mime_charset_conv_finish(conv, mime_buf_emit, &c->out);
		mime_charset_conv_free(conv);
	} else if (r == MIME_ENOMEM) {
		c->out.failed = 1;
	} else {
		if (c->has_gap)
			put_plain(c, c->s + c->gap_start,
				  c->gap_end - c->gap_start);
		put_plain(c, c->s + c->run_start, c->run_end - c->run_start);
		raw = 1;
	}
	c->octets.len = 0;
	c->in_run = 0;
	c->has_gap = 0;
	return raw;
}

int
mime_rfc2047_decode(const char *s, size_t len, char **out_r, size_t *len_r)
{
	struct dctx c;
	struct word w;
	size_t i = 0, plain = 0;

	memset(&c, 0, sizeof(c));
	c.s = s;
	mime_buf_init(&c.out, len > (SIZE_MAX - 16) / 4 ? SIZE_MAX :
							   len * 4 + 16);
	mime_buf_init(&c.octets, len);
	while (i + 1 < len) {
		const char *q = memchr(s + i, '=', len - i - 1);
		int gap_wsp;

		if (q == NULL)
			break;
		i = (size_t)(q - s);
		if (s[i + 1] != '?' || !parse_word(s, len, i, &w)) {
			i++;
			continue;
		}
		gap_wsp = c.in_run && all_wsp(s + plain, i - plain);
		if (!gap_wsp || strcasecmp(c.charset, w.charset) != 0) {
			if (flush_words(&c) || !gap_wsp) {
				put_plain(&c, s + plain, i - plain);
			} else {
				c.has_gap = 1; /* decided at the run's end */
				c.gap_start = plain;
				c.gap_end = i;
			}
			strcpy(c.charset, w.charset);
			c.in_run = 1;
			c.run_start = i;
		}
		if (w.b)
			decode_b(&c.octets, w.text, w.text_len);
		else
			decode_q(&c.octets, w.text, w.text_len);
		i = plain = c.run_end = w.end;
	}
	flush_words(&c);
	put_plain(&c, s + plain, len - plain);
	c.out.failed |= c.octets.failed;
	mime_buf_free(&c.octets);
	*out_r = mime_buf_steal(&c.out, len_r);
	return *out_r != NULL ? MIME_OK : MIME_ENOMEM;
}
