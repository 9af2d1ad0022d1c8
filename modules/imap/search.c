/* SEARCH and UID SEARCH (RFC 9051 6.4.4, RFC 3501 6.4.4) with ESEARCH's
 * RETURN options (RFC 4731), SEARCHRES's SAVE and "$" (RFC 5182) and
 * CONDSTORE's MODSEQ (RFC 7162 3.1.5). The keys are parsed and their
 * sets resolved on the loop; a job walks the view's messages in UID
 * order. Evaluation is three-valued: a key that needs more of the
 * message than was read is UNKNOWN, so most messages are decided from
 * their metadata, and only those still undecided have their header read,
 * then their bodies. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mime.h"
#include "quote.h"
#include "search.h"

#define PEND_MAX 64                  /* undecided messages held */
#define PEND_BYTES (4 * 1024 * 1024) /* and their copied metadata */
#define STOP 1                       /* msg_fetch: the batch is full */

struct hit {
	uint32_t uid;
	uint64_t modseq;
};

/* A message its metadata left undecided, copied out of the callback:
 * keyword pointers, the cache blob and the keywords' text follow. */
struct pend {
	struct ps_msg m;
	uint32_t seq;
	size_t size;
};

struct search {
	struct search_ctx x;
	struct imap_view *v;
	int esearch;               /* reply ESEARCH (RETURN, or IMAP4rev2) */
	unsigned ret;              /* IMAP_SEARCH_RET_* */
	int need_header;           /* a key reads the header */
	int condstore_now;         /* this command enabled CONDSTORE */
	struct search_key *keys;   /* one per key (k->priv) */
	struct imap_seqset rest;   /* UIDs still to fetch */
	uint32_t last_uid;         /* the last one fetched */
	struct pend *pend[PEND_MAX];
	size_t npend, pend_bytes;
	struct hit *hits;
	size_t nhits, cap;
	unsigned gen;
};

/* ---- Evaluation -------------------------------------------------------- */

static int eval(struct search *se, struct search_msg *sm,
		const struct imap_search_key *k);

static int
eval_list(struct search *se, struct search_msg *sm,
	  const struct imap_search_key *k, int and)
{
	int r = and ? SEARCH_TRUE : SEARCH_FALSE, v;

	for (const struct imap_search_key *c = k->child; c; c = c->next) {
		v = eval(se, sm, c);
		if (v == SEARCH_UNKNOWN)
			r = v;
		else if (v == (and ? SEARCH_FALSE : SEARCH_TRUE))
			return v;
	}
	return r;
}

static int
keyword(const struct ps_msg *m, const char *kw)
{
	for (size_t i = 0; i < m->nkeywords; i++)
		if (strcasecmp(m->keywords[i], kw) == 0)
			return SEARCH_TRUE;
	return SEARCH_FALSE;
}

static int
day_cmp(int64_t day, const struct imap_search_key *k)
{
	switch (k->type) {
	case IMAP_SK_BEFORE:
	case IMAP_SK_SENTBEFORE:
		return day < k->day;
	case IMAP_SK_ON:
	case IMAP_SK_SENTON:
		return day == k->day;
	default:
		return day >= k->day;
	}
}

/* A header key, computed once per message. */
static int
header_key(struct search *se, struct search_msg *sm,
	   const struct imap_search_key *k)
{
	struct search_key *ks = k->priv;

	if (sm->level < IMAP_SEARCH_COST_HEADER)
		return SEARCH_UNKNOWN;
	if (ks->gen != sm->gen) {
		ks->gen = sm->gen;
		ks->value = k->type == IMAP_SK_TEXT
				    ? search_text_header(&se->x, sm, ks)
				    : search_header_match(&se->x, sm, k);
	}
	return ks->value;
}

