/* The client's commands: MAIL with SIZE (RFC 1870), BODY=8BITMIME (RFC
 * 6152), SMTPUTF8 (RFC 6531 3.4), REQUIRETLS (RFC 8689 4.1), RET and
 * ENVID (RFC 3461 4.3, 4.4); RCPT with NOTIFY and ORCPT (RFC 3461 4.1,
 * 4.2); and the buffer they go out through. Every value is checked
 * against its grammar first, so nothing from the queue can end a
 * command early or add one. Pure: paths are address.c's, xtext
 * libpsdsn's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client_private.h"
#include "command.h"
#include "dsn.h"

/* ---- Output ----------------------------------------------------------- */

char *
smtpc_out_room(struct smtpc_out *o, size_t n)
{
	size_t cap = o->cap ? o->cap : 1024;
	char *p;

	if (o->err)
		return NULL;
	while (cap - o->len < n) {
		if (cap > SIZE_MAX / 2)
			return o->err = SMTPC_ENOMEM, NULL;
		cap *= 2;
	}
	if (cap != o->cap) {
		if (!(p = realloc(o->p, cap)))
			return o->err = SMTPC_ENOMEM, NULL;
		o->p = p;
		o->cap = cap;
	}
	return o->p + o->len;
}

int
smtpc_out_add(struct smtpc_out *o, const char *s, size_t len)
{
	char *p = smtpc_out_room(o, len);

	if (!p)
		return o->err;
	memcpy(p, s, len);
	o->len += len;
	return 0;
}

int
smtpc_out_str(struct smtpc_out *o, const char *s)
{
	return smtpc_out_add(o, s, strlen(s));
}

/* ---- Checks ----------------------------------------------------------- */

/* 1: addr is a path of RFC 5321 4.1.2 (null_ok: or ""), with UTF-8; 0:
 * ASCII; -1: neither. */
static int
path_check(const char *addr, int null_ok)
{
	char buf[SMTP_PATH_MAX + 1];
	size_t len = strlen(addr), end;
	struct smtp_path p;

	if (len + 2 > SMTP_PATH_MAX)
		return -1;
	buf[0] = '<';
	memcpy(buf + 1, addr, len);
	buf[len + 1] = '>';
	if (smtp_path_parse(buf, len + 2, null_ok, !null_ok, &p, &end) !=
		    SMTP_P_OK ||
	    end != len + 2)
		return -1;
	return (p.flags & SMTP_PATH_UTF8) != 0;
}

static int
empty(const char *s)
{
	return !s || !*s;
}

/* RFC 3461 4.2: orcpt-parameter = addr-type ";" xtext, at most 500
 * octets; addr-type is an atom (RFC 3461 uses "rfc822", RFC 6533
 * "utf-8"). */
static int
orcpt_ok(const char *s)
{
	size_t len = strlen(s), t = 0;

	while (t < len && (smtp_is_letdig(s[t]) || s[t] == '-'))
		t++;
	return len <= SMTP_ORCPT_MAX && t > 0 && t < len && s[t] == ';' &&
	       dsn_xtext_valid(s + t + 1, len - t - 1);
}

static int
rcpt_check(const struct smtpc_rcpt *r, const char **why_r)
{
	int utf8;

	if (!r->address || (utf8 = path_check(r->address, 0)) < 0)
		return *why_r = "malformed recipient address", SMTPC_EINVAL;
	if (!empty(r->orcpt) && !orcpt_ok(r->orcpt))
		return *why_r = "ORCPT is not addr-type;xtext", SMTPC_EINVAL;
	if ((r->notify & SMTPC_NOTIFY_NEVER) && r->notify != SMTPC_NOTIFY_NEVER)
		return *why_r = "NOTIFY=NEVER with other values", SMTPC_EINVAL;
	return utf8;
}

int
smtpc_msg_check(const struct smtpc_msg *m, const char **why_r)
{
	int utf8 = m->sender ? path_check(m->sender, 1) : -1, r;

	if (utf8 < 0)
		return *why_r = "malformed sender address", SMTPC_EINVAL;
	if (!empty(m->envid) &&
	    (strlen(m->envid) > SMTP_ENVID_MAX ||
	     !dsn_xtext_valid(m->envid, strlen(m->envid))))
		return *why_r = "ENVID is not xtext of at most 100 octets",
		       SMTPC_EINVAL;
	if (m->ret < 0 || m->ret > 2)
		return *why_r = "RET is not FULL or HDRS", SMTPC_EINVAL;
	if (!m->rcpts || m->nrcpts == 0 || m->nrcpts > SMTPC_RCPTS_MAX)
		return *why_r = "no recipients, or too many", SMTPC_EINVAL;
	for (size_t i = 0; i < m->nrcpts; i++) {
		if ((r = rcpt_check(&m->rcpts[i], why_r)) < 0)
			return r;
		utf8 |= r;
	}
	return utf8;
}

