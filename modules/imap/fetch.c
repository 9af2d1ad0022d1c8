/* FETCH and UID FETCH (RFC 3501 6.4.5, 6.4.8; RFC 9051 6.4.5, 6.4.9):
 * the attributes and macros, CONDSTORE's MODSEQ and CHANGEDSINCE and
 * QRESYNC's VANISHED (RFC 7162 3.1.4, 3.1.4.1, 3.2.6). One job answers
 * the command in steps of about IMAP_OUT_CHUNK octets: messages come
 * from the store in batches, each line is "* n FETCH (UID FLAGS MODSEQ
 * ...the rest as asked)", and a long literal goes on over as many steps
 * as it needs, so neither 10,000 messages nor one of 50 MB is ever held
 * in memory. Body sections that are not PEEK set \Seen (6.4.5) unless
 * the mailbox is read-only, and the line then carries FLAGS. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "datetime.h"
#include "fetch.h"
#include "quote.h"

#define FETCH_BATCH 64                /* messages per msg_fetch */
#define FETCH_BATCH_BYTES (4u << 20)  /* cache blobs copied per batch */
#define FETCH_STOP 1                  /* the batch is full */

#define BIT(k) (1u << (k))
/* Written first on each line, in this order, never as items. */
#define LEADING (BIT(FETCH_UID) | BIT(FETCH_FLAGS) | BIT(FETCH_MODSEQ))
#define NEEDS_TREE (BIT(FETCH_ENVELOPE) | BIT(FETCH_BODY) | \
		    BIT(FETCH_BODYSTRUCTURE))

/* ---- The command's arguments ------------------------------------------- */

static const struct {
	const char *name;
	enum fetch_kind kind;
} simple_atts[] = {
	{"UID", FETCH_UID},
	{"FLAGS", FETCH_FLAGS},
	{"MODSEQ", FETCH_MODSEQ},        /* RFC 7162 3.1.4 */
	{"INTERNALDATE", FETCH_INTERNALDATE},
	{"RFC822.SIZE", FETCH_RFC822_SIZE},
	{"ENVELOPE", FETCH_ENVELOPE},
	{"BODY", FETCH_BODY},
	{"BODYSTRUCTURE", FETCH_BODYSTRUCTURE},
};

/* RFC 9051 6.4.5: the macros, alone and never in a list. */
static const struct {
	const char *name;
	unsigned atts;
} macros[] = {
	{"ALL", BIT(FETCH_FLAGS) | BIT(FETCH_INTERNALDATE) |
		    BIT(FETCH_RFC822_SIZE) | BIT(FETCH_ENVELOPE)},
	{"FAST", BIT(FETCH_FLAGS) | BIT(FETCH_INTERNALDATE) |
		     BIT(FETCH_RFC822_SIZE)},
	{"FULL", BIT(FETCH_FLAGS) | BIT(FETCH_INTERNALDATE) |
		     BIT(FETCH_RFC822_SIZE) | BIT(FETCH_ENVELOPE) |
		     BIT(FETCH_BODY)},
};

/* RFC 3501 6.4.5: the RFC822 forms are BODY sections under other
 * names. */
static const struct {
	const char *name;
	enum imap_body_att att;
	enum imap_section_text text;
} rfc822_atts[] = {
	{"RFC822", IMAP_BODY, IMAP_SECTION_ALL},
	{"RFC822.HEADER", IMAP_BODY_PEEK, IMAP_SECTION_HEADER},
	{"RFC822.TEXT", IMAP_BODY, IMAP_SECTION_TEXT},
};

static const char *const text_names[] = {
	[IMAP_SECTION_ALL] = "",
	[IMAP_SECTION_HEADER] = "HEADER",
	[IMAP_SECTION_HEADER_FIELDS] = "HEADER.FIELDS",
	[IMAP_SECTION_HEADER_FIELDS_NOT] = "HEADER.FIELDS.NOT",
	[IMAP_SECTION_TEXT] = "TEXT",
	[IMAP_SECTION_MIME] = "MIME",
};

