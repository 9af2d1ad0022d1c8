/* LIST (RFC 9051 6.3.9, RFC 3501 6.3.8) with LIST-EXTENDED (RFC 5258):
 * selection options SUBSCRIBED, REMOTE, RECURSIVEMATCH and SPECIAL-USE
 * (RFC 6154 3), return options SUBSCRIBED, CHILDREN (RFC 3348), SPECIAL-USE
 * and STATUS (LIST-STATUS, RFC 5819), several patterns, CHILDINFO; and
 * LSUB (RFC 3501 6.3.9). The store lists every mailbox and subscribed
 * name with its attributes; the patterns are matched here, against the
 * UTF-8 names (match.h). */
#include <stdlib.h>
#include <string.h>

#include "imapd.h"
#include "match.h"
#include "mutf7.h"
#include "quote.h"
#include "utf8.h"

/* What the command asked for. */
#define SEL_SUBSCRIBED 0x001 /* RFC 5258 3.1 */
#define SEL_REMOTE 0x002     /* no remote mailboxes here: no effect */
#define SEL_RECURSIVE 0x004  /* RECURSIVEMATCH */
#define SEL_SPECIAL 0x008    /* RFC 6154 3 */
#define RET_SUBSCRIBED 0x010 /* RFC 5258 3.2 */
#define RET_CHILDREN 0x020   /* RFC 5258 4 */
#define RET_SPECIAL 0x040    /* RFC 6154 3 */
#define RET_STATUS 0x080     /* RFC 5819 */
#define LIST_EXTENDED 0x100  /* options or several patterns: RFC 5258 */
#define LIST_LSUB 0x200

/* What each name turned out to be. */
#define E_MATCHED 0x1   /* a pattern matches it */
#define E_SELECTED 0x2  /* it meets the selection options */
#define E_CHILD_SEL 0x4 /* a descendant is E_SELECTED */
#define E_CHILD_UNSEEN 0x8 /* ... one that no pattern matches */

struct list_entry {
	char *name;      /* canonical, UTF-8 */
	unsigned attrs;  /* PS_MBOX_* */
	unsigned marks;  /* E_* */
};

struct list {
	unsigned opts;
	struct imap_match *pats;
	size_t npats;
	struct imap_status_req status;
	struct list_entry *e;
	size_t n, cap;
	size_t next;     /* the next entry to write */
	int loaded;
	int lsub_pct;    /* LSUB's pattern ends with "%" */
};

static void
list_free(struct list *l)
{
	for (size_t i = 0; i < l->npats; i++)
		imap_match_free(&l->pats[i]);
	free(l->pats);
	for (size_t i = 0; i < l->n; i++)
		free(l->e[i].name);
	free(l->e);
	free(l);
}

/* ---- Names from the store ------------------------------------------- */

static int
entry_add(struct list *l, const char *name, unsigned attrs)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct list_entry *e = realloc(l->e, cap * sizeof(*e));

		if (!e)
			return PS_ENOMEM;
		l->e = e;
		l->cap = cap;
	}
	if (!(l->e[l->n].name = strdup(name)))
		return PS_ENOMEM;
	l->e[l->n].attrs = attrs;
	l->e[l->n].marks = 0;
	l->n++;
	return 0;
}

static int
entry_from_store(const struct ps_mailbox_info *mb, void *arg)
{
	return entry_add(arg, mb->name, mb->attrs);
}

static int
entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct list_entry *)a)->name,
		      ((const struct list_entry *)b)->name);
}

static struct list_entry *
entry_find(const struct list *l, const char *name)
{
	struct list_entry key = {.name = (char *)name};

	return bsearch(&key, l->e, l->n, sizeof(key), entry_cmp);
}

/* A subscribed name may lie below levels that are no mailboxes and no
 * subscriptions; they are names all the same, which RECURSIVEMATCH and
 * LSUB's "%" may have to return (RFC 5258 3.5, RFC 3501 6.3.9). The
 * store makes parents of mailboxes, so only subscriptions need this.
 * Each level is added, then the list sorted and a level that is also
 * a name of the store's dropped. */
