/* The parsed tree: the arena it lives in, bounded buffers, lookups (IMAP
 * section numbers, RFC 3501 6.4.5), and the invariants every tree keeps,
 * checked on each cache blob and by the fuzzer on each parse. */
#include <stdalign.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mime_private.h"

/* ---- Arena ----------------------------------------------------------- */

#define ARENA_MIN 4096
#define ARENA_MAX 65536
#define ARENA_ALIGN alignof(max_align_t)

struct mime_arena_block {
	struct mime_arena_block *next;
	alignas(max_align_t) unsigned char data[];
};

void *
mime_arena_alloc(struct mime_arena *a, size_t n)
{
	struct mime_arena_block *b;
	size_t size;
	void *p;

	n = (n + ARENA_ALIGN - 1) & ~(ARENA_ALIGN - 1);
	if (n == 0)
		n = ARENA_ALIGN;
	if (a->head == NULL || a->cap - a->used < n) {
		size = a->cap == 0 ? ARENA_MIN : a->cap * 2;
		if (size > ARENA_MAX)
			size = ARENA_MAX;
		if (size < n)
			size = n;
		if (size > SIZE_MAX - sizeof(*b))
			return NULL;
		b = malloc(sizeof(*b) + size);
		if (b == NULL)
			return NULL;
		if (n == size && a->head != NULL) {
			/* A big one: keep filling the current block. */
			b->next = a->head->next;
			a->head->next = b;
			memset(b->data, 0, n);
			return b->data;
		}
		b->next = a->head;
		a->head = b;
		a->used = 0;
		a->cap = size;
	}
	p = a->head->data + a->used;
	a->used += n;
	memset(p, 0, n);
	return p;
}

