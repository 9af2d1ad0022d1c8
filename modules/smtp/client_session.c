/* The outbound client's session: greeting, EHLO with the HELO fallback
 * (RFC 5321 3.2, 4.1.4), STARTTLS by policy (RFC 3207) and EHLO again
 * after it, AUTH PLAIN or LOGIN for a smarthost (RFC 4954), QUIT, and
 * the end of a session at a 421 (3.8) or a broken reply. The message
 * transaction is client_trans.c's. Pure: no SDK calls, no sockets. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client_private.h"
#include "command.h"

/* ---- Replies of our own, and the session's end -------------------------- */

const struct smtpc_reply *
smtpc_local(struct smtpc *c, int code, const char *enh, const char *fmt,
	    ...)
{
	va_list ap;
	int n;

	snprintf(c->local_enh, sizeof(c->local_enh), "%s", enh);
	n = snprintf(c->local_text, sizeof(c->local_text), "%d %s ", code,
		     enh);
	va_start(ap, fmt);
	vsnprintf(c->local_text + n, sizeof(c->local_text) - (size_t)n, fmt,
		  ap);
	va_end(ap);
	c->local = (struct smtpc_reply){.code = code,
					.enh = c->local_enh,
					.text = c->local_text,
					.local = 1};
	return &c->local;
}

/* The first reason the session ended is the one kept. */
static void
keep_end(struct smtpc *c, const struct smtpc_reply *r)
{
	if (c->ended)
		return;
	snprintf(c->end_enh, sizeof(c->end_enh), "%s", r->enh);
	snprintf(c->end_text, sizeof(c->end_text), "%s", r->text);
	c->end = (struct smtpc_reply){.code = r->code,
				      .enh = c->end_enh,
				      .text = c->end_text,
				      .local = r->local};
	c->ended = 1;
}

/* The session cannot go on: r says why. Recipients of a message in
 * progress are deferred (a later session may do better), then QUIT,
 * unless the server is gone (close: no QUIT, CLOSED at once). */
int
smtpc_fail(struct smtpc *c, const struct smtpc_reply *r, int close)
{
	int ev = smtpc_trans_defer(c, r);

	keep_end(c, r);
	if (close) {
		c->state = S_CLOSED;
		return ev | SMTPC_EV_CLOSED;
	}
	smtpc_out_str(&c->out, "QUIT\r\n");
	c->state = S_QUIT;
	return ev;
}

/* ---- Greeting, EHLO, HELO --------------------------------------------- */

static int
send_hello(struct smtpc *c, const char *verb, int state)
{
	memset(&c->caps, 0, sizeof(c->caps));
	smtpc_out_str(&c->out, verb);
	smtpc_out_str(&c->out, c->o.helo);
	smtpc_out_str(&c->out, "\r\n");
	c->state = state;
	return 0;
}

/* Where a session goes once the server knows our name (again): TLS
 * first, then AUTH, then messages. */
static int
after_hello(struct smtpc *c)
{
	if (!c->tls && c->o.tls != SMTPC_TLS_NONE && !c->tls_refused) {
		if (c->caps.flags & SMTPC_CAP_STARTTLS) {
			smtpc_out_str(&c->out, "STARTTLS\r\n");
			c->state = S_STARTTLS;
			return 0;
		}
		if (c->o.tls == SMTPC_TLS_REQUIRED)
			return smtpc_fail(c,
					  smtpc_local(c, 451, "4.7.10",
						      "TLS required, and "
						      "STARTTLS not offered"),
					  0);
	}
	if (c->o.auth_user && !c->authed)
		return smtpc_auth_start(c);
	c->state = S_READY;
	return SMTPC_EV_READY;
}

static int
on_greeting(struct smtpc *c, const struct smtpc_reply *r)
{
	if (r->code != 220)
		return smtpc_fail(c, r, 0);
	return send_hello(c, "EHLO ", S_EHLO);
}

/* RFC 5321 4.1.4: a server that does not know EHLO (500, 502) gets
 * HELO, and then no extension is used. */
static int
on_ehlo(struct smtpc *c, const struct smtpc_reply *r)
{
	if (r->code == 250)
		return after_hello(c);
	if (r->code == 500 || r->code == 502)
		return send_hello(c, "HELO ", S_HELO);
	memset(&c->caps, 0, sizeof(c->caps));
	return smtpc_fail(c, r, 0);
}

static int
on_helo(struct smtpc *c, const struct smtpc_reply *r)
{
	if (r->code != 250)
		return smtpc_fail(c, r, 0);
	return after_hello(c);
}

/* RFC 3207 4: 220 means the handshake starts now; a refusal leaves the
 * session in plain text, which only the opportunistic policy takes. */
static int
on_starttls(struct smtpc *c, const struct smtpc_reply *r)
{
	if (r->code == 220) {
		c->state = S_TLS;
		return SMTPC_EV_STARTTLS;
	}
	if (c->o.tls == SMTPC_TLS_REQUIRED)
		return smtpc_fail(c, r, 0);
	c->tls_refused = 1;
	return after_hello(c);
}

static int
on_quit(struct smtpc *c, const struct smtpc_reply *r)
{
	(void)r;
	c->state = S_CLOSED;
	return SMTPC_EV_CLOSED;
}

/* ---- Lines in ----------------------------------------------------------- */

