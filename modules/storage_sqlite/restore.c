/* storage_sqlite's part of restoring a mailbox as it was elsewhere (SDK
 * 1.6, poshtactl migrate): a mailbox that never held a message takes a
 * given UIDVALIDITY, so clients' caches stay valid (RFC 3501 2.3.1.1).
 * append_msg_uid, the other half, lives with the append (append.c). */
#include "storage_sqlite.h"

/* In the caller's write transaction. The user's UIDVALIDITY counter
 * moves up to it too, so a mailbox created later still gets a value no
 * mailbox of the user had. */
static int
ss_set_uidvalidity_in(struct ss_conn *c, const char *name,
		      uint32_t uidvalidity, struct ps_error *err)
{
	struct ss_mbox_row row;
	int r = ss_mbox_get(c, name, 0, 1, &row, err);

	if (r < 0)
		return r;
	if (row.uidnext != 1)
		return ss_err(err, PS_EINVAL, "mailbox \"%s\" has held messages"
			      " (UIDNEXT %u): its UIDVALIDITY stays", name,
			      row.uidnext);
	r = ss_exec(c, err, "UPDATE mailbox SET uidvalidity = ? WHERE id = ?",
		    "ui", uidvalidity, row.id);
	if (r >= 0)
		r = ss_exec(c, err, "UPDATE meta SET value = max(value, ?)"
			    " WHERE key = 'uidvalidity'", "u", uidvalidity);
	return r < 0 ? r : 0;
}

int
ss_mailbox_set_uidvalidity(struct ps_store_user *u, const char *name,
			   uint32_t uidvalidity, struct ps_error *err)
{
	char canon[SS_NAME_MAX + 1];
	int r = ss_name_canon(name, canon, err);

	if (r < 0)
		return r;
	if (uidvalidity == 0) /* RFC 3501 9: nz-number */
		return ss_err(err, PS_EINVAL, "UIDVALIDITY 0");
	r = ss_write_begin(&u->c, SS_SYNC_FULL, err);
	if (r < 0)
		return r;
	r = ss_set_uidvalidity_in(&u->c, canon, uidvalidity, err);
	r = ss_write_end(&u->c, r, 1, err);
	if (r == 0)
		ss_notify(u, canon);
	return r;
}