static struct fetch_item *
item_new(struct fetch *f)
{
	struct fetch_item *it = realloc(f->items,
					(f->nitems + 1) * sizeof(*it));

	if (!it)
		return NULL;
	f->items = it;
	it = &f->items[f->nitems++];
	memset(it, 0, sizeof(*it));
	return it;
}

static int
add_simple(struct fetch *f, enum fetch_kind kind)
{
	struct fetch_item *it;

	if (f->want & BIT(kind))
		return 0;
	f->want |= BIT(kind);
	if (BIT(kind) & NEEDS_TREE)
		f->need_tree = 1;
	if (BIT(kind) & LEADING)
		return 0;
	if (!(it = item_new(f)))
		return PS_ENOMEM;
	it->kind = kind;
	return 0;
}

/* "BODY[1.2.HEADER.FIELDS (FROM TO)]": the section as the response
 * names it (RFC 9051 7.5.2), field names in upper case. */
static int
section_label(struct fetch_section *fs, const char *rfc822)
{
	const struct imap_section *sec = &fs->sec;
	struct imap_buf b;

	if (rfc822)
		return (fs->label = strdup(rfc822)) ? 0 : PS_ENOMEM;
	imap_buf_init(&b, (size_t)-1);
	imap_buf_adds(&b, sec->att == IMAP_BINARY_SIZE ? "BINARY.SIZE[" :
			  sec->att >= IMAP_BINARY ? "BINARY[" : "BODY[");
	for (size_t i = 0; i < sec->nparts; i++) {
		if (i)
			imap_buf_addc(&b, '.');
		imap_buf_addu64(&b, sec->part[i]);
	}
	if (sec->nparts && sec->text != IMAP_SECTION_ALL)
		imap_buf_addc(&b, '.');
	imap_buf_adds(&b, text_names[sec->text]);
	if (sec->nfields) {
		imap_buf_adds(&b, " (");
		for (size_t i = 0; i < sec->nfields; i++) {
			if (i)
				imap_buf_addc(&b, ' ');
			imap_quote_astring(&b, fs->names[i],
					   strlen(fs->names[i]), 0);
		}
		imap_buf_addc(&b, ')');
	}
	imap_buf_addc(&b, ']');
	if (b.error) {
		imap_buf_free(&b);
		return PS_ENOMEM;
	}
	fs->label = b.data; /* the buffer's memory, NUL-terminated */
	return 0;
}

/* Field names are copied: the parser's memory is not the job's. */
static int
section_names(struct fetch_section *fs, const struct imap_section *sec)
{
	if (!sec->nfields)
		return 0;
	if (!(fs->names = calloc(sec->nfields, sizeof(*fs->names))))
		return PS_ENOMEM;
	for (size_t i = 0; i < sec->nfields; i++) {
		const char *s;
		size_t len;

		imap_arg_get_astring(&sec->fields[i], &s, &len);
		if (memchr(s, '\0', len) ||
		    !(fs->names[i] = strndup(s, len)))
			return PS_ENOMEM;
		for (char *p = fs->names[i]; *p; p++)
			if (*p >= 'a' && *p <= 'z')
				*p = (char)(*p - 32);
	}
	return 0;
}

static int
add_section(struct fetch *f, const struct imap_section *sec,
	    const char *rfc822)
{
	struct fetch_section *fs = calloc(1, sizeof(*fs));
	struct fetch_item *it;

	if (!fs)
		return PS_ENOMEM;
	fs->sec = *sec;
	fs->sec.fields = NULL;
	if (section_names(fs, sec) < 0 || section_label(fs, rfc822) < 0 ||
	    !(it = item_new(f))) {
		for (size_t i = 0; fs->names && i < sec->nfields; i++)
			free(fs->names[i]);
		free(fs->names);
		free(fs->label);
		free(fs);
		return PS_ENOMEM;
	}
	it->kind = FETCH_SECTION;
	it->section = fs;
	fs->seen = sec->att == IMAP_BODY || sec->att == IMAP_BINARY;
	f->set_seen |= fs->seen;
	if (sec->nparts || sec->text != IMAP_SECTION_ALL)
		f->need_tree = 1;
	return 0;
}

