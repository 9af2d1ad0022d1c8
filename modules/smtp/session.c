/* The SMTP session: replies (RFC 5321 4.2, with RFC 2034 enhanced codes
 * on every one), the command table and the sequence rules of 4.1.4 and
 * 4.3.2, the simple verbs (RSET, NOOP, QUIT, EXPN, STARTTLS per RFC
 * 3207), the error limit, and the pause that keeps a pipelining client's
 * replies in order while an answer is computed (RFC 2920 3.1). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smtpd.h"

/* Queue one reply line. Replies are the only output a client cannot
 * make us hold back: each 4xx and 5xx (but 421, which closes anyway)
 * counts towards max_errors, and passing it ends the session. Writes
 * nothing once the connection is closing. */
int
smtp_reply(struct smtp_session *s, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int n;

	if (ps_conn_closing(s->conn))
		return 0;
	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		return PS_EINVAL;
	if (ps_conn_printf(s->conn, "%s\r\n", buf) < 0)
		return PS_ENOMEM;
	if ((buf[0] == '4' || buf[0] == '5') && strncmp(buf, "421", 3) != 0 &&
	    ++s->errors > smtp_cfg.max_errors) {
		ps_conn_log(s->conn, PS_LOG_NOTICE, "too many errors rip=%s "
			    "errors=%u", ps_conn_peer(s->conn), s->errors);
		ps_conn_printf(s->conn, "421 4.7.0 %s Error: too many "
			       "errors\r\n", smtp_cfg.hostname);
		ps_conn_close(s->conn);
	}
	return 0;
}

/* Before an asynchronous step (a hook chain, a job, SASL): keep the
 * connection and take no more input until the matching smtp_unwait, so
 * pipelined commands wait their turn. Steps may nest (a lookup's result
 * runs a hook chain). */
void
smtp_wait(struct smtp_session *s)
{
	if (s->waiting++ == 0)
		ps_conn_pause(s->conn);
	ps_conn_hold(s->conn);
}

void
smtp_unwait(struct smtp_session *s)
{
	struct ps_conn *c = s->conn;

	if (--s->waiting == 0) {
		if (s->closed) {
			smtp_session_free(s);
		} else {
			ps_conn_resume(c);
			smtp_boundary(s);
		}
	}
	/* Last: this may free c and s. */
	ps_conn_release(c);
}

void
smtp_goodbye(struct smtp_session *s)
{
	smtp_reply(s, "421 4.3.2 %s Service shutting down",
		   smtp_cfg.hostname);
	ps_conn_close(s->conn);
}

/* Between commands: the place to leave when the server shuts down. */
void
smtp_boundary(struct smtp_session *s)
{
	if (s->shutdown && !s->waiting && !s->reading)
		smtp_goodbye(s);
}

int
smtp_tls_required(struct smtp_session *s)
{
	unsigned tls = ps_conn_tls(s->conn);

	return (tls & PS_TLS_REQUIRED) && !(tls & PS_TLS_ACTIVE);
}

void
smtp_rcpt_entry_free(struct smtp_rcpt_entry *e)
{
	for (size_t i = 0; i < e->nusers; i++)
		free(e->users[i]);
	for (size_t i = 0; i < e->nforwards; i++)
		free(e->forwards[i]);
	free(e->forwards);
	free(e->users);
	free(e->quotas);
	free(e->addr);
	free(e->orcpt);
	memset(e, 0, sizeof(*e));
}

/* RFC 5321 4.1.1.5: forget sender, recipients and data. */
void
smtp_txn_reset(struct smtp_session *s)
{
	for (size_t i = 0; i < s->nrcpts; i++)
		smtp_rcpt_entry_free(&s->rcpts[i]);
	smtp_rcpt_entry_free(&s->next_rcpt);
	free(s->rcpts);
	free(s->rcpt_addrs);
	free(s->added);
	free(s->headers);
	s->rcpts = NULL;
	s->rcpt_addrs = NULL;
	s->added = s->headers = NULL;
	s->nrcpts = s->added_len = 0;
	s->rcpt_tried = 0;
	memset(&s->mail, 0, sizeof(s->mail));
	memset(&s->pending, 0, sizeof(s->pending));
	smtp_spool_reset(&s->spool);
	s->too_big = s->toolong = s->reading = 0;
	s->bdat_discard = s->bdat_last = 0;
	s->bdat_error = NULL;
	if (s->state > SMTP_READY)
		s->state = SMTP_READY;
}

void
smtp_session_free(struct smtp_session *s)
{
	smtp_txn_reset(s);
}

/* ---- The greeting ----------------------------------------------------- */

static void
greet_next(struct smtp_session *s, int pass)
{
	/* Refused: hooks.c sent 554 (then only QUIT, RFC 5321 3.1) or 421
	 * (and closed). */
	if (!pass)
		s->state = SMTP_REFUSED;
	else
		smtp_reply(s, "220 %s ESMTP Poshta", smtp_cfg.hostname);
}

int
smtp_greet(struct smtp_session *s)
{
	smtp_hook(s, PS_SMTP_HOOK_CONNECT, greet_next);
	return 0;
}

/* ---- Simple verbs ---------------------------------------------------- */

static int
cmd_ehlo(struct smtp_session *s, const char *args, size_t len)
{
	return smtp_cmd_ehlo(s, args, len, 1);
}

