/* libpsdsn's internals shared between its files: the buffered writer, the
 * cleaning and wrapping of texts into lines, dates, and the pass over the
 * original that dsn_plan and dsn_write share. Not for callers. */
#ifndef DSN_PRIVATE_H
#define DSN_PRIVATE_H

#include "dsn.h"

#define DSN_LINE_SOFT 78  /* RFC 5322 2.1.1: SHOULD */
#define DSN_LINE_HARD 998 /* RFC 5322 2.1.1: MUST, without the CRLF */
#define DSN_TEXT_MAX 4096 /* octets of one cleaned text (a diagnostic is
			   * at most 2000, PS_QUEUE_DIAG_MAX) */
#define DSN_ID_MAX 32
#define DSN_DATE_MAX 40

/* The value of an upper-case hex digit (xtext's, RFC 3461 4), or -1. */
int dsn_hex_upper(int ch);

/* ---- Output (out.c) -------------------------------------------------- */

/* Output in pieces to fn; the first failure sticks and stops the rest. */
struct dsn_out {
	dsn_write_fn fn;
	void *arg;
	int err;
	size_t used;
	char buf[8192];
};

void dsn_out_bytes(struct dsn_out *o, const void *data, size_t len);
void dsn_out_str(struct dsn_out *o, const char *s);
/* Strings a, b, ... up to a NULL, then CRLF. */
void dsn_out_line(struct dsn_out *o, const char *s, ...);
int dsn_out_flush(struct dsn_out *o);

/* Clean s for a line: controls and runs of white space become one space,
 * none at either end; a non-ASCII octet becomes "?" unless utf8 is set
 * and it is part of well-formed UTF-8. At most size - 1 octets, cut
 * between characters; returns the length. */
size_t dsn_clean(const char *s, int utf8, char *out, size_t size);

/* Write first, then the cleaned text in lines of at most
 * DSN_LINE_SOFT octets where words allow and never more than
 * DSN_LINE_HARD (a word no line holds is cut between characters, going
 * on from where the line is), each after the first starting with cont. cont " " makes header field folding
 * (RFC 5322 2.2.3): a break replaces a space, so unfolding gives the text
 * back, but for a cut word. Ends with CRLF. */
void dsn_out_wrap(struct dsn_out *o, const char *first, const char *cont,
		  const char *text, size_t len);

/* A header field or DSN field "name: value", value cleaned and folded. */
void dsn_out_field(struct dsn_out *o, const char *name, const char *value,
		   int utf8);

/* ---- Dates (date.c) -------------------------------------------------- */

/* t as an RFC 5322 3.3 date-time at tz_minutes east of UTC:
 * "Thu, 27 Nov 2025 21:37:00 +0100". */
void dsn_date(int64_t t, int tz_minutes, char out[DSN_DATE_MAX]);

/* ---- The original (original.c) --------------------------------------- */

/* One pass over the original as the DSN returns it: lines ended by CRLF
 * (bare CR and LF too), none longer than DSN_LINE_HARD (a longer one is
 * broken, with a space after the break in the header so it stays a
 * fold), the header only when hdrs, at most max octets read. Each line
 * that starts with probe is counted, and sorted by the two hex digits
 * after it. */
struct dsn_orig {
	/* in */
	const struct dsn_report *r;
	int hdrs;
	uint64_t max;
	const char *probe;        /* "--" and a boundary or its prefix */
	size_t probe_len;
	struct dsn_out *out;      /* NULL: only look */
	/* out */
	unsigned counts[256];     /* lines "probe" "XY", XY hex */
	uint64_t hits;            /* lines starting with probe */
	int eightbit;             /* an octet >= 0x80 was returned */
	uint64_t returned;        /* octets read and returned */
	int cut;                  /* more than max to return */
	/* state */
	char head[DSN_BOUNDARY_MAX + 8]; /* the line's first octets */
	size_t head_len, col;
	int in_header, pending_cr, done;
};

/* Run the pass; DSN_EIO (*why_r) when the reader failed. */
int dsn_orig_pass(struct dsn_orig *g, const char **why_r);

/* ---- Checks (check.c) ---------------------------------------------- */

/* NULL when r is fit to build a DSN from, else why not. */
const char *dsn_check(const struct dsn_report *r);

/* ---- Parts (text.c, status.c) ---------------------------------------- */

/* Summary of the recipients' actions. */
enum dsn_kind { DSN_KIND_FAILED, DSN_KIND_DELAYED, DSN_KIND_SUCCESS };
enum dsn_kind dsn_kind(const struct dsn_report *r);

/* The human-readable text/plain body. */
void dsn_text(struct dsn_out *o, const struct dsn_report *r,
	      const struct dsn_plan *p);
/* The message/(global-)delivery-status body (RFC 3464 2.2, 2.3). */
void dsn_status(struct dsn_out *o, const struct dsn_report *r, int utf8);

#endif
