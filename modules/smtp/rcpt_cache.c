/* The recipient cache: RCPT's answer for an address, kept for a moment
 * in each worker, so that an MX taking many messages for the same users
 * does not ask the auth backend (a thread pool round trip and a database
 * read) for every one of them; Dovecot's auth cache does the same for
 * logins.
 *
 * Only answers that cannot cost a message are kept: an address that is
 * ours and resolves, whose every local user the backend knew and has no
 * quota (a quota needs the store's usage, which each delivery changes).
 * Unknown addresses are asked each time, so a new user gets mail at
 * once. A user removed or disabled, or an alias changed, is seen within
 * recipient_cache_ttl: the window a message has anyway between its RCPT
 * and its end of data. Loop thread only; a fixed table of slots picked
 * by a hash of the address, a newer answer taking an older one's slot. */
#include <stdlib.h>
#include <string.h>

#include "smtpd.h"

#define RC_SLOTS 1024 /* a power of two */

struct rc_entry {
	char *addr;      /* NULL: a free slot */
	uint64_t expires; /* ps_now_ms() */
	int remote;
	char **users;
	size_t nusers;
	char **forwards;
	size_t nforwards;
};

static struct rc_entry *slots;

static struct rc_entry *
rc_slot(const char *addr)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (const unsigned char *p = (const unsigned char *)addr; *p; p++)
		h = (h ^ *p) * 16777619u;
	return &slots[h & (RC_SLOTS - 1)];
}

static void
rc_strings_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void
rc_clear(struct rc_entry *e)
{
	free(e->addr);
	rc_strings_free(e->users, e->nusers);
	rc_strings_free(e->forwards, e->nforwards);
	*e = (struct rc_entry){0};
}

/* A copy of n strings, NULL when out of memory (or n is 0). */
static char **
rc_strings_dup(char *const *v, size_t n)
{
	char **c = n ? calloc(n, sizeof(*c)) : NULL;

	for (size_t i = 0; c && i < n; i++)
		if (!(c[i] = strdup(v[i]))) {
			rc_strings_free(c, i);
			return NULL;
		}
	return c;
}

static int
rc_cacheable(const struct smtp_lookup *l)
{
	if (!smtp_cfg.rcpt_cache_ms || l->kind != SMTP_LOOK_RCPT ||
	    l->postmaster || l->result != 0 || l->checked != l->nusers)
		return 0;
	for (size_t i = 0; i < l->nusers; i++)
		if (l->quotas[i])
			return 0;
	return 1;
}

void
smtp_rcpt_cache_put(const struct smtp_lookup *l)
{
	struct rc_entry *e, n = {0};

	if (!rc_cacheable(l) ||
	    (!slots && !(slots = calloc(RC_SLOTS, sizeof(*slots)))))
		return;
	n.addr = strdup(l->addr);
	n.users = rc_strings_dup(l->users, l->nusers);
	n.forwards = rc_strings_dup(l->forwards, l->nforwards);
	n.nusers = n.users ? l->nusers : 0;
	n.nforwards = n.forwards ? l->nforwards : 0;
	if (!n.addr || n.nusers != l->nusers ||
	    n.nforwards != l->nforwards) {
		rc_clear(&n);
		return;
	}
	n.remote = l->remote;
	n.expires = ps_now_ms() + smtp_cfg.rcpt_cache_ms;
	e = rc_slot(l->addr);
	rc_clear(e);
	*e = n;
}

/* Fill l (an RCPT lookup not started) from the cache: 1 on a hit, 0 when
 * the backend must be asked. */
int
smtp_rcpt_cache_get(struct smtp_lookup *l)
{
	struct rc_entry *e;
	char **users, **forwards;
	uint64_t *quotas;

	if (!slots || l->kind != SMTP_LOOK_RCPT || l->postmaster)
		return 0;
	e = rc_slot(l->addr);
	if (!e->addr || strcmp(e->addr, l->addr) != 0)
		return 0;
	if (ps_now_ms() >= e->expires) {
		rc_clear(e);
		return 0;
	}
	users = rc_strings_dup(e->users, e->nusers);
	forwards = rc_strings_dup(e->forwards, e->nforwards);
	quotas = e->nusers ? calloc(e->nusers, sizeof(*quotas)) : NULL;
	if ((e->nusers && (!users || !quotas)) || (e->nforwards && !forwards)) {
		rc_strings_free(users, users ? e->nusers : 0);
		rc_strings_free(forwards, forwards ? e->nforwards : 0);
		free(quotas);
		return 0;
	}
	l->users = users;
	l->quotas = quotas;
	l->nusers = l->checked = e->nusers;
	l->forwards = forwards;
	l->nforwards = e->nforwards;
	l->remote = e->remote;
	l->result = 0;
	return 1;
}

void
smtp_rcpt_cache_free(void)
{
	for (size_t i = 0; slots && i < RC_SLOTS; i++)
		rc_clear(&slots[i]);
	free(slots);
	slots = NULL;
}
