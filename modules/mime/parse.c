/* The streaming structure parser: octets in any chunks, a tree of parts
 * out, memory bounded by the headers kept, never by the bodies. Lines
 * end at LF. Multipart bodies split at delimiter lines (RFC 2046 5.1.1):
 * a line starting "--" and a boundary of an open multipart (the longest
 * match, innermost first, as Dovecot and Cyrus match prefixes), "--"
 * after it closing; the line break before a delimiter belongs to it. A
 * message/rfc822 or message/global body (RFC 2046 5.2.1, RFC 6532 3.5)
 * is parsed as a message, even encoded (which 5.2.1 forbids: Dovecot
 * parses it all the same, and IMAP clients expect an envelope and a body
 * structure after "message" "rfc822"). A header ends at its empty line,
 * or at a delimiter line, or at the end; a part not closed ends with its
 * parent. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mime_private.h"

#define LINE_KEEP (MIME_BOUNDARY_MAX + 4) /* "--" boundary "--" */

enum kind {
	K_LEAF,
	K_MULTI,
	K_MESSAGE,
};

struct frame {
	struct mime_part *part;
	struct mime_part *last_child;
	uint64_t body_lf;     /* LF octets before the body */
	const char *boundary; /* K_MULTI */
	size_t blen;
	uint64_t child_end;   /* where the last child closed */
	uint64_t child_end_lf;
	enum kind kind;
	int closed;           /* K_MULTI: its close delimiter came */
};

struct mime_parser {
	struct mime_limits lim;
	struct mime_tree *tree;
	int failed;
	int no_boundaries; /* the parts limit was reached */
	unsigned nparts;

	uint64_t off;     /* octets fed */
	uint64_t lf;      /* LF octets fed */
	uint64_t eol_off; /* where the last line break began */
	uint64_t eol_lf;  /* LF octets before it */
	uint64_t line_off;
	char prev;        /* the octet before off */
	char line[LINE_KEEP];
	size_t line_len;  /* octets of line[] in use */

	int in_header;    /* the top frame's header is still coming */
	struct mime_buf header;
	size_t header_line; /* header.len when the current line began */
	size_t header_left; /* of max_header_total */

	unsigned depth;   /* frames in use */
	struct frame stack[MIME_DEPTH_MAX + 1];
};

void
mime_limits_default(struct mime_limits *l)
{
	*l = (struct mime_limits){
		.max_depth = 20,
		.max_parts = 1000,
		.max_header = 64 * 1024,
		.max_header_total = 1024 * 1024,
	};
}

static struct frame *
top(struct mime_parser *p)
{
	return &p->stack[p->depth - 1];
}

/* A new part at off, with its header to come, as the top frame. */
static int
push_part(struct mime_parser *p, struct mime_part *part, uint64_t off)
{
	struct frame *f = &p->stack[p->depth++];

	*f = (struct frame){.part = part, .kind = K_LEAF};
	part->header_offset = off;
	part->body_offset = off;
	p->nparts++;
	p->in_header = 1;
	mime_buf_free(&p->header);
	mime_buf_init(&p->header, p->lim.max_header < p->header_left ?
				  p->lim.max_header : p->header_left);
	p->header_line = 0;
	return MIME_OK;
}

static int
new_child(struct mime_parser *p, struct frame *parent, uint64_t off)
{
	struct mime_part *c;

	c = mime_arena_alloc(&p->tree->arena, sizeof(*c));
	if (c == NULL)
		return MIME_ENOMEM;
	c->parent = parent->part;
	if (parent->kind == K_MESSAGE) {
		c->envelope = mime_arena_alloc(&p->tree->arena,
					       sizeof(*c->envelope));
		if (c->envelope == NULL)
			return MIME_ENOMEM;
	}
	if (parent->last_child != NULL)
		parent->last_child->next = c;
	else
		parent->part->children = c;
	parent->last_child = c;
	parent->part->nchildren++;
	return push_part(p, c, off);
}

/* 1 when no more parts may be made (and the limit is marked). */
static int
parts_full(struct mime_parser *p)
{
	if (p->nparts < p->lim.max_parts)
		return 0;
	p->tree->root.flags |= MIME_PART_PARTS_LIMIT;
	p->no_boundaries = 1;
	return 1;
}

/* The top part's header ended at off; blank: by its empty line, so the
 * body may hold children. */
