/* DELETE and RENAME for storage_pgsql, with their hierarchy rules:
 * a mailbox with children stays as \Noselect, and a \Noselect one with
 * children cannot go (RFC 3501 6.3.4); a rename takes the children along
 * and their subscriptions, and renaming INBOX moves its messages to a new
 * mailbox (6.3.5). */
#include <stdlib.h>
#include <string.h>

#include "storage_pgsql.h"

#define SP_CHILDREN_OF(n) "name > " n " || '/' AND name < " n " || '0'"

/* With children, the mailbox stays as \Noselect without its messages:
 * sessions that have it open see them expunged. */
static int
sp_make_noselect(struct sp_conn *c, const struct sp_mbox_row *row,
		 struct ps_error *err)
{
	uint64_t modseq;
	int r = sp_mbox_bump(c, row->id, &modseq, err);

	if (r == 0)
		r = sp_expunge_range(c, row->id, 1, UINT32_MAX, 0, modseq, NULL,
				     err);
	if (r == 0)
		r = sp_exec(c, err, "UPDATE store_mailbox SET noselect = 1,"
			    " special_use = 0 WHERE id = $1", "i", row->id);
	return r < 0 ? r : 0;
}

static int
sp_delete_in(struct sp_conn *c, int64_t user, const char *name,
	     struct ps_error *err)
{
	struct sp_mbox_row row;
	int kids = 0;
	int r = sp_mbox_get(c, user, name, 0, 0, &row, err);

	if (r == 0)
		r = sp_mbox_has_children(c, user, name, &kids, err);
	if (r < 0)
		return r;
	if (kids && row.noselect)
		return sp_err(err, PS_STORE_EHASCHILD, "mailbox \"%s\" is "
			      "\\Noselect and has children", name);
	if (kids)
		return sp_make_noselect(c, &row, err);
	/* Messages first, so the triggers free their bodies; the
	 * tombstones go with the row. */
	r = sp_exec(c, err, "DELETE FROM store_message WHERE mailbox_id = $1",
		    "i", row.id);
	if (r >= 0)
		r = sp_exec(c, err, "DELETE FROM store_mailbox WHERE id = $1",
			    "i", row.id);
	return r < 0 ? r : 0;
}

int
sp_mailbox_delete(struct ps_store_user *u, const char *name,
		  struct ps_error *err)
{
	char canon[SP_NAME_MAX + 1];
	int r = sp_name_canon(name, canon, err);

	if (r < 0)
		return r;
	if (strcmp(canon, "INBOX") == 0)
		return sp_err(err, PS_STORE_EBADNAME,
			      "INBOX cannot be deleted");
	r = sp_write_begin(&u->c, u, SP_SYNC_FULL, err);
	if (r < 0)
		return r;
	r = sp_delete_in(&u->c, u->id, canon, err);
	if (r == 0)
		r = sp_announce(&u->c, canon, err);
	r = sp_write_end(&u->c, r, err);
	if (r == 0)
		sp_blob_sweep(&u->c);
	return r;
}

/* INBOX stays, empty: its messages move to a new mailbox "to", taking
 * UIDs from 1 there, and leave tombstones in INBOX. Its children stay. */
static int
sp_rename_inbox(struct sp_conn *c, int64_t user,
		const struct sp_mbox_row *inbox, const char *to,
		struct ps_error *err)
{
	struct sp_mbox_row dst;
	struct pst_uidset all;
	int64_t id;
	size_t n;
	int r = sp_mbox_insert(c, user, to, 0, &id, err);

	if (r == 0)
		r = sp_mbox_get(c, user, NULL, id, 0, &dst, err);
	if (r == 0)
		r = pst_uidset(NULL, 0, &all, err);
	if (r == 0)
		r = sp_copy_rows(c, user, inbox->id, &all, &dst, 1, 0, NULL,
				 NULL, &n, err);
	if (r == 0)
		r = sp_announce(c, "INBOX", err);
	return r < 0 ? r : sp_announce(c, to, err);
}

/* Announce each moved mailbox: the old names, read before the change. */
static int
sp_rename_announce(struct sp_conn *c, int64_t user, const char *from,
		   const char *to, struct ps_error *err)
{
	PGresult *res = sp_query(c, err, "SELECT name FROM store_mailbox"
				 " WHERE user_id = $1 AND (name = $2 OR "
				 SP_CHILDREN_OF("$2") ")", "is", user, from);
	size_t flen = strlen(from);
	int r = res ? 0 : PS_EIO;

	for (int i = 0; r == 0 && i < PQntuples(res); i++) {
		const char *old = PQgetvalue(res, i, 0);

		r = sp_announce_rename(c, old, to, old + flen, err);
	}
	PQclear(res);
	return r;
}

