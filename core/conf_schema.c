/* Config validation: checks a directive's arguments against its declared
 * type and bounds, and turns a block's nodes into a section that owns the
 * value of every declared directive (given or default) for typed lookup,
 * and a section of its own for each declared sub-block (SDK 1.5).
 * Errors name the directive, the bad text and where it was written. */
#include "config.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf.h"
#include "log.h"


struct ps_conf_entry {
	const struct ps_directive *d;
	struct ps_conf_value *vals;
	size_t n, cap;
};

/* The sub-blocks of one declared kind, in file order: the arguments of
 * the i-th in vals.vals[i], its directives in secs[i]. */
struct ps_conf_blocks {
	const struct ps_conf_block *b;
	struct ps_directive args; /* b->args, named after the block */
	const struct ps_directive *sets[1]; /* b->directives, as a schema */
	struct ps_conf_entry vals; /* .d = &args */
	struct ps_conf_section **secs;
};

struct ps_conf_section {
	struct ps_conf_entry *entries;
	size_t n;
	struct ps_conf_blocks *blocks;
	size_t nblocks;
};

/* A number suffix and what it multiplies by. */
struct unit {
	const char *name;
	long long mult;
};

static const struct unit size_units[] = {
	{"", 1},
	{"k", 1LL << 10},
	{"m", 1LL << 20},
	{"g", 1LL << 30},
	{NULL, 0},
};

static const struct unit duration_units[] = {
	{"ms", 1},
	{"s", 1000},
	{"m", 60 * 1000},
	{"h", 3600 * 1000},
	{"d", 86400 * 1000},
	{NULL, 0},
};

/* ---- One value ------------------------------------------------------- */

/* Leading decimal digits of s into *v. Returns the rest of s, or NULL when
 * there are none or they overflow. */
static const char *
parse_digits(const char *s, long long *v_r)
{
	const char *p = s;
	long long n = 0;

	for (; *p >= '0' && *p <= '9'; p++) {
		int digit = *p - '0';
		if (n > (LLONG_MAX - digit) / 10)
			return NULL;
		n = n * 10 + digit;
	}
	if (p == s)
		return NULL;
	*v_r = n;
	return p;
}

static int
parse_int(const char *s, long long *v_r)
{
	int neg = *s == '-';
	const char *end = parse_digits(s + neg, v_r);

	if (!end || *end)
		return 0;
	if (neg)
		*v_r = -*v_r;
	return 1;
}

/* Digits with a unit suffix (any case); a bare number is in "bare" units. */
static int
parse_scaled(const char *s, const struct unit *units, long long bare,
	     long long *v_r)
{
	const char *end = parse_digits(s, v_r);
	long long mult;

	if (!end)
		return 0;
	mult = *end ? 0 : bare;
	for (; *end && units->name; units++)
		if (!strcasecmp(end, units->name))
			mult = units->mult;
	if (!mult || *v_r > LLONG_MAX / mult)
		return 0;
	*v_r *= mult;
	return 1;
}

/* n in the largest unit that divides it: 1048576 -> "1m", 90000 -> "90s". */
static void
format_scaled(char *buf, size_t size, long long n, const struct unit *units)
{
	const struct unit *best = units;

	for (; units->name; units++)
		if (units->mult && n % units->mult == 0)
			best = units;
	snprintf(buf, size, "%lld%s", n / best->mult, n ? best->name : "");
}

static void
format_bound(char *buf, size_t size, const struct ps_directive *d,
	     long long n)
{
	if (d->type == PS_CONF_SIZE)
		format_scaled(buf, size, n, size_units);
	else if (d->type == PS_CONF_DURATION)
		format_scaled(buf, size, n, duration_units);
	else
		snprintf(buf, size, "%lld", n);
}

/* INT, SIZE and DURATION, within [min, max]. */
static int
check_number(const struct ps_directive *d, const char *s, long long *num_r,
	     struct ps_error *err)
{
	char ex[PS_CONF_EXCERPT], lo[32], hi[32], range[80] = "";
	const char *what = "an integer";
	int ok;

