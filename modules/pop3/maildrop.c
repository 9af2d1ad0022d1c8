/* The maildrop: INBOX as it was at login (RFC 1939 8), its listing
 * commands STAT, LIST, UIDL (RFC 1939 5, 7), DELE and RSET, and QUIT's
 * UPDATE state, the only place messages are deleted (RFC 1939 6).
 * Messages fully sent by RETR get \Seen there too, as Dovecot's pop3
 * does by default (pop3_no_flag_updates = no), unless mark_seen is off. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pop3d.h"

/* ---- Loading (on the pool, at login) ---------------------------------- */

static int
add_msg(const struct ps_msg *m, void *arg)
{
	struct pop3_drop *d = arg;

	if (d->count == d->cap) {
		uint32_t cap = d->cap ? d->cap * 2 : 64;
		struct pop3_msg *n = realloc(d->msgs, cap * sizeof(*n));

		if (!n)
			return PS_ENOMEM;
		d->msgs = n;
		d->cap = cap;
	}
	d->msgs[d->count++] = (struct pop3_msg){
		.uid = m->uid, .size = m->size,
		.flags = m->flags & PS_FLAG_SEEN ? POP3_MSG_SEEN : 0};
	d->size += m->size;
	return 0;
}

/* Open the user's store and INBOX read-only (no \Recent claimed, no flags
 * touched until UPDATE) and list it. Runs in a job. */
int
pop3_drop_load(struct pop3_session *s, struct ps_error *err)
{
	struct ps_auth_user au;
	struct ps_mailbox_status st;
	uint64_t quota = 0;
	uint32_t first_recent;
	int r;

	if (pop3_cfg.auth.lookup(s->user, &au, err) == 0)
		quota = au.quota_bytes;
	r = pop3_cfg.store.user_open(s->user, quota, &s->store, err);
	if (r == 0)
		r = pop3_cfg.store.mailbox_open(s->store, "INBOX",
						PS_OPEN_READONLY, &s->mbox,
						&st, &first_recent, err);
	if (r == 0) {
		s->drop.uidvalidity = st.uidvalidity;
		r = pop3_cfg.store.msg_fetch(s->mbox, NULL, 0, add_msg,
					     &s->drop, err);
	}
	return r;
}

void
pop3_drop_close(struct pop3_session *s)
{
	if (s->mbox)
		pop3_cfg.store.mailbox_close(s->mbox);
	if (s->store)
		pop3_cfg.store.user_close(s->store);
	s->mbox = NULL;
	s->store = NULL;
	free(s->drop.msgs);
	memset(&s->drop, 0, sizeof(s->drop));
}

/* The message a command's first argument names, or NULL after an -ERR
 * (RFC 1939 5: a deleted message may not be referred to). */
struct pop3_msg *
pop3_drop_msg(struct pop3_session *s, const struct pop3_cmd *cmd,
	      uint32_t *n_r)
{
	uint32_t n;

	if (pop3_number(cmd->args[0], cmd->lens[0], 1, &n) < 0 ||
	    n > s->drop.count) {
		pop3_err(s, NULL, "No such message");
		return NULL;
	}
	if (s->drop.msgs[n - 1].flags & POP3_MSG_DELETED) {
		pop3_err(s, NULL, "Message %" PRIu32 " is deleted", n);
		return NULL;
	}
	*n_r = n;
	return &s->drop.msgs[n - 1];
}

/* ---- Listing ----------------------------------------------------------- */

/* RFC 1939 5: "+OK" SP count SP octets, deleted messages left out. */
int
pop3_cmd_stat(struct pop3_session *s, const struct pop3_cmd *cmd)
{
	(void)cmd;
	return pop3_ok(s, "%" PRIu32 " %" PRIu64,
		       s->drop.count - s->drop.ndeleted,
		       s->drop.size - s->drop.deleted_size);
}

/* RFC 1939 7 UIDL: "the unique-id of a message is an arbitrary server-
 * determined string, consisting of one to 70 characters in the range
 * 0x21 to 0x7E". Dovecot's default %08Xu%08Xv, so a mailbox moved from
 * Dovecot with its UIDs kept is not downloaded again. */
