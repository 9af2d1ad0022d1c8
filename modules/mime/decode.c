/* Content-Transfer-Encoding decoders fed in chunks cut anywhere: base64
 * (RFC 2045 6.8) ignoring what is not in its alphabet, as Dovecot does,
 * and quoted-printable (6.7) with soft line breaks, trailing white space
 * dropped (rule 3) and invalid escapes passed through as they came. */
#include <string.h>

#include "mime_private.h"

enum mime_cte
mime_cte_parse(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || mime_eq(s, n, "7bit"))
		return MIME_CTE_7BIT;
	if (mime_eq(s, n, "8bit"))
		return MIME_CTE_8BIT;
	if (mime_eq(s, n, "binary"))
		return MIME_CTE_BINARY;
	if (mime_eq(s, n, "quoted-printable"))
		return MIME_CTE_QP;
	if (mime_eq(s, n, "base64"))
		return MIME_CTE_BASE64;
	return MIME_CTE_UNKNOWN;
}

/* QP states */
enum {
	QP_TEXT,
	QP_EQ,    /* "=" seen */
	QP_EQ_HEX, /* "=" and one hex digit (in acc) */
	QP_EQ_WS, /* "=" then white space: a soft break if the line ends */
	QP_EQ_CR, /* "=" [ws] CR */
	QP_CR,    /* CR after text (white space before it is dropped) */
};

void
mime_decoder_init(struct mime_decoder *d, enum mime_cte cte)
{
	memset(d, 0, sizeof(*d));
	d->cte = cte;
}

static void
flush(struct mime_decoder *d, mime_emit_fn emit, void *arg)
{
	if (d->olen > 0)
		emit(arg, d->out, d->olen);
	d->olen = 0;
}

static void
put(struct mime_decoder *d, char ch, mime_emit_fn emit, void *arg)
{
	if (d->olen == sizeof(d->out))
		flush(d, emit, arg);
	d->out[d->olen++] = ch;
}

static void
put_n(struct mime_decoder *d, const char *s, size_t n, mime_emit_fn emit,
      void *arg)
{
	for (size_t i = 0; i < n; i++)
		put(d, s[i], emit, arg);
}

static int
b64_value(unsigned char ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 52;
	if (ch == '+')
		return 62;
	if (ch == '/')
		return 63;
	return -1;
}

/* The octets of a partial quantum of nacc sextets. */
static void
b64_partial(struct mime_decoder *d, mime_emit_fn emit, void *arg)
{
	if (d->nacc >= 2)
		put(d, (char)(d->acc >> ((d->nacc - 2) * 6 + 4)), emit, arg);
	if (d->nacc >= 3)
		put(d, (char)(d->acc >> 2), emit, arg);
	d->acc = 0;
	d->nacc = 0;
}

static void
b64_feed(struct mime_decoder *d, const unsigned char *s, size_t n,
	 mime_emit_fn emit, void *arg)
{
	for (size_t i = 0; i < n; i++) {
		int v = b64_value(s[i]);

		if (v < 0) {
			if (s[i] == '=')
				b64_partial(d, emit, arg);
			continue;
		}
		d->acc = (d->acc << 6 | (unsigned)v) & 0xffffff;
		if (++d->nacc == 4) {
			put(d, (char)(d->acc >> 16), emit, arg);
			put(d, (char)(d->acc >> 8), emit, arg);
			put(d, (char)d->acc, emit, arg);
			d->acc = 0;
			d->nacc = 0;
		}
	}
}

static int
hex(unsigned char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	return -1;
}

/* White space held back: it is text unless the line ends. */
static void
ws_flush(struct mime_decoder *d, mime_emit_fn emit, void *arg)
{
	put_n(d, d->ws, d->nws, emit, arg);
	d->nws = 0;
}

static void
ws_add(struct mime_decoder *d, char ch, mime_emit_fn emit, void *arg)
{
	if (d->nws == sizeof(d->ws))
		ws_flush(d, emit, arg); /* too long to be padding */
	d->ws[d->nws++] = ch;
}