static int
eval(struct search *se, struct search_msg *sm, const struct imap_search_key *k)
{
	const struct ps_msg *m = &sm->m;
	struct search_key *ks = k->priv;
	int v;

	switch (k->type) {
	case IMAP_SK_ALL:
		return SEARCH_TRUE;
	case IMAP_SK_AND:
		return eval_list(se, sm, k, 1);
	case IMAP_SK_OR:
		return eval_list(se, sm, k, 0);
	case IMAP_SK_NOT:
		v = eval(se, sm, k->child);
		return v == SEARCH_UNKNOWN ? v : !v;
	case IMAP_SK_FLAG:
		return (m->flags & k->flag) != 0;
	case IMAP_SK_RECENT:
		return m->uid >= se->v->first_recent;
	case IMAP_SK_KEYWORD:
		return keyword(m, k->str);
	case IMAP_SK_SET:
		return imap_seqset_contains(&k->set, m->uid);
	case IMAP_SK_BEFORE:
	case IMAP_SK_ON:
	case IMAP_SK_SINCE:
		/* "disregarding time and timezone": the day in the zone the
		 * internal date was given in. */
		return day_cmp(search_day(m->internal_date, m->internal_tz), k);
	case IMAP_SK_SENTBEFORE:
	case IMAP_SK_SENTON:
	case IMAP_SK_SENTSINCE:
		if (sm->level < IMAP_SEARCH_COST_HEADER)
			return SEARCH_UNKNOWN;
		return day_cmp(search_sent_day(sm), k);
	case IMAP_SK_LARGER:
		return m->size > k->num;
	case IMAP_SK_SMALLER:
		return m->size < k->num;
	case IMAP_SK_MODSEQ:
		return m->modseq >= k->num;
	case IMAP_SK_HEADER:
		return header_key(se, sm, k);
	case IMAP_SK_TEXT:
		/* Found in the header, or else in the bodies. */
		if ((v = header_key(se, sm, k)) != SEARCH_FALSE)
			return v;
		if (sm->level < IMAP_SEARCH_COST_BODY)
			return SEARCH_UNKNOWN;
		return ks->hit;
	case IMAP_SK_BODY:
		if (sm->level < IMAP_SEARCH_COST_BODY)
			return SEARCH_UNKNOWN;
		return ks->hit;
	}
	abort();
}

/* Decide one message, reading what the keys need, cheapest first. */
static int
decide(struct search *se, struct search_msg *sm)
{
	const struct imap_search_key *root = se->x.q->root;
	int r;

	sm->gen = ++se->gen;
	sm->level = IMAP_SEARCH_COST_META;
	r = eval(se, sm, root);
	if (r == SEARCH_UNKNOWN) {
		if (se->need_header && search_header_load(&se->x, sm) < 0)
			return -1;
		sm->level = IMAP_SEARCH_COST_HEADER;
		r = eval(se, sm, root);
	}
	if (r == SEARCH_UNKNOWN && !se->x.error) {
		if (search_body_scan(&se->x, sm) < 0)
			return -1;
		sm->level = IMAP_SEARCH_COST_BODY;
		r = eval(se, sm, root);
	}
	return se->x.error ? -1 : r;
}

/* ---- The walk ---------------------------------------------------------- */

static int
hit_add(struct search *se, const struct ps_msg *m)
{
	if (se->nhits == se->cap) {
		size_t cap = se->cap ? se->cap * 2 : 256;
		struct hit *h = realloc(se->hits, cap * sizeof(*h));

		if (!h)
			return search_fail(&se->x, PS_ENOMEM);
		se->hits = h;
		se->cap = cap;
	}
	se->hits[se->nhits++] = (struct hit){m->uid, m->modseq};
	return 0;
}

