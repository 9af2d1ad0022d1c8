/* One outbound SMTP session: a core connection (SDK 1.4 ps_conn_connect)
 * driven by the client state machine of client.h, delivering a batch's
 * messages one after another on the same connection (RFC 5321 3.3
 * allows several transactions per session). Bodies come from the queue
 * in chunks on the pool, one chunk in flight, waiting for the output to
 * drain before the next, so memory does not grow with the message.
 *
 * REQUIRETLS (RFC 8689 4.2.1): a message that asks for it goes only over
 * TLS whose certificate verified; otherwise it fails here with 5.7.30. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "relay.h"
#include "smtpd.h"

#define DRAIN_AT (256 * 1024) /* queued output before waiting on_drain */

struct relay_session {
	struct ps_conn *conn;
	struct relay_batch *b;
	struct relay_host host;
	struct smtpc *c;
	struct relay_msg *m;        /* the message in progress */
	struct smtpc_rcpt *rcpts;   /* m's, for the client */
	uint64_t off;               /* of m's body, sent so far */
	int reading;                /* a chunk is being read */
	int drain_wait;
	int attempted;              /* a message was started here */
	int verified;               /* TLS with a verified certificate */
	int stop;                   /* the worker is shutting down */
};

struct read_job {
	struct relay_session *s;
	struct ps_conn *conn;
	char id[PS_QUEUE_ID_LEN + 1];
	uint64_t off;
	size_t got;
	int rc;
	struct ps_error err;
	char buf[SMTPC_CHUNK_MAX];
};

static int handle(struct relay_session *s, int ev);

/* ---- Messages ---------------------------------------------------------- */

static void
message_done(struct relay_session *s)
{
	struct relay_msg *m = s->m, **pp;

	if (!m)
		return;
	for (pp = &s->b->msgs; *pp && *pp != m; pp = &(*pp)->next)
		;
	if (*pp)
		*pp = m->next;
	s->b->nmsgs--;
	s->m = NULL;
	free(s->rcpts);
	s->rcpts = NULL;
	relay_msg_done(m);
}

static void
on_result(void *arg, size_t index, enum smtpc_outcome o,
	  const struct smtpc_reply *reply)
{
	struct relay_session *s = arg;
	struct relay_rcpt *r;

	if (!s->m || index >= s->m->n)
		return;
	r = &s->m->rcpts[index];
	r->dsn_offered = (smtpc_caps(s->c)->flags & SMTPC_CAP_DSN) != 0;
	if (relay_decide(r, o, &s->host, reply->text) > 0)
		s->m->ndecided++;
}

/* Every recipient of the message in progress gets text (ours). */
static void
fail_message(struct relay_session *s, const char *text)
{
	for (size_t i = 0; i < s->m->n; i++)
		relay_decide(&s->m->rcpts[i], SMTPC_FAILED, &s->host, text);
	message_done(s);
}

static int
start_one(struct relay_session *s)
{
	struct relay_msg *m = s->m;
	struct smtpc_msg msg = {.sender = m->sender, .size = m->size,
				.flags = m->flags & (SMTPC_F_SMTPUTF8 |
						     SMTPC_F_8BITMIME |
						     SMTPC_F_REQUIRETLS),
				.ret = m->ret, .envid = m->envid, .nrcpts = m->n};
	int ev;

	s->rcpts = calloc(m->n, sizeof(*s->rcpts));
	if (!s->rcpts)
		return PS_ENOMEM;
	for (size_t i = 0; i < m->n; i++)
		s->rcpts[i] = (struct smtpc_rcpt){.address = m->rcpts[i].address,
						  .orcpt = m->rcpts[i].orcpt,
						  .notify = m->rcpts[i].notify};
	msg.rcpts = s->rcpts;
	s->off = 0;
	s->attempted = 1;
	ev = smtpc_start_message(s->c, &msg);
	if (ev == SMTPC_EINVAL) {
		char text[300];

		snprintf(text, sizeof(text), "5.6.0 cannot send this "
			 "message: %s", smtpc_why(s->c));
		fail_message(s, text);
		return SMTPC_EV_READY;
	}
	return ev;
}

/* READY: the next message of the batch, or QUIT. */
static int
next_message(struct relay_session *s)
{
	while (!s->stop && s->b->msgs) {
		s->m = s->b->msgs;
		if ((s->m->flags & PS_QUEUE_REQUIRETLS) && !s->verified) {
			fail_message(s, "5.7.30 REQUIRETLS: the server "
				     "has no TLS with a verified certificate "
				     "(RFC 8689)");
			continue;
		}
		return handle(s, start_one(s));
	}
	return handle(s, smtpc_quit(s->c));
}

