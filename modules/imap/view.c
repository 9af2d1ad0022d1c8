/* The selected mailbox's view, which maps message sequence numbers to
 * UIDs, and CLOSE (RFC 9051 6.4.1), UNSELECT (RFC 3691), NOOP (6.1.2).
 * What other sessions, SMTP delivery and this session change reaches the
 * client as untagged EXISTS, RECENT, EXPUNGE and FETCH responses
 * (7.3-7.5), learnt from the store's changes_since, FETCHes a chunk at a
 * time; EXPUNGE waits while RFC 3501 7.4.1 forbids it (during FETCH,
 * STORE and SEARCH, and between commands). The view follows a rename of
 * its mailbox, and a deletion ends the session (RFC 2180 3.3, 3.4). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imapd.h"
#include "quote.h"

void
imap_view_free(struct imap_view *v)
{
	if (!v)
		return;
	if (v->mb)
		imap_cfg.store.mailbox_close(v->mb);
	free(v->name);
	free(v->renamed);
	free(v->uids);
	imap_seqset_free(&v->expunged);
	imap_seqset_free(&v->saved);
	free(v->told);
	free(v);
}

int
imap_view_told(struct imap_view *v, uint32_t uid, uint64_t modseq)
{
	if (v->ntold == v->told_cap) {
		size_t cap = v->told_cap ? v->told_cap * 2 : 64;
		struct imap_told *t = realloc(v->told, cap * sizeof(*t));

		if (!t)
			return PS_ENOMEM;
		v->told = t;
		v->told_cap = cap;
	}
	v->told[v->ntold++] = (struct imap_told){uid, modseq};
	return 0;
}

/* Whether the client already has m's flags as they are now. */
static int
told(const struct imap_view *v, const struct ps_msg *m)
{
	size_t lo = 0, hi = v->ntold;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (v->told[mid].uid < m->uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < v->ntold && v->told[lo].uid == m->uid &&
	       v->told[lo].modseq == m->modseq;
}

int
imap_view_add(struct imap_view *v, uint32_t uid)
{
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 64;
		uint32_t *p = realloc(v->uids, cap * sizeof(*p));

		if (!p)
			return PS_ENOMEM;
		v->uids = p;
		v->cap = cap;
	}
	v->uids[v->n++] = uid;
	if (uid >= v->uidnext)
		v->uidnext = uid + 1;
	return 0;
}

