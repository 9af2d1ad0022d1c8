/* The SEARCH grammar (RFC 9051 6.4.4 and 9 "search", RFC 3501 6.4.4,
 * RFC 4466 2.6 "search-return-opts", RFC 4731 3.1, RFC 5182 2, RFC 7162
 * 3.1.5 "search-modsequence") into a tree of keys, cheapest operand
 * first in each AND and OR, so the evaluator decides most messages
 * without reading them. Pure: no SDK calls. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <poshta/storage.h> /* PS_FLAG_* */

#include "chars.h"
#include "datetime.h"
#include "search_parse.h"
#include "utf8.h"

struct imap_search *
imap_search_new(void)
{
	return calloc(1, sizeof(struct imap_search));
}

void
imap_search_free(struct imap_search *q)
{
	struct imap_search_key *k, *next;

	if (!q)
		return;
	for (k = q->all; k; k = next) {
		next = k->all_next;
		free(k->field);
		free(k->str);
		imap_seqset_free(&k->set);
		free(k);
	}
	free(q);
}

/* ---- Building ----------------------------------------------------------- */

struct ctx {
	struct imap_search *q;
	int code; /* the first failure's IMAP_SEARCH_E* */
};

static int
fail(struct ctx *c, int code, const char *why)
{
	if (!c->code) {
		c->code = code;
		c->q->error = why;
	}
	return -1;
}

static struct imap_search_key *
key_new(struct ctx *c, enum imap_search_type type)
{
	struct imap_search_key *k;

	if (c->q->nkeys >= IMAP_SEARCH_KEYS_MAX) {
		fail(c, IMAP_SEARCH_EBAD, "Too many search keys");
		return NULL;
	}
	if (!(k = calloc(1, sizeof(*k)))) {
		fail(c, IMAP_SEARCH_ENOMEM, "Out of memory");
		return NULL;
	}
	k->type = type;
	imap_seqset_init(&k->set);
	k->all_next = c->q->all;
	c->q->all = k;
	c->q->nkeys++;
	return k;
}

/* An operand for AND, OR or NOT; a child of the same kind (AND in AND,
 * OR in OR) gives its operands instead, which keeps evaluation shallow. */
static void
key_add(struct imap_search_key *parent, struct imap_search_key *k)
{
	struct imap_search_key **tail = &parent->child;

	while (*tail)
		tail = &(*tail)->next;
	if (k->type == parent->type && parent->type != IMAP_SK_NOT)
		*tail = k->child;
	else
		*tail = k;
	if (k->cost > parent->cost)
		parent->cost = k->cost;
}

/* Stable: keys of equal cost keep the client's order. */
static void
sort_by_cost(struct imap_search_key *parent)
{
	struct imap_search_key *sorted = NULL, **tail, *k, *next;

	for (k = parent->child; k; k = next) {
		next = k->next;
		for (tail = &sorted; *tail && (*tail)->cost <= k->cost;
		     tail = &(*tail)->next)
			;
		k->next = *tail;
		*tail = k;
	}
	parent->child = sorted;
}

static struct imap_search_key *
key_copy_str(struct ctx *c, struct imap_search_key *k, const char *s,
	     size_t len, char **to)
{
	if (!(*to = malloc(len + 1))) {
		fail(c, IMAP_SEARCH_ENOMEM, "Out of memory");
		return NULL;
	}
	memcpy(*to, s, len);
	(*to)[len] = '\0';
	return k;
}

/* ---- Arguments ---------------------------------------------------------- */

/* A search string: astring, UTF-8 (RFC 9051 6.4.4: US-ASCII and UTF-8
 * are the charsets every server has). */
static int
get_string(struct ctx *c, const struct imap_arg *a, const char **s_r,
	   size_t *len_r)
{
	if (imap_arg_get_astring(a, s_r, len_r) < 0)
		return fail(c, IMAP_SEARCH_EBAD, "Search key needs a string");
	if (!imap_utf8_valid(*s_r, *len_r))
		return fail(c, IMAP_SEARCH_EBAD,
			    "Search string is not valid UTF-8");
	return 0;
}

