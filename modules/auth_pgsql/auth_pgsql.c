/* auth_pgsql.so: the auth backend on PostgreSQL, for several front ends
 * sharing one user base. Domains, users (with a crypt(3) hash, enabled
 * flag and quota) and aliases live in tables prefixed auth_, with the
 * same names, rules and answers as auth_sqlite; published as the "auth"
 * interface named "pgsql" for SASL, SMTP and poshtactl. Connections open
 * in each worker (and in poshtactl), never in the master, so none
 * crosses a fork. */
#include "auth_pgsql.h"

static const struct ps_directive auth_directives[] = {
	{ .name = "conninfo", .type = PS_CONF_STRING,
	  .flags = PS_CONF_REQUIRED,
	  .help = "required: the libpq connection string or URI of the "
		  "database, e.g. "
		  "\"host=db.example dbname=poshta user=poshta\" (a password "
		  "is better kept in ~/.pgpass or PGPASSFILE)" },
	{ .name = "connections", .type = PS_CONF_INT, .min = 1, .max = 64,
	  .def = "4",
	  .help = "connections each worker (and poshtactl) keeps at most; "
		  "callers beyond wait for one" },
	{ .name = "timeout", .type = PS_CONF_DURATION, .min = 100,
	  .max = 600000, .def = "30s",
	  .help = "how long a call waits for a free connection, to connect, "
		  "and for a statement, before it fails (a temporary "
		  "failure to clients)" },
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
		r = ps_iface_publish(PS_AUTH_KIND, "pgsql", &auth_ops);
	return r < 0 ? authkit_fail(err, r, "cannot register (error %d)", r) :
		0;
}

/* Connect once and bring the schema up to date, so a wrong conninfo or
 * a server that is down stops the worker with one clear line. */
static int
auth_worker_init(struct ps_error *err)
{
	const struct ps_conf_section *s = ps_conf_module();
	const char *conninfo = ps_conf_str(s, "conninfo");

	if (!conninfo || !*conninfo)
		return authkit_fail(err, PS_EINVAL,
				    "auth_pgsql needs conninfo");
	return auth_pool_start(conninfo, (int)ps_conf_num(s, "connections"),
			       (int)ps_conf_num(s, "timeout"), err);
}

PS_MODULE_DEFINE(.name = "auth_pgsql", .version = "1.0", .init = auth_init,
		 .worker_init = auth_worker_init,
		 .worker_exit = auth_pool_stop);