/* The sequence number of uid, or 0 when the view does not hold it. */
uint32_t
imap_view_seq(const struct imap_view *v, uint32_t uid)
{
	size_t lo = 0, hi = v->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (v->uids[mid] < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < v->n && v->uids[lo] == uid ? (uint32_t)lo + 1 : 0;
}

uint32_t
imap_view_recent(const struct imap_view *v)
{
	uint32_t n = 0;

	for (size_t i = v->n; i > 0 && v->uids[i - 1] >= v->first_recent; i--)
		n++;
	return n;
}

/* RFC 9051 lists no \Recent among the system flags (2.3.2) and no
 * RECENT among the mailbox size responses (7.3); its grammar keeps them
 * only as obsolete-flag-recent and obsolete-recent-response (section 9)
 * for IMAP4rev1. After ENABLE IMAP4rev2 no flag list shows it. */
int
imap_recent(const struct imap_session *s, const struct imap_view *v,
	    uint32_t uid)
{
	return !(s->enabled & IMAP_EN_REV2) && uid >= v->first_recent;
}

/* ---- Flags as IMAP writes them ---------------------------------------- */

void
imap_flags_out(struct imap_buf *b, const struct ps_msg *m, int recent)
{
	static const struct {
		unsigned bit;
		const char *name;
	} names[] = {
		{PS_FLAG_SEEN, "\\Seen"}, {PS_FLAG_ANSWERED, "\\Answered"},
		{PS_FLAG_FLAGGED, "\\Flagged"}, {PS_FLAG_DELETED, "\\Deleted"},
		{PS_FLAG_DRAFT, "\\Draft"},
	};
	size_t start = b->len;

	imap_buf_addc(b, '(');
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (m->flags & names[i].bit) {
			if (b->len > start + 1)
				imap_buf_addc(b, ' ');
			imap_buf_adds(b, names[i].name);
		}
	if (recent) {
		if (b->len > start + 1)
			imap_buf_addc(b, ' ');
		imap_buf_adds(b, "\\Recent");
	}
	for (size_t i = 0; i < m->nkeywords; i++) {
		if (b->len > start + 1)
			imap_buf_addc(b, ' ');
		imap_buf_adds(b, m->keywords[i]);
	}
	imap_buf_addc(b, ')');
}

/* ---- Learning of changes ---------------------------------------------- */

struct sync {
	struct imap_session *s;
	struct imap_view *v;
	struct imap_buf fetches; /* FETCH lines for known messages */
	uint32_t last_known;     /* the view's highest UID before */
	uint64_t modseq;
	uint32_t stop_uid;       /* the first one not written: pending */
	int error;
};

#define SYNC_STOP 1 /* a callback's "enough for this step" */

/* "* n FETCH (FLAGS (...))" for a known message whose flags changed,
 * unless it is expunged or this command already told of it. */
static int
changed_out(struct imap_session *s, const struct ps_msg *m,
	    struct imap_buf *b)
{
	struct imap_view *v = s->view;
	uint32_t seq = imap_view_seq(v, m->uid);

	if (!seq || imap_seqset_contains(&v->expunged, m->uid) ||
	    told(v, m))
		return 0;
	imap_buf_adds(b, "* ");
	imap_buf_addu64(b, seq);
	imap_buf_adds(b, " FETCH (FLAGS ");
	imap_flags_out(b, m, imap_recent(s, v, m->uid));
	if (s->enabled & (IMAP_EN_CONDSTORE | IMAP_EN_QRESYNC)) {
		imap_buf_adds(b, " MODSEQ (");
		imap_buf_addu64(b, m->modseq);
		imap_buf_addc(b, ')');
	}
	if (s->uid || (s->enabled & IMAP_EN_QRESYNC)) {
		/* RFC 9051 6.4.9: during a UID command, unsolicited FETCH
		 * responses carry the UID too; under QRESYNC always (RFC 7162
		 * 3.2.4). */
		imap_buf_adds(b, " UID ");
		imap_buf_addu64(b, m->uid);
	}
	imap_buf_adds(b, ")\r\n");
	return 0;
}

static int
sync_changed(const struct ps_msg *m, void *arg)
{
	struct sync *y = arg;
	struct imap_view *v = y->v;

	if (m->modseq > y->modseq)
		y->modseq = m->modseq;
	if (m->uid > y->last_known) {
		/* New: announced by EXISTS, its flags fetched by the client.
		 * One the client was told was expunged never comes back. */
		if (!imap_seqset_contains(&v->expunged, m->uid) &&
		    imap_view_add(v, m->uid) < 0)
			y->error = 1;
		return 0;
	}
	/* A burst of flag changes (another session's STORE 1:*) is told a
	 * chunk at a time: past the first, the scan goes on for new and
	 * expunged messages, and the rest waits (imap_view_continue). */
	if (y->stop_uid)
		return 0;
	if (y->fetches.len >= IMAP_OUT_CHUNK) {
		y->stop_uid = m->uid;
		return 0;
	}
	return changed_out(y->s, m, &y->fetches);
}

static int
sync_expunged(uint32_t uid, void *arg)
{
	struct sync *y = arg;

	if (imap_view_seq(y->v, uid) &&
	    imap_seqset_add(&y->v->expunged, uid, uid) < 0)
		y->error = 1;
	return 0;
}

int
imap_expunge_ok(const struct imap_session *s)
{
	return s->uid || (strcmp(s->cmd, "FETCH") != 0 &&
			  strcmp(s->cmd, "STORE") != 0 &&
			  strcmp(s->cmd, "SEARCH") != 0);
}

/* RFC 9051 7.5.1: each EXPUNGE names the message's number at the moment
 * it is sent, so they go from the highest number down. A QRESYNC client
 * gets one VANISHED with the UIDs instead (RFC 7162 3.2.10). */
void
imap_view_flush_expunged(struct imap_session *s, struct imap_buf *out)
{
	struct imap_view *v = s->view;
	size_t kept = 0;

	if (!v || !v->expunged.n)
		return;
	imap_seqset_normalize(&v->expunged);
	if (s->enabled & IMAP_EN_QRESYNC) {
		imap_buf_adds(out, "* VANISHED ");
		imap_seqset_format(&v->expunged, out);
		imap_buf_adds(out, "\r\n");
	}
	for (size_t i = v->n; i > 0 && !(s->enabled & IMAP_EN_QRESYNC); i--)
		if (imap_seqset_contains(&v->expunged, v->uids[i - 1])) {
			imap_buf_adds(out, "* ");
			imap_buf_addu64(out, i);
			imap_buf_adds(out, " EXPUNGE\r\n");
		}
	for (size_t i = 0; i < v->n; i++)
		if (!imap_seqset_contains(&v->expunged, v->uids[i]))
			v->uids[kept++] = v->uids[i];
	v->n = kept;
	imap_seqset_clear(&v->expunged);
}

/* On the pool. Order matters: the FETCHes use the numbers the client
 * has (they were computed before any EXPUNGE), then EXPUNGEs (when
 * allowed) renumber, then EXISTS announces the new messages. */
int
imap_view_sync(struct imap_session *s, struct imap_buf *out, int expunge_ok,
	       struct ps_error *err)
{
	struct imap_view *v = s->view;
	struct sync y = {.s = s, .v = v};
	size_t before = v->n;
	uint64_t from = v->modseq;
	int r;

	/* What an earlier step left pending is told again from its start
	 * (a duplicate FETCH is harmless, a lost one is not). */
	if (v->pend_uid && v->pend_from < from)
		from = v->pend_from;
	v->pend_uid = 0;
	y.last_known = v->n ? v->uids[v->n - 1] : 0;
	y.modseq = v->modseq;
	imap_buf_init(&y.fetches, (size_t)-1);
	r = imap_cfg.store.changes_since(v->mb, from, sync_changed,
					 sync_expunged, &y, err);
	if (r == PS_STORE_ENOMBOX)
		v->gone = 1;
	if (r == 0 && y.error)
		r = PS_ENOMEM;
	if (r == 0 && y.stop_uid) {
		v->pend_uid = y.stop_uid;
		v->pend_last = y.last_known;
		v->pend_from = from;
		v->pend_to = y.modseq;
	} else {
		v->ntold = 0;
	}
	if (r == 0) {
		size_t added = v->n - before;

		v->modseq = y.modseq;
		imap_buf_add(out, y.fetches.data, y.fetches.len);
		if (expunge_ok)
			imap_view_flush_expunged(s, out);
		if (added) {
			imap_buf_adds(out, "* ");
			imap_buf_addu64(out, v->n);
			imap_buf_adds(out, " EXISTS\r\n");
			if (!(s->enabled & IMAP_EN_REV2)) {
				imap_buf_adds(out, "* ");
				imap_buf_addu64(out, imap_view_recent(v));
				imap_buf_adds(out, " RECENT\r\n");
			}
		}
	}
	imap_buf_free(&y.fetches);
	return r;
}

struct pending {
	struct imap_job *j;
	uint32_t stop_uid;
};

static int
pending_msg(const struct ps_msg *m, void *arg)
{
	struct pending *p = arg;
	struct imap_view *v = p->j->s->view;

	/* Changed again since: the next sync tells the newer flags. */
	if (m->modseq <= v->pend_from || m->modseq > v->pend_to)
		return 0;
	if (p->j->out.len >= IMAP_OUT_CHUNK) {
		p->stop_uid = m->uid;
		return SYNC_STOP;
	}
	return changed_out(p->j->s, m, &p->j->out);
}

/* The messages from pend_uid on are read in UID order, and the reading
 * stops where the chunk is full: every message is read once over all
 * steps. Should a step fail, the view forgets having seen the changes
 * pending, so that the next sync tells them all. */
void
imap_view_continue(struct imap_job *j)
{
	struct imap_view *v = j->s->view;
	struct pending p = {.j = j};
	struct ps_uid_range rest = {v->pend_uid, v->pend_last};
	struct ps_error err;
	int r = 0;

	if (j->s->closed)
		return;
	if (rest.first <= rest.last)
		r = imap_cfg.store.msg_fetch(v->mb, &rest, 1, pending_msg, &p,
					     &err);
	if (r == SYNC_STOP) {
		v->pend_uid = p.stop_uid;
		j->more = 1;
		return;
	}
	if (r < 0 && v->pend_from < v->modseq)
		v->modseq = v->pend_from;
	v->pend_uid = 0;
	v->ntold = 0;
}

/* RFC 2180 3 lists what a server may do when another session deletes a
 * selected mailbox; with the messages gone from the store, 3.3 is the
 * one left: an untagged BYE (RFC 9051 7.1.5), then close. Dovecot does
 * the same. A command that failed for it gets the BYE in place of its
 * tagged reply (response-fatal, RFC 9051 9); one that did its work
 * elsewhere (APPEND to another mailbox) has its reply first. */
void
imap_view_gone(struct imap_session *s)
{
	if (s->closed || ps_conn_closing(s->conn))
		return;
	ps_conn_log(s->conn, PS_LOG_INFO, "selected mailbox deleted user=%s "
		    "mailbox=\"%s\"", s->user, s->view->name);
	s->idling = 0;
	imap_goodbye(s, "Selected mailbox was deleted");
}

/* The bus said a mailbox of this user changed. A mailbox renamed by
 * another session, itself or through a parent, stays selected under
 * its new name: RFC 2180 3.4, the name changes and the mailbox is the
 * same, so commands that do not name it go on working; the store's
 * handle follows it (storage.h), and the view's name follows it here so
 * that later notices, which name it by its new name, reach it. */
void
imap_view_changed(struct imap_session *s, const char *mailbox,
		  const char *renamed)
{
	struct imap_view *v = s->view;
	char *name;

	if (!v || strcmp(v->renamed ? v->renamed : v->name, mailbox) != 0)
		return;
	if (renamed && (name = strdup(renamed))) {
		free(v->renamed);
		v->renamed = name;
		if (!s->waiting)
			imap_view_rename(v);
	}
	v->dirty = 1;
	if (s->idling)
		imap_idle_wake(s);
}

void
imap_view_rename(struct imap_view *v)
{
	if (!v->renamed)
		return;
	free(v->name);
	v->name = v->renamed;
	v->renamed = NULL;
}

/* ---- Sequence sets ------------------------------------------------------ */

/* A seq range a:b of the view as UIDs: one range, since UIDs only grow
 * and a gap is a message gone for good. */
static int
seq_to_uids(const struct imap_view *v, const struct imap_seqset *seqs,
	    struct imap_seqset *uids)
{
	for (size_t i = 0; i < seqs->n; i++)
		if (imap_seqset_add(uids, v->uids[seqs->r[i].first - 1],
				    v->uids[seqs->r[i].last - 1]) < 0)
			return -1;
	imap_seqset_normalize(uids);
	return 0;
}

/* UIDs past the last one the client was told of are not its business
 * yet (RFC 9051 2.3.1.1: "*" is the highest UID in the mailbox as the
 * client knows it). */
static void
uids_clip(const struct imap_view *v, struct imap_seqset *uids)
{
	uint32_t last = v->n ? v->uids[v->n - 1] : 0;
	size_t kept = 0;

	for (size_t i = 0; i < uids->n; i++) {
		if (uids->r[i].first > last)
			continue;
		if (uids->r[i].last > last)
			uids->r[i].last = last;
		uids->r[kept++] = uids->r[i];
	}
	uids->n = kept;
}

static int
set_copy(struct imap_seqset *to, const struct imap_seqset *from)
{
	imap_seqset_clear(to);
	for (size_t i = 0; i < from->n; i++)
		if (imap_seqset_add(to, from->r[i].first, from->r[i].last) < 0)
			return -1;
	imap_seqset_normalize(to);
	return 0;
}

int
imap_view_set(struct imap_session *s, const struct imap_arg *a, int uid,
	      struct imap_seqset *uids_r)
{
	struct imap_view *v = s->view;
	struct imap_seqset seqs;
	const char *text;
	size_t len;
	uint32_t star = uid ? (v->n ? v->uids[v->n - 1] : 0)
			    : (uint32_t)v->n;
	int r;

	imap_seqset_clear(uids_r);
	if (imap_arg_get_word(a, &text, &len) < 0) {
		imap_bad(s, "Invalid sequence set");
		return -1;
	}
	imap_seqset_init(&seqs);
	r = imap_seqset_parse(uid ? uids_r : &seqs, text, len, star, 1024);
	if (r == IMAP_SEQSET_SAVED) {
		/* RFC 5182 2.1: "$" is the last SEARCH result, as UIDs. */
		r = set_copy(uids_r, &v->saved);
	} else if (r == 0 && !uid) {
		if (imap_seqset_last(&seqs) > v->n) {
			imap_seqset_free(&seqs);
			imap_bad(s, "Invalid message sequence number");
			return -1;
		}
		r = seq_to_uids(v, &seqs, uids_r);
	}
	imap_seqset_free(&seqs);
	if (r < 0) {
		imap_bad(s, r == IMAP_SEQSET_ENOMEM ? "Out of memory"
						    : "Invalid sequence set");
		return -1;
	}
	uids_clip(v, uids_r);
	return 0;
}

/* ---- CLOSE, UNSELECT, NOOP --------------------------------------------- */

static int
expunge_quietly(uint32_t uid, void *arg)
{
	(void)uid;
	(void)arg;
	return 0;
}

/* RFC 9051 6.4.1: CLOSE expunges (unless read-only) without EXPUNGE
 * responses. */
static void
close_work(struct imap_job *j)
{
	struct imap_view *v = j->s->view;

	if (!v->readonly)
		j->result = imap_cfg.store.expunge(v->mb, NULL, 0,
						   expunge_quietly, NULL,
						   &j->err);
	/* Deleted by another session: there is nothing left to expunge,
	 * and leaving it is what the client asked for. */
	if (j->result == PS_STORE_ENOMBOX)
		j->result = 0;
}

static void
close_done(struct imap_job *j)
{
	struct imap_session *s = j->s;

	imap_view_free(s->view);
	s->view = NULL;
	s->state = IMAP_AUTH;
	if (j->result < 0)
		imap_store_error(s, j->result, &j->err);
	else
		imap_ok(s, "Close completed");
}

int
imap_cmd_close(struct imap_session *s)
{
	struct imap_job *j;

	if (s->nargs)
		return imap_bad(s, "CLOSE takes no arguments");
	if (!(j = imap_job_new(s, close_work, close_done, NULL)))
		return imap_no(s, "UNAVAILABLE", "Out of memory");
	if (imap_job_start(s, j) < 0) {
		imap_job_free(j);
		return imap_no(s, "UNAVAILABLE", "Out of memory");
	}
	return 0;
}

int
imap_cmd_unselect(struct imap_session *s)
{
	if (s->nargs)
		return imap_bad(s, "UNSELECT takes no arguments");
	imap_view_free(s->view);
	s->view = NULL;
	s->state = IMAP_AUTH;
	return imap_ok(s, "Unselect completed");
}

/* A sync as a command's whole work: NOOP, and IDLE's wake-ups. */
static void
sync_work(struct imap_job *j)
{
	j->result = imap_view_sync(j->s, &j->out, 1, &j->err);
}

static void
noop_done(struct imap_job *j)
{
	if (j->result < 0)
		imap_store_error(j->s, j->result, &j->err);
	else
		imap_ok(j->s, "NOOP completed");
}

int
imap_sync_start(struct imap_session *s, void (*done)(struct imap_job *j))
{
	struct imap_job *j = imap_job_new(s, sync_work, done, NULL);

	s->view->dirty = 0;
	if (!j || imap_job_start(s, j) < 0) {
		imap_job_free(j);
		return PS_ENOMEM;
	}
	return 0;
}

/* RFC 9051 6.1.2: the way to poll for changes. */
int
imap_cmd_noop(struct imap_session *s)
{
	if (s->nargs)
		return imap_bad(s, "NOOP takes no arguments");
	if (!s->view)
		return imap_ok(s, "NOOP completed");
	if (imap_sync_start(s, noop_done) < 0)
		return imap_no(s, "UNAVAILABLE", "Out of memory");
	return 0;
}
