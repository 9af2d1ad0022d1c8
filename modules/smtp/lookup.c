/* Recipient, sender and VRFY lookups on the thread pool: the auth
 * backend's resolve follows aliases (RFC 5321 3.9.1) to local users or
 * remote addresses; each local user's quota against its usage (RFC 9208)
 * refuses a full mailbox at RCPT (452 4.2.2), or one the declared SIZE
 * would overfill. Work functions call the backends only, never the SDK. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "smtpd.h"

static int
add_user(struct smtp_lookup *l, const char *user)
{
	char **u = realloc(l->users, (l->nusers + 1) * sizeof(*u));
	uint64_t *q;

	if (!u)
		return PS_ENOMEM;
	l->users = u;
	if (!(q = realloc(l->quotas, (l->nusers + 1) * sizeof(*q))))
		return PS_ENOMEM;
	l->quotas = q;
	if (!(u[l->nusers] = strdup(user)))
		return PS_ENOMEM;
	q[l->nusers++] = 0;
	return 0;
}

/* A remote target of an alias: forwarded through the queue. */
static int
add_forward(struct smtp_lookup *l, const char *address)
{
	char **f = realloc(l->forwards, (l->nforwards + 1) * sizeof(*f));

	if (!f)
		return PS_ENOMEM;
	l->forwards = f;
	if (!(f[l->nforwards] = strdup(address)))
		return PS_ENOMEM;
	l->nforwards++;
	return 0;
}

static int
target(const char *address, int local, void *arg)
{
	struct smtp_lookup *l = arg;

	if (!local) {
		l->remote = 1;
		return l->kind == SMTP_LOOK_RCPT ? add_forward(l, address) : 0;
	}
	if (l->kind == SMTP_LOOK_SENDER && strcasecmp(address, l->user) == 0)
		l->owned = 1;
	return add_user(l, address);
}

static void
forget_users(struct smtp_lookup *l)
{
	for (size_t i = 0; i < l->nusers; i++)
		free(l->users[i]);
	for (size_t i = 0; i < l->nforwards; i++)
		free(l->forwards[i]);
	l->nusers = l->nforwards = l->checked = 0;
	l->remote = l->owned = 0;
}

static int
resolve(struct smtp_lookup *l)
{
	forget_users(l);
	return smtp_cfg.auth.resolve(l->addr, target, l, &l->err);
}

static int
first_domain(const char *name, void *arg)
{
	snprintf(arg, SMTP_DOMAIN_MAX + 1, "%s", name);
	return 1;
}

/* RFC 5321 4.1.1.3: "<Postmaster>" is this host's postmaster: at the
 * hostname when that is a local domain, else at the first local one. */
static int
resolve_postmaster(struct smtp_lookup *l)
{
	char domain[SMTP_DOMAIN_MAX + 1] = "";
	int r;

	snprintf(l->addr, sizeof(l->addr), "postmaster@%s", smtp_cfg.hostname);
	r = resolve(l);
	if (r != PS_AUTH_ENOTLOCAL && r != PS_EINVAL)
		return r;
	if (smtp_cfg.auth.domain_list)
		smtp_cfg.auth.domain_list(first_domain, domain, &l->err);
	if (!domain[0])
		return r;
	snprintf(l->addr, sizeof(l->addr), "postmaster@%s", domain);
	return resolve(l);
}

/* Each local user's quota from the auth backend and usage from the
 * store; full when none has room: it is at its limit, or the size MAIL
 * declared would pass it (RFC 1870 6). */
static void
check_quota(struct smtp_lookup *l)
{
	struct ps_auth_user au;
	struct ps_store_user *u;
	uint64_t bytes, msgs;
	size_t full = 0;

	for (size_t i = 0; i < l->nusers; i++) {
		if (smtp_cfg.auth.lookup(l->users[i], &au, &l->err) < 0)
			continue;
		l->checked++;
		l->quotas[i] = au.quota_bytes;
		if (!au.quota_bytes || !smtp_cfg.have_store ||
		    smtp_cfg.store.user_open(l->users[i], au.quota_bytes, &u,
					     &l->err) < 0)
			continue;
		if (smtp_cfg.store.quota_get(u, &bytes, &msgs, &l->err) == 0 &&
		    (bytes >= au.quota_bytes ||
		     l->size > au.quota_bytes - bytes))
			full++;
		smtp_cfg.store.user_close(u);
	}
	l->full = l->nusers > 0 && full == l->nusers;
}

static void
lookup_work(void *arg)
{
	struct smtp_lookup *l = arg;

	l->result = l->postmaster ? resolve_postmaster(l) : resolve(l);
	if (l->result == 0 && l->kind == SMTP_LOOK_RCPT)
		check_quota(l);
}

static void
lookup_done(void *arg)
{
	struct smtp_lookup *l = arg;
	struct smtp_session *s = l->s;

	if (!l->cached)
		smtp_rcpt_cache_put(l);
	if (l->result < 0 && l->result != PS_ENOENT &&
	    l->result != PS_AUTH_ENOTLOCAL && l->result != PS_EINVAL)
		ps_conn_log(s->conn, PS_LOG_WARN, "lookup failed address=%s "
			    "error=\"%s\"", l->addr, l->err.msg);
	if (!ps_conn_closing(s->conn))
		l->done(s, l);
	smtp_lookup_free(l);
	smtp_unwait(s);
}

/* Start l (calloc'ed, s, kind, addr and done set); l->done runs on the
 * loop with input paused meanwhile, then l is freed: on a later turn of
 * the loop when the recipient cache has the answer, else once the pool
 * has it. On failure to start, l is the caller's. */
int
smtp_lookup_start(struct smtp_lookup *l)
{
	int r;

	if (!smtp_cfg.have_auth)
		return PS_ESTATE;
	smtp_wait(l->s);
	if (smtp_rcpt_cache_get(l)) {
		l->cached = 1;
		if (ps_timer_add(0, lookup_done, l))
			return 0;
		forget_users(l);
		l->cached = 0;
	}
	if ((r = ps_job_submit(lookup_work, lookup_done, l)) < 0)
		smtp_unwait(l->s);
	return r;
}

void
smtp_lookup_free(struct smtp_lookup *l)
{
	if (!l)
		return;
	forget_users(l);
	free(l->users);
	free(l->quotas);
	free(l->forwards);
	free(l);
}
