/* xcount: an example of a third-party IMAP command, built out of tree
 * against the installed SDK. In the selected state,
 *
 *   C: a1 XCOUNT
 *   S: * XCOUNT MESSAGES 12 SEEN 9 FLAGGED 2 DELETED 1 OCTETS 81234
 *   S: a1 OK XCOUNT completed
 *
 * and "XCOUNT" in CAPABILITY. It shows the three things such a command
 * needs: registering through imap.so's "imap.ext" interface
 * (<poshta/imap.h>), reading the selected mailbox through the storage
 * SDK (<poshta/storage.h>) on the thread pool, never on the loop, and
 * answering later (PS_IMAP_PENDING, then finish from the job's done). */
#include <stdio.h>
#include <stdlib.h>

#include <poshta/poshta.h>
#include <poshta/imap.h>

static const char *const xcount_requires[] = {"imap", NULL};

static struct ps_imap_ext imap;
static struct ps_storage_ops store;

struct xcount {
	struct ps_imap_cmd *cmd;
	struct ps_mbox *mb;
	uint64_t messages, seen, flagged, deleted, octets;
	int result;
	struct ps_error err;
};

static int
count_one(const struct ps_msg *m, void *arg)
{
	struct xcount *x = arg;

	x->messages++;
	x->seen += (m->flags & PS_FLAG_SEEN) != 0;
	x->flagged += (m->flags & PS_FLAG_FLAGGED) != 0;
	x->deleted += (m->flags & PS_FLAG_DELETED) != 0;
	x->octets += m->size;
	return 0;
}

/* On the pool: the storage call may block. */
static void
count_work(void *arg)
{
	struct xcount *x = arg;

	x->result = store.msg_fetch(x->mb, NULL, 0, count_one, x, &x->err);
}

/* Back on the loop: answer and end the command. */
static void
count_done(void *arg)
{
	struct xcount *x = arg;
	char line[200];

	if (x->result < 0) {
		ps_conn_log(imap.conn(x->cmd), PS_LOG_ERR, "xcount: %s",
			    x->err.msg);
		imap.finish(x->cmd, "NO", "SERVERBUG", "Cannot count now");
	} else {
		snprintf(line, sizeof(line), "XCOUNT MESSAGES %llu SEEN %llu "
			 "FLAGGED %llu DELETED %llu OCTETS %llu",
			 (unsigned long long)x->messages,
			 (unsigned long long)x->seen,
			 (unsigned long long)x->flagged,
			 (unsigned long long)x->deleted,
			 (unsigned long long)x->octets);
		imap.untagged(x->cmd, line);
		imap.finish(x->cmd, "OK", NULL, "XCOUNT completed");
	}
	free(x);
}

static int
xcount(struct ps_imap_cmd *cmd, void *arg)
{
	struct xcount *x;

	(void)arg;
	if (imap.nargs(cmd) != 0) {
		imap.finish(cmd, "BAD", NULL, "XCOUNT takes no arguments");
		return 0;
	}
	if (!(x = calloc(1, sizeof(*x)))) {
		imap.finish(cmd, "NO", NULL, "Out of memory");
		return 0;
	}
	x->cmd = cmd;
	x->mb = imap.mailbox(cmd);
	if (ps_job_submit(count_work, count_done, x) < 0) {
		free(x);
		imap.finish(cmd, "NO", NULL, "Out of memory");
		return 0;
	}
	return PS_IMAP_PENDING;
}

/* From init, with imap.so among the requires: every worker has it. */
static int
xcount_init(struct ps_error *err)
{
	if (ps_iface_get(PS_IMAP_EXT_KIND, PS_IMAP_EXT_NAME, &imap,
			 sizeof(imap)) < 0 || !imap.add_command ||
	    imap.add_capability("XCOUNT") < 0 ||
	    imap.add_command("XCOUNT", PS_IMAP_SELECTED, xcount, NULL) < 0) {
		snprintf(err->msg, sizeof(err->msg), "cannot add XCOUNT to "
			 "imap.so");
		return PS_EFAIL;
	}
	return 0;
}

/* The storage backend is known once the configuration is. */
static int
xcount_worker_init(struct ps_error *err)
{
	if (ps_iface_get(PS_STORAGE_KIND, NULL, &store, sizeof(store)) < 0) {
		snprintf(err->msg, sizeof(err->msg), "no storage backend "
			 "loaded");
		return PS_EFAIL;
	}
	return 0;
}

PS_MODULE_DEFINE(.name = "xcount", .version = "1.0",
		 .requires = xcount_requires, .init = xcount_init,
		 .worker_init = xcount_worker_init);
