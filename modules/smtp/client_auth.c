/* AUTH for a smarthost (RFC 4954): PLAIN with its initial response (RFC
 * 4616, RFC 4954 4), else LOGIN (the user, then the password, each in
 * base64 after a 334), only over TLS unless the caller allows plain
 * text, since both send the password as it is. Pure. */
#include <stdlib.h>
#include <string.h>

#include "client_private.h"

/* Base64 of RFC 4648 4, with padding, appended to o. */
static void
base64_out(struct smtpc_out *o, const unsigned char *in, size_t len)
{
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				  "abcdefghijklmnopqrstuvwxyz0123456789+/";
	char *p = smtpc_out_room(o, (len + 2) / 3 * 4);
	size_t n = 0;

	if (!p)
		return;
	for (; len >= 3; in += 3, len -= 3) {
		p[n++] = b64[in[0] >> 2];
		p[n++] = b64[(in[0] & 3) << 4 | in[1] >> 4];
		p[n++] = b64[(in[1] & 15) << 2 | in[2] >> 6];
		p[n++] = b64[in[2] & 63];
	}
	if (len > 0) {
		unsigned char b1 = len > 1 ? in[1] : 0;

		p[n++] = b64[in[0] >> 2];
		p[n++] = b64[(in[0] & 3) << 4 | b1 >> 4];
		p[n++] = len > 1 ? b64[(b1 & 15) << 2] : '=';
		p[n++] = '=';
	}
	o->len += n;
}

/* RFC 4616 2: message = [authzid] NUL authcid NUL passwd, in base64. */
static void
plain_out(struct smtpc *c)
{
	const char *user = c->o.auth_user, *pass = c->o.auth_pass;
	size_t ul = strlen(user), pl = strlen(pass);
	unsigned char *msg = malloc(ul + pl + 2);

	if (!msg) {
		c->out.err = SMTPC_ENOMEM;
		return;
	}
	msg[0] = '\0';
	memcpy(msg + 1, user, ul);
	msg[ul + 1] = '\0';
	memcpy(msg + ul + 2, pass, pl);
	base64_out(&c->out, msg, ul + pl + 2);
	memset(msg, 0, ul + pl + 2);
	free(msg);
}

static void
line_out(struct smtpc *c, const char *s)
{
	base64_out(&c->out, (const unsigned char *)s, strlen(s));
	smtpc_out_str(&c->out, "\r\n");
}

int
smtpc_auth_start(struct smtpc *c)
{
	if (!c->tls && !c->o.auth_plaintext)
		return smtpc_fail(c,
				  smtpc_local(c, 451, "4.7.11",
					      "AUTH needs TLS, and the "
					      "session has none"),
				  0);
	c->auth_step = 0;
	if (c->caps.auth & SMTPC_AUTH_PLAIN) {
		c->auth_mech = SMTPC_AUTH_PLAIN;
		smtpc_out_str(&c->out, "AUTH PLAIN ");
		plain_out(c);
		smtpc_out_str(&c->out, "\r\n");
	} else if (c->caps.auth & SMTPC_AUTH_LOGIN) {
		c->auth_mech = SMTPC_AUTH_LOGIN;
		smtpc_out_str(&c->out, "AUTH LOGIN\r\n");
	} else {
		return smtpc_fail(c,
				  smtpc_local(c, 451, "4.7.0",
					      "the server offers no AUTH "
					      "PLAIN or LOGIN"),
				  0);
	}
	c->state = S_AUTH;
	return 0;
}

/* 235: in. 334: LOGIN's prompts, the user then the password (the
 * challenge texts vary between servers, so only their order counts);
 * any other prompt is cancelled with "*" (RFC 4954 4) and the server's
 * refusal follows. Anything else: the session fails with the reply. */
int
smtpc_auth_reply(struct smtpc *c, const struct smtpc_reply *r)
{
	if (r->code == 235) {
		c->authed = 1;
		c->state = S_READY;
		return SMTPC_EV_READY;
	}
	if (r->code != 334)
		return smtpc_fail(c, r, 0);
	if (c->auth_mech == SMTPC_AUTH_LOGIN && c->auth_step < 2)
		line_out(c, c->auth_step == 0 ? c->o.auth_user
					      : c->o.auth_pass);
	else
		smtpc_out_str(&c->out, "*\r\n");
	c->auth_step++;
	return 0;
}