	if (d->type == PS_CONF_SIZE) {
		what = "a size (bytes, or with suffix k, m, g)";
		ok = parse_scaled(s, size_units, 1, num_r);
	} else if (d->type == PS_CONF_DURATION) {
		what = "a duration (seconds, or with suffix ms, s, m, h, d)";
		ok = parse_scaled(s, duration_units, 1000, num_r);
	} else {
		ok = parse_int(s, num_r);
	}
	if (ok && *num_r >= d->min && (!d->max || *num_r <= d->max))
		return 0;
	format_bound(lo, sizeof(lo), d, d->min);
	format_bound(hi, sizeof(hi), d, d->max);
	if (d->max)
		snprintf(range, sizeof(range), " from %s to %s", lo, hi);
	else if (d->min > 0 || d->type == PS_CONF_INT)
		snprintf(range, sizeof(range), " of at least %s", lo);
	return ps_error_set(err, "%s: expected %s%s, got '%s'", d->name, what,
			    range, ps_conf_excerpt(ex, s));
}

static int
check_flag(const struct ps_directive *d, const char *s, long long *num_r,
	   struct ps_error *err)
{
	char ex[PS_CONF_EXCERPT];

	if (!strcasecmp(s, "on") || !strcasecmp(s, "off")) {
		*num_r = !strcasecmp(s, "on");
		return 0;
	}
	return ps_error_set(err, "%s: expected 'on' or 'off', got '%s'",
			    d->name, ps_conf_excerpt(ex, s));
}

static int
check_enum(const struct ps_directive *d, const char *s, long long *num_r,
	   struct ps_error *err)
{
	char ex[PS_CONF_EXCERPT], list[160] = "";
	size_t len = 0;

	for (size_t i = 0; d->choices && d->choices[i]; i++) {
		if (!strcmp(s, d->choices[i])) {
			*num_r = (long long)i;
			return 0;
		}
		if (len < sizeof(list))
			len += (size_t)snprintf(list + len, sizeof(list) - len,
						"%s'%s'", i ? ", " : "",
						d->choices[i]);
	}
	return ps_error_set(err, "%s: expected one of %s, got '%s'", d->name,
			    list, ps_conf_excerpt(ex, s));
}

static int
port_ok(const char *s)
{
	long long port;
	const char *end = parse_digits(s, &port);

	return end && !*end && port >= 1 && port <= 65535;
}

/* A host name or IPv4 address: letters, digits, '-', '.', '_'. */
static int
host_ok(const char *s, size_t len)
{
	if (len == 0 || len > 253)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyz"
			    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._",
			    s[i]))
			return 0;
	return 1;
}

/* host:port, [v6]:port or *:port; syntax only, nothing is resolved. */
static int
addr_ok(const char *s)
{
	const char *colon = strrchr(s, ':');
	char v6[INET6_ADDRSTRLEN];
	struct in6_addr a6;
	size_t len;

	if (!colon || !port_ok(colon + 1))
		return 0;
	len = (size_t)(colon - s);
	if (s[0] != '[')
		return (len == 1 && s[0] == '*') || host_ok(s, len);
	if (len < 3 || s[len - 1] != ']' || len - 2 >= sizeof(v6))
		return 0;
	memcpy(v6, s + 1, len - 2);
	v6[len - 2] = '\0';
	return inet_pton(AF_INET6, v6, &a6) == 1;
}

static int
check_words(const struct ps_directive *d, size_t nargs, struct ps_error *err)
{
	long long n = (long long)nargs, lo = d->min > 1 ? d->min : 1;

	if (n >= lo && (!d->max || n <= d->max))
		return 0;
	if (!d->max)
		return ps_error_set(err, "%s: expected at least %lld word%s, "
				    "got %lld", d->name, lo,
				    lo == 1 ? "" : "s", n);
	if (lo == d->max)
		return ps_error_set(err, "%s: expected %lld word%s, got %lld",
				    d->name, lo, lo == 1 ? "" : "s", n);
	return ps_error_set(err, "%s: expected %lld to %lld words, got %lld",
			    d->name, lo, d->max, n);
}

static int
check_one(const struct ps_directive *d, const char *s, long long *num_r,
	  struct ps_error *err)
{
	char ex[PS_CONF_EXCERPT];