/* date = date-text / DQUOTE date-text DQUOTE, as days since the epoch. */
static int
get_day(struct ctx *c, const struct imap_arg *a, int64_t *day_r)
{
	struct imap_date d;
	const char *s;
	size_t len;

	if (imap_arg_get_astring(a, &s, &len) < 0 ||
	    imap_date_parse(s, len, &d) < 0)
		return fail(c, IMAP_SEARCH_EBAD,
			    "Invalid date (e.g. 1-Feb-1994)");
	*day_r = imap_date_time(&d) / 86400;
	return 0;
}

/* A sequence-set as a key: digits, ":", ",", "*", or "$" alone. */
static int
is_set(const char *s, size_t len)
{
	if (len == 1 && s[0] == '$')
		return 1;
	for (size_t i = 0; i < len; i++)
		if (!imap_is_digit((unsigned char)s[i]) && s[i] != ':' &&
		    s[i] != ',' && s[i] != '*')
			return 0;
	return len > 0;
}

/* "MODSEQ" [SP entry-name SP entry-type-req] SP mod-sequence-valzer
 * (RFC 7162 3.1.5): the entry names a flag, and one MODSEQ per message
 * covers them all here. */
static int
get_modseq(struct ctx *c, const struct imap_arg *a, size_t n, size_t *i,
	   uint64_t *num_r)
{
	const char *s;
	size_t len;

	if (*i + 2 < n && imap_arg_get_string(&a[*i], &s, &len) == 0) {
		if (len < 8 || strncasecmp(s, "/flags/", 7) != 0 ||
		    !(imap_arg_is_atom(&a[*i + 1], "priv") ||
		      imap_arg_is_atom(&a[*i + 1], "shared") ||
		      imap_arg_is_atom(&a[*i + 1], "all")))
			return fail(c, IMAP_SEARCH_EBAD,
				    "Invalid MODSEQ entry");
		*i += 2;
	}
	if (*i >= n || imap_arg_get_number64(&a[*i], num_r) < 0)
		return fail(c, IMAP_SEARCH_EBAD, "MODSEQ needs a number");
	(*i)++;
	return 0;
}

/* ---- Keys --------------------------------------------------------------- */

static struct imap_search_key *parse_key(struct ctx *c,
					 const struct imap_arg *a, size_t n,
					 size_t *i, unsigned depth);

/* search-key *(SP search-key) from a[0..n) as one AND. */
static struct imap_search_key *
parse_keys(struct ctx *c, const struct imap_arg *a, size_t n, size_t *i,
	   unsigned depth)
{
	struct imap_search_key *and = key_new(c, IMAP_SK_AND), *k;

	if (!and)
		return NULL;
	if (*i >= n) {
		fail(c, IMAP_SEARCH_EBAD, "Missing search key");
		return NULL;
	}
	while (*i < n) {
		if (!(k = parse_key(c, a, n, i, depth)))
			return NULL;
		key_add(and, k);
	}
	sort_by_cost(and);
	return and;
}

static const struct {
	const char *name;
	unsigned flag;
	int un;
} flag_keys[] = {
	{"ANSWERED", PS_FLAG_ANSWERED, 0}, {"DELETED", PS_FLAG_DELETED, 0},
	{"DRAFT", PS_FLAG_DRAFT, 0},       {"FLAGGED", PS_FLAG_FLAGGED, 0},
	{"SEEN", PS_FLAG_SEEN, 0},         {"UNANSWERED", PS_FLAG_ANSWERED, 1},
	{"UNDELETED", PS_FLAG_DELETED, 1}, {"UNDRAFT", PS_FLAG_DRAFT, 1},
	{"UNFLAGGED", PS_FLAG_FLAGGED, 1}, {"UNSEEN", PS_FLAG_SEEN, 1},
};

/* Keys that take one string and search a header field for it. */
static const struct {
	const char *name;
	const char *field;
} header_keys[] = {
	{"BCC", "Bcc"}, {"CC", "Cc"}, {"FROM", "From"},
	{"SUBJECT", "Subject"}, {"TO", "To"},
};