static int
add_levels(struct list *l)
{
	size_t n = l->n, kept = 0;
	char *level;
	int r = 0;

	for (size_t i = 0; i < n && r == 0; i++) {
		if (!(l->e[i].attrs & PS_MBOX_NONEXISTENT))
			continue;
		if (!(level = strdup(l->e[i].name)))
			return PS_ENOMEM;
		for (char *d = strrchr(level, imap_cfg.delim); d && r == 0;
		     d = strrchr(level, imap_cfg.delim)) {
			*d = '\0';
			r = entry_add(l, level, PS_MBOX_NONEXISTENT);
		}
		free(level);
	}
	qsort(l->e, l->n, sizeof(*l->e), entry_cmp);
	for (size_t i = 0; i < l->n; i++) {
		if (kept && strcmp(l->e[kept - 1].name, l->e[i].name) == 0) {
			/* Added levels carry NONEXISTENT alone: the store's
			 * entry of the name wins. */
			if (l->e[i].attrs != PS_MBOX_NONEXISTENT) {
				free(l->e[kept - 1].name);
				l->e[kept - 1] = l->e[i];
			} else {
				free(l->e[i].name);
			}
			continue;
		}
		l->e[kept++] = l->e[i];
	}
	l->n = kept;
	return r;
}

/* ---- Which names are returned ------------------------------------------ */

static int
selected(const struct list *l, unsigned attrs)
{
	if (l->opts & (SEL_SUBSCRIBED | LIST_LSUB))
		return (attrs & PS_MBOX_SUBSCRIBED) &&
		       (!(l->opts & SEL_SPECIAL) ||
			(attrs & PS_MBOX_SPECIAL_USE));
	if (attrs & PS_MBOX_NONEXISTENT)
		return 0;
	return !(l->opts & SEL_SPECIAL) || (attrs & PS_MBOX_SPECIAL_USE);
}

static int
matched(const struct list *l, const char *name)
{
	for (size_t i = 0; i < l->npats; i++)
		if (imap_match(&l->pats[i], name))
			return 1;
	return 0;
}

/* Tell the levels above a selected name that they have one below. */
static void
mark_parents(struct list *l, const struct list_entry *e)
{
	char *level = strdup(e->name);
	struct list_entry *p;

	if (!level)
		return;
	for (char *d = strrchr(level, imap_cfg.delim); d;
	     d = strrchr(level, imap_cfg.delim)) {
		*d = '\0';
		if (!(p = entry_find(l, level)))
			continue;
		p->marks |= E_CHILD_SEL;
		if (!(e->marks & E_MATCHED))
			p->marks |= E_CHILD_UNSEEN;
	}
	free(level);
}

static void
mark_all(struct list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		struct list_entry *e = &l->e[i];

		if (matched(l, e->name))
			e->marks |= E_MATCHED;
		if (selected(l, e->attrs))
			e->marks |= E_SELECTED;
	}
	for (size_t i = 0; i < l->n; i++)
		if (l->e[i].marks & E_SELECTED)
			mark_parents(l, &l->e[i]);
}

/* ---- Responses -------------------------------------------------------- */

static void
add_attr(struct imap_buf *b, const char *attr, int *first)
{
	if (!*first)
		imap_buf_addc(b, ' ');
	*first = 0;
	imap_buf_adds(b, attr);
}

/* RFC 3501 7.2.3: LSUB says \Noselect of what cannot be selected, and
 * of the levels "%" returns above subscribed names (6.3.9). */
static void
lsub_attrs(const struct list_entry *e, int child_only, struct imap_buf *b)
{
	if (child_only ||
	    (e->attrs & (PS_MBOX_NONEXISTENT | PS_MBOX_NOSELECT)))
		imap_buf_adds(b, "\\Noselect");
}

/* RFC 9051 7.3.1 and RFC 5258: the basic attributes always; children,
 * subscription and special use when asked for (a plain LIST gets the
 * CHILDREN and SPECIAL-USE ones, as RFC 3348 and RFC 6154 2 suggest).
 * \NonExistent implies \Noselect (RFC 5258 3.4); a plain LIST never
 * returns a name that does not exist. */
static void
list_attrs(const struct list *l, const struct list_entry *e,
	   struct imap_buf *b)
{
	unsigned a = e->attrs, o = l->opts;
	int first = 1;

	if (a & PS_MBOX_NONEXISTENT)
		add_attr(b, "\\NonExistent", &first);
	else if (a & PS_MBOX_NOSELECT)
		add_attr(b, "\\Noselect", &first);
	if (!(o & LIST_EXTENDED) || (o & RET_CHILDREN))
		add_attr(b, a & PS_MBOX_HASCHILDREN ? "\\HasChildren"
						     : "\\HasNoChildren",
			 &first);
	if ((o & RET_SUBSCRIBED) && (a & PS_MBOX_SUBSCRIBED))
		add_attr(b, "\\Subscribed", &first);
	if (!(o & LIST_EXTENDED) || (o & RET_SPECIAL))
		imap_special_use_out(a, b, &first);
}

