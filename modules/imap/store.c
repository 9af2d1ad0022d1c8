/* STORE and UID STORE (RFC 9051 6.4.6): flags and keywords replaced,
 * added or removed, with .SILENT, and CONDSTORE's conditional form (RFC
 * 7162 3.1.3: UNCHANGEDSINCE, [MODIFIED]). The untagged FETCH responses
 * come from the view's sync, which learns this STORE's changes as it
 * learns anyone's; .SILENT skips the STORE's own (once CONDSTORE is on,
 * they still go out, with their MODSEQ and no FLAGS). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "imapd.h"

/* ---- Flag lists, for STORE and APPEND ---------------------------------- */

static const struct {
	const char *name;
	unsigned bit;
} system_flags[] = {
	{"\\Seen", PS_FLAG_SEEN}, {"\\Answered", PS_FLAG_ANSWERED},
	{"\\Flagged", PS_FLAG_FLAGGED}, {"\\Deleted", PS_FLAG_DELETED},
	{"\\Draft", PS_FLAG_DRAFT},
};

int
imap_flags_parse(const struct imap_arg *a, size_t n, unsigned *flags_r,
		 const char **kw, size_t *nkw_r, const char **why_r)
{
	const char *f;
	size_t k;

	*flags_r = 0;
	*nkw_r = 0;
	for (size_t i = 0; i < n; i++) {
		if (imap_arg_get_flag(&a[i], &f) < 0) {
			*why_r = "Invalid flag";
			return -1;
		}
		if (f[0] != '\\') {
			kw[(*nkw_r)++] = f;
			continue;
		}
		/* RFC 9051 2.3.2: \Recent is the server's to set, and other
		 * "\" names are not flags this server knows. */
		for (k = 0; k < sizeof(system_flags) / sizeof(system_flags[0]);
		     k++)
			if (strcasecmp(f, system_flags[k].name) == 0)
				break;
		if (k == sizeof(system_flags) / sizeof(system_flags[0])) {
			*why_r = "Invalid system flag";
			return -1;
		}
		*flags_r |= system_flags[k].bit;
	}
	return 0;
}

/* ---- STORE ------------------------------------------------------------- */

struct change {
	uint32_t uid;
	uint64_t modseq;
};

struct store {
	struct imap_seqset uids;
	enum ps_store_mode mode;
	unsigned flags;
	const char **kw;          /* in the parser's arguments */
	size_t nkw;
	int silent;
	int conditional;
	uint64_t unchangedsince;
	struct change *ch;        /* what this STORE changed, by UID */
	size_t nch, cap;
	struct imap_seqset refused; /* UIDs that failed UNCHANGEDSINCE */
	struct imap_buf modified;   /* MODIFIED's set, as the client sees it */
	int error;
};

static int
store_changed(const struct ps_msg *m, void *arg)
{
	struct store *x = arg;

	if (x->nch == x->cap) {
		size_t cap = x->cap ? x->cap * 2 : 64;
		struct change *p = realloc(x->ch, cap * sizeof(*p));

		if (!p) {
			x->error = 1;
			return 0;
		}
		x->ch = p;
		x->cap = cap;
	}
	/* In UID order: the storage goes through the set in order. */
	x->ch[x->nch++] = (struct change){m->uid, m->modseq};
	return 0;
}

static int
store_refused(uint32_t uid, void *arg)
{
	struct store *x = arg;

	if (imap_seqset_add(&x->refused, uid, uid) < 0)
		x->error = 1;
	return 0;
}

/* UNCHANGEDSINCE 0 "always fails if the metadata item exists. A system
 * flag MUST always be considered existent, whether it was set or not"
 * (RFC 7162 3.1.3). The store cannot say 0 (that means no condition), so
 * the test is made here: a STORE touching a system flag (any FLAGS
 * replacement does) fails for every message; one of keywords only fails
 * where one of them is set, and is done elsewhere on condition that the
 * message has not changed since it was looked at. */
struct zero {
	struct store *x;
	struct change *ok;
	size_t n, cap;
};

static int
zero_look(const struct ps_msg *m, void *arg)
{
	struct zero *z = arg;
	struct store *x = z->x;
	int exists = x->mode == PS_STORE_REPLACE || x->flags != 0;

	for (size_t i = 0; !exists && i < x->nkw; i++)
		for (size_t k = 0; !exists && k < m->nkeywords; k++)
			exists = strcasecmp(x->kw[i], m->keywords[k]) == 0;
	if (exists)
		return store_refused(m->uid, x);
	if (z->n == z->cap) {
		size_t cap = z->cap ? z->cap * 2 : 64;
		struct change *p = realloc(z->ok, cap * sizeof(*p));

		if (!p)
			return PS_ENOMEM;
		z->ok = p;
		z->cap = cap;
	}
	z->ok[z->n++] = (struct change){m->uid, m->modseq};
	return 0;
}