/* One fetch-att; macros only at the top. 0, 1 (not a fetch-att) or
 * PS_ENOMEM. */
static int
parse_att(struct fetch *f, const struct imap_arg *a, int top)
{
	struct imap_section sec;
	size_t i;

	if (a->type == IMAP_ARG_SECTION) {
		if (imap_section_parse(a, &sec) < 0)
			return 1;
		return add_section(f, &sec, NULL);
	}
	if (a->type != IMAP_ARG_ATOM || (a->flags & ~IMAP_ARGF_RBRACKET))
		return 1;
	for (i = 0; top && i < sizeof(macros) / sizeof(macros[0]); i++)
		if (strcasecmp(a->str, macros[i].name) == 0) {
			for (unsigned k = 0; k < FETCH_SECTION; k++)
				if (macros[i].atts & BIT(k) &&
				    add_simple(f, k) < 0)
					return PS_ENOMEM;
			return 0;
		}
	for (i = 0; i < sizeof(simple_atts) / sizeof(simple_atts[0]); i++)
		if (strcasecmp(a->str, simple_atts[i].name) == 0)
			return add_simple(f, simple_atts[i].kind);
	for (i = 0; i < sizeof(rfc822_atts) / sizeof(rfc822_atts[0]); i++)
		if (strcasecmp(a->str, rfc822_atts[i].name) == 0) {
			memset(&sec, 0, sizeof(sec));
			sec.att = rfc822_atts[i].att;
			sec.text = rfc822_atts[i].text;
			return add_section(f, &sec, rfc822_atts[i].name);
		}
	return 1;
}

/* RFC 7162 3.1.4 and 3.2.6: "(CHANGEDSINCE n [VANISHED])". 0, or -1
 * after a BAD. */
static int
parse_modifiers(struct imap_session *s, struct fetch *f,
		const struct imap_arg *a)
{
	const struct imap_arg *l;
	size_t n;

	if (imap_arg_get_list(a, &l, &n) < 0 || n == 0)
		return imap_bad(s, "Invalid FETCH modifiers"), -1;
	for (size_t i = 0; i < n; i++) {
		if (imap_arg_is_atom(&l[i], "CHANGEDSINCE") && i + 1 < n &&
		    !f->changedsince_given &&
		    imap_arg_get_number64(&l[i + 1], &f->changedsince) == 0) {
			f->changedsince_given = 1;
			i++;
		} else if (imap_arg_is_atom(&l[i], "VANISHED") &&
			   !f->vanished) {
			f->vanished = 1;
		} else {
			return imap_bad(s, "Invalid FETCH modifier"), -1;
		}
	}
	if (f->vanished && (!s->uid || !f->changedsince_given ||
			    !(s->enabled & IMAP_EN_QRESYNC)))
		return imap_bad(s, "VANISHED needs UID FETCH, CHANGEDSINCE "
				"and QRESYNC enabled"), -1;
	return 0;
}

static void
batch_clear(struct fetch *f)
{
	for (size_t i = 0; i < f->nbatch; i++) {
		struct fetch_msg *fm = &f->batch[i];

		for (size_t k = 0; k < fm->m.nkeywords; k++)
			free(fm->keywords[k]);
		free(fm->keywords);
		free(fm->cache);
	}
	f->nbatch = f->next = 0;
	f->batch_bytes = 0;
	f->cur = NULL;
}

static void
fetch_free(struct fetch *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->nitems; i++) {
		struct fetch_section *fs = f->items[i].section;

		if (!fs)
			continue;
		for (size_t k = 0; fs->names && k < fs->sec.nfields; k++)
			free(fs->names[k]);
		free(fs->names);
		free(fs->label);
		free(fs);
	}
	free(f->items);
	batch_clear(f);
	free(f->batch);
	mime_tree_free(f->tree);
	free(f->chunk);
	imap_seqset_free(&f->rest);
	free(f);
}