static void
uidl_of(const struct pop3_session *s, const struct pop3_msg *m, char *buf)
{
	sprintf(buf, "%08" PRIX32 "%08" PRIX32, m->uid, s->drop.uidvalidity);
}

/* LIST and UIDL: one message, or all but the deleted as a multi-line
 * response. */
static int
listing(struct pop3_session *s, const struct pop3_cmd *cmd, int uidl)
{
	char id[24];
	uint32_t n;
	const struct pop3_msg *m;

	if (cmd->nargs == 1) {
		if (!(m = pop3_drop_msg(s, cmd, &n)))
			return 0;
		if (uidl) {
			uidl_of(s, m, id);
			return pop3_ok(s, "%" PRIu32 " %s", n, id);
		}
		return pop3_ok(s, "%" PRIu32 " %" PRIu64, n, m->size);
	}
	if (uidl)
		pop3_ok(s, "Unique-ID listing follows");
	else
		pop3_ok(s, "%" PRIu32 " messages (%" PRIu64 " octets)",
			s->drop.count - s->drop.ndeleted,
			s->drop.size - s->drop.deleted_size);
	for (n = 0; n < s->drop.count; n++) {
		m = &s->drop.msgs[n];
		if (m->flags & POP3_MSG_DELETED)
			continue;
		if (uidl) {
			uidl_of(s, m, id);
			ps_conn_printf(s->conn, "%" PRIu32 " %s\r\n", n + 1,
				       id);
		} else {
			ps_conn_printf(s->conn, "%" PRIu32 " %" PRIu64 "\r\n",
				       n + 1, m->size);
		}
	}
	return ps_conn_write(s->conn, ".\r\n", 3);
}

int
pop3_cmd_list(struct pop3_session *s, const struct pop3_cmd *cmd)
{
	return listing(s, cmd, 0);
}

int
pop3_cmd_uidl(struct pop3_session *s, const struct pop3_cmd *cmd)
{
	return listing(s, cmd, 1);
}

/* ---- Marking ------------------------------------------------------------ */

int
pop3_cmd_dele(struct pop3_session *s, const struct pop3_cmd *cmd)
{
	struct pop3_msg *m;
	uint32_t n;

	if (!(m = pop3_drop_msg(s, cmd, &n)))
		return 0;
	m->flags |= POP3_MSG_DELETED;
	s->drop.ndeleted++;
	s->drop.deleted_size += m->size;
	return pop3_ok(s, "Message %" PRIu32 " deleted", n);
}

int
pop3_cmd_rset(struct pop3_session *s, const struct pop3_cmd *cmd)
{
	(void)cmd;
	for (uint32_t n = 0; n < s->drop.count; n++)
		s->drop.msgs[n].flags &= ~POP3_MSG_DELETED;
	s->drop.ndeleted = 0;
	s->drop.deleted_size = 0;
	return pop3_ok(s, "Maildrop has %" PRIu32 " messages (%" PRIu64
		       " octets)", s->drop.count, s->drop.size);
}

/* ---- UPDATE --------------------------------------------------------------- */

struct update {
	struct ps_uid_range *seen, *deleted;
	size_t nseen, ndeleted;
	uint32_t removed;
};

static void
update_free(void *arg)
{
	struct update *u = arg;

	free(u->seen);
	free(u->deleted);
	free(u);
}

/* The UIDs to change, as ranges of neighbours in UID order. */
static int
uid_sets(const struct pop3_drop *d, struct update *u)
{
	u->seen = calloc(d->count ? d->count : 1, sizeof(*u->seen));
	u->deleted = calloc(d->count ? d->count : 1, sizeof(*u->deleted));
	if (!u->seen || !u->deleted)
		return -1;
	for (uint32_t i = 0; i < d->count; i++) {
		const struct pop3_msg *m = &d->msgs[i];
		struct ps_uid_range *set;
		size_t *n;

		if (m->flags & POP3_MSG_DELETED) {
			set = u->deleted;
			n = &u->ndeleted;
		} else if (pop3_cfg.mark_seen &&
			   (m->flags & (POP3_MSG_RETRIEVED | POP3_MSG_SEEN)) ==
				   POP3_MSG_RETRIEVED) {
			set = u->seen;
			n = &u->nseen;
		} else {
			continue;
		}
		if (*n && set[*n - 1].last + 1 == m->uid)
			set[*n - 1].last = m->uid;
		else
			set[(*n)++] = (struct ps_uid_range){m->uid, m->uid};
	}
	return 0;
}