/* One octet in QP_TEXT. */
static void
qp_text(struct mime_decoder *d, char ch, mime_emit_fn emit, void *arg)
{
	switch (ch) {
	case ' ':
	case '\t':
		ws_add(d, ch, emit, arg);
		break;
	case '\r':
		d->state = QP_CR;
		break;
	case '\n':
		d->nws = 0; /* trailing white space */
		put(d, '\n', emit, arg);
		break;
	case '=':
		ws_flush(d, emit, arg);
		d->state = QP_EQ;
		break;
	default:
		ws_flush(d, emit, arg);
		put(d, ch, emit, arg);
		break;
	}
}

static void
qp_feed(struct mime_decoder *d, const char *s, size_t n, mime_emit_fn emit,
	void *arg)
{
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		int h;

		switch (d->state) {
		case QP_TEXT:
			qp_text(d, ch, emit, arg);
			continue;
		case QP_CR:
			d->state = QP_TEXT;
			if (ch == '\n') {
				d->nws = 0;
				put_n(d, "\r\n", 2, emit, arg);
				continue;
			}
			ws_flush(d, emit, arg);
			put(d, '\r', emit, arg); /* a bare CR is text */
			break;
		case QP_EQ:
			if (hex((unsigned char)ch) >= 0) {
				d->acc = (unsigned char)ch; /* as it came */
				d->state = QP_EQ_HEX;
				continue;
			}
			if (ch == '\n') {
				d->state = QP_TEXT; /* soft break */
				continue;
			}
			if (ch == '\r') {
				d->state = QP_EQ_CR;
				continue;
			}
			if (ch == ' ' || ch == '\t') {
				d->state = QP_EQ_WS;
				ws_add(d, ch, emit, arg);
				continue;
			}
			d->state = QP_TEXT;
			put(d, '=', emit, arg);
			break;
		case QP_EQ_HEX:
			d->state = QP_TEXT;
			if ((h = hex((unsigned char)ch)) >= 0) {
				h |= hex((unsigned char)d->acc) << 4;
				put(d, (char)h, emit, arg);
				continue;
			}
			put(d, '=', emit, arg);
			put(d, (char)d->acc, emit, arg);
			break;
		case QP_EQ_WS:
			if ((ch == ' ' || ch == '\t') &&
			    d->nws < sizeof(d->ws)) {
				ws_add(d, ch, emit, arg);
				continue;
			}
			if (ch == '\r') {
				d->state = QP_EQ_CR;
				continue;
			}
			if (ch == '\n') {
				d->nws = 0;
				d->state = QP_TEXT;
				continue;
			}
			d->state = QP_TEXT;
			put(d, '=', emit, arg);
			ws_flush(d, emit, arg);
			break;
		case QP_EQ_CR:
			if (ch == '\n') {
				d->nws = 0;
				d->state = QP_TEXT;
				continue;
			}
			d->state = QP_TEXT;
			put(d, '=', emit, arg);
			ws_flush(d, emit, arg);
			put(d, '\r', emit, arg);
			break;
		}
		/* ch was not consumed: it starts anew as text. */
		qp_text(d, ch, emit, arg);
	}
}

void
mime_decoder_feed(struct mime_decoder *d, const void *in, size_t len,
		  mime_emit_fn emit, void *arg)
{
	switch (d->cte) {
	case MIME_CTE_BASE64:
		b64_feed(d, in, len, emit, arg);
		break;
	case MIME_CTE_QP:
		qp_feed(d, in, len, emit, arg);
		break;
	default:
		flush(d, emit, arg);
		if (len > 0)
			emit(arg, in, len);
		return;
	}
	flush(d, emit, arg);
}

void
mime_decoder_finish(struct mime_decoder *d, mime_emit_fn emit, void *arg)
{
	if (d->cte == MIME_CTE_BASE64) {
		b64_partial(d, emit, arg);
	} else if (d->cte == MIME_CTE_QP) {
		/* At the end the line ends: trailing white space goes, and
		 * an "=" that started nothing is text. */
		switch (d->state) {
		case QP_EQ:
			put(d, '=', emit, arg);
			break;
		case QP_EQ_HEX:
			put(d, '=', emit, arg);
			put(d, (char)d->acc, emit, arg);
			break;
		case QP_EQ_CR:
			put(d, '=', emit, arg);
			put(d, '\r', emit, arg);
			break;
		case QP_CR:
			put(d, '\r', emit, arg);
			break;
		default:
			break;
		}
		d->nws = 0;
		d->state = QP_TEXT;
	}
	flush(d, emit, arg);
}
