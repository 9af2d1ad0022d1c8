/* What SEARCH's header and body keys read (RFC 9051 6.4.4): the header
 * block's fields, RFC 2047-decoded and compared by substring under
 * i;unicode-casemap (RFC 5051 via libpsmime); the Date: field for SENT*;
 * and the text bodies, decoded from their transfer encoding and charset
 * to UTF-8 and searched as they stream by, a chunk at a time, so memory
 * does not grow with the message and a match may straddle two chunks. */
#define _GNU_SOURCE /* memmem */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mime.h"
#include "search.h"

#define ACC_SIZE (16 * 1024) /* UTF-8 folded and searched at a time */

int
search_fail(struct search_ctx *x, int r)
{
	if (r < 0 && !x->error)
		x->error = r;
	return r;
}

int64_t
search_day(int64_t t, int tz)
{
	int64_t l = t + (int64_t)tz * 60;

	return l >= 0 ? l / 86400 : -((-l + 86399) / 86400);
}

void
search_msg_clear(struct search_msg *sm)
{
	for (size_t i = 0; i < sm->nfields; i++)
		free(sm->fields[i].fold);
	free(sm->fields);
	free(sm->hdr);
	if (sm->tree)
		mime_tree_free(sm->tree);
	sm->fields = NULL;
	sm->nfields = 0;
	sm->hdr = NULL;
	sm->tree = NULL;
}

/* ---- Reading -------------------------------------------------------- */

/* The message's structure: the cached one, else parsed from the octets
 * (two reads of the message: one to parse, one to search). */
static int
tree_get(struct search_ctx *x, struct search_msg *sm)
{
	const struct ps_storage_ops *st = &imap_cfg.store;
	struct mime_parser *p;
	uint64_t off = 0;
	size_t got;
	int r;

	if (sm->tree)
		return 0;
	if (sm->m.cache_len) {
		r = mime_cache_read(sm->m.cache, sm->m.cache_len, &sm->tree);
		if (r == MIME_OK)
			return 0;
		if (r == MIME_ENOMEM)
			return search_fail(x, PS_ENOMEM);
	}
	if (!(p = mime_parser_new(NULL)))
		return search_fail(x, PS_ENOMEM);
	for (;;) {
		r = st->msg_read(x->mb, sm->m.uid, off, x->buf,
				 SEARCH_READ_CHUNK, &got, x->err);
		if (r < 0 || got == 0)
			break;
		if (mime_parser_feed(p, x->buf, got) != MIME_OK) {
			r = PS_ENOMEM;
			break;
		}
		off += got;
	}
	if (r < 0) {
		mime_parser_free(p);
		return search_fail(x, r);
	}
	if (!(sm->tree = mime_parser_finish(p)))
		return search_fail(x, PS_ENOMEM);
	return 0;
}

/* Where the header block in h[0..len) ends, after its empty line, for
 * line ends at from or later; 0 when it does not end in h. Lines end at
 * LF, so the empty line is LF or CR LF at the start or after an LF.
 * memchr finds the few LFs fast; a memmem for each form scanned all of
 * h twice, and was a fifth of SEARCH SUBJECT's time. */
static size_t
header_end(const char *h, size_t from, size_t len)
{
	const char *p;

	if (from == 0 && len >= 1 && h[0] == '\n')
		return 1;
	if (from == 0 && len >= 2 && h[0] == '\r' && h[1] == '\n')
		return 2;
	for (size_t i = from; i < len && (p = memchr(h + i, '\n', len - i));) {
		i = (size_t)(p - h) + 1;
		if (i < len && h[i] == '\n')
			return i + 1;
		if (i + 1 < len && h[i] == '\r' && h[i + 1] == '\n')
			return i + 2;
	}
	return 0;
}

/* A header block from offset: size octets when known (size_known), else
 * up to its empty line; at most SEARCH_HEADER_MAX either way. The buffer
 * grows as the header does: most are a few KiB. */
