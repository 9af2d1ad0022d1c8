/* poshtactl migrate's record stream: the writer and the strict reader
 * (the format is in ctl_migrate.h). The reader holds one record at a
 * time (at most CTL_MREC_MAX bytes) and checks every field and the
 * order of the records, so that the target never acts on a stream it
 * does not fully understand. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include "ctl_migrate.h"

/* What may come next. */
enum {
	ST_HELLO,  /* the stream's start */
	ST_TOP,    /* a user or the end */
	ST_USER,   /* a mailbox or the user's end */
	ST_MBOX,   /* a message, a mailbox or the user's end */
	ST_MSG,    /* data or the message's end */
	ST_DONE,   /* nothing */
	ST_BROKEN, /* a read failed: so do all after it */
};

/* ---- Writing ----------------------------------------------------------- */

static unsigned char *
put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
	return p + 4;
}

static unsigned char *
put64(unsigned char *p, uint64_t v)
{
	return put32(put32(p, (uint32_t)(v >> 32)), (uint32_t)v);
}

static int
put_record(FILE *f, enum ctl_mrec_type type, const void *a, size_t alen,
	   const void *b, size_t blen)
{
	unsigned char hdr[5];

	hdr[0] = (unsigned char)type;
	put32(hdr + 1, (uint32_t)(alen + blen));
	if (fwrite(hdr, 1, 5, f) != 5 || (alen && fwrite(a, 1, alen, f) !=
					  alen) ||
	    (blen && fwrite(b, 1, blen, f) != blen))
		return -1;
	return 0;
}

int
ctl_mrec_put_hello(FILE *f)
{
	unsigned char p[sizeof(CTL_MREC_MAGIC) - 1 + 4];

	memcpy(p, CTL_MREC_MAGIC, sizeof(CTL_MREC_MAGIC) - 1);
	put32(p + sizeof(CTL_MREC_MAGIC) - 1, CTL_MREC_VERSION);
	return put_record(f, CTL_MREC_HELLO, p, sizeof(p), NULL, 0);
}

int
ctl_mrec_put_user(FILE *f, const char *name)
{
	return put_record(f, CTL_MREC_USER, name, strlen(name), NULL, 0);
}

int
ctl_mrec_put_mailbox(FILE *f, const char *name, unsigned attrs,
		     uint32_t uidvalidity, uint32_t uidnext, uint32_t messages)
{
	unsigned char p[16];

	put32(put32(put32(put32(p, attrs & CTL_MREC_ATTRS), uidvalidity),
		    uidnext), messages);
	return put_record(f, CTL_MREC_MAILBOX, p, sizeof(p), name,
			  strlen(name));
}

int
ctl_mrec_put_msg(FILE *f, const struct ps_msg *m)
{
	unsigned char p[30 + CTL_MREC_KEYWORDS_MAX *
			(CTL_MREC_KEYWORD_LEN + 1)], *o;
	size_t n = m->nkeywords;

	if (n > CTL_MREC_KEYWORDS_MAX) {
		errno = E2BIG;
		return -1;
	}
	o = put32(p, m->uid);
	o = put32(o, m->flags & PS_FLAGS_STORED);
	o = put64(o, (uint64_t)m->internal_date);
	o = put32(o, (uint32_t)m->internal_tz);
	o = put64(o, m->size);
	*o++ = (unsigned char)(n >> 8);
	*o++ = (unsigned char)n;
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(m->keywords[i]);

		if (len == 0 || len > CTL_MREC_KEYWORD_LEN) {
			errno = E2BIG;
			return -1;
		}
		*o++ = (unsigned char)len;
		memcpy(o, m->keywords[i], len);
		o += len;
	}
	return put_record(f, CTL_MREC_MSG, p, (size_t)(o - p), NULL, 0);
}

int
ctl_mrec_put_skipped(FILE *f, uint32_t uid)
{
	unsigned char p[4];

	put32(p, uid);
	return put_record(f, CTL_MREC_SKIPPED, p, sizeof(p), NULL, 0);
}

int
ctl_mrec_put_data(FILE *f, const void *data, size_t len)
{
	return put_record(f, CTL_MREC_DATA, data, len, NULL, 0);
}

int
ctl_mrec_put_empty(FILE *f, enum ctl_mrec_type type)
{
	return put_record(f, type, NULL, 0, NULL, 0);
}

/* ---- Reading ----------------------------------------------------------- */

void
ctl_mrec_reader_init(struct ctl_mrec_reader *r, ctl_mrec_read_fn read,
		     void *src)
{
	r->read = read;
	r->src = src;
	r->state = ST_HELLO;
	r->holds = 0;
	r->uidnext = r->last_uid = 0;
	r->left = r->offset = 0;
	r->err[0] = '\0';
}

