/* SMTP command lines (RFC 5321 4.1.1): the verb, MAIL and RCPT with
 * their parameters, SIZE (RFC 1870), BODY (RFC 6152), SMTPUTF8 (RFC
 * 6531), RET, ENVID, NOTIFY, ORCPT (RFC 3461) and AUTH (RFC 4954 5), and
 * BDAT (RFC 3030 2). Pure: no SDK calls; paths are address.c's, xtext is
 * libpsdsn's. */
#include <string.h>
#include <strings.h>

#include "command.h"
#include "dsn.h"

static const struct {
	const char *name;
	enum smtp_verb verb;
} verbs[] = {
	{"EHLO", SMTP_V_EHLO}, {"HELO", SMTP_V_HELO}, {"MAIL", SMTP_V_MAIL},
	{"RCPT", SMTP_V_RCPT}, {"DATA", SMTP_V_DATA}, {"BDAT", SMTP_V_BDAT},
	{"RSET", SMTP_V_RSET}, {"NOOP", SMTP_V_NOOP}, {"QUIT", SMTP_V_QUIT},
	{"VRFY", SMTP_V_VRFY}, {"EXPN", SMTP_V_EXPN}, {"HELP", SMTP_V_HELP},
	{"STARTTLS", SMTP_V_STARTTLS}, {"AUTH", SMTP_V_AUTH},
};

enum smtp_verb
smtp_verb_parse(const char *line, size_t len, size_t *args_r)
{
	size_t n = 0, i;

	while (n < len && line[n] != ' ')
		n++;
	for (i = n; i < len && line[i] == ' '; i++)
		continue;
	*args_r = i;
	for (size_t k = 0; k < sizeof(verbs) / sizeof(verbs[0]); k++)
		if (strlen(verbs[k].name) == n &&
		    strncasecmp(line, verbs[k].name, n) == 0)
			return verbs[k].verb;
	return SMTP_V_UNKNOWN;
}

/* ---- Parameters ------------------------------------------------------ */

struct param {
	const char *key, *val; /* val NULL: no "=value" */
	size_t klen, vlen;
};

/* Takes one parameter of a MAIL or RCPT; seen: bits of those before. */
typedef int (*param_fn)(void *cmd, const struct param *pm, unsigned *seen);

/* The next esmtp-param = esmtp-keyword ["=" esmtp-value] from s[*i_r]
 * (RFC 5321 4.1.2; RFC 6531 3.3 lets values hold UTF-8). Returns 1 with
 * *pm, 0 at the end, -1 on bad syntax. Spaces at the end are let go. */
static int
next_param(const char *s, size_t len, size_t *i_r, struct param *pm)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = *i_r, v, n;

	while (i < len && p[i] == ' ')
		i++;
	*i_r = i;
	if (i == len)
		return 0;
	if (!smtp_is_letdig(p[i]))
		return -1;
	pm->key = s + i;
	while (i < len && (smtp_is_letdig(p[i]) || p[i] == '-'))
		i++;
	pm->klen = (size_t)(s + i - pm->key);
	pm->val = NULL;
	pm->vlen = 0;
	if (i < len && p[i] == '=') {
		for (v = ++i; i < len && p[i] != ' '; i += n) {
			if (p[i] >= 33 && p[i] <= 126 && p[i] != '=')
				n = 1;
			else if (p[i] >= 0x80)
				n = smtp_utf8_seq(p + i, len - i);
			else
				n = 0;
			if (!n)
				return -1;
		}
		if (i == v)
			return -1;
		pm->val = s + v;
		pm->vlen = i - v;
	}
	if (i < len && p[i] != ' ')
		return -1;
	*i_r = i;
	return 1;
}

static int
word_is(const char *s, size_t len, const char *word)
{
	return len == strlen(word) && strncasecmp(s, word, len) == 0;
}

/* SIZE=1*20DIGIT (RFC 1870 3); past UINT64_MAX reads as UINT64_MAX,
 * which no limit allows. */
static int
param_size(const struct param *pm, uint64_t *size_r)
{
	uint64_t n = 0;

	if (!pm->val || pm->vlen > 20)
		return SMTP_P_PARAM;
	for (size_t i = 0; i < pm->vlen; i++) {
		unsigned d = (unsigned)(pm->val[i] - '0');

		if (!smtp_is_digit(pm->val[i]))
			return SMTP_P_PARAM;
		n = n > (UINT64_MAX - d) / 10 ? UINT64_MAX : n * 10 + d;
	}
	*size_r = n;
	return SMTP_P_OK;
}

