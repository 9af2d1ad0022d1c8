/* Mailboxes of storage_pgsql: rows and their counters, LIST (RFC 3501
 * 6.3.8 with RFC 5258 attributes and RFC 6154 special use), CREATE with
 * missing parents (RFC 3501 6.3.3), SUBSCRIBE and UNSUBSCRIBE (6.3.6,
 * 6.3.7; RFC 9051 6.3.8: unsubscribing an unknown name succeeds). */
#include <stdio.h>
#include <string.h>

#include "storage_pgsql.h"

/* The names below n: those in [n + '/', n + '0'), '0' being the
 * character after '/' (names sort bytewise: COLLATE "C"). */
#define SP_CHILDREN_OF(n) "name > " n " || '/' AND name < " n " || '0'"
#define SP_MBOX_COLUMNS                                                   \
	"SELECT id, name, uidvalidity, uidnext, recent_uid, messages, "   \
	"unseen, highestmodseq, bytes, special_use, noselect "            \
	"FROM store_mailbox "

static void
sp_mbox_fill(const PGresult *res, struct sp_mbox_row *r)
{
	r->id = sp_int(res, 0, 0);
	snprintf(r->name, sizeof(r->name), "%s", PQgetvalue(res, 0, 1));
	r->uidvalidity = (uint32_t)sp_int(res, 0, 2);
	r->uidnext = (uint32_t)sp_int(res, 0, 3);
	r->recent_uid = (uint32_t)sp_int(res, 0, 4);
	r->messages = (uint32_t)sp_int(res, 0, 5);
	r->unseen = (uint32_t)sp_int(res, 0, 6);
	r->modseq = (uint64_t)sp_int(res, 0, 7);
	r->bytes = (uint64_t)sp_int(res, 0, 8);
	r->special_use = (unsigned)sp_int(res, 0, 9);
	r->noselect = (int)sp_int(res, 0, 10);
}

/* The row of the user's mailbox name (canonical), or of id when name is
 * NULL. selectable: refuse a \Noselect one (RFC 3501 6.3.1). */
int
sp_mbox_get(struct sp_conn *c, int64_t user, const char *name, int64_t id,
	    int selectable, struct sp_mbox_row *r, struct ps_error *err)
{
	PGresult *res = name
		? sp_query(c, err, SP_MBOX_COLUMNS "WHERE user_id = $1"
			   " AND name = $2", "is", user, name)
		: sp_query(c, err, SP_MBOX_COLUMNS "WHERE id = $1", "i", id);
	int found;

	if (!res)
		return PS_EIO;
	found = PQntuples(res) > 0;
	if (found)
		sp_mbox_fill(res, r);
	PQclear(res);
	if (!found && name)
		return sp_err(err, PS_STORE_ENOMBOX, "no mailbox \"%s\"", name);
	if (!found)
		return sp_err(err, PS_STORE_ENOMBOX,
			      "the open mailbox no longer exists");
	if (selectable && r->noselect)
		return sp_err(err, PS_STORE_ENOSELECT,
			      "mailbox \"%s\" is \\Noselect", r->name);
	return 0;
}

/* One new MODSEQ for everything a transaction changes in the mailbox
 * (RFC 7162 3: messages changed together may share it). */
int
sp_mbox_bump(struct sp_conn *c, int64_t id, uint64_t *modseq_r,
	     struct ps_error *err)
{
	int64_t v;
	int r = sp_query_int(c, err, &v, "UPDATE store_mailbox SET"
			     " highestmodseq = highestmodseq + 1 WHERE id = $1"
			     " RETURNING highestmodseq", "i", id);

	if (r == 0)
		return sp_err(err, PS_STORE_ENOMBOX,
			      "the open mailbox no longer exists");
	*modseq_r = (uint64_t)v;
	return r < 0 ? r : 0;
}

/* Reserve n UIDs from uidnext. UIDs are 32 bits (RFC 3501 2.3.1.1). */
int
sp_mbox_take_uids(struct sp_conn *c, int64_t id, uint32_t n,
		  uint32_t *first_r, struct ps_error *err)
{
	int64_t v;
	int r = sp_query_int(c, err, &v, "UPDATE store_mailbox SET uidnext ="
			     " uidnext + $2 WHERE id = $1 AND"
			     " uidnext + $2 <= 4294967296"
			     " RETURNING uidnext - $2", "iu", id, n);

	if (r == 0)
		return sp_err(err, PS_EFAIL, "the mailbox has no UIDs left");
	*first_r = (uint32_t)v;
	return r < 0 ? r : 0;
}

/* A new UIDVALIDITY: the time, or one more than the user's last one if
 * that is not earlier, so it is unique per user even for a name deleted
 * and created again within a second (RFC 3501 2.3.1.1). */
