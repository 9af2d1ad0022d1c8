/* Mailboxes of storage_sqlite: rows and their counters, LIST (RFC 3501
 * 6.3.8 with RFC 5258 attributes and RFC 6154 special use), CREATE with
 * missing parents (RFC 3501 6.3.3), SUBSCRIBE and UNSUBSCRIBE (6.3.6,
 * 6.3.7; RFC 9051 6.3.8: unsubscribing an unknown name succeeds), and the
 * change notices on the bus. */
#include <stdio.h>
#include <string.h>

#include "storage_sqlite.h"

#define SS_MBOX_COLUMNS                                                   \
	"SELECT id, name, uidvalidity, uidnext, recent_uid, messages, "   \
	"unseen, highestmodseq, bytes, special_use, noselect FROM mailbox "

static void
ss_mbox_fill(sqlite3_stmt *st, struct ss_mbox_row *r)
{
	const char *name = (const char *)sqlite3_column_text(st, 1);

	r->id = sqlite3_column_int64(st, 0);
	snprintf(r->name, sizeof(r->name), "%s", name ? name : "");
	r->uidvalidity = (uint32_t)sqlite3_column_int64(st, 2);
	r->uidnext = (uint32_t)sqlite3_column_int64(st, 3);
	r->recent_uid = (uint32_t)sqlite3_column_int64(st, 4);
	r->messages = (uint32_t)sqlite3_column_int64(st, 5);
	r->unseen = (uint32_t)sqlite3_column_int64(st, 6);
	r->modseq = (uint64_t)sqlite3_column_int64(st, 7);
	r->bytes = (uint64_t)sqlite3_column_int64(st, 8);
	r->special_use = (unsigned)sqlite3_column_int(st, 9);
	r->noselect = sqlite3_column_int(st, 10);
}

/* The row of mailbox name (canonical), or of id when name is NULL.
 * selectable: refuse a \Noselect one (RFC 3501 6.3.1). */
int
ss_mbox_get(struct ss_conn *c, const char *name, int64_t id, int selectable,
	    struct ss_mbox_row *r, struct ps_error *err)
{
	sqlite3_stmt *st = name
		? ss_prep(c, err, SS_MBOX_COLUMNS "WHERE name = ?", "s", name)
		: ss_prep(c, err, SS_MBOX_COLUMNS "WHERE id = ?", "i", id);
	int rc;

	if (!st)
		return PS_EIO;
	rc = ss_step(c, st, err);
	if (rc == 1)
		ss_mbox_fill(st, r);
	ss_done(c, st);
	if (rc == 0 && name)
		return ss_err(err, PS_STORE_ENOMBOX, "no mailbox \"%s\"", name);
	if (rc == 0)
		return ss_err(err, PS_STORE_ENOMBOX,
			      "the open mailbox no longer exists");
	if (rc == 1 && selectable && r->noselect)
		return ss_err(err, PS_STORE_ENOSELECT,
			      "mailbox \"%s\" is \\Noselect", r->name);
	return rc < 0 ? rc : 0;
}

/* One new MODSEQ for everything a transaction changes in the mailbox
 * (RFC 7162 3: messages changed together may share it). */
int
ss_mbox_bump(struct ss_conn *c, int64_t id, uint64_t *modseq_r,
	     struct ps_error *err)
{
	int64_t v;
	int r = ss_query_int(c, err, &v, "UPDATE mailbox SET highestmodseq ="
			     " highestmodseq + 1 WHERE id = ?"
			     " RETURNING highestmodseq", "i", id);

	if (r == 0)
		return ss_err(err, PS_STORE_ENOMBOX,
			      "the open mailbox no longer exists");
	*modseq_r = (uint64_t)v;
	return r < 0 ? r : 0;
}

/* Reserve n UIDs from uidnext. UIDs are 32 bits (RFC 3501 2.3.1.1). */
int
ss_mbox_take_uids(struct ss_conn *c, int64_t id, uint32_t n,
		  uint32_t *first_r, struct ps_error *err)
{
	int64_t v;
	int r = ss_query_int(c, err, &v, "UPDATE mailbox SET uidnext ="
			     " uidnext + ?2 WHERE id = ?1 AND"
			     " uidnext + ?2 <= 4294967296"
			     " RETURNING uidnext - ?2", "iu", id, n);

	if (r == 0)
		return ss_err(err, PS_EFAIL, "the mailbox has no UIDs left");
	*first_r = (uint32_t)v;
	return r < 0 ? r : 0;
}

/* A new UIDVALIDITY: the time, or one more than the last one given if
 * that is not earlier, so it is unique per user even for a name deleted
 * and created again within a second (RFC 3501 2.3.1.1). */
