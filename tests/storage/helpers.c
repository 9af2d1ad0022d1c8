/* Helpers of the storage conformance suite: open a fresh user, append one
 * message, open a mailbox, collect what fetch and list report, and make
 * reproducible message bodies of any size (CRLF lines, RFC 5322 2.1). */
#include <stdio.h>
#include <string.h>

#include "suite.h"

/* A user of its own for each test, emptied first, so tests do not
 * depend on each other or on an earlier run. */
struct ps_store_user *
st_user(const char *name, uint64_t quota)
{
	struct ps_error err = {""};
	struct ps_store_user *u = NULL;

	assert_int_equal(st_ops.user_delete(name, &err), 0);
	if (st_ops.user_open(name, quota, &u, &err) < 0)
		fail_msg("user_open %s: %s", name, err.msg);
	return u;
}

/* Append body to mailbox with flags and space-separated keywords. */
uint32_t
st_append(struct ps_store_user *u, const char *mailbox, const char *body,
	  unsigned flags, const char *keywords)
{
	struct ps_error err = {""};
	struct ps_store_append *a;
	char kwbuf[512], *save = NULL;
	const char *kw[16];
	size_t nkw = 0;
	uint32_t uid = 0, uidvalidity = 0;

	snprintf(kwbuf, sizeof(kwbuf), "%s", keywords ? keywords : "");
	for (char *w = strtok_r(kwbuf, " ", &save); w && nkw < 16;
	     w = strtok_r(NULL, " ", &save))
		kw[nkw++] = w;
	if (st_ops.append_begin(u, mailbox, &a, &err) < 0)
		fail_msg("append_begin %s: %s", mailbox, err.msg);
	assert_int_equal(st_ops.append_msg_begin(a, flags, kw, nkw,
						 1700000000, 60, &err), 0);
	assert_int_equal(st_ops.append_data(a, body, strlen(body), &err), 0);
	assert_int_equal(st_ops.append_msg_end(a, NULL, 0, &err), 0);
	if (st_ops.append_commit(a, &uid, &uidvalidity, &err) < 0)
		fail_msg("append_commit: %s", err.msg);
	assert_true(uid > 0);
	assert_true(uidvalidity > 0);
	return uid;
}

/* The bytes of message seed, size of them, appended in pieces of piece
 * bytes (at most 64 KiB), so that the backend's units do not match. */
uint32_t
st_append_generated(struct ps_store_user *u, const char *mailbox,
		    uint32_t seed, uint64_t size, size_t piece)
{
	static unsigned char buf[64 * 1024];
	struct ps_error err = {""};
	struct ps_store_append *a;
	uint32_t uid, uidvalidity;

	assert_true(piece <= sizeof(buf));
	assert_int_equal(st_ops.append_begin(u, mailbox, &a, &err), 0);
	assert_int_equal(st_ops.append_msg_begin(a, 0, NULL, 0, 0, 0, &err),
			 0);
	for (uint64_t off = 0; off < size; off += piece) {
		size_t n = size - off < piece ? (size_t)(size - off) : piece;

		st_body_fill(seed, off, buf, n);
		if (st_ops.append_data(a, buf, n, &err) < 0)
			fail_msg("append_data: %s", err.msg);
	}
	assert_int_equal(st_ops.append_msg_end(a, NULL, 0, &err), 0);
	if (st_ops.append_commit(a, &uid, &uidvalidity, &err) < 0)
		fail_msg("append_commit: %s", err.msg);
	return uid;
}

/* Open a user without emptying it. */
struct ps_store_user *
st_reopen(const char *name)
{
	struct ps_error err = {""};
	struct ps_store_user *u = NULL;

	if (st_ops.user_open(name, 0, &u, &err) < 0)
		fail_msg("user_open %s: %s", name, err.msg);
	return u;
}

struct ps_mbox *
st_select(struct ps_store_user *u, const char *name, unsigned mode,
	  struct ps_mailbox_status *st, uint32_t *first_recent)
{
	struct ps_error err = {""};
	struct ps_mailbox_status s;
	struct ps_mbox *mb = NULL;
	uint32_t first;