static int
pend_add(struct search *se, const struct ps_msg *m, uint32_t seq)
{
	size_t size = sizeof(struct pend) + m->nkeywords * sizeof(char *) +
		      m->cache_len, len;
	struct pend *p;
	const char **kw;
	char *at;

	for (size_t i = 0; i < m->nkeywords; i++)
		size += strlen(m->keywords[i]) + 1;
	if (!(p = malloc(size)))
		return search_fail(&se->x, PS_ENOMEM);
	p->m = *m;
	p->seq = seq;
	p->size = size;
	kw = (const char **)(p + 1);
	at = (char *)(kw + m->nkeywords);
	if (m->cache_len)
		memcpy(at, m->cache, m->cache_len);
	p->m.cache = at;
	at += m->cache_len;
	for (size_t i = 0; i < m->nkeywords; i++) {
		len = strlen(m->keywords[i]) + 1;
		memcpy(at, m->keywords[i], len);
		kw[i] = at;
		at += len;
	}
	p->m.keywords = kw;
	se->pend[se->npend++] = p;
	se->pend_bytes += size;
	return 0;
}

/* msg_fetch's callback: decide from the metadata, or hold the message
 * for reading; a full batch stops the fetch (it resumes after it). */
static int
fetched(const struct ps_msg *m, void *arg)
{
	struct search *se = arg;
	struct search_msg sm = {.m = *m};
	int r;

	se->last_uid = m->uid;
	if (!(sm.seq = imap_view_seq(se->v, m->uid)))
		return 0; /* not the client's business yet */
	sm.gen = ++se->gen;
	sm.level = IMAP_SEARCH_COST_META;
	r = eval(se, &sm, se->x.q->root);
	if (r == SEARCH_TRUE && hit_add(se, m) < 0)
		return PS_ENOMEM;
	if (r != SEARCH_UNKNOWN)
		return 0;
	if (pend_add(se, m, sm.seq) < 0)
		return PS_ENOMEM;
	return se->npend == PEND_MAX || se->pend_bytes >= PEND_BYTES ? STOP
								     : 0;
}

/* The held messages: their headers and bodies read as needed. */
static int
pend_run(struct search *se)
{
	int r = 0;

	for (size_t i = 0; i < se->npend; i++) {
		struct search_msg sm = {.m = se->pend[i]->m,
					.seq = se->pend[i]->seq};

		if (r == 0 && (r = decide(se, &sm)) == SEARCH_TRUE)
			r = hit_add(se, &sm.m);
		if (r > 0)
			r = 0;
		search_msg_clear(&sm);
		free(se->pend[i]);
	}
	se->npend = 0;
	se->pend_bytes = 0;
	return r < 0 ? -1 : 0;
}

/* Forget the UIDs up to uid, fetched already. */
static void
rest_after(struct imap_seqset *t, uint32_t uid)
{
	size_t i = 0, k = 0;

	while (i < t->n && t->r[i].last <= uid)
		i++;
	for (; i < t->n; i++)
		t->r[k++] = t->r[i];
	t->n = k;
	if (k && t->r[0].first <= uid)
		t->r[0].first = uid + 1;
}

/* a = a intersected with b; both normalized. */
static int
set_and(struct imap_seqset *a, const struct imap_seqset *b)
{
	struct imap_seqset out;
	size_t i = 0, k = 0;

	imap_seqset_init(&out);
	while (i < a->n && k < b->n) {
		uint32_t lo = a->r[i].first > b->r[k].first ? a->r[i].first
							    : b->r[k].first;
		uint32_t hi = a->r[i].last < b->r[k].last ? a->r[i].last
							  : b->r[k].last;

		if (lo <= hi && imap_seqset_add(&out, lo, hi) < 0) {
			imap_seqset_free(&out);
			return -1;
		}
		if (a->r[i].last < b->r[k].last)
			i++;
		else
			k++;
	}
	imap_seqset_free(a);
	*a = out;
	return 0;
}

/* The UIDs to fetch: the view's, narrowed by the sets the whole search
 * is an AND of (UID 1:10 BODY x reads ten messages at most). Key states
 * and folded strings for the rest. */