static int
header_read(struct search_ctx *x, uint32_t uid, uint64_t offset,
	    uint64_t size, int size_known, char **out_r, size_t *len_r)
{
	size_t len = 0, want = SEARCH_HEADER_MAX, cap, got, end = 0;
	char *h, *bigger;
	int r = 0;

	if (size_known && size < want)
		want = (size_t)size;
	cap = size_known || want < 2048 ? want : 2048;
	if (!(h = malloc(cap + 1)))
		return search_fail(x, PS_ENOMEM);
	while (len < want && !end) {
		size_t from = len > 2 ? len - 2 : 0;

		if (len == cap) {
			cap = cap * 4 < want ? cap * 4 : want;
			if (!(bigger = realloc(h, cap + 1))) {
				r = PS_ENOMEM;
				break;
			}
			h = bigger;
		}
		r = imap_cfg.store.msg_read(x->mb, uid, offset + len, h + len,
					    cap - len, &got, x->err);
		if (r < 0 || got == 0)
			break;
		len += got;
		if (!size_known && (end = header_end(h, from, len)))
			len = end;
	}
	if (r < 0) {
		free(h);
		return search_fail(x, r);
	}
	h[len] = '\0';
	*out_r = h;
	*len_r = len;
	return 0;
}

/* The header's fields, for the keys to look at. The header is read up
 * to its empty line: taking its size from the cached structure would
 * cost more (the blob's checksum and its whole tree, for one number)
 * than reading a little past it. */
int
search_header_load(struct search_ctx *x, struct search_msg *sm)
{
	struct mime_header_iter it;
	struct mime_field f;
	size_t n = 0;
	int r;

	r = header_read(x, sm->m.uid, 0, 0, 0, &sm->hdr, &sm->hdr_len);
	if (r < 0)
		return r;
	mime_header_init(&it, sm->hdr, sm->hdr_len, SEARCH_FIELDS_MAX);
	while (mime_header_next(&it, &f))
		n++;
	if (n && !(sm->fields = calloc(n, sizeof(*sm->fields))))
		return search_fail(x, PS_ENOMEM);
	mime_header_init(&it, sm->hdr, sm->hdr_len, SEARCH_FIELDS_MAX);
	while (sm->nfields < n && mime_header_next(&it, &f))
		sm->fields[sm->nfields++] = (struct search_field){
			.name = f.name, .name_len = f.name_len,
			.value = f.value, .value_len = f.value_len};
	return 0;
}

/* ---- Header keys ------------------------------------------------------ */

/* Decode and fold f once: "name: value", RFC 2047 words decoded (which
 * also unfolds the value). */
static int
field_fold(struct search_ctx *x, struct search_field *f)
{
	char *dec;
	size_t dlen;

	if (f->fold)
		return 0;
	if (mime_rfc2047_decode(f->value, f->value_len, &dec, &dlen) !=
	    MIME_OK)
		return search_fail(x, PS_ENOMEM);
	f->fold = malloc(MIME_CASEFOLD_MAX(f->name_len) + 2 +
			 MIME_CASEFOLD_MAX(dlen) + 1);
	if (!f->fold) {
		free(dec);
		return search_fail(x, PS_ENOMEM);
	}
	f->fold_len = mime_casefold_utf8(f->name, f->name_len, f->fold);
	memcpy(f->fold + f->fold_len, ": ", 2);
	f->value_off = f->fold_len + 2;
	f->fold_len = f->value_off +
		      mime_casefold_utf8(dec, dlen, f->fold + f->value_off);
	free(dec);
	return 0;
}

static int
has(const char *hay, size_t hlen, const char *needle, size_t nlen)
{
	return nlen == 0 || (hlen >= nlen && memmem(hay, hlen, needle, nlen));
}

/* RFC 9051 6.4.4 HEADER: a field of that name holding the string in its
 * value (any such field, when the string is empty). FROM, TO, CC, BCC
 * and SUBJECT come here too, matched against the decoded text. */
int
search_header_match(struct search_ctx *x, struct search_msg *sm,
		    const struct imap_search_key *k)
{
	const struct search_key *ks = k->priv;
	size_t flen = strlen(k->field);

	for (size_t i = 0; i < sm->nfields; i++) {
		struct search_field *f = &sm->fields[i];

		if (f->name_len != flen ||
		    strncasecmp(f->name, k->field, flen) != 0)
			continue;
		if (field_fold(x, f) < 0)
			return SEARCH_FALSE;
		if (has(f->fold + f->value_off, f->fold_len - f->value_off,
			ks->needle, ks->nlen))
			return SEARCH_TRUE;
	}
	return SEARCH_FALSE;
}

int
search_text_header(struct search_ctx *x, struct search_msg *sm,
		   const struct search_key *ks)
{
	if (ks->nlen == 0)
		return SEARCH_TRUE;
	for (size_t i = 0; i < sm->nfields; i++) {
		if (field_fold(x, &sm->fields[i]) < 0)
			return SEARCH_FALSE;
		if (has(sm->fields[i].fold, sm->fields[i].fold_len,
			ks->needle, ks->nlen))
			return SEARCH_TRUE;
	}
	return SEARCH_FALSE;
}