/* ---- Batches of messages (on the pool) ----------------------------------- */

struct collect {
	struct fetch *f;
	struct imap_view *v;
	uint32_t last;  /* the highest UID the store handed over */
};

static int
copy_msg(struct fetch *f, const struct ps_msg *m)
{
	struct fetch_msg *fm = &f->batch[f->nbatch];

	memset(fm, 0, sizeof(*fm));
	fm->m = *m;
	fm->m.keywords = NULL;
	fm->m.nkeywords = 0;
	fm->m.cache = NULL;
	fm->m.cache_len = 0;
	f->nbatch++;
	if (m->nkeywords &&
	    !(fm->keywords = calloc(m->nkeywords, sizeof(char *))))
		return PS_ENOMEM;
	for (size_t i = 0; i < m->nkeywords; i++) {
		if (!(fm->keywords[i] = strdup(m->keywords[i])))
			return PS_ENOMEM;
		fm->m.nkeywords++;
	}
	fm->m.keywords = (const char *const *)fm->keywords;
	if (f->need_tree && m->cache_len) {
		if (!(fm->cache = malloc(m->cache_len)))
			return PS_ENOMEM;
		memcpy(fm->cache, m->cache, m->cache_len);
		fm->m.cache = fm->cache;
		fm->m.cache_len = m->cache_len;
		f->batch_bytes += m->cache_len;
	}
	return 0;
}

static int
collect_msg(const struct ps_msg *m, void *arg)
{
	struct collect *c = arg;
	struct fetch *f = c->f;
	int r;

	c->last = m->uid;
	/* Not the client's (yet), or unchanged since CHANGEDSINCE. */
	if (!imap_view_seq(c->v, m->uid) ||
	    (f->changedsince_given && m->modseq <= f->changedsince))
		return 0;
	if ((r = copy_msg(f, m)) < 0)
		return r;
	return f->nbatch == f->batch_cap ||
			       f->batch_bytes >= FETCH_BATCH_BYTES ? FETCH_STOP
								   : 0;
}

/* Forget the UIDs up to last: done. */
static void
rest_cut(struct imap_seqset *t, uint32_t last)
{
	size_t kept = 0;

	for (size_t i = 0; i < t->n; i++) {
		if (t->r[i].last <= last)
			continue;
		if (t->r[i].first <= last)
			t->r[i].first = last + 1;
		t->r[kept++] = t->r[i];
	}
	t->n = kept;
}

static int
seen_changed(const struct ps_msg *m, void *arg)
{
	struct fetch *f = arg;

	for (size_t i = f->next; i < f->nbatch; i++)
		if (f->batch[i].m.uid == m->uid) {
			f->batch[i].m.flags = m->flags;
			f->batch[i].m.modseq = m->modseq;
			f->batch[i].flags_changed = 1;
			break;
		}
	return 0;
}

/* RFC 9051 6.4.5: BODY[...] and BINARY[...] set \Seen. It is done
 * before the lines are written, so they show the flags as they are. A
 * failure leaves the flags as they were: the data is still sent. */
static void
implicit_seen(struct imap_job *j, struct fetch *f)
{
	struct ps_uid_range r[FETCH_BATCH];
	struct ps_error err;
	size_t n = 0;

	if (!f->set_seen || j->s->view->readonly)
		return;
	for (size_t i = 0; i < f->nbatch; i++) {
		uint32_t uid = f->batch[i].m.uid;

		if (f->batch[i].m.flags & PS_FLAG_SEEN)
			continue;
		if (n && r[n - 1].last + 1 == uid)
			r[n - 1].last = uid;
		else
			r[n++] = (struct ps_uid_range){uid, uid};
	}
	if (n)
		imap_cfg.store.msg_store(j->s->view->mb, r, n, PS_STORE_ADD,
					 PS_FLAG_SEEN, NULL, 0, 0, seen_changed,
					 NULL, f, &err);
}

