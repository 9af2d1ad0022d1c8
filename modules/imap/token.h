/* The command parser's inside, shared by parser.c (lines, literals and
 * the caller's API) and token.c (the tokens of a line and the tree they
 * make). Not for command implementations: they see parser.h and args.h.
 * Pure: no SDK calls. */
#ifndef IMAP_TOKEN_H
#define IMAP_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#include "parser.h"

#define IMAP_NONE ((size_t)-1)

enum imap_pstate {
	IMAP_S_IDLE,     /* the next line starts a command */
	IMAP_S_LINE,     /* a literal is in: the next line continues it */
	IMAP_S_DECIDE,   /* a literal was announced: begin or fail it */
	IMAP_S_LIT,      /* octets of a buffered literal */
	IMAP_S_STREAM,   /* the caller consumes the literal, then a line */
	IMAP_S_SKIP_LIT, /* octets of a literal of a failed command */
	IMAP_S_SKIP,     /* the next line belongs to a failed command */
	IMAP_S_DONE,
	IMAP_S_FAILED,
};

/* A token; tok[0] stands for the command, the parent of its arguments.
 * Text lives in p->data at offsets, since the buffer moves as it grows;
 * struct imap_arg pointers are made from them on demand. */
struct imap_tok {
	enum imap_arg_type type;
	unsigned flags;
	size_t off, len;         /* text, NUL-terminated; IMAP_NONE if none */
	size_t raw_off, raw_len; /* RAW SECTION */
	uint64_t size, pstart, plen;
	size_t parent, first, last, next, count;
};

struct imap_parser {
	struct imap_limits lim;
	unsigned flags;
	enum imap_pstate state;
	char *data;
	size_t dlen, dcap;
	struct imap_tok *tok;
	struct imap_arg *args;   /* args[i] shows tok[order[i]] */
	size_t *order;
	size_t ntok, tcap;       /* tok, args and order hold tcap each */
	int dirty;               /* args is out of date */
	size_t cur;              /* the open list or section; 0 at the top */
	unsigned depth;
	size_t tag_off, cmd_off; /* IMAP_NONE until read */
	uint64_t total;          /* octets counted against max_command */
	uint64_t discarded;      /* against max_discard */
	struct imap_literal lit;
	uint64_t left;           /* octets of the current literal to come */
	size_t lit_tok;
	int failed;
	struct imap_parse_error err;
	char err_text[160];
	char err_code[32];
};

/* Messages compared by address: out of memory is fatal, the two limits
 * get the response code LIMIT. */
extern const char imap_token_oom[];
extern const char imap_token_too_many[];
extern const char imap_token_too_deep[];

/* Storage. reserve: room for n more octets of text (0 or -1). put: a
 * copy of s[0..n) and a NUL, its offset or IMAP_NONE. grow: capacity for
 * cap tokens (at most max_tokens + 1), 0 or -1. */
int imap_token_reserve(struct imap_parser *p, size_t n);
size_t imap_token_put(struct imap_parser *p, const void *s, size_t n);
int imap_token_grow(struct imap_parser *p, size_t cap);

/* A new last child of parent: its index, or IMAP_NONE with *why_r. */
size_t imap_token_new(struct imap_parser *p, enum imap_arg_type type,
		      size_t parent, const char **why_r);

/* A literal announcement ending line[0..len). */
struct imap_marker {
	uint64_t size;
	int sync, binary;
	size_t start; /* where "{" or "~{" is */
};
/* 1 with *m, 0 if the line does not end with one, -1 if its size does
 * not fit number64 (nobody can tell where the command ends then). */
int imap_token_marker(const char *line, size_t len, struct imap_marker *m);

/* The token at s[*i_r] in the open container, *i_r moved past it.
 * Each returns NULL, or why the line is bad (one of the messages above,
 * or another text). word: 1*list-char (an atom, NIL, or a section);
 * flag: "\" atom; quoted: at the DQUOTE. */
const char *imap_token_word(struct imap_parser *p, const unsigned char *s,
			    size_t len, size_t *i_r);
const char *imap_token_flag(struct imap_parser *p, const unsigned char *s,
			    size_t len, size_t *i_r);
const char *imap_token_quoted(struct imap_parser *p, const unsigned char *s,
			      size_t len, size_t *i_r);

/* Open a list (at its "("), close the open list or section. */
const char *imap_token_open_list(struct imap_parser *p);
void imap_token_close(struct imap_parser *p);
/* Close the open section at its "]" (*i_r is after it) and read the
 * partial that may follow. */
const char *imap_token_close_section(struct imap_parser *p,
				     const unsigned char *s, size_t len,
				     size_t *i_r);

#endif