static const struct {
	const char *name;
	enum imap_search_type type;
} date_keys[] = {
	{"BEFORE", IMAP_SK_BEFORE}, {"ON", IMAP_SK_ON},
	{"SINCE", IMAP_SK_SINCE}, {"SENTBEFORE", IMAP_SK_SENTBEFORE},
	{"SENTON", IMAP_SK_SENTON}, {"SENTSINCE", IMAP_SK_SENTSINCE},
};

/* NOT k, as a key of its own. */
static struct imap_search_key *
negate(struct ctx *c, struct imap_search_key *k)
{
	struct imap_search_key *not;

	if (!k || !(not = key_new(c, IMAP_SK_NOT)))
		return NULL;
	key_add(not, k);
	return not;
}

static struct imap_search_key *
flag_key(struct ctx *c, unsigned flag, int un)
{
	struct imap_search_key *k = key_new(c, IMAP_SK_FLAG);

	if (k)
		k->flag = flag;
	return un ? negate(c, k) : k;
}

/* A key that takes one string argument. */
static struct imap_search_key *
string_key(struct ctx *c, const struct imap_arg *a, size_t n, size_t *i,
	   enum imap_search_type type, const char *field)
{
	struct imap_search_key *k;
	const char *s;
	size_t len;

	if (*i >= n)
		return fail(c, IMAP_SEARCH_EBAD, "Search key needs a string"),
		       NULL;
	if (++c->q->nstrings > IMAP_SEARCH_STRINGS_MAX)
		return fail(c, IMAP_SEARCH_EBAD, "Too many search strings"),
		       NULL;
	if (get_string(c, &a[(*i)++], &s, &len) < 0 || !(k = key_new(c, type)))
		return NULL;
	k->cost = type == IMAP_SK_HEADER ? IMAP_SEARCH_COST_HEADER
					 : IMAP_SEARCH_COST_BODY;
	k->len = len;
	if (field && !key_copy_str(c, k, field, strlen(field), &k->field))
		return NULL;
	return key_copy_str(c, k, s, len, &k->str);
}