static int
cmd_helo(struct smtp_session *s, const char *args, size_t len)
{
	return smtp_cmd_ehlo(s, args, len, 0);
}

static int
cmd_rset(struct smtp_session *s, const char *args, size_t len)
{
	if (len)
		return smtp_reply(s, "501 5.5.4 Syntax: RSET");
	smtp_txn_reset(s);
	return smtp_reply(s, "250 2.0.0 Ok");
}

/* RFC 5321 4.1.1.9: NOOP's argument, if any, is ignored. */
static int
cmd_noop(struct smtp_session *s, const char *args, size_t len)
{
	return smtp_reply(s, "250 2.0.0 Ok");
}

static int
cmd_quit(struct smtp_session *s, const char *args, size_t len)
{
	int r = smtp_reply(s, "221 2.0.0 Bye");

	ps_conn_close(s->conn);
	return r;
}

/* RFC 5321 3.5.2: EXPN may be refused; mailing lists are aliases here
 * and their members are nobody's business. */
static int
cmd_expn(struct smtp_session *s, const char *args, size_t len)
{
	return smtp_reply(s, "502 5.5.1 EXPN not available");
}

static int
cmd_help(struct smtp_session *s, const char *args, size_t len)
{
	return smtp_cmd_help(s);
}

/* RFC 3207 4: 220, then the core flushes it, drops whatever the client
 * pipelined after STARTTLS (5.2 of the RFC, CVE-2011-0411) and shakes
 * hands; on_tls resets the session. */
static int
cmd_starttls(struct smtp_session *s, const char *args, size_t len)
{
	unsigned tls = ps_conn_tls(s->conn);

	if (len)
		return smtp_reply(s, "501 5.5.4 Syntax: STARTTLS");
	if (tls & PS_TLS_ACTIVE)
		return smtp_reply(s, "503 5.5.1 TLS already active");
	if (!(tls & PS_TLS_OFFERED))
		return smtp_reply(s, "454 4.7.0 TLS not available");
	smtp_reply(s, "220 2.0.0 Ready to start TLS");
	return ps_conn_starttls(s->conn) < 0 ? PS_EIO : 0;
}

/* ---- The table -------------------------------------------------------- */

#define CMD_TLS 0x1 /* 530 before STARTTLS on a "tls required" listener */

static const struct {
	enum smtp_verb verb;
	int (*fn)(struct smtp_session *s, const char *args, size_t len);
	unsigned flags;
} commands[] = {
	{SMTP_V_EHLO, cmd_ehlo, 0},
	{SMTP_V_HELO, cmd_helo, 0},
	{SMTP_V_MAIL, smtp_cmd_mail, CMD_TLS},
	{SMTP_V_RCPT, smtp_cmd_rcpt, CMD_TLS},
	{SMTP_V_DATA, smtp_cmd_data, CMD_TLS},
	/* BDAT answers only after reading its chunk: it checks for
	 * itself. */
	{SMTP_V_BDAT, smtp_cmd_bdat, 0},
	{SMTP_V_RSET, cmd_rset, 0},
	{SMTP_V_NOOP, cmd_noop, 0},
	{SMTP_V_QUIT, cmd_quit, 0},
	{SMTP_V_VRFY, smtp_cmd_vrfy, 0},
	{SMTP_V_EXPN, cmd_expn, 0},
	{SMTP_V_HELP, cmd_help, 0},
	{SMTP_V_STARTTLS, cmd_starttls, 0},
	{SMTP_V_AUTH, smtp_cmd_auth, CMD_TLS},
};

static int
unknown(struct smtp_session *s, const char *line, size_t len)
{
	int r = smtp_ext_verb(s, line, len);

	if (r == PS_DECLINED)
		return smtp_reply(s, "500 5.5.2 Command unrecognized");
	return r;
}

static int
dispatch(struct smtp_session *s, const char *line, size_t len)
{
	size_t args;
	enum smtp_verb v = smtp_verb_parse(line, len, &args);

	if (s->state == SMTP_REFUSED && v != SMTP_V_QUIT)
		return smtp_reply(s, "503 5.5.1 Service refused, send QUIT");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (commands[i].verb != v)
			continue;
		if ((commands[i].flags & CMD_TLS) && smtp_tls_required(s))
			return smtp_reply(s, "530 5.7.0 Must issue a STARTTLS "
					  "command first");
		return commands[i].fn(s, line + args, len - args);
	}
	return unknown(s, line, len);
}

/* One command line. RFC 5321 2.3.8: only CRLF ends a line, so a command
 * ended by a bare LF is refused rather than guessed at: being strict
 * here costs nothing legitimate and keeps one notion of a line for
 * commands and for the end of data. */
int
smtp_command(struct smtp_session *s, const char *line, size_t len,
	     unsigned flags)
{
	int r;

	if (s->shutdown) {
		smtp_goodbye(s);
		return 0;
	}
	if (flags & PS_LINE_TOOLONG)
		r = smtp_reply(s, "500 5.5.2 Line too long");
	else if (flags & PS_LINE_BARE_LF)
		r = smtp_reply(s, "500 5.5.2 Bare LF in command, lines end "
			       "with CRLF");
	else
		r = dispatch(s, line, len);
	smtp_boundary(s);
	return r < 0 ? r : 0;
}
