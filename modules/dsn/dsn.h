/* libpsdsn: delivery status notifications (RFC 3464 in an RFC 6522
 * multipart/report, RFC 6533 for internationalised mail), the xtext of
 * RFC 3461 4, and the loop check that keeps a bounce from bouncing. Pure:
 * libc and libpsmime (its header reader and UTF-8 check: link
 * modules/mime/libpsmime.la beside it), no SDK calls, no global state.
 * Linked into a module as the convenience library modules/dsn/libpsdsn.la.
 *
 * A reporter (the outbound runner) does, for a message the queue says is
 * owed a report (report_lease):
 *
 *   dsn_is_report(its header)   1: it is a report itself, send none
 *   dsn_plan(&report, &plan)    reads the original once (bounded memory):
 *                               boundary, what is returned, plan.flags
 *   enq_begin(sender "" -- the null sender, RFC 3461 6.1 and RFC 5321
 *             4.5.5, so a DSN is never answered by one --, flags from
 *             plan.flags, one recipient: the original sender)
 *   dsn_write(&report, &plan)   streams the DSN into enq_data
 *   enq_commit, report_done */
#ifndef DSN_H
#define DSN_H

#include <stddef.h>
#include <stdint.h>

/* Return codes; the same values as <poshta/types.h>'s PS_E*. */
#define DSN_OK 0
#define DSN_ENOMEM (-2)
#define DSN_EINVAL (-3)
#define DSN_EIO (-7) /* the reader or the writer failed */

/* ---- xtext (RFC 3461 4) ---------------------------------------------- */

/* 1 when s[0..len) is xtext: "!".."~" but "+" and "=", or "+" and two
 * upper-case hex digits; else 0. The empty string is xtext. */
int dsn_xtext_valid(const char *s, size_t len);

/* Decode xtext s[0..len) into out (size octets; len + 1 always do) as a
 * NUL-terminated string of *len_r octets. DSN_EINVAL when s is not xtext,
 * decodes to a NUL ("+00"), or out is too small. */
int dsn_xtext_decode(const char *s, size_t len, char *out, size_t size,
		     size_t *len_r);

/* Encode s[0..len) as xtext into out (size octets; 3 * len + 1 always
 * do), NUL-terminated, *len_r octets. DSN_EINVAL when out is too small. */
int dsn_xtext_encode(const char *s, size_t len, char *out, size_t size,
		     size_t *len_r);

/* ---- Loop protection ------------------------------------------------- */

/* 1 when the header block hdr[0..len) (the original's header, or its
 * first octets; it ends at the first empty line) says the message is an
 * automatic one that must get no DSN: Auto-Submitted with a value other
 * than "no" (RFC 3834 5), or Content-Type multipart/report with
 * report-type delivery-status or global-delivery-status (RFC 6522, RFC
 * 6533). 0 when not; DSN_ENOMEM. A DSN is never sent to the null sender
 * either: dsn_plan refuses one. */
int dsn_is_report(const char *hdr, size_t len);

/* ---- Building a DSN -------------------------------------------------- */

/* RFC 3464 2.3.3. */
enum dsn_action {
	DSN_FAILED = 0,
	DSN_DELAYED,
	DSN_DELIVERED,
	DSN_RELAYED,  /* to a system that sends no DSN itself */
	DSN_EXPANDED, /* delivered, and forwarded on to other addresses */
};

/* RFC 3461 4.3, the values of <poshta/queue.h>'s PS_QUEUE_RET_*. */
enum dsn_ret {
	DSN_RET_NONE = 0,
	DSN_RET_FULL = 1,
	DSN_RET_HDRS = 2,
};

/* Reads up to len octets of the original message from offset into buf
 * and sets *got_r, 0 at the end; 0 or a negative code. The queue's
 * msg_read fits. It must give the same octets every time. */
typedef int (*dsn_read_fn)(void *arg, uint64_t offset, void *buf,
			   size_t len, size_t *got_r);

/* Takes the next len octets of the DSN (pieces of any size); 0 or a
 * negative code, which stops the build. The queue's enq_data fits. */
typedef int (*dsn_write_fn)(void *arg, const void *data, size_t len);

/* One recipient reported. Strings are UTF-8 (non-ASCII only in an
 * internationalised DSN: see dsn_plan); control characters in texts are
 * written as spaces. Times are seconds since the epoch. */
