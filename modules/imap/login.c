/* Getting in: STARTTLS (RFC 9051 6.2.1), AUTHENTICATE with SASL-IR (6.2.2,
 * RFC 4959) and LOGIN (6.2.3). The core runs the mechanisms, the password
 * checks, the failure delay and limits; this file frames the exchange in
 * IMAP ("+" challenges, "*" to cancel) and, once the user is known, opens
 * the user's store on the pool. Response codes are RFC 5530's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imapd.h"

/* ---- The store, opened at login ----------------------------------- */

struct login {
	char user[PS_AUTH_NAME_MAX + 1];
	uint64_t quota;
	struct ps_store_user *store;
};

static void
open_work(struct imap_job *j)
{
	struct login *l = j->arg;
	struct ps_auth_user au;

	if (!imap_cfg.have_store || !imap_cfg.have_auth) {
		j->result = PS_ESTATE;
		snprintf(j->err.msg, sizeof(j->err.msg), "no storage or auth "
			 "backend loaded");
		return;
	}
	if (imap_cfg.auth.lookup(l->user, &au, &j->err) == 0)
		l->quota = au.quota_bytes;
	j->result = imap_cfg.store.user_open(l->user, l->quota, &l->store,
					      &j->err);
}

static void
open_done(struct imap_job *j)
{
	struct imap_session *s = j->s;
	struct login *l = j->arg;
	struct imap_buf b;

	if (s->closed || j->result < 0) {
		if (l->store)
			imap_cfg.store.user_close(l->store);
		if (!s->closed) {
			ps_conn_log(s->conn, PS_LOG_ERR, "login user=%s: "
				    "cannot open the store: %s", l->user,
				    j->err.msg);
			imap_no(s, "UNAVAILABLE", "Mailbox store unavailable, "
				"try again later");
		}
		free(l);
		return;
	}
	snprintf(s->user, sizeof(s->user), "%s", l->user);
	s->quota = l->quota;
	s->store = l->store;
	free(l);
	if (imap_user_register(s) < 0) {
		imap_logout_store(s);
		s->user[0] = '\0';
		imap_no(s, "LIMIT", "Too many sessions for this user");
		return;
	}
	s->state = IMAP_AUTH;
	ps_conn_log(s->conn, PS_LOG_INFO, "login user=%s", s->user);
	/* RFC 9051 6.2.2: the capabilities change at login; saying them
	 * here spares the client a CAPABILITY. */
	imap_buf_init(&b, 4096);
	imap_capabilities(s, &b);
	imap_tagged(s, "OK", NULL, "[CAPABILITY %s] Logged in",
		    imap_buf_str(&b));
	imap_buf_free(&b);
}

static void
login_open(struct imap_session *s, const char *user)
{
	struct login *l = calloc(1, sizeof(*l));
	struct imap_job *j = l ? imap_job_new(s, open_work, open_done, l)
			       : NULL;

	if (l)
		snprintf(l->user, sizeof(l->user), "%s", user);
	if (!j || imap_job_start(s, j) < 0) {
		free(l);
		imap_job_free(j);
		imap_no(s, "UNAVAILABLE", "Out of memory");
	}
}

void
imap_logout_store(struct imap_session *s)
{
	imap_user_unregister(s);
	if (s->store)
		imap_cfg.store.user_close(s->store);
	s->store = NULL;
}

/* ---- The core's verdict ---------------------------------------------- */

static void
sasl_failed(struct imap_session *s, int status)
{
	switch (status) {
	case PS_SASL_EDENIED:
		imap_no(s, "AUTHENTICATIONFAILED", "Authentication failed");
		break;
	case PS_SASL_ELIMIT:
		imap_no(s, "UNAVAILABLE", "Too many failed logins, try again "
			"later");
		break;
	case PS_SASL_EENCRYPT:
		imap_no(s, "PRIVACYREQUIRED", "Use STARTTLS or TLS first");
		break;
	case PS_SASL_EMECH:
		imap_no(s, "CANNOT", "Unsupported authentication mechanism");
		break;
	case PS_SASL_ECANCEL: /* RFC 9051 6.2.2: "*" gets BAD */
		imap_bad(s, "Authentication cancelled");
		break;
	case PS_SASL_EMALFORMED:
		imap_bad(s, "Invalid base64 or SASL message");
		break;
	default:
		imap_no(s, "UNAVAILABLE", "Temporary authentication failure");
		break;
	}
}