/* RFC 5258 3.5: which selection criteria a descendant met. */
static void
childinfo(const struct list *l, struct imap_buf *b)
{
	imap_buf_adds(b, " (\"CHILDINFO\" (");
	if (l->opts & SEL_SUBSCRIBED)
		imap_buf_adds(b, "\"SUBSCRIBED\"");
	if ((l->opts & (SEL_SUBSCRIBED | SEL_SPECIAL)) ==
	    (SEL_SUBSCRIBED | SEL_SPECIAL))
		imap_buf_addc(b, ' ');
	if (l->opts & SEL_SPECIAL)
		imap_buf_adds(b, "\"SPECIAL-USE\"");
	imap_buf_adds(b, "))");
}

/* The delimiter as a quoted char (RFC 9051 9: QUOTED-CHAR). */
static void
add_delim(struct imap_buf *b)
{
	imap_buf_addc(b, '"');
	if (imap_cfg.delim == '"' || imap_cfg.delim == '\\')
		imap_buf_addc(b, '\\');
	imap_buf_addc(b, imap_cfg.delim);
	imap_buf_addc(b, '"');
}

static void
list_line(struct imap_job *j, const struct list *l,
	  const struct list_entry *e, int child_only, int info)
{
	struct imap_buf *b = &j->out;

	imap_buf_adds(b, l->opts & LIST_LSUB ? "* LSUB (" : "* LIST (");
	if (l->opts & LIST_LSUB)
		lsub_attrs(e, child_only, b);
	else
		list_attrs(l, e, b);
	imap_buf_adds(b, ") ");
	add_delim(b);
	imap_buf_addc(b, ' ');
	imap_name_out(j->s, e->name, b);
	if (info)
		childinfo(l, b);
	imap_buf_adds(b, "\r\n");
}

/* RFC 5819 2: STATUS right after the LIST of each selectable mailbox
 * that met the selection; one that vanished meanwhile gets none. */
static void
list_status(struct imap_job *j, const struct list *l,
	    const struct list_entry *e)
{
	struct ps_error err;
	size_t mark = j->out.len;

	if (e->attrs & (PS_MBOX_NONEXISTENT | PS_MBOX_NOSELECT))
		return;
	if (imap_status_build(j->s, e->name, &l->status, &j->out, &err) < 0)
		imap_buf_truncate(&j->out, mark);
}

static void
entry_write(struct imap_job *j, const struct list *l,
	    const struct list_entry *e)
{
	unsigned m = e->marks;
	int recursive = (l->opts & SEL_RECURSIVE) != 0;

	if (!(m & E_MATCHED))
		return;
	if (l->opts & LIST_LSUB) {
		/* RFC 3501 6.3.9: "%" returns the level above a subscribed
		 * name, \Noselect, when the level is not subscribed. */
		if (m & E_SELECTED)
			list_line(j, l, e, 0, 0);
		else if (l->lsub_pct && (m & E_CHILD_SEL))
			list_line(j, l, e, 1, 0);
		return;
	}
	if (m & E_SELECTED) {
		list_line(j, l, e, 0, recursive && (m & E_CHILD_SEL));
		if (l->opts & RET_STATUS)
			list_status(j, l, e);
	} else if (recursive && (m & E_CHILD_UNSEEN)) {
		/* RFC 5258 3.5: a parent that does not meet the selection
		 * but has a descendant that does, returned only when that
		 * descendant is not returned itself. */
		list_line(j, l, e, 1, 1);
	}
}

/* On the pool: read the names once, then write IMAP_OUT_CHUNK at a time
 * (the job runs again once the client has read). */
static void
list_work(struct imap_job *j)
{
	struct list *l = j->arg;
	int r = 0;

	if (!l->loaded) {
		r = imap_cfg.store.mailbox_list(j->s->store, entry_from_store,
						l, &j->err);
		if (r == 0)
			r = add_levels(l);
		if (r < 0) {
			j->result = r;
			return;
		}
		mark_all(l);
		l->loaded = 1;
	}
	while (l->next < l->n && j->out.len < IMAP_OUT_CHUNK)
		entry_write(j, l, &l->e[l->next++]);
	j->more = l->next < l->n;
}

static void
list_done(struct imap_job *j)
{
	imap_job_status(j);
	list_free(j->arg);
}

/* ---- Arguments ---------------------------------------------------------- */

/* Refusals while parsing: the reply, then -1. */
static int
bad(struct imap_session *s, const char *text)
{
	imap_bad(s, text);
	return -1;
}

static int
nomem(struct imap_session *s)
{
	imap_no(s, "UNAVAILABLE", "Out of memory");
	return -1;
}

