/* storage_pgsql.so: the mail store in PostgreSQL, for several front ends
 * (poshtad processes on one or more machines) sharing one database.
 * Declares the module block, publishes the "storage" interface "pgsql"
 * (sdk/poshta/storage.h), makes the front end's node id in the master,
 * and in each worker checks the database, migrates its schema, starts
 * the pool and the LISTEN connection. Docs: docs/architecture.md,
 * "storage_pgsql". */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "storage_pgsql.h"

struct sp_config sp_config;

static const struct ps_directive sp_directives[] = {
	/* Required, but checked at worker start rather than declared so:
	 * the config reference loads every module without its block. */
	{ .name = "conninfo", .type = PS_CONF_STRING,
	  .help = "libpq connection string of the shared database "
		  "(required), e.g. \"host=db.example dbname=poshta "
		  "user=poshta\"" },
	{ .name = "connections", .type = PS_CONF_INT, .min = 2,
	  .max = 1024, .def = "8",
	  .help = "database connections each worker opens at most (a "
		  "call may need two); calls past that wait for one to be "
		  "free, a minute at most" },
	{ .name = "blob_dir", .type = PS_CONF_PATH,
	  .help = "keep message bodies as files in this folder (shared by "
		  "every front end) instead of in the database" },
	{ .name = NULL },
};

static const struct ps_storage_ops sp_ops = {
	.size = sizeof(struct ps_storage_ops),
	.delimiter = SP_DELIM,
	.user_open = sp_user_open,
	.user_close = sp_user_close,
	.user_delete = sp_user_delete,
	.quota_get = sp_quota_get,
	.mailbox_list = sp_mailbox_list,
	.mailbox_create = sp_mailbox_create,
	.mailbox_delete = sp_mailbox_delete,
	.mailbox_rename = sp_mailbox_rename,
	.mailbox_subscribe = sp_mailbox_subscribe,
	.mailbox_status = sp_mailbox_status,
	.mailbox_open = sp_mailbox_open,
	.mailbox_close = sp_mailbox_close,
	.msg_fetch = sp_msg_fetch,
	.msg_read = sp_msg_read,
	.msg_set_cache = sp_msg_set_cache,
	.msg_store = sp_msg_store,
	.msg_copy = sp_msg_copy,
	.expunge = sp_expunge,
	.changes_since = sp_changes_since,
	.append_begin = sp_append_begin,
	.append_msg_begin = sp_append_msg_begin,
	.append_data = sp_append_data,
	.append_msg_end = sp_append_msg_end,
	.append_commit = sp_append_commit,
	.append_abort = sp_append_abort,
	.mailbox_hold = sp_mailbox_hold,
	.mailbox_release = sp_mailbox_release,
	.mailbox_set_uidvalidity = sp_mailbox_set_uidvalidity,
	.append_msg_uid = sp_append_msg_uid,
};

/* In the master, once: the node id is made here so that every worker
 * of this front end shares it (notify.c). */
static int
sp_init(struct ps_error *err)
{
	int r = ps_conf_register(PS_SCOPE_MODULE, sp_directives);

	if (r < 0)
		return sp_err(err, r, "cannot declare directives (%d)", r);
	sp_node_make(sp_config.node);
	r = ps_iface_publish(PS_STORAGE_KIND, "pgsql", &sp_ops);
	if (r < 0)
		return sp_err(err, r, "cannot publish storage/pgsql (%d)", r);
	return 0;
}

static int
sp_blob_dirs(const char *dir, struct ps_error *err)
{
	char tmp[4096];

	snprintf(tmp, sizeof(tmp), "%s/tmp", dir);
	if ((mkdir(dir, 0700) < 0 && errno != EEXIST) ||
	    (mkdir(tmp, 0700) < 0 && errno != EEXIST))
		return sp_err(err, PS_EIO, "storage_pgsql: blob_dir %s: %s",
			      dir, strerror(errno));
	return 0;
}

/* Connect once now, so a wrong conninfo is one clear line at start, and
 * bring the schema up to date; the connection stays in the pool. */
static int
sp_check_database(struct ps_error *err)
{
	PGconn *pg = sp_pool_take(err);
	int r;

	if (!pg)
		return PS_EIO;
	r = sp_schema_migrate(pg, err);
	sp_pool_put(pg, r < 0);
	return r;
}

/* Runs in each worker, and in tools (poshtactl) before they call the
 * table directly. */
static int
sp_worker_init(struct ps_error *err)
{
	const struct ps_conf_section *s = ps_conf_module();
	const char *conninfo = ps_conf_str(s, "conninfo");
	const char *blob = ps_conf_str(s, "blob_dir");
	int r;

	if (!conninfo || !*conninfo)
		return sp_err(err, PS_EINVAL, "storage_pgsql: conninfo is "
			      "required");
	free(sp_config.conninfo);
	free(sp_config.blob_dir);
	sp_config.conninfo = strdup(conninfo);
	sp_config.blob_dir = blob ? strdup(blob) : NULL;
	sp_config.connections = (unsigned)ps_conf_num(s, "connections");
	if (!sp_config.conninfo || (blob && !sp_config.blob_dir))
		return sp_err(err, PS_ENOMEM, "out of memory");
	r = blob ? sp_blob_dirs(blob, err) : 0;
	if (r == 0)
		r = sp_pool_start(sp_config.conninfo, sp_config.connections);
	if (r == 0)
		r = sp_check_database(err);
	if (r < 0)
		return r;
	sp_listen_start();
	return 0;
}

static void
sp_worker_exit(void)
{
	sp_listen_stop();
	sp_pool_stop();
	free(sp_config.conninfo);
	free(sp_config.blob_dir);
	sp_config.conninfo = sp_config.blob_dir = NULL;
}

PS_MODULE_DEFINE(.name = "storage_pgsql", .version = "1.0",
		 .init = sp_init, .worker_init = sp_worker_init,
		 .worker_exit = sp_worker_exit);
