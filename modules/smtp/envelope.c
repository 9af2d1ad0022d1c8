/* The envelope: MAIL (RFC 5321 4.1.1.2, RFC 1870 4 SIZE, RFC 6531 3.5),
 * RCPT (4.1.1.3), VRFY (3.5.3) and the roles: an mx takes mail for local
 * users only and never relays; submission wants AUTH first (RFC 6409
 * 4.3) and a sender the user owns. A logged-in user's remote recipients
 * go to the outbound queue (enqueue.c); without a queue backend they are
 * refused temporarily, never dropped. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "idn.h"
#include "smtpd.h"

static const char *const relay_denied = "550 5.7.1 Relaying denied";
static const char *const no_relay_yet =
	"451 4.7.1 Relaying is not available: no mail queue is loaded";
static const char *const no_literal =
	"550 5.7.1 Relaying to address literals is not supported";

/* ---- MAIL -------------------------------------------------------------- */

static void
mail_next(struct smtp_session *s, int pass)
{
	if (!pass) {
		smtp_txn_reset(s);
		return;
	}
	smtp_reply(s, "250 2.1.0 Ok");
}

static void
mail_accept(struct smtp_session *s)
{
	/* MAIL state before the chain, so its event shows the sender. */
	s->state = SMTP_MAIL;
	smtp_hook(s, PS_SMTP_HOOK_MAIL, mail_next);
}

/* No transaction after all. */
static int
mail_refuse(struct smtp_session *s, const char *reply)
{
	memset(&s->mail, 0, sizeof(s->mail));
	return smtp_reply(s, "%s", reply);
}

static void
sender_done(struct smtp_session *s, struct smtp_lookup *l)
{
	if (l->owned) {
		mail_accept(s);
	} else if (l->result == 0 || l->result == PS_ENOENT ||
		   l->result == PS_AUTH_ENOTLOCAL || l->result == PS_EINVAL) {
		ps_conn_log(s->conn, PS_LOG_NOTICE, "sender not owned user=%s "
			    "sender=%s", s->user, s->mail.path.addr);
		mail_refuse(s, "553 5.7.1 Sender address not owned by user");
	} else {
		mail_refuse(s, "451 4.3.0 Temporary lookup failure, try again "
			    "later");
	}
}

/* A MAIL or RCPT that does not parse. */
static int
parse_error(struct smtp_session *s, int r, const char *verb,
	    const char *usage, const char *bad_path)
{
	switch (r) {
	case SMTP_P_SYNTAX:
		return smtp_reply(s, "501 5.5.4 Syntax: %s", usage);
	case SMTP_P_ADDRESS:
		return smtp_reply(s, "%s", bad_path);
	case SMTP_P_UNKNOWN:
		return smtp_reply(s, "555 5.5.4 Unsupported %s parameter",
				  verb);
	default:
		return smtp_reply(s, "501 5.5.4 Bad %s parameter", verb);
	}
}

/* Submission with sender_login_match: the user itself, or an address
 * that resolves to it (an alias, or a catch-all of its domain). The
 * null sender is nobody's and stays allowed, for bounces and receipts. */
static int
mail_check_owner(struct smtp_session *s)
{
	struct smtp_lookup *l;

	if ((s->mail.path.flags & SMTP_PATH_NULL) ||
	    strcasecmp(s->mail.path.addr, s->user) == 0) {
		mail_accept(s);
		return 0;
	}
	if (!(l = calloc(1, sizeof(*l))))
		return mail_refuse(s, "452 4.3.1 Insufficient system storage");
	l->s = s;
	l->kind = SMTP_LOOK_SENDER;
	l->done = sender_done;
	if (smtp_idn_address(s->mail.path.addr, l->addr, sizeof(l->addr))) {
		smtp_lookup_free(l);
		return mail_refuse(s, "553 5.1.7 Bad sender address: not a "
				   "valid domain name (RFC 5891)");
	}
	snprintf(l->user, sizeof(l->user), "%s", s->user);
	if (smtp_lookup_start(l) < 0) {
		smtp_lookup_free(l);
		return mail_refuse(s, "451 4.3.5 Sender lookup not available");
	}
	return 0;
}