static int
header_done(struct mime_parser *p, uint64_t off, int blank)
{
	struct frame *f = top(p);
	struct mime_part *part = f->part;
	const char *b;
	int digest, r;

	p->in_header = 0;
	part->header_size = off - part->header_offset;
	part->body_offset = off;
	f->body_lf = p->lf;
	if (p->header.truncated)
		part->flags |= MIME_PART_HEADER_TRUNCATED;
	p->header_left -= p->header.len;
	digest = part->parent != NULL &&
		 (part->parent->flags & MIME_PART_MULTIPART) &&
		 strcasecmp(part->parent->subtype, "digest") == 0;
	r = mime_fields_apply(&p->tree->arena, part,
			      p->header.p ? p->header.p : "", p->header.len,
			      digest);
	mime_buf_free(&p->header);
	if (r != MIME_OK || !blank)
		return r;

	if (part->flags & MIME_PART_MULTIPART) {
		b = mime_param_get(part->params, part->nparams, "boundary");
		if (b == NULL || *b == '\0' || strlen(b) > MIME_BOUNDARY_MAX) {
			part->flags |= MIME_PART_NO_BOUNDARY;
		} else if (p->depth > p->lim.max_depth || p->no_boundaries) {
			part->flags |= MIME_PART_OPAQUE;
		} else {
			f->kind = K_MULTI;
			f->boundary = b;
			f->blen = strlen(b);
		}
		return MIME_OK;
	}
	if (strcasecmp(part->type, "message") != 0 ||
	    (strcasecmp(part->subtype, "rfc822") != 0 &&
	     strcasecmp(part->subtype, "global") != 0))
		return MIME_OK;
	if (p->depth > p->lim.max_depth || parts_full(p)) {
		part->flags |= MIME_PART_OPAQUE;
		return MIME_OK;
	}
	f->kind = K_MESSAGE;
	part->flags |= MIME_PART_MESSAGE;
	return new_child(p, f, off);
}

/* Close the top part at end (its body ends there, but never before the
 * body or its last child began) with end_lf LF octets before end. */
static void
pop(struct mime_parser *p, uint64_t end, uint64_t end_lf)
{
	struct frame *f = top(p);
	struct mime_part *part = f->part;

	if (end <= part->body_offset) {
		end = part->body_offset;
		end_lf = f->body_lf;
	}
	if (f->last_child != NULL && end < f->child_end) {
		/* "--b" CRLF "--outer": the empty part after "--b" began
		 * after the CRLF the outer delimiter claims. */
		end = f->child_end;
		end_lf = f->child_end_lf;
	}
	part->body_size = end - part->body_offset;
	part->body_lines = end_lf - f->body_lf;
	if (f->kind == K_MULTI && !f->closed)
		part->flags |= MIME_PART_NO_END;
	p->depth--;
	if (p->depth > 0) {
		top(p)->child_end = end;
		top(p)->child_end_lf = end_lf;
	}
}

/* The frame whose boundary the current line (n octets, the first of
 * them in line[]) is a delimiter of, or -1; *close_r for "--b--". */
static int
delimiter(struct mime_parser *p, size_t n, int *close_r)
{
	size_t have = n < p->line_len ? n : p->line_len;
	int best = -1;

	if (p->no_boundaries || have < 3 || p->line[0] != '-' ||
	    p->line[1] != '-')
		return -1;
	for (int i = (int)p->depth - 1; i >= 0; i--) {
		struct frame *f = &p->stack[i];

		if (f->kind != K_MULTI || f->closed || f->blen > have - 2 ||
		    memcmp(p->line + 2, f->boundary, f->blen) != 0)
			continue;
		if (best < 0 || f->blen > p->stack[best].blen)
			best = i;
	}
	if (best >= 0) {
		size_t e = 2 + p->stack[best].blen;

		*close_r = have >= e + 2 && p->line[e] == '-' &&
			   p->line[e + 1] == '-';
	}
	return best;
}

/* A delimiter line of frame fi begins at line_off: the parts above fi
 * end at the line break before it. */
static int
at_delimiter(struct mime_parser *p, int fi, int close)
{
	int r;

	if (p->in_header) {
		p->header.len = p->header_line; /* not a header line */
		if ((r = header_done(p, p->line_off, 0)) != MIME_OK)
			return r;
	}
	while ((int)p->depth - 1 > fi)
		pop(p, p->eol_off, p->eol_lf);
	if (close)
		top(p)->closed = 1;
	return MIME_OK;
}

/* The line that began at line_off ends with the LF at lf_off (or at the
 * end of the message, has_lf 0). */
