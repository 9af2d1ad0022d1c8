/* The DATA byte state machine: transparency (RFC 5321 4.5.2: a line that
 * starts with "." lost that dot), the end of data only at CRLF "." CRLF
 * (4.1.1.4), and bare CR or LF flagged, never taken for a line end (2.3.8;
 * SMTP smuggling, CVE-2023-51764). In raw mode (BDAT, RFC 3030) it only
 * flags. Pure: no SDK calls. */
#include "body.h"

enum body_state {
	B_BOL,    /* at the start of a line that followed CRLF */
	B_DOT,    /* a "." dropped at such a line start */
	B_DOT_CR, /* "." CR: the end, if LF follows */
	B_TEXT,   /* inside a line */
	B_CR,     /* CR inside a line, held until we see what follows */
	B_END,    /* the end of data was consumed */
};

void
smtp_body_init(struct smtp_body *b, int raw)
{
	*b = (struct smtp_body){.state = B_BOL, .raw = raw};
}

int
smtp_body_done(const struct smtp_body *b)
{
	return b->state == B_END;
}

static void
out(struct smtp_body *b, const char *p, size_t n, smtp_emit_fn emit,
    void *arg)
{
	if (n == 0)
		return;
	b->size += n;
	b->line += n;
	emit(arg, p, n);
}

/* A CRLF completing a line; the first empty line ends the header block
 * (RFC 5322 2.1). */
static void
out_crlf(struct smtp_body *b, smtp_emit_fn emit, void *arg)
{
	if (!b->header_done && b->line == 0) {
		b->header_done = 1;
		b->header_end = b->size;
	}
	out(b, "\r\n", 2, emit, arg);
	b->line = 0;
}

/* One step in a state other than B_TEXT, looking at ch. Returns whether
 * ch was consumed; held or dropped octets never stay in the caller's
 * span, which restarts after ch. */
static int
step(struct smtp_body *b, char ch, smtp_emit_fn emit, void *arg)
{
	switch (b->state) {
	case B_BOL:
		b->state = B_TEXT;
		if (ch != '.' || b->raw)
			return 0;
		b->state = B_DOT;
		return 1;
	case B_DOT:
		if (ch != '\r') {
			b->state = B_TEXT;
			return 0;
		}
		b->state = B_DOT_CR;
		return 1;
	case B_DOT_CR:
	case B_CR:
		if (ch == '\n') {
			if (b->state == B_DOT_CR) {
				b->state = B_END;
				return 1;
			}
			out_crlf(b, emit, arg);
			b->state = B_BOL;
			return 1;
		}
		b->flags |= SMTP_BODY_BARE_CR;
		out(b, "\r", 1, emit, arg);
		b->state = B_TEXT;
		return 0;
	default:
		return 0;
	}
}

size_t
smtp_body_feed(struct smtp_body *b, const char *in, size_t len,
	       smtp_emit_fn emit, void *arg)
{
	size_t i = 0, span = 0; /* in[span..i) is text not yet emitted */

	while (i < len && b->state != B_END) {
		if (b->state != B_TEXT) {
			if (step(b, in[i], emit, arg))
				i++;
			span = i;
			continue;
		}
		while (i < len && in[i] != '\r' && in[i] != '\n')
			i++;
		if (i == len)
			break;
		if (in[i] == '\n') {
			/* Kept as text: it ends nothing. */
			b->flags |= SMTP_BODY_BARE_LF;
			i++;
			continue;
		}
		out(b, in + span, i - span, emit, arg);
		b->state = B_CR;
		span = ++i;
	}
	out(b, in + span, i - span, emit, arg);
	return i;
}

void
smtp_body_finish(struct smtp_body *b, smtp_emit_fn emit, void *arg)
{
	if (b->state == B_CR) {
		b->flags |= SMTP_BODY_BARE_CR;
		out(b, "\r", 1, emit, arg);
		b->state = B_TEXT;
	}
}
