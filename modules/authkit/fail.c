/* libpsauth's messages: the errors struct ps_auth_ops promises, worded
 * once so every backend answers poshtactl and the protocols alike. */
#include <stdio.h>

#include "authkit.h"

int
authkit_fail(struct ps_error *err, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return code;
}

int
authkit_no_domain(struct ps_error *err, const char *domain)
{
	return authkit_fail(err, PS_ENOENT, "no domain %s (add the domain "
			    "first)", domain);
}

int
authkit_user_changed(int r, const char *user, struct ps_error *err)
{
	if (r == 0)
		return authkit_fail(err, PS_ENOENT, "no user %s", user);
	return r < 0 ? r : 0;
}

int
authkit_user_added(int r, const char *user, struct ps_error *err)
{
	if (r == PS_EEXIST)
		return authkit_fail(err, r, "user %s exists", user);
	if (r == PS_ENOENT)
		return authkit_no_domain(err, authkit_name_domain_of(user));
	return r < 0 ? r : 0;
}

int
authkit_alias_added(int r, const char *alias, const char *target,
		    struct ps_error *err)
{
	if (r == PS_EEXIST)
		return authkit_fail(err, r, "alias %s -> %s exists", alias,
				    target);
	if (r == PS_ENOENT)
		return authkit_no_domain(err, authkit_name_domain_of(alias));
	return r < 0 ? r : 0;
}