static int
ss_uidvalidity_next(struct ss_conn *c, struct ps_error *err)
{
	int r = ss_exec(c, err, "UPDATE meta SET value = max(value + 1,"
			" CAST(strftime('%s', 'now') AS INTEGER))"
			" WHERE key = 'uidvalidity'", "");

	return r < 0 ? r : 0;
}

int
ss_mbox_insert(struct ss_conn *c, const char *name, unsigned special_use,
	       int64_t *id_r, struct ps_error *err)
{
	int r = ss_uidvalidity_next(c, err);

	if (r == 0)
		r = ss_exec(c, err, "INSERT INTO mailbox (name, uidvalidity,"
			    " special_use) SELECT ?, value, ? FROM meta"
			    " WHERE key = 'uidvalidity'", "su", name,
			    special_use);
	if (r < 0)
		return r;
	if (id_r)
		*id_r = sqlite3_last_insert_rowid(c->db);
	return 0;
}

/* CREATE on a \Noselect name makes it a mailbox again, as a new one. */
static int
ss_mbox_reselect(struct ss_conn *c, int64_t id, unsigned special_use,
		 struct ps_error *err)
{
	int r = ss_uidvalidity_next(c, err);

	if (r == 0)
		r = ss_exec(c, err, "UPDATE mailbox SET noselect = 0,"
			    " special_use = ?2, uidvalidity = (SELECT value"
			    " FROM meta WHERE key = 'uidvalidity')"
			    " WHERE id = ?1", "iu", id, special_use);
	return r < 0 ? r : 0;
}

/* Create the missing superiors of name (RFC 3501 6.3.3), outermost
 * first. They are ordinary mailboxes, so every name in the tree can be
 * selected unless a DELETE made it \Noselect. */
int
ss_mbox_parents(struct ss_conn *c, const char *name, struct ps_error *err)
{
	char prefix[SS_NAME_MAX + 1];
	int64_t one;
	int r = 0;

	for (const char *d = strchr(name, SS_DELIM); d && r >= 0;
	     d = strchr(d + 1, SS_DELIM)) {
		memcpy(prefix, name, (size_t)(d - name));
		prefix[d - name] = '\0';
		r = ss_query_int(c, err, &one, "SELECT 1 FROM mailbox"
				 " WHERE name = ?", "s", prefix);
		if (r == 0)
			r = ss_mbox_insert(c, prefix, 0, NULL, err);
	}
	return r < 0 ? r : 0;
}

int
ss_mbox_has_children(struct ss_conn *c, const char *name, int *yes_r,
		     struct ps_error *err)
{
	int64_t one;
	int r = ss_query_int(c, err, &one, "SELECT 1 FROM mailbox WHERE "
			     SS_CHILDREN_OF("?1") " LIMIT 1", "s", name);

	*yes_r = r == 1;
	return r < 0 ? r : 0;
}

int
ss_usage(struct ss_conn *c, uint64_t *bytes_r, uint64_t *messages_r,
	 struct ps_error *err)
{
	sqlite3_stmt *st = ss_prep(c, err, "SELECT coalesce(sum(bytes), 0),"
				   " coalesce(sum(messages), 0) FROM mailbox",
				   "");
	int r;

	if (!st)
		return PS_EIO;
	r = ss_step(c, st, err);
	*bytes_r = r == 1 ? (uint64_t)sqlite3_column_int64(st, 0) : 0;
	if (messages_r)
		*messages_r = r == 1 ? (uint64_t)sqlite3_column_int64(st, 1)
				     : 0;
	ss_done(c, st);
	return r < 0 ? r : 0;
}

/* Tell every worker that mailbox changed. Tools have no bus (ESTATE),
 * and a topic past the bus's bound goes unannounced: receivers that
 * miss a notice still resynchronise on their next command. */
void
ss_notify(const struct ps_store_user *u, const char *mailbox)
{
	char topic[sizeof(PS_STORAGE_TOPIC) + PS_AUTH_NAME_MAX];

	snprintf(topic, sizeof(topic), "%s%s", PS_STORAGE_TOPIC, u->name);
	(void)ps_bus_publish(topic, mailbox, strlen(mailbox));
}

/* A mailbox moved by RENAME: one notice with the old name, a NUL and the
 * new one (to followed by rest), then one for the new name. Receivers
 * that read the data as a string see the old name. */
void
ss_notify_rename(const struct ps_store_user *u, const char *old,
		 const char *to, const char *rest)
{
	char topic[sizeof(PS_STORAGE_TOPIC) + PS_AUTH_NAME_MAX];
	char data[2 * (SS_NAME_MAX + 1)];
	int n = snprintf(data, sizeof(data), "%s%c%s%s", old, '\0', to,
			 rest);

	if (n < 0 || (size_t)n >= sizeof(data))
		return;
	snprintf(topic, sizeof(topic), "%s%s", PS_STORAGE_TOPIC, u->name);
	(void)ps_bus_publish(topic, data, (size_t)n);
	ss_notify(u, data + strlen(old) + 1);
}