/* Always on a later loop turn: freeing the exchange here is safe. */
static void
sasl_status(struct ps_sasl *sasl, int status, const char *challenge,
	    void *arg)
{
	struct imap_session *s = arg;

	s->sasl_wait = 0;
	if (s->closed || ps_conn_closing(s->conn)) {
		ps_sasl_free(sasl);
		s->sasl = NULL;
		imap_unwait(s);
		return;
	}
	if (status == PS_SASL_CONTINUE) {
		/* RFC 9051 7.5: "+" SP base64 (maybe empty). */
		imap_printf(s, "+ %s\r\n", challenge);
		s->sasl_reply = 1;
	} else {
		if (status == PS_SASL_OK)
			login_open(s, ps_sasl_user(sasl));
		else
			sasl_failed(s, status);
		ps_sasl_free(sasl);
		s->sasl = NULL;
	}
	imap_unwait(s);
}

static int
sasl_started(struct imap_session *s)
{
	if (!s->sasl) {
		imap_no(s, "UNAVAILABLE", "Out of memory");
		imap_unwait(s);
	} else {
		s->sasl_wait = 1;
	}
	return 0;
}

/* ---- Commands ------------------------------------------------------- */

static int
tls_first(struct imap_session *s)
{
	unsigned tls = ps_conn_tls(s->conn);

	return (tls & PS_TLS_REQUIRED) && !(tls & PS_TLS_ACTIVE);
}

/* "LOGIN" SP userid SP password; refused while LOGINDISABLED. */
int
imap_cmd_login(struct imap_session *s)
{
	const char *user, *pass;
	size_t ulen, plen;

	if (s->nargs != 2 ||
	    imap_arg_get_astring(&s->args[0], &user, &ulen) < 0 ||
	    imap_arg_get_astring(&s->args[1], &pass, &plen) < 0)
		return imap_bad(s, "LOGIN needs a user name and a password");
	if (tls_first(s) || !ps_sasl_mechanisms(s->conn)[0])
		return imap_no(s, "PRIVACYREQUIRED", "Plaintext login is "
			       "disabled, use STARTTLS first");
	if (strlen(user) != ulen || strlen(pass) != plen)
		return imap_no(s, "AUTHENTICATIONFAILED", "Authentication "
			       "failed");
	imap_wait(s);
	s->sasl = ps_auth_login(s->conn, user, pass, sasl_status, s);
	return sasl_started(s);
}

/* "AUTHENTICATE" SP auth-type [SP initial-response] (RFC 4959: "=" is an
 * empty initial response). */
int
imap_cmd_authenticate(struct imap_session *s)
{
	const char *mech, *initial = NULL;
	size_t len;

	if (s->nargs < 1 || s->nargs > 2 ||
	    imap_arg_get_atom(&s->args[0], &mech) < 0 ||
	    (s->nargs == 2 &&
	     imap_arg_get_word(&s->args[1], &initial, &len) < 0))
		return imap_bad(s, "AUTHENTICATE needs a mechanism and "
				"maybe an initial response");
	if (tls_first(s))
		return imap_no(s, "PRIVACYREQUIRED", "Use STARTTLS first");
	imap_wait(s);
	s->sasl = ps_sasl_start(s->conn, mech, initial, sasl_status, s);
	return sasl_started(s);
}

/* The client's answer to a "+": a base64 line, or "*" (the core
 * reports ECANCEL). */
int
imap_auth_answer(struct imap_session *s, const char *line, size_t len,
		 unsigned flags)
{
	s->sasl_reply = 0;
	if (flags & PS_LINE_TOOLONG) {
		ps_sasl_free(s->sasl);
		s->sasl = NULL;
		return imap_bad(s, "Authentication line too long");
	}
	imap_wait(s);
	s->sasl_wait = 1;
	ps_sasl_respond(s->sasl, line, len);
	return 0;
}

/* RFC 9051 6.2.1: OK, then the handshake; the core drops whatever was
 * pipelined after the command (it would be plaintext injection). */
int
imap_cmd_starttls(struct imap_session *s)
{
	unsigned tls = ps_conn_tls(s->conn);

	if (s->nargs)
		return imap_bad(s, "STARTTLS takes no arguments");
	if (tls & PS_TLS_ACTIVE)
		return imap_bad(s, "TLS is active already");
	if (!(tls & PS_TLS_OFFERED))
		return imap_no(s, "UNAVAILABLE", "TLS is not available");
	imap_ok(s, "Begin TLS negotiation now");
	return ps_conn_starttls(s->conn) < 0 ? PS_EIO : 0;
}
