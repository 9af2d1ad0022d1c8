/* SEARCH arguments (RFC 9051 6.4.4, RFC 3501 6.4.4) into a tree of keys:
 * RETURN options (ESEARCH, RFC 4731; SAVE, RFC 5182), CHARSET, and every
 * search key, MODSEQ (RFC 7162 3.1.5) included. NEW, OLD, UNKEYWORD and
 * the UN- flags become AND/NOT of simpler keys; FROM, TO, CC, BCC and
 * SUBJECT become HEADER with the field's name. Work is bounded: at most
 * IMAP_SEARCH_KEYS_MAX keys, IMAP_SEARCH_STRINGS_MAX of them searching
 * text, nested IMAP_SEARCH_DEPTH_MAX deep. Pure: no
 * SDK calls, for the fuzzer. */
#ifndef IMAP_SEARCH_PARSE_H
#define IMAP_SEARCH_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include "parser.h"
#include "seqset.h"

#define IMAP_SEARCH_KEYS_MAX 1000 /* keys in one command */
#define IMAP_SEARCH_STRINGS_MAX 100 /* of them HEADER, BODY, TEXT...: each
				     * is a pass over text */
#define IMAP_SEARCH_DEPTH_MAX 64  /* NOT, OR and "(...)" inside each other */

enum imap_search_type {
	IMAP_SK_ALL = 1,
	IMAP_SK_AND,        /* children: all of them */
	IMAP_SK_OR,         /* children: any of them */
	IMAP_SK_NOT,        /* child: the one negated */
	IMAP_SK_FLAG,       /* flag: a PS_FLAG_* bit set */
	IMAP_SK_RECENT,
	IMAP_SK_KEYWORD,    /* str: the keyword */
	IMAP_SK_SET,        /* set_arg: a sequence set, of UIDs if set_uid */
	IMAP_SK_BEFORE,     /* internal date, day: days since the epoch */
	IMAP_SK_ON,
	IMAP_SK_SINCE,
	IMAP_SK_SENTBEFORE, /* the Date: field, day as above */
	IMAP_SK_SENTON,
	IMAP_SK_SENTSINCE,
	IMAP_SK_LARGER,     /* num: RFC822.SIZE */
	IMAP_SK_SMALLER,
	IMAP_SK_MODSEQ,     /* num: the lowest MODSEQ that matches */
	IMAP_SK_HEADER,     /* field (case as given), str in it */
	IMAP_SK_BODY,       /* str in the body */
	IMAP_SK_TEXT,       /* str in the header or the body */
};

/* What a key needs read to be decided, cheapest first. */
#define IMAP_SEARCH_COST_META 0   /* what msg_fetch gives */
#define IMAP_SEARCH_COST_HEADER 1 /* the header block */
#define IMAP_SEARCH_COST_BODY 2   /* the bodies */

struct imap_search_key {
	enum imap_search_type type;
	unsigned cost;                  /* IMAP_SEARCH_COST_*, the highest
					 * of the key and its children */
	struct imap_search_key *child;  /* AND, OR, NOT: first operand,
					 * cheapest first */
	struct imap_search_key *next;   /* the parent's next operand */
	unsigned flag;
	char *field;                    /* NUL-terminated copies */
	char *str;
	size_t len;
	uint64_t num;
	int64_t day;
	/* SET: the argument, valid while the command's arguments are;
	 * the caller turns it into UIDs against its view (set). */
	const struct imap_arg *set_arg;
	int set_uid;
	struct imap_seqset set;
	/* The evaluator's own, per key (search.c). */
	void *priv;
	struct imap_search_key *all_next; /* every key, for free */
};

/* RETURN options (RFC 4731 3.1, RFC 5182 2). */
#define IMAP_SEARCH_RET_MIN 0x01
#define IMAP_SEARCH_RET_MAX 0x02
#define IMAP_SEARCH_RET_ALL 0x04
#define IMAP_SEARCH_RET_COUNT 0x08
#define IMAP_SEARCH_RET_SAVE 0x10

/* imap_search_parse() results */
#define IMAP_SEARCH_EBAD (-1)        /* syntax or limits: BAD error */
#define IMAP_SEARCH_EBADCHARSET (-2) /* NO [BADCHARSET (UTF-8 US-ASCII)] */
#define IMAP_SEARCH_ENOMEM (-3)

struct imap_search {
	struct imap_search_key *root; /* an AND of the keys given */
	int esearch;                  /* RETURN was given: ESEARCH replies */
	unsigned ret;                 /* IMAP_SEARCH_RET_*; RETURN () is ALL */
	int modseq;                   /* a MODSEQ key was given */
	unsigned nkeys;
	unsigned nstrings;            /* HEADER, BODY and TEXT keys */
	const char *error;            /* why the parse failed (static text) */
	struct imap_search_key *all;
};

/* An empty search, or NULL when out of memory. */
struct imap_search *imap_search_new(void);
void imap_search_free(struct imap_search *q);

/* Parse the arguments after "SEARCH" into q (new from imap_search_new).
 * Strings are copied; SET keys point at their argument. Search strings
 * must be UTF-8 (US-ASCII is a part of it). Returns 0 or a negative
 * IMAP_SEARCH_E* code, with q->error set; q->ret holds the RETURN
 * options read so far even then (a failed SAVE empties "$", RFC 5182
 * 2.1). */
int imap_search_parse(struct imap_search *q, const struct imap_arg *args,
		      size_t nargs);

#endif
