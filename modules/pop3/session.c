/* The POP3 session: replies (RFC 1939 3, response codes RFC 2449 8), the
 * command table with the states each command is allowed in (RFC 1939 4-6),
 * the bad-command limit, the greeting and the goodbye at shutdown. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pop3d.h"

/* ---- Replies ---------------------------------------------------------- */

static int
reply(struct pop3_session *s, const char *status, const char *code,
      const char *fmt, va_list ap)
{
	char text[512];

	if (ps_conn_closing(s->conn))
		return 0;
	vsnprintf(text, sizeof(text), fmt, ap);
	if (code)
		return ps_conn_printf(s->conn, "%s [%s] %s\r\n", status, code,
				      text) < 0 ? PS_ENOMEM : 0;
	return ps_conn_printf(s->conn, "%s %s\r\n", status, text) < 0
		       ? PS_ENOMEM : 0;
}

int
pop3_ok(struct pop3_session *s, const char *fmt, ...)
{
	va_list ap;
	int r;

	s->bad = 0;
	va_start(ap, fmt);
	r = reply(s, "+OK", NULL, fmt, ap);
	va_end(ap);
	return r;
}

int
pop3_err(struct pop3_session *s, const char *code, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = reply(s, "-ERR", code, fmt, ap);
	va_end(ap);
	return r;
}

/* A command the client got wrong (unknown, bad syntax, wrong state):
 * max_bad of them in a row end the session. */
int
pop3_bad(struct pop3_session *s, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = reply(s, "-ERR", NULL, fmt, ap);
	va_end(ap);
	if (++s->bad >= pop3_cfg.max_bad) {
		ps_conn_log(s->conn, PS_LOG_NOTICE, "too many bad commands "
			    "rip=%s", ps_conn_peer(s->conn));
		pop3_err(s, NULL, "Too many bad commands, closing");
		ps_conn_close(s->conn);
	}
	return r;
}

/* ---- Waiting for a step ------------------------------------------------ */

/* Input stops while a step runs off the loop (SASL, a store job), so the
 * next pipelined command waits its turn; a RETR batch is the exception
 * (retr.c), until a line that cannot join it is held. */
static void
input_update(struct pop3_session *s)
{
	if (s->held || (s->waiting && !s->retr))
		ps_conn_pause(s->conn);
	else
		ps_conn_resume(s->conn);
}

void
pop3_wait(struct pop3_session *s)
{
	s->waiting++;
	ps_conn_hold(s->conn);
	input_update(s);
}

static int command(struct pop3_session *s, const char *line, size_t len,
		   unsigned flags);

/* The held line's turn: before anything the core delivers after it. */
static void
run_held(struct pop3_session *s)
{
	char *line = s->held;

	s->held = NULL;
	if (command(s, line, s->held_len, s->held_flags) < 0)
		ps_conn_close(s->conn);
	free(line);
}

void
pop3_unwait(struct pop3_session *s)
{
	struct ps_conn *c = s->conn;

	if (--s->waiting == 0) {
		if (s->closed) {
			pop3_session_free(s);
		} else {
			if (s->held)
				run_held(s);
			if (!s->closed && !s->waiting)
				pop3_boundary(s);
		}
	}
	if (!s->closed)
		input_update(s);
	/* Last: this may free c and s. */
	ps_conn_release(c);
}

/* Between commands: where SIGTERM takes effect. RFC 1939 6: nothing is
 * deleted when the session ends outside the UPDATE state. */
void
pop3_boundary(struct pop3_session *s)
{
	if (s->shutdown && !s->waiting && s->state != POP3_UPDATE) {
		pop3_err(s, "SYS/TEMP", "Server shutting down, try again "
			 "later");
		ps_conn_close(s->conn);
	}
}

void
pop3_session_free(struct pop3_session *s)
{
	ps_sasl_free(s->sasl);
	s->sasl = NULL;
	free(s->held);
	s->held = NULL;
	pop3_drop_close(s);
	pop3_unlock(s);
}

/* RFC 2595 4, RFC 1939 7: USER/PASS and plaintext SASL only where the
 * listener allows passwords in the clear now. */
int
pop3_plaintext_allowed(struct pop3_session *s)
{
	unsigned tls = ps_conn_tls(s->conn);

	if ((tls & PS_TLS_REQUIRED) && !(tls & PS_TLS_ACTIVE))
		return 0;
	return ps_sasl_mechanisms(s->conn)[0] != '\0';
}

void
pop3_greet(struct pop3_session *s)
{
	/* RFC 2449 8: the greeting may carry no code; APOP is not offered,
	 * so there is no timestamp. */
	pop3_ok(s, "%s Poshta POP3 ready", pop3_cfg.hostname);
}

