/* FETCH's state, shared by fetch.c (the command, its batches of messages
 * and the response lines) and fetch_body.c (body sections: where they
 * are in the message, and the literals that carry them, written in
 * bounded steps). Everything here lives in one job and runs on the
 * pool. */
#ifndef IMAP_FETCH_H
#define IMAP_FETCH_H

#include "imapd.h"
#include "mime.h"
#include "section.h"

#define FETCH_CHUNK 65536          /* octets read from the store at once */
#define FETCH_HEADER_MAX (1 << 20) /* header octets HEADER.FIELDS reads */

/* The attributes, in the order of their bits. */
enum fetch_kind {
	FETCH_UID,
	FETCH_FLAGS,
	FETCH_MODSEQ,
	FETCH_INTERNALDATE,
	FETCH_RFC822_SIZE,
	FETCH_ENVELOPE,
	FETCH_BODY,          /* BODY without a section */
	FETCH_BODYSTRUCTURE,
	FETCH_SECTION,       /* BODY[...], BINARY[...], RFC822[.HEADER|.TEXT] */
};

struct fetch_section {
	struct imap_section sec;  /* fields point nowhere: see names */
	char **names;             /* HEADER.FIELDS[.NOT], upper case */
	char *label;              /* the response's item name, without the
				   * "<origin>" */
	int seen;                 /* sets \Seen (not PEEK, not .SIZE) */
};

struct fetch_item {
	enum fetch_kind kind;
	struct fetch_section *section; /* FETCH_SECTION */
};

/* A message of the batch, copied out of msg_fetch's callback. */
struct fetch_msg {
	struct ps_msg m;     /* keywords and cache point into the copies */
	char **keywords;
	void *cache;
	int flags_changed;   /* the implicit \Seen changed them */
};

/* The literal being written. */
struct fetch_stream {
	int active;
	int decode;               /* BINARY: through dec */
	int nul_to_high;          /* BODY: NUL goes out as 0x80 */
	uint64_t off, left;       /* message octets still to read */
	uint64_t skip, out_left;  /* decoded octets to drop, to write */
	struct mime_decoder dec;
	struct imap_buf *out;     /* dec's emit target */
};

struct fetch {
	struct fetch_item *items;
	size_t nitems;
	unsigned want;             /* 1 << enum fetch_kind */
	int need_tree;             /* something needs the MIME structure */
	int set_seen;              /* something sets \Seen */
	int changedsince_given, vanished;
	uint64_t changedsince;
	unsigned qflags;
	unsigned bsflags;           /* IMAP_BS_GLOBAL with IMAP4rev2 */

	struct imap_seqset rest;   /* UIDs not fetched yet */
	int started, exhausted;

	struct fetch_msg *batch;   /* the messages being answered */
	size_t nbatch, next, batch_cap;
	size_t batch_bytes;

	struct fetch_msg *cur;     /* its response is being written */
	struct mime_part *tree;
	size_t item;               /* the next item of cur */
	int nitems_out;            /* items written so far */
	struct fetch_stream st;
	char *chunk;               /* FETCH_CHUNK octets */

	int unknown_cte;           /* a BINARY could not be decoded */
	int broken;                /* a literal could not be completed */
	uint64_t parsed, parsed_bytes, cached; /* structures, for the log */
};

/* fetch_body.c. Write the section item (with a space first unless it is
 * the first item) of f->cur: at once when it is small, or as a literal
 * header with f->st set for fetch_stream_more. 0; 1 when the item is
 * left out (BINARY of an unknown encoding: f->unknown_cte); or a negative
 * code from the store. */
int fetch_section_start(struct fetch *f, struct ps_mbox *mb,
			const struct fetch_section *fs, struct imap_buf *out,
			struct ps_error *err);
/* The next piece of the literal in progress, at most FETCH_CHUNK octets
 * read. 0, or a negative code (the literal cannot be completed: the
 * connection must close). */
int fetch_stream_more(struct fetch *f, struct ps_mbox *mb,
		      struct imap_buf *out, struct ps_error *err);

#endif
