/* The parsed tree as a blob for storage, so FETCH BODYSTRUCTURE needs no
 * body read. Layout, little-endian:
 *
 *   "PSMC" | version u8 | 3 zero octets | payload length u32 | CRC-32
 *   of the payload u32 | payload
 *
 * The payload is the part count, then each part in pre-order: flags,
 * child count, header offset and size, body size and lines (LEB128
 * varints), then its strings (varint length + 1, 0 for NULL), parameter
 * lists and languages (counted), and for a message its ten envelope
 * fields. Reading checks every count and length against what is left
 * and the caps, every varint is canonical, and the tree must pass
 * mime_tree_check: a bad blob is refused, never half-read. */
#include <stdlib.h>
#include <string.h>

#include "mime_private.h"

#define MAGIC "PSMC"
#define HEAD 16
#define PART_MIN 8 /* fewer payload octets cannot hold a part */

uint32_t
mime_crc32(const void *data, size_t len)
{
	const unsigned char *p = data;
	uint32_t crc = 0xffffffffu;

	while (len-- > 0) {
		crc ^= *p++;
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1)));
	}
	return ~crc;
}

/* ---- Writing --------------------------------------------------------- */

static void
put_varint(struct mime_buf *b, uint64_t v)
{
	do {
		unsigned char ch = v & 0x7f;

		v >>= 7;
		mime_buf_addc(b, (char)(ch | (v ? 0x80 : 0)));
	} while (v);
}

static void
put_str(struct mime_buf *b, const char *s)
{
	size_t n;

	if (s == NULL) {
		put_varint(b, 0);
		return;
	}
	n = strlen(s);
	put_varint(b, (uint64_t)n + 1);
	mime_buf_add(b, s, n);
}

static void
put_params(struct mime_buf *b, const struct mime_param *p, unsigned n)
{
	put_varint(b, n);
	for (unsigned i = 0; i < n; i++) {
		put_str(b, p[i].name);
		put_str(b, p[i].value);
		put_str(b, p[i].decoded);
		put_str(b, p[i].charset);
		put_str(b, p[i].language);
	}
}

static void
put_envelope(struct mime_buf *b, const struct mime_envelope *e)
{
	const char *f[10] = {e->date, e->subject, e->from, e->sender,
			     e->reply_to, e->to, e->cc, e->bcc,
			     e->in_reply_to, e->message_id};

	for (int i = 0; i < 10; i++)
		put_str(b, f[i]);
}

static void
put_part(struct mime_buf *b, const struct mime_part *p)
{
	put_varint(b, p->flags);
	put_varint(b, p->nchildren);
	put_varint(b, p->header_offset);
	put_varint(b, p->header_size);
	put_varint(b, p->body_size);
	put_varint(b, p->body_lines);
	put_str(b, p->type);
	put_str(b, p->subtype);
	put_params(b, p->params, p->nparams);
	put_str(b, p->id);
	put_str(b, p->description);
	put_str(b, p->encoding);
	put_str(b, p->md5);
	put_str(b, p->disposition);
	put_params(b, p->disp_params, p->ndisp_params);
	put_varint(b, p->nlanguages);
	for (unsigned i = 0; i < p->nlanguages; i++)
		put_str(b, p->languages[i]);
	put_str(b, p->location);
	if (p->envelope != NULL)
		put_envelope(b, p->envelope);
	for (const struct mime_part *c = p->children; c != NULL; c = c->next)
		put_part(b, c);
}

static uint64_t
count_parts(const struct mime_part *p)
{
	uint64_t n = 1;

	for (const struct mime_part *c = p->children; c != NULL; c = c->next)
		n += count_parts(c);
	return n;
}

static void
put_u32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

