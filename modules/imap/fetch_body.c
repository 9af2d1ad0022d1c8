/* FETCH body sections (RFC 9051 6.4.5 BODY[<section>]<<partial>>, RFC
 * 3516 BINARY[], BINARY.SIZE[]): the section found in the MIME tree (part
 * numbers as mime_part_section() counts them; HEADER and TEXT of a part
 * only when it is a message/rfc822), cut to the partial range, and sent
 * as a literal streamed from the store FETCH_CHUNK octets at a time, so a
 * 50 MB body costs no more memory than a small one. A part that does not
 * exist is an empty string, as Dovecot answers. HEADER.FIELDS[.NOT] keep
 * the fields as written (folds included) and end with the empty line. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fetch.h"
#include "quote.h"

enum where {
	W_EMPTY,  /* no such part */
	W_RANGE,  /* octets of the message */
	W_FIELDS, /* a header block to filter */
};

struct place {
	enum where w;
	uint64_t off, len;
	const struct mime_part *part; /* the part a BINARY decodes */
};

static void
range(struct place *p, enum where w, uint64_t off, uint64_t len)
{
	p->w = w;
	p->off = off;
	p->len = len;
}

static void
locate(const struct fetch *f, const struct imap_section *sec,
       struct place *p)
{
	const struct mime_part *x = f->tree, *msg;

	*p = (struct place){.w = W_EMPTY};
	if (sec->nparts == 0 && sec->text == IMAP_SECTION_ALL) {
		range(p, W_RANGE, 0, f->cur->m.size);
		return;
	}
	if (!x)
		return;
	if (sec->nparts) {
		x = mime_part_section(f->tree, sec->part, sec->nparts);
		if (!x)
			return;
	}
	if (sec->text == IMAP_SECTION_ALL) {
		range(p, W_RANGE, x->body_offset, x->body_size);
		p->part = x;
		return;
	}
	if (sec->text == IMAP_SECTION_MIME) {
		range(p, W_RANGE, x->header_offset, x->header_size);
		return;
	}
	/* HEADER, TEXT: of the message, or of the message a part holds. */
	msg = x;
	if (sec->nparts) {
		if (!(x->flags & MIME_PART_MESSAGE) || !x->children)
			return;
		msg = x->children;
	}
	if (sec->text == IMAP_SECTION_TEXT)
		range(p, W_RANGE, msg->body_offset, msg->body_size);
	else
		range(p, sec->text == IMAP_SECTION_HEADER ? W_RANGE : W_FIELDS,
		      msg->header_offset, msg->header_size);
}

/* <start.length>: what is left of [off, off + len). */
static void
clip(const struct imap_section *sec, uint64_t *off, uint64_t *len)
{
	if (!sec->partial)
		return;
	if (sec->start >= *len) {
		*off += *len;
		*len = 0;
		return;
	}
	*off += sec->start;
	*len -= sec->start;
	if (*len > sec->length)
		*len = sec->length;
}

/* " LABEL<origin> " */
static void
label(struct fetch *f, const struct fetch_section *fs, struct imap_buf *out)
{
	if (f->nitems_out++)
		imap_buf_addc(out, ' ');
	imap_buf_adds(out, fs->label);
	if (fs->sec.partial) {
		imap_buf_addc(out, '<');
		imap_buf_addu64(out, fs->sec.start);
		imap_buf_addc(out, '>');
	}
	imap_buf_addc(out, ' ');
}

static void
literal_head(struct imap_buf *out, uint64_t len, int binary)
{
	imap_buf_adds(out, binary ? "~{" : "{");
	imap_buf_addu64(out, len);
	imap_buf_adds(out, "}\r\n");
}

/* CHAR8 excludes NUL: a BODY section sends 0x80 instead, as Dovecot
 * does (BINARY sends the octets as they are, in a literal8). */
static void
nul_to_high(char *p, size_t len)
{
	for (char *z = p; (z = memchr(z, '\0', len - (size_t)(z - p)));)
		*z = (char)0x80;
}

/* ---- HEADER.FIELDS and HEADER.FIELDS.NOT ------------------------------- */

