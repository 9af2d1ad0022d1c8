/* The trace fields of final delivery (RFC 5321 4.4): Return-Path, and
 * Received with HELO and address, our name, the protocol type of RFC
 * 3848 or RFC 6531 3.7.3, the queue ID, TLS and login comments, and "for"
 * only with one recipient (more would tell each who else got the
 * message). Pure: no SDK calls. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "smtpd.h"

#define TRACE_MAX 4096 /* every part is bounded well below this */

const char *
smtp_trace_with(int esmtp, int utf8, int tls, int auth)
{
	static const char *const names[2][4] = {
		{"ESMTP", "ESMTPA", "ESMTPS", "ESMTPSA"},
		{"UTF8SMTP", "UTF8SMTPA", "UTF8SMTPS", "UTF8SMTPSA"},
	};

	if (!esmtp)
		return "SMTP";
	return names[utf8 ? 1 : 0][(tls ? 2 : 0) + (auth ? 1 : 0)];
}

/* RFC 5322 3.3 date-time, without the locale's names. */
static void
trace_date(char *out, size_t size, int64_t now, int tz_minutes)
{
	static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu",
					   "Fri", "Sat"};
	static const char *const months[] = {"Jan", "Feb", "Mar", "Apr",
					     "May", "Jun", "Jul", "Aug",
					     "Sep", "Oct", "Nov", "Dec"};
	time_t local = (time_t)(now + (int64_t)tz_minutes * 60);
	int tz = tz_minutes < 0 ? -tz_minutes : tz_minutes;
	struct tm tm;

	gmtime_r(&local, &tm);
	snprintf(out, size, "%s, %02d %s %04d %02d:%02d:%02d %c%02d%02d",
		 days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon],
		 tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 tz_minutes < 0 ? '-' : '+', tz / 60, tz % 60);
}

/* "from HELO ([IP])" and the fold before "by", an IPv6 address as its
 * RFC 5321 4.1.3 literal. A HELO that is no Domain or address literal
 * (smtp_helo_ok took it) goes in a comment. A message made here (a DSN)
 * has no client: the From-domain clause is left out (4.4 allows it only
 * for mail that came over a network), and so is this. */
static void
trace_from(char *out, size_t size, const struct smtp_trace *t)
{
	const char *v6, *helo = t->helo ? t->helo : "";

	if (!t->client_ip) {
		out[0] = '\0';
		return;
	}
	v6 = strchr(t->client_ip, ':') ? "IPv6:" : "";
	if (smtp_domain_ok(helo, strlen(helo)))
		snprintf(out, size, "from %s ([%s%s])\r\n\t", helo, v6,
			 t->client_ip);
	else
		snprintf(out, size, "from [%s%s] ([%s%s]) (helo=%s)\r\n\t",
			 v6, t->client_ip, v6, t->client_ip, helo);
}

/* "\r\n\t(using TLSv1.3 with cipher X)" from "TLSv1.3 X". */
static void
trace_tls(char *out, size_t size, const char *info)
{
	const char *sp = info ? strchr(info, ' ') : NULL;

	if (!info)
		out[0] = '\0';
	else if (!sp)
		snprintf(out, size, "\r\n\t(using %s)", info);
	else
		snprintf(out, size, "\r\n\t(using %.*s with cipher %s)",
			 (int)(sp - info), info, sp + 1);
}

char *
smtp_trace_headers(const struct smtp_trace *t, size_t *len_r)
{
	char from[600], tls[256], auth[400] = "", rcpt[300] = "", date[64];
	char with[64] = "";
	char *out = malloc(TRACE_MAX);
	int n;

	if (!out)
		return NULL;
	trace_from(from, sizeof(from), t);
	trace_tls(tls, sizeof(tls), t->tls_info);
	if (t->user)
		snprintf(auth, sizeof(auth), "\r\n\t(authenticated as %s)",
			 t->user);
	if (t->rcpt)
		snprintf(rcpt, sizeof(rcpt), "\r\n\tfor <%s>", t->rcpt);
	if (t->with)
		snprintf(with, sizeof(with), " with %s", t->with);
	trace_date(date, sizeof(date), t->now, t->tz_minutes);
	n = snprintf(out, TRACE_MAX, "Return-Path: <%s>\r\n"
		     "Received: %sby %s (Poshta)%s id %s%s%s%s;\r\n"
		     "\t%s\r\n", t->sender, from, t->hostname, with, t->id,
		     tls, auth, rcpt, date);
	if (n < 0 || n >= TRACE_MAX) {
		free(out);
		return NULL;
	}
	*len_r = (size_t)n;
	return out;
}

/* RFC 5321 6.3: counting Received fields finds loops (the threshold
 * "SHOULD" be at least 100). A field name starts a line; case does not
 * matter (RFC 5322 1.2.2). */
unsigned
smtp_trace_hops(const char *headers)
{
	unsigned n = 0;

	for (const char *p = headers; p && *p; p = strchr(p, '\n'),
	     p = p ? p + 1 : NULL)
		n += strncasecmp(p, "Received:", 9) == 0;
	return n;
}