int
mime_cache_write(const struct mime_part *root, void **blob_r, size_t *len_r)
{
	struct mime_buf b;
	unsigned char *p;
	size_t len;

	*blob_r = NULL;
	mime_buf_init(&b, UINT32_MAX);
	mime_buf_add(&b, MAGIC, 4);
	mime_buf_addc(&b, MIME_CACHE_VERSION);
	mime_buf_add(&b, "\0\0\0" "\0\0\0\0" "\0\0\0\0", 11);
	put_varint(&b, count_parts(root));
	put_part(&b, root);
	if (b.truncated) {
		mime_buf_free(&b);
		return MIME_ENOMEM; /* a 4 GiB tree cannot come from a parse */
	}
	if ((p = (unsigned char *)mime_buf_steal(&b, &len)) == NULL)
		return MIME_ENOMEM;
	put_u32(p + 8, (uint32_t)(len - HEAD));
	put_u32(p + 12, mime_crc32(p + HEAD, len - HEAD));
	*blob_r = p;
	*len_r = len;
	return MIME_OK;
}

/* ---- Reading --------------------------------------------------------- */

struct rd {
	const unsigned char *p, *end;
	struct mime_arena *a;
	uint64_t parts_left;
	int bad, nomem;
};

static uint64_t
get_varint(struct rd *r)
{
	uint64_t v = 0;

	for (unsigned shift = 0; shift < 64; shift += 7) {
		unsigned char ch;

		if (r->p >= r->end)
			break;
		ch = *r->p++;
		if (shift == 63 && ch > 1)
			break; /* past 64 bits */
		v |= (uint64_t)(ch & 0x7f) << shift;
		if (!(ch & 0x80)) {
			if (ch == 0 && shift > 0)
				break; /* not the shortest form */
			return v;
		}
	}
	r->bad = 1;
	return 0;
}

/* A count no larger than max. */
static unsigned
get_count(struct rd *r, unsigned max)
{
	uint64_t v = get_varint(r);

	if (v > max) {
		r->bad = 1;
		return 0;
	}
	return (unsigned)v;
}

static const char *
get_str(struct rd *r)
{
	uint64_t n = get_varint(r);
	char *s;

	if (r->bad || n == 0)
		return NULL;
	n--;
	if (n > (uint64_t)(r->end - r->p) || memchr(r->p, '\0', n) != NULL) {
		r->bad = 1;
		return NULL;
	}
	if ((s = mime_arena_strndup(r->a, (const char *)r->p, n)) == NULL)
		r->nomem = 1;
	r->p += n;
	return s;
}

static struct mime_param *
get_params(struct rd *r, unsigned *n_r)
{
	unsigned n = get_count(r, MIME_PARAMS_MAX);
	struct mime_param *p;

	*n_r = 0;
	if (r->bad || n == 0)
		return NULL;
	if (n > (size_t)(r->end - r->p) / 5) {
		r->bad = 1;
		return NULL;
	}
	if ((p = mime_arena_alloc(r->a, n * sizeof(*p))) == NULL) {
		r->nomem = 1;
		return NULL;
	}
	for (unsigned i = 0; i < n; i++) {
		p[i].name = get_str(r);
		p[i].value = get_str(r);
		p[i].decoded = get_str(r);
		p[i].charset = get_str(r);
		p[i].language = get_str(r);
	}
	*n_r = n;
	return p;
}

static void
get_envelope(struct rd *r, struct mime_envelope *e)
{
	const char **f[10] = {&e->date, &e->subject, &e->from, &e->sender,
			      &e->reply_to, &e->to, &e->cc, &e->bcc,
			      &e->in_reply_to, &e->message_id};

	for (int i = 0; i < 10; i++)
		*f[i] = get_str(r);
}

static void get_part(struct rd *r, struct mime_part *p, unsigned depth);