static int
prepare(struct search *se)
{
	struct imap_search *q = se->x.q;
	struct imap_view *v = se->v;
	size_t i = 0;

	if (!(se->keys = calloc(q->nkeys, sizeof(*se->keys))) ||
	    !(se->x.body = calloc(q->nkeys, sizeof(*se->x.body))) ||
	    !(se->x.buf = malloc(SEARCH_READ_CHUNK)))
		return PS_ENOMEM;
	for (struct imap_search_key *k = q->all; k; k = k->all_next, i++) {
		struct search_key *ks = &se->keys[i];

		k->priv = ks;
		if (k->type >= IMAP_SK_SENTBEFORE &&
		    k->type <= IMAP_SK_SENTSINCE)
			se->need_header = 1;
		if (k->type != IMAP_SK_HEADER && k->type != IMAP_SK_BODY &&
		    k->type != IMAP_SK_TEXT)
			continue;
		if (k->type != IMAP_SK_BODY)
			se->need_header = 1;
		if (!(ks->needle = malloc(MIME_CASEFOLD_MAX(k->len) + 1)))
			return PS_ENOMEM;
		ks->nlen = mime_casefold_utf8(k->str, k->len, ks->needle);
		if (k->type == IMAP_SK_HEADER)
			continue;
		ks->text = k->type == IMAP_SK_TEXT;
		if (!(ks->tail = malloc(2 * ks->nlen + 1)))
			return PS_ENOMEM;
		se->x.body[se->x.nbody++] = ks;
	}
	if (!v->n)
		return 0;
	if (imap_seqset_add(&se->rest, v->uids[0], v->uids[v->n - 1]) < 0)
		return PS_ENOMEM;
	for (struct imap_search_key *k = q->root->child; k; k = k->next)
		if (k->type == IMAP_SK_SET && set_and(&se->rest, &k->set) < 0)
			return PS_ENOMEM;
	return 0;
}

/* ---- Results ----------------------------------------------------------- */

static int
hit_cmp(const void *a, const void *b)
{
	const struct hit *x = a, *y = b;

	return (x->uid > y->uid) - (x->uid < y->uid);
}

static uint32_t
number(const struct search *se, size_t i)
{
	return se->x.s->uid ? se->hits[i].uid
			    : imap_view_seq(se->v, se->hits[i].uid);
}

/* Ascending numbers as a set, runs merged as they come. */
static int
run_add(struct imap_seqset *set, uint32_t n)
{
	if (set->n && set->r[set->n - 1].last + 1 == n) {
		set->r[set->n - 1].last = n;
		return 0;
	}
	return imap_seqset_add(set, n, n);
}

/* Only MIN and/or MAX of the hits (RFC 5182 2.1 for SAVE, RFC 7162
 * 3.1.10 for MODSEQ), or all of them. */
static int
minmax_only(unsigned ret)
{
	return (ret & (IMAP_SEARCH_RET_MIN | IMAP_SEARCH_RET_MAX)) &&
	       !(ret & (IMAP_SEARCH_RET_ALL | IMAP_SEARCH_RET_COUNT));
}

static int
picked(const struct search *se, size_t i)
{
	if (!minmax_only(se->ret))
		return 1;
	return (i == 0 && (se->ret & IMAP_SEARCH_RET_MIN)) ||
	       (i == se->nhits - 1 && (se->ret & IMAP_SEARCH_RET_MAX));
}

/* RFC 5182 2.1: "$" holds the UIDs found (or MIN/MAX alone). */
static int
save(struct search *se)
{
	struct imap_seqset *saved = &se->v->saved;

	imap_seqset_clear(saved);
	for (size_t i = 0; i < se->nhits; i++)
		if (picked(se, i) && run_add(saved, se->hits[i].uid) < 0)
			return PS_ENOMEM;
	return 0;
}

static uint64_t
modseq_max(const struct search *se)
{
	uint64_t max = 0;

	for (size_t i = 0; i < se->nhits; i++)
		if (picked(se, i) && se->hits[i].modseq > max)
			max = se->hits[i].modseq;
	return max;
}

/* RFC 4731 3.1, RFC 9051 7.3.4: "* ESEARCH (TAG "t") [UID] MIN a MAX b
 * COUNT n ALL set [MODSEQ m]"; MIN, MAX, ALL and MODSEQ only when
 * something was found. */
