/* The two mechanisms that carry a password in the clear, over TLS:
 * PLAIN (RFC 4616 section 2: [authzid] NUL authcid NUL passwd) and LOGIN
 * (draft-murchison-sasl-login-00: the user name and the password, each
 * answering its own challenge), and the rules for such fields (RFC 4616's
 * bounds, RFC 3629 UTF-8) that plain logins follow too. */
#include "config.h"

#include <string.h>
#include <strings.h>

#include "sasl.h"

/* ---- Fields ----------------------------------------------------------- */

/* RFC 3629 section 4: well-formed UTF-8 (no overlong forms, surrogates
 * or code points past U+10FFFF). */
static int
utf8_ok(const unsigned char *p, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned char b = p[i++], lo = 0x80, hi = 0xbf;
		size_t more;

		if (b < 0x80)
			continue;
		if (b >= 0xc2 && b <= 0xdf)
			more = 1;
		else if (b >= 0xe0 && b <= 0xef)
			more = 2;
		else if (b >= 0xf0 && b <= 0xf4)
			more = 3;
		else
			return 0;
		if (n - i < more)
			return 0;
		/* The second byte's range excludes overlong forms,
		 * surrogates and code points past U+10FFFF. */
		if (b == 0xe0)
			lo = 0xa0;
		else if (b == 0xed)
			hi = 0x9f;
		else if (b == 0xf0)
			lo = 0x90;
		else if (b == 0xf4)
			hi = 0x8f;
		for (; more; more--, i++, lo = 0x80, hi = 0xbf)
			if (p[i] < lo || p[i] > hi)
				return 0;
	}
	return 1;
}

int
ps_sasl_field_ok(const void *p, size_t n)
{
	return n >= 1 && n <= PS_SASL_FIELD_MAX && !memchr(p, '\0', n) &&
		utf8_ok(p, n);
}

/* ---- PLAIN ------------------------------------------------------------ */

/* RFC 4616 section 2: authzid is optional; we act for no one else, so a
 * given one must name the authcid itself (section 3 leaves the policy to
 * the server; names compare without regard to ASCII case). */
static int
plain_message(struct ps_sasl *s, const unsigned char *in, size_t len)
{
	const unsigned char *nul1 = memchr(in, '\0', len), *nul2 = NULL;
	const char *authzid = (const char *)in, *authcid, *passwd;
	size_t alen, clen, plen;

	if (nul1)
		nul2 = memchr(nul1 + 1, '\0', len - (size_t)(nul1 - in) - 1);
	if (!nul2)
		return PS_SASL_EMALFORMED;
	authcid = (const char *)nul1 + 1;
	passwd = (const char *)nul2 + 1;
	alen = (size_t)(nul1 - in);
	clen = (size_t)(nul2 - nul1) - 1;
	plen = len - (size_t)(nul2 - in) - 1;
	if ((alen && !ps_sasl_field_ok(authzid, alen)) ||
	    !ps_sasl_field_ok(passwd, plen))
		return PS_SASL_EMALFORMED;
	if (alen && (alen != clen || strncasecmp(authzid, authcid, alen)))
		return ps_sasl_deny(s, authcid, clen, "authzid");
	return ps_sasl_verify(s, authcid, clen, passwd, plen);
}

/* No initial response: RFC 4422 section 5 wants an empty challenge. */
static int
plain_start(struct ps_sasl *s, void *state, const unsigned char *in,
	    size_t len)
{
	(void)state;
	if (!in)
		return ps_sasl_challenge(s, "", 0);
	return plain_message(s, in, len);
}

static int
plain_step(struct ps_sasl *s, void *state, const unsigned char *in,
	   size_t len)
{
	(void)state;
	return plain_message(s, in, len);
}

const struct ps_sasl_mech ps_sasl_plain = {
	.name = "PLAIN",
	.plaintext = 1,
	.start = plain_start,
	.step = plain_step,
};

/* ---- LOGIN ------------------------------------------------------------ */

struct login_state {
	size_t ulen; /* 0 until the user name came */
	char user[PS_SASL_FIELD_MAX];
};

static int
login_user(struct ps_sasl *s, struct login_state *st, const unsigned char *in,
	   size_t len)
{
	if (!ps_sasl_field_ok(in, len))
		return PS_SASL_EMALFORMED;
	memcpy(st->user, in, len);
	st->ulen = len;
	return ps_sasl_challenge(s, "Password:", 9);
}

/* The initial response, when given, is the user name (as clients that
 * send one do, e.g. with SMTP "AUTH LOGIN dXNlcg=="). */
static int
login_start(struct ps_sasl *s, void *state, const unsigned char *in,
	    size_t len)
{
	if (!in)
		return ps_sasl_challenge(s, "Username:", 9);
	return login_user(s, state, in, len);
}

static int
login_step(struct ps_sasl *s, void *state, const unsigned char *in,
	   size_t len)
{
	struct login_state *st = state;

	if (!st->ulen)
		return login_user(s, st, in, len);
	return ps_sasl_verify(s, st->user, st->ulen, (const char *)in, len);
}

const struct ps_sasl_mech ps_sasl_login = {
	.name = "LOGIN",
	.plaintext = 1,
	.state_size = sizeof(struct login_state),
	.start = login_start,
	.step = login_step,
};
