/* Names for storage_pgsql: user names (local@domain, lower case). Mailbox
 * names (RFC 3501 5.1) follow libpsstore's pst_name_canon, as in the
 * other backends. */
#include <stdlib.h>
#include <string.h>

#include "storage_pgsql.h"

/* The canonical (lower case) name of user "local@domain" (RFC 5321
 * 4.1.2), the key of its row in store_user. */
int
sp_user_name(const char *user, char **name_r, struct ps_error *err)
{
	const char *at = user ? strrchr(user, '@') : NULL;

	*name_r = NULL;
	if (!sp_config.conninfo)
		return sp_err(err, PS_ESTATE, "storage_pgsql is not "
			      "configured (worker_init has not run)");
	if (!at || at == user || !at[1] || strlen(user) > PS_AUTH_NAME_MAX)
		return sp_err(err, PS_EINVAL, "a user is local@domain, at "
			      "most %d bytes", PS_AUTH_NAME_MAX);
	*name_r = strdup(user);
	if (!*name_r)
		return sp_err(err, PS_ENOMEM, "out of memory");
	for (char *p = *name_r; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return 0;
}