/* The next batch: 0 (maybe empty: then all is done) or an error. */
static int
batch_next(struct imap_job *j, struct fetch *f)
{
	struct collect c = {.f = f, .v = j->s->view};
	int r;

	batch_clear(f);
	if (f->exhausted || !f->rest.n)
		return 0;
	r = imap_cfg.store.msg_fetch(c.v->mb, f->rest.r, f->rest.n,
				     collect_msg, &c, &j->err);
	if (r < 0)
		return r;
	if (r == FETCH_STOP)
		rest_cut(&f->rest, c.last);
	else
		f->exhausted = 1;
	implicit_seen(j, f);
	return 0;
}

/* ---- Lines --------------------------------------------------------------- */

static void
sep(struct fetch *f, struct imap_buf *out)
{
	if (f->nitems_out++)
		imap_buf_addc(out, ' ');
}

/* "* n FETCH (UID u FLAGS (...) MODSEQ (m)": UID first, as RFC 9051
 * 6.4.9 wants it for UID FETCH, FLAGS when asked or changed, MODSEQ
 * when asked or, with CONDSTORE, beside FLAGS (RFC 7162 3.1.4.1). */
static int
line_open(struct imap_job *j, struct fetch *f)
{
	struct imap_session *s = j->s;
	struct imap_view *v = s->view;
	const struct ps_msg *m = &f->cur->m;
	struct imap_buf *out = &j->out;
	int flags = (f->want & BIT(FETCH_FLAGS)) || f->cur->flags_changed;
	uint64_t bytes;
	int r;

	if (f->need_tree) {
		r = imap_structure_get(v->mb, m->uid, m->cache, m->cache_len,
				       &f->tree, &bytes, &j->err);
		if (r < 0)
			return r;
		if (bytes) {
			f->parsed++;
			f->parsed_bytes += bytes;
		} else {
			f->cached++;
		}
	}
	imap_buf_adds(out, "* ");
	imap_buf_addu64(out, imap_view_seq(v, m->uid));
	imap_buf_adds(out, " FETCH (");
	f->item = 0;
	f->nitems_out = 0;
	if (f->want & BIT(FETCH_UID)) {
		sep(f, out);
		imap_buf_adds(out, "UID ");
		imap_buf_addu64(out, m->uid);
	}
	if (flags) {
		sep(f, out);
		imap_buf_adds(out, "FLAGS ");
		imap_flags_out(out, m, imap_recent(s, v, m->uid));
		/* The sync after this need not tell it again. */
		if (m->modseq > v->modseq)
			imap_view_told(v, m->uid, m->modseq);
	}
	if ((f->want & BIT(FETCH_MODSEQ)) ||
	    (flags && (s->enabled & IMAP_EN_CONDSTORE))) {
		sep(f, out);
		imap_buf_adds(out, "MODSEQ (");
		imap_buf_addu64(out, m->modseq);
		imap_buf_addc(out, ')');
	}
	return 0;
}

static void
line_close(struct fetch *f, struct imap_buf *out)
{
	imap_buf_adds(out, ")\r\n");
	mime_tree_free(f->tree);
	f->tree = NULL;
	f->cur = NULL;
}

static int
write_item(struct imap_job *j, struct fetch *f)
{
	const struct fetch_item *it = &f->items[f->item++];
	const struct ps_msg *m = &f->cur->m;
	struct imap_buf *out = &j->out;
	char date[IMAP_DATETIME_LEN + 1];
	int r = 0;

	if (it->kind == FETCH_SECTION) {
		r = fetch_section_start(f, j->s->view->mb, it->section, out,
					&j->err);
		return r < 0 ? r : 0;
	}
	sep(f, out);
	switch (it->kind) {
	case FETCH_INTERNALDATE:
		imap_datetime_format(m->internal_date, m->internal_tz, date);
		imap_buf_adds(out, "INTERNALDATE ");
		imap_buf_adds(out, date);
		break;
	case FETCH_RFC822_SIZE:
		imap_buf_adds(out, "RFC822.SIZE ");
		imap_buf_addu64(out, m->size);
		break;
	case FETCH_ENVELOPE:
		imap_buf_adds(out, "ENVELOPE (");
		r = imap_envelope_write(out, f->tree->envelope, f->qflags);
		imap_buf_addc(out, ')');
		break;
	case FETCH_BODY:
	case FETCH_BODYSTRUCTURE:
		imap_buf_adds(out, it->kind == FETCH_BODY ? "BODY ("
							  : "BODYSTRUCTURE (");
		r = imap_bodystructure_write(
			out, f->tree,
			f->bsflags | (it->kind == FETCH_BODYSTRUCTURE ?
					      IMAP_BS_EXTENDED : 0),
			f->qflags);
		imap_buf_addc(out, ')');
		break;
	default:
		break;
	}
	return r;
}

