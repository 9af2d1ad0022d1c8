/* The checks dsn_plan makes on a report before anything is read or
 * written: every name of the right shape and bound, no control octet in
 * a text that reaches a header field, statuses that fit their actions
 * (RFC 3463 2, RFC 3464 2.3.3). */
#include <string.h>

#include "dsn_private.h"
#include "mime.h"

#define ADDR_MAX 1000  /* PS_QUEUE_ADDR_MAX */
#define ENVID_MAX 100  /* RFC 3461 4.4 */
#define ORCPT_MAX 500  /* RFC 3461 4.2 */
#define TYPE_MAX 32    /* an address or diagnostic type's name */

static int
is_alnum(int ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		(ch >= '0' && ch <= '9');
}

/* Every octet of s[0..len) in set (alphanumerics always). */
static int
only(const char *s, size_t len, const char *set)
{
	for (size_t i = 0; i < len; i++)
		if (!is_alnum((unsigned char)s[i]) && !strchr(set, s[i]))
			return 0;
	return 1;
}

/* 1..max octets of "!".."~" (RFC 3461 4.4). */
static int
graphic(const char *s, size_t max)
{
	size_t len = strlen(s);

	for (size_t i = 0; i < len; i++)
		if (s[i] < '!' || s[i] > '~')
			return 0;
	return len >= 1 && len <= max;
}

/* 1..max octets of printable text: no controls, well-formed UTF-8. */
static int
text_ok(const char *s, size_t max)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len;
	int n;

	if (!s || !(len = strlen(s)) || len > max)
		return 0;
	for (size_t i = 0; i < len; i += (size_t)n)
		if (p[i] < ' ' || p[i] == 0x7f ||
		    (n = mime_utf8_seq(p + i, len - i)) <= 0)
			return 0;
	return 1;
}

/* RFC 3463 2: class "." subject "." detail, 1 to 3 digits each; the
 * class as the action needs it. */
static int
status_ok(const char *s, enum dsn_action a)
{
	size_t i = 1, digits;

	if (!s || (a == DSN_FAILED ? (s[0] != '4' && s[0] != '5') :
		   s[0] != (a == DSN_DELAYED ? '4' : '2')))
		return 0;
	for (int part = 0; part < 2; part++) {
		if (s[i++] != '.')
			return 0;
		for (digits = 0; s[i] >= '0' && s[i] <= '9'; i++)
			digits++;
		if (digits < 1 || digits > 3)
			return 0;
	}
	return s[i] == '\0';
}

/* addr-type ";" value (RFC 3461 4.2). */
static int
orcpt_ok(const char *s)
{
	const char *semi = s ? strchr(s, ';') : NULL;
	size_t tl = semi ? (size_t)(semi - s) : 0;

	return text_ok(s, ORCPT_MAX) && tl >= 1 && tl <= TYPE_MAX &&
		only(s, tl, "-") && semi[1] != '\0';
}

static int
type_ok(const char *s)
{
	return s && *s && strlen(s) <= TYPE_MAX && only(s, strlen(s), "-");
}

static const char *
rcpt_check(const struct dsn_rcpt *rc)
{
	if (!text_ok(rc->address, ADDR_MAX))
		return "a recipient's address is empty, too long or not text";
	if ((unsigned)rc->action > DSN_EXPANDED)
		return "a recipient's action is unknown";
	if (!status_ok(rc->status, rc->action))
		return "a recipient's status is no x.y.z fitting its action";
	if (rc->orcpt && *rc->orcpt && !orcpt_ok(rc->orcpt))
		return "a recipient's ORCPT is not addr-type;value";
	if (rc->remote_mta && *rc->remote_mta &&
	    !text_ok(rc->remote_mta, ADDR_MAX))
		return "a recipient's remote MTA is too long or not text";
	if (rc->diag_type && !type_ok(rc->diag_type))
		return "a recipient's diagnostic type is not a name";
	return NULL;
}

/* The envelope and the names the DSN is written with. */
static const char *
envelope_check(const struct dsn_report *r)
{
	if (!r->host || !*r->host || strlen(r->host) > 255 ||
	    !only(r->host, strlen(r->host), ".-[]:"))
		return "the host name is not a domain or address literal";
	if (!r->id || !*r->id || strlen(r->id) > DSN_ID_MAX ||
	    !only(r->id, strlen(r->id), "_-"))
		return "the id is not 1 to 32 letters, digits, _ or -";
	if (r->tz_minutes < -1439 || r->tz_minutes > 1439)
		return "the time zone offset is out of range";
	if (!r->sender || !*r->sender)
		return "no DSN goes to the null sender (RFC 3461 6.1)";
	if (!text_ok(r->sender, ADDR_MAX))
		return "the sender is too long or not text";
	if (r->envid && *r->envid && !graphic(r->envid, ENVID_MAX))
		return "the ENVID is longer than 100 octets or not printable";
	if (r->client && *r->client && !text_ok(r->client, ADDR_MAX))
		return "the client is too long or not text";
	if (r->reason && *r->reason && !text_ok(r->reason, DSN_TEXT_MAX))
		return "the reason is too long or not text";
	return NULL;
}

const char *
dsn_check(const struct dsn_report *r)
{
	const char *why;

	if ((why = envelope_check(r)))
		return why;
	if (!r->rcpts || r->nrcpts < 1 || r->nrcpts > DSN_RCPTS_MAX)
		return "a DSN reports on 1 to 10000 recipients";
	if (!r->read)
		return "no reader for the original message";
	for (size_t i = 0; i < r->nrcpts; i++)
		if ((why = rcpt_check(&r->rcpts[i])))
			return why;
	return NULL;
}