static int
sp_uidvalidity_next(struct sp_conn *c, int64_t user, int64_t *v_r,
		    struct ps_error *err)
{
	int r = sp_query_int(c, err, v_r, "UPDATE store_user SET uidvalidity"
			     " = greatest(uidvalidity + 1,"
			     " extract(epoch FROM now())::bigint)"
			     " WHERE id = $1 RETURNING uidvalidity", "i",
			     user);

	if (r == 0)
		return sp_err(err, PS_STORE_ENOMBOX, "the user was deleted");
	return r < 0 ? r : 0;
}

int
sp_mbox_insert(struct sp_conn *c, int64_t user, const char *name,
	       unsigned special_use, int64_t *id_r, struct ps_error *err)
{
	int64_t uidvalidity, id;
	int r = sp_uidvalidity_next(c, user, &uidvalidity, err);

	if (r == 0)
		r = sp_query_int(c, err, &id, "INSERT INTO store_mailbox"
				 " (user_id, name, uidvalidity, special_use)"
				 " VALUES ($1, $2, $3, $4) RETURNING id",
				 "isiu", user, name, uidvalidity, special_use);
	if (r < 0)
		return r;
	if (id_r)
		*id_r = id;
	return 0;
}

/* CREATE on a \Noselect name makes it a mailbox again, as a new one. */
static int
sp_mbox_reselect(struct sp_conn *c, int64_t user, int64_t id,
		 unsigned special_use, struct ps_error *err)
{
	int64_t uidvalidity;
	int r = sp_uidvalidity_next(c, user, &uidvalidity, err);

	if (r == 0)
		r = sp_exec(c, err, "UPDATE store_mailbox SET noselect = 0,"
			    " special_use = $2, uidvalidity = $3"
			    " WHERE id = $1", "iui", id, special_use,
			    uidvalidity);
	return r < 0 ? r : 0;
}

/* Create the missing superiors of name (RFC 3501 6.3.3), outermost
 * first. They are ordinary mailboxes. */
int
sp_mbox_parents(struct sp_conn *c, int64_t user, const char *name,
		struct ps_error *err)
{
	char prefix[SP_NAME_MAX + 1];
	int64_t one;
	int r = 0;

	for (const char *d = strchr(name, SP_DELIM); d && r >= 0;
	     d = strchr(d + 1, SP_DELIM)) {
		memcpy(prefix, name, (size_t)(d - name));
		prefix[d - name] = '\0';
		r = sp_query_int(c, err, &one, "SELECT 1 FROM store_mailbox"
				 " WHERE user_id = $1 AND name = $2", "is",
				 user, prefix);
		if (r == 0)
			r = sp_mbox_insert(c, user, prefix, 0, NULL, err);
	}
	return r < 0 ? r : 0;
}

int
sp_mbox_has_children(struct sp_conn *c, int64_t user, const char *name,
		     int *yes_r, struct ps_error *err)
{
	int64_t one;
	int r = sp_query_int(c, err, &one, "SELECT 1 FROM store_mailbox WHERE"
			     " user_id = $1 AND " SP_CHILDREN_OF("$2")
			     " LIMIT 1", "is", user, name);

	*yes_r = r == 1;
	return r < 0 ? r : 0;
}

int
sp_usage(struct sp_conn *c, int64_t user, uint64_t *bytes_r,
	 uint64_t *messages_r, struct ps_error *err)
{
	PGresult *res = sp_query(c, err, "SELECT coalesce(sum(bytes), 0),"
				 " coalesce(sum(messages), 0)"
				 " FROM store_mailbox WHERE user_id = $1", "i",
				 user);

	if (!res)
		return PS_EIO;
	*bytes_r = (uint64_t)sp_int(res, 0, 0);
	if (messages_r)
		*messages_r = (uint64_t)sp_int(res, 0, 1);
	PQclear(res);
	return 0;
}

static unsigned
sp_list_attrs(const PGresult *res, int i)
{
	unsigned a = 0;

	if (sp_int(res, i, 1) < 0)
		return PS_MBOX_NONEXISTENT | PS_MBOX_SUBSCRIBED;
	if (sp_int(res, i, 1))
		a |= PS_MBOX_NOSELECT;
	a |= (unsigned)sp_int(res, i, 2) & PS_MBOX_SPECIAL_USE;
	a |= sp_int(res, i, 3) ? PS_MBOX_HASCHILDREN : PS_MBOX_HASNOCHILDREN;
	if (sp_int(res, i, 4))
		a |= PS_MBOX_SUBSCRIBED;
	return a;
}

/* Every mailbox, then every subscribed name that is not one (noselect
 * -1 marks those: RFC 5258 3, \NonExistent). */
int
sp_mailbox_list(struct ps_store_user *u, ps_store_mailbox_fn fn, void *arg,
		struct ps_error *err)
{
	PGresult *res;
	int r = sp_read_begin(&u->c, err);

