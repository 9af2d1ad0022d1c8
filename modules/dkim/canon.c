/* DKIM canonicalisation (RFC 6376 3.4): "simple" and "relaxed" for
 * header fields (3.4.1, 3.4.2) and for the body (3.4.3, 3.4.4). The
 * body is a byte state machine, so it may be cut anywhere and only a
 * count of trailing empty lines is held back. */
#include <string.h>

#include "dkim_private.h"

static int
wsp(char c)
{
	return c == ' ' || c == '\t';
}

static char
lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* ---- Output, gathered for emit --------------------------------------- */

static void
flush(struct dkim_sink *o)
{
	if (o->n)
		o->emit(o->arg, o->buf, o->n);
	o->n = 0;
}

static void
put(struct dkim_sink *o, char c)
{
	if (o->n == sizeof(o->buf))
		flush(o);
	o->buf[o->n++] = c;
}

/* ---- Header fields --------------------------------------------------- */

/* 3.4.2: the name in lower case without WSP before the colon; the value
 * unfolded (CR LF removed), each WSP run one SP, none at its start or
 * end. */
static void
header_relaxed(const char *p, size_t len, dkim_emit_fn emit, void *arg)
{
	struct dkim_sink o = {.emit = emit, .arg = arg};
	const char *colon = memchr(p, ':', len);
	size_t name = colon ? (size_t)(colon - p) : len, i;
	int space = 0, started = 0;

	while (name > 0 && wsp(p[name - 1]))
		name--;
	for (i = 0; i < name; i++)
		put(&o, lower(p[i]));
	if (colon)
		put(&o, ':');
	for (i = colon ? (size_t)(colon - p) + 1 : len; i < len; i++) {
		if (p[i] == '\r' && i + 1 < len && p[i + 1] == '\n') {
			i++;
			continue;
		}
		if (wsp(p[i])) {
			space = started;
			continue;
		}
		if (space)
			put(&o, ' ');
		space = 0;
		started = 1;
		put(&o, p[i]);
	}
	flush(&o);
}

void
dkim_canon_header(enum dkim_canon canon, const char *field, size_t len,
		  dkim_emit_fn emit, void *arg)
{
	if (canon == DKIM_CANON_SIMPLE)
		emit(arg, field, len); /* 3.4.1: as it is */
	else
		header_relaxed(field, len, emit, arg);
}

/* ---- The body -------------------------------------------------------- */

static void
put_crlf(struct dkim_body *b)
{
	put(&b->out, '\r');
	put(&b->out, '\n');
}

/* An octet of a line. Relaxed: a WSP run becomes one SP, owed until
 * something follows it on the line (3.4.4 a, b). */
static void
content(struct dkim_body *b, char c)
{
	if (b->canon == DKIM_CANON_RELAXED && wsp(c)) {
		b->wsp = 1;
		return;
	}
	if (!b->line) {
		/* The empty lines held back were not trailing after all. */
		for (; b->blank > 0; b->blank--)
			put_crlf(b);
		b->line = 1;
		b->any = 1;
	}
	if (b->wsp)
		put(&b->out, ' ');
	b->wsp = 0;
	put(&b->out, c);
}

/* An empty line is held back: empty lines at the end are ignored
 * (3.4.3, 3.4.4 c). */
static void
line_end(struct dkim_body *b)
{
	if (b->line)
		put_crlf(b);
	else
		b->blank++;
	b->line = 0;
	b->wsp = 0;
}

void
dkim_body_init(struct dkim_body *b, enum dkim_canon canon,
	       dkim_emit_fn emit, void *arg)
{
	memset(b, 0, sizeof(*b));
	b->canon = canon;
	b->out.emit = emit;
	b->out.arg = arg;
}

void
dkim_body_feed(struct dkim_body *b, const char *data, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		char c = data[i];

		if (b->cr) {
			b->cr = 0;
			if (c == '\n') {
				line_end(b);
				continue;
			}
			/* A bare CR is an octet of the line. */
			content(b, '\r');
		}
		if (c == '\r')
			b->cr = 1;
		else if (c == '\n')
			line_end(b); /* a bare LF, taken as CR LF */
		else
			content(b, c);
	}
}

void
dkim_body_end(struct dkim_body *b)
{
	if (b->cr)
		content(b, '\r');
	b->cr = 0;
	/* A last line without its CR LF gets one (3.4.3, 3.4.4); simple
	 * makes an empty body one CR LF, relaxed keeps it empty. */
	if (b->line || (b->canon == DKIM_CANON_SIMPLE && !b->any))
		put_crlf(b);
	b->line = 0;
	b->blank = 0;
	flush(&b->out);
}
