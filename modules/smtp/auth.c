/* AUTH (RFC 4954): the core runs the SASL mechanisms, the password check
 * and the failure limits; this file frames the exchange in SMTP: 334
 * challenges, "*" to cancel, and the outcomes' codes (RFC 4954 6, with
 * RFC 3463 and RFC 5248 enhanced codes). Input stays paused while the
 * core thinks, so pipelined commands wait for the verdict. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smtpd.h"

static const char *
auth_error(int status)
{
	switch (status) {
	case PS_SASL_EDENIED:
		return "535 5.7.8 Authentication credentials invalid";
	case PS_SASL_ELIMIT:
		return "454 4.7.0 Too many failed logins, try again later";
	case PS_SASL_EENCRYPT:
		return "538 5.7.11 Encryption required for requested "
		       "authentication mechanism";
	case PS_SASL_EMECH:
		return "504 5.5.4 Unrecognized authentication type";
	case PS_SASL_ECANCEL:
		return "501 5.0.0 Authentication cancelled";
	case PS_SASL_EMALFORMED:
		return "501 5.5.2 Cannot decode response";
	default:
		return "454 4.7.0 Temporary authentication failure";
	}
}

/* The core's word, always on a later loop turn: freeing the exchange
 * here is safe. */
static void
auth_status(struct ps_sasl *sasl, int status, const char *challenge,
	    void *arg)
{
	struct smtp_session *s = arg;

	s->sasl_wait = 0;
	if (ps_conn_closing(s->conn)) {
		ps_sasl_free(sasl);
		s->sasl = NULL;
		smtp_unwait(s);
		return;
	}
	if (status == PS_SASL_CONTINUE) {
		/* RFC 4954 4: "334" SP base64, the text maybe empty. */
		smtp_reply(s, "334 %s", challenge);
		s->sasl_reply = 1;
	} else {
		if (status == PS_SASL_OK) {
			snprintf(s->user, sizeof(s->user), "%s",
				 ps_sasl_user(sasl));
			smtp_reply(s, "235 2.7.0 Authentication successful");
		} else {
			smtp_reply(s, "%s", auth_error(status));
		}
		ps_sasl_free(sasl);
		s->sasl = NULL;
	}
	smtp_unwait(s);
}

/* "AUTH mechanism [initial-response]" */
int
smtp_cmd_auth(struct smtp_session *s, const char *args, size_t len)
{
	char *mech, *initial;

	if (s->state == SMTP_INIT || !s->esmtp)
		return smtp_reply(s, "503 5.5.1 Error: send EHLO first");
	if (s->user[0])
		return smtp_reply(s, "503 5.5.1 Already authenticated");
	/* RFC 4954 4: not during a mail transaction. */
	if (s->state != SMTP_READY)
		return smtp_reply(s, "503 5.5.1 AUTH not permitted during a "
				  "mail transaction");
	if (len == 0)
		return smtp_reply(s, "501 5.5.4 Syntax: AUTH mechanism "
				  "[initial-response]");
	if (!(mech = strndup(args, len)))
		return smtp_reply(s, "454 4.7.0 Temporary authentication "
				  "failure");
	if ((initial = strchr(mech, ' ')))
		*initial++ = '\0';
	smtp_wait(s);
	s->sasl = ps_sasl_start(s->conn, mech, initial, auth_status, s);
	free(mech);
	if (!s->sasl) {
		smtp_reply(s, "454 4.7.0 Temporary authentication failure");
		smtp_unwait(s);
	} else {
		s->sasl_wait = 1;
	}
	return 0;
}

/* The client's answer to a 334: a base64 line, or "*" (the core reports
 * ECANCEL). RFC 4954 4: an over-long line ends the exchange with 500
 * 5.5.6. */
int
smtp_auth_answer(struct smtp_session *s, const char *line, size_t len,
		 unsigned flags)
{
	s->sasl_reply = 0;
	if (flags & (PS_LINE_TOOLONG | PS_LINE_BARE_LF)) {
		ps_sasl_free(s->sasl);
		s->sasl = NULL;
		return smtp_reply(s, flags & PS_LINE_TOOLONG ?
				  "500 5.5.6 Authentication exchange line is "
				  "too long" :
				  "500 5.5.2 Bare LF in command, lines end "
				  "with CRLF");
	}
	smtp_wait(s);
	s->sasl_wait = 1;
	ps_sasl_respond(s->sasl, line, len);
	return 0;
}
