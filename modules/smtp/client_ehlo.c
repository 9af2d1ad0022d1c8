/* What a server offers, from its 250 reply to EHLO (RFC 5321 4.1.1.1:
 * one ehlo-keyword and its parameters per line, case-insensitive):
 * SIZE (RFC 1870 4), PIPELINING (RFC 2920), STARTTLS (RFC 3207),
 * 8BITMIME (RFC 6152), SMTPUTF8 (RFC 6531), CHUNKING (RFC 3030), DSN (RFC
 * 3461), ENHANCEDSTATUSCODES (RFC 2034), REQUIRETLS (RFC 8689) and AUTH
 * (RFC 4954 3, and the "AUTH=" of servers older than it). Pure. */
#include <strings.h>

#include "client.h"

static const struct {
	const char *name;
	unsigned flag;
} keywords[] = {
	{"SIZE", SMTPC_CAP_SIZE},
	{"PIPELINING", SMTPC_CAP_PIPELINING},
	{"STARTTLS", SMTPC_CAP_STARTTLS},
	{"8BITMIME", SMTPC_CAP_8BITMIME},
	{"SMTPUTF8", SMTPC_CAP_SMTPUTF8},
	{"CHUNKING", SMTPC_CAP_CHUNKING},
	{"DSN", SMTPC_CAP_DSN},
	{"ENHANCEDSTATUSCODES", SMTPC_CAP_ENHANCED},
	{"REQUIRETLS", SMTPC_CAP_REQUIRETLS},
	{"AUTH", SMTPC_CAP_AUTH},
};

static int
word_is(const char *s, size_t len, const char *name)
{
	size_t n = 0;

	while (name[n])
		n++;
	return len == n && strncasecmp(s, name, n) == 0;
}

/* RFC 1870 4: "SIZE" [SP 1*20DIGIT]; 0 is "no fixed limit", and so is
 * a number that does not fit. */
static uint64_t
size_param(const char *s, size_t len)
{
	uint64_t n = 0;

	if (len == 0 || len > 20)
		return 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9' || n > (UINT64_MAX - 9) / 10)
			return 0;
		n = n * 10 + (uint64_t)(s[i] - '0');
	}
	return n;
}

/* The SASL mechanisms we can use among AUTH's parameters. */
static unsigned
auth_params(const char *s, size_t len)
{
	unsigned found = 0;
	size_t i = 0;

	while (i < len) {
		size_t start = i;

		while (i < len && s[i] != ' ')
			i++;
		if (word_is(s + start, i - start, "PLAIN"))
			found |= SMTPC_AUTH_PLAIN;
		else if (word_is(s + start, i - start, "LOGIN"))
			found |= SMTPC_AUTH_LOGIN;
		while (i < len && s[i] == ' ')
			i++;
	}
	return found;
}

void
smtpc_caps_line(struct smtpc_caps *caps, const char *s, size_t len)
{
	size_t k = 0, p;
	unsigned flag = 0;

	while (len > 0 && s[len - 1] == ' ')
		len--;

	while (k < len && s[k] != ' ' && s[k] != '=')
		k++;
	for (size_t i = 0; i < sizeof(keywords) / sizeof(keywords[0]); i++)
		if (word_is(s, k, keywords[i].name))
			flag = keywords[i].flag;
	if (!flag || (k < len && s[k] == '=' && flag != SMTPC_CAP_AUTH))
		return;
	caps->flags |= flag;
	for (p = k; p < len && (s[p] == ' ' || s[p] == '='); p++)
		continue;
	if (flag == SMTPC_CAP_SIZE)
		caps->size = size_param(s + p, len - p);
	else if (flag == SMTPC_CAP_AUTH)
		caps->auth |= auth_params(s + p, len - p);
}
