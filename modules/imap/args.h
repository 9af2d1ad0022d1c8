/* The arguments of a parsed IMAP command (parser.h) as a tree of tokens,
 * and reading them as the grammar's forms (RFC 9051 9: atom, astring,
 * string, nstring, list-mailbox, flag, number...). Pure: no SDK calls. */
#ifndef IMAP_ARGS_H
#define IMAP_ARGS_H

#include <stddef.h>
#include <stdint.h>

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

/* Each returns 0 when arg has the form asked for, filling the outputs,
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
