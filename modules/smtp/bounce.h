/* bounce_diag.c: what one recipient's DSN fields say (RFC 3464 2.3.4
 * Status, 2.3.5 Remote-MTA, 2.3.6 Diagnostic-Code), from the outcome the
 * outbound runner stored in the queue. Pure: no SDK calls, so
 * tests/unit/test_smtp_bounce.c links it alone. The runner's diag text
 * (docs/architecture.md, "Outbound"), one of:
 *
 *   "mx1.example.test[127.0.0.2]: 550 5.1.1 text"  a remote reply; the
 *                                                  enhanced code may miss
 *   "mx1.example.test[127.0.0.2]: 5.6.7 text"      a local decision at a
 *                                                  host
 *   "5.1.10 text"                                  a local decision */
#ifndef SMTP_BOUNCE_H
#define SMTP_BOUNCE_H

#include "dsn.h"

#define BOUNCE_STATUS_MAX 12 /* "c.sss.ddd" (RFC 3463 2) and a NUL */
#define BOUNCE_MTA_MAX 255   /* a host name (RFC 1035 2.3.4) */

struct bounce_diag {
	char status[BOUNCE_STATUS_MAX];   /* fits the action (dsn_plan) */
	char mta[BOUNCE_MTA_MAX + 1];     /* the host that answered, "" */
	const char *type;                 /* "smtp": a remote reply
					   * (RFC 3464 2.3.6); "X-Poshta": a
					   * local decision */
	const char *text;                 /* inside the diag given, "" */
	int expired;                      /* failed after deferrals only:
					   * the queue lifetime ran out */
};

/* Fill *d for a recipient reported with action (DSN_FAILED, DSN_DELAYED
 * or DSN_RELAYED) whose queue diag is diag (NULL or "": none). d->text
 * points into diag, which must outlive d. Never fails: text of another
 * shape is a local diagnostic, and a status missing or of a class that
 * does not fit the action is derived from the action (RFC 3463 3.1,
 * X.0.0). */
void bounce_diag_parse(const char *diag, enum dsn_action action,
		       struct bounce_diag *d);

#endif