/* BODY=7BIT|8BITMIME (RFC 6152 2). BINARYMIME (RFC 3030 3) is a value
 * of an extension we do not offer. */
static int
param_body(const struct param *pm, int *body_r)
{
	if (!pm->val)
		return SMTP_P_PARAM;
	if (word_is(pm->val, pm->vlen, "7BIT"))
		*body_r = SMTP_BODY_7BIT;
	else if (word_is(pm->val, pm->vlen, "8BITMIME"))
		*body_r = SMTP_BODY_8BITMIME;
	else
		return word_is(pm->val, pm->vlen, "BINARYMIME") ?
			SMTP_P_UNKNOWN : SMTP_P_PARAM;
	return SMTP_P_OK;
}

static int
param_ret(const struct param *pm, int *ret_r)
{
	if (pm->val && word_is(pm->val, pm->vlen, "FULL"))
		*ret_r = SMTP_RET_FULL;
	else if (pm->val && word_is(pm->val, pm->vlen, "HDRS"))
		*ret_r = SMTP_RET_HDRS;
	else
		return SMTP_P_PARAM;
	return SMTP_P_OK;
}

/* Copy an xtext value (libpsdsn's check, RFC 3461 4) of at most max
 * octets into out. */
static int
param_xtext(const struct param *pm, char *out, size_t max)
{
	if (!pm->val || pm->vlen > max || !dsn_xtext_valid(pm->val, pm->vlen))
		return SMTP_P_PARAM;
	memcpy(out, pm->val, pm->vlen);
	out[pm->vlen] = '\0';
	return SMTP_P_OK;
}

enum mail_key {
	MK_SIZE, MK_BODY, MK_SMTPUTF8, MK_RET, MK_ENVID, MK_AUTH, MK_REQUIRETLS
};

static const char *const mail_keys[] = {
	"SIZE", "BODY", "SMTPUTF8", "RET", "ENVID", "AUTH", "REQUIRETLS", NULL,
};

static int
key_index(const struct param *pm, const char *const *keys)
{
	for (int k = 0; keys[k]; k++)
		if (word_is(pm->key, pm->klen, keys[k]))
			return k;
	return -1;
}

static int
mail_param(void *cmd, const struct param *pm, unsigned *seen)
{
	struct smtp_mail *m = cmd;
	char auth[SMTP_ORCPT_MAX + 1];
	int k = key_index(pm, mail_keys);

	if (k < 0)
		return SMTP_P_UNKNOWN;
	if (*seen & (1u << k))
		return SMTP_P_PARAM;
	*seen |= 1u << k;
	switch ((enum mail_key)k) {
	case MK_SIZE:
		return param_size(pm, &m->size);
	case MK_BODY:
		return param_body(pm, &m->body);
	case MK_SMTPUTF8:
		m->smtputf8 = 1;
		return pm->val ? SMTP_P_PARAM : SMTP_P_OK;
	case MK_RET:
		return param_ret(pm, &m->ret);
	case MK_ENVID:
		return param_xtext(pm, m->envid, SMTP_ENVID_MAX);
	case MK_AUTH:
		/* RFC 4954 5: AUTH=<> or the xtext of a mailbox. It asserts
		 * nothing we rely on, so it is checked and noted only. */
		m->auth = 1;
		if (pm->val && word_is(pm->val, pm->vlen, "<>"))
			return SMTP_P_OK;
		return param_xtext(pm, auth, SMTP_ORCPT_MAX);
	case MK_REQUIRETLS:
		/* RFC 8689 4.1: a keyword with no value. */
		m->requiretls = 1;
		return pm->val ? SMTP_P_PARAM : SMTP_P_OK;
	}
	return SMTP_P_UNKNOWN;
}

/* NOTIFY=NEVER or a list of SUCCESS, FAILURE, DELAY (RFC 3461 4.1). */
static int
param_notify(const struct param *pm, unsigned *notify_r)
{
	static const char *const words[] = {"NEVER", "SUCCESS", "FAILURE",
					    "DELAY", NULL};
	size_t i = 0;
	unsigned got = 0;

	if (!pm->val)
		return SMTP_P_PARAM;
	while (i < pm->vlen) {
		const char *w = pm->val + i, *comma;
		size_t n;
		int k;

		comma = memchr(w, ',', pm->vlen - i);
		n = comma ? (size_t)(comma - w) : pm->vlen - i;
		for (k = 0; words[k] && !word_is(w, n, words[k]); k++)
			continue;
		if (!words[k] || (got & (1u << k)))
			return SMTP_P_PARAM;
		got |= 1u << k;
		i += n + (comma ? 1 : 0);
		if (comma && i == pm->vlen)
			return SMTP_P_PARAM;
	}
	if ((got & SMTP_NOTIFY_NEVER) && got != SMTP_NOTIFY_NEVER)
		return SMTP_P_PARAM;
	*notify_r = got;
	return SMTP_P_OK;
}

