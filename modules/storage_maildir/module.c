/* storage_maildir.so: mail kept in Maildir++ trees that Dovecot reads
 * too. Declares the module block, publishes the "storage" interface
 * "maildir" (sdk/poshta/storage.h) and reads the block once the
 * configuration is final. The layout on disk is described in
 * docs/architecture.md, "storage_maildir". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "storage_maildir.h"

struct md_config md_config;

static const struct ps_directive md_directives[] = {
	{ .name = "path", .type = PS_CONF_PATH,
	  .help = "folder of the users' Maildirs, each at "
		  "path/DOMAIN/LOCAL/Maildir, Dovecot's virtual-host layout "
		  "(default: STATE_DIR/maildir)" },
	{ .name = "fsync", .type = PS_CONF_FLAG, .def = "on",
	  .help = "fsync each delivered message and changed folder before "
		  "the change returns (off: faster, a power loss may lose "
		  "mail)" },
	{ .name = NULL },
};


static const struct ps_storage_ops md_ops = {
	.size = sizeof(struct ps_storage_ops),
	.delimiter = MD_DELIM,
	.user_open = md_user_open,
	.user_close = md_user_close,
	.user_delete = md_user_delete,
	.user_reindex = md_user_reindex,
	.mailbox_list = md_mailbox_list,
	.mailbox_create = md_mailbox_create,
	.mailbox_delete = md_mailbox_delete,
	.mailbox_rename = md_mailbox_rename,
	.mailbox_subscribe = md_mailbox_subscribe,
	.mailbox_status = md_mailbox_status,
	.mailbox_open = md_mailbox_open,
	.mailbox_close = md_mailbox_close,
	.mailbox_hold = md_mailbox_hold,
	.mailbox_release = md_mailbox_release,
	.msg_fetch = md_msg_fetch,
	.msg_read = md_msg_read,
	.msg_set_cache = md_msg_set_cache,
	.changes_since = md_changes_since,
	.msg_store = md_msg_store,
	.msg_copy = md_msg_copy,
	.expunge = md_expunge,
	.quota_get = md_quota_get,
	.append_begin = md_append_begin,
	.append_msg_begin = md_append_msg_begin,
	.append_data = md_append_data,
	.append_msg_end = md_append_msg_end,
	.append_commit = md_append_commit,
	.append_abort = md_append_abort,
	.mailbox_set_uidvalidity = md_mailbox_set_uidvalidity,
	.append_msg_uid = md_append_msg_uid,
};

/* Registration is only allowed here, so the table is published before
 * the configuration is known; the calls refuse to run until
 * worker_init has read it. */
static int
md_init(struct ps_error *err)
{
	int r = ps_conf_register(PS_SCOPE_MODULE, md_directives);

	if (r < 0)
		return md_err(err, r, "cannot declare directives (%d)", r);
	r = ps_iface_publish(PS_STORAGE_KIND, "maildir", &md_ops);
	if (r < 0)
		return md_err(err, r, "cannot publish storage/maildir (%d)", r);
	return 0;
}

/* Like storage_sqlite's, the default lives in the state folder: the
 * config reference (poshtad -d) loads every module with no block, so a
 * required directive would stop it. */
static char *
md_default_path(void)
{
	const char *state = ps_conf_str(ps_conf_core(), "state_dir");
	size_t len;
	char *p;

	if (!state)
		return NULL;
	len = strlen(state) + sizeof("/maildir");
	p = malloc(len);
	if (p)
		snprintf(p, len, "%s/maildir", state);
	return p;
}

/* Runs in each worker, and in tools (poshtactl) before they call the
 * table directly. */
static int
md_worker_init(struct ps_error *err)
{
	const struct ps_conf_section *s = ps_conf_module();
	const char *path = ps_conf_str(s, "path");

	free(md_config.path);
	md_config.path = path ? strdup(path) : md_default_path();
	if (!md_config.path)
		return md_err(err, PS_ENOMEM, "no path for the Maildirs");
	md_config.fsync = ps_conf_num(s, "fsync") != 0;
	return md_mkdirs(md_config.path, err);
}

static void
md_worker_exit(void)
{
	free(md_config.path);
	md_config.path = NULL;
}

PS_MODULE_DEFINE(.name = "storage_maildir", .version = "0.1",
		 .init = md_init, .worker_init = md_worker_init,
		 .worker_exit = md_worker_exit);
