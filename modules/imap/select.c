/* SELECT and EXAMINE (RFC 9051 6.3.2-6.3.3) with the CONDSTORE and
 * QRESYNC parameters (RFC 7162 3.1.8, 3.2.5): the mailbox opens in a job,
 * its UIDs fill the view, and the client learns what it must know before
 * the tagged OK; a QRESYNC client also learns what changed since the
 * MODSEQ it remembers, as VANISHED (EARLIER) and FETCH responses. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "imapd.h"

#define IMAP_KEYWORDS_MAX 256 /* listed in FLAGS at SELECT */

struct select {
	const struct imap_session *s;
	char name[IMAP_NAME_MAX + 1];
	unsigned mode;
	struct imap_view *v;
	struct ps_mailbox_status st;
	uint32_t first_unseen;   /* sequence number, 0: none */
	struct imap_buf keywords; /* " kw1 kw2" */
	size_t nkeywords;
	/* QRESYNC (uidvalidity modseq [known-uids]), RFC 7162 3.2.5 */
	int qresync;
	uint32_t q_uidvalidity;
	uint64_t q_modseq;
	struct imap_seqset q_known; /* empty: all */
	struct imap_seqset vanished;
	struct imap_buf fetches;
	int error;
};

static void
keyword_note(struct select *x, const char *kw)
{
	const char *p = imap_buf_str(&x->keywords);
	size_t len = strlen(kw);

	while ((p = strstr(p, kw)))
		if (p[-1] == ' ' && (p[len] == ' ' || p[len] == '\0'))
			return;
		else
			p += len;
	if (x->nkeywords++ < IMAP_KEYWORDS_MAX) {
		imap_buf_addc(&x->keywords, ' ');
		imap_buf_adds(&x->keywords, kw);
	}
}

static int
select_msg(const struct ps_msg *m, void *arg)
{
	struct select *x = arg;

	if (imap_view_add(x->v, m->uid) < 0)
		return PS_ENOMEM;
	if (!x->first_unseen && !(m->flags & PS_FLAG_SEEN))
		x->first_unseen = (uint32_t)x->v->n;
	for (size_t i = 0; i < m->nkeywords; i++)
		keyword_note(x, m->keywords[i]);
	return 0;
}

static int
known(const struct select *x, uint32_t uid)
{
	return !x->q_known.n || imap_seqset_contains(&x->q_known, uid);
}

/* RFC 7162 3.2.5.1: what changed since the client's MODSEQ, as FETCH
 * with UID, FLAGS and MODSEQ for messages still there... */
static int
qresync_changed(const struct ps_msg *m, void *arg)
{
	struct select *x = arg;
	uint32_t seq = imap_view_seq(x->v, m->uid);

	if (!seq || !known(x, m->uid))
		return 0;
	imap_buf_adds(&x->fetches, "* ");
	imap_buf_addu64(&x->fetches, seq);
	imap_buf_adds(&x->fetches, " FETCH (UID ");
	imap_buf_addu64(&x->fetches, m->uid);
	imap_buf_adds(&x->fetches, " FLAGS ");
	imap_flags_out(&x->fetches, m,
		       imap_recent(x->s, x->v, m->uid));
	imap_buf_adds(&x->fetches, " MODSEQ (");
	imap_buf_addu64(&x->fetches, m->modseq);
	imap_buf_adds(&x->fetches, "))\r\n");
	return 0;
}

/* ...and VANISHED (EARLIER) for those expunged meanwhile. */
static int
qresync_expunged(uint32_t uid, void *arg)
{
	struct select *x = arg;

	if (known(x, uid) && imap_seqset_add(&x->vanished, uid, uid) < 0)
		x->error = 1;
	return 0;
}

