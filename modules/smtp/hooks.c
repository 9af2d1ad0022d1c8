/* The filter hooks of <poshta/smtp.h>: the event struct each chain sees,
 * the message's header block and body for smtp.data, header fields that
 * filters add, refusals turned into replies (RFC 5321 4.2.1 classes, RFC
 * 3463 codes), and smtp.queued, which nothing waits for. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smtpd.h"

#define ADDED_MAX (64 * 1024) /* header octets filters may add */

static int
ev_read(const struct ps_smtp_event *ev, uint64_t offset, void *buf,
	size_t len, size_t *got_r)
{
	struct smtp_session *s = ev->smtp_private;

	return smtp_spool_read(&s->spool, offset, buf, len, got_r) < 0 ?
		PS_EIO : 0;
}

/* A field name is ftext (RFC 5322 3.6.8); a value one line of printable
 * UTF-8 and tabs. */
static int
field_ok(const char *name, const char *value)
{
	const unsigned char *v = (const unsigned char *)value;
	size_t n;

	if (!name[0])
		return 0;
	for (const char *p = name; *p; p++)
		if (*p < 33 || *p > 126 || *p == ':')
			return 0;
	for (size_t i = 0; v[i]; i += n) {
		n = 1;
		if (v[i] >= 0x80 && !(n = smtp_utf8_seq(v + i, strlen(value)
							 - i)))
			return 0;
		if ((v[i] < 0x20 && v[i] != '\t') || v[i] == 0x7f)
			return 0;
	}
	return 1;
}

static int
ev_add_header(const struct ps_smtp_event *ev, const char *name,
	      const char *value)
{
	struct smtp_session *s = ev->smtp_private;
	size_t n;
	char *p;

	if (!name || !value || !field_ok(name, value))
		return PS_EINVAL;
	n = strlen(name) + strlen(value) + 4;
	if (s->added_len + n > ADDED_MAX)
		return PS_EINVAL;
	if (!(p = realloc(s->added, s->added_len + n + 1)))
		return PS_ENOMEM;
	s->added = p;
	snprintf(p + s->added_len, n + 1, "%s: %s\r\n", name, value);
	s->added_len += n;
	return 0;
}

/* smtp.data's header block, read back from the spool (flushed). */
static void
data_headers(struct smtp_session *s)
{
	uint64_t want = s->body.header_done ? s->body.header_end :
		s->body.size;
	size_t got = 0;

	s->ev.headers_cut = want > PS_SMTP_HEADERS_MAX;
	if (s->ev.headers_cut)
		want = PS_SMTP_HEADERS_MAX;
	free(s->headers);
	s->headers = malloc((size_t)want + 1);
	if (s->headers &&
	    smtp_spool_read(&s->spool, 0, s->headers, (size_t)want, &got) < 0)
		got = 0;
	if (s->headers)
		s->headers[got] = '\0';
	s->ev.headers = s->headers ? s->headers : "";
	s->ev.headers_len = got;
}

void
smtp_event_fill(struct smtp_session *s, const char *event)
{
	struct ps_conn *c = s->conn;
	struct ps_smtp_event *ev = &s->ev;

	*ev = (struct ps_smtp_event){
		.size = sizeof(*ev),
		.event = event,
		.client_ip = ps_conn_peer(c),
		.listener = ps_conn_listener(c),
		.role = s->role,
		.helo = s->helo[0] ? s->helo : NULL,
		.esmtp = s->esmtp,
		.tls = (ps_conn_tls(c) & PS_TLS_ACTIVE) != 0,
		.tls_info = ps_conn_tls_info(c),
		.user = s->user[0] ? s->user : NULL,
		.smtp_private = s,
	};
	if (s->state >= SMTP_MAIL) {
		ev->sender = s->mail.path.addr;
		ev->declared_size = s->mail.size;
		ev->rcpts = s->rcpt_addrs;
		ev->nrcpts = s->nrcpts;
	}
	if (!event)
		return;
	if (strcmp(event, PS_SMTP_HOOK_MAIL) == 0 ||
	    strcmp(event, PS_SMTP_HOOK_RCPT) == 0)
		ev->add_header = ev_add_header;
	if (strcmp(event, PS_SMTP_HOOK_RCPT) == 0)
		ev->rcpt = s->pending.path.addr;
	if (strcmp(event, PS_SMTP_HOOK_DATA) == 0) {
		ev->add_header = ev_add_header;
		ev->read = ev_read;
		ev->queue_id = s->queue_id;
		ev->message_size = s->body.size;
		data_headers(s);
	}
}

/* Does text begin with a reply code this verdict may use? */
static int
code_fits(const char *text, int verdict, int connect)
{
	if (!smtp_is_digit(text[0]) || !smtp_is_digit(text[1]) ||
	    !smtp_is_digit(text[2]) || text[3] != ' ')
		return 0;
	if (connect)
		return strncmp(text, verdict == PS_HOOK_DEFER ? "421" : "554",
			       3) == 0;
	return text[0] == (verdict == PS_HOOK_DEFER ? '4' : '5');
}

