/* EXPUNGE (RFC 9051 6.4.3) and UID EXPUNGE (RFC 4315 2.1): the \Deleted
 * messages go, all or those of a UID set, and the client hears of each:
 * EXPUNGE responses from the highest sequence number down, since each
 * renumbers the messages after it (7.5.1), or one VANISHED once QRESYNC
 * is on (RFC 7162 3.2.10), both through the view's sync. */
#include <stdlib.h>

#include "imapd.h"

struct expunge {
	struct imap_seqset uids; /* UID EXPUNGE's set */
	int error;
};

/* Removed: held back with what others expunged, reported below (one
 * the view never showed needs no report). */
static int
expunge_removed(uint32_t uid, void *arg)
{
	struct imap_job *j = arg;
	struct expunge *x = j->arg;
	struct imap_view *v = j->s->view;

	if (imap_view_seq(v, uid) &&
	    imap_seqset_add(&v->expunged, uid, uid) < 0)
		x->error = 1;
	return 0;
}

static void
expunge_work(struct imap_job *j)
{
	struct imap_session *s = j->s;
	struct expunge *x = j->arg;
	int r = 0;

	/* UID EXPUNGE of UIDs the client does not know removes nothing. */
	if (!s->uid || x->uids.n)
		r = imap_cfg.store.expunge(s->view->mb,
					   s->uid ? x->uids.r : NULL,
					   x->uids.n, expunge_removed, j,
					   &j->err);
	if (r == 0 && x->error)
		r = PS_ENOMEM;
	j->result = r;
	/* EXPUNGE responses are allowed here (RFC 9051 7.4.1): the sync
	 * sends them (one VANISHED under QRESYNC) with what others did. */
	r = imap_view_sync(s, &j->out, 1, &j->err);
	if (j->result == 0)
		j->result = r;
}

static void
expunge_done(struct imap_job *j)
{
	struct expunge *x = j->arg;

	if (j->result < 0)
		imap_store_error(j->s, j->result, &j->err);
	else
		imap_ok(j->s, "Expunge completed");
	imap_seqset_free(&x->uids);
	free(x);
}

int
imap_cmd_expunge(struct imap_session *s)
{
	struct expunge *x;
	struct imap_job *j;

	if (s->nargs != (s->uid ? 1u : 0u))
		return imap_bad(s, s->uid ? "UID EXPUNGE takes a UID set"
					  : "EXPUNGE takes no arguments");
	if (!(x = calloc(1, sizeof(*x))))
		return imap_no(s, "UNAVAILABLE", "Out of memory");
	imap_seqset_init(&x->uids);
	if (s->uid && imap_view_set(s, &s->args[0], 1, &x->uids) < 0) {
		imap_seqset_free(&x->uids);
		free(x);
		return 0;
	}
	if (s->view->readonly) {
		imap_seqset_free(&x->uids);
		free(x);
		return imap_no(s, NULL, "Mailbox is read-only");
	}
	if (!(j = imap_job_new(s, expunge_work, expunge_done, x)) ||
	    imap_job_start(s, j) < 0) {
		imap_job_free(j);
		imap_seqset_free(&x->uids);
		free(x);
		return imap_no(s, "UNAVAILABLE", "Out of memory");
	}
	return 0;
}