/* ---- The body ------------------------------------------------------------ */

static void body_next(struct relay_session *s);

static void
read_work(void *arg)
{
	struct read_job *j = arg;

	j->rc = smtp_cfg.queue.msg_read(j->id, j->off, j->buf, sizeof(j->buf),
				     &j->got, &j->err);
}

static void
read_done(void *arg)
{
	struct read_job *j = arg;
	struct relay_session *s = j->s;
	int ev;

	if (ps_conn_closing(j->conn))
		goto out;
	s->reading = 0;
	if (j->rc < 0) {
		ps_conn_log(j->conn, PS_LOG_ERR, "relay: id=%s: reading the "
			    "message failed: %s", j->id, j->err.msg);
		smtpc_abort(s->c, "the message could not be read from the "
			    "queue");
		handle(s, SMTPC_EV_CLOSED);
		goto out;
	}
	s->off += j->got;
	ev = j->got ? smtpc_body(s->c, j->buf, j->got)
		    : smtpc_body_end(s->c);
	if (handle(s, ev) == 0 && j->got)
		body_next(s);
out:
	ps_conn_release(j->conn);
	free(j);
}

static void
body_next(struct relay_session *s)
{
	struct read_job *j;

	if (s->reading || !s->m)
		return;
	if (ps_conn_pending(s->conn) > DRAIN_AT) {
		s->drain_wait = 1;
		return;
	}
	j = malloc(sizeof(*j));
	if (!j) {
		smtpc_abort(s->c, "out of memory");
		handle(s, SMTPC_EV_CLOSED);
		return;
	}
	*j = (struct read_job){.s = s, .conn = s->conn, .off = s->off};
	memcpy(j->id, s->m->id, sizeof(j->id));
	s->reading = 1;
	ps_conn_hold(s->conn);
	if (ps_job_submit(read_work, read_done, j) < 0) {
		read_work(j);
		read_done(j);
	}
}

/* ---- Driving the client ------------------------------------------------ */

static int
starttls(struct relay_session *s)
{
	struct ps_tls_client o = {
		.size = sizeof(o), .server_name = s->host.name,
		.verify = s->b->tls == RELAY_TLS_REQUIRED,
		.ca_file = relay_cfg.ca_file};

	if (ps_conn_starttls_client(s->conn, &o) < 0) {
		smtpc_abort(s->c, "STARTTLS could not start here");
		return handle(s, SMTPC_EV_CLOSED);
	}
	return 0;
}

static void
set_timeout(struct relay_session *s)
{
	unsigned t = smtpc_timeout(s->c);

	ps_conn_set_timeout(s->conn, (uint64_t)(t ? t :
				     SMTPC_TIMEOUT_DATA_BLOCK) * 1000);
}

/* Act on the client's events. Returns 0, or -1 once the session is
 * over (the connection closes). */
static int
handle(struct relay_session *s, int ev)
{
	size_t len;
	const char *out;

	if (ev < 0) {
		const char *why = ev == PS_ENOMEM ? "out of memory"
						  : smtpc_why(s->c);

		ps_conn_log(s->conn, PS_LOG_WARN, "relay: %s[%s]: %s",
			    s->host.name, s->host.addr, why ? why : "error");
		if (s->m && s->m->ndecided < s->m->n)
			smtpc_abort(s->c, why ? why : "error");
		ev = SMTPC_EV_CLOSED;
	}
	out = smtpc_output(s->c, &len);
	if (len)
		ps_conn_write(s->conn, out, len);
	if (ev & SMTPC_EV_DONE)
		message_done(s);
	if (ev & SMTPC_EV_CLOSED) {
		message_done(s);
		ps_conn_close(s->conn);
		return -1;
	}
	set_timeout(s);
	if (ev & SMTPC_EV_STARTTLS)
		return starttls(s);
	if (ev & SMTPC_EV_BODY)
		body_next(s);
	if (ev & SMTPC_EV_READY)
		return next_message(s);
	return 0;
}

/* ---- Connection callbacks ------------------------------------------------ */

static int
on_open(struct ps_conn *c, void *sp)
{
	struct relay_session *s = sp;
	struct relay_batch *b = ps_conn_arg(c);
	struct smtpc_opts o = {
		.helo = smtp_cfg.hostname,
		.tls = b->tls == RELAY_TLS_NONE ? SMTPC_TLS_NONE :
		       b->tls == RELAY_TLS_REQUIRED ? SMTPC_TLS_REQUIRED :
		       SMTPC_TLS_OPPORTUNISTIC,
		.auth_user = b->auth_user, .auth_pass = b->auth_pass,
		.result = on_result, .arg = s};
	const char *why = "out of memory";

	s->conn = c;
	s->b = b;
	s->host = b->hosts[b->next_host - 1];
	s->c = smtpc_new(&o, &why);
	if (!s->c) {
		ps_conn_log(c, PS_LOG_ERR, "relay: %s", why);
		return PS_ENOMEM;
	}
	set_timeout(s);
	ps_conn_log(c, PS_LOG_INFO, "relay: connected to %s[%s]:%u for %s",
		    s->host.name, s->host.addr, s->host.port, b->domain);
	return 0;
}