/* The reply for a refusal, per <poshta/smtp.h>: the handler's text as it
 * is, or after the default code. A verdict that is none of the known
 * ones counts as DEFER: a broken filter fails closed, and temporarily. */
static void
refusal(char *out, size_t size, const char *event, int verdict,
	const char *reply)
{
	int connect = strcmp(event, PS_SMTP_HOOK_CONNECT) == 0;
	char text[512];
	size_t i;

	if (verdict != PS_HOOK_REJECT)
		verdict = PS_HOOK_DEFER;
	snprintf(text, sizeof(text), "%s", reply && reply[0] ? reply :
		 verdict == PS_HOOK_DEFER ? "Try again later" :
		 "Rejected by policy");
	for (i = 0; text[i]; i++)
		if ((unsigned char)text[i] < 0x20 || text[i] == 0x7f)
			text[i] = ' ';
	if (code_fits(text, verdict, connect))
		snprintf(out, size, "%s", text);
	else
		snprintf(out, size, "%s %s", verdict == PS_HOOK_DEFER ?
			 (connect ? "421 4.7.1" : "451 4.7.1") :
			 (connect ? "554 5.7.1" : "550 5.7.1"), text);
}

static void
hook_done(int verdict, const char *reply, void *arg)
{
	struct smtp_session *s = arg;
	void (*next)(struct smtp_session *, int) = s->hook_next;
	int pass = verdict == PS_HOOK_CONTINUE || verdict == PS_HOOK_ACCEPT;
	char text[600];

	if (!pass) {
		refusal(text, sizeof(text), s->ev.event, verdict, reply);
		ps_conn_log(s->conn, PS_LOG_INFO, "%s refused rip=%s "
			    "reply=\"%s\"", s->ev.event, ps_conn_peer(s->conn),
			    text);
		smtp_reply(s, "%s", text);
		if (text[0] == '4' && strcmp(s->ev.event,
					     PS_SMTP_HOOK_CONNECT) == 0)
			ps_conn_close(s->conn);
	}
	/* A client gone meanwhile gets nothing more done for it. */
	if (ps_conn_closing(s->conn))
		pass = 0;
	s->hook_next = NULL;
	next(s, pass);
	smtp_unwait(s);
}

/* Run a chain with input paused; next(s, pass) continues the command,
 * maybe before this returns. */
void
smtp_hook(struct smtp_session *s, const char *event,
	  void (*next)(struct smtp_session *s, int pass))
{
	smtp_event_fill(s, event);
	s->hook_next = next;
	smtp_wait(s);
	ps_hook_run(event, s->conn, &s->ev, hook_done, s);
}

/* ---- smtp.queued: a copy that lives as long as its chain -------------- */

struct queued {
	struct ps_smtp_event ev;
	char *strings; /* helo, user, sender, queue ID and recipients */
	const char **rcpts;
};

static void
queued_done(int verdict, const char *reply, void *arg)
{
	struct queued *q = arg;

	free(q->strings);
	free(q->rcpts);
	free(q);
}

static char *
put(char **p, const char *str)
{
	char *at = *p;

	if (!str)
		return NULL;
	*p = stpcpy(at, str) + 1;
	return at;
}

void
smtp_hook_queued(struct smtp_session *s, uint64_t size)
{
	struct queued *q = calloc(1, sizeof(*q));
	size_t need = sizeof(s->helo) + sizeof(s->user) + SMTP_PATH_MAX +
		      SMTP_ID_MAX + 4;
	char *p;

	for (size_t i = 0; i < s->nrcpts; i++)
		need += strlen(s->rcpts[i].addr) + 1;
	if (!q || !(q->strings = malloc(need)) ||
	    !(q->rcpts = calloc(s->nrcpts + 1, sizeof(*q->rcpts)))) {
		if (q)
			free(q->strings);
		free(q);
		return;
	}
	smtp_event_fill(s, PS_SMTP_HOOK_QUEUED);
	q->ev = s->ev;
	p = q->strings;
	q->ev.helo = put(&p, q->ev.helo);
	q->ev.user = put(&p, q->ev.user);
	q->ev.sender = put(&p, q->ev.sender);
	q->ev.queue_id = put(&p, s->queue_id);
	for (size_t i = 0; i < s->nrcpts; i++)
		q->rcpts[i] = put(&p, s->rcpts[i].addr);
	q->ev.rcpts = q->rcpts;
	q->ev.nrcpts = s->nrcpts;
	q->ev.message_size = size;
	q->ev.smtp_private = NULL;
	ps_hook_run(PS_SMTP_HOOK_QUEUED, s->conn, &q->ev, queued_done, q);
}
