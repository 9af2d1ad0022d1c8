/* queue_sqlite.so: the embedded mail queue. Declares the module block,
 * publishes the "queue" interface "sqlite" (sdk/poshta/queue.h), and in
 * each worker reads the block, makes the folder and brings the database
 * to the current schema. The layout on disk is described in
 * docs/architecture.md, "Mail queue". */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "queue_sqlite.h"

struct qs_config qs_config;

static const struct ps_directive qs_directives[] = {
	{ .name = "path", .type = PS_CONF_PATH,
	  .help = "folder of the queue's database, queue.db (default: "
		  "STATE_DIR/queue)" },
	{ .name = "busy_timeout", .type = PS_CONF_DURATION, .min = 0,
	  .max = 3600000, .def = "10s",
	  .help = "how long a change waits for another process's change "
		  "of the queue to finish" },
	{ .name = "cache_size", .type = PS_CONF_SIZE, .min = 64 * 1024,
	  .max = 1LL << 30, .def = "2m",
	  .help = "SQLite page cache of each open connection to the queue" },
	{ .name = "idle_connections", .type = PS_CONF_INT, .min = 0,
	  .max = 4096, .def = "8",
	  .help = "connections to the queue each worker keeps open between "
		  "calls" },
	{ .name = NULL },
};

static const struct ps_queue_ops qs_ops = {
	.size = sizeof(struct ps_queue_ops),
	.enq_begin = qs_enq_begin,
	.enq_data = qs_enq_data,
	.enq_commit = qs_enq_commit,
	.enq_abort = qs_enq_abort,
	.lease = qs_lease,
	.results = qs_results,
	.next_due = qs_next_due,
	.report_lease = qs_report_lease,
	.report_done = qs_report_done,
	.msg_get = qs_msg_get,
	.msg_read = qs_msg_read,
	.list = qs_list,
	.hold = qs_hold,
	.flush = qs_flush,
	.remove = qs_remove,
};

/* Registration is only allowed here, so the table is published before
 * the configuration is known; the calls refuse to run (PS_ESTATE) until
 * worker_init has read it. */
static int
qs_init(struct ps_error *err)
{
	int r = ps_conf_register(PS_SCOPE_MODULE, qs_directives);

	/* As in storage_sqlite: without memory statistics SQLite takes no
	 * process-wide mutex at every allocation. Only possible before its
	 * first use; a failure here is harmless. */
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	if (r < 0)
		return qs_err(err, r, "cannot declare directives (%d)", r);
	r = ps_iface_publish(PS_QUEUE_KIND, "sqlite", &qs_ops);
	if (r < 0)
		return qs_err(err, r, "cannot publish queue/sqlite (%d)", r);
	return 0;
}

static char *
qs_join(const char *dir, const char *name)
{
	size_t len = strlen(dir) + strlen(name) + 2;
	char *p = malloc(len);

	if (p)
		snprintf(p, len, "%s/%s", dir, name);
	return p;
}

/* The folder, made if missing (one level: its parent is state_dir or the
 * operator's), readable only by the server: it holds everyone's mail. */
static int
qs_mkdir(const char *dir, struct ps_error *err)
{
	struct stat sb;

	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return qs_err(err, PS_EIO, "mkdir %s: %s", dir,
			      strerror(errno));
	if (stat(dir, &sb) < 0 || !S_ISDIR(sb.st_mode))
		return qs_err(err, PS_EIO, "%s is not a folder", dir);
	return 0;
}

static void
qs_forget_config(void)
{
	free(qs_config.path);
	free(qs_config.file);
	qs_config.path = qs_config.file = NULL;
}

/* Runs in each worker, and in tools (poshtactl) before they call the
 * table directly. No connection is opened before: none crosses a fork. */
static int
qs_worker_init(struct ps_error *err)
{
	const struct ps_conf_section *s = ps_conf_module();
	const char *path = ps_conf_str(s, "path");
	const char *state = ps_conf_str(ps_conf_core(), "state_dir");
	int r;

	if (!sqlite3_threadsafe())
		return qs_err(err, PS_EFAIL, "SQLite is built without threads");
	qs_pool_forget();
	qs_forget_config();
	qs_config.path = path ? strdup(path)
			      : state ? qs_join(state, "queue") : NULL;
	qs_config.file = qs_config.path ? qs_join(qs_config.path, QS_DB_NAME)
					: NULL;
	if (!qs_config.file) {
		qs_forget_config();
		return qs_err(err, PS_ENOMEM, "no path for the queue");
	}
	qs_config.busy_ms = (int)ps_conf_num(s, "busy_timeout");
	qs_config.cache_kib = ps_conf_num(s, "cache_size") / 1024;
	qs_config.idle_max = (unsigned)ps_conf_num(s, "idle_connections");
	r = qs_mkdir(qs_config.path, err);
	if (r == 0)
		r = qs_schema_migrate(err);
	if (r < 0)
		qs_forget_config();
	return r;
}

static void
qs_worker_exit(void)
{
	qs_pool_forget();
	qs_forget_config();
}

/* A notice after a durable change (queue.h, "Bus notices"). Publishing
 * is allowed from any thread; without a worker's bus (poshtactl, the
 * conformance suite) there is nobody to tell. */
void
qs_notify(const char *topic, const char *id)
{
	(void)ps_bus_publish(topic, id ? id : "", id ? strlen(id) : 0);
}

PS_MODULE_DEFINE(.name = "queue_sqlite", .version = "1.0",
		 .init = qs_init, .worker_init = qs_worker_init,
		 .worker_exit = qs_worker_exit);