static int
store_zero(struct imap_job *j, struct store *x)
{
	struct imap_view *v = j->s->view;
	struct zero z = {.x = x};
	int r = imap_cfg.store.msg_fetch(v->mb, x->uids.r, x->uids.n,
					 zero_look, &z, &j->err);

	/* Removing keywords none of which is set changes nothing. */
	for (size_t i = 0; r == 0 && x->mode == PS_STORE_ADD && i < z.n; i++) {
		struct ps_uid_range one = {z.ok[i].uid, z.ok[i].uid};

		r = imap_cfg.store.msg_store(v->mb, &one, 1, x->mode, 0,
					     x->kw, x->nkw, z.ok[i].modseq,
					     store_changed, store_refused, x,
					     &j->err);
	}
	free(z.ok);
	return r;
}

/* MODIFIED lists sequence numbers for STORE, UIDs for UID STORE. */
static void
store_modified(struct imap_session *s, struct store *x)
{
	struct imap_seqset seqs;

	imap_seqset_normalize(&x->refused);
	imap_buf_adds(&x->modified, "MODIFIED ");
	if (s->uid) {
		imap_seqset_format(&x->refused, &x->modified);
		return;
	}
	imap_seqset_init(&seqs);
	for (size_t i = 0; i < x->refused.n; i++)
		for (uint64_t u = x->refused.r[i].first;
		     u <= x->refused.r[i].last; u++) {
			uint32_t seq = imap_view_seq(s->view, (uint32_t)u);

			if (seq && imap_seqset_add(&seqs, seq, seq) < 0)
				x->error = 1;
		}
	imap_seqset_normalize(&seqs);
	imap_seqset_format(&seqs, &x->modified);
	imap_seqset_free(&seqs);
}

static void
store_work(struct imap_job *j)
{
	struct imap_session *s = j->s;
	struct imap_view *v = s->view;
	struct store *x = j->arg;
	int r = 0;

	if (x->uids.n && x->conditional && x->unchangedsince == 0)
		r = store_zero(j, x);
	else if (x->uids.n)
		r = imap_cfg.store.msg_store(v->mb, x->uids.r, x->uids.n,
					     x->mode, x->flags, x->kw, x->nkw,
					     x->unchangedsince, store_changed,
					     store_refused, x, &j->err);
	if (r == 0 && x->error)
		r = PS_ENOMEM;
	/* RFC 7162 3.1.3: the new MODSEQ goes out even when silent. */
	for (size_t i = 0; r == 0 && x->silent &&
	     (s->enabled & IMAP_EN_CONDSTORE) && i < x->nch; i++) {
		uint32_t seq = imap_view_seq(v, x->ch[i].uid);

		if (!seq)
			continue;
		imap_buf_adds(&j->out, "* ");
		imap_buf_addu64(&j->out, seq);
		imap_buf_adds(&j->out, " FETCH (MODSEQ (");
		imap_buf_addu64(&j->out, x->ch[i].modseq);
		imap_buf_addc(&j->out, ')');
		if (s->uid) {
			imap_buf_adds(&j->out, " UID ");
			imap_buf_addu64(&j->out, x->ch[i].uid);
		}
		imap_buf_adds(&j->out, ")\r\n");
	}
	/* .SILENT: the sync leaves out this STORE's own changes (a failed
	 * note only makes it report one again). */
	for (size_t i = 0; r == 0 && x->silent && i < x->nch; i++)
		imap_view_told(v, x->ch[i].uid, x->ch[i].modseq);
	/* Changes by others are reported even on failure. */
	if (r == 0)
		r = imap_view_sync(s, &j->out, imap_expunge_ok(s), &j->err);
	else
		imap_view_sync(s, &j->out, imap_expunge_ok(s),
			       &(struct ps_error){0});
	if (r == 0 && x->refused.n)
		store_modified(s, x);
	j->result = r;
}

static void
store_free(struct store *x)
{
	imap_seqset_free(&x->uids);
	imap_seqset_free(&x->refused);
	imap_buf_free(&x->modified);
	free(x->kw);
	free(x->ch);
	free(x);
}