static void
select_work(struct imap_job *j)
{
	struct select *x = j->arg;
	struct imap_view *v = x->v;
	int r;

	x->s = j->s;
	r = imap_cfg.store.mailbox_open(j->s->store, x->name, x->mode, &v->mb,
					&x->st, &v->first_recent, &j->err);
	if (r == 0)
		r = imap_cfg.store.msg_fetch(v->mb, NULL, 0, select_msg, x,
					     &j->err);
	/* A changed UIDVALIDITY: the client starts over (3.2.5.2). */
	if (r == 0 && x->qresync && x->st.uidvalidity == x->q_uidvalidity)
		r = imap_cfg.store.changes_since(v->mb, x->q_modseq,
						 qresync_changed,
						 qresync_expunged, x, &j->err);
	if (r == 0 && x->error)
		r = PS_ENOMEM;
	j->result = r;
}

/* RFC 9051 7.3.1, 7.2.6 and 7.1: what the client must know of the
 * mailbox before the tagged OK. */
static void
select_report(struct imap_session *s, struct select *x)
{
	struct imap_view *v = x->v;
	const char *sys = "\\Answered \\Flagged \\Deleted \\Seen \\Draft";

	imap_printf(s, "* FLAGS (%s%s)\r\n", sys, imap_buf_str(&x->keywords));
	if (v->readonly)
		imap_printf(s, "* OK [PERMANENTFLAGS ()] Read-only mailbox\r\n");
	else
		imap_printf(s, "* OK [PERMANENTFLAGS (%s%s \\*)] Flags "
			    "permitted\r\n", sys, imap_buf_str(&x->keywords));
	imap_printf(s, "* %zu EXISTS\r\n", v->n);
	if (!(s->enabled & IMAP_EN_REV2)) {
		imap_printf(s, "* %u RECENT\r\n", imap_view_recent(v));
		if (x->first_unseen)
			imap_printf(s, "* OK [UNSEEN %u] First unseen\r\n",
				    x->first_unseen);
	}
	imap_printf(s, "* OK [UIDVALIDITY %u] UIDs valid\r\n",
		    v->uidvalidity);
	imap_printf(s, "* OK [UIDNEXT %u] Predicted next UID\r\n",
		    v->uidnext);
	if (s->enabled & (IMAP_EN_CONDSTORE | IMAP_EN_QRESYNC))
		imap_printf(s, "* OK [HIGHESTMODSEQ %llu] Highest\r\n",
			    (unsigned long long)v->modseq);
	if (x->vanished.n) {
		struct imap_buf b;

		imap_buf_init(&b, (size_t)-1);
		imap_seqset_normalize(&x->vanished);
		imap_seqset_format(&x->vanished, &b);
		imap_printf(s, "* VANISHED (EARLIER) %s\r\n", imap_buf_str(&b));
		imap_buf_free(&b);
	}
	imap_write(s, x->fetches.data, x->fetches.len);
}

static void
select_free(struct select *x)
{
	imap_buf_free(&x->keywords);
	imap_buf_free(&x->fetches);
	imap_seqset_free(&x->q_known);
	imap_seqset_free(&x->vanished);
	free(x);
}

static void
select_done(struct imap_job *j)
{
	struct imap_session *s = j->s;
	struct select *x = j->arg;
	struct imap_view *v = x->v;

	if (j->result < 0 || s->closed) {
		imap_view_free(v);
		if (!s->closed)
			imap_store_error(s, j->result, &j->err);
	} else {
		v->uidvalidity = x->st.uidvalidity;
		if (x->st.uidnext > v->uidnext)
			v->uidnext = x->st.uidnext;
		v->modseq = x->st.highestmodseq;
		v->readonly = (x->mode & PS_OPEN_READONLY) != 0;
		s->view = v;
		s->state = IMAP_SELECTED;
		select_report(s, x);
		imap_tagged(s, "OK", v->readonly ? "READ-ONLY" : "READ-WRITE",
			    "%s completed", s->cmd);
	}
	select_free(x);
}

/* RFC 9051 6.3.2: a SELECT while selected closes the current mailbox
 * first, without expunging, even when the new one fails; IMAP4rev2 and
 * QRESYNC clients are told so with [CLOSED]. */
