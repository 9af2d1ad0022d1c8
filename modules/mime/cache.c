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

/* CRC-32 (ISO-HDLC, the zlib and PNG one: reflected, polynomial
 * 0xedb88320) a byte at a time: entry n is n run through the eight
 * one-bit steps. Every FETCH and SEARCH of a message checks its blob,
 * and the bit-at-a-time loop this replaces was the largest cost of
 * imap.so in the IMAP bench (6% of a worker's time). */
static const uint32_t crc_table[256] = {
	0x00000000u, 0x77073096u, 0xee0e612cu, 0x990951bau,
	0x076dc419u, 0x706af48fu, 0xe963a535u, 0x9e6495a3u,
	0x0edb8832u, 0x79dcb8a4u, 0xe0d5e91eu, 0x97d2d988u,
	0x09b64c2bu, 0x7eb17cbdu, 0xe7b82d07u, 0x90bf1d91u,
	0x1db71064u, 0x6ab020f2u, 0xf3b97148u, 0x84be41deu,
	0x1adad47du, 0x6ddde4ebu, 0xf4d4b551u, 0x83d385c7u,
	0x136c9856u, 0x646ba8c0u, 0xfd62f97au, 0x8a65c9ecu,
	0x14015c4fu, 0x63066cd9u, 0xfa0f3d63u, 0x8d080df5u,
	0x3b6e20c8u, 0x4c69105eu, 0xd56041e4u, 0xa2677172u,
	0x3c03e4d1u, 0x4b04d447u, 0xd20d85fdu, 0xa50ab56bu,
	0x35b5a8fau, 0x42b2986cu, 0xdbbbc9d6u, 0xacbcf940u,
	0x32d86ce3u, 0x45df5c75u, 0xdcd60dcfu, 0xabd13d59u,
	0x26d930acu, 0x51de003au, 0xc8d75180u, 0xbfd06116u,
	0x21b4f4b5u, 0x56b3c423u, 0xcfba9599u, 0xb8bda50fu,
	0x2802b89eu, 0x5f058808u, 0xc60cd9b2u, 0xb10be924u,
	0x2f6f7c87u, 0x58684c11u, 0xc1611dabu, 0xb6662d3du,
	0x76dc4190u, 0x01db7106u, 0x98d220bcu, 0xefd5102au,
	0x71b18589u, 0x06b6b51fu, 0x9fbfe4a5u, 0xe8b8d433u,
	0x7807c9a2u, 0x0f00f934u, 0x9609a88eu, 0xe10e9818u,
	0x7f6a0dbbu, 0x086d3d2du, 0x91646c97u, 0xe6635c01u,
	0x6b6b51f4u, 0x1c6c6162u, 0x856530d8u, 0xf262004eu,
	0x6c0695edu, 0x1b01a57bu, 0x8208f4c1u, 0xf50fc457u,
	0x65b0d9c6u, 0x12b7e950u, 0x8bbeb8eau, 0xfcb9887cu,
	0x62dd1ddfu, 0x15da2d49u, 0x8cd37cf3u, 0xfbd44c65u,
	0x4db26158u, 0x3ab551ceu, 0xa3bc0074u, 0xd4bb30e2u,
	0x4adfa541u, 0x3dd895d7u, 0xa4d1c46du, 0xd3d6f4fbu,
	0x4369e96au, 0x346ed9fcu, 0xad678846u, 0xda60b8d0u,
	0x44042d73u, 0x33031de5u, 0xaa0a4c5fu, 0xdd0d7cc9u,
	0x5005713cu, 0x270241aau, 0xbe0b1010u, 0xc90c2086u,
	0x5768b525u, 0x206f85b3u, 0xb966d409u, 0xce61e49fu,
	0x5edef90eu, 0x29d9c998u, 0xb0d09822u, 0xc7d7a8b4u,
	0x59b33d17u, 0x2eb40d81u, 0xb7bd5c3bu, 0xc0ba6cadu,
	0xedb88320u, 0x9abfb3b6u, 0x03b6e20cu, 0x74b1d29au,
	0xead54739u, 0x9dd277afu, 0x04db2615u, 0x73dc1683u,
	0xe3630b12u, 0x94643b84u, 0x0d6d6a3eu, 0x7a6a5aa8u,
	0xe40ecf0bu, 0x9309ff9du, 0x0a00ae27u, 0x7d079eb1u,
	0xf00f9344u, 0x8708a3d2u, 0x1e01f268u, 0x6906c2feu,
	0xf762575du, 0x806567cbu, 0x196c3671u, 0x6e6b06e7u,
	0xfed41b76u, 0x89d32be0u, 0x10da7a5au, 0x67dd4accu,
	0xf9b9df6fu, 0x8ebeeff9u, 0x17b7be43u, 0x60b08ed5u,
	0xd6d6a3e8u, 0xa1d1937eu, 0x38d8c2c4u, 0x4fdff252u,
	0xd1bb67f1u, 0xa6bc5767u, 0x3fb506ddu, 0x48b2364bu,
	0xd80d2bdau, 0xaf0a1b4cu, 0x36034af6u, 0x41047a60u,
	0xdf60efc3u, 0xa867df55u, 0x316e8eefu, 0x4669be79u,
	0xcb61b38cu, 0xbc66831au, 0x256fd2a0u, 0x5268e236u,
	0xcc0c7795u, 0xbb0b4703u, 0x220216b9u, 0x5505262fu,
	0xc5ba3bbeu, 0xb2bd0b28u, 0x2bb45a92u, 0x5cb36a04u,
	0xc2d7ffa7u, 0xb5d0cf31u, 0x2cd99e8bu, 0x5bdeae1du,
	0x9b64c2b0u, 0xec63f226u, 0x756aa39cu, 0x026d930au,
	0x9c0906a9u, 0xeb0e363fu, 0x72076785u, 0x05005713u,
	0x95bf4a82u, 0xe2b87a14u, 0x7bb12baeu, 0x0cb61b38u,
	0x92d28e9bu, 0xe5d5be0du, 0x7cdcefb7u, 0x0bdbdf21u,
	0x86d3d2d4u, 0xf1d4e242u, 0x68ddb3f8u, 0x1fda836eu,
	0x81be16cdu, 0xf6b9265bu, 0x6fb077e1u, 0x18b74777u,
	0x88085ae6u, 0xff0f6a70u, 0x66063bcau, 0x11010b5cu,
	0x8f659effu, 0xf862ae69u, 0x616bffd3u, 0x166ccf45u,
	0xa00ae278u, 0xd70dd2eeu, 0x4e048354u, 0x3903b3c2u,
	0xa7672661u, 0xd06016f7u, 0x4969474du, 0x3e6e77dbu,
	0xaed16a4au, 0xd9d65adcu, 0x40df0b66u, 0x37d83bf0u,
	0xa9bcae53u, 0xdebb9ec5u, 0x47b2cf7fu, 0x30b5ffe9u,
	0xbdbdf21cu, 0xcabac28au, 0x53b39330u, 0x24b4a3a6u,
	0xbad03605u, 0xcdd70693u, 0x54de5729u, 0x23d967bfu,
	0xb3667a2eu, 0xc4614ab8u, 0x5d681b02u, 0x2a6f2b94u,
	0xb40bbe37u, 0xc30c8ea1u, 0x5a05df1bu, 0x2d02ef8du,
};

uint32_t
mime_crc32(const void *data, size_t len)
{
	const unsigned char *p = data;
	uint32_t crc = 0xffffffffu;

	while (len-- > 0)
		crc = (crc >> 8) ^ crc_table[(crc ^ *p++) & 0xff];
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