static int
esearch_out(struct search *se, struct imap_buf *out)
{
	const char *tag = se->x.s->tag;
	struct imap_seqset all;
	size_t n = se->nhits;

	imap_buf_adds(out, "* ESEARCH (TAG ");
	imap_quote_string(out, tag, strlen(tag), 0);
	imap_buf_addc(out, ')');
	if (se->x.s->uid)
		imap_buf_adds(out, " UID");
	if (n && (se->ret & IMAP_SEARCH_RET_MIN)) {
		imap_buf_adds(out, " MIN ");
		imap_buf_addu64(out, number(se, 0));
	}
	if (n && (se->ret & IMAP_SEARCH_RET_MAX)) {
		imap_buf_adds(out, " MAX ");
		imap_buf_addu64(out, number(se, n - 1));
	}
	if (se->ret & IMAP_SEARCH_RET_COUNT) {
		imap_buf_adds(out, " COUNT ");
		imap_buf_addu64(out, n);
	}
	if (n && (se->ret & IMAP_SEARCH_RET_ALL)) {
		imap_seqset_init(&all);
		for (size_t i = 0; i < n; i++)
			if (run_add(&all, number(se, i)) < 0) {
				imap_seqset_free(&all);
				return PS_ENOMEM;
			}
		imap_buf_adds(out, " ALL ");
		imap_seqset_format(&all, out);
		imap_seqset_free(&all);
	}
	if (n && se->x.q->modseq) {
		imap_buf_adds(out, " MODSEQ ");
		imap_buf_addu64(out, modseq_max(se));
	}
	imap_buf_adds(out, "\r\n");
	return 0;
}

static int
results_out(struct search *se, struct imap_buf *out)
{
	if (se->nhits)
		qsort(se->hits, se->nhits, sizeof(*se->hits), hit_cmp);
	if ((se->ret & IMAP_SEARCH_RET_SAVE) && save(se) < 0)
		return PS_ENOMEM;
	if (se->esearch) {
		/* RFC 5182 2.1: SAVE alone returns nothing. */
		if (se->ret == IMAP_SEARCH_RET_SAVE)
			return 0;
		return esearch_out(se, out);
	}
	/* RFC 9051 7.3.5 (RFC 3501 7.2.5), RFC 7162 3.1.5 for MODSEQ. */
	imap_buf_adds(out, "* SEARCH");
	for (size_t i = 0; i < se->nhits; i++) {
		imap_buf_addc(out, ' ');
		imap_buf_addu64(out, number(se, i));
	}
	if (se->nhits && se->x.q->modseq) {
		imap_buf_adds(out, " (MODSEQ ");
		imap_buf_addu64(out, modseq_max(se));
		imap_buf_addc(out, ')');
	}
	imap_buf_adds(out, "\r\n");
	return 0;
}

/* ---- The command ------------------------------------------------------- */

static void
search_work(struct imap_job *j)
{
	struct search *se = j->arg;
	int r = prepare(se);

	while (r == 0 && se->rest.n) {
		r = imap_cfg.store.msg_fetch(se->x.mb, se->rest.r, se->rest.n,
					     fetched, se, &j->err);
		if (r >= 0 && pend_run(se) < 0)
			r = se->x.error;
		if (r == STOP) {
			rest_after(&se->rest, se->last_uid);
			r = 0;
		} else if (r == 0) {
			imap_seqset_clear(&se->rest);
		}
	}
	if (r == 0 && se->x.error)
		r = se->x.error;
	if (r == 0)
		r = results_out(se, &j->out);
	if (r == PS_ENOMEM && !j->err.msg[0])
		snprintf(j->err.msg, sizeof(j->err.msg), "out of memory");
	if (r == 0)
		r = imap_view_sync(j->s, &j->out, imap_expunge_ok(j->s),
				   &j->err);
	/* RFC 7162 3.1: the first CONDSTORE enabling command in the
	 * selected state reports the mailbox's HIGHESTMODSEQ. */
	if (r == 0 && se->condstore_now) {
		imap_buf_adds(&j->out, "* OK [HIGHESTMODSEQ ");
		imap_buf_addu64(&j->out, se->v->modseq);
		imap_buf_adds(&j->out, "] Highest\r\n");
	}
	j->result = r;
}

