/* The original message as a DSN returns it (RFC 3462 / 6522 third part):
 * read through the caller's reader in chunks, lines made CRLF and at most
 * 998 octets (RFC 5322 2.1.1), the header alone or the whole message, cut
 * at a line end after max octets. dsn_plan runs it to look (8-bit octets,
 * lines that start like the boundary), dsn_write to write. Memory: one
 * chunk, whatever the size. */
#include <string.h>
#include <strings.h>

#include "dsn_private.h"

#define CHUNK 16384

/* A hex digit of either case, as a lenient parser would compare. */
static int
hex_digit(int ch)
{
	return dsn_hex_upper(ch >= 'a' && ch <= 'f' ? ch - 'a' + 'A' : ch);
}

/* A line ended: count it if it starts with the probe. Compared without
 * regard to case, as a lenient MIME parser might. */
static void
line_end(struct dsn_orig *g)
{
	size_t n = g->probe_len;

	if (g->head_len >= n && strncasecmp(g->head, g->probe, n) == 0) {
		g->hits++;
		if (g->head_len >= n + 2 && hex_digit(g->head[n]) >= 0 &&
		    hex_digit(g->head[n + 1]) >= 0)
			g->counts[hex_digit(g->head[n]) << 4 |
				  hex_digit(g->head[n + 1])]++;
	}
	g->head_len = 0;
	g->col = 0;
	if (g->out)
		dsn_out_bytes(g->out, "\r\n", 2);
}

static void
put(struct dsn_orig *g, unsigned char ch)
{
	if (g->col == DSN_LINE_HARD) {
		line_end(g);
		if (g->in_header) /* a fold: the field goes on */
			put(g, ' ');
	}
	if (g->head_len < sizeof(g->head))
		g->head[g->head_len++] = (char)ch;
	g->eightbit |= ch >= 0x80;
	g->col++;
	if (g->out)
		dsn_out_bytes(g->out, &ch, 1);
}

/* A line break in the input. The empty line ends the header; with hdrs,
 * the pass ends there. */
static void
newline(struct dsn_orig *g)
{
	if (g->in_header && g->col == 0) {
		g->in_header = 0;
		if (g->hdrs) {
			g->done = 1;
			return;
		}
	}
	line_end(g);
}

static void
feed(struct dsn_orig *g, const unsigned char *p, size_t len)
{
	for (size_t i = 0; i < len && !g->done; i++) {
		g->returned++;
		if (g->pending_cr) {
			g->pending_cr = 0;
			newline(g);
			if (p[i] == '\n' || g->done)
				continue;
		}
		if (p[i] == '\r')
			g->pending_cr = 1;
		else if (p[i] == '\n')
			newline(g);
		else
			put(g, p[i]);
	}
}

/* Past max: is there more? One octet read tells. */
static int
more_left(struct dsn_orig *g, const char **why_r)
{
	char one;
	size_t got = 0;

	if (g->r->read(g->r->read_arg, g->returned, &one, 1, &got) < 0) {
		*why_r = "reading the original message failed";
		return DSN_EIO;
	}
	g->cut = got > 0;
	return DSN_OK;
}

int
dsn_orig_pass(struct dsn_orig *g, const char **why_r)
{
	unsigned char buf[CHUNK];
	size_t got;

	g->in_header = 1;
	while (!g->done) {
		uint64_t left = g->max - g->returned;
		size_t want = left < CHUNK ? (size_t)left : CHUNK;

		if (want == 0) {
			if (more_left(g, why_r) < 0)
				return DSN_EIO;
			break;
		}
		got = 0;
		if (g->r->read(g->r->read_arg, g->returned, buf, want,
			       &got) < 0 || got > want) {
			*why_r = "reading the original message failed";
			return DSN_EIO;
		}
		if (got == 0)
			break;
		feed(g, buf, got);
	}
	if (g->pending_cr && !g->done)
		newline(g);
	if (g->col > 0)
		line_end(g);
	return DSN_OK;
}