int
smtp_cmd_mail(struct smtp_session *s, const char *args, size_t len)
{
	int r;

	if (s->state == SMTP_INIT)
		return smtp_reply(s, "503 5.5.1 Error: send HELO/EHLO first");
	if (s->state != SMTP_READY)
		return smtp_reply(s, "503 5.5.1 Error: nested MAIL command");
	if (s->role == PS_SMTP_ROLE_SUBMISSION && !s->user[0])
		return smtp_reply(s, "530 5.7.0 Authentication required");
	if ((r = smtp_mail_parse(args, len, &s->mail)) != SMTP_P_OK) {
		memset(&s->mail, 0, sizeof(s->mail));
		return parse_error(s, r, "MAIL", "MAIL FROM:<address>",
				   "501 5.1.7 Bad sender address syntax");
	}
	if ((s->mail.path.flags & SMTP_PATH_UTF8) && !s->mail.smtputf8)
		return mail_refuse(s, "553 5.6.7 Non-ASCII address needs "
				   "SMTPUTF8");
	/* RFC 8689 4.1: REQUIRETLS only on a session that is TLS itself;
	 * elsewhere EHLO did not offer it (RFC 5321 4.1.1.11: 555). */
	if (s->mail.requiretls && !(ps_conn_tls(s->conn) & PS_TLS_ACTIVE))
		return mail_refuse(s, "555 5.5.4 REQUIRETLS needs a TLS "
				   "session");
	if (s->mail.size > smtp_cfg.max_size)
		return mail_refuse(s, "552 5.3.4 Message size exceeds fixed "
				   "maximum message size");
	if (s->role == PS_SMTP_ROLE_SUBMISSION &&
	    smtp_cfg.sender_login_match)
		return mail_check_owner(s);
	mail_accept(s);
	return 0;
}

/* ---- RCPT -------------------------------------------------------------- */

static void
rcpt_next(struct smtp_session *s, int pass)
{
	struct smtp_rcpt_entry *v;
	const char **a;

	if (!pass) {
		smtp_rcpt_entry_free(&s->next_rcpt);
		return;
	}
	v = realloc(s->rcpts, (s->nrcpts + 1) * sizeof(*v));
	if (v)
		s->rcpts = v;
	a = v ? realloc(s->rcpt_addrs, (s->nrcpts + 2) * sizeof(*a)) : NULL;
	if (!a) {
		smtp_rcpt_entry_free(&s->next_rcpt);
		smtp_reply(s, "452 4.3.1 Insufficient system storage");
		return;
	}
	s->rcpt_addrs = a;
	v[s->nrcpts] = s->next_rcpt;
	memset(&s->next_rcpt, 0, sizeof(s->next_rcpt));
	a[s->nrcpts] = v[s->nrcpts].addr;
	a[++s->nrcpts] = NULL;
	s->state = SMTP_RCPT;
	smtp_reply(s, "250 2.1.5 Ok");
}

/* Who may send to other servers: a logged-in user of a submission
 * listener (RFC 6409 4.3), never an mx (no open relay, RFC 5321 7.1). */
static int
may_relay(const struct smtp_session *s)
{
	return s->role == PS_SMTP_ROLE_SUBMISSION && s->user[0];
}

/* A remote destination nobody here may relay to: an mx (or anyone not
 * logged in) is refused for good; a user's submission waits for the
 * queue to be configured. */
static const char *
relay_refusal(struct smtp_session *s)
{
	return may_relay(s) ? no_relay_yet : relay_denied;
}

static const char *
rcpt_refusal(struct smtp_session *s, const struct smtp_lookup *l)
{
	switch (l->result) {
	case 0:
		/* An alias forwards to another server through the queue,
		 * on any listener: the domain is ours, so this is no relay
		 * for the client. */
		if (l->remote && !smtp_cfg.have_queue)
			return "451 4.3.0 Forwarding needs the mail queue, "
			       "which is not configured";
		return l->full ? "452 4.2.2 Mailbox full" : NULL;
	case PS_AUTH_ENOTLOCAL:
		return may_relay(s) && smtp_cfg.have_queue ? NULL :
			relay_refusal(s);
	case PS_ENOENT:
	case PS_EINVAL:
		return "550 5.1.1 User unknown";
	default:
		return "451 4.3.0 Temporary lookup failure, try again later";
	}
}

static int
rcpt_refuse(struct smtp_session *s, const char *why)
{
	ps_conn_log(s->conn, PS_LOG_INFO, "rcpt refused rip=%s to=%s "
		    "reply=\"%s\"", ps_conn_peer(s->conn), s->pending.path.addr,
		    why);
	return smtp_reply(s, "%s", why);
}

static void
rcpt_done(struct smtp_session *s, struct smtp_lookup *l)
{
	struct smtp_rcpt_entry *e = &s->next_rcpt;
	const char *why = rcpt_refusal(s, l);

	if (why) {
		rcpt_refuse(s, why);
		return;
	}
	smtp_rcpt_entry_free(e);
	e->addr = strdup(s->pending.path.addr);
	e->orcpt = strdup(s->pending.orcpt);
	e->notify = s->pending.notify;
	e->remote = l->result == PS_AUTH_ENOTLOCAL;
	e->users = l->users;
	e->quotas = l->quotas;
	e->nusers = l->nusers;
	e->forwards = l->forwards;
	e->nforwards = l->nforwards;
	l->users = NULL;
	l->quotas = NULL;
	l->forwards = NULL;
	l->nusers = l->nforwards = 0;
	if (!e->addr || !e->orcpt) {
		smtp_rcpt_entry_free(e);
		smtp_reply(s, "452 4.3.1 Insufficient system storage");
		return;
	}
	smtp_hook(s, PS_SMTP_HOOK_RCPT, rcpt_next);
}