static int
read_all(struct ps_mbox *mb, uint32_t uid, uint64_t off, char *buf,
	 size_t len, size_t *got_r, struct ps_error *err)
{
	size_t got;
	int r;

	*got_r = 0;
	while (*got_r < len) {
		r = imap_cfg.store.msg_read(mb, uid, off + *got_r,
					    buf + *got_r, len - *got_r, &got,
					    err);
		if (r < 0)
			return r;
		if (got == 0)
			break;
		*got_r += got;
	}
	return 0;
}

static int
listed(const struct fetch_section *fs, const struct mime_field *fl)
{
	for (size_t i = 0; i < fs->sec.nfields; i++)
		if (strncasecmp(fs->names[i], fl->name, fl->name_len) == 0 &&
		    fs->names[i][fl->name_len] == '\0')
			return 1;
	return 0;
}

/* The fields kept, each with its line breaks, then the empty line. */
static int
fields(struct fetch *f, struct ps_mbox *mb, const struct fetch_section *fs,
       const struct place *p, struct imap_buf *res, struct ps_error *err)
{
	size_t len = p->len < FETCH_HEADER_MAX ? (size_t)p->len
					       : FETCH_HEADER_MAX;
	int keep_listed = fs->sec.text == IMAP_SECTION_HEADER_FIELDS;
	struct mime_header_iter it;
	struct mime_field fl;
	char *h = malloc(len ? len : 1);
	size_t got;
	int r;

	if (!h)
		return PS_ENOMEM;
	r = read_all(mb, f->cur->m.uid, p->off, h, len, &got, err);
	if (r == 0) {
		mime_header_init(&it, h, got, 0);
		while (mime_header_next(&it, &fl)) {
			/* A field starts where its name does: lines the
			 * iterator skipped before it are no field. */
			size_t start = (size_t)(fl.name - h);

			if (listed(fs, &fl) == keep_listed)
				imap_buf_add(res, h + start, it.pos - start);
		}
		imap_buf_add(res, "\r\n", 2);
		if (res->error)
			r = PS_ENOMEM;
		else
			nul_to_high(res->data, res->len);
	}
	free(h);
	return r;
}

/* ---- BINARY -------------------------------------------------------------- */

struct count {
	uint64_t n;
	int nul;
};

static void
count_emit(void *arg, const char *data, size_t len)
{
	struct count *c = arg;

	c->n += len;
	if (!c->nul && memchr(data, '\0', len))
		c->nul = 1;
}

/* Decode [off, off + len) of the message once, counting. */
static int
decoded_size(struct fetch *f, struct ps_mbox *mb, enum mime_cte cte,
	     uint64_t off, uint64_t len, struct count *c,
	     struct ps_error *err)
{
	struct mime_decoder *d = malloc(sizeof(*d));
	size_t got;
	int r = 0;

	if (!d)
		return PS_ENOMEM;
	*c = (struct count){0};
	mime_decoder_init(d, cte);
	while (len > 0) {
		size_t n = len < FETCH_CHUNK ? (size_t)len : FETCH_CHUNK;

		r = imap_cfg.store.msg_read(mb, f->cur->m.uid, off, f->chunk,
					    n, &got, err);
		if (r < 0)
			break;
		if (got == 0) {
			r = PS_EIO;
			break;
		}
		mime_decoder_feed(d, f->chunk, got, count_emit, c);
		off += got;
		len -= got;
	}
	mime_decoder_finish(d, count_emit, c);
	free(d);
	return r;
}

/* RFC 3516 4.2: BINARY[] is the message as it is; BINARY[part] of a
 * leaf part its body decoded; of a multipart or message part its body,
 * whose encoding RFC 2045 6.4 keeps to identity (RFC 2046 5.2.1), unless
 * a message comes base64 or quoted-printable all the same: decoded. */
static int
binary_start(struct fetch *f, struct ps_mbox *mb,
	     const struct fetch_section *fs, const struct place *p,
	     struct imap_buf *out, struct ps_error *err)
{
	const struct imap_section *sec = &fs->sec;
	enum mime_cte cte = MIME_CTE_BINARY;
	uint64_t skip = 0, len;
	struct count c = {0};
	int r;