static void
deselect(struct imap_session *s)
{
	if (!s->view)
		return;
	imap_view_free(s->view);
	s->view = NULL;
	s->state = IMAP_AUTH;
	if (s->enabled & (IMAP_EN_REV2 | IMAP_EN_QRESYNC))
		imap_printf(s, "* OK [CLOSED] Previous mailbox closed\r\n");
}

/* "(QRESYNC (uidvalidity modseq [known-uids ...]))": the optional
 * sequence match data is allowed and not needed (3.2.5). */
static int
qresync_param(struct imap_session *s, const struct imap_arg *a,
	      struct select *x)
{
	const struct imap_arg *l;
	const char *text;
	size_t n, len;

	if (!(s->enabled & IMAP_EN_QRESYNC))
		return imap_bad(s, "ENABLE QRESYNC first"), -1;
	if (imap_arg_get_list(a, &l, &n) < 0 || n < 2 || n > 4 ||
	    imap_arg_get_nz_number(&l[0], &x->q_uidvalidity) < 0 ||
	    imap_arg_get_number64(&l[1], &x->q_modseq) < 0 ||
	    (n > 2 && (imap_arg_get_word(&l[2], &text, &len) < 0 ||
		       imap_seqset_parse(&x->q_known, text, len, UINT32_MAX,
					 1024) != 0)))
		return imap_bad(s, "Invalid QRESYNC parameter"), -1;
	x->qresync = 1;
	return 0;
}

/* RFC 4466 2.1: "(" select-param *(SP select-param) ")". */
static int
select_params(struct imap_session *s, const struct imap_arg *a,
	      struct select *x)
{
	const struct imap_arg *l;
	size_t n;

	if (imap_arg_get_list(a, &l, &n) < 0 || n == 0)
		return imap_bad(s, "Invalid SELECT parameters"), -1;
	for (size_t i = 0; i < n; i++) {
		if (imap_arg_is_atom(&l[i], "CONDSTORE")) {
			s->enabled |= IMAP_EN_CONDSTORE; /* 3.1.8 */
		} else if (imap_arg_is_atom(&l[i], "QRESYNC") && i + 1 < n) {
			if (qresync_param(s, &l[++i], x) < 0)
				return -1;
		} else {
			return imap_bad(s, "Unknown SELECT parameter"), -1;
		}
	}
	return 0;
}

static struct select *
select_new(void)
{
	struct select *x = calloc(1, sizeof(*x));

	if (!x)
		return NULL;
	if (!(x->v = calloc(1, sizeof(*x->v)))) {
		free(x);
		return NULL;
	}
	imap_buf_init(&x->keywords, (size_t)-1);
	imap_buf_init(&x->fetches, (size_t)-1);
	imap_seqset_init(&x->q_known);
	imap_seqset_init(&x->vanished);
	imap_seqset_init(&x->v->expunged);
	imap_seqset_init(&x->v->saved);
	return x;
}

int
imap_cmd_select(struct imap_session *s)
{
	struct select *x;
	struct imap_job *j = NULL;

	if (s->nargs < 1 || s->nargs > 2)
		return imap_bad(s, "SELECT and EXAMINE take a mailbox name "
				"and maybe parameters");
	deselect(s);
	if (!(x = select_new()))
		return imap_no(s, "UNAVAILABLE", "Out of memory");
	if (imap_name_in(s, &s->args[0], x->name, sizeof(x->name)) < 0 ||
	    (s->nargs == 2 && select_params(s, &s->args[1], x) < 0) ||
	    !(x->v->name = strdup(x->name)) ||
	    !(j = imap_job_new(s, select_work, select_done, x))) {
		if (s->in_command)
			imap_no(s, "UNAVAILABLE", "Out of memory");
		imap_view_free(x->v);
		select_free(x);
		return 0;
	}
	x->mode = strcmp(s->cmd, "EXAMINE") == 0 ? PS_OPEN_READONLY : 0;
	if (imap_job_start(s, j) < 0) {
		j->result = PS_ENOMEM;
		select_done(j);
		imap_job_free(j);
	}
	return 0;
}