static void
store_done(struct imap_job *j)
{
	struct imap_session *s = j->s;
	struct store *x = j->arg;

	/* Nothing goes out once the client is gone (imap_write). */
	if (j->result == PS_EINVAL)
		imap_no(s, "LIMIT", "Too many keywords, or a keyword too long");
	else if (j->result < 0)
		imap_store_error(s, j->result, &j->err);
	else if (x->modified.len)
		imap_tagged(s, "OK", imap_buf_str(&x->modified),
			    "Conditional STORE failed");
	else
		imap_ok(s, "Store completed");
	store_free(x);
}

static int
refuse(struct imap_session *s, const char *text)
{
	imap_bad(s, text);
	return -1;
}

/* "(" store-modifier *(SP store-modifier) ")": UNCHANGEDSINCE is the
 * one this server knows (RFC 7162 3.1.3, RFC 4466 2.5). */
static int
store_modifiers(struct imap_session *s, const struct imap_arg *a,
		struct store *x)
{
	const struct imap_arg *list;
	size_t n;

	if (imap_arg_get_list(a, &list, &n) < 0 || n == 0 || n % 2)
		return refuse(s, "Invalid STORE modifiers");
	for (size_t i = 0; i < n; i += 2) {
		if (!imap_arg_is_atom(&list[i], "UNCHANGEDSINCE") ||
		    x->conditional)
			return refuse(s, "Unknown STORE modifier");
		if (imap_arg_get_number64(&list[i + 1], &x->unchangedsince) <
		    0)
			return refuse(s, "Invalid UNCHANGEDSINCE");
		x->conditional = 1;
	}
	return 0;
}

/* ["+" / "-"] "FLAGS" [".SILENT"] */
static int
store_item(const struct imap_arg *a, struct store *x)
{
	const char *w;

	if (imap_arg_get_atom(a, &w) < 0)
		return -1;
	x->mode = PS_STORE_REPLACE;
	if (*w == '+' || *w == '-')
		x->mode = *w++ == '+' ? PS_STORE_ADD : PS_STORE_REMOVE;
	if (strncasecmp(w, "FLAGS", 5) != 0)
		return -1;
	w += 5;
	if (strcasecmp(w, ".SILENT") == 0)
		x->silent = 1;
	else if (*w)
		return -1;
	return 0;
}

/* STORE sequence-set [SP "(" modifiers ")"] SP item SP (flag-list /
 * flag *(SP flag)) */
static int
store_parse(struct imap_session *s, struct store *x)
{
	const struct imap_arg *flags;
	const char *why;
	size_t i = 1, n;

	if (s->nargs < 3)
		return refuse(s, "STORE takes a sequence set, an item and "
			      "flags");
	if (s->args[1].type == IMAP_ARG_LIST &&
	    store_modifiers(s, &s->args[i++], x) < 0)
		return -1;
	if (i == s->nargs || store_item(&s->args[i], x) < 0)
		return refuse(s, "Invalid STORE item");
	if (++i == s->nargs)
		return refuse(s, "STORE needs flags");
	flags = &s->args[i];
	n = s->nargs - i;
	if (n == 1 && flags->type == IMAP_ARG_LIST)
		imap_arg_get_list(flags, &flags, &n);
	if (n && !(x->kw = calloc(n, sizeof(*x->kw)))) {
		imap_no(s, "UNAVAILABLE", "Out of memory");
		return -1;
	}
	if (imap_flags_parse(flags, n, &x->flags, x->kw, &x->nkw, &why) < 0)
		return refuse(s, why);
	return imap_view_set(s, &s->args[0], s->uid, &x->uids);
}

int
imap_cmd_store(struct imap_session *s)
{
	struct store *x = calloc(1, sizeof(*x));
	struct imap_job *j;

	if (!x)
		return imap_no(s, "UNAVAILABLE", "Out of memory");
	imap_seqset_init(&x->uids);
	imap_seqset_init(&x->refused);
	imap_buf_init(&x->modified, (size_t)-1);
	if (store_parse(s, x) < 0) {
		store_free(x);
		return 0;
	}
	if (s->view->readonly) {
		store_free(x);
		return imap_no(s, NULL, "Mailbox is read-only");
	}
	/* RFC 7162 3.1: any CONDSTORE use turns it on for the session. */
	if (x->conditional)
		s->enabled |= IMAP_EN_CONDSTORE;
	if (!(j = imap_job_new(s, store_work, store_done, x)) ||
	    imap_job_start(s, j) < 0) {
		imap_job_free(j);
		store_free(x);
		return imap_no(s, "UNAVAILABLE", "Out of memory");
	}
	return 0;
}