static unsigned
ss_list_attrs(sqlite3_stmt *st)
{
	unsigned a = 0;

	if (sqlite3_column_int(st, 1) < 0)
		return PS_MBOX_NONEXISTENT | PS_MBOX_SUBSCRIBED;
	if (sqlite3_column_int(st, 1))
		a |= PS_MBOX_NOSELECT;
	a |= (unsigned)sqlite3_column_int(st, 2) & PS_MBOX_SPECIAL_USE;
	a |= sqlite3_column_int(st, 3) ? PS_MBOX_HASCHILDREN
				       : PS_MBOX_HASNOCHILDREN;
	if (sqlite3_column_int(st, 4))
		a |= PS_MBOX_SUBSCRIBED;
	return a;
}

/* Every mailbox, then every subscribed name that is not one (noselect
 * -1 marks those: RFC 5258 3, \NonExistent). */
int
ss_mailbox_list(struct ps_store_user *u, ps_store_mailbox_fn fn, void *arg,
		struct ps_error *err)
{
	sqlite3_stmt *st;
	int r = ss_read_begin(&u->c, err);

	if (r < 0)
		return r;
	st = ss_prep(&u->c, err, "SELECT m.name, m.noselect, m.special_use,"
		     " EXISTS (SELECT 1 FROM mailbox WHERE "
		     SS_CHILDREN_OF("m.name") "),"
		     " EXISTS (SELECT 1 FROM subscription s"
		     "  WHERE s.name = m.name)"
		     " FROM mailbox m"
		     " UNION ALL SELECT s.name, -1, 0, 0, 1 FROM subscription s"
		     " WHERE NOT EXISTS (SELECT 1 FROM mailbox m"
		     "  WHERE m.name = s.name)", "");
	r = st ? 0 : PS_EIO;
	while (r == 0 && (r = ss_step(&u->c, st, err)) == 1) {
		struct ps_mailbox_info mb = {
			.name = (const char *)sqlite3_column_text(st, 0),
			.attrs = ss_list_attrs(st),
		};
		r = fn(&mb, arg);
	}
	ss_done(&u->c, st);
	ss_read_end(&u->c);
	return r;
}

static int
ss_create_in(struct ss_conn *c, const char *name, unsigned special_use,
	     struct ps_error *err)
{
	struct ss_mbox_row row;
	int r = ss_mbox_get(c, name, 0, 0, &row, err);

	if (r == 0 && !row.noselect)
		return ss_err(err, PS_STORE_EEXIST, "mailbox \"%s\" exists",
			      name);
	if (r == 0)
		return ss_mbox_reselect(c, row.id, special_use, err);
	if (r != PS_STORE_ENOMBOX)
		return r;
	r = ss_mbox_parents(c, name, err);
	return r < 0 ? r : ss_mbox_insert(c, name, special_use, NULL, err);
}

int
ss_mailbox_create(struct ps_store_user *u, const char *name,
		  unsigned special_use, struct ps_error *err)
{
	char canon[SS_NAME_MAX + 1];
	int r = ss_name_canon(name, canon, err);

	if (r < 0)
		return r;
	if (special_use & ~PS_MBOX_SPECIAL_USE)
		return ss_err(err, PS_EINVAL, "0x%x is not special use",
			      special_use & ~PS_MBOX_SPECIAL_USE);
	r = ss_write_begin(&u->c, SS_SYNC_FULL, err);
	if (r < 0)
		return r;
	r = ss_create_in(&u->c, canon, special_use, err);
	r = ss_write_end(&u->c, r, 1, err);
	if (r == 0)
		ss_notify(u, canon);
	return r;
}

/* Subscriptions are names, existing or not (RFC 3501 6.3.6). */
int
ss_mailbox_subscribe(struct ps_store_user *u, const char *name,
		     int subscribe, struct ps_error *err)
{
	char canon[SS_NAME_MAX + 1];
	int r = ss_name_canon(name, canon, err);

	if (r < 0)
		return r;
	r = ss_write_begin(&u->c, SS_SYNC_FULL, err);
	if (r < 0)
		return r;
	r = subscribe ? ss_exec(&u->c, err, "INSERT OR IGNORE INTO"
				" subscription VALUES (?)", "s", canon)
		      : ss_exec(&u->c, err, "DELETE FROM subscription"
				" WHERE name = ?", "s", canon);
	r = ss_write_end(&u->c, r < 0 ? r : 0, 1, err);
	if (r == 0)
		ss_notify(u, canon);
	return r;
}
