/* DELETE and RENAME for storage_sqlite, with their hierarchy rules:
 * a mailbox with children stays as \Noselect, and a \Noselect one with
 * children cannot go (RFC 3501 6.3.4); a rename takes the children along
 * and their subscriptions, and renaming INBOX moves its messages to a new
 * mailbox (6.3.5). */
#include <stdlib.h>
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
	struct pst_uidset all;
	int64_t id;
	size_t n;
	int r = ss_mbox_insert(c, to, 0, &id, err);

	if (r == 0)
		r = ss_mbox_get(c, NULL, id, 0, &dst, err);
	if (r == 0)
		r = pst_uidset(NULL, 0, &all, err);
	if (r == 0)
		r = ss_copy_rows(c, inbox->id, &all, &dst, 1, 0, NULL, NULL, &n,
				 err);
	return r;
}

/* The names a rename moves, one after another with their NULs, kept
 * from before the change to be announced after the commit. */
struct ss_moved {
	char *names;
	size_t len, cap;
};

static int
ss_moved_add(struct ss_moved *m, const char *name, struct ps_error *err)
{
	size_t n = strlen(name) + 1;

	if (m->len + n > m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 1024;
		char *p;

		while (cap < m->len + n)
			cap *= 2;
		if (!(p = realloc(m->names, cap)))
			return ss_err(err, PS_ENOMEM, "out of memory");
		m->names = p;
		m->cap = cap;
	}
	memcpy(m->names + m->len, name, n);
	m->len += n;
	return 0;
}

static int
ss_moved_collect(struct ss_conn *c, const char *from, struct ss_moved *m,
		 struct ps_error *err)
{
	sqlite3_stmt *st = ss_prep(c, err, "SELECT name FROM mailbox WHERE"
				   " name = ?1 OR " SS_CHILDREN_OF("?1"), "s",
				   from);
	int r = st ? 0 : PS_EIO;

	while (r == 0 && (r = ss_step(c, st, err)) == 1)
		r = ss_moved_add(m, (const char *)sqlite3_column_text(st, 0),
				 err);
	ss_done(c, st);
	return r;
}

/* The subtree's names change in one statement: "from" and
 * "from/..." become "to" and "to/...". Subscriptions of those
 * mailboxes move with them first (the client asked for the new names;
 * Cyrus does the same); a subscribed name that is no mailbox stays, as
 * RFC 3501 6.3.6 wants of names the client did not ask to change. */
static int
ss_rename_in(struct ss_conn *c, const char *from, const char *to,
	     struct ss_moved *moved, struct ps_error *err)
{
	struct ss_mbox_row row;
	int64_t one, longest = 0;
	int r = ss_mbox_get(c, from, 0, 0, &row, err);

	if (r == 0)
		r = ss_query_int(c, err, &one, "SELECT 1 FROM mailbox"
				 " WHERE name = ?", "s", to);
	if (r == 1)
		return ss_err(err, PS_STORE_EEXIST, "mailbox \"%s\" exists",
			      to);
	/* Children get longer names too: none may pass the bound that
	 * every name is held to. */
	if (r == 0 && strcmp(from, "INBOX") != 0)
		r = ss_query_int(c, err, &longest, "SELECT max(length(CAST("
				 "name AS BLOB))) FROM mailbox WHERE name = ?1"
				 " OR " SS_CHILDREN_OF("?1"), "s", from);
	if (r == 1 && longest - (int64_t)strlen(from) + (int64_t)strlen(to) >
		      SS_NAME_MAX)
		return ss_err(err, PS_STORE_EBADNAME, "a mailbox below \"%s\""
			      " would get a name longer than %d bytes", to,
			      SS_NAME_MAX);
	if (r == 1)
		r = 0;
	if (r == 0)
		r = ss_mbox_parents(c, to, err);
	if (r == 0 && strcmp(from, "INBOX") == 0)
		return ss_rename_inbox(c, &row, to, err);
	if (r == 0)
		r = ss_moved_collect(c, from, moved, err);
	if (r == 0)
		r = ss_exec(c, err, "UPDATE OR REPLACE subscription SET"
			    " name = ?2 || substr(name, length(?1) + 1)"
			    " WHERE name IN (SELECT name FROM mailbox"
			    "  WHERE name = ?1 OR " SS_CHILDREN_OF("?1") ")",
			    "ss", from, to);
	if (r >= 0)
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
	struct ss_moved moved = {NULL, 0, 0};
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
	r = ss_rename_in(&u->c, f, t, &moved, err);
	r = ss_write_end(&u->c, r, 1, err);
	if (r == 0 && !moved.len) {
		/* INBOX: it stays, its messages went to t. */
		ss_notify(u, f);
		ss_notify(u, t);
	}
	for (size_t at = 0; r == 0 && at < moved.len;) {
		const char *old = moved.names + at;

		ss_notify_rename(u, old, t, old + flen);
		at += strlen(old) + 1;
	}
	free(moved.names);
	return r;
}