/* ---- The command table ------------------------------------------------ */

#define IN_AUTH (1u << POP3_AUTHORIZATION)
#define IN_TRANS (1u << POP3_TRANSACTION)

static int
cmd_noop(struct pop3_session *s, const struct pop3_cmd *cmd)
{
	(void)cmd;
	return pop3_ok(s, "Nothing to do");
}

/* RFC 6856 3: UTF8 in the AUTHORIZATION state; we send messages as
 * stored whether or not it was given, so it only records the wish. */
static int
cmd_utf8(struct pop3_session *s, const struct pop3_cmd *cmd)
{
	(void)cmd;
	s->utf8 = 1;
	return pop3_ok(s, "UTF8 enabled");
}

struct pop3_verb {
	const char *name;
	unsigned states;
	size_t min_args, max_args;
	int (*fn)(struct pop3_session *s, const struct pop3_cmd *cmd);
};

/* PASS takes the rest of the line (RFC 1939 7: spaces may be part of the
 * password); AUTH's arguments are checked by the command. */
static const struct pop3_verb verbs[] = {
	{"CAPA", IN_AUTH | IN_TRANS, 0, 0, pop3_cmd_capa},
	{"USER", IN_AUTH, 1, 1, pop3_cmd_user},
	{"PASS", IN_AUTH, 0, SIZE_MAX, pop3_cmd_pass},
	{"AUTH", IN_AUTH, 0, 2, pop3_cmd_auth},
	{"STLS", IN_AUTH, 0, 0, pop3_cmd_stls},
	{"UTF8", IN_AUTH, 0, 0, cmd_utf8},
	{"QUIT", IN_AUTH | IN_TRANS, 0, 0, pop3_cmd_quit},
	{"NOOP", IN_TRANS, 0, 0, cmd_noop},
	{"STAT", IN_TRANS, 0, 0, pop3_cmd_stat},
	{"LIST", IN_TRANS, 0, 1, pop3_cmd_list},
	{"UIDL", IN_TRANS, 0, 1, pop3_cmd_uidl},
	{"RETR", IN_TRANS, 1, 1, pop3_cmd_retr},
	{"TOP", IN_TRANS, 2, 2, pop3_cmd_top},
	{"DELE", IN_TRANS, 1, 1, pop3_cmd_dele},
	{"RSET", IN_TRANS, 0, 0, pop3_cmd_rset},
};

static const struct pop3_verb *
verb_find(const char *keyword)
{
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (strcmp(verbs[i].name, keyword) == 0)
			return &verbs[i];
	return NULL;
}

static int
dispatch(struct pop3_session *s, const char *line, size_t len)
{
	struct pop3_cmd cmd;
	const struct pop3_verb *v;

	v = pop3_cmd_parse(line, len, &cmd) == 0 ? verb_find(cmd.keyword)
						 : NULL;
	/* RFC 1939 7: PASS only right after a successful USER. */
	if (!v || v->fn != pop3_cmd_pass)
		s->user_given = 0;
	if (!v)
		return pop3_bad(s, "Unknown command");
	if (!(v->states & (1u << s->state)))
		return pop3_bad(s, "%s is not allowed %s", v->name,
				s->state == POP3_AUTHORIZATION
					? "before login" : "after login");
	if (cmd.nargs < v->min_args || cmd.nargs > v->max_args)
		return pop3_bad(s, "Wrong number of arguments for %s",
				v->name);
	return v->fn(s, &cmd);
}

static int
command(struct pop3_session *s, const char *line, size_t len, unsigned flags)
{
	if (flags & PS_LINE_TOOLONG)
		return pop3_bad(s, "Line too long");
	if (s->state == POP3_UPDATE)
		return 0;
	return dispatch(s, line, len);
}

/* A line that cannot join the running batch waits for its end, input
 * paused behind it (run_held). */
static int
hold(struct pop3_session *s, const char *line, size_t len, unsigned flags)
{
	if (!(s->held = malloc(len + 1)))
		return PS_ENOMEM;
	memcpy(s->held, line, len);
	s->held_len = len;
	s->held_flags = flags;
	input_update(s);
	return 0;
}

/* One line from the client: a command, or the answer to a SASL "+". */
int
pop3_line(struct pop3_session *s, const char *line, size_t len,
	  unsigned flags)
{
	if (s->sasl_reply)
		return pop3_auth_answer(s, line, len, flags);
	if (s->retr) {
		if (!(flags & PS_LINE_TOOLONG) &&
		    pop3_retr_join(s, line, len))
			return 0;
		return hold(s, line, len, flags);
	}
	return command(s, line, len, flags);
}
