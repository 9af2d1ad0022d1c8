/* EHLO and HELO (RFC 5321 4.1.1.1, 4.1.4: both reset the transaction),
 * the service extensions EHLO offers (RFC 1870 SIZE, 6152 8BITMIME,
 * 2920 PIPELINING, 3207 STARTTLS, 4954 AUTH, 2034 ENHANCEDSTATUSCODES,
 * 6531 SMTPUTF8, 3030 CHUNKING, 3461 DSN, 8689 REQUIRETLS (on TLS only),
 * and those other modules add
 * through smtp.ext), and HELP (4.1.1.8). */
#include <stdio.h>
#include <string.h>

#include "smtpd.h"

#define EHLO_LINES 64

/* The EHLO reply: the greeting line, then one keyword per line. RFC 2034
 * 3: no enhanced codes in replies to EHLO and HELO. */
static void
ehlo_reply(struct smtp_session *s)
{
	const char *lines[EHLO_LINES + 16], *mechs, *kw;
	char size[32], auth[256];
	size_t n = 0;

	snprintf(size, sizeof(size), "SIZE %llu",
		 (unsigned long long)smtp_cfg.max_size);
	lines[n++] = smtp_cfg.hostname;
	lines[n++] = "PIPELINING";
	lines[n++] = size;
	lines[n++] = "8BITMIME";
	if ((ps_conn_tls(s->conn) & PS_TLS_OFFERED))
		lines[n++] = "STARTTLS";
	/* Only what may be used now: no plaintext mechanism before TLS
	 * unless the listener allows it (auth_plaintext). */
	mechs = ps_sasl_mechanisms(s->conn);
	if (mechs && mechs[0] && !s->user[0]) {
		snprintf(auth, sizeof(auth), "AUTH %s", mechs);
		lines[n++] = auth;
	}
	lines[n++] = "ENHANCEDSTATUSCODES";
	lines[n++] = "SMTPUTF8";
	lines[n++] = "CHUNKING";
	lines[n++] = "DSN";
	/* RFC 8689 4.1: offered only where the session itself is TLS. */
	if (ps_conn_tls(s->conn) & PS_TLS_ACTIVE)
		lines[n++] = "REQUIRETLS";
	for (size_t i = 0; n < EHLO_LINES && (kw = smtp_ext_keyword(i)); i++)
		lines[n++] = kw;
	for (size_t i = 0; i + 1 < n; i++)
		ps_conn_printf(s->conn, "250-%s\r\n", lines[i]);
	smtp_reply(s, "250 %s", lines[n - 1]);
}

static void
ehlo_next(struct smtp_session *s, int pass)
{
	if (!pass) {
		s->helo[0] = '\0';
		s->state = SMTP_INIT;
		return;
	}
	s->state = SMTP_READY;
	if (s->esmtp)
		ehlo_reply(s);
	else
		smtp_reply(s, "250 %s", smtp_cfg.hostname);
}

int
smtp_cmd_ehlo(struct smtp_session *s, const char *args, size_t len,
	      int esmtp)
{
	while (len > 0 && args[len - 1] == ' ')
		len--;
	if (!smtp_helo_ok(args, len))
		return smtp_reply(s, "501 5.5.4 Syntax: %s hostname",
				  esmtp ? "EHLO" : "HELO");
	smtp_txn_reset(s);
	memcpy(s->helo, args, len);
	s->helo[len] = '\0';
	s->esmtp = esmtp;
	s->state = SMTP_INIT;
	smtp_hook(s, PS_SMTP_HOOK_HELO, ehlo_next);
	return 0;
}

int
smtp_cmd_help(struct smtp_session *s)
{
	const char *verb;

	ps_conn_printf(s->conn, "214-2.0.0 Commands: EHLO HELO MAIL RCPT DATA "
		       "BDAT RSET NOOP QUIT VRFY HELP STARTTLS AUTH");
	for (size_t i = 0; (verb = smtp_ext_verb_name(i)); i++)
		ps_conn_printf(s->conn, " %s", verb);
	ps_conn_printf(s->conn, "\r\n");
	return smtp_reply(s, "214 2.0.0 End of HELP (RFC 5321)");
}