struct dsn_rcpt {
	const char *address;    /* the final recipient, RFC 5321 form */
	const char *orcpt;      /* RFC 3461 ORCPT "addr-type;xtext", NULL or
				 * "": none */
	enum dsn_action action;
	const char *status;     /* RFC 3463 "class.subject.detail": 2.x.x
				 * for delivered, relayed, expanded; 4.x.x
				 * for delayed; 4 or 5 for failed */
	const char *remote_mta; /* the host that answered, or NULL */
	const char *diag_type;  /* RFC 3464 2.3.6 type, NULL: "smtp" */
	const char *diag;       /* its reply ("550 5.1.1 No such user"), a
				 * local error, or NULL */
	int64_t last_attempt;   /* 0: none */
	int64_t retry_until;    /* delayed only; 0: none */
};

#define DSN_RETURN_MAX_DEFAULT (10u * 1024 * 1024)

/* One DSN: a report on some recipients of one message. */
struct dsn_report {
	const char *host;       /* the reporting MTA (RFC 3464 2.2.2) */
	const char *id;         /* [A-Za-z0-9_-]{1,32}, unique per DSN (the
				 * queue id): Message-ID and boundary come
				 * from it and now, so tests are exact */
	int64_t now;            /* the Date field */
	int tz_minutes;         /* offset of local time east of UTC for
				 * every date written, -1439..1439 */
	const char *sender;     /* the original MAIL FROM: the DSN's To;
				 * never "" */
	int ret;                /* enum dsn_ret */
	const char *envid;      /* ENVID as xtext, NULL or "": none */
	int64_t arrival;        /* when the original was received */
	const char *client;     /* "helo [ip]" it came from, or NULL */
	int smtputf8;           /* the original asked for SMTPUTF8 */
	const struct dsn_rcpt *rcpts; /* 1..DSN_RCPTS_MAX: a message owing
				 * more (the queue allows 100000) gets
				 * several DSNs before report_done */
	size_t nrcpts;
	const char *reason;     /* a sentence for the reader, or NULL */
	uint64_t max_return;    /* octets of the original returned at most,
				 * 0: DSN_RETURN_MAX_DEFAULT */
	dsn_read_fn read;
	void *read_arg;
};

#define DSN_RCPTS_MAX 10000
#define DSN_BOUNDARY_MAX 70 /* RFC 2046 5.1.1 */

/* What the DSN needs from its transport (struct dsn_plan.flags): the
 * enqueue must ask for the same (PS_QUEUE_SMTPUTF8, PS_QUEUE_8BITMIME). */
#define DSN_F_SMTPUTF8 0x1u /* internationalised: RFC 6533 types, UTF-8
			     * in header fields */
#define DSN_F_8BITMIME 0x2u /* the returned original has 8-bit octets */

/* Which part returns the original. */
enum dsn_part {
	DSN_PART_FULL = 0, /* message/rfc822 or message/global */
	DSN_PART_HDRS,     /* text/rfc822-headers or message/global-headers */
};

struct dsn_plan {
	char boundary[DSN_BOUNDARY_MAX + 1];
	unsigned flags;       /* DSN_F_* */
	enum dsn_part part;
	uint64_t returned;    /* octets of the original returned */
	int cut;              /* 1: the original had more than max_return */
};

/* Check r and read the original (once or, when its content holds lines
 * that start like the boundary, a few times) to fill *p: the part that
 * returns it, a boundary no line of the DSN starts with, and the flags.
 *
 * What is returned (RFC 3461 4.3): when a recipient failed, the whole
 * message unless RET=HDRS (no RET: the whole message, as Postfix does);
 * when none failed (delays, deliveries), the header only, whatever RET
 * says. At most max_return octets; a longer original is cut at a line
 * end, and the DSN's text says so.
 *
 * DSN_EINVAL (*why_r says which field) for a bad report: the null
 * sender, no or too many recipients, a status that does not fit its
 * action, a name or id of the wrong shape. DSN_EIO when the reader
 * failed. why_r may be NULL; it gets a constant string. */
int dsn_plan(const struct dsn_report *r, struct dsn_plan *p,
	     const char **why_r);

/* Write the DSN that plan p was made for, as an RFC 5322 message with
 * CRLF lines of at most 998 octets, in pieces to fn. Memory does not
 * grow with the original. DSN_EIO when the reader or fn failed, or the
 * original changed since dsn_plan. */
int dsn_write(const struct dsn_report *r, const struct dsn_plan *p,
	      dsn_write_fn fn, void *arg, const char **why_r);

#endif
