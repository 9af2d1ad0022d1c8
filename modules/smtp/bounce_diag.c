/* A recipient's DSN fields from the queue's diag text (bounce.h): the
 * host that answered (RFC 3464 2.3.5), the reply as the Diagnostic-Code
 * (2.3.6) and the status (2.3.4) from its enhanced code (RFC 3463, RFC
 * 2034), or X.0.0 from the reply code's class when it has none. Pure. */
#include <stdio.h>
#include <string.h>

#include "bounce.h"

static int
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int
is_host(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'z') ||
		(c >= 'A' && c <= 'Z') || c == '-' || c == '.' || c == '_';
}

/* "host[addr]: " at s: its length, and the host (or "[addr]" when the
 * name is empty) in mta; 0 when s does not start so. The address may be
 * IPv6 ("[IPv6:...]" or bare), so anything but "]" goes inside. */
static size_t
host_prefix(const char *s, char mta[BOUNCE_MTA_MAX + 1])
{
	size_t h = 0, a;

	while (is_host(s[h]))
		h++;
	if (s[h] != '[')
		return 0;
	for (a = h + 1; s[a] && s[a] != ']' && s[a] != ' '; a++)
		;
	if (s[a] != ']' || a == h + 1 || s[a + 1] != ':' || s[a + 2] != ' ')
		return 0;
	if (h > 0 && h <= BOUNCE_MTA_MAX)
		snprintf(mta, BOUNCE_MTA_MAX + 1, "%.*s", (int)h, s);
	else if (a - h + 1 <= BOUNCE_MTA_MAX)
		snprintf(mta, BOUNCE_MTA_MAX + 1, "%.*s", (int)(a - h + 1),
			 s + h);
	return a + 3;
}

/* RFC 5321 4.2: three digits, the first 2..5, then SP, "-" or the end.
 * The code, or 0. */
static int
reply_code(const char *s)
{
	if (s[0] < '2' || s[0] > '5' || !is_digit(s[1]) || !is_digit(s[2]) ||
	    (s[3] && s[3] != ' ' && s[3] != '-'))
		return 0;
	return (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
}

/* RFC 3463 2: class "." 1*3digit "." 1*3digit, class 2, 4 or 5, then SP
 * or the end. Its length, copied to out; 0 when s does not start so. */
static size_t
enhanced(const char *s, char out[BOUNCE_STATUS_MAX])
{
	size_t i = 1;

	if (s[0] != '2' && s[0] != '4' && s[0] != '5')
		return 0;
	for (int part = 0; part < 2; part++) {
		size_t start;

		if (s[i++] != '.')
			return 0;
		for (start = i; is_digit(s[i]) && i - start < 4; i++)
			;
		if (i == start || i - start > 3)
			return 0;
	}
	if (s[i] && s[i] != ' ')
		return 0;
	snprintf(out, BOUNCE_STATUS_MAX, "%.*s", (int)i, s);
	return i;
}

static const char *
skip_spaces(const char *s)
{
	while (*s == ' ')
		s++;
	return s;
}

/* The status fitting the action (dsn_plan checks the class): failed 5,
 * or 4.4.7 when the last answer was a temporary one, which only a
 * recipient that waited out queue_lifetime has (RFC 3463 3.5, "Delivery
 * time expired"); delayed 4; relayed 2. enh is the given code, "" none;
 * cls the class the answer had, 0 none. */
static void
status_for(enum dsn_action action, int cls, const char *enh,
	   struct bounce_diag *d)
{
	int want = action == DSN_FAILED ? 5 : action == DSN_DELAYED ? 4 : 2;

	if (action == DSN_FAILED && cls == 4) {
		snprintf(d->status, sizeof(d->status), "4.4.7");
		d->expired = 1;
	} else if (cls == want && enh[0]) {
		snprintf(d->status, sizeof(d->status), "%s", enh);
	} else {
		/* RFC 3463 3.1: X.0.0, the class alone. */
		snprintf(d->status, sizeof(d->status), "%d.0.0", want);
	}
}

void
bounce_diag_parse(const char *diag, enum dsn_action action,
		  struct bounce_diag *d)
{
	const char *s = diag ? diag : "";
	char enh[BOUNCE_STATUS_MAX] = "";
	int code, cls = 0;
	size_t n;

	memset(d, 0, sizeof(*d));
	d->type = "X-Poshta";
	s += host_prefix(s, d->mta);
	if ((code = reply_code(s))) {
		/* The whole reply is the diagnostic (RFC 3464 2.3.6). An
		 * enhanced code of another class than the reply's is
		 * ignored (RFC 2034 4: they must agree). */
		d->type = "smtp";
		d->text = s;
		cls = code / 100;
		if (enhanced(skip_spaces(s + 4 - !s[3]), enh) &&
		    enh[0] - '0' != cls)
			enh[0] = '\0';
	} else if ((n = enhanced(s, enh))) {
		cls = enh[0] - '0';
		d->text = skip_spaces(s + n);
	} else {
		d->text = s;
	}
	status_for(action, cls, enh, d);
}
