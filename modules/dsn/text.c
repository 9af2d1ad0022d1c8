/* The human-readable first part of a DSN (RFC 6522 3: text/plain): what
 * happened, per recipient with the remote server's answer, and what is
 * returned. Every line starts with fixed text, "<" or spaces, never with
 * "--", so no line of it can be taken for a boundary delimiter. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "dsn_private.h"

enum dsn_kind
dsn_kind(const struct dsn_report *r)
{
	enum dsn_kind k = DSN_KIND_SUCCESS;

	for (size_t i = 0; i < r->nrcpts; i++) {
		if (r->rcpts[i].action == DSN_FAILED)
			return DSN_KIND_FAILED;
		if (r->rcpts[i].action == DSN_DELAYED)
			k = DSN_KIND_DELAYED;
	}
	return k;
}

static const char *
intro(enum dsn_kind k)
{
	switch (k) {
	case DSN_KIND_FAILED:
		return "Your message could not be delivered to one or more of "
		       "its recipients. This is a permanent error.";
	case DSN_KIND_DELAYED:
		return "Your message has not been delivered yet to one or more "
		       "of its recipients. The mail system keeps trying; you "
		       "do not need to send it again.";
	case DSN_KIND_SUCCESS:
		break;
	}
	return "Your message was delivered to the recipients below, as you "
	       "asked.";
}

static void
paragraph(struct dsn_out *o, const char *first, const char *cont,
	  const char *text, int utf8)
{
	char clean[DSN_TEXT_MAX];
	size_t n = dsn_clean(text, utf8, clean, sizeof(clean));

	dsn_out_wrap(o, first, cont, clean, n);
}

/* "<address>: what happened", then the reply that says why. */
static void
recipient(struct dsn_out *o, const struct dsn_report *r,
	  const struct dsn_rcpt *rc, int utf8)
{
	char line[DSN_TEXT_MAX + 128], d[DSN_DATE_MAX];

	switch (rc->action) {
	case DSN_FAILED:
		snprintf(line, sizeof(line), "<%s>: delivery failed (%s)",
			 rc->address, rc->status);
		break;
	case DSN_DELAYED:
		dsn_date(rc->retry_until, r->tz_minutes, d);
		snprintf(line, sizeof(line), "<%s>: delivery delayed (%s), "
			 "still trying%s%s", rc->address, rc->status,
			 rc->retry_until ? " until " : "",
			 rc->retry_until ? d : "");
		break;
	case DSN_DELIVERED:
		snprintf(line, sizeof(line), "<%s>: delivered", rc->address);
		break;
	case DSN_RELAYED:
		snprintf(line, sizeof(line), "<%s>: relayed to a system that "
			 "sends no delivery reports", rc->address);
		break;
	case DSN_EXPANDED:
		snprintf(line, sizeof(line), "<%s>: delivered, and forwarded "
			 "to other addresses", rc->address);
		break;
	}
	dsn_out_line(o, NULL);
	paragraph(o, "", "    ", line, utf8);
	if (!rc->diag || !*rc->diag)
		return;
	snprintf(line, sizeof(line), "%s%s%s",
		 rc->remote_mta && *rc->remote_mta ? rc->remote_mta : "",
		 rc->remote_mta && *rc->remote_mta ? " said: " : "", rc->diag);
	paragraph(o, "    ", "    ", line, utf8);
}

/* What the third part holds. */
static void
returned(struct dsn_out *o, const struct dsn_plan *p)
{
	char line[256];

	if (!p->cut) {
		dsn_out_line(o, p->part == DSN_PART_FULL ?
			     "Your message is attached below." :
			     "The header of your message is attached below.",
			     NULL);
		return;
	}
	snprintf(line, sizeof(line), "Only the first %" PRIu64 " octets of "
		 "your message%s are attached below: the rest is past the "
		 "size limit for returned mail.", p->returned,
		 p->part == DSN_PART_FULL ? "" : "'s header");
	paragraph(o, "", "", line, 0);
}

void
dsn_text(struct dsn_out *o, const struct dsn_report *r,
	 const struct dsn_plan *p)
{
	int utf8 = (p->flags & DSN_F_SMTPUTF8) != 0;

	dsn_out_line(o, "This is the mail system at ", r->host, ".", NULL);
	dsn_out_line(o, NULL);
	paragraph(o, "", "", intro(dsn_kind(r)), 0);
	if (r->reason && *r->reason) {
		dsn_out_line(o, NULL);
		paragraph(o, "Reason: ", "    ", r->reason, utf8);
	}
	for (size_t i = 0; i < r->nrcpts; i++)
		recipient(o, r, &r->rcpts[i], utf8);
	dsn_out_line(o, NULL);
	returned(o, p);
}