static int
on_line(struct ps_conn *c, void *sp, const char *line, size_t len,
	unsigned flags)
{
	struct relay_session *s = sp;

	(void)c;
	(void)flags;
	handle(s, smtpc_feed_line(s->c, line, len));
	return 0;
}

static int
on_drain(struct ps_conn *c, void *sp)
{
	struct relay_session *s = sp;

	(void)c;
	if (s->drain_wait) {
		s->drain_wait = 0;
		body_next(s);
	}
	return 0;
}

static int
on_tls(struct ps_conn *c, void *sp)
{
	struct relay_session *s = sp;

	s->verified = ps_conn_tls_verified(c);
	ps_conn_log(c, PS_LOG_INFO, "relay: TLS to %s[%s]: %s, certificate "
		    "%s", s->host.name, s->host.addr, ps_conn_tls_info(c),
		    s->verified ? "verified" : "not verified");
	handle(s, smtpc_tls_started(s->c));
	return 0;
}

static void
on_timeout(struct ps_conn *c, void *sp)
{
	struct relay_session *s = sp;

	(void)c;
	smtpc_abort(s->c, "the server did not answer in time (RFC 5321 "
		    "4.5.3.2)");
	handle(s, SMTPC_EV_CLOSED);
}

/* Why the session ended, for the messages it did not get to: the reply
 * that ended it, or what the connection said. */
static void
keep_why(struct relay_session *s, struct relay_batch *b, const char *err)
{
	const struct smtpc_reply *r = s->c ? smtpc_end_reply(s->c) : NULL;
	const char *enh = err && !strncmp(err, "TLS", 3) ? "4.7.5" : "4.4.1";

	if (r && r->code >= 400)
		snprintf(b->why, sizeof(b->why), "%s[%s]: %s", s->host.name,
			 s->host.addr, r->text);
	else
		snprintf(b->why, sizeof(b->why), "%s[%s]: %s %s",
			 s->host.name, s->host.addr, enh,
			 err ? err : "connection lost");
}

static void
on_close(struct ps_conn *c, void *sp)
{
	struct relay_session *s = sp;
	struct relay_batch *b = ps_conn_arg(c);
	const char *err = ps_conn_error(c);

	if (!s->b) /* never opened: the connect or TLS failed */
		s->host = b->hosts[b->next_host - 1];
	if (s->c && s->m) {
		/* Stopping leaves them undecided: due again at once. */
		if (!relay_stopping())
			smtpc_abort(s->c, err ? err : "connection lost");
		message_done(s);
	}
	keep_why(s, b, err);
	ps_conn_log(c, PS_LOG_INFO, "relay: session with %s[%s] ended: %s",
		    s->host.name, s->host.addr, b->why);
	smtpc_free(s->c);
	s->c = NULL;
	relay_batch_session_end(b, s->attempted);
}

static void
on_shutdown(struct ps_conn *c, void *sp)
{
	struct relay_session *s = sp;
	int ev;

	s->stop = 1;
	relay_stop();
	if (s->m)
		return; /* the message in progress finishes first */
	ev = s->c ? smtpc_quit(s->c) : -1;
	if (ev < 0)
		ps_conn_close(c);
	else
		handle(s, ev);
}

static const struct ps_protocol relay_protocol = {
	.size = sizeof(struct ps_protocol),
	.name = "smtp-relay",
	.session_size = sizeof(struct relay_session),
	.max_line = SMTPC_LINE_MAX,
	.on_open = on_open,
	.on_line = on_line,
	.on_drain = on_drain,
	.on_tls = on_tls,
	.on_timeout = on_timeout,
	.on_close = on_close,
	.on_shutdown = on_shutdown,
};

int
relay_session_start(struct relay_batch *b, const struct relay_host *h,
		    struct ps_error *err)
{
	struct ps_connect o = {.size = sizeof(o), .address = h->addr,
			       .port = h->port, .timeout_ms = RELAY_CONNECT_MS,
			       .arg = b};

	return ps_conn_connect(&relay_protocol, &o, err) ? 0 : PS_EFAIL;
}
