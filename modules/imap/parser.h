/* IMAP client commands (RFC 3501 9 and RFC 9051 9): the tag, the command
 * name and the arguments as a tree of tokens, parsed from the lines the
 * core delivers (CRLF removed) and the literals between them: "{n}",
 * "{n+}" (LITERAL+ and LITERAL-, RFC 7888) and "~{n}" (literal8, RFC
 * 3516). Pure: no SDK calls, so the unit test and the fuzzer link it
 * alone. The caller's loop:
 *
 *   r = imap_parser_line(p, line, len, flags);
 *   IMAP_PARSE_DONE     run the command (tag, name, args), then read the
 *                       next line: that starts the next command
 *   IMAP_PARSE_LITERAL  a literal was announced; call
 *                       imap_parser_literal_begin() (or imap_parser_fail()
 *                       to refuse it), which answers again:
 *     LITERAL, info->stream 0: send "+ ..." if info->sync, read
 *                       info->size octets into imap_parser_literal()
 *                       (chunks of any size); it says MORE until the
 *                       last, then LINE: read the next line
 *     LITERAL, info->stream 1: as above, but the caller consumes the
 *                       octets itself (APPEND data), then reads the line
 *     ERROR             see below
 *   IMAP_PARSE_ERROR    reply with imap_parser_error() (tagged when
 *                       imap_parser_tag() is not NULL, else "*"), and
 *                       close if it says so; the command is over
 *
 * A command that fails before its end is read to its end without
 * buffering (the octets of non-synchronizing literals are read and
 * dropped: LITERAL with info->discard, never a continuation), and only
 * then ERROR comes, once. A synchronizing literal is never read before
 * imap_parser_literal_begin() accepted it, so a refused one ends the
 * command at once: the client waits for "+" and gets the tagged reply.
 * A size of 0 needs no read: go straight to the next line. */
#ifndef IMAP_PARSER_H
#define IMAP_PARSER_H

#include <stddef.h>
#include <stdint.h>

#include "args.h"

/* Bounds of one command. imap_limits_default() gives sane values. */
struct imap_limits {
	size_t max_command;   /* octets of a command: its lines with CRLF
			       * and the literals it buffers */
	size_t max_literal;   /* one buffered literal */
	uint64_t max_nonsync; /* largest "{n+}": 4096 for LITERAL-,
			       * UINT64_MAX for LITERAL+ */
	uint64_t max_discard; /* octets of failed non-synchronizing
			       * literals read and dropped per command;
			       * past it the connection is closed instead
			       * (RFC 7888 4 allows either) */
	size_t max_tokens;    /* arguments, list members included */
	unsigned max_depth;   /* nesting of lists (a BODY[...] section
			       * counts as one level) */
};

void imap_limits_default(struct imap_limits *lim);

/* Parser flags; they may change between commands (ENABLE). */
#define IMAP_PARSE_UTF8 0x1   /* UTF8=ACCEPT (RFC 6855 3): quoted strings
			       * may hold UTF-8, which must be well-formed */
#define IMAP_PARSE_BINARY 0x2 /* "~{n}" literal8 allowed (BINARY) */

/* imap_parser_line() flags. */
#define IMAP_LINE_TRUNCATED 0x1 /* the core cut the line (PS_LINE_TOOLONG):
				 * a literal it announced is unknowable,
				 * so the answer is ERROR with close */

/* Results. Negative is an error, as everywhere in Poshta. */
#define IMAP_PARSE_ERROR (-1)
#define IMAP_PARSE_DONE 0    /* a whole command */
#define IMAP_PARSE_LITERAL 1 /* a literal: see imap_parser_literal_info() */
#define IMAP_PARSE_MORE 2    /* literal octets still to come */
#define IMAP_PARSE_LINE 3    /* the literal is complete: the next line */

