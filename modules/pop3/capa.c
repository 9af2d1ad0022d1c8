/* CAPA (RFC 2449 5): what this session may use now. USER and the SASL
 * mechanisms appear only where passwords may be sent (RFC 2595 4); STLS
 * only before login while TLS is offered and not active. */
#include "pop3d.h"

int
pop3_cmd_capa(struct pop3_session *s, const struct pop3_cmd *cmd)
{
	struct ps_conn *c = s->conn;
	unsigned tls = ps_conn_tls(c);
	int plain = pop3_plaintext_allowed(s);
	int before = s->state == POP3_AUTHORIZATION;
	const char *mechs = ps_sasl_mechanisms(c);

	(void)cmd;
	pop3_ok(s, "Capability list follows");
	ps_conn_printf(c, "TOP\r\nUIDL\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\n"
		       "PIPELINING\r\nIMPLEMENTATION Poshta\r\n");
	if (before && plain)
		ps_conn_printf(c, "USER\r\n");
	/* RFC 5034 6: the mechanisms usable now. */
	if (before && plain && mechs[0])
		ps_conn_printf(c, "SASL %s\r\n", mechs);
	if (before && (tls & PS_TLS_OFFERED) && !(tls & PS_TLS_ACTIVE))
		ps_conn_printf(c, "STLS\r\n");
	/* RFC 6856 2: "USER" says USER/PASS take UTF-8 too. */
	if (before)
		ps_conn_printf(c, "UTF8%s\r\n", plain ? " USER" : "");
	return ps_conn_write(c, ".\r\n", 3);
}
