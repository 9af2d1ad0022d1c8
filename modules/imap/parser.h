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

enum imap_arg_type {
	IMAP_ARG_ATOM = 1, /* 1*list-char, or "\" 1*ATOM-CHAR (a flag) */
	IMAP_ARG_NIL,      /* the atom NIL, any case */
	IMAP_ARG_QUOTED,   /* a quoted string, escapes removed */
	IMAP_ARG_LITERAL,  /* a literal or literal8 */
	IMAP_ARG_LIST,     /* "(" ... ")" */
	IMAP_ARG_SECTION,  /* BODY[...]<...> and its BODY.PEEK, BINARY,
			    * BINARY.PEEK and BINARY.SIZE forms (FETCH,
			    * and NOTIFY's fetch attributes) */
	IMAP_ARG_STREAM,   /* a literal the caller consumed itself */
};

/* struct imap_arg flags. An ATOM's text decides which grammar it fits:
 * atom (no flag), astring (RBRACKET allowed), list-mailbox and
 * sequence-set (WILDCARD and RBRACKET allowed), flag (BACKSLASH). */
#define IMAP_ARGF_BACKSLASH 0x001 /* ATOM: "\" and an atom ("\Seen") */
#define IMAP_ARGF_WILDCARD 0x002  /* ATOM: holds "%" or "*" */
#define IMAP_ARGF_RBRACKET 0x004  /* ATOM: holds "]" */
#define IMAP_ARGF_8BIT 0x008      /* QUOTED, LITERAL: octets >= 0x80 */
#define IMAP_ARGF_LITERAL8 0x010  /* LITERAL, STREAM: was "~{n}" */
#define IMAP_ARGF_NUL 0x020       /* LITERAL: a literal8 holding NUL */
#define IMAP_ARGF_NONSYNC 0x040   /* LITERAL, STREAM: was "{n+}" */
#define IMAP_ARGF_RAW 0x080       /* SECTION: written as one word, which
				   * is also an astring: raw holds it */
#define IMAP_ARGF_PARTIAL 0x100   /* SECTION: "<start.length>" given */

/* One token. Every pointer stays valid until the parser is next fed,
 * failed, reset or freed. */
struct imap_arg {
	enum imap_arg_type type;
	unsigned flags;           /* IMAP_ARGF_* */
	/* ATOM, NIL: the text as written. QUOTED: the content. LITERAL: the
	 * octets. SECTION: the name before "[" as written ("body.peek").
	 * NUL-terminated (a LITERAL8 may hold NULs too: use len). NULL for
	 * LIST and STREAM. */
	const char *str;
	size_t len;
	/* LIST: its members. SECTION: what was between the brackets: none
	 * for "[]", else an ATOM ("1.2.TEXT", "HEADER.FIELDS") and, for
	 * HEADER.FIELDS[.NOT], the LIST of field names. */
	const struct imap_arg *list;
	size_t count;
	const char *raw;          /* SECTION with RAW: the whole word */
	size_t raw_len;
	uint64_t size;            /* LITERAL: len; STREAM: its octets */
	uint64_t partial_start;   /* SECTION with PARTIAL: <start.length> */
	uint64_t partial_len;     /* (length > 0) */
};

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

/* ---- Reading arguments ----------------------------------------------
 * Each returns 0 when arg has the form asked for, filling the outputs,
 * else -1 (then a BAD reply). Strings are NUL-terminated; *len_r counts
 * their octets, which may be 8-bit (check UTF-8 or mUTF-7 where the
 * grammar asks for it). A literal8 is none of these forms. */

/* atom: an ATOM without BACKSLASH, WILDCARD or RBRACKET, or NIL. */
int imap_arg_get_atom(const struct imap_arg *a, const char **s_r);
/* 1 when arg is the atom name (case-insensitive), else 0. */
int imap_arg_is_atom(const struct imap_arg *a, const char *name);
/* astring: an atom (RBRACKET allowed), NIL as the text "NIL", a quoted
 * string, a literal, or a RAW SECTION ("BODY[1]" is a valid mailbox). */
int imap_arg_get_astring(const struct imap_arg *a, const char **s_r,
			 size_t *len_r);
/* string: quoted or literal. */
int imap_arg_get_string(const struct imap_arg *a, const char **s_r,
			size_t *len_r);
/* nstring: a string, or NIL (*s_r NULL, *len_r 0). */
int imap_arg_get_nstring(const struct imap_arg *a, const char **s_r,
			 size_t *len_r);
/* list-mailbox: an ATOM with wildcards (not BACKSLASH), NIL, or a
 * string. */
int imap_arg_get_list_mailbox(const struct imap_arg *a, const char **s_r,
			      size_t *len_r);
/* The text of any ATOM without BACKSLASH, or NIL: a sequence set, a
 * search key, a capability name. */
int imap_arg_get_word(const struct imap_arg *a, const char **s_r,
		      size_t *len_r);
/* flag: "\" atom, or a keyword atom. */
int imap_arg_get_flag(const struct imap_arg *a, const char **s_r);
/* "(" ... ")" */
int imap_arg_get_list(const struct imap_arg *a,
		      const struct imap_arg **list_r, size_t *count_r);
/* number (32 bits), nz-number (not 0), number64 (63 bits), as atoms of
 * digits. */
int imap_arg_get_number(const struct imap_arg *a, uint32_t *n_r);
int imap_arg_get_nz_number(const struct imap_arg *a, uint32_t *n_r);
int imap_arg_get_number64(const struct imap_arg *a, uint64_t *n_r);

#endif