	if (st_ops.mailbox_open(u, name, mode, &mb, st ? st : &s,
				first_recent ? first_recent : &first,
				&err) < 0)
		fail_msg("mailbox_open %s: %s", name, err.msg);
	return mb;
}

void
st_status(struct ps_store_user *u, const char *name,
	  struct ps_mailbox_status *st)
{
	struct ps_error err = {""};

	if (st_ops.mailbox_status(u, name, st, &err) < 0)
		fail_msg("mailbox_status %s: %s", name, err.msg);
}

struct st_find {
	const char *name;
	unsigned attrs;
	int seen;
};

static int
st_find_one(const struct ps_mailbox_info *mb, void *arg)
{
	struct st_find *f = arg;

	if (strcmp(mb->name, f->name) == 0) {
		f->attrs = mb->attrs;
		f->seen++;
	}
	return 0;
}

/* name's attributes in the list, or 0 when it is not listed. Each name
 * is listed once at most. */
unsigned
st_attrs(struct ps_store_user *u, const char *name)
{
	struct ps_error err = {""};
	struct st_find f = { .name = name };

	assert_int_equal(st_ops.mailbox_list(u, st_find_one, &f, &err), 0);
	assert_true(f.seen <= 1);
	return f.seen ? f.attrs : 0;
}

int
st_msg_collect(const struct ps_msg *m, void *arg)
{
	struct st_msgs *out = arg;
	struct st_msg *s;
	size_t len = 0;

	assert_true(out->n < ST_MAX_MSGS);
	s = &out->m[out->n++];
	memset(s, 0, sizeof(*s));
	s->uid = m->uid;
	s->flags = m->flags;
	s->nkeywords = m->nkeywords;
	for (size_t i = 0; i < m->nkeywords; i++)
		len += (size_t)snprintf(s->keywords + len,
					sizeof(s->keywords) - len, "%s%s",
					i ? " " : "", m->keywords[i]);
	s->date = m->internal_date;
	s->tz = m->internal_tz;
	s->size = m->size;
	s->modseq = m->modseq;
	s->cache_len = m->cache_len;
	if (m->cache_len && m->cache_len <= sizeof(s->cache))
		memcpy(s->cache, m->cache, m->cache_len);
	return 0;
}

int
st_uid_collect(uint32_t uid, void *arg)
{
	struct st_uids *out = arg;

	assert_true(out->n < ST_MAX_UIDS);
	out->v[out->n++] = uid;
	return 0;
}

int
st_fetch(struct ps_mbox *mb, const struct ps_uid_range *set, size_t nset,
	 struct st_msgs *out)
{
	struct ps_error err = {""};

	out->n = 0;
	return st_ops.msg_fetch(mb, set, nset, st_msg_collect, out, &err);
}

/* The whole message, read in 7-byte ranges so that reads straddle
 * whatever units the backend stores in. */
void
st_read_all(struct ps_mbox *mb, uint32_t uid, char *buf, size_t len)
{
	struct ps_error err = {""};
	size_t off = 0, got = 1;

	while (got && off + 1 < len) {
		size_t want = len - 1 - off < 7 ? len - 1 - off : 7;

		assert_int_equal(st_ops.msg_read(mb, uid, off, buf + off, want,
						 &got, &err), 0);
		off += got;
	}
	buf[off] = '\0';
}

/* Byte off of message seed: lines of 78 letters and CRLF. */
static unsigned char
st_body_byte(uint32_t seed, uint64_t off)
{
	uint64_t line = off / 80, col = off % 80, h;

	if (col >= 78)
		return col == 78 ? '\r' : '\n';
	h = (seed + 1) * 0x9e3779b97f4a7c15ull ^ line * 0xbf58476d1ce4e5b9ull ^
	    col * 0x94d049bb133111ebull;
	h ^= h >> 31;
	return (unsigned char)('a' + h % 26);
}

void
st_body_fill(uint32_t seed, uint64_t off, unsigned char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = st_body_byte(seed, off + i);
}

/* 1 when buf holds bytes off.. of message seed. */
int
st_body_check(uint32_t seed, uint64_t off, const unsigned char *buf,
	      size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (buf[i] != st_body_byte(seed, off + i))
			return 0;
	return 1;
}
