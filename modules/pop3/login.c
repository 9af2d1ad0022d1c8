/* Getting in: USER and PASS (RFC 1939 7), AUTH (RFC 5034) with the core's
 * SASL, and STLS (RFC 2595 4). The core checks passwords, delays failures
 * and counts them; this file frames the exchange in POP3 ("+" challenges,
 * "*" to cancel), then locks and loads the maildrop on the pool. Failures
 * carry RFC 3206's codes (AUTH, SYS/TEMP) and RFC 2449's IN-USE. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pop3d.h"

/* ---- The maildrop, locked and loaded at login ------------------------ */

static void
open_work(struct pop3_job *j)
{
	struct pop3_session *s = j->s;

	if (!pop3_cfg.have_store || !pop3_cfg.have_auth) {
		j->result = PS_ESTATE;
		snprintf(j->err.msg, sizeof(j->err.msg), "no storage or auth "
			 "backend loaded");
		return;
	}
	j->result = pop3_lock(s->user, &s->lock_fd, &j->err);
	if (j->result == 0)
		j->result = pop3_drop_load(s, &j->err);
}

static int
open_done(struct pop3_job *j)
{
	struct pop3_session *s = j->s;

	if (s->closed)
		return POP3_JOB_DONE; /* pop3_session_free undoes it all */
	if (j->result < 0) {
		pop3_drop_close(s);
		pop3_unlock(s);
		ps_conn_log(s->conn, PS_LOG_NOTICE, "login user=%s: %s",
			    s->user, j->err.msg);
		if (j->result == POP3_EINUSE)
			pop3_err(s, "IN-USE", "Mailbox is locked by another "
				 "POP3 session");
		else
			pop3_err(s, "SYS/TEMP", "Mailbox unavailable, try "
				 "again later");
		s->user[0] = '\0';
		return POP3_JOB_DONE;
	}
	s->state = POP3_TRANSACTION;
	ps_conn_log(s->conn, PS_LOG_INFO, "login user=%s messages=%u "
		    "size=%llu", s->user, s->drop.count,
		    (unsigned long long)s->drop.size);
	pop3_ok(s, "Logged in, %u messages (%llu octets)", s->drop.count,
		(unsigned long long)s->drop.size);
	return POP3_JOB_DONE;
}

/* ---- The core's verdict ---------------------------------------------- */

static void
sasl_failed(struct pop3_session *s, int status)
{
	switch (status) {
	case PS_SASL_EDENIED:
		pop3_err(s, "AUTH", "Authentication failed");
		break;
	case PS_SASL_EENCRYPT:
		pop3_err(s, "AUTH", "Plaintext authentication disallowed "
			 "without TLS, use STLS first");
		break;
	case PS_SASL_EMECH:
		pop3_err(s, NULL, "Unsupported authentication mechanism");
		break;
	case PS_SASL_ECANCEL: /* RFC 5034 4: "*" gets -ERR */
		pop3_err(s, NULL, "Authentication cancelled");
		break;
	case PS_SASL_EMALFORMED:
		pop3_err(s, NULL, "Invalid base64 or SASL message");
		break;
	case PS_SASL_ELIMIT:
		pop3_err(s, "SYS/TEMP", "Too many failed logins, try again "
			 "later");
		break;
	default:
		pop3_err(s, "SYS/TEMP", "Temporary authentication failure");
		break;
	}
}

static void
sasl_status(struct ps_sasl *sasl, int status, const char *challenge,
	    void *arg)
{
	struct pop3_session *s = arg;

	s->sasl_wait = 0;
	if (s->closed || ps_conn_closing(s->conn)) {
		ps_sasl_free(sasl);
		s->sasl = NULL;
		pop3_unwait(s);
		return;
	}
	if (status == PS_SASL_CONTINUE) {
		/* RFC 5034 4: "+" SP base64 (maybe empty). */
		ps_conn_printf(s->conn, "+ %s\r\n", challenge);
		s->sasl_reply = 1;
	} else {
		if (status == PS_SASL_OK) {
			snprintf(s->user, sizeof(s->user), "%s",
				 ps_sasl_user(sasl));
			pop3_job_start(s, open_work, open_done, NULL, NULL);
		} else {
			sasl_failed(s, status);
		}
		ps_sasl_free(sasl);
		s->sasl = NULL;
	}
	pop3_unwait(s);
}

static int
sasl_started(struct pop3_session *s)
{
	if (!s->sasl) {
		pop3_err(s, "SYS/TEMP", "Out of memory");
		pop3_unwait(s);
	} else {
		s->sasl_wait = 1;
	}
	return 0;
}

