/* One message over an established session (RFC 5321 3.3): the refusals
 * decided before MAIL (SIZE, RFC 1870 6; SMTPUTF8, RFC 6531 3.4;
 * REQUIRETLS, RFC 8689 4.2; 8BITMIME, RFC 6152 3), MAIL, a RCPT per
 * recipient and DATA, in one group under PIPELINING with the replies
 * matched in order (RFC 2920 3.1), else one at a time; each RCPT's reply
 * decides its recipient unless accepted, DATA's final reply decides the
 * accepted ones. A reused session gets RSET first (4.1.1.5). Pure. */
#include <stdlib.h>
#include <string.h>

#include "client_private.h"

enum mark {
	R_OPEN = 0, /* no reply has decided it */
	R_ACCEPTED, /* RCPT got 2xx: DATA's final reply decides */
	R_DECIDED,  /* its result was given */
};

static enum smtpc_outcome
by_class(int code)
{
	if (code / 100 == 2)
		return SMTPC_DELIVERED;
	return code / 100 == 4 ? SMTPC_DEFERRED : SMTPC_FAILED;
}

static void
decide(struct smtpc *c, size_t i, enum smtpc_outcome oc,
       const struct smtpc_reply *r)
{
	if (c->marks[i] == R_DECIDED)
		return;
	if (c->marks[i] == R_ACCEPTED)
		c->accepted--;
	c->marks[i] = R_DECIDED;
	c->open--;
	c->o.result(c->o.arg, i, oc, r);
}

/* Decide every recipient still open or accepted (only those with mark
 * only_accepted). */
static void
decide_all(struct smtpc *c, int only_accepted, enum smtpc_outcome oc,
	   const struct smtpc_reply *r)
{
	for (size_t i = 0; i < c->m.nrcpts && c->open > 0; i++)
		if (!only_accepted || c->marks[i] == R_ACCEPTED)
			decide(c, i, oc, r);
}

static int
done(struct smtpc *c)
{
	c->state = S_READY;
	return SMTPC_EV_DONE | SMTPC_EV_READY;
}

int
smtpc_trans_defer(struct smtpc *c, const struct smtpc_reply *r)
{
	if (c->state != S_RSET && c->state != S_TRANS &&
	    c->state != S_BODY && c->state != S_DOT)
		return 0;
	decide_all(c, 0, SMTPC_DEFERRED, r);
	return SMTPC_EV_DONE;
}

/* ---- Commands out ------------------------------------------------------ */

/* Step i of the transaction: 0 MAIL, 1..n RCPT, n + 1 DATA. */
static void
send_step(struct smtpc *c)
{
	size_t i = c->sent++;

	if (i == 0)
		smtpc_cmd_mail(&c->out, &c->m, &c->caps);
	else if (i <= c->m.nrcpts)
		smtpc_cmd_rcpt(&c->out, &c->m.rcpts[i - 1], &c->caps);
	else
		smtpc_out_str(&c->out, "DATA\r\n");
}

static void
begin(struct smtpc *c)
{
	c->sent = c->answered = 0;
	c->state = S_TRANS;
	if (!(c->caps.flags & SMTPC_CAP_PIPELINING)) {
		send_step(c);
		return;
	}
	while (c->sent < c->m.nrcpts + 2)
		send_step(c);
}

/* What this server cannot take, decided before MAIL: NULL when none. */
static const struct smtpc_reply *
refusal(struct smtpc *c)
{
	unsigned f = c->m.flags, cap = c->caps.flags;

	if ((f & SMTPC_F_SMTPUTF8) && !(cap & SMTPC_CAP_SMTPUTF8))
		return smtpc_local(c, 554, "5.6.7",
				   "SMTPUTF8 not supported by the server");
	if ((f & SMTPC_F_REQUIRETLS) &&
	    (!c->tls || !(cap & SMTPC_CAP_REQUIRETLS)))
		return smtpc_local(c, 554, "5.7.30",
				   "REQUIRETLS not supported%s",
				   c->tls ? " by the server" : ": no TLS");
	if ((f & SMTPC_F_8BITMIME) && !(cap & SMTPC_CAP_8BITMIME))
		return smtpc_local(c, 554, "5.6.3",
				   "8BITMIME not supported by the server");
	if ((cap & SMTPC_CAP_SIZE) && c->caps.size > 0 &&
	    c->m.size > c->caps.size)
		return smtpc_local(c, 552, "5.3.4",
				   "message size %llu exceeds the server's "
				   "limit of %llu",
				   (unsigned long long)c->m.size,
				   (unsigned long long)c->caps.size);
	return NULL;
}

static int
take_message(struct smtpc *c, const struct smtpc_msg *m, int utf8)
{
	size_t n = m->nrcpts;

	if (n > c->marks_cap) {
		unsigned char *p = realloc(c->marks, n);

		if (!p)
			return SMTPC_ENOMEM;
		c->marks = p;
		c->marks_cap = n;
	}
	memset(c->marks, R_OPEN, n);
	c->m = *m;
	if (utf8)
		c->m.flags |= SMTPC_F_SMTPUTF8;
	c->open = n;
	c->accepted = 0;
	c->discard = 0;
	return 0;
}

