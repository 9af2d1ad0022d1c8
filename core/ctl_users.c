/* poshtactl's user commands. Passwords reach the auth backend only as
 * hashes (ctl_password.c). Checks that can fail (bad address, existing
 * user, missing domain) run before the password is asked for. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ctl.h"

/* 128 is what ps_password_hash needs; yescrypt hashes are ~73 bytes. */
#define CTL_HASH_MAX 256

static int
domain_matches(const char *name, void *arg)
{
	return strcasecmp(name, arg) == 0;
}

/* A new user's address must be valid, free, and in a known domain. */
static int
check_new_user(struct ctl *c, const char *address)
{
	struct ps_error err = {""};
	struct ps_auth_user u;
	const char *at = strrchr(address, '@');
	int r = c->auth.lookup(address, &u, &err);

	if (r == 0)
		return ctl_fail("user %s exists", u.name);
	if (r != PS_ENOENT)
		return ctl_fail("%s", err.msg);
	if (!at)
		return ctl_fail("bad address '%s': no '@domain'", address);
	r = c->auth.domain_list(domain_matches, (void *)(at + 1), &err);
	if (r < 0)
		return ctl_fail("%s", err.msg);
	return r ? CTL_OK : ctl_fail("no domain %s (add it with 'poshtactl "
				     "domain add %s')", at + 1, at + 1);
}

int
ctl_user_add(struct ctl *c)
{
	struct ps_error err = {""};
	char hash[CTL_HASH_MAX];

	if (CTL_LACKS(c->auth, lookup) || CTL_LACKS(c->auth, domain_list) ||
	    CTL_LACKS(c->auth, user_add) ||
	    check_new_user(c, c->args[0]) != CTL_OK ||
	    ctl_password_new(c, hash, sizeof(hash)) != CTL_OK)
		return CTL_FAIL;
	return ctl_done(c->auth.user_add(c->args[0], hash, &err), &err);
}

/* The user must exist before a password is asked for. */
static int
existing_user(struct ctl *c, struct ps_auth_user *u)
{
	struct ps_error err = {""};

	if (CTL_LACKS(c->auth, lookup))
		return CTL_FAIL;
	return ctl_done(c->auth.lookup(c->args[0], u, &err), &err);
}

int
ctl_user_passwd(struct ctl *c)
{
	struct ps_error err = {""};
	struct ps_auth_user u;
	char hash[CTL_HASH_MAX];

	if (CTL_LACKS(c->auth, user_set_password) ||
	    existing_user(c, &u) != CTL_OK ||
	    ctl_password_new(c, hash, sizeof(hash)) != CTL_OK)
		return CTL_FAIL;
	return ctl_done(c->auth.user_set_password(u.name, hash, &err), &err);
}

/* Check a password the way a login does (without the failure delay). */
int
ctl_user_verify(struct ctl *c)
{
	struct ps_error err = {""};
	struct ps_auth_user u;
	char password[CTL_PASSWORD_MAX];
	int r;

	if (CTL_LACKS(c->auth, verify) ||
	    ctl_password_read(c, "Password: ", password, sizeof(password)) !=
	    CTL_OK)
		return CTL_FAIL;
	r = c->auth.verify(c->args[0], password, &u, &err);
	explicit_bzero(password, sizeof(password));
	if (r < 0)
		return ctl_fail("%s", err.msg);
	printf("password accepted for %s\n", u.name);
	return CTL_OK;
}

/* With --purge: stop delivery and logins first, then delete the
 * mailboxes, then the user, so a failure leaves a user to retry with. */
int
ctl_user_del(struct ctl *c)
{
	struct ps_error err = {""};
	struct ps_auth_user u;

	if (CTL_LACKS(c->auth, user_del) || existing_user(c, &u) != CTL_OK)
		return CTL_FAIL;
	if (c->purge) {
		if (CTL_LACKS(c->auth, user_set_enabled) ||
		    CTL_LACKS(c->store, user_delete))
			return CTL_FAIL;
		if (c->auth.user_set_enabled(u.name, 0, &err) < 0 ||
		    c->store.user_delete(u.name, &err) < 0)
			return ctl_fail("%s", err.msg);
	}
	return ctl_done(c->auth.user_del(u.name, &err), &err);
}

struct names {
	char **v;
	size_t n, cap;
};

static int
collect(const char *name, void *arg)
{
	struct names *l = arg;
	char **v = ctl_grow(l->v, &l->cap, l->n, sizeof(*v));

	if (!v)
		return PS_ENOMEM;
	l->v = v;
	if (!(v[l->n] = strdup(name)))
		return PS_ENOMEM;
	l->n++;
	return 0;
}

static int
print_user(struct ctl *c, const char *name)
{
	struct ps_error err = {""};
	struct ps_auth_user u;
	char quota[32] = "none";
	int r = c->auth.lookup(name, &u, &err);

	/* Gone since the list was made: nothing to show. */
	if (r == PS_ENOENT)
		return CTL_OK;
	if (r < 0)
		return ctl_fail("%s", err.msg);
	if (u.quota_bytes)
		ctl_format_size(quota, u.quota_bytes);
	printf("%s\t%s\t%s\n", u.name, u.enabled ? "enabled" : "disabled",
	       quota);
	return CTL_OK;
}

/* Names first, details after: the backend's list does not have to
 * allow calls back into it while it runs. */
int
ctl_user_list(struct ctl *c)
{
	struct ps_error err = {""};
	struct names l = {0};
	int r, code = CTL_OK;

	if (CTL_LACKS(c->auth, user_list) || CTL_LACKS(c->auth, lookup))
		return CTL_FAIL;
	r = c->auth.user_list(c->nargs ? c->args[0] : NULL, collect, &l,
			      &err);
	if (r < 0)
		code = ctl_fail("%s", err.msg[0] ? err.msg : "out of memory");
	for (size_t i = 0; i < l.n; i++) {
		if (code == CTL_OK)
			code = print_user(c, l.v[i]);
		free(l.v[i]);
	}
	free(l.v);
	return code;
}

static int
set_enabled(struct ctl *c, int enabled)
{
	struct ps_error err = {""};

	if (CTL_LACKS(c->auth, user_set_enabled))
		return CTL_FAIL;
	return ctl_done(c->auth.user_set_enabled(c->args[0], enabled, &err),
			&err);
}

int
ctl_user_enable(struct ctl *c)
{
	return set_enabled(c, 1);
}

int
ctl_user_disable(struct ctl *c)
{
	return set_enabled(c, 0);
}