/* ---- Commands -------------------------------------------------------- */

/* RFC 1939 7: any name gets +OK, so USER tells nobody who exists. */
int
pop3_cmd_user(struct pop3_session *s, const struct pop3_cmd *cmd)
{
	if (!pop3_plaintext_allowed(s))
		return pop3_err(s, "AUTH", "Plaintext authentication "
				"disallowed without TLS, use STLS first");
	if (cmd->lens[0] > PS_AUTH_NAME_MAX ||
	    memchr(cmd->args[0], '\0', cmd->lens[0]))
		return pop3_bad(s, "User name too long");
	memcpy(s->user, cmd->args[0], cmd->lens[0]);
	s->user[cmd->lens[0]] = '\0';
	s->user_given = 1;
	return pop3_ok(s, "Send your password");
}

int
pop3_cmd_pass(struct pop3_session *s, const struct pop3_cmd *cmd)
{
	char pass[POP3_LINE_MAX];

	if (!s->user_given)
		return pop3_bad(s, "USER first");
	/* Whatever the verdict, the next PASS needs its USER again. */
	s->user_given = 0;
	if (!pop3_plaintext_allowed(s))
		return pop3_err(s, "AUTH", "Plaintext authentication "
				"disallowed without TLS, use STLS first");
	if (!cmd->rest || cmd->rest_len >= sizeof(pass) ||
	    memchr(cmd->rest, '\0', cmd->rest_len))
		return pop3_err(s, "AUTH", "Authentication failed");
	memcpy(pass, cmd->rest, cmd->rest_len);
	pass[cmd->rest_len] = '\0';
	pop3_wait(s);
	s->sasl = ps_auth_login(s->conn, s->user, pass, sasl_status, s);
	explicit_bzero(pass, sizeof(pass));
	return sasl_started(s);
}

/* RFC 5034 4: "AUTH" SP mechanism [SP initial-response]. AUTH alone lists
 * the mechanisms, as Outlook and others ask (the form of RFC 1734's
 * successors, which Dovecot and Cyrus answer too). */
int
pop3_cmd_auth(struct pop3_session *s, const struct pop3_cmd *cmd)
{
	char mech[32], initial[POP3_LINE_MAX];

	if (cmd->nargs == 0) {
		const char *m = ps_sasl_mechanisms(s->conn);

		pop3_ok(s, "Mechanisms follow");
		while (*m) {
			size_t n = strcspn(m, " ");

			ps_conn_printf(s->conn, "%.*s\r\n", (int)n, m);
			m += n + (m[n] == ' ');
		}
		return ps_conn_write(s->conn, ".\r\n", 3);
	}
	if (cmd->lens[0] >= sizeof(mech) ||
	    (cmd->nargs == 2 && cmd->lens[1] >= sizeof(initial)))
		return pop3_bad(s, "Bad AUTH arguments");
	memcpy(mech, cmd->args[0], cmd->lens[0]);
	mech[cmd->lens[0]] = '\0';
	if (cmd->nargs == 2) {
		memcpy(initial, cmd->args[1], cmd->lens[1]);
		initial[cmd->lens[1]] = '\0';
	}
	pop3_wait(s);
	s->sasl = ps_sasl_start(s->conn, mech, cmd->nargs == 2 ? initial : NULL,
				sasl_status, s);
	return sasl_started(s);
}

/* The answer to a "+": a base64 line, or "*" (the core reports ECANCEL). */
int
pop3_auth_answer(struct pop3_session *s, const char *line, size_t len,
		 unsigned flags)
{
	s->sasl_reply = 0;
	if (flags & PS_LINE_TOOLONG) {
		ps_sasl_free(s->sasl);
		s->sasl = NULL;
		return pop3_bad(s, "Authentication line too long");
	}
	pop3_wait(s);
	s->sasl_wait = 1;
	ps_sasl_respond(s->sasl, line, len);
	return 0;
}

/* RFC 2595 4: +OK, then the handshake; the core drops whatever was
 * pipelined after the command. */
int
pop3_cmd_stls(struct pop3_session *s, const struct pop3_cmd *cmd)
{
	unsigned tls = ps_conn_tls(s->conn);

	(void)cmd;
	if (tls & PS_TLS_ACTIVE)
		return pop3_bad(s, "TLS is active already");
	if (!(tls & PS_TLS_OFFERED))
		return pop3_err(s, NULL, "TLS is not available here");
	pop3_ok(s, "Begin TLS negotiation");
	return ps_conn_starttls(s->conn) < 0 ? PS_EIO : 0;
}