static int
count_removed(uint32_t uid, void *arg)
{
	struct update *u = arg;

	(void)uid;
	u->removed++;
	return 0;
}

/* RFC 1939 6: "the POP3 server removes all messages marked as deleted
 * from the maildrop". Only the UIDs this session marked: a message some
 * IMAP client flagged \Deleted stays for that client to expunge. */
static void
update_work(struct pop3_job *j)
{
	struct pop3_session *s = j->s;
	struct update *u = j->arg;
	struct ps_mailbox_status st;
	struct ps_mbox *mb;
	uint32_t first_recent;
	unsigned seen = PS_FLAG_SEEN, deleted = PS_FLAG_DELETED;
	int r;

	r = pop3_cfg.store.mailbox_open(s->store, "INBOX", 0, &mb, &st,
					&first_recent, &j->err);
	if (r < 0) {
		j->result = r;
		return;
	}
	if (st.uidvalidity != s->drop.uidvalidity) {
		/* INBOX was replaced: its UIDs name other messages now. */
		snprintf(j->err.msg, sizeof(j->err.msg), "UIDVALIDITY changed");
		r = PS_ESTATE;
	}
	if (r == 0 && u->nseen)
		r = pop3_cfg.store.msg_store(mb, u->seen, u->nseen,
					     PS_STORE_ADD, seen, NULL, 0, 0,
					     NULL, NULL, NULL, &j->err);
	if (r == 0 && u->ndeleted)
		r = pop3_cfg.store.msg_store(mb, u->deleted, u->ndeleted,
					     PS_STORE_ADD, deleted, NULL, 0, 0,
					     NULL, NULL, NULL, &j->err);
	if (r == 0 && u->ndeleted)
		r = pop3_cfg.store.expunge(mb, u->deleted, u->ndeleted,
					   count_removed, u, &j->err);
	pop3_cfg.store.mailbox_close(mb);
	j->result = r;
}

/* The lock goes before the reply, so a client that logs in again at once
 * finds the maildrop free. */
static int
update_done(struct pop3_job *j)
{
	struct pop3_session *s = j->s;
	struct update *u = j->arg;

	pop3_drop_close(s);
	pop3_unlock(s);
	if (s->closed)
		return POP3_JOB_DONE;
	ps_conn_log(s->conn, PS_LOG_INFO, "logout user=%s retrieved=%u "
		    "deleted=%u%s%s", s->user, s->nretr, u->removed,
		    j->result < 0 ? " error=" : "",
		    j->result < 0 ? j->err.msg : "");
	if (j->result < 0)
		pop3_err(s, "SYS/TEMP", "Some deleted messages not removed");
	else
		pop3_ok(s, "Logging out, %u messages deleted", u->removed);
	ps_conn_close(s->conn);
	return POP3_JOB_DONE;
}

int
pop3_cmd_quit(struct pop3_session *s, const struct pop3_cmd *cmd)
{
	struct update *u;

	(void)cmd;
	if (s->state == POP3_AUTHORIZATION) {
		pop3_ok(s, "Logging out");
		ps_conn_close(s->conn);
		return 0;
	}
	s->state = POP3_UPDATE;
	u = calloc(1, sizeof(*u));
	if (!u || uid_sets(&s->drop, u) < 0) {
		if (u)
			update_free(u);
		pop3_err(s, "SYS/TEMP", "Out of memory, nothing deleted");
		ps_conn_close(s->conn);
		return 0;
	}
	if (!u->nseen && !u->ndeleted) {
		struct pop3_job j = {.s = s, .arg = u};

		update_done(&j);
		update_free(u);
		return 0;
	}
	return pop3_job_start(s, update_work, update_done, update_free, u);
}
