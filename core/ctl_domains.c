/* poshtactl's domain and alias commands: thin calls into the auth
 * backend, which checks names and says what went wrong. Lists go to
 * stdout one entry a line, fields separated by tabs. */
#include "config.h"

#include "ctl.h"

int
ctl_domain_add(struct ctl *c)
{
	struct ps_error err = {""};

	if (CTL_LACKS(c->auth, domain_add))
		return CTL_FAIL;
	return ctl_done(c->auth.domain_add(c->args[0], &err), &err);
}

int
ctl_domain_del(struct ctl *c)
{
	struct ps_error err = {""};

	if (CTL_LACKS(c->auth, domain_del))
		return CTL_FAIL;
	return ctl_done(c->auth.domain_del(c->args[0], &err), &err);
}

static int
print_name(const char *name, void *arg)
{
	return puts(name) < 0 ? PS_EIO : 0;
}

int
ctl_domain_list(struct ctl *c)
{
	struct ps_error err = {""};

	if (CTL_LACKS(c->auth, domain_list))
		return CTL_FAIL;
	return ctl_done(c->auth.domain_list(print_name, NULL, &err), &err);
}

int
ctl_alias_add(struct ctl *c)
{
	struct ps_error err = {""};

	if (CTL_LACKS(c->auth, alias_add))
		return CTL_FAIL;
	return ctl_done(c->auth.alias_add(c->args[0], c->args[1], &err), &err);
}

int
ctl_alias_del(struct ctl *c)
{
	const char *target = c->nargs > 1 ? c->args[1] : NULL;
	struct ps_error err = {""};

	if (CTL_LACKS(c->auth, alias_del))
		return CTL_FAIL;
	return ctl_done(c->auth.alias_del(c->args[0], target, &err), &err);
}

static int
print_alias(const char *alias, const char *target, void *arg)
{
	return printf("%s\t%s\n", alias, target) < 0 ? PS_EIO : 0;
}

int
ctl_alias_list(struct ctl *c)
{
	struct ps_error err = {""};

	if (CTL_LACKS(c->auth, alias_list))
		return CTL_FAIL;
	return ctl_done(c->auth.alias_list(print_alias, NULL, &err), &err);
}

static int
print_target(const char *address, int local, void *arg)
{
	return printf("%s\t%s\n", address, local ? "local" : "remote") < 0 ?
		PS_EIO : 0;
}

/* Where mail to an address would go now: each final address, local (a
 * mailbox here) or remote (forwarded). */
int
ctl_alias_resolve(struct ctl *c)
{
	struct ps_error err = {""};

	if (CTL_LACKS(c->auth, resolve))
		return CTL_FAIL;
	return ctl_done(c->auth.resolve(c->args[0], print_target, NULL, &err),
		    &err);
}
