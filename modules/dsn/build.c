/* A DSN as a whole (RFC 3464 in RFC 6522's multipart/report): dsn_plan
 * decides what is returned and finds a boundary by reading the original
 * first, dsn_write streams header, the three parts and the original.
 *
 * The boundary: "=_" id "." now "." and two hex digits per round. A line
 * of the original may start with anything, even with a boundary it could
 * guess (the id is in the 250 reply), so each round reads the original
 * and counts its lines starting with "--" and the prefix, by the two hex
 * digits after it, and takes the digits fewest lines have. None: that is
 * the boundary. Otherwise the next round looks only at those lines, at
 * most 1/256 of the last round's, so a few rounds end it for any size;
 * RFC 2046's 70 octets allow 9. Our own lines never start with "--". */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "dsn_private.h"

static const char *const subjects[] = {
	[DSN_KIND_FAILED] = "Undelivered Mail Returned to Sender",
	[DSN_KIND_DELAYED] = "Delayed Mail (still being retried)",
	[DSN_KIND_SUCCESS] = "Successful Mail Delivery Report",
};

static int
non_ascii(const char *s)
{
	for (; s && *s; s++)
		if ((unsigned char)*s >= 0x80)
			return 1;
	return 0;
}

/* RFC 6533: internationalised when the original was, or an address of
 * it is not ASCII. */
static int
global(const struct dsn_report *r)
{
	if (r->smtputf8 || non_ascii(r->sender))
		return 1;
	for (size_t i = 0; i < r->nrcpts; i++)
		if (non_ascii(r->rcpts[i].address) ||
		    non_ascii(r->rcpts[i].orcpt))
			return 1;
	return 0;
}

static void
orig_init(struct dsn_orig *g, const struct dsn_report *r,
	  const struct dsn_plan *p, const char *probe)
{
	memset(g, 0, sizeof(*g));
	g->r = r;
	g->hdrs = p->part == DSN_PART_HDRS;
	g->max = r->max_return ? r->max_return : DSN_RETURN_MAX_DEFAULT;
	g->probe = probe;
	g->probe_len = strlen(probe);
}

/* One round: read the original, append the least used two digits. */
static int
boundary_round(const struct dsn_report *r, struct dsn_plan *p, int *done_r,
	       const char **why_r)
{
	struct dsn_orig g;
	char probe[DSN_BOUNDARY_MAX + 3];
	size_t len = strlen(p->boundary);
	unsigned best = 0;

	snprintf(probe, sizeof(probe), "--%s", p->boundary);
	orig_init(&g, r, p, probe);
	if (dsn_orig_pass(&g, why_r) < 0)
		return DSN_EIO;
	for (unsigned c = 1; c < 256; c++)
		if (g.counts[c] < g.counts[best])
			best = c;
	snprintf(p->boundary + len, sizeof(p->boundary) - len, "%02x", best);
	*done_r = g.counts[best] == 0;
	p->flags |= g.eightbit ? DSN_F_8BITMIME : 0;
	p->returned = g.returned;
	p->cut = g.cut;
	return DSN_OK;
}

int
dsn_plan(const struct dsn_report *r, struct dsn_plan *p, const char **why_r)
{
	const char *why;
	int done = 0;

	if (!why_r)
		why_r = &why;
	memset(p, 0, sizeof(*p));
	if ((*why_r = dsn_check(r)))
		return DSN_EINVAL;
	p->part = dsn_kind(r) == DSN_KIND_FAILED && r->ret != DSN_RET_HDRS ?
		DSN_PART_FULL : DSN_PART_HDRS;
	p->flags = global(r) ? DSN_F_SMTPUTF8 | DSN_F_8BITMIME : 0;
	snprintf(p->boundary, sizeof(p->boundary), "=_%s.%" PRIx64 ".", r->id,
		 (uint64_t)r->now);
	while (!done) {
		if (strlen(p->boundary) + 2 > DSN_BOUNDARY_MAX) {
			*why_r = "no boundary fits: the original repeats them";
			return DSN_EINVAL;
		}
		if (boundary_round(r, p, &done, why_r) < 0)
			return DSN_EIO;
	}
	return DSN_OK;
}

