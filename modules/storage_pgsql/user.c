/* Users of storage_pgsql: one row in store_user each, created with its
 * INBOX on first open (in one statement, so two front ends opening a new
 * user at once make one), deleted with everything below it by the
 * foreign keys' cascades. Quota usage is the RFC 9208 STORAGE (octets)
 * and MESSAGE resources. */
#include <stdlib.h>
#include <string.h>

#include "storage_pgsql.h"

static void
sp_user_free(struct ps_store_user *u)
{
	sp_conn_close(&u->c);
	free(u->name);
	free(u);
}

/* The user's row, made with INBOX if missing. */
static int
sp_user_row(struct ps_store_user *u, struct ps_error *err)
{
	int r = sp_conn_take(&u->c, err);

	if (r < 0)
		return r;
	/* Known already: one round trip. */
	r = sp_query_int(&u->c, err, &u->id, "SELECT id FROM store_user"
			 " WHERE name = $1", "s", u->name);
	if (r != 0) {
		sp_conn_give(&u->c);
		return r < 0 ? r : 0;
	}
	r = sp_exec(&u->c, err, "WITH n AS (INSERT INTO store_user (name,"
		    " uidvalidity) VALUES ($1, extract(epoch FROM now())"
		    "::bigint) ON CONFLICT (name) DO NOTHING"
		    " RETURNING id, uidvalidity)"
		    " INSERT INTO store_mailbox (user_id, name, uidvalidity)"
		    " SELECT id, 'INBOX', uidvalidity FROM n", "s", u->name);
	if (r >= 0)
		r = sp_query_int(&u->c, err, &u->id, "SELECT id FROM store_user"
				 " WHERE name = $1", "s", u->name);
	if (r == 0)
		r = sp_err(err, PS_EIO, "user %s vanished while opened",
			   u->name);
	sp_conn_give(&u->c);
	return r < 0 ? r : 0;
}

int
sp_user_open(const char *user, uint64_t quota_bytes,
	     struct ps_store_user **u_r, struct ps_error *err)
{
	struct ps_store_user *u = calloc(1, sizeof(*u));
	int r;

	*u_r = NULL;
	if (!u)
		return sp_err(err, PS_ENOMEM, "out of memory");
	sp_conn_init(&u->c);
	u->quota = quota_bytes;
	r = sp_user_name(user, &u->name, err);
	if (r == 0)
		r = sp_user_row(u, err);
	if (r < 0) {
		sp_user_free(u);
		return r;
	}
	*u_r = u;
	return 0;
}

/* Mailbox and append handles of u are closed first (they point to it). */
void
sp_user_close(struct ps_store_user *u)
{
	if (u)
		sp_user_free(u);
}

/* Everything of the user goes in one transaction, after its row is
 * locked: a change in flight finishes first, later ones find no user.
 * Files of bodies under blob_dir go once the deletion committed. */
int
sp_user_delete(const char *user, struct ps_error *err)
{
	struct ps_store_user u = { .id = 0 };
	int64_t id = 0;
	int r = sp_user_name(user, &u.name, err);

	if (r < 0)
		return r;
	sp_conn_init(&u.c);
	r = sp_conn_take(&u.c, err);
	if (r == 0) {
		r = sp_query_int(&u.c, err, &id, "SELECT id FROM store_user"
				 " WHERE name = $1", "s", u.name);
		sp_conn_give(&u.c);
	}
	u.id = id;
	if (r == 1)
		r = sp_write_begin(&u.c, &u, SP_SYNC_FULL, err);
	else if (r == 0) {
		free(u.name);
		return 0; /* never opened: nothing to delete */
	}
	if (r == 0) {
		r = sp_exec(&u.c, err, "DELETE FROM store_user WHERE id = $1",
			    "i", u.id);
		if (r >= 0)
			r = sp_announce(&u.c, "INBOX", err);
		r = sp_write_end(&u.c, r < 0 ? r : 0, err);
		if (r == 0)
			sp_blob_sweep(&u.c);
	}
	/* Deleted by another process meanwhile: done all the same. */
	if (r == PS_STORE_ENOMBOX)
		r = 0;
	sp_conn_close(&u.c);
	free(u.name);
	return r;
}

int
sp_quota_get(struct ps_store_user *u, uint64_t *bytes_r,
	     uint64_t *messages_r, struct ps_error *err)
{
	int r = sp_read_begin(&u->c, err);

	if (r < 0)
		return r;
	r = sp_usage(&u->c, u->id, bytes_r, messages_r, err);
	sp_read_end(&u->c);
	return r;
}
