/* SEARCH's evaluation, shared by search.c (the command, the walk over the
 * mailbox, the results) and search_match.c (what a key needs read: the
 * header's fields, the Date: field, the bodies). Runs in a job's work
 * function, on the pool. */
#ifndef IMAP_SEARCH_H
#define IMAP_SEARCH_H

#include "imapd.h"
#include "search_parse.h"

#define SEARCH_READ_CHUNK (64 * 1024)   /* one msg_read */
#define SEARCH_HEADER_MAX (256 * 1024)  /* header octets searched */
#define SEARCH_FIELDS_MAX 4096          /* header fields searched */

/* A key's state (imap_search_key.priv). */
struct search_key {
	char *needle;        /* HEADER, BODY, TEXT: str case-folded */
	size_t nlen;
	/* The value for the message numbered gen (header keys). */
	unsigned gen;
	int value;
	/* BODY and TEXT: found in the bodies scanned so far, and the
	 * folded text's last nlen - 1 octets, so a match may straddle
	 * two pieces (tail has room for 2 * nlen). */
	int hit;
	int text;            /* a TEXT key: value is its header part */
	char *tail;
	size_t tlen;
};

/* A header field, decoded when a key first looks at it. */
struct search_field {
	const char *name;
	size_t name_len;
	const char *value;
	size_t value_len;
	char *fold;          /* "name: value" RFC 2047-decoded and folded */
	size_t fold_len;
	size_t value_off;    /* where value starts in fold */
};

/* The message being decided. */
struct search_msg {
	struct ps_msg m;
	uint32_t seq;
	unsigned level;       /* IMAP_SEARCH_COST_* read so far */
	unsigned gen;
	char *hdr;            /* the header block */
	size_t hdr_len;
	struct search_field *fields;
	size_t nfields;
	int have_sent;
	int64_t sent_day;
	struct mime_part *tree;
};

struct search_ctx {
	struct imap_search *q;
	struct imap_session *s;
	struct ps_mbox *mb;
	struct ps_error *err;
	int error;            /* the first failure: a negative code */
	char *buf;            /* SEARCH_READ_CHUNK octets for reads */
	struct search_key **body;  /* BODY and TEXT keys */
	size_t nbody;
};

#define SEARCH_FALSE 0
#define SEARCH_TRUE 1
#define SEARCH_UNKNOWN 2 /* needs more of the message read */

/* Note the first error (0 passes). Returns r. */
int search_fail(struct search_ctx *x, int r);

/* Each reads what its level needs and records an error in x. */
int search_header_load(struct search_ctx *x, struct search_msg *sm);
int search_body_scan(struct search_ctx *x, struct search_msg *sm);
void search_msg_clear(struct search_msg *sm);

/* With the header loaded: HEADER and TEXT (its header part) match? */
int search_header_match(struct search_ctx *x, struct search_msg *sm,
			const struct imap_search_key *k);
int search_text_header(struct search_ctx *x, struct search_msg *sm,
		       const struct search_key *ks);
/* The day the message was sent in its own zone: the Date: field, or the
 * internal date when that is missing or unreadable (as RFC 5256 2.2
 * does for SORT). */
int64_t search_sent_day(struct search_msg *sm);
/* The day of t in zone tz (minutes east of UTC), days since the epoch. */
int64_t search_day(int64_t t, int tz);

#endif