char *
mime_arena_strndup(struct mime_arena *a, const char *s, size_t n)
{
	char *p;

	if (n == SIZE_MAX || (p = mime_arena_alloc(a, n + 1)) == NULL)
		return NULL;
	if (n > 0)
		memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

void
mime_arena_free(struct mime_arena *a)
{
	struct mime_arena_block *b, *next;

	for (b = a->head; b != NULL; b = next) {
		next = b->next;
		free(b);
	}
	a->head = NULL;
	a->used = a->cap = 0;
}

struct mime_tree *
mime_tree_new(void)
{
	return calloc(1, sizeof(struct mime_tree));
}

void
mime_tree_free(struct mime_part *root)
{
	struct mime_tree *t = (struct mime_tree *)root;

	if (t == NULL)
		return;
	mime_arena_free(&t->arena);
	free(t);
}

/* ---- Buffers --------------------------------------------------------- */

void
mime_buf_init(struct mime_buf *b, size_t max)
{
	*b = (struct mime_buf){.max = max};
}

void
mime_buf_add(struct mime_buf *b, const void *data, size_t len)
{
	size_t cap;
	char *p;

	if (b->failed)
		return;
	if (len > b->max - b->len) {
		b->truncated = 1;
		len = b->max - b->len;
	}
	if (len == 0)
		return;
	if (b->cap - b->len <= len) { /* room for a NUL too */
		cap = b->cap ? b->cap : 64;
		while (cap - b->len <= len)
			cap = cap > SIZE_MAX / 2 ? SIZE_MAX : cap * 2;
		if ((p = realloc(b->p, cap)) == NULL) {
			b->failed = 1;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, len);
	b->len += len;
}

void
mime_buf_addc(struct mime_buf *b, char ch)
{
	mime_buf_add(b, &ch, 1);
}

void
mime_buf_emit(void *arg, const char *data, size_t len)
{
	mime_buf_add(arg, data, len);
}

char *
mime_buf_steal(struct mime_buf *b, size_t *len_r)
{
	char *p;

	if (b->failed) {
		mime_buf_free(b);
		return NULL;
	}
	if (b->p == NULL && (b->p = malloc(1)) == NULL)
		return NULL;
	p = b->p;
	p[b->len] = '\0';
	if (len_r != NULL)
		*len_r = b->len;
	b->p = NULL;
	b->len = b->cap = 0;
	return p;
}

void
mime_buf_free(struct mime_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

/* ---- Lookups --------------------------------------------------------- */

const char *
mime_param_get(const struct mime_param *params, unsigned n, const char *name)
{
	for (unsigned i = 0; i < n; i++)
		if (strcasecmp(params[i].name, name) == 0)
			return params[i].value;
	return NULL;
}

const char *
mime_part_charset(const struct mime_part *part)
{
	const char *cs;

	if (strcasecmp(part->type, "text") != 0)
		return NULL;
	cs = mime_param_get(part->params, part->nparams, "charset");
	return cs != NULL && *cs != '\0' ? cs : "us-ascii";
}

static const struct mime_part *
nth_child(const struct mime_part *p, unsigned k)
{
	const struct mime_part *c = p->children;

	if (k == 0)
		return NULL;
	while (c != NULL && --k > 0)
		c = c->next;
	return c;
}

const struct mime_part *
mime_part_section(const struct mime_part *root, const unsigned *nums,
		  size_t n)
{
	const struct mime_part *p = root;

	for (size_t i = 0; i < n && p != NULL; i++) {
		if (i > 0) {
			if (p->flags & MIME_PART_MESSAGE)
				p = p->children;
			else if (!(p->flags & MIME_PART_MULTIPART))
				return NULL;
		}
		if (p->flags & MIME_PART_MULTIPART)
			p = nth_child(p, nums[i]);
		else if (nums[i] != 1)
			return NULL;
	}
	return p;
}

/* ---- Invariants ------------------------------------------------------ */

static int
params_ok(const struct mime_param *params, unsigned n)
{
	if (n > MIME_PARAMS_MAX || (n > 0 && params == NULL))
		return 0;
	for (unsigned i = 0; i < n; i++) {
		const struct mime_param *pa = &params[i];

		if (pa->name == NULL || pa->value == NULL)
			return 0;
		/* decoded, charset and language come together */
		if ((pa->decoded == NULL) != (pa->charset == NULL) ||
		    (pa->decoded == NULL) != (pa->language == NULL))
			return 0;
	}
	return 1;
}

static int
end_of(const struct mime_part *p, uint64_t *end_r)
{
	if (p->body_offset > UINT64_MAX - p->body_size)
		return 0;
	*end_r = p->body_offset + p->body_size;
	return 1;
}

static int
part_ok(const struct mime_part *p, const struct mime_part *parent,
	unsigned depth, unsigned *count)
{
	const struct mime_part *c;
	uint64_t end, cend, prev;
	unsigned n = 0;

	if (depth > MIME_DEPTH_MAX || ++*count > MIME_PARTS_MAX)
		return 0;
	if (p->parent != parent || (p->flags & ~MIME_PART_FLAGS_ALL))
		return 0;
	if (p->header_offset > UINT64_MAX - p->header_size ||
	    p->body_offset != p->header_offset + p->header_size ||
	    !end_of(p, &end) || p->body_lines > p->body_size)
		return 0;
	if (p->type == NULL || p->subtype == NULL || p->encoding == NULL ||
	    *p->encoding == '\0' || p->cte != mime_cte_parse(p->encoding))
		return 0;
	if (!params_ok(p->params, p->nparams) ||
	    !params_ok(p->disp_params, p->ndisp_params) ||
	    (p->ndisp_params > 0 && p->disposition == NULL))
		return 0;
	if (p->nlanguages > MIME_LANGUAGES_MAX ||
	    (p->nlanguages > 0 && p->languages == NULL))
		return 0;
	for (unsigned i = 0; i < p->nlanguages; i++)
		if (p->languages[i] == NULL || *p->languages[i] == '\0')
			return 0;
	if ((p->envelope != NULL) !=
	    (parent == NULL || (parent->flags & MIME_PART_MESSAGE)))
		return 0;
	if ((p->flags & MIME_PART_MULTIPART) &&
	    ((p->flags & MIME_PART_MESSAGE) ||
	     strcasecmp(p->type, "multipart") != 0 || *p->subtype == '\0'))
		return 0;
	if ((p->flags & MIME_PART_MESSAGE) &&
	    (strcasecmp(p->type, "message") != 0 ||
	     (p->flags & MIME_PART_OPAQUE) || p->nchildren != 1))
		return 0;
	if (!(p->flags & (MIME_PART_MULTIPART | MIME_PART_MESSAGE)) &&
	    p->nchildren != 0)
		return 0;
	if ((p->flags & MIME_PART_OPAQUE) && p->nchildren != 0)
		return 0;
	if (parent != NULL && (p->flags & MIME_PART_PARTS_LIMIT))
		return 0;

	prev = p->body_offset;
	for (c = p->children; c != NULL; c = c->next) {
		if (++n > p->nchildren)
			return 0;
		if (!part_ok(c, p, depth + 1, count) || !end_of(c, &cend))
			return 0;
		if (p->flags & MIME_PART_MESSAGE) {
			if (c->header_offset != p->body_offset || cend != end)
				return 0;
		} else {
			/* at least "--b" (RFC 2046 5.1.1) before each */
			if (c->header_offset < prev ||
			    c->header_offset - prev < 3 || cend > end)
				return 0;
			prev = cend;
		}
	}
	return n == p->nchildren;
}

int
mime_tree_check(const struct mime_part *root)
{
	unsigned count = 0;

	if (root == NULL || root->header_offset != 0)
		return MIME_EINVAL;
	return part_ok(root, NULL, 0, &count) ? MIME_OK : MIME_EINVAL;
}

/* ---- Comparison ------------------------------------------------------ */

static int
str_differ(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a != b;
	return strcmp(a, b) != 0;
}

static int
params_differ(const struct mime_param *a, unsigned na,
	      const struct mime_param *b, unsigned nb)
{
	if (na != nb)
		return 1;
	for (unsigned i = 0; i < na; i++)
		if (str_differ(a[i].name, b[i].name) ||
		    str_differ(a[i].value, b[i].value) ||
		    str_differ(a[i].decoded, b[i].decoded) ||
		    str_differ(a[i].charset, b[i].charset) ||
		    str_differ(a[i].language, b[i].language))
			return 1;
	return 0;
}

static int
envelope_differs(const struct mime_envelope *a, const struct mime_envelope *b)
{
	if (a == NULL || b == NULL)
		return a != b;
	return str_differ(a->date, b->date) ||
	       str_differ(a->subject, b->subject) ||
	       str_differ(a->from, b->from) ||
	       str_differ(a->sender, b->sender) ||
	       str_differ(a->reply_to, b->reply_to) ||
	       str_differ(a->to, b->to) || str_differ(a->cc, b->cc) ||
	       str_differ(a->bcc, b->bcc) ||
	       str_differ(a->in_reply_to, b->in_reply_to) ||
	       str_differ(a->message_id, b->message_id);
}

int
mime_tree_compare(const struct mime_part *a, const struct mime_part *b)
{
	const struct mime_part *ca, *cb;

	if (a == NULL || b == NULL)
		return a != b;
	if (a->nchildren != b->nchildren || a->flags != b->flags ||
	    a->header_offset != b->header_offset ||
	    a->header_size != b->header_size ||
	    a->body_offset != b->body_offset ||
	    a->body_size != b->body_size || a->body_lines != b->body_lines ||
	    a->cte != b->cte || a->nlanguages != b->nlanguages)
		return 1;
	if (str_differ(a->type, b->type) ||
	    str_differ(a->subtype, b->subtype) || str_differ(a->id, b->id) ||
	    str_differ(a->description, b->description) ||
	    str_differ(a->encoding, b->encoding) ||
	    str_differ(a->md5, b->md5) ||
	    str_differ(a->disposition, b->disposition) ||
	    str_differ(a->location, b->location))
		return 1;
	if (params_differ(a->params, a->nparams, b->params, b->nparams) ||
	    params_differ(a->disp_params, a->ndisp_params, b->disp_params,
			  b->ndisp_params))
		return 1;
	for (unsigned i = 0; i < a->nlanguages; i++)
		if (str_differ(a->languages[i], b->languages[i]))
			return 1;
	if (envelope_differs(a->envelope, b->envelope))
		return 1;
	for (ca = a->children, cb = b->children; ca != NULL && cb != NULL;
	     ca = ca->next, cb = cb->next)
		if (mime_tree_compare(ca, cb) != 0)
			return 1;
	return ca != cb;
}