	switch (d->type) {
	case PS_CONF_FLAG:
		return check_flag(d, s, num_r, err);
	case PS_CONF_INT:
	case PS_CONF_SIZE:
	case PS_CONF_DURATION:
		return check_number(d, s, num_r, err);
	case PS_CONF_STRING:
		return 0;
	case PS_CONF_PATH:
		return *s ? 0 : ps_error_set(err, "%s: empty path", d->name);
	case PS_CONF_ENUM:
		return check_enum(d, s, num_r, err);
	case PS_CONF_ADDR:
		if (addr_ok(s))
			return 0;
		return ps_error_set(err, "%s: expected host:port, [v6]:port "
				    "or *:port (port 1 to 65535), got '%s'",
				    d->name, ps_conf_excerpt(ex, s));
	case PS_CONF_WORDS:
		break;
	}
	return ps_error_set(err, "%s: unknown directive type %d", d->name,
			    (int)d->type);
}

int
ps_conf_check_value(const struct ps_directive *d, char *const *args,
		    size_t nargs, struct ps_conf_value *out,
		    struct ps_error *err)
{
	memset(out, 0, sizeof(*out));
	out->str = nargs ? args[0] : NULL;
	out->words = (const char *const *)args;
	out->nwords = nargs;
	if (d->type == PS_CONF_WORDS)
		return check_words(d, nargs, err);
	if (nargs == 0)
		return ps_error_set(err, "%s: missing value", d->name);
	if (nargs > 1)
		return ps_error_set(err, "%s: expected one value, got %zu",
				    d->name, nargs);
	return check_one(d, args[0], &out->num, err);
}

/* ---- Sections -------------------------------------------------------- */

/* Append a copy of v, with its words and file in one allocation. */
static int
entry_add(struct ps_conf_entry *e, const struct ps_conf_value *v,
	  const char *file, int line)
{
	size_t size = (v->nwords + 1) * sizeof(char *) + strlen(file) + 1;
	struct ps_conf_value *val;
	char **w, *p;

	if (e->n == e->cap) {
		size_t cap = e->cap ? 2 * e->cap : 1;
		if (!(val = realloc(e->vals, cap * sizeof(*val))))
			return -1;
		e->vals = val;
		e->cap = cap;
	}
	for (size_t i = 0; i < v->nwords; i++)
		size += strlen(v->words[i]) + 1;
	if (!(w = malloc(size)))
		return -1;
	p = (char *)(w + v->nwords + 1);
	for (size_t i = 0; i < v->nwords; i++) {
		w[i] = p;
		p = stpcpy(p, v->words[i]) + 1;
	}
	w[v->nwords] = NULL;
	val = &e->vals[e->n++];
	*val = *v;
	val->str = w[0];
	val->words = (const char *const *)w;
	val->file = strcpy(p, file);
	val->line = line;
	return 0;
}

static struct ps_conf_entry *
find_entry(const struct ps_conf_section *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->entries[i].d->name, name))
			return &s->entries[i];
	return NULL;
}

static int
in_list(const char *const *names, const char *name)
{
	for (; names && *names; names++)
		if (!strcmp(*names, name))
			return 1;
	return 0;
}

/* Optimal string alignment distance: typos are one or two edits, a swap
 * of neighbours counting as one. Long names get no suggestion. */
#define SUGGEST_MAX 32

static size_t
edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t rows[3][SUGGEST_MAX + 1];

	if (la > SUGGEST_MAX || lb > SUGGEST_MAX)
		return SIZE_MAX;
	for (size_t j = 0; j <= lb; j++)
		rows[0][j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t *cur = rows[i % 3], *up = rows[(i + 2) % 3];
		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t v = up[j - 1] + (a[i - 1] != b[j - 1]);
			if (up[j] + 1 < v)
				v = up[j] + 1;
			if (cur[j - 1] + 1 < v)
				v = cur[j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] &&
			    rows[(i + 1) % 3][j - 2] + 1 < v)
				v = rows[(i + 1) % 3][j - 2] + 1;
			cur[j] = v;
		}
	}
	return rows[la % 3][lb];
}

static void
consider(const char *name, const char *candidate, const char **best_r,
	 size_t *best_d_r)
{
	size_t d = edit_distance(name, candidate);

	if (d < *best_d_r) {
		*best_r = candidate;
		*best_d_r = d;
	}
}

static int
unknown(const struct ps_conf_section *s, const struct ps_conf_node *n,
	const char *const *block_names, struct ps_error *err)
{
	size_t best_d = strlen(n->name) <= 4 ? 2 : 3;
	char ex[PS_CONF_EXCERPT];
	const char *best = NULL;

	for (size_t i = 0; i < s->n; i++)
		consider(n->name, s->entries[i].d->name, &best, &best_d);
	for (size_t i = 0; i < s->nblocks; i++)
		consider(n->name, s->blocks[i].b->name, &best, &best_d);
	for (; block_names && *block_names; block_names++)
		consider(n->name, *block_names, &best, &best_d);
	ps_conf_excerpt(ex, n->name);
	if (best)
		return ps_conf_fail(err, n->file, n->line, "unknown directive "
				    "'%s' (did you mean '%s'?)", ex, best);
	return ps_conf_fail(err, n->file, n->line, "unknown directive '%s'",
			    ex);
}

