/* DELETE and RENAME for storage_sqlite, with their hierarchy rules:
 * a mailbox with children stays as \Noselect, and a \Noselect one with
 * children cannot go (RFC 3501 6.3.4); a rename takes the children along
 * and renaming INBOX moves its messages to a new mailbox (6.3.5). */
#include <string.h>

#include "storage_sqlite.h"

/* With children, the mailbox stays as \Noselect without its messages:
 * sessions that have it open see them expunged. */
static int
ss_make_noselect(struct ss_conn *c, const struct ss_mbox_row *row,
		 struct ps_error *err)
{
	uint64_t modseq;
	int r = ss_mbox_bump(c, row->id, &modseq, err);

	if (r == 0)
		r = ss_expunge_range(c, row->id, 1, UINT32_MAX, 0, modseq, NULL,
				     err);
	if (r == 0)
		r = ss_exec(c, err, "UPDATE mailbox SET noselect = 1,"
			    " special_use = 0 WHERE id = ?", "i", row->id);
	return r < 0 ? r : 0;
}

static int
ss_delete_in(struct ss_conn *c, const char *name, struct ps_error *err)
{
	struct ss_mbox_row row;
	int kids = 0;
	int r = ss_mbox_get(c, name, 0, 0, &row, err);

	if (r == 0)
		r = ss_mbox_has_children(c, name, &kids, err);
	if (r < 0)
		return r;
	if (kids && row.noselect)
		return ss_err(err, PS_STORE_EHASCHILD, "mailbox \"%s\" is "
			      "\\Noselect and has children", name);
	if (kids)
		return ss_make_noselect(c, &row, err);
	/* Messages first, so the triggers free their bodies; the
	 * tombstones go with the row. */
	r = ss_exec(c, err, "DELETE FROM message WHERE mailbox_id = ?", "i",
		    row.id);
	if (r >= 0)
		r = ss_exec(c, err, "DELETE FROM mailbox WHERE id = ?", "i",
			    row.id);
	return r < 0 ? r : 0;
}

int
ss_mailbox_delete(struct ps_store_user *u, const char *name,
		  struct ps_error *err)
{
	char canon[SS_NAME_MAX + 1];
	int r = ss_name_canon(name, canon, err);

	if (r < 0)
		return r;
	if (strcmp(canon, "INBOX") == 0)
		return ss_err(err, PS_STORE_EBADNAME,
			      "INBOX cannot be deleted");
	r = ss_write_begin(&u->c, SS_SYNC_FULL, err);
	if (r < 0)
		return r;
	r = ss_delete_in(&u->c, canon, err);
	r = ss_write_end(&u->c, r, 1, err);
	if (r == 0)
		ss_notify(u, canon);
	return r;
}

/* INBOX stays, empty: its messages move to a new mailbox "to", taking
 * UIDs from 1 there, and leave tombstones in INBOX. Its children stay. */
static int
ss_rename_inbox(struct ss_conn *c, const struct ss_mbox_row *inbox,
		const char *to, struct ps_error *err)
{
	struct ss_mbox_row dst;
	struct ss_uidset all;
	int64_t id;
	size_t n;
	int r = ss_mbox_insert(c, to, 0, &id, err);

	if (r == 0)
		r = ss_mbox_get(c, NULL, id, 0, &dst, err);
	if (r == 0)
		r = ss_uidset(NULL, 0, &all, err);
	if (r == 0)
		r = ss_copy_rows(c, inbox->id, &all, &dst, 1, 0, NULL, NULL, &n,
				 err);
	return r;
}

/* The subtree's names change in one statement: "from" and
 * "from/..." become "to" and "to/...". */
static int
ss_rename_in(struct ss_conn *c, const char *from, const char *to,
	     struct ps_error *err)
{
	struct ss_mbox_row row;
	int64_t one;
	int r = ss_mbox_get(c, from, 0, 0, &row, err);

	if (r == 0)
		r = ss_query_int(c, err, &one, "SELECT 1 FROM mailbox"
				 " WHERE name = ?", "s", to);
	if (r == 1)
		return ss_err(err, PS_STORE_EEXIST, "mailbox \"%s\" exists",
			      to);
	if (r == 0)
		r = ss_mbox_parents(c, to, err);
	if (r == 0 && strcmp(from, "INBOX") == 0)
		return ss_rename_inbox(c, &row, to, err);
	if (r == 0)
		r = ss_exec(c, err, "UPDATE mailbox SET name = ?2 ||"
			    " substr(name, length(?1) + 1) WHERE name = ?1"
			    " OR " SS_CHILDREN_OF("?1"), "ss", from, to);
	return r < 0 ? r : 0;
}

int
ss_mailbox_rename(struct ps_store_user *u, const char *from, const char *to,
		  struct ps_error *err)
{
	char f[SS_NAME_MAX + 1], t[SS_NAME_MAX + 1];
	size_t flen;
	int r = ss_name_canon(from, f, err);

	if (r == 0)
		r = ss_name_canon(to, t, err);
	if (r < 0)
		return r;
	flen = strlen(f);
	if (strcmp(t, "INBOX") == 0)
		return ss_err(err, PS_STORE_EEXIST, "mailbox \"INBOX\" exists");
	/* INBOX's children stay where they are, so it may move below
	 * itself. */
	if (strcmp(f, "INBOX") != 0 && strncmp(t, f, flen) == 0 &&
	    t[flen] == SS_DELIM)
		return ss_err(err, PS_STORE_EBADNAME, "cannot move \"%s\" "
			      "below itself", f);
	r = ss_write_begin(&u->c, SS_SYNC_FULL, err);
	if (r < 0)
		return r;
	r = ss_rename_in(&u->c, f, t, err);
	r = ss_write_end(&u->c, r, 1, err);
	if (r == 0) {
		ss_notify(u, f);
		ss_notify(u, t);
	}
	return r;
}
