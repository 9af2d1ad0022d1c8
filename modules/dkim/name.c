/* Names for d= and s= (RFC 6376 3.5: domain-name and selector, which
 * are sub-domains of RFC 5321 4.1.2), checked before they reach a
 * header field or a file name. */
#include <string.h>

#include "dkim_private.h"

#define LABEL_MAX 63
#define NAME_MAX_LEN 253

static int
let_dig(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9');
}

/* The length of the label at p when it is one (Let-dig [Ldh-str]),
 * else 0. */
static size_t
label(const char *p)
{
	size_t n = 0;

	while (p[n] && p[n] != '.' && (let_dig(p[n]) || p[n] == '-'))
		n++;
	if (n == 0 || n > LABEL_MAX || (p[n] && p[n] != '.'))
		return 0;
	return let_dig(p[0]) && let_dig(p[n - 1]) ? n : 0;
}

int
dkim_check_name(const char *what, const char *name, struct ps_error *err)
{
	const char *p = name;
	size_t n;

	if (strlen(name) > NAME_MAX_LEN)
		return dkim_error(err, DKIM_EINVAL, "%s longer than %d octets",
				  what, NAME_MAX_LEN);
	for (;;) {
		if (!(n = label(p)))
			return dkim_error(err, DKIM_EINVAL, "%s '%s' is not a "
					  "domain name (letters, digits, "
					  "hyphens, dots)", what, name);
		p += n;
		if (!*p)
			return DKIM_OK;
		p++; /* the dot: a label must follow */
	}
}
