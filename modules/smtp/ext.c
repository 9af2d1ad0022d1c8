/* The "smtp.ext" interface of <poshta/smtp.h>: other modules add EHLO
 * keywords (RFC 5321 4.1.1.1, 2.2.2: private ones start with X) and
 * verbs. The lists live in this module's memory: what init adds in the
 * master is inherited by every worker, what worker_init adds stays in
 * that worker. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "smtpd.h"

#define EXT_MAX 32
#define EXT_VERB_MAX 32
#define EXT_KEYWORD_MAX 500

/* Fixed storage: what modules add lives as long as the process, with
 * nothing to free at exit. */
static char keywords[EXT_MAX][EXT_KEYWORD_MAX + 1];
static size_t nkeywords;

static struct {
	char name[EXT_VERB_MAX + 1];
	ps_smtp_verb_fn fn;
	void *arg;
} verbs[EXT_MAX];
static size_t nverbs;

/* smtp.so's own keywords (ehlo.c), which nobody may add again. */
static const char *const own_keywords[] = {
	"PIPELINING", "SIZE", "8BITMIME", "STARTTLS", "AUTH",
	"ENHANCEDSTATUSCODES", "SMTPUTF8", "CHUNKING", "DSN", NULL,
};

/* ehlo-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-"): its length at
 * the start of s, or 0. */
static size_t
word_len(const char *s)
{
	size_t n = 0;

	if (!smtp_is_letdig((unsigned char)s[0]))
		return 0;
	while (smtp_is_letdig((unsigned char)s[n]) || s[n] == '-')
		n++;
	return n;
}

static int
keyword_known(const char *kw, size_t n)
{
	for (size_t i = 0; own_keywords[i]; i++)
		if (strlen(own_keywords[i]) == n &&
		    strncasecmp(own_keywords[i], kw, n) == 0)
			return 1;
	for (size_t i = 0; i < nkeywords; i++)
		if (word_len(keywords[i]) == n &&
		    strncasecmp(keywords[i], kw, n) == 0)
			return 1;
	return 0;
}

static int
ext_add_keyword(const char *kw)
{
	size_t n, len;

	if (!kw || (len = strlen(kw)) > EXT_KEYWORD_MAX ||
	    !(n = word_len(kw)) || (kw[n] && kw[n] != ' '))
		return PS_EINVAL;
	for (size_t i = 0; i < len; i++)
		if (kw[i] < 32 || kw[i] > 126)
			return PS_EINVAL;
	if (keyword_known(kw, n))
		return PS_EEXIST;
	if (nkeywords == EXT_MAX)
		return PS_ENOMEM;
	memcpy(keywords[nkeywords++], kw, len + 1);
	return 0;
}

static int
verb_index(const char *verb, size_t n)
{
	for (size_t i = 0; i < nverbs; i++)
		if (strlen(verbs[i].name) == n &&
		    strncasecmp(verbs[i].name, verb, n) == 0)
			return (int)i;
	return -1;
}

static int
ext_add_verb(const char *verb, ps_smtp_verb_fn fn, void *arg)
{
	size_t n, ignored;

	if (!verb || !fn || !(n = word_len(verb)) || verb[n] ||
	    n > EXT_VERB_MAX)
		return PS_EINVAL;
	if (smtp_verb_parse(verb, n, &ignored) != SMTP_V_UNKNOWN ||
	    verb_index(verb, n) >= 0)
		return PS_EEXIST;
	if (nverbs == EXT_MAX)
		return PS_ENOMEM;
	memcpy(verbs[nverbs].name, verb, n + 1);
	verbs[nverbs].fn = fn;
	verbs[nverbs].arg = arg;
	nverbs++;
	return 0;
}

const struct ps_smtp_ext smtp_ext = {
	.size = sizeof(struct ps_smtp_ext),
	.add_keyword = ext_add_keyword,
	.add_verb = ext_add_verb,
};

const char *
smtp_ext_keyword(size_t i)
{
	return i < nkeywords ? keywords[i] : NULL;
}

const char *
smtp_ext_verb_name(size_t i)
{
	return i < nverbs ? verbs[i].name : NULL;
}

/* A line whose verb is not smtp.so's: an added verb's, or PS_DECLINED. */
int
smtp_ext_verb(struct smtp_session *s, const char *line, size_t len)
{
	size_t n = 0, a;
	char *args;
	int i, r;

	while (n < len && line[n] != ' ')
		n++;
	if ((i = verb_index(line, n)) < 0)
		return PS_DECLINED;
	for (a = n; a < len && line[a] == ' '; a++)
		continue;
	if (!(args = strndup(line + a, len - a)))
		return PS_ENOMEM;
	smtp_event_fill(s, NULL);
	r = verbs[i].fn(s->conn, args, &s->ev, verbs[i].arg);
	free(args);
	return r;
}