static void
header(struct dsn_out *o, const struct dsn_report *r,
       const struct dsn_plan *p, int utf8)
{
	char v[DSN_TEXT_MAX], d[DSN_DATE_MAX], now[24];

	dsn_out_line(o, "From: \"Mail Delivery System\" <MAILER-DAEMON@",
		     r->host, ">", NULL);
	snprintf(v, sizeof(v), "<%s>", r->sender);
	dsn_out_field(o, "To", v, utf8);
	dsn_out_line(o, "Subject: ", subjects[dsn_kind(r)], NULL);
	dsn_date(r->now, r->tz_minutes, d);
	dsn_out_line(o, "Date: ", d, NULL);
	snprintf(now, sizeof(now), "%" PRId64, r->now);
	dsn_out_line(o, "Message-ID: <dsn.", r->id, ".", now, "@", r->host,
		     ">", NULL);
	/* RFC 3834 5: a reply made by a machine, never to be answered */
	dsn_out_line(o, "Auto-Submitted: auto-replied", NULL);
	dsn_out_line(o, "MIME-Version: 1.0", NULL);
	/* RFC 6522 3: report-type names the second part's subtype */
	dsn_out_line(o, "Content-Type: multipart/report; report-type=",
		     utf8 ? "global-delivery-status" : "delivery-status", ";",
		     NULL);
	dsn_out_line(o, "\tboundary=\"", p->boundary, "\"", NULL);
	if (p->flags & DSN_F_8BITMIME)
		dsn_out_line(o, "Content-Transfer-Encoding: 8bit", NULL);
	dsn_out_line(o, NULL);
	dsn_out_line(o, "This is a MIME-encapsulated message.", NULL);
}

/* The delimiter and the part's header; its CRLF before belongs to it
 * (RFC 2046 5.1.1). */
static void
part(struct dsn_out *o, const struct dsn_plan *p, const char *desc,
     const char *type, int eight)
{
	dsn_out_line(o, NULL);
	dsn_out_line(o, "--", p->boundary, NULL);
	dsn_out_line(o, "Content-Description: ", desc, NULL);
	dsn_out_line(o, "Content-Type: ", type, NULL);
	if (eight)
		dsn_out_line(o, "Content-Transfer-Encoding: 8bit", NULL);
	dsn_out_line(o, NULL);
}

/* The third part: the original again, checked against the boundary. */
static int
original(struct dsn_out *o, const struct dsn_report *r,
	 const struct dsn_plan *p, int utf8, const char **why_r)
{
	static const char *const types[2][2] = {
		{"message/rfc822", "text/rfc822-headers"},
		{"message/global", "message/global-headers"},
	};
	struct dsn_orig g;
	char probe[DSN_BOUNDARY_MAX + 3];

	part(o, p, p->part == DSN_PART_FULL ? "Returned message" :
	     "Returned message header", types[utf8][p->part],
	     (p->flags & DSN_F_8BITMIME) != 0);
	snprintf(probe, sizeof(probe), "--%s", p->boundary);
	orig_init(&g, r, p, probe);
	g.out = o;
	if (dsn_orig_pass(&g, why_r) < 0)
		return DSN_EIO;
	if (g.hits || g.returned != p->returned) {
		*why_r = "the original message changed since dsn_plan";
		return DSN_EIO;
	}
	return DSN_OK;
}

int
dsn_write(const struct dsn_report *r, const struct dsn_plan *p,
	  dsn_write_fn fn, void *arg, const char **why_r)
{
	struct dsn_out o = {.fn = fn, .arg = arg};
	int utf8 = (p->flags & DSN_F_SMTPUTF8) != 0;
	const char *why;

	if (!why_r)
		why_r = &why;
	if ((*why_r = dsn_check(r)))
		return DSN_EINVAL;
	header(&o, r, p, utf8);
	part(&o, p, "Notification", utf8 ? "text/plain; charset=utf-8" :
	     "text/plain; charset=us-ascii", utf8);
	dsn_text(&o, r, p);
	part(&o, p, "Delivery report", utf8 ? "message/global-delivery-status"
	     : "message/delivery-status", utf8);
	dsn_status(&o, r, utf8);
	if (original(&o, r, p, utf8, why_r) < 0)
		return DSN_EIO;
	dsn_out_line(&o, NULL);
	dsn_out_line(&o, "--", p->boundary, "--", NULL);
	if (dsn_out_flush(&o) < 0) {
		*why_r = "writing the DSN failed";
		return DSN_EIO;
	}
	return DSN_OK;
}