/* ORCPT=addr-type ";" xtext (RFC 3461 4.2); for the "utf-8" type of RFC
 * 6533 the value is only bounded, its escapes are the relay's affair. */
static int
param_orcpt(const struct param *pm, char *out)
{
	const char *semi = pm->val ? memchr(pm->val, ';', pm->vlen) : NULL;
	size_t tlen = semi ? (size_t)(semi - pm->val) : 0;

	if (!semi || tlen == 0 || pm->vlen > SMTP_ORCPT_MAX ||
	    semi + 1 == pm->val + pm->vlen)
		return SMTP_P_PARAM;
	for (size_t i = 0; i < tlen; i++)
		if (!smtp_is_atext((unsigned char)pm->val[i]))
			return SMTP_P_PARAM;
	if (word_is(pm->val, tlen, "rfc822") &&
	    !dsn_xtext_valid(semi + 1, pm->vlen - tlen - 1))
		return SMTP_P_PARAM;
	memcpy(out, pm->val, pm->vlen);
	out[pm->vlen] = '\0';
	return SMTP_P_OK;
}

static int
rcpt_param(void *cmd, const struct param *pm, unsigned *seen)
{
	struct smtp_rcpt *r = cmd;
	static const char *const keys[] = {"NOTIFY", "ORCPT", NULL};
	int k = key_index(pm, keys);

	if (k < 0)
		return SMTP_P_UNKNOWN;
	if (*seen & (1u << k))
		return SMTP_P_PARAM;
	*seen |= 1u << k;
	return k == 0 ? param_notify(pm, &r->notify) :
		param_orcpt(pm, r->orcpt);
}

/* "FROM:" or "TO:" (word), spaces (a common liberty), the path, then
 * the parameters, each handed to fn with what was seen so far. */
static int
envelope_parse(const char *s, size_t len, const char *word, int mail,
	       struct smtp_path *p, param_fn fn, void *cmd)
{
	size_t w = strlen(word), i, end;
	unsigned seen = 0;
	struct param pm;
	int r;

	if (len < w || strncasecmp(s, word, w) != 0)
		return SMTP_P_SYNTAX;
	for (i = w; i < len && s[i] == ' '; i++)
		continue;
	if (smtp_path_parse(s + i, len - i, mail, !mail, p, &end) !=
	    SMTP_P_OK || (i + end < len && s[i + end] != ' '))
		return SMTP_P_ADDRESS;
	i += end;
	while ((r = next_param(s, len, &i, &pm)) > 0)
		if ((r = fn(cmd, &pm, &seen)) != SMTP_P_OK)
			return r;
	return r < 0 ? SMTP_P_PARAM : SMTP_P_OK;
}

int
smtp_mail_parse(const char *s, size_t len, struct smtp_mail *m)
{
	memset(m, 0, sizeof(*m));
	return envelope_parse(s, len, "FROM:", 1, &m->path, mail_param, m);
}

int
smtp_rcpt_parse(const char *s, size_t len, struct smtp_rcpt *r)
{
	memset(r, 0, sizeof(*r));
	return envelope_parse(s, len, "TO:", 0, &r->path, rcpt_param, r);
}

int
smtp_bdat_parse(const char *s, size_t len, uint64_t *size_r, int *last_r)
{
	uint64_t n = 0;
	size_t i = 0, sp;

	*last_r = 0;
	if (len == 0 || !smtp_is_digit(s[0]))
		return SMTP_P_SYNTAX;
	for (; i < len && smtp_is_digit(s[i]); i++) {
		unsigned d = (unsigned)(s[i] - '0');

		if (n > (UINT64_MAX - d) / 10)
			return SMTP_P_SYNTAX;
		n = n * 10 + d;
	}
	for (sp = i; i < len && s[i] == ' '; i++)
		continue;
	if (i > sp && i + 4 <= len && strncasecmp(s + i, "LAST", 4) == 0) {
		*last_r = 1;
		for (i += 4; i < len && s[i] == ' '; i++)
			continue;
	}
	if (i != len)
		return SMTP_P_SYNTAX;
	*size_r = n;
	return SMTP_P_OK;
}