int64_t
search_sent_day(struct search_msg *sm)
{
	int64_t t;
	int tz;

	if (sm->have_sent)
		return sm->sent_day;
	sm->have_sent = 1;
	sm->sent_day = search_day(sm->m.internal_date, sm->m.internal_tz);
	for (size_t i = 0; i < sm->nfields; i++)
		if (sm->fields[i].name_len == 4 &&
		    strncasecmp(sm->fields[i].name, "Date", 4) == 0) {
			if (mime_date_parse(sm->fields[i].value,
					    sm->fields[i].value_len, &t,
					    &tz) == MIME_OK)
				sm->sent_day = search_day(t, tz);
			break;
		}
	return sm->sent_day;
}

/* ---- Bodies ------------------------------------------------------------ */

/* One pass over the bodies: octets -> transfer decoding -> UTF-8 ->
 * ACC_SIZE pieces folded -> each BODY and TEXT key not found yet. */
struct scan {
	struct search_ctx *x;
	struct mime_charset_conv *conv;
	char acc[ACC_SIZE];
	size_t alen;
	char fold[MIME_CASEFOLD_MAX(ACC_SIZE)];
	size_t left;          /* keys not found yet */
};

/* Search s[0..n) and what came before it (the tail) for ks. */
static void
key_feed(struct search_key *ks, const char *s, size_t n)
{
	size_t keep = ks->nlen - 1, head;

	if (ks->tlen) {
		/* A match across the cut: the tail and the start of s. */
		head = n < keep ? n : keep;
		memcpy(ks->tail + ks->tlen, s, head);
		if (memmem(ks->tail, ks->tlen + head, ks->needle, ks->nlen)) {
			ks->hit = 1;
			return;
		}
	}
	if (n >= ks->nlen && memmem(s, n, ks->needle, ks->nlen)) {
		ks->hit = 1;
		return;
	}
	if (n >= keep) {
		memcpy(ks->tail, s + n - keep, keep);
		ks->tlen = keep;
	} else {
		/* The tail and s together, their last keep octets. */
		size_t total = ks->tlen + n, drop = total > keep
							  ? total - keep : 0;

		memmove(ks->tail, ks->tail + drop, ks->tlen - drop);
		memcpy(ks->tail + ks->tlen - drop, s, n);
		ks->tlen = total - drop;
	}
}

static void
scan_flush(struct scan *sc)
{
	size_t n;

	if (!sc->alen)
		return;
	n = mime_casefold_utf8(sc->acc, sc->alen, sc->fold);
	sc->alen = 0;
	for (size_t i = 0; i < sc->x->nbody; i++) {
		struct search_key *ks = sc->x->body[i];

		if (ks->hit)
			continue;
		key_feed(ks, sc->fold, n);
		if (ks->hit)
			sc->left--;
	}
}

/* The end of a text: no match straddles two of them. */
static void
scan_break(struct scan *sc)
{
	scan_flush(sc);
	for (size_t i = 0; i < sc->x->nbody; i++)
		sc->x->body[i]->tlen = 0;
}

/* UTF-8 in whole characters; pieces are cut between characters. */
static void
utf8_emit(void *arg, const char *data, size_t len)
{
	struct scan *sc = arg;

	while (len > 0 && sc->left) {
		size_t room = ACC_SIZE - sc->alen, take = room;

		if (len <= room) {
			memcpy(sc->acc + sc->alen, data, len);
			sc->alen += len;
			return;
		}
		while (take > 0 && ((unsigned char)data[take] & 0xc0) == 0x80)
			take--;
		memcpy(sc->acc + sc->alen, data, take);
		sc->alen += take;
		data += take;
		len -= take;
		scan_flush(sc);
	}
}

static void
decoded_emit(void *arg, const char *data, size_t len)
{
	struct scan *sc = arg;

	if (sc->left)
		mime_charset_conv_feed(sc->conv, data, len, utf8_emit, sc);
}

/* A leaf's body from the store, decoded (RFC 2045 6) and converted from
 * its charset (RFC 2046 4.1.2; an unknown one is read as UTF-8). */