/* ---- MAIL and RCPT ---------------------------------------------------- */

static void
path_out(struct smtpc_out *o, const char *verb, const char *addr)
{
	smtpc_out_str(o, verb);
	smtpc_out_str(o, addr);
	smtpc_out_str(o, ">");
}

static void
mail_params(struct smtpc_out *o, const struct smtpc_msg *m,
	    const struct smtpc_caps *caps)
{
	char num[32];
	unsigned f = caps->flags;

	if ((f & SMTPC_CAP_SIZE) && m->size > 0) {
		snprintf(num, sizeof(num), " SIZE=%llu",
			 (unsigned long long)m->size);
		smtpc_out_str(o, num);
	}
	if ((m->flags & SMTPC_F_8BITMIME) && (f & SMTPC_CAP_8BITMIME))
		smtpc_out_str(o, " BODY=8BITMIME");
	if ((m->flags & SMTPC_F_SMTPUTF8) && (f & SMTPC_CAP_SMTPUTF8))
		smtpc_out_str(o, " SMTPUTF8");
	if ((m->flags & SMTPC_F_REQUIRETLS) && (f & SMTPC_CAP_REQUIRETLS))
		smtpc_out_str(o, " REQUIRETLS");
	if (!(f & SMTPC_CAP_DSN))
		return;
	if (m->ret == 1 || m->ret == 2)
		smtpc_out_str(o, m->ret == 1 ? " RET=FULL" : " RET=HDRS");
	if (!empty(m->envid)) {
		smtpc_out_str(o, " ENVID=");
		smtpc_out_str(o, m->envid);
	}
}

int
smtpc_cmd_mail(struct smtpc_out *o, const struct smtpc_msg *m,
	       const struct smtpc_caps *caps)
{
	path_out(o, "MAIL FROM:<", m->sender);
	mail_params(o, m, caps);
	smtpc_out_str(o, "\r\n");
	return o->err;
}

/* RFC 3461 4.1: NEVER alone, or SUCCESS, FAILURE and DELAY in a list. */
static void
notify_out(struct smtpc_out *o, unsigned notify)
{
	static const struct {
		unsigned bit;
		const char *name;
	} names[] = {{SMTPC_NOTIFY_SUCCESS, "SUCCESS"},
		     {SMTPC_NOTIFY_FAILURE, "FAILURE"},
		     {SMTPC_NOTIFY_DELAY, "DELAY"}};
	const char *sep = " NOTIFY=";

	if (notify & SMTPC_NOTIFY_NEVER) {
		smtpc_out_str(o, " NOTIFY=NEVER");
		return;
	}
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!(notify & names[i].bit))
			continue;
		smtpc_out_str(o, sep);
		smtpc_out_str(o, names[i].name);
		sep = ",";
	}
}

/* RFC 3461 4.2: a relay MAY add an ORCPT naming the address it was
 * given; we do for ASCII addresses, so the final DSN can say it. */
static void
orcpt_out(struct smtpc_out *o, const struct smtpc_rcpt *r)
{
	char x[3 * SMTP_PATH_MAX + 1];
	int utf8 = 0;
	size_t n;

	for (const char *p = r->address; *p; p++)
		utf8 |= (unsigned char)*p >= 0x80;
	if (!empty(r->orcpt)) {
		smtpc_out_str(o, " ORCPT=");
		smtpc_out_str(o, r->orcpt);
	} else if (!utf8 && dsn_xtext_encode(r->address, strlen(r->address),
					     x, sizeof(x), &n) == DSN_OK) {
		smtpc_out_str(o, " ORCPT=rfc822;");
		smtpc_out_add(o, x, n);
	}
}

int
smtpc_cmd_rcpt(struct smtpc_out *o, const struct smtpc_rcpt *r,
	       const struct smtpc_caps *caps)
{
	path_out(o, "RCPT TO:<", r->address);
	if (caps->flags & SMTPC_CAP_DSN) {
		notify_out(o, r->notify);
		orcpt_out(o, r);
	}
	smtpc_out_str(o, "\r\n");
	return o->err;
}