int
smtpc_start_message(struct smtpc *c, const struct smtpc_msg *m)
{
	const struct smtpc_reply *no;
	int utf8;

	if (c->state != S_READY) {
		c->why = "a message only when the session is ready";
		return SMTPC_EINVAL;
	}
	if ((utf8 = smtpc_msg_check(m, &c->why)) < 0)
		return utf8;
	if (take_message(c, m, utf8) < 0) {
		c->why = "out of memory";
		return SMTPC_ENOMEM;
	}
	if ((no = refusal(c))) {
		decide_all(c, 0, SMTPC_FAILED, no);
		return smtpc_events(c, done(c));
	}
	if (c->messages++ > 0) {
		smtpc_out_str(&c->out, "RSET\r\n");
		c->state = S_RSET;
	} else {
		begin(c);
	}
	return smtpc_events(c, 0);
}

/* ---- Replies in --------------------------------------------------------- */

/* After a reply in S_TRANS: wait for the rest of a group, end the
 * message once every recipient is decided, or send the next step. */
static int
next(struct smtpc *c)
{
	if (c->answered < c->sent)
		return 0;
	if (c->open == 0)
		return done(c);
	send_step(c);
	return 0;
}

/* RFC 5321 3.3: DATA gets 354 only with a recipient accepted; under
 * PIPELINING it was sent regardless, and its 503 or 554 then ends the
 * message (RFC 2920 3.1). A 354 with nobody to send to gets an empty
 * body, so the server leaves DATA. */
static int
on_data(struct smtpc *c, const struct smtpc_reply *r)
{
	if (r->code == 354) {
		if (c->accepted == 0) {
			c->discard = 1;
			smtpc_out_str(&c->out, ".\r\n");
			c->state = S_DOT;
			return 0;
		}
		smtpc_stuff_init(&c->stuff);
		c->state = S_BODY;
		return SMTPC_EV_BODY;
	}
	if (r->code < 400)
		return smtpc_protocol_error(c, "a reply to DATA not 354, 4xx "
					       "or 5xx");
	decide_all(c, 1, by_class(r->code), r);
	return done(c);
}

static int
on_step(struct smtpc *c, const struct smtpc_reply *r)
{
	size_t i = c->answered++, n = c->m.nrcpts;

	if (i == n + 1)
		return on_data(c, r);
	if (r->code / 100 == 3)
		return smtpc_protocol_error(c, "a 3xx reply to MAIL or RCPT");
	if (i == 0) {
		if (r->code / 100 != 2)
			decide_all(c, 0, by_class(r->code), r);
	} else if (c->marks[i - 1] == R_OPEN) {
		if (r->code / 100 == 2) {
			c->marks[i - 1] = R_ACCEPTED;
			c->accepted++;
		} else {
			decide(c, i - 1, by_class(r->code), r);
		}
	}
	return next(c);
}

/* The final reply, after the end of data. */
static int
on_dot(struct smtpc *c, const struct smtpc_reply *r)
{
	if (c->discard)
		return done(c);
	if (r->code / 100 == 3)
		return smtpc_protocol_error(c, "a 3xx reply to the end of "
					       "data");
	decide_all(c, 1, by_class(r->code), r);
	return done(c);
}

int
smtpc_trans_reply(struct smtpc *c, const struct smtpc_reply *r)
{
	if (c->state == S_DOT)
		return on_dot(c, r);
	if (c->state == S_TRANS)
		return on_step(c, r);
	/* RSET: a server that cannot reset is not one to send to. */
	if (r->code / 100 != 2)
		return smtpc_fail(c, r, 0);
	begin(c);
	return 0;
}

unsigned
smtpc_trans_timeout(const struct smtpc *c)
{
	if (c->answered == 0)
		return SMTPC_TIMEOUT_MAIL;
	return c->answered <= c->m.nrcpts ? SMTPC_TIMEOUT_RCPT
					  : SMTPC_TIMEOUT_DATA_INIT;
}

/* ---- The body ----------------------------------------------------------- */

int
smtpc_body(struct smtpc *c, const char *data, size_t len)
{
	char *p;

	if (c->state != S_BODY || len > SMTPC_CHUNK_MAX ||
	    c->out.len > 2 * SMTPC_CHUNK_MAX) {
		c->why = "body out of turn, too large a chunk, or the output "
			 "not taken";
		return SMTPC_EINVAL;
	}
	if ((p = smtpc_out_room(&c->out, 2 * len + 2)))
		c->out.len += smtpc_stuff(&c->stuff, data, len, p);
	return smtpc_events(c, 0);
}

int
smtpc_body_end(struct smtpc *c)
{
	char *p;

	if (c->state != S_BODY) {
		c->why = "body out of turn";
		return SMTPC_EINVAL;
	}
	if ((p = smtpc_out_room(&c->out, 5)))
		c->out.len += smtpc_stuff_end(&c->stuff, p);
	c->state = S_DOT;
	return smtpc_events(c, 0);
}