static int
scan_body(struct scan *sc, uint32_t uid, const struct mime_part *p)
{
	struct search_ctx *x = sc->x;
	const char *cs = mime_part_charset(p);
	struct mime_decoder dec;
	uint64_t off = p->body_offset, end = p->body_offset + p->body_size;
	size_t got;
	int r = 0;

	if (!cs || mime_charset_conv_new(cs, &sc->conv) != MIME_OK) {
		if (mime_charset_conv_new("utf-8", &sc->conv) != MIME_OK)
			return search_fail(x, PS_ENOMEM);
	}
	mime_decoder_init(&dec, p->cte);
	while (off < end && sc->left) {
		size_t n = end - off < SEARCH_READ_CHUNK ? (size_t)(end - off)
							 : SEARCH_READ_CHUNK;

		r = imap_cfg.store.msg_read(x->mb, uid, off, x->buf, n, &got,
					    x->err);
		if (r < 0 || got == 0)
			break;
		mime_decoder_feed(&dec, x->buf, got, decoded_emit, sc);
		off += got;
	}
	if (r == 0 && sc->left) {
		mime_decoder_finish(&dec, decoded_emit, sc);
		mime_charset_conv_finish(sc->conv, utf8_emit, sc);
	}
	mime_charset_conv_free(sc->conv);
	sc->conv = NULL;
	scan_break(sc);
	return r < 0 ? search_fail(x, r) : 0;
}

/* An encapsulated message's header (RFC 2046 5.2.1) is body text of the
 * message holding it: searched decoded, a field a line. */
static int
scan_header(struct scan *sc, uint32_t uid, const struct mime_part *p)
{
	struct mime_header_iter it;
	struct mime_field f;
	char *h, *dec;
	size_t len, dlen;

	if (header_read(sc->x, uid, p->header_offset, p->header_size, 1, &h,
			&len) < 0)
		return -1;
	mime_header_init(&it, h, len, SEARCH_FIELDS_MAX);
	while (sc->left && mime_header_next(&it, &f)) {
		if (mime_rfc2047_decode(f.value, f.value_len, &dec, &dlen) !=
		    MIME_OK) {
			free(h);
			return search_fail(sc->x, PS_ENOMEM);
		}
		utf8_emit(sc, f.name, f.name_len);
		utf8_emit(sc, ": ", 2);
		utf8_emit(sc, dec, dlen);
		utf8_emit(sc, "\n", 1);
		free(dec);
	}
	free(h);
	scan_break(sc);
	return 0;
}

/* The text of a part: each text leaf, each encapsulated message's header
 * and text; other leaves (images, archives...) are not text. A multipart
 * or message left unsplit (limits, no boundary) is searched as it is, and
 * so is an encoded message (RFC 2046 5.2.1 forbids it; the tree holds
 * its encoded text as a message), decoded. */
static int
scan_part(struct scan *sc, uint32_t uid, const struct mime_part *p)
{
	int encoded = p->cte == MIME_CTE_BASE64 || p->cte == MIME_CTE_QP;
	int r = 0;

	if (!sc->left)
		return 0;
	if ((p->flags & (MIME_PART_MULTIPART | MIME_PART_MESSAGE)) &&
	    p->children && !((p->flags & MIME_PART_MESSAGE) && encoded)) {
		for (const struct mime_part *c = p->children; c && r == 0;
		     c = c->next) {
			if ((p->flags & MIME_PART_MESSAGE) &&
			    (r = scan_header(sc, uid, c)) < 0)
				break;
			r = scan_part(sc, uid, c);
		}
		return r;
	}
	if ((p->flags & (MIME_PART_MULTIPART | MIME_PART_MESSAGE)) ||
	    (p->type && strcasecmp(p->type, "text") == 0))
		return scan_body(sc, uid, p);
	return 0;
}

/* Decide every BODY and TEXT key for the message (TEXT's header part was
 * looked at already: search_text_header). */
int
search_body_scan(struct search_ctx *x, struct search_msg *sm)
{
	struct scan *sc;
	int r;

	for (size_t i = 0; i < x->nbody; i++) {
		struct search_key *ks = x->body[i];

		/* TEXT found in the header needs no body read. */
		ks->hit = ks->nlen == 0 ||
			  (ks->text && ks->gen == sm->gen && ks->value);
		ks->tlen = 0;
	}
	if (tree_get(x, sm) < 0)
		return -1;
	if (!(sc = calloc(1, sizeof(*sc))))
		return search_fail(x, PS_ENOMEM);
	sc->x = x;
	for (size_t i = 0; i < x->nbody; i++)
		if (!x->body[i]->hit)
			sc->left++;
	r = scan_part(sc, sm->m.uid, sm->tree);
	free(sc);
	return r;
}
