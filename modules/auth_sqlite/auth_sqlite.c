/* auth_sqlite.so: the embedded auth backend. Domains, users (with a
 * crypt(3) hash, enabled flag and quota) and aliases live in one SQLite
 * database, published as the "auth" interface named "sqlite" for SASL,
 * SMTP and poshtactl. The database opens in each worker, never in the
 * master, so no connection crosses a fork. */
#include <stdio.h>

#include "auth_sqlite.h"

static const struct ps_directive auth_directives[] = {
	{ .name = "path", .type = PS_CONF_PATH,
	  .help = "the database file (default: STATE_DIR/users.db)" },
	{ .name = "busy_timeout", .type = PS_CONF_DURATION, .min = 0,
	  .max = 600000, .def = "5s",
	  .help = "how long a call waits for a database another process "
		  "is writing" },
	{ .name = NULL },
};

static const struct ps_auth_ops auth_ops = {
	.size = sizeof(struct ps_auth_ops),
	.verify = auth_verify,
	.lookup = auth_lookup,
	.resolve = auth_resolve,
	.domain_add = auth_domain_add,
	.domain_del = auth_domain_del,
	.domain_list = auth_domain_list,
	.user_add = auth_user_add,
	.user_set_password = auth_user_set_password,
	.user_set_quota = auth_user_set_quota,
	.user_set_enabled = auth_user_set_enabled,
	.user_del = auth_user_del,
	.user_list = auth_user_list,
	.alias_add = auth_alias_add,
	.alias_del = auth_alias_del,
	.alias_list = auth_alias_list,
};

static int
auth_init(struct ps_error *err)
{
	int r = ps_conf_register(PS_SCOPE_MODULE, auth_directives);

	if (r == 0)
		r = ps_iface_publish(PS_AUTH_KIND, "sqlite", &auth_ops);
	return r < 0 ? authkit_fail(err, r, "cannot register (error %d)", r) :
		0;
}

static int
auth_worker_init(struct ps_error *err)
{
	const struct ps_conf_section *s = ps_conf_module();
	const char *path = ps_conf_str(s, "path");
	char def[4096];

	if (!path) {
		if ((size_t)snprintf(def, sizeof(def), "%s/users.db",
				     ps_conf_str(ps_conf_core(), "state_dir"))
		    >= sizeof(def))
			return authkit_fail(err, PS_EINVAL,
					    "state_dir too long");
		path = def;
	}
	return auth_db_start(path, (int)ps_conf_num(s, "busy_timeout"), err);
}

PS_MODULE_DEFINE(.name = "auth_sqlite", .version = "1.0", .init = auth_init,
		 .worker_init = auth_worker_init, .worker_exit = auth_db_stop);