/* A relative path is taken from the folder of the file that says it, so
 * a config means the same wherever poshtad is started (the daemon runs
 * in /). */
static int
add_relative_path(struct ps_conf_entry *e, struct ps_conf_value *v,
		  const struct ps_conf_node *n, struct ps_error *err)
{
	const char *slash = strrchr(n->file, '/');
	size_t dirlen = slash ? (size_t)(slash - n->file) : 1;
	size_t len = dirlen + strlen(v->str) + 2;
	char *path = malloc(len);
	const char *words[2] = {path, NULL};
	int r;

	if (!path)
		return ps_conf_fail(err, n->file, n->line, "out of memory");
	snprintf(path, len, "%.*s/%s", (int)dirlen, slash ? n->file : ".",
		 v->str);
	v->str = path;
	v->words = words;
	r = entry_add(e, v, n->file, n->line);
	free(path);
	return r < 0 ? ps_conf_fail(err, n->file, n->line, "out of memory") : 0;
}

/* Keep the checked value v of node n in e. */
static int
add_value(struct ps_conf_entry *e, struct ps_conf_value *v,
	  const struct ps_conf_node *n, struct ps_error *err)
{
	if (e->d->type == PS_CONF_PATH && v->str[0] != '/')
		return add_relative_path(e, v, n, err);
	if (entry_add(e, v, n->file, n->line) < 0)
		return ps_conf_fail(err, n->file, n->line, "out of memory");
	return 0;
}

static struct ps_conf_section *
build(const struct ps_conf_node *first, const struct ps_conf_node *block,
      const struct ps_conf_schema *schema, const char *const *block_names,
      struct ps_error *err);

static struct ps_conf_blocks *
find_blocks(const struct ps_conf_section *s, const char *name)
{
	for (size_t i = 0; i < s->nblocks; i++)
		if (!strcmp(s->blocks[i].b->name, name))
			return &s->blocks[i];
	return NULL;
}

/* The arguments of sub-block n, checked like a directive's value; a block
 * declared with type 0 takes none. */
static int
check_block_args(const struct ps_conf_blocks *bl,
		 const struct ps_conf_node *n, struct ps_conf_value *v,
		 struct ps_error *err)
{
	struct ps_error why;

	if (bl->args.type != 0) {
		if (ps_conf_check_value(&bl->args, n->args, n->nargs, v,
					&why) < 0)
			return ps_conf_fail(err, n->file, n->line, "%s",
					    why.msg);
		return 0;
	}
	if (n->nargs)
		return ps_conf_fail(err, n->file, n->line,
				    "'%s' takes no arguments", n->name);
	memset(v, 0, sizeof(*v));
	v->words = (const char *const *)n->args;
	return 0;
}

/* Sub-block n: its arguments, then its directives into a section of its
 * own, kept side by side in bl. */
static int
add_block(struct ps_conf_blocks *bl, const struct ps_conf_node *n,
	  struct ps_error *err)
{
	const struct ps_conf_schema inner = {.sets = bl->sets, .nsets = 1};
	struct ps_conf_section *sub, **secs;
	struct ps_conf_value v;

	if (!n->has_block)
		return ps_conf_fail(err, n->file, n->line, "'%s' is a block: "
				    "%s%s { ... }", n->name, n->name,
				    bl->args.type ? " ARGUMENTS" : "");
	if (bl->vals.n && !(bl->b->flags & PS_CONF_MULTI))
		return ps_conf_fail(err, n->file, n->line,
				    "block '%s' given twice (first at %s:%d)",
				    n->name, bl->vals.vals[0].file,
				    bl->vals.vals[0].line);
	if (check_block_args(bl, n, &v, err) < 0)
		return -1;
	secs = realloc(bl->secs, (bl->vals.n + 1) * sizeof(*secs));
	if (!secs)
		return ps_conf_fail(err, n->file, n->line, "out of memory");
	bl->secs = secs;
	if (!(sub = build(n->children, n, &inner, NULL, err)))
		return -1;
	if (add_value(&bl->vals, &v, n, err) < 0) {
		ps_conf_section_free(sub);
		return -1;
	}
	secs[bl->vals.n - 1] = sub;
	return 0;
}

