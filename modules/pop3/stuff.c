/* Byte-stuffing and TOP's line limit, one byte at a time over chunks.
 * RFC 1939 3: "If any line of the multi-line response begins with the
 * termination octet, the line is "byte-stuffed" by pre-pending the
 * termination octet to that line". RFC 1939 7 (TOP): "the POP3 server
 * sends the headers of the message, the blank line separating the
 * headers from the body, and then the number of lines of the indicated
 * message's body". A line ends at LF; the header ends at the first empty
 * line (CRLF alone, or a bare LF). */
#include <string.h>

#include "stuff.h"

void
pop3_stuff_init(struct pop3_stuff *st, int top, uint64_t n)
{
	*st = (struct pop3_stuff){.bol = 1, .blank = 1, .limited = !!top,
				  .body_lines = n};
}

/* A line just ended: what TOP makes of it. */
static void
line_end(struct pop3_stuff *st)
{
	if (!st->in_body) {
		if (st->blank) {
			st->in_body = 1;
			if (st->limited && st->body_lines == 0)
				st->done = 1;
		}
	} else if (st->limited && --st->body_lines == 0) {
		st->done = 1;
	}
}

/* RETR: whole lines at a time; only a line's first byte needs a look. */
static size_t
stuff_lines(struct pop3_stuff *st, const char *in, size_t len, char *out)
{
	size_t o = 0, i = 0;

	while (i < len) {
		const char *lf;
		size_t n;

		if (st->bol && in[i] == '.')
			out[o++] = '.';
		lf = memchr(in + i, '\n', len - i);
		n = lf ? (size_t)(lf - (in + i)) + 1 : len - i;
		memcpy(out + o, in + i, n);
		o += n;
		i += n;
		st->bol = lf != NULL;
	}
	return o;
}

size_t
pop3_stuff(struct pop3_stuff *st, const char *in, size_t len, char *out)
{
	size_t o = 0;

	if (!st->limited)
		return stuff_lines(st, in, len, out);
	for (size_t i = 0; i < len && !st->done; i++) {
		char ch = in[i];

		if (st->bol) {
			st->bol = 0;
			st->blank = 1;
			if (ch == '.')
				out[o++] = '.';
		}
		out[o++] = ch;
		if (ch == '\n') {
			line_end(st);
			st->bol = 1;
		} else if (ch != '\r') {
			st->blank = 0;
		}
	}
	return o;
}

size_t
pop3_stuff_end(const struct pop3_stuff *st, char *out)
{
	size_t o = 0;

	if (!st->bol) {
		out[o++] = '\r';
		out[o++] = '\n';
	}
	out[o++] = '.';
	out[o++] = '\r';
	out[o++] = '\n';
	return o;
}
