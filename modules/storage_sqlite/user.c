/* Users of storage_sqlite: one database per user, so writers of different
 * users never contend; created, with its folder and INBOX, on first open.
 * Quota usage is the RFC 9208 STORAGE (octets) and MESSAGE resources. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "storage_sqlite.h"

static void
ss_user_free(struct ps_store_user *u)
{
	ss_conn_close(&u->c);
	free(u->name);
	free(u->dir);
	free(u->file);
	free(u);
}

int
ss_user_open(const char *user, uint64_t quota_bytes,
	     struct ps_store_user **u_r, struct ps_error *err)
{
	struct ps_store_user *u = calloc(1, sizeof(*u));
	int r;

	*u_r = NULL;
	if (!u)
		return ss_err(err, PS_ENOMEM, "out of memory");
	u->quota = quota_bytes;
	r = ss_user_path(user, &u->name, &u->dir, &u->file, err);
	if (r < 0) {
		ss_user_free(u);
		return r;
	}
	ss_conn_init(&u->c, u->file);
	/* A pooled connection's database exists; else make the folder and
	 * the database. Migrating an up-to-date one is one header read. */
	if (!ss_conn_pooled(&u->c))
		r = ss_mkdirs(u->dir, err);
	if (r == 0)
		r = ss_conn_create(&u->c, err);
	if (r == 0)
		r = ss_schema_migrate(&u->c, err);
	if (r < 0) {
		ss_user_free(u);
		return r;
	}
	/* The handle holds no connection between calls. */
	ss_conn_close(&u->c);
	*u_r = u;
	return 0;
}

/* Mailbox and append handles of u are closed first (they point to it). */
void
ss_user_close(struct ps_store_user *u)
{
	if (u)
		ss_user_free(u);
}

static int
ss_unlink(const char *file, const char *suffix, struct ps_error *err)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s%s", file, suffix);
	if (unlink(path) < 0 && errno != ENOENT)
		return ss_err(err, PS_EIO, "unlink %s: %s", path,
			      strerror(errno));
	return 0;
}

/* Remove the user's database. Handles still open on it keep reading the
 * unlinked file and refuse changes (ss_write_begin); a user never opened
 * is no error. */
int
ss_user_delete(const char *user, struct ps_error *err)
{
	char *name, *dir, *file;
	int r = ss_user_path(user, &name, &dir, &file, err);

	if (r < 0)
		return r;
	ss_pool_forget(file);
	r = ss_unlink(file, "", err);
	if (r == 0)
		r = ss_unlink(file, "-wal", err);
	if (r == 0)
		r = ss_unlink(file, "-shm", err);
	/* The domain's folder goes with its last user. */
	if (r == 0)
		rmdir(dir);
	free(name);
	free(dir);
	free(file);
	return r;
}

int
ss_quota_get(struct ps_store_user *u, uint64_t *bytes_r,
	     uint64_t *messages_r, struct ps_error *err)
{
	int r = ss_read_begin(&u->c, err);

	if (r < 0)
		return r;
	r = ss_usage(&u->c, bytes_r, messages_r, err);
	ss_read_end(&u->c);
	return r;
}