/* The keys named by one word (already read at a[*i - 1]). */
static struct imap_search_key *
named_key(struct ctx *c, const char *w, const struct imap_arg *a, size_t n,
	  size_t *i, unsigned depth)
{
	struct imap_search_key *k, *x;
	const char *s;
	size_t len;

	for (size_t f = 0; f < sizeof(flag_keys) / sizeof(flag_keys[0]); f++)
		if (strcasecmp(w, flag_keys[f].name) == 0)
			return flag_key(c, flag_keys[f].flag, flag_keys[f].un);
	for (size_t h = 0; h < sizeof(header_keys) / sizeof(header_keys[0]);
	     h++)
		if (strcasecmp(w, header_keys[h].name) == 0)
			return string_key(c, a, n, i, IMAP_SK_HEADER,
					  header_keys[h].field);
	for (size_t d = 0; d < sizeof(date_keys) / sizeof(date_keys[0]); d++)
		if (strcasecmp(w, date_keys[d].name) == 0) {
			if (*i >= n)
				return fail(c, IMAP_SEARCH_EBAD,
					    "Search key needs a date"), NULL;
			if (!(k = key_new(c, date_keys[d].type)) ||
			    get_day(c, &a[(*i)++], &k->day) < 0)
				return NULL;
			if (date_keys[d].type >= IMAP_SK_SENTBEFORE)
				k->cost = IMAP_SEARCH_COST_HEADER;
			return k;
		}
	if (strcasecmp(w, "ALL") == 0)
		return key_new(c, IMAP_SK_ALL);
	if (strcasecmp(w, "RECENT") == 0)
		return key_new(c, IMAP_SK_RECENT);
	if (strcasecmp(w, "OLD") == 0)
		return negate(c, key_new(c, IMAP_SK_RECENT));
	if (strcasecmp(w, "NEW") == 0) { /* RECENT UNSEEN */
		if (!(k = key_new(c, IMAP_SK_AND)) ||
		    !(x = key_new(c, IMAP_SK_RECENT)))
			return NULL;
		key_add(k, x);
		if (!(x = flag_key(c, PS_FLAG_SEEN, 1)))
			return NULL;
		key_add(k, x);
		return k;
	}
	if (strcasecmp(w, "KEYWORD") == 0 || strcasecmp(w, "UNKEYWORD") == 0) {
		if (*i >= n || imap_arg_get_atom(&a[*i], &s) < 0)
			return fail(c, IMAP_SEARCH_EBAD,
				    "KEYWORD needs a keyword atom"), NULL;
		len = a[(*i)++].len;
		if (!(k = key_new(c, IMAP_SK_KEYWORD)) ||
		    !key_copy_str(c, k, s, len, &k->str))
			return NULL;
		k->len = len;
		return w[0] == 'U' || w[0] == 'u' ? negate(c, k) : k;
	}
	if (strcasecmp(w, "LARGER") == 0 || strcasecmp(w, "SMALLER") == 0) {
		if (!(k = key_new(c, w[0] == 'L' || w[0] == 'l'
					     ? IMAP_SK_LARGER
					     : IMAP_SK_SMALLER)))
			return NULL;
		if (*i >= n || imap_arg_get_number64(&a[(*i)++], &k->num) < 0)
			return fail(c, IMAP_SEARCH_EBAD,
				    "LARGER and SMALLER need a number"), NULL;
		return k;
	}
	if (strcasecmp(w, "MODSEQ") == 0) {
		if (!(k = key_new(c, IMAP_SK_MODSEQ)) ||
		    get_modseq(c, a, n, i, &k->num) < 0)
			return NULL;
		c->q->modseq = 1;
		return k;
	}
	if (strcasecmp(w, "UID") == 0) {
		if (*i >= n || imap_arg_get_word(&a[*i], &s, &len) < 0 ||
		    !is_set(s, len))
			return fail(c, IMAP_SEARCH_EBAD,
				    "UID needs a sequence set"), NULL;
		if (!(k = key_new(c, IMAP_SK_SET)))
			return NULL;
		k->set_arg = &a[(*i)++];
		k->set_uid = 1;
		return k;
	}
	if (strcasecmp(w, "HEADER") == 0) {
		if (*i >= n || imap_arg_get_astring(&a[*i], &s, &len) < 0 ||
		    len == 0 || memchr(s, ':', len) || !imap_utf8_valid(s, len))
			return fail(c, IMAP_SEARCH_EBAD,
				    "HEADER needs a field name"), NULL;
		(*i)++;
		if (!(k = string_key(c, a, n, i, IMAP_SK_HEADER, NULL)) ||
		    !key_copy_str(c, k, s, len, &k->field))
			return NULL;
		return k;
	}
	if (strcasecmp(w, "BODY") == 0)
		return string_key(c, a, n, i, IMAP_SK_BODY, NULL);
	if (strcasecmp(w, "TEXT") == 0)
		return string_key(c, a, n, i, IMAP_SK_TEXT, NULL);
	if (strcasecmp(w, "NOT") == 0) {
		if (*i >= n)
			return fail(c, IMAP_SEARCH_EBAD,
				    "NOT needs a search key"), NULL;
		return negate(c, parse_key(c, a, n, i, depth + 1));
	}
	if (strcasecmp(w, "OR") == 0) {
		if (*i + 1 >= n)
			return fail(c, IMAP_SEARCH_EBAD,
				    "OR needs two search keys"), NULL;
		if (!(k = key_new(c, IMAP_SK_OR)) ||
		    !(x = parse_key(c, a, n, i, depth + 1)))
			return NULL;
		key_add(k, x);
		if (*i >= n)
			return fail(c, IMAP_SEARCH_EBAD,
				    "OR needs two search keys"), NULL;
		if (!(x = parse_key(c, a, n, i, depth + 1)))
			return NULL;
		key_add(k, x);
		sort_by_cost(k);
		return k;
	}
	return fail(c, IMAP_SEARCH_EBAD, "Unknown search key"), NULL;
}