/* One node of the block: a value, a declared sub-block, or a child block
 * left to the caller. */
static int
add_node_value(struct ps_conf_section *s, const struct ps_conf_node *n,
	       const char *const *block_names, struct ps_error *err)
{
	struct ps_conf_blocks *bl;
	struct ps_conf_entry *e;
	struct ps_conf_value v;
	struct ps_error why;

	if (in_list(block_names, n->name))
		return 0;
	if ((bl = find_blocks(s, n->name)))
		return add_block(bl, n, err);
	if (!(e = find_entry(s, n->name)))
		return unknown(s, n, block_names, err);
	if (n->has_block)
		return ps_conf_fail(err, n->file, n->line,
				    "'%s' takes no block", n->name);
	if (e->n && !(e->d->flags & PS_CONF_MULTI))
		return ps_conf_fail(err, n->file, n->line,
				    "'%s' given twice (first at %s:%d)",
				    n->name, e->vals[0].file, e->vals[0].line);
	if (ps_conf_check_value(e->d, n->args, n->nargs, &v, &why) < 0)
		return ps_conf_fail(err, n->file, n->line, "%s", why.msg);
	return add_value(e, &v, n, err);
}

/* The default as if written: WORDS split at blanks, else one word. */
static int
add_default(struct ps_conf_entry *e, struct ps_error *err)
{
	char *text = strdup(e->d->def), **args, *save = NULL;
	struct ps_conf_value v;
	struct ps_error why;
	size_t n = 0;
	int r = -1;

	args = malloc((strlen(e->d->def) / 2 + 2) * sizeof(*args));
	if (!text || !args) {
		ps_conf_fail(err, "(default)", 0, "out of memory");
		goto out;
	}
	if (e->d->type != PS_CONF_WORDS)
		args[n++] = text;
	else
		for (char *w = strtok_r(text, " \t", &save); w;
		     w = strtok_r(NULL, " \t", &save))
			args[n++] = w;
	args[n] = NULL;
	if (ps_conf_check_value(e->d, args, n, &v, &why) < 0)
		ps_conf_fail(err, "(default)", 0, "%s", why.msg);
	else if (entry_add(e, &v, "(default)", 0) < 0)
		ps_conf_fail(err, "(default)", 0, "out of memory");
	else
		r = 0;
out:
	free(args);
	free(text);
	return r;
}

/* A required sub-block that is not there. */
static int
missing_blocks(const struct ps_conf_section *s,
	       const struct ps_conf_node *block,
	       const struct ps_conf_node *first, struct ps_error *err)
{
	char ex[PS_CONF_EXCERPT];

	for (size_t i = 0; i < s->nblocks; i++) {
		const struct ps_conf_blocks *bl = &s->blocks[i];
		if (bl->vals.n || !(bl->b->flags & PS_CONF_REQUIRED))
			continue;
		if (block)
			return ps_conf_fail(err, block->file, block->line,
					    "block '%s' lacks required "
					    "block '%s'",
					    ps_conf_excerpt(ex, block->name),
					    bl->b->name);
		return ps_conf_fail(err, first ? first->file : NULL, 0,
				    "missing required block '%s'",
				    bl->b->name);
	}
	return 0;
}

/* Directives not given: an error when required, else their default. */
static int
finish(struct ps_conf_section *s, const struct ps_conf_node *block,
       const struct ps_conf_node *first, struct ps_error *err)
{
	char ex[PS_CONF_EXCERPT];

	for (size_t i = 0; i < s->n; i++) {
		struct ps_conf_entry *e = &s->entries[i];
		if (e->n)
			continue;
		if (!(e->d->flags & PS_CONF_REQUIRED)) {
			if (e->d->def && add_default(e, err) < 0)
				return -1;
			continue;
		}
		if (block)
			return ps_conf_fail(err, block->file, block->line,
					    "block '%s' lacks required "
					    "directive '%s'",
					    ps_conf_excerpt(ex, block->name),
					    e->d->name);
		return ps_conf_fail(err, first ? first->file : NULL, 0,
				    "missing required directive '%s'",
				    e->d->name);
	}
	return missing_blocks(s, block, first, err);
}