static void
search_free(struct search *se)
{
	if (se->keys)
		for (size_t i = 0; i < se->x.q->nkeys; i++) {
			free(se->keys[i].needle);
			free(se->keys[i].tail);
		}
	for (size_t i = 0; i < se->npend; i++)
		free(se->pend[i]);
	free(se->keys);
	free(se->x.body);
	free(se->x.buf);
	free(se->hits);
	imap_seqset_free(&se->rest);
	imap_search_free(se->x.q);
	free(se);
}

static void
search_done(struct imap_job *j)
{
	struct imap_session *s = j->s;
	struct search *se = j->arg;

	if (!s->closed) {
		if (j->result < 0) {
			/* RFC 5182 2.1: a failed SAVE leaves "$" empty. */
			if (se->ret & IMAP_SEARCH_RET_SAVE)
				imap_seqset_clear(&s->view->saved);
			imap_store_error(s, j->result, &j->err);
		} else {
			imap_tagged(s, "OK", NULL, "%sSEARCH completed",
				    s->uid ? "UID " : "");
		}
	}
	search_free(se);
}

/* Parse, then turn each sequence set into UIDs against the view, on the
 * loop, where the view is. 0, or -1 after the reply. */
static int
search_setup(struct imap_session *s, struct search *se)
{
	struct imap_search *q = se->x.q;
	int r = imap_search_parse(q, s->args, s->nargs);

	se->ret = q->ret;
	if (r == IMAP_SEARCH_EBADCHARSET)
		imap_no(s, "BADCHARSET (UTF-8 US-ASCII)",
			"Only UTF-8 and US-ASCII are supported");
	else if (r == IMAP_SEARCH_ENOMEM)
		imap_no(s, "UNAVAILABLE", "Out of memory");
	else if (r < 0)
		imap_bad(s, q->error);
	if (r < 0)
		return -1;
	/* An empty view matches nothing: even "1:*" is no error then. */
	for (struct imap_search_key *k = q->all; k && s->view->n;
	     k = k->all_next)
		if (k->type == IMAP_SK_SET &&
		    imap_view_set(s, k->set_arg, k->set_uid, &k->set) < 0)
			return -1;
	if (q->modseq && !(s->enabled & IMAP_EN_CONDSTORE)) {
		s->enabled |= IMAP_EN_CONDSTORE; /* RFC 7162 3.1 */
		se->condstore_now = 1;
	}
	se->esearch = q->esearch || (s->enabled & IMAP_EN_REV2);
	if (!q->esearch && se->esearch)
		se->ret = IMAP_SEARCH_RET_ALL; /* RFC 9051 6.4.4 */
	return 0;
}

int
imap_cmd_search(struct imap_session *s)
{
	struct search *se = calloc(1, sizeof(*se));
	struct imap_job *j;

	if (!se || !(se->x.q = imap_search_new())) {
		free(se);
		return imap_no(s, "UNAVAILABLE", "Out of memory");
	}
	se->x.s = s;
	se->v = s->view;
	se->x.mb = s->view->mb;
	imap_seqset_init(&se->rest);
	if (search_setup(s, se) < 0) {
		if (se->ret & IMAP_SEARCH_RET_SAVE)
			imap_seqset_clear(&s->view->saved);
		search_free(se);
		return 0;
	}
	if (!(j = imap_job_new(s, search_work, search_done, se))) {
		search_free(se);
		return imap_no(s, "UNAVAILABLE", "Out of memory");
	}
	se->x.err = &j->err;
	if (imap_job_start(s, j) < 0) {
		imap_job_free(j);
		search_free(se);
		return imap_no(s, "UNAVAILABLE", "Out of memory");
	}
	return 0;
}
