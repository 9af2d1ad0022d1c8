/* The machine-readable part: message/delivery-status (RFC 3464 2.2 per
 * message, 2.3 per recipient), or message/global-delivery-status (RFC
 * 6533 3) whose fields may hold UTF-8. Each field is folded (RFC 3464
 * 2.1.1 allows RFC 822 folding), so none passes 998 octets. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "dsn_private.h"

static const char *const actions[] = {
	[DSN_FAILED] = "failed",
	[DSN_DELAYED] = "delayed",
	[DSN_DELIVERED] = "delivered",
	[DSN_RELAYED] = "relayed",
	[DSN_EXPANDED] = "expanded",
};

/* "name: a b" with the two pieces joined first. */
static void
field2(struct dsn_out *o, const char *name, const char *a, const char *b,
       int utf8)
{
	char v[DSN_TEXT_MAX + 64];

	snprintf(v, sizeof(v), "%s%s", a, b);
	dsn_out_field(o, name, v, utf8);
}

static void
date_field(struct dsn_out *o, const char *name, int64_t t, int tz)
{
	char d[DSN_DATE_MAX];

	dsn_date(t, tz, d);
	dsn_out_field(o, name, d, 0);
}

/* RFC 3461 6.3 returns ENVID and ORCPT decoded from xtext. A value that
 * does not decode to printable ASCII (the field is 7-bit text, and a
 * decoded CR LF would start a field of its own) is copied as written,
 * which is printable. */
static int
xtext_printable(const char *s, size_t len, char *out, size_t size)
{
	size_t n;

	if (dsn_xtext_decode(s, len, out, size, &n) < 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (out[i] < ' ' || out[i] > '~')
			return 0;
	return 1;
}

/* Original-Recipient (RFC 3464 2.3.1): addr-type ";" address. A "utf-8"
 * one (RFC 6533 3) keeps its own escapes, which the field takes as they
 * are. */
static void
original_recipient(struct dsn_out *o, const char *orcpt, int utf8)
{
	const char *semi = strchr(orcpt, ';');
	char type[64], addr[DSN_TEXT_MAX];
	size_t tl = (size_t)(semi - orcpt);

	snprintf(type, sizeof(type), "%.*s; ", (int)tl, orcpt);
	if (strncasecmp(orcpt, "utf-8;", 6) != 0 &&
	    xtext_printable(semi + 1, strlen(semi + 1), addr, sizeof(addr)))
		field2(o, "Original-Recipient", type, addr, 0);
	else
		field2(o, "Original-Recipient", type, semi + 1, utf8);
}

/* Received-From-MTA (RFC 3464 2.2.4) from "helo [ip]": the name, the
 * address as a comment. */
static void
received_from(struct dsn_out *o, const char *client)
{
	const char *br = strstr(client, " [");
	char v[DSN_TEXT_MAX];

	if (br && client[strlen(client) - 1] == ']')
		snprintf(v, sizeof(v), "dns; %.*s (%s)", (int)(br - client),
			 client, br + 1);
	else
		snprintf(v, sizeof(v), "dns; %s", client);
	dsn_out_field(o, "Received-From-MTA", v, 0);
}

static int
non_ascii(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s >= 0x80)
			return 1;
	return 0;
}

static void
recipient(struct dsn_out *o, const struct dsn_report *r,
	  const struct dsn_rcpt *rc, int utf8)
{
	dsn_out_line(o, NULL);
	if (rc->orcpt && *rc->orcpt)
		original_recipient(o, rc->orcpt, utf8);
	/* RFC 6533 3: a non-ASCII address is of type utf-8 */
	field2(o, "Final-Recipient", non_ascii(rc->address) ? "utf-8; " :
	       "rfc822; ", rc->address, utf8);
	dsn_out_field(o, "Action", actions[rc->action], 0);
	dsn_out_field(o, "Status", rc->status, 0);
	if (rc->remote_mta && *rc->remote_mta)
		field2(o, "Remote-MTA", "dns; ", rc->remote_mta, utf8);
	if (rc->diag && *rc->diag) {
		char type[64];

		snprintf(type, sizeof(type), "%s; ",
			 rc->diag_type ? rc->diag_type : "smtp");
		field2(o, "Diagnostic-Code", type, rc->diag, utf8);
	}
	if (rc->last_attempt)
		date_field(o, "Last-Attempt-Date", rc->last_attempt,
			   r->tz_minutes);
	if (rc->action == DSN_DELAYED && rc->retry_until)
		date_field(o, "Will-Retry-Until", rc->retry_until,
			   r->tz_minutes);
}

void
dsn_status(struct dsn_out *o, const struct dsn_report *r, int utf8)
{
	char envid[DSN_TEXT_MAX];

	field2(o, "Reporting-MTA", "dns; ", r->host, 0);
	if (r->envid && *r->envid)
		dsn_out_field(o, "Original-Envelope-Id",
			      xtext_printable(r->envid, strlen(r->envid),
					      envid, sizeof(envid)) ?
			      envid : r->envid, 0);
	if (r->client && *r->client)
		received_from(o, r->client);
	if (r->arrival)
		date_field(o, "Arrival-Date", r->arrival, r->tz_minutes);
	for (size_t i = 0; i < r->nrcpts; i++)
		recipient(o, r, &r->rcpts[i], utf8);
}
