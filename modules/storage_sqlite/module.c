/* storage_sqlite.so: the embedded mail store. Declares the module block,
 * publishes the "storage" interface "sqlite" (sdk/poshta/storage.h) and
 * reads the block once the configuration is final. The layout on disk is
 * described in docs/architecture.md. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "storage_sqlite.h"

struct ss_config ss_config;

static const struct ps_directive ss_directives[] = {
	{ .name = "path", .type = PS_CONF_PATH,
	  .help = "folder of the users' mail databases, one per user "
		  "(default: STATE_DIR/mail)" },
	{ .name = "busy_timeout", .type = PS_CONF_DURATION, .min = 0,
	  .max = 3600000, .def = "10s",
	  .help = "how long a change waits for another change of the same "
		  "user to finish" },
	{ .name = "cache_size", .type = PS_CONF_SIZE, .min = 64 * 1024,
	  .max = 1LL << 30, .def = "2m",
	  .help = "SQLite page cache of each open user, mailbox or append" },
	{ .name = "idle_connections", .type = PS_CONF_INT, .min = 0,
	  .max = 4096, .def = "32",
	  .help = "database connections each worker keeps open between "
		  "handles, so a delivery or a login does not reopen them" },
	{ .name = NULL },
};

static const struct ps_storage_ops ss_ops = {
	.size = sizeof(struct ps_storage_ops),
	.delimiter = SS_DELIM,
	.user_open = ss_user_open,
	.user_close = ss_user_close,
	.user_delete = ss_user_delete,
	.quota_get = ss_quota_get,
	.mailbox_list = ss_mailbox_list,
	.mailbox_create = ss_mailbox_create,
	.mailbox_delete = ss_mailbox_delete,
	.mailbox_rename = ss_mailbox_rename,
	.mailbox_subscribe = ss_mailbox_subscribe,
	.mailbox_status = ss_mailbox_status,
	.mailbox_open = ss_mailbox_open,
	.mailbox_close = ss_mailbox_close,
	.msg_fetch = ss_msg_fetch,
	.msg_read = ss_msg_read,
	.msg_set_cache = ss_msg_set_cache,
	.msg_store = ss_msg_store,
	.msg_copy = ss_msg_copy,
	.expunge = ss_expunge,
	.changes_since = ss_changes_since,
	.append_begin = ss_append_begin,
	.append_msg_begin = ss_append_msg_begin,
	.append_data = ss_append_data,
	.append_msg_end = ss_append_msg_end,
	.append_commit = ss_append_commit,
	.append_abort = ss_append_abort,
	.mailbox_hold = ss_mailbox_hold,
	.mailbox_release = ss_mailbox_release,
	.mailbox_set_uidvalidity = ss_mailbox_set_uidvalidity,
	.append_msg_uid = ss_append_msg_uid,
};

/* Registration is only allowed here, so the table is published before
 * the configuration is known; the calls refuse to run until worker_init
 * has read it. */
static int
ss_init(struct ps_error *err)
{
	int r = ps_conf_register(PS_SCOPE_MODULE, ss_directives);

	/* Memory statistics take one process-wide mutex at every allocation,
	 * which the pool threads of a busy worker then queue on. SQLite
	 * accepts this only before its first use (else: SQLITE_MISUSE, and
	 * the statistics stay on, which is harmless). */
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	if (r < 0)
		return ss_err(err, r, "cannot declare directives (%d)", r);
	r = ps_iface_publish(PS_STORAGE_KIND, "sqlite", &ss_ops);
	if (r < 0)
		return ss_err(err, r, "cannot publish storage/sqlite (%d)", r);
	return 0;
}

static char *
ss_default_path(void)
{
	const char *state = ps_conf_str(ps_conf_core(), "state_dir");
	size_t len;
	char *p;

	if (!state)
		return NULL;
	len = strlen(state) + sizeof("/mail");
	p = malloc(len);
	if (p)
		snprintf(p, len, "%s/mail", state);
	return p;
}

/* Runs in each worker, and in tools (poshtactl) before they call the
 * table directly. */
static int
ss_worker_init(struct ps_error *err)
{
	const struct ps_conf_section *s = ps_conf_module();
	const char *path = ps_conf_str(s, "path");

	/* Handles are used by one thread at a time, but several threads
	 * open them: SQLite itself must be built thread-safe. */
	if (!sqlite3_threadsafe())
		return ss_err(err, PS_EFAIL, "SQLite is built without threads");
	free(ss_config.path);
	ss_config.path = path ? strdup(path) : ss_default_path();
	if (!ss_config.path)
		return ss_err(err, PS_ENOMEM, "no path for the mail store");
	ss_config.busy_ms = (int)ps_conf_num(s, "busy_timeout");
	ss_config.cache_kib = ps_conf_num(s, "cache_size") / 1024;
	ss_config.idle_max = (unsigned)ps_conf_num(s, "idle_connections");
	return 0;
}

static void
ss_worker_exit(void)
{
	ss_pool_forget(NULL);
	free(ss_config.path);
	ss_config.path = NULL;
}

PS_MODULE_DEFINE(.name = "storage_sqlite", .version = "1.0",
		 .init = ss_init, .worker_init = ss_worker_init,
		 .worker_exit = ss_worker_exit);
