/* poshtactl index rebuild ADDRESS: a storage backend that keeps an index
 * beside the mail (storage_maildir's poshta-index.db) makes it again
 * from the mail alone, through the optional user_reindex op (SDK 1.6).
 * A backend whose database is the mail (storage_sqlite) has none, and
 * the command says so. */
#include "config.h"

#include "ctl.h"
#include "iface.h"
#include "module.h"

int
ctl_index_rebuild(struct ctl *c)
{
	struct ps_error err = {""};
	struct ps_auth_user user;

	if (!c->store.user_reindex)
		return ctl_fail("the storage backend (%s) keeps no index "
				"apart from the mail: nothing to rebuild",
				ps_module_name(ps_iface_owner(PS_STORAGE_KIND,
							      NULL)));
	if (CTL_LACKS(c->auth, lookup))
		return CTL_FAIL;
	/* The canonical name, as the server opens the store by it. */
	if (c->auth.lookup(c->args[0], &user, &err) < 0)
		return ctl_fail("%s", err.msg);
	if (c->store.user_reindex(user.name, &err) < 0)
		return ctl_fail("%s", err.msg);
	printf("rebuilt the index of %s\n", user.name);
	return CTL_OK;
}