static struct ps_conf_section *
section_alloc(const struct ps_conf_schema *schema)
{
	struct ps_conf_section *s = calloc(1, sizeof(*s));
	size_t n = 0;

	for (size_t i = 0; i < schema->nsets; i++)
		for (const struct ps_directive *d = schema->sets[i]; d->name;
		     d++)
			n++;
	if (!s || !(s->entries = calloc(n + 1, sizeof(*s->entries))) ||
	    !(s->blocks = calloc(schema->nblocks + 1, sizeof(*s->blocks)))) {
		if (s)
			free(s->entries);
		free(s);
		return NULL;
	}
	for (size_t i = 0; i < schema->nsets; i++)
		for (const struct ps_directive *d = schema->sets[i]; d->name;
		     d++)
			s->entries[s->n++].d = d;
	for (size_t i = 0; i < schema->nblocks; i++) {
		/* s->blocks is never reallocated, so vals.d may point in. */
		struct ps_conf_blocks *bl = &s->blocks[s->nblocks++];
		bl->b = schema->blocks[i];
		bl->args = bl->b->args;
		bl->args.name = bl->b->name;
		bl->sets[0] = bl->b->directives;
		bl->vals.d = &bl->args;
	}
	return s;
}

static struct ps_conf_section *
build(const struct ps_conf_node *first, const struct ps_conf_node *block,
      const struct ps_conf_schema *schema, const char *const *block_names,
      struct ps_error *err)
{
	struct ps_conf_section *s = section_alloc(schema);

	if (!s) {
		ps_conf_fail(err, block ? block->file : NULL,
			     block ? block->line : 0, "out of memory");
		return NULL;
	}
	for (const struct ps_conf_node *n = first; n; n = n->next)
		if (add_node_value(s, n, block_names, err) < 0)
			goto fail;
	if (finish(s, block, first, err) < 0)
		goto fail;
	return s;
fail:
	ps_conf_section_free(s);
	return NULL;
}

struct ps_conf_section *
ps_conf_section_new(const struct ps_conf_node *first,
		    const struct ps_conf_schema *schema,
		    const char *const *block_names, struct ps_error *err)
{
	return build(first, NULL, schema, block_names, err);
}

struct ps_conf_section *
ps_conf_section_block(const struct ps_conf_node *block,
		      const struct ps_conf_schema *schema,
		      const char *const *block_names, struct ps_error *err)
{
	return build(block->children, block, schema, block_names, err);
}

static void
entry_free(struct ps_conf_entry *e)
{
	for (size_t j = 0; j < e->n; j++)
		free((void *)e->vals[j].words);
	free(e->vals);
}

void
ps_conf_section_free(struct ps_conf_section *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		entry_free(&s->entries[i]);
	for (size_t i = 0; i < s->nblocks; i++) {
		for (size_t j = 0; j < s->blocks[i].vals.n; j++)
			ps_conf_section_free(s->blocks[i].secs[j]);
		free(s->blocks[i].secs);
		entry_free(&s->blocks[i].vals);
	}
	free(s->blocks);
	free(s->entries);
	free(s);
}

const struct ps_conf_value *
ps_conf_section_get(const struct ps_conf_section *s, const char *name,
		    size_t index)
{
	/* An outbound connection has no listen block. */
	const struct ps_conf_entry *e = s ? find_entry(s, name) : NULL;

	return e && index < e->n ? &e->vals[index] : NULL;
}

size_t
ps_conf_section_count(const struct ps_conf_section *s, const char *name)
{
	const struct ps_conf_entry *e = s ? find_entry(s, name) : NULL;

	return e ? e->n : 0;
}

size_t
ps_conf_section_block_count(const struct ps_conf_section *s,
			    const char *name)
{
	const struct ps_conf_blocks *bl = s ? find_blocks(s, name) : NULL;

	return bl ? bl->vals.n : 0;
}

const struct ps_conf_section *
ps_conf_section_sub(const struct ps_conf_section *s, const char *name,
		    size_t index, const struct ps_conf_value **args_r)
{
	const struct ps_conf_blocks *bl = s ? find_blocks(s, name) : NULL;

	if (!bl || index >= bl->vals.n) {
		if (args_r)
			*args_r = NULL;
		return NULL;
	}
	if (args_r)
		*args_r = &bl->vals.vals[index];
	return bl->secs[index];
}