/* ---- VANISHED (EARLIER) -------------------------------------------------- */

struct vanished {
	const struct imap_seqset *asked;
	struct imap_seqset gone;
	int error;
};

static int
vanished_uid(uint32_t uid, void *arg)
{
	struct vanished *x = arg;

	if (imap_seqset_contains(x->asked, uid) &&
	    imap_seqset_add(&x->gone, uid, uid) < 0)
		x->error = 1;
	return 0;
}

/* RFC 7162 3.2.6: the UIDs of the set expunged since CHANGEDSINCE, before
 * any FETCH. */
static int
vanished_earlier(struct imap_job *j, struct fetch *f)
{
	struct vanished x = {.asked = &f->rest};
	int r;

	imap_seqset_init(&x.gone);
	r = imap_cfg.store.changes_since(j->s->view->mb, f->changedsince,
					 NULL, vanished_uid, &x, &j->err);
	if (r == 0 && x.error)
		r = PS_ENOMEM;
	if (r == 0 && x.gone.n) {
		imap_seqset_normalize(&x.gone);
		imap_buf_adds(&j->out, "* VANISHED (EARLIER) ");
		imap_seqset_format(&x.gone, &j->out);
		imap_buf_adds(&j->out, "\r\n");
	}
	imap_seqset_free(&x.gone);
	return r;
}

/* ---- The job ------------------------------------------------------------- */

/* One step: lines until about IMAP_OUT_CHUNK octets are out, then more;
 * at the end the sync (no EXPUNGE during FETCH: imap_expunge_ok). */
static int
fetch_step(struct imap_job *j, struct fetch *f)
{
	int r = 0;

	if (!f->started) {
		f->started = 1;
		if (f->vanished && (r = vanished_earlier(j, f)) < 0)
			return r;
	}
	while (j->out.len < IMAP_OUT_CHUNK) {
		if (f->st.active) {
			if ((r = fetch_stream_more(f, j->s->view->mb, &j->out,
						   &j->err)) < 0) {
				f->broken = 1;
				return r;
			}
		} else if (f->cur && f->item < f->nitems) {
			if ((r = write_item(j, f)) < 0)
				return r;
		} else if (f->cur) {
			line_close(f, &j->out);
		} else if (f->next < f->nbatch) {
			f->cur = &f->batch[f->next++];
			r = line_open(j, f);
			if (r == PS_STORE_ENOMSG) {
				/* Expunged since the batch was read. */
				f->cur = NULL;
			} else if (r < 0) {
				f->cur = NULL;
				return r;
			}
		} else {
			if ((r = batch_next(j, f)) < 0)
				return r;
			if (f->nbatch == 0)
				return imap_view_sync(j->s, &j->out,
						      imap_expunge_ok(j->s),
						      &j->err);
		}
	}
	j->more = 1;
	return 0;
}

static void
fetch_work(struct imap_job *j)
{
	struct fetch *f = j->arg;
	int r;

	if (j->s->closed)
		return;
	if (!f->chunk && !(f->chunk = malloc(FETCH_CHUNK))) {
		j->result = PS_ENOMEM;
		return;
	}
	r = fetch_step(j, f);
	if (r < 0) {
		/* The line in progress ends as well as it can; a literal
		 * cut short cannot, and the connection goes (done). */
		if (f->cur && !f->broken)
			line_close(f, &j->out);
		j->result = r;
		j->more = 0;
	}
}