static void
get_children(struct rd *r, struct mime_part *p, unsigned depth)
{
	struct mime_part *last = NULL;

	for (unsigned i = 0; i < p->nchildren && !r->bad && !r->nomem; i++) {
		struct mime_part *c = mime_arena_alloc(r->a, sizeof(*c));

		if (c == NULL) {
			r->nomem = 1;
			return;
		}
		c->parent = p;
		if (p->flags & MIME_PART_MESSAGE) {
			c->envelope = mime_arena_alloc(r->a,
						       sizeof(*c->envelope));
			if (c->envelope == NULL) {
				r->nomem = 1;
				return;
			}
		}
		if (last != NULL)
			last->next = c;
		else
			p->children = c;
		last = c;
		get_part(r, c, depth + 1);
	}
}

static void
get_part(struct rd *r, struct mime_part *p, unsigned depth)
{
	if (depth > MIME_DEPTH_MAX || r->parts_left == 0) {
		r->bad = 1;
		return;
	}
	r->parts_left--;
	p->flags = get_count(r, MIME_PART_FLAGS_ALL);
	p->nchildren = get_count(r, MIME_PARTS_MAX);
	if (p->nchildren > r->parts_left)
		r->bad = 1;
	p->header_offset = get_varint(r);
	p->header_size = get_varint(r);
	p->body_size = get_varint(r);
	p->body_lines = get_varint(r);
	if (p->header_offset > UINT64_MAX - p->header_size)
		r->bad = 1;
	else
		p->body_offset = p->header_offset + p->header_size;
	p->type = get_str(r);
	p->subtype = get_str(r);
	p->params = get_params(r, &p->nparams);
	p->id = get_str(r);
	p->description = get_str(r);
	p->encoding = get_str(r);
	p->md5 = get_str(r);
	p->disposition = get_str(r);
	p->disp_params = get_params(r, &p->ndisp_params);
	p->nlanguages = get_count(r, MIME_LANGUAGES_MAX);
	if (!r->bad && p->nlanguages > 0) {
		p->languages = mime_arena_alloc(
			r->a, p->nlanguages * sizeof(*p->languages));
		if (p->languages == NULL)
			r->nomem = 1;
		for (unsigned i = 0; i < p->nlanguages && p->languages; i++)
			p->languages[i] = get_str(r);
	}
	p->location = get_str(r);
	if (p->envelope != NULL)
		get_envelope(r, p->envelope);
	if (p->encoding != NULL)
		p->cte = mime_cte_parse(p->encoding);
	if (!r->bad && !r->nomem)
		get_children(r, p, depth);
}

static uint32_t
get_u32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

int
mime_cache_read(const void *blob, size_t len, struct mime_part **root_r)
{
	const unsigned char *b = blob;
	struct mime_tree *t;
	struct rd r;
	uint64_t nparts;

	*root_r = NULL;
	if (len < HEAD || memcmp(b, MAGIC, 4) != 0 ||
	    b[4] != MIME_CACHE_VERSION || b[5] || b[6] || b[7] ||
	    get_u32(b + 8) != len - HEAD ||
	    get_u32(b + 12) != mime_crc32(b + HEAD, len - HEAD))
		return MIME_EINVAL;
	if ((t = mime_tree_new()) == NULL)
		return MIME_ENOMEM;
	r = (struct rd){.p = b + HEAD, .end = b + len, .a = &t->arena};
	nparts = get_varint(&r);
	if (nparts == 0 || nparts > MIME_PARTS_MAX ||
	    nparts > (len - HEAD) / PART_MIN)
		r.bad = 1;
	r.parts_left = nparts;
	t->root.envelope = mime_arena_alloc(&t->arena,
					    sizeof(struct mime_envelope));
	if (t->root.envelope == NULL)
		r.nomem = 1;
	if (!r.bad && !r.nomem)
		get_part(&r, &t->root, 0);
	if (r.nomem) {
		mime_tree_free(&t->root);
		return MIME_ENOMEM;
	}
	if (r.bad || r.p != r.end || r.parts_left != 0 ||
	    mime_tree_check(&t->root) != MIME_OK) {
		mime_tree_free(&t->root);
		return MIME_EINVAL;
	}
	*root_r = &t->root;
	return MIME_OK;
}
