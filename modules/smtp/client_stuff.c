/* The message as DATA sends it: transparency (RFC 5321 4.5.2: a line
 * that starts with "." gets another in front), CRLF line ends only (a
 * bare CR or LF must not be sent, 2.3.8; sending them as CRLF also
 * leaves no "\n.\r\n" for a lenient server to take for the end of data,
 * SMTP smuggling), and the end of data "." CRLF after a complete line
 * (4.1.1.4). Works on chunks cut anywhere. Pure. */
#include "client.h"

enum stuff_state {
	ST_BOL = 0, /* at the start of a line */
	ST_TEXT,    /* inside a line */
	ST_CR,      /* a CR held until we see whether LF follows */
};

void
smtpc_stuff_init(struct smtpc_stuff *st)
{
	st->state = ST_BOL;
}

static size_t
crlf(char *out)
{
	out[0] = '\r';
	out[1] = '\n';
	return 2;
}

size_t
smtpc_stuff(struct smtpc_stuff *st, const char *in, size_t len, char *out)
{
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		char ch = in[i];

		if (st->state == ST_CR) {
			o += crlf(out + o);
			st->state = ST_BOL;
			if (ch == '\n')
				continue;
		}
		if (ch == '\r' || ch == '\n') {
			if (ch == '\n')
				o += crlf(out + o);
			st->state = ch == '\r' ? ST_CR : ST_BOL;
			continue;
		}
		if (st->state == ST_BOL && ch == '.')
			out[o++] = '.';
		out[o++] = ch;
		st->state = ST_TEXT;
	}
	return o;
}

size_t
smtpc_stuff_end(struct smtpc_stuff *st, char *out)
{
	size_t o = st->state == ST_BOL ? 0 : crlf(out);

	out[o++] = '.';
	o += crlf(out + o);
	st->state = ST_BOL;
	return o;
}