static int
line_done(struct mime_parser *p, uint64_t lf_off, int has_lf)
{
	uint64_t n = lf_off - p->line_off; /* octets before the LF */
	int cr = has_lf && n > 0 && p->prev == '\r';
	int fi, close = 0, r = MIME_OK, open = 0, blank = 0;

	fi = delimiter(p, (size_t)(n < LINE_KEEP ? n : LINE_KEEP), &close);
	if (fi >= 0 && (close || !parts_full(p))) {
		r = at_delimiter(p, fi, close);
		open = !close;
	} else if (p->in_header && has_lf && n == (uint64_t)cr) {
		blank = 1;
	}
	if (has_lf) {
		p->lf++;
		p->eol_off = lf_off - (uint64_t)cr;
		p->eol_lf = p->lf - 1;
	}
	if (r == MIME_OK && open)
		r = new_child(p, top(p), lf_off + (uint64_t)has_lf);
	else if (r == MIME_OK && blank)
		r = header_done(p, lf_off + 1, 1);
	p->line_off = lf_off + (uint64_t)has_lf;
	p->line_len = 0;
	p->header_line = p->header.len;
	return r;
}

static void
header_add(struct mime_parser *p, const char *s, size_t n)
{
	/* NULs become 0x80, as in Dovecot, so fields are C strings. */
	while (n > 0) {
		const char *z = memchr(s, '\0', n);
		size_t k = z != NULL ? (size_t)(z - s) : n;

		mime_buf_add(&p->header, s, k);
		if (z == NULL)
			break;
		mime_buf_addc(&p->header, (char)0x80);
		s += k + 1;
		n -= k + 1;
	}
	if (p->header.failed)
		p->failed = 1;
}

int
mime_parser_feed(struct mime_parser *p, const void *data, size_t len)
{
	const char *s = data;

	while (len > 0 && !p->failed) {
		const char *nl = memchr(s, '\n', len);
		size_t n = nl != NULL ? (size_t)(nl - s) : len;

		if (p->line_len < LINE_KEEP) {
			size_t k = LINE_KEEP - p->line_len;

			k = k < n ? k : n;
			memcpy(p->line + p->line_len, s, k);
			p->line_len += k;
		}
		if (p->in_header)
			header_add(p, s, nl != NULL ? n + 1 : n);
		if (n > 0)
			p->prev = s[n - 1];
		p->off += n;
		if (nl != NULL) {
			if (line_done(p, p->off, 1) != MIME_OK)
				p->failed = 1;
			p->prev = '\n';
			p->off++;
			n++;
		}
		s += n;
		len -= n;
	}
	return p->failed ? MIME_ENOMEM : MIME_OK;
}

struct mime_parser *
mime_parser_new(const struct mime_limits *limits)
{
	struct mime_parser *p;
	struct mime_limits d;

	mime_limits_default(&d);
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	if (limits != NULL) {
		if (limits->max_depth)
			d.max_depth = limits->max_depth;
		if (limits->max_parts)
			d.max_parts = limits->max_parts;
		if (limits->max_header)
			d.max_header = limits->max_header;
		if (limits->max_header_total)
			d.max_header_total = limits->max_header_total;
	}
	if (d.max_depth > MIME_DEPTH_MAX)
		d.max_depth = MIME_DEPTH_MAX;
	if (d.max_parts > MIME_PARTS_MAX)
		d.max_parts = MIME_PARTS_MAX;
	p->lim = d;
	p->header_left = d.max_header_total;
	if ((p->tree = mime_tree_new()) == NULL)
		goto fail;
	p->tree->root.envelope = mime_arena_alloc(&p->tree->arena,
						  sizeof(struct mime_envelope));
	if (p->tree->root.envelope == NULL)
		goto fail;
	push_part(p, &p->tree->root, 0);
	return p;
fail:
	mime_parser_free(p);
	return NULL;
}

struct mime_part *
mime_parser_finish(struct mime_parser *p)
{
	struct mime_part *root = NULL;

	if (!p->failed && p->off > p->line_off &&
	    line_done(p, p->off, 0) != MIME_OK)
		p->failed = 1;
	if (!p->failed && p->in_header &&
	    header_done(p, p->off, 0) != MIME_OK)
		p->failed = 1;
	if (!p->failed) {
		while (p->depth > 0)
			pop(p, p->off, p->lf);
		root = &p->tree->root;
		p->tree = NULL;
	}
	mime_parser_free(p);
	return root;
}

void
mime_parser_free(struct mime_parser *p)
{
	if (p == NULL)
		return;
	if (p->tree != NULL)
		mime_tree_free(&p->tree->root);
	mime_buf_free(&p->header);
	free(p);
}