	if (p->part && !(p->part->flags & MIME_PART_MULTIPART) &&
	    (!(p->part->flags & MIME_PART_MESSAGE) ||
	     p->part->cte == MIME_CTE_BASE64 || p->part->cte == MIME_CTE_QP))
		cte = p->part->cte;
	if (cte == MIME_CTE_UNKNOWN) {
		f->unknown_cte = 1;
		return 1;
	}
	if (p->w == W_RANGE) {
		r = decoded_size(f, mb, cte, p->off, p->len, &c, err);
		if (r < 0)
			return r;
	}
	label(f, fs, out);
	if (sec->att == IMAP_BINARY_SIZE) {
		imap_buf_addu64(out, c.n);
		return 0;
	}
	len = c.n;
	clip(sec, &skip, &len);
	literal_head(out, len, c.nul);
	if (len == 0)
		return 0;
	f->st = (struct fetch_stream){
		.active = 1, .decode = 1, .off = p->off, .left = p->len,
		.skip = skip, .out_left = len,
	};
	mime_decoder_init(&f->st.dec, cte);
	return 0;
}

/* ---- Starting and streaming ------------------------------------------- */

int
fetch_section_start(struct fetch *f, struct ps_mbox *mb,
		    const struct fetch_section *fs, struct imap_buf *out,
		    struct ps_error *err)
{
	struct place p;
	struct imap_buf res;
	uint64_t off, len;
	int r;

	locate(f, &fs->sec, &p);
	if (fs->sec.att >= IMAP_BINARY)
		return binary_start(f, mb, fs, &p, out, err);
	if (p.w == W_FIELDS) {
		imap_buf_init(&res, (size_t)-1);
		r = fields(f, mb, fs, &p, &res, err);
		if (r == 0) {
			off = 0;
			len = res.len;
			clip(&fs->sec, &off, &len);
			label(f, fs, out);
			literal_head(out, len, 0);
			imap_buf_add(out, res.data + off, (size_t)len);
		}
		imap_buf_free(&res);
		return r;
	}
	off = p.off;
	len = p.w == W_RANGE ? p.len : 0;
	clip(&fs->sec, &off, &len);
	label(f, fs, out);
	literal_head(out, len, 0);
	if (len)
		f->st = (struct fetch_stream){
			.active = 1, .off = off, .left = len,
			.nul_to_high = 1,
		};
	return 0;
}

/* The decoder's output: the first skip octets dropped, then out_left
 * octets kept. */
static void
stream_emit(void *arg, const char *data, size_t len)
{
	struct fetch_stream *st = arg;

	if (st->skip) {
		size_t k = st->skip < len ? (size_t)st->skip : len;

		st->skip -= k;
		data += k;
		len -= k;
	}
	if (len > st->out_left)
		len = (size_t)st->out_left;
	if (len) {
		imap_buf_add(st->out, data, len);
		st->out_left -= len;
	}
}

int
fetch_stream_more(struct fetch *f, struct ps_mbox *mb, struct imap_buf *out,
		  struct ps_error *err)
{
	struct fetch_stream *st = &f->st;
	size_t n = st->left < FETCH_CHUNK ? (size_t)st->left : FETCH_CHUNK;
	size_t got = 0;
	int r = 0;

	if (n)
		r = imap_cfg.store.msg_read(mb, f->cur->m.uid, st->off,
					    f->chunk, n, &got, err);
	if (r < 0)
		return r;
	st->off += got;
	st->left -= got;
	if (!st->decode) {
		if (got == 0)
			return PS_EIO; /* shorter than the tree said */
		if (st->nul_to_high)
			nul_to_high(f->chunk, got);
		imap_buf_add(out, f->chunk, got);
		st->active = st->left > 0;
		return 0;
	}
	st->out = out;
	mime_decoder_feed(&st->dec, f->chunk, got, stream_emit, st);
	if (got == 0 || st->left == 0)
		mime_decoder_finish(&st->dec, stream_emit, st);
	if (st->out_left == 0) {
		st->active = 0;
		return 0;
	}
	if (got == 0 || st->left == 0)
		return PS_EIO; /* the decoder gave less than it counted */
	return 0;
}