	if (r < 0)
		return r;
	res = sp_query(&u->c, err, "SELECT m.name, m.noselect,"
		       " m.special_use, EXISTS (SELECT 1 FROM store_mailbox"
		       "  WHERE user_id = $1 AND " SP_CHILDREN_OF("m.name")
		       " )::int, EXISTS (SELECT 1 FROM store_subscription s"
		       "  WHERE s.user_id = $1 AND s.name = m.name)::int"
		       " FROM store_mailbox m WHERE m.user_id = $1"
		       " UNION ALL SELECT s.name, -1, 0, 0, 1"
		       " FROM store_subscription s WHERE s.user_id = $1"
		       " AND NOT EXISTS (SELECT 1 FROM store_mailbox m"
		       "  WHERE m.user_id = $1 AND m.name = s.name)", "i",
		       u->id);
	r = res ? 0 : PS_EIO;
	for (int i = 0; r == 0 && res && i < PQntuples(res); i++) {
		struct ps_mailbox_info mb = {
			.name = PQgetvalue(res, i, 0),
			.attrs = sp_list_attrs(res, i),
		};
		r = fn(&mb, arg);
	}
	PQclear(res);
	sp_read_end(&u->c);
	return r;
}

static int
sp_create_in(struct sp_conn *c, int64_t user, const char *name,
	     unsigned special_use, struct ps_error *err)
{
	struct sp_mbox_row row;
	int r = sp_mbox_get(c, user, name, 0, 0, &row, err);

	if (r == 0 && !row.noselect)
		return sp_err(err, PS_STORE_EEXIST, "mailbox \"%s\" exists",
			      name);
	if (r == 0)
		r = sp_mbox_reselect(c, user, row.id, special_use, err);
	else if (r == PS_STORE_ENOMBOX) {
		r = sp_mbox_parents(c, user, name, err);
		if (r == 0)
			r = sp_mbox_insert(c, user, name, special_use, NULL,
					   err);
	}
	return r < 0 ? r : sp_announce(c, name, err);
}

int
sp_mailbox_create(struct ps_store_user *u, const char *name,
		  unsigned special_use, struct ps_error *err)
{
	char canon[SP_NAME_MAX + 1];
	int r = sp_name_canon(name, canon, err);

	if (r < 0)
		return r;
	if (special_use & ~PS_MBOX_SPECIAL_USE)
		return sp_err(err, PS_EINVAL, "0x%x is not special use",
			      special_use & ~PS_MBOX_SPECIAL_USE);
	r = sp_write_begin(&u->c, u, SP_SYNC_FULL, err);
	if (r < 0)
		return r;
	r = sp_create_in(&u->c, u->id, canon, special_use, err);
	return sp_write_end(&u->c, r, err);
}

/* Subscriptions are names, existing or not (RFC 3501 6.3.6). */
int
sp_mailbox_subscribe(struct ps_store_user *u, const char *name,
		     int subscribe, struct ps_error *err)
{
	char canon[SP_NAME_MAX + 1];
	int r = sp_name_canon(name, canon, err);

	if (r < 0)
		return r;
	r = sp_write_begin(&u->c, u, SP_SYNC_FULL, err);
	if (r < 0)
		return r;
	r = subscribe ? sp_exec(&u->c, err, "INSERT INTO store_subscription"
				" VALUES ($1, $2) ON CONFLICT DO NOTHING",
				"is", u->id, canon)
		      : sp_exec(&u->c, err, "DELETE FROM store_subscription"
				" WHERE user_id = $1 AND name = $2", "is",
				u->id, canon);
	if (r >= 0)
		r = sp_announce(&u->c, canon, err);
	return sp_write_end(&u->c, r < 0 ? r : 0, err);
}

/* poshtactl migrate (since 1.6): a mailbox that never held a message
 * takes the UIDVALIDITY it had elsewhere (RFC 3501 2.3.1.1). */
int
sp_mailbox_set_uidvalidity(struct ps_store_user *u, const char *name,
			   uint32_t uidvalidity, struct ps_error *err)
{
	char canon[SP_NAME_MAX + 1];
	struct sp_mbox_row row;
	int r = sp_name_canon(name, canon, err);

	if (r == 0 && !uidvalidity)
		r = sp_err(err, PS_EINVAL, "UIDVALIDITY 0");
	if (r == 0)
		r = sp_write_begin(&u->c, u, SP_SYNC_FULL, err);
	if (r < 0)
		return r;
	r = sp_mbox_get(&u->c, u->id, canon, 0, 1, &row, err);
	if (r == 0 && row.uidnext != 1)
		r = sp_err(err, PS_EINVAL, "mailbox \"%s\" held messages "
			   "already", canon);
	if (r == 0)
		r = sp_exec(&u->c, err, "UPDATE store_mailbox SET uidvalidity"
			    " = $2 WHERE id = $1", "iu", row.id, uidvalidity);
	if (r >= 0)
		r = sp_announce(&u->c, canon, err);
	return sp_write_end(&u->c, r < 0 ? r : 0, err);
}