/* One search-key at a[*i], advancing *i past it and its arguments. */
static struct imap_search_key *
parse_key(struct ctx *c, const struct imap_arg *a, size_t n, size_t *i,
	  unsigned depth)
{
	const struct imap_arg *list;
	struct imap_search_key *k;
	const char *w;
	size_t len, count, j = 0;

	if (depth > IMAP_SEARCH_DEPTH_MAX)
		return fail(c, IMAP_SEARCH_EBAD,
			    "Search keys nested too deeply"), NULL;
	if (imap_arg_get_list(&a[*i], &list, &count) == 0) {
		(*i)++;
		if (count == 0)
			return fail(c, IMAP_SEARCH_EBAD,
				    "Empty search key list"), NULL;
		return parse_keys(c, list, count, &j, depth + 1);
	}
	if (imap_arg_get_word(&a[*i], &w, &len) < 0)
		return fail(c, IMAP_SEARCH_EBAD, "Invalid search key"), NULL;
	(*i)++;
	if (is_set(w, len)) {
		if (!(k = key_new(c, IMAP_SK_SET)))
			return NULL;
		k->set_arg = &a[*i - 1];
		return k;
	}
	return named_key(c, w, a, n, i, depth);
}

/* ---- The command's head -------------------------------------------------- */

/* "RETURN (" [search-return-opt *(SP search-return-opt)] ")" */
static int
parse_return(struct ctx *c, const struct imap_arg *a)
{
	static const struct {
		const char *name;
		unsigned bit;
	} opts[] = {
		{"MIN", IMAP_SEARCH_RET_MIN}, {"MAX", IMAP_SEARCH_RET_MAX},
		{"ALL", IMAP_SEARCH_RET_ALL}, {"COUNT", IMAP_SEARCH_RET_COUNT},
		{"SAVE", IMAP_SEARCH_RET_SAVE},
	};
	const struct imap_arg *list;
	size_t n, k;

	c->q->esearch = 1;
	if (imap_arg_get_list(a, &list, &n) < 0)
		return fail(c, IMAP_SEARCH_EBAD, "RETURN needs a list");
	for (size_t i = 0; i < n; i++) {
		for (k = 0; k < sizeof(opts) / sizeof(opts[0]); k++)
			if (imap_arg_is_atom(&list[i], opts[k].name))
				break;
		if (k == sizeof(opts) / sizeof(opts[0]))
			return fail(c, IMAP_SEARCH_EBAD,
				    "Unknown RETURN option");
		c->q->ret |= opts[k].bit;
	}
	/* RFC 4731 3.1: RETURN () means ALL. */
	if (n == 0)
		c->q->ret = IMAP_SEARCH_RET_ALL;
	return 0;
}

int
imap_search_parse(struct imap_search *q, const struct imap_arg *args,
		  size_t nargs)
{
	struct ctx c = {.q = q};
	const char *cs;
	size_t i = 0, len;

	if (nargs >= 2 && imap_arg_is_atom(&args[0], "RETURN")) {
		if (parse_return(&c, &args[1]) < 0)
			return c.code;
		i = 2;
	}
	/* RFC 9051 6.4.4: US-ASCII and UTF-8 are required; others are
	 * refused with the list of those that work. */
	if (nargs >= i + 2 && imap_arg_is_atom(&args[i], "CHARSET")) {
		if (imap_arg_get_astring(&args[i + 1], &cs, &len) < 0)
			return fail(&c, IMAP_SEARCH_EBAD, "Invalid charset"),
			       c.code;
		if (strcasecmp(cs, "UTF-8") != 0 &&
		    strcasecmp(cs, "US-ASCII") != 0)
			return fail(&c, IMAP_SEARCH_EBADCHARSET,
				    "Unsupported charset"), c.code;
		i += 2;
	}
	if (!(q->root = parse_keys(&c, args, nargs, &i, 0)))
		return c.code ? c.code : IMAP_SEARCH_ENOMEM;
	return 0;
}