int
smtpc_protocol_error(struct smtpc *c, const char *why)
{
	c->why = why;
	smtpc_fail(c, smtpc_local(c, 451, "4.5.0", "protocol error: %s", why),
		   1);
	return SMTPC_EPROTO;
}

/* A whole reply r, to what the state says we wait for. */
static int
on_reply(struct smtpc *c, const struct smtpc_reply *r)
{
	/* RFC 5321 3.8: 421 at any point means the server is closing. */
	if (r->code == 421 && c->state != S_QUIT)
		return smtpc_fail(c, r, 1);
	switch (c->state) {
	case S_GREETING:
		return on_greeting(c, r);
	case S_EHLO:
		return on_ehlo(c, r);
	case S_HELO:
		return on_helo(c, r);
	case S_STARTTLS:
		return on_starttls(c, r);
	case S_AUTH:
		return smtpc_auth_reply(c, r);
	case S_QUIT:
		return on_quit(c, r);
	case S_RSET:
	case S_TRANS:
	case S_DOT:
		return smtpc_trans_reply(c, r);
	default:
		return smtpc_protocol_error(c, "a reply when none was due");
	}
}

int
smtpc_events(struct smtpc *c, int ev)
{
	if (ev < 0)
		return ev;
	if (c->out.err) {
		smtpc_abort(c, "out of memory");
		c->why = "out of memory";
		return SMTPC_ENOMEM;
	}
	return ev | (c->out.len ? SMTPC_EV_SEND : 0) |
	       (c->state == S_CLOSED ? SMTPC_EV_CLOSED : 0);
}

int
smtpc_feed_line(struct smtpc *c, const char *line, size_t len)
{
	struct smtpc_reply r;
	const char *why;
	int got;

	if (c->state == S_CLOSED) {
		c->why = "the session is closed";
		return SMTPC_EINVAL;
	}
	/* The line end, whichever part of CRLF the caller left on. */
	if (len > 0 && line[len - 1] == '\n')
		len--;
	if (len > 0 && line[len - 1] == '\r')
		len--;
	if ((got = smtpc_acc_line(&c->acc, line, len, &why)) < 0)
		return smtpc_protocol_error(c, why);
	if (c->state == S_EHLO && c->acc.code == 250 && c->acc.lines > 1 &&
	    len > 4)
		smtpc_caps_line(&c->caps, line + 4, len - 4);
	if (!got)
		return smtpc_events(c, 0);
	smtpc_acc_reply(&c->acc, &r);
	return smtpc_events(c, on_reply(c, &r));
}

/* ---- The rest of the API ------------------------------------------------ */

struct smtpc *
smtpc_new(const struct smtpc_opts *o, const char **why_r)
{
	struct smtpc *c;

	if (!o->helo || !smtp_helo_ok(o->helo, strlen(o->helo)) ||
	    !o->result || (o->auth_user && !o->auth_pass) ||
	    o->tls > SMTPC_TLS_REQUIRED)
		return *why_r = "bad options", NULL;
	if (!(c = calloc(1, sizeof(*c))))
		return *why_r = "out of memory", NULL;
	c->o = *o;
	c->tls = o->tls_active;
	c->state = S_GREETING;
	return c;
}

void
smtpc_free(struct smtpc *c)
{
	if (!c)
		return;
	free(c->out.p);
	free(c->marks);
	free(c);
}

int
smtpc_tls_started(struct smtpc *c)
{
	if (c->state != S_TLS) {
		c->why = "no STARTTLS was accepted";
		return SMTPC_EINVAL;
	}
	/* RFC 3207 4.2: what the server said before TLS is forgotten. */
	c->tls = 1;
	return smtpc_events(c, send_hello(c, "EHLO ", S_EHLO));
}

int
smtpc_quit(struct smtpc *c)
{
	if (c->state != S_READY) {
		c->why = "QUIT only between messages";
		return SMTPC_EINVAL;
	}
	smtpc_out_str(&c->out, "QUIT\r\n");
	c->state = S_QUIT;
	return smtpc_events(c, 0);
}

void
smtpc_abort(struct smtpc *c, const char *why)
{
	if (c->state == S_CLOSED)
		return;
	smtpc_fail(c, smtpc_local(c, 451, "4.4.2", "%s", why), 1);
}

const char *
smtpc_output(struct smtpc *c, size_t *len_r)
{
	*len_r = c->out.len;
	c->out.len = 0;
	return c->out.p;
}

unsigned
smtpc_timeout(const struct smtpc *c)
{
	switch (c->state) {
	case S_TRANS:
		return smtpc_trans_timeout(c);
	case S_BODY:
		return SMTPC_TIMEOUT_DATA_BLOCK;
	case S_DOT:
		return SMTPC_TIMEOUT_DATA_END;
	case S_TLS:
	case S_READY:
	case S_CLOSED:
		return 0;
	default:
		return SMTPC_TIMEOUT_GREETING;
	}
}

const struct smtpc_caps *
smtpc_caps(const struct smtpc *c)
{
	return &c->caps;
}

const struct smtpc_reply *
smtpc_end_reply(const struct smtpc *c)
{
	return c->ended ? &c->end : NULL;
}

const char *
smtpc_why(const struct smtpc *c)
{
	return c->why ? c->why : "";
}
