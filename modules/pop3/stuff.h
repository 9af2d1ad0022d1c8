/* Sending a message in a POP3 multi-line response (RFC 1939 3): every
 * line that starts with "." gets another "." in front, and TOP (RFC 1939
 * 7) stops after the header, the blank line and n body lines. Works on
 * chunks of any size, in order. Pure: no SDK calls. */
#ifndef POP3_STUFF_H
#define POP3_STUFF_H

#include <stddef.h>
#include <stdint.h>

struct pop3_stuff {
	unsigned bol : 1;       /* the next byte starts a line */
	unsigned blank : 1;     /* the current line is empty so far (a CR
				 * alone keeps it so) */
	unsigned in_body : 1;   /* past the header's blank line */
	unsigned limited : 1;   /* TOP: body_lines counts down */
	unsigned done : 1;      /* TOP has sent all it must */
	uint64_t body_lines;    /* TOP: body lines still to send */
};

/* Whole message (RETR), or top (TOP) with n body lines. */
void pop3_stuff_init(struct pop3_stuff *st, int top, uint64_t n);

/* Stuff len bytes of in into out, which holds at least 2 * len bytes.
 * Returns the bytes written; st->done tells TOP has ended (the rest of
 * the message is not wanted). */
size_t pop3_stuff(struct pop3_stuff *st, const char *in, size_t len,
		  char *out);

/* The end of the response into out (at least 5 bytes): a CRLF when the
 * message did not end with a line break, then ".\r\n". Returns bytes. */
size_t pop3_stuff_end(const struct pop3_stuff *st, char *out);

#endif