/* A reference or pattern as UTF-8: decoded from mUTF-7 like a name
 * (wildcards are printable ASCII, which stands for itself), or taken as
 * it is under UTF8=ACCEPT. -1 when it is not valid. */
static int
decode(const struct imap_session *s, const char *text, size_t len,
       struct imap_buf *out)
{
	if (memchr(text, '\0', len))
		return -1;
	if (s->enabled & IMAP_EN_ANY_UTF8)
		return imap_utf8_valid(text, len)
			       ? imap_buf_add(out, text, len)
			       : -1;
	return imap_mutf7_decode(text, len, out) == 0 ? 0 : -1;
}

/* RFC 9051 6.3.9: the reference and the pattern together name the
 * mailboxes; a pattern that starts with the delimiter stands alone. A
 * pattern that cannot be decoded is ignored (RFC 5258 3: silently). */
static int
add_pattern(struct imap_session *s, struct list *l, const char *ref,
	    size_t rlen, const char *pat, size_t plen)
{
	struct imap_buf b;
	int r = 0;

	imap_buf_init(&b, (size_t)-1);
	if (rlen && !(plen && pat[0] == imap_cfg.delim))
		r = decode(s, ref, rlen, &b);
	if (r == 0)
		r = decode(s, pat, plen, &b);
	if (r == 0 && !b.error) {
		if (imap_match_init(&l->pats[l->npats], imap_buf_str(&b), b.len,
				    imap_cfg.delim, IMAP_NAME_MAX) < 0)
			r = PS_ENOMEM;
		else
			l->npats++;
	}
	imap_buf_free(&b);
	return r == PS_ENOMEM ? r : 0;
}

/* RFC 5258 3, 3.1; RFC 6154 3. Unknown options are BAD, and so is
 * RECURSIVEMATCH alone or with REMOTE alone. */
static int
parse_select(struct imap_session *s, struct list *l, const struct imap_arg *a)
{
	static const struct {
		const char *name;
		unsigned bit;
	} opts[] = {
		{"SUBSCRIBED", SEL_SUBSCRIBED | RET_SUBSCRIBED},
		{"REMOTE", SEL_REMOTE},
		{"RECURSIVEMATCH", SEL_RECURSIVE},
		{"SPECIAL-USE", SEL_SPECIAL | RET_SPECIAL},
	};
	size_t k;

	for (size_t i = 0; i < a->count; i++) {
		for (k = 0; k < sizeof(opts) / sizeof(opts[0]); k++)
			if (imap_arg_is_atom(&a->list[i], opts[k].name))
				break;
		if (k == sizeof(opts) / sizeof(opts[0]))
			return bad(s, "Unknown LIST selection option");
		l->opts |= opts[k].bit;
	}
	if ((l->opts & SEL_RECURSIVE) &&
	    !(l->opts & (SEL_SUBSCRIBED | SEL_SPECIAL)))
		return bad(s, "RECURSIVEMATCH needs another selection option");
	return 0;
}

/* RFC 5258 3.2, RFC 6154 3, RFC 5819 2. */
static int
parse_return(struct imap_session *s, struct list *l, const struct imap_arg *a)
{
	const struct imap_arg *opt = a->list, *items;
	size_t n;

	for (size_t i = 0; i < a->count; i++) {
		if (imap_arg_is_atom(&opt[i], "SUBSCRIBED")) {
			l->opts |= RET_SUBSCRIBED;
		} else if (imap_arg_is_atom(&opt[i], "CHILDREN")) {
			l->opts |= RET_CHILDREN;
		} else if (imap_arg_is_atom(&opt[i], "SPECIAL-USE")) {
			l->opts |= RET_SPECIAL;
		} else if (imap_arg_is_atom(&opt[i], "STATUS") &&
			   i + 1 < a->count &&
			   imap_arg_get_list(&opt[i + 1], &items, &n) == 0) {
			if (imap_status_parse(s, items, n, &l->status) < 0)
				return -1;
			l->opts |= RET_STATUS;
			i++;
		} else {
			return bad(s, "Unknown LIST return option");
		}
	}
	return 0;
}