static void
fetch_done(struct imap_job *j)
{
	struct imap_session *s = j->s;
	struct fetch *f = j->arg;

	if (f->parsed || f->cached)
		ps_conn_log(s->conn, PS_LOG_DEBUG, "fetch structures "
			    "user=%s cached=%llu parsed=%llu parsed_bytes=%llu",
			    s->user, (unsigned long long)f->cached,
			    (unsigned long long)f->parsed,
			    (unsigned long long)f->parsed_bytes);
	if (s->closed) {
		/* nothing to answer */
	} else if (f->broken) {
		ps_conn_log(s->conn, PS_LOG_ERR, "fetch cut short user=%s: %s",
			    s->user, j->err.msg);
		ps_conn_close(s->conn);
	} else if (j->result < 0) {
		imap_store_error(s, j->result, &j->err);
	} else if (f->unknown_cte) {
		imap_no(s, "UNKNOWN-CTE", "Cannot decode a part's encoding");
	} else {
		imap_ok(s, "Fetch completed");
	}
	fetch_free(f);
}

/* ---- The command --------------------------------------------------------- */

static int
fetch_parse(struct imap_session *s, struct fetch *f)
{
	const struct imap_arg *l;
	size_t n;
	int r;

	if (s->nargs < 2 || s->nargs > 3)
		return imap_bad(s, "FETCH takes a sequence set, attributes "
				"and maybe modifiers"), -1;
	if (imap_arg_get_list(&s->args[1], &l, &n) == 0) {
		if (n == 0)
			return imap_bad(s, "No FETCH attributes"), -1;
		r = 0;
		for (size_t i = 0; i < n && r == 0; i++)
			r = parse_att(f, &l[i], 0);
	} else {
		r = parse_att(f, &s->args[1], 1);
	}
	if (r > 0)
		return imap_bad(s, "Invalid FETCH attribute"), -1;
	if (r < 0)
		return imap_no(s, "UNAVAILABLE", "Out of memory"), -1;
	if (s->nargs == 3 && parse_modifiers(s, f, &s->args[2]) < 0)
		return -1;
	if (imap_view_set(s, &s->args[0], s->uid, &f->rest) < 0)
		return -1;
	/* RFC 9051 6.4.9: UID FETCH always answers the UID; RFC 7162
	 * 3.1.4.1: CHANGEDSINCE implies MODSEQ, and any use of either
	 * enables CONDSTORE (3.1). */
	if (s->uid)
		f->want |= BIT(FETCH_UID);
	if (f->changedsince_given)
		f->want |= BIT(FETCH_MODSEQ);
	if (f->want & BIT(FETCH_MODSEQ))
		s->enabled |= IMAP_EN_CONDSTORE;
	f->qflags = imap_quote_flags(s);
	f->bsflags = s->enabled & IMAP_EN_REV2 ? IMAP_BS_GLOBAL : 0;
	return 0;
}

int
imap_cmd_fetch(struct imap_session *s)
{
	struct fetch *f = calloc(1, sizeof(*f));
	struct imap_job *j;

	if (!f)
		return imap_no(s, "UNAVAILABLE", "Out of memory");
	imap_seqset_init(&f->rest);
	f->batch_cap = FETCH_BATCH;
	if (fetch_parse(s, f) < 0) {
		fetch_free(f);
		return 0;
	}
	if (!(f->batch = calloc(f->batch_cap, sizeof(*f->batch))) ||
	    !(j = imap_job_new(s, fetch_work, fetch_done, f))) {
		fetch_free(f);
		return imap_no(s, "UNAVAILABLE", "Out of memory");
	}
	if (imap_job_start(s, j) < 0) {
		imap_job_free(j);
		fetch_free(f);
		return imap_no(s, "UNAVAILABLE", "Out of memory");
	}
	return 0;
}