static int
bad(struct ctl_mrec_reader *r, const char *fmt, ...) PS_PRINTF(2, 3);

static int
bad(struct ctl_mrec_reader *r, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(r->err, sizeof(r->err), "migration stream, byte %llu: ",
		     (unsigned long long)r->offset);
	va_start(ap, fmt);
	vsnprintf(r->err + n, sizeof(r->err) - (size_t)n, fmt, ap);
	va_end(ap);
	r->state = ST_BROKEN;
	return -1;
}

static uint32_t
get32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static uint64_t
get64(const unsigned char *p)
{
	return (uint64_t)get32(p) << 32 | get32(p + 4);
}

/* Exactly len bytes into buf: 1, 0 at the end before any, -1 when the
 * stream ends inside them or read fails. */
static int
read_full(struct ctl_mrec_reader *r, void *buf, size_t len)
{
	unsigned char *p = buf;
	size_t got = 0;

	while (got < len) {
		ssize_t n = r->read(r->src, p + got, len - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return bad(r, "read: %s", strerror(errno));
		if (n == 0)
			return got ? bad(r, "the stream ended inside a "
					 "record") : 0;
		got += (size_t)n;
	}
	return 1;
}

/* A name: 1..max bytes; no NUL (or no control character at all). */
static int
get_name(struct ctl_mrec_reader *r, const unsigned char *p, size_t len,
	 size_t max, int no_ctl, char *out)
{
	if (len == 0 || len > max)
		return bad(r, "a name of %zu bytes (1 to %zu)", len, max);
	for (size_t i = 0; i < len; i++)
		if (p[i] == 0 || (no_ctl && (p[i] < 0x20 || p[i] == 0x7f)))
			return bad(r, "a control character in a name");
	memcpy(out, p, len);
	out[len] = '\0';
	return 0;
}

static int
get_hello(struct ctl_mrec_reader *r, size_t len)
{
	size_t m = sizeof(CTL_MREC_MAGIC) - 1;
	uint32_t v;

	if (len != m + 4 || memcmp(r->buf, CTL_MREC_MAGIC, m) != 0)
		return bad(r, "not a poshta migration stream");
	v = get32(r->buf + m);
	if (v != CTL_MREC_VERSION)
		return bad(r, "version %u, this poshtactl reads version %d", v,
			   CTL_MREC_VERSION);
	return 0;
}

static int
get_mailbox(struct ctl_mrec_reader *r, size_t len, struct ctl_mrec *rec)
{
	if (len < 16)
		return bad(r, "a mailbox record of %zu bytes", len);
	rec->attrs = get32(r->buf);
	rec->uidvalidity = get32(r->buf + 4);
	rec->uidnext = get32(r->buf + 8);
	rec->messages = get32(r->buf + 12);
	if (rec->attrs & ~(unsigned)CTL_MREC_ATTRS)
		return bad(r, "unknown mailbox attributes 0x%x",
			   rec->attrs & ~(unsigned)CTL_MREC_ATTRS);
	if (get_name(r, r->buf + 16, len - 16, CTL_MREC_NAME_MAX, 0,
		     rec->name) < 0)
		return -1;
	r->holds = !(rec->attrs & (PS_MBOX_NOSELECT | PS_MBOX_NONEXISTENT));
	/* RFC 3501 2.3.1.1: UIDVALIDITY and UIDs are non-zero. */
	if (r->holds && (!rec->uidvalidity || !rec->uidnext))
		return bad(r, "mailbox \"%s\" without UIDVALIDITY or UIDNEXT",
			   rec->name);
	r->uidnext = rec->uidnext;
	r->last_uid = 0;
	return 0;
}

/* A message's UID: ascending in its mailbox, below its UIDNEXT. */
static int
get_uid(struct ctl_mrec_reader *r, uint32_t uid)
{
	if (uid == 0 || uid <= r->last_uid || uid >= r->uidnext)
		return bad(r, "message UID %u out of order (after %u, below "
			   "UIDNEXT %u)", uid, r->last_uid, r->uidnext);
	r->last_uid = uid;
	return 0;
}

static int
get_keywords(struct ctl_mrec_reader *r, const unsigned char *p, size_t len,
	     struct ctl_mrec *rec)
{
	char *o = r->kw;

	for (size_t i = 0; i < rec->nkeywords; i++) {
		size_t n;

		if (len < 1 || (n = *p) == 0 || len - 1 < n)
			return bad(r, "a keyword cut short or empty");
		/* RFC 3501 9: an atom has no controls or spaces. */
		for (size_t k = 1; k <= n; k++)
			if (p[k] <= 0x20 || p[k] == 0x7f)
				return bad(r, "a keyword with a control "
					   "character or space");
		memcpy(o, p + 1, n);
		o[n] = '\0';
		rec->keywords[i] = o;
		o += n + 1;
		p += n + 1;
		len -= n + 1;
	}
	return len ? bad(r, "%zu bytes after a message's keywords", len) : 0;
}

static int
get_msg(struct ctl_mrec_reader *r, size_t len, struct ctl_mrec *rec)
{
	const unsigned char *p = r->buf;

	if (len < 30)
		return bad(r, "a message record of %zu bytes", len);
	rec->uid = get32(p);
	rec->flags = get32(p + 4);
	rec->date = (int64_t)get64(p + 8);
	rec->tz = (int32_t)get32(p + 16);
	rec->size = get64(p + 20);
	rec->nkeywords = (size_t)p[28] << 8 | p[29];
	if (get_uid(r, rec->uid) < 0)
		return -1;
	if (rec->flags & ~PS_FLAGS_STORED)
		return bad(r, "unknown flags 0x%x", rec->flags);
	/* RFC 3501 9, zone: +/-HHMM. */
	if (rec->tz <= -24 * 60 || rec->tz >= 24 * 60)
		return bad(r, "time zone %d minutes", rec->tz);
	if (rec->nkeywords > CTL_MREC_KEYWORDS_MAX)
		return bad(r, "%zu keywords (at most %d)", rec->nkeywords,
			   CTL_MREC_KEYWORDS_MAX);
	r->left = rec->size;
	return get_keywords(r, p + 30, len - 30, rec);
}

/* The record of type t with a payload of len bytes in r->buf, where the
 * state allows it. */
static int
get_record(struct ctl_mrec_reader *r, int t, size_t len, struct ctl_mrec *rec)
{
	int s = r->state;

	rec->type = (enum ctl_mrec_type)t;
	if (t != CTL_MREC_HELLO && s == ST_HELLO)
		return bad(r, "not a poshta migration stream");
	switch (t) {
	case CTL_MREC_HELLO:
		if (s != ST_HELLO)
			break;
		r->state = ST_TOP;
		return get_hello(r, len);
	case CTL_MREC_USER:
		if (s != ST_TOP)
			break;
		r->state = ST_USER;
		return get_name(r, r->buf, len, PS_AUTH_NAME_MAX, 1,
				rec->name);
	case CTL_MREC_MAILBOX:
		if (s != ST_USER && s != ST_MBOX)
			break;
		r->state = ST_MBOX;
		return get_mailbox(r, len, rec);
	case CTL_MREC_MSG:
		if (s != ST_MBOX || !r->holds)
			break;
		r->state = ST_MSG;
		return get_msg(r, len, rec);
	case CTL_MREC_SKIPPED:
		if (s != ST_MBOX || !r->holds || len != 4)
			break;
		rec->uid = get32(r->buf);
		return get_uid(r, rec->uid);
	case CTL_MREC_DATA:
		if (s != ST_MSG)
			break;
		if (len == 0 || len > r->left)
			return bad(r, "%zu bytes of data, %llu left of the "
				   "message", len,
				   (unsigned long long)r->left);
		r->left -= len;
		rec->data = r->buf;
		rec->len = len;
		return 0;
	case CTL_MREC_MSG_END:
		if (s != ST_MSG || len)
			break;
		if (r->left)
			return bad(r, "a message ended %llu bytes short",
				   (unsigned long long)r->left);
		r->state = ST_MBOX;
		return 0;
	case CTL_MREC_USER_END:
		if ((s != ST_USER && s != ST_MBOX) || len)
			break;
		r->state = ST_TOP;
		return 0;
	case CTL_MREC_END:
		if (s != ST_TOP || len)
			break;
		r->state = ST_DONE;
		return 0;
	default:
		return bad(r, "unknown record type 0x%02x", (unsigned)t);
	}
	return bad(r, "record '%c' (%zu bytes) out of place", t, len);
}

int
ctl_mrec_next(struct ctl_mrec_reader *r, struct ctl_mrec *rec)
{
	unsigned char hdr[5];
	uint32_t len;
	int k;

	if (r->state == ST_BROKEN)
		return -1;
	k = read_full(r, hdr, sizeof(hdr));
	if (k < 0)
		return -1;
	if (k == 0)
		return r->state == ST_DONE ? 0 : bad(r, "the stream ended "
			"early (the source stopped before its end)");
	if (r->state == ST_DONE)
		return bad(r, "records after the end");
	len = get32(hdr + 1);
	if (len > CTL_MREC_MAX)
		return bad(r, "a record of %lu bytes (at most %d)",
			   (unsigned long)len, CTL_MREC_MAX);
	if (len && read_full(r, r->buf, len) <= 0)
		return r->state == ST_BROKEN ? -1 : bad(r, "the stream ended "
			"inside a record");
	if (get_record(r, hdr[0], len, rec) < 0)
		return -1;
	r->offset += 5 + len;
	return 1;
}