/* imap_parser_literal_info(): the literal just announced. */
struct imap_literal {
	uint64_t size;
	int sync;     /* "{n}": the client waits for a continuation ("+") */
	int binary;   /* "~{n}" (literal8) */
	int stream;   /* the caller takes the octets (begin with stream 1) */
	int discard;  /* the command failed: read and drop the octets, send
		       * nothing; sync is 0 then */
	size_t argno; /* how many arguments precede it in its list (in the
		       * command, at depth 0): APPEND's message is a
		       * top-level argument */
	unsigned depth;
};

/* imap_parser_error(): why the command failed. */
struct imap_parse_error {
	const char *text;  /* human text for the reply */
	const char *code;  /* a response code to put in brackets ("TOOBIG",
			    * "CLIENTBUG"...), or NULL */
	int no;            /* reply NO, not BAD (imap_parser_fail()) */
	int close;         /* then say BYE and close: the input cannot be
			    * followed any further, or that would cost more
			    * than the limits allow */
};

struct imap_parser;

/* A parser with copies of *lim and flags; NULL when out of memory. */
struct imap_parser *imap_parser_new(const struct imap_limits *lim,
				    unsigned flags);
void imap_parser_free(struct imap_parser *p);
void imap_parser_set_flags(struct imap_parser *p, unsigned flags);
/* Forget the command in progress (after STARTTLS, say); the next line
 * starts a new one. */
void imap_parser_reset(struct imap_parser *p);

/* The next line, without its CRLF. After DONE or ERROR (or at first)
 * it starts a new command, and the previous command's tokens are gone.
 * It must not be called while literal octets are expected (between
 * LITERAL and LINE) or before a pending literal was begun or failed:
 * that is a caller bug, and abort()s. An empty line is an ERROR with no
 * tag: a caller that wants to ignore empty lines checks first. */
int imap_parser_line(struct imap_parser *p, const char *line, size_t len,
		     unsigned lflags);

/* After LITERAL. */
const struct imap_literal *imap_parser_literal_info(
	const struct imap_parser *p);

/* Take the announced literal: buffered (stream 0), subject to
 * max_literal and max_command, or consumed by the caller (stream 1,
 * bounded by the caller, e.g. APPENDLIMIT). Returns LITERAL (read the
 * info again: a refused non-synchronizing literal comes back with
 * discard set) or ERROR. For a literal being discarded it changes
 * nothing and returns LITERAL. */
int imap_parser_literal_begin(struct imap_parser *p, int stream);

/* Octets of a buffered or discarded literal, at most what is left of
 * it. Returns MORE, or LINE after the last one (len may be 0). */
int imap_parser_literal(struct imap_parser *p, const void *data,
			size_t len);

/* The caller fails the command in progress with its own reply (APPEND
 * past APPENDLIMIT: no 1, code "TOOBIG"; a storage error after a
 * streamed message). text and code are copied. The rest of the command
 * is then read and dropped as for a syntax error; the answer says what
 * to do next: ERROR (reply now: a pending synchronizing literal, or a
 * complete command), LITERAL (discard it; from the pending literal of a
 * LITERAL answer), MORE (keep feeding the buffered literal in progress,
 * which is dropped now) or LINE (read the next line, e.g. after a
 * streamed literal). The first failure of a command is the one
 * reported. */
int imap_parser_fail(struct imap_parser *p, int no, const char *code,
		     const char *text);

/* The command's tag, or NULL when the line did not start with a valid
 * one (reply "* BAD"). */
const char *imap_parser_tag(const struct imap_parser *p);
/* The command name in upper case, or NULL before it was read. */
const char *imap_parser_command(const struct imap_parser *p);
/* The arguments after the command name: complete after DONE, those read
 * so far after LITERAL (lists still open hold what they have). */
const struct imap_arg *imap_parser_args(struct imap_parser *p,
					size_t *count_r);
/* After ERROR, or after any failure (LITERAL with discard). */
const struct imap_parse_error *imap_parser_error(
	const struct imap_parser *p);

#endif