/* The patterns: one, or a list of them (RFC 5258 3). */
static int
parse_patterns(struct imap_session *s, struct list *l,
	       const struct imap_arg *ref, const struct imap_arg *a)
{
	const struct imap_arg *pats = a;
	size_t n = 1, rlen, plen;
	const char *r, *p;

	if (a->type == IMAP_ARG_LIST) {
		if (l->opts & LIST_LSUB)
			return bad(s, "LSUB takes one pattern");
		l->opts |= LIST_EXTENDED;
		pats = a->list;
		n = a->count;
	}
	if (imap_arg_get_astring(ref, &r, &rlen) < 0 || n == 0)
		return bad(s, "Invalid LIST arguments");
	if (!(l->pats = calloc(n, sizeof(*l->pats))))
		return nomem(s);
	for (size_t i = 0; i < n; i++) {
		if (imap_arg_get_list_mailbox(&pats[i], &p, &plen) < 0)
			return bad(s, "Invalid mailbox pattern");
		if (add_pattern(s, l, r, rlen, p, plen) < 0)
			return nomem(s);
		if (l->opts & LIST_LSUB)
			l->lsub_pct = plen && p[plen - 1] == '%';
	}
	return 0;
}

/* [(selection)] reference pattern(s) [RETURN (options)] */
static int
list_parse(struct imap_session *s, struct list *l)
{
	const struct imap_arg *a = s->args;
	size_t n = s->nargs, i = 0;

	if (!(l->opts & LIST_LSUB) && n && a[0].type == IMAP_ARG_LIST) {
		l->opts |= LIST_EXTENDED;
		if (parse_select(s, l, &a[i++]) < 0)
			return -1;
	}
	if (n - i < 2)
		return bad(s, "LIST takes a reference and a pattern");
	if (parse_patterns(s, l, &a[i], &a[i + 1]) < 0)
		return -1;
	i += 2;
	if (i < n && !(l->opts & LIST_LSUB) && n - i == 2 &&
	    imap_arg_is_atom(&a[i], "RETURN") &&
	    a[i + 1].type == IMAP_ARG_LIST) {
		l->opts |= LIST_EXTENDED;
		if (parse_return(s, l, &a[i + 1]) < 0)
			return -1;
		i += 2;
	}
	if (i != n)
		return bad(s, "Unexpected LIST arguments");
	return 0;
}

/* RFC 9051 6.3.9: LIST "" "" asks for the delimiter and the root of the
 * reference: its first level with the delimiter, or "" (as RFC 3501's
 * example gives "#news." for "#news.comp.mail.misc"). Not for an
 * extended LIST (RFC 5258 3: the empty pattern then matches nothing). */
static int
list_root(struct imap_session *s)
{
	const char *ref, *d;
	size_t len;
	struct imap_buf root, b;

	imap_buf_init(&root, (size_t)-1);
	imap_buf_init(&b, (size_t)-1);
	if (imap_arg_get_astring(&s->args[0], &ref, &len) == 0 &&
	    decode(s, ref, len, &root) == 0 &&
	    (d = strchr(imap_buf_str(&root), imap_cfg.delim)))
		imap_buf_truncate(&root, (size_t)(d - root.data) + 1);
	else
		imap_buf_reset(&root);
	imap_buf_adds(&b, "* LIST (\\Noselect) ");
	add_delim(&b);
	imap_buf_addc(&b, ' ');
	if (root.len)
		imap_name_out(s, imap_buf_str(&root), &b);
	else
		imap_buf_adds(&b, "\"\"");
	imap_buf_adds(&b, "\r\n");
	imap_write(s, b.data, b.len);
	imap_buf_free(&root);
	imap_buf_free(&b);
	return imap_ok(s, "LIST completed");
}

static int
is_root_request(const struct imap_session *s)
{
	const char *p;
	size_t len;

	return s->nargs == 2 && s->args[1].type != IMAP_ARG_LIST &&
	       s->args[0].type != IMAP_ARG_LIST &&
	       imap_arg_get_list_mailbox(&s->args[1], &p, &len) == 0 &&
	       len == 0;
}

static int
list_start(struct imap_session *s, unsigned opts)
{
	struct list *l = calloc(1, sizeof(*l));
	struct imap_job *j;

	if (!l)
		return imap_no(s, "UNAVAILABLE", "Out of memory");
	l->opts = opts;
	if (list_parse(s, l) < 0) {
		list_free(l);
		return 0;
	}
	if (!(j = imap_job_new(s, list_work, list_done, l)) ||
	    imap_job_start(s, j) < 0) {
		imap_job_free(j);
		list_free(l);
		return imap_no(s, "UNAVAILABLE", "Out of memory");
	}
	return 0;
}

int
imap_cmd_list(struct imap_session *s)
{
	if (is_root_request(s))
		return list_root(s);
	return list_start(s, 0);
}

/* RFC 3501 6.3.9; gone from IMAP4rev2 (RFC 9051 6.3.9 says LIST
 * (SUBSCRIBED)), still answered. */
int
imap_cmd_lsub(struct imap_session *s)
{
	return list_start(s, LIST_LSUB);
}