/* What the address itself says, before any lookup: routing syntax in
 * the local part ("user%other@here", "host!user@here", "\"a@b\"@here")
 * never reaches a mailbox here; an address literal is not one of our
 * domains. */
static const char *
rcpt_shape(struct smtp_session *s, const struct smtp_path *p)
{
	if ((p->flags & SMTP_PATH_UTF8) && !s->mail.smtputf8)
		return "553 5.6.7 Non-ASCII address needs SMTPUTF8";
	if (p->flags & SMTP_PATH_ROUTING)
		return relay_denied;
	/* The runner routes by domain (MX); a literal has none. */
	if (p->flags & SMTP_PATH_LITERAL)
		return may_relay(s) && smtp_cfg.have_queue ? no_literal :
			relay_refusal(s);
	return NULL;
}

static int
rcpt_lookup(struct smtp_session *s)
{
	struct smtp_lookup *l = calloc(1, sizeof(*l));

	if (!l)
		return smtp_reply(s, "452 4.3.1 Insufficient system storage");
	l->s = s;
	l->kind = SMTP_LOOK_RCPT;
	l->done = rcpt_done;
	l->postmaster = (s->pending.path.flags & SMTP_PATH_NODOMAIN) != 0;
	l->size = s->mail.size;
	/* RFC 6531 3.2: the backends know a domain by its A-labels. */
	if (smtp_idn_address(s->pending.path.addr, l->addr, sizeof(l->addr))) {
		smtp_lookup_free(l);
		return smtp_reply(s, "553 5.1.3 Bad recipient address: not a "
				  "valid domain name (RFC 5891)");
	}
	if (!smtp_cfg.have_store || smtp_lookup_start(l) < 0) {
		smtp_lookup_free(l);
		return smtp_reply(s, "451 4.3.5 Mail system not configured");
	}
	return 0;
}

int
smtp_cmd_rcpt(struct smtp_session *s, const char *args, size_t len)
{
	const char *why;
	int r;

	if (s->state == SMTP_INIT)
		return smtp_reply(s, "503 5.5.1 Error: send HELO/EHLO first");
	if (s->state != SMTP_MAIL && s->state != SMTP_RCPT)
		return smtp_reply(s, "503 5.5.1 Error: need MAIL command");
	if (s->nrcpts >= smtp_cfg.max_rcpts)
		return smtp_reply(s, "452 4.5.3 Too many recipients");
	s->rcpt_tried++;
	if ((r = smtp_rcpt_parse(args, len, &s->pending)) != SMTP_P_OK)
		return parse_error(s, r, "RCPT", "RCPT TO:<address>",
				   "501 5.1.3 Bad recipient address syntax");
	if ((why = rcpt_shape(s, &s->pending.path)))
		return rcpt_refuse(s, why);
	return rcpt_lookup(s);
}

/* ---- VRFY --------------------------------------------------------------- */

static const char *const cannot_vrfy =
	"252 2.5.2 Cannot VRFY user, but will accept message and attempt "
	"delivery";

static void
vrfy_done(struct smtp_session *s, struct smtp_lookup *l)
{
	if (l->result == 0 && !l->remote)
		smtp_reply(s, "250 2.1.5 <%s>", l->addr);
	else if (l->result == PS_ENOENT || l->result == PS_EINVAL)
		smtp_reply(s, "550 5.1.1 User unknown");
	else
		smtp_reply(s, "%s", cannot_vrfy);
}

/* With vrfy off (the default), 252 as RFC 5321 3.5.3 allows: VRFY
 * answers would tell a harvester who exists. */
int
smtp_cmd_vrfy(struct smtp_session *s, const char *args, size_t len)
{
	struct smtp_path p;
	struct smtp_lookup *l;
	char buf[SMTP_PATH_MAX + 3];
	size_t end;

	if (len == 0)
		return smtp_reply(s, "501 5.5.4 Syntax: VRFY address");
	if (!smtp_cfg.vrfy || len > SMTP_PATH_MAX)
		return smtp_reply(s, "%s", cannot_vrfy);
	snprintf(buf, sizeof(buf), args[0] == '<' ? "%.*s" : "<%.*s>",
		 (int)len, args);
	if (smtp_path_parse(buf, strlen(buf), 0, 0, &p, &end) != SMTP_P_OK ||
	    buf[end] || (p.flags & (SMTP_PATH_ROUTING | SMTP_PATH_LITERAL)) ||
	    !(l = calloc(1, sizeof(*l))))
		return smtp_reply(s, "%s", cannot_vrfy);
	l->s = s;
	l->kind = SMTP_LOOK_VRFY;
	l->done = vrfy_done;
	snprintf(l->addr, sizeof(l->addr), "%s", p.addr);
	if (smtp_lookup_start(l) < 0) {
		smtp_lookup_free(l);
		return smtp_reply(s, "%s", cannot_vrfy);
	}
	return 0;
}