/* The subtree's names change in one statement: "from" and
 * "from/..." become "to" and "to/...". Subscriptions of those
 * mailboxes move with them first; a subscribed name that is no mailbox
 * stays, as RFC 3501 6.3.6 wants of names the client did not ask to
 * change. */
static int
sp_rename_in(struct sp_conn *c, int64_t user, const char *from,
	     const char *to, struct ps_error *err)
{
	struct sp_mbox_row row;
	int64_t one, longest = 0;
	int r = sp_mbox_get(c, user, from, 0, 0, &row, err);

	if (r == 0)
		r = sp_query_int(c, err, &one, "SELECT 1 FROM store_mailbox"
				 " WHERE user_id = $1 AND name = $2", "is",
				 user, to);
	if (r == 1)
		return sp_err(err, PS_STORE_EEXIST, "mailbox \"%s\" exists",
			      to);
	/* Children get longer names too: none may pass the bound that
	 * every name is held to. */
	if (r == 0 && strcmp(from, "INBOX") != 0)
		r = sp_query_int(c, err, &longest, "SELECT max(octet_length("
				 "name)) FROM store_mailbox WHERE user_id = $1"
				 " AND (name = $2 OR " SP_CHILDREN_OF("$2")
				 ")", "is", user, from);
	if (r == 1 && longest - (int64_t)strlen(from) + (int64_t)strlen(to) >
		      SP_NAME_MAX)
		return sp_err(err, PS_STORE_EBADNAME, "a mailbox below \"%s\""
			      " would get a name longer than %d bytes", to,
			      SP_NAME_MAX);
	if (r == 1)
		r = 0;
	if (r == 0)
		r = sp_mbox_parents(c, user, to, err);
	if (r == 0 && strcmp(from, "INBOX") == 0)
		return sp_rename_inbox(c, user, &row, to, err);
	if (r == 0)
		r = sp_rename_announce(c, user, from, to, err);
	/* Subscriptions of the subtree that would collide with ones of
	 * the new names are dropped first (both name the same then). */
	if (r == 0)
		r = sp_exec(c, err, "DELETE FROM store_subscription s WHERE"
			    " s.user_id = $1 AND s.name IN (SELECT $3 ||"
			    " substr(t.name, length($2) + 1) FROM"
			    " store_subscription t WHERE t.user_id = $1 AND"
			    " t.name IN (SELECT name FROM store_mailbox WHERE"
			    " user_id = $1 AND (name = $2 OR "
			    SP_CHILDREN_OF("$2") ")))", "iss", user, from, to);
	if (r >= 0)
		r = sp_exec(c, err, "UPDATE store_subscription SET name = $3 ||"
			    " substr(name, length($2) + 1) WHERE user_id = $1"
			    " AND name IN (SELECT name FROM store_mailbox"
			    "  WHERE user_id = $1 AND (name = $2 OR "
			    SP_CHILDREN_OF("$2") "))", "iss", user, from, to);
	if (r >= 0)
		r = sp_exec(c, err, "UPDATE store_mailbox SET name = $3 ||"
			    " substr(name, length($2) + 1) WHERE user_id = $1"
			    " AND (name = $2 OR " SP_CHILDREN_OF("$2") ")",
			    "iss", user, from, to);
	return r < 0 ? r : 0;
}

int
sp_mailbox_rename(struct ps_store_user *u, const char *from, const char *to,
		  struct ps_error *err)
{
	char f[SP_NAME_MAX + 1], t[SP_NAME_MAX + 1];
	size_t flen;
	int r = sp_name_canon(from, f, err);

	if (r == 0)
		r = sp_name_canon(to, t, err);
	if (r < 0)
		return r;
	flen = strlen(f);
	if (strcmp(t, "INBOX") == 0)
		return sp_err(err, PS_STORE_EEXIST, "mailbox \"INBOX\" exists");
	/* INBOX's children stay where they are, so it may move below
	 * itself. */
	if (strcmp(f, "INBOX") != 0 && strncmp(t, f, flen) == 0 &&
	    t[flen] == SP_DELIM)
		return sp_err(err, PS_STORE_EBADNAME, "cannot move \"%s\" "
			      "below itself", f);
	r = sp_write_begin(&u->c, u, SP_SYNC_FULL, err);
	if (r < 0)
		return r;
	r = sp_rename_in(&u->c, u->id, f, t, err);
	return sp_write_end(&u->c, r, err);
}
