/* Conformance: append transactions (RFC 3501 6.3.11, MULTIAPPEND RFC
 * 3502, APPENDUID RFC 4315), quota (RFC 9208 STORAGE and MESSAGE), user
 * deletion, and state that survives closing and reopening everything. */
#include <string.h>

#include "suite.h"

void
st_test_append(void **state)
{
	static const char *const kw[] = { "$Forwarded", "x-1" };
	struct ps_store_user *u = st_user("append@append.test", 0), *v;
	struct ps_error err = {""};
	struct ps_store_append *a;
	struct ps_mailbox_status st;
	uint32_t got[3], uidvalidity;
	struct ps_mbox *mb;
	struct st_msgs m;
	char buf[64];

	assert_int_equal(st_ops.user_open("append@append.test", 0, &v, &err),
			 0);
	assert_int_equal(st_ops.append_begin(u, "inbox", &a, &err), 0);
	assert_int_equal(st_ops.append_msg_begin(a, PS_FLAG_SEEN, kw, 2,
						 1000000000, -300, &err), 0);
	assert_int_equal(st_ops.append_data(a, "one ", 4, &err), 0);
	assert_int_equal(st_ops.append_data(a, "two\r\n", 5, &err), 0);
	assert_int_equal(st_ops.append_msg_end(a, "cache", 5, &err), 0);
	assert_int_equal(st_ops.append_msg_begin(a, PS_FLAG_RECENT |
						 PS_FLAG_DRAFT, NULL, 0, -5,
						 0, &err), 0);
	assert_int_equal(st_ops.append_msg_end(a, NULL, 0, &err), 0);
	assert_int_equal(st_ops.append_msg_begin(a, 0, NULL, 0, 7, 330, &err),
			 0);
	assert_int_equal(st_ops.append_data(a, "three\r\n", 7, &err), 0);
	assert_int_equal(st_ops.append_msg_end(a, NULL, 0, &err), 0);
	st_status(v, "INBOX", &st);
	assert_int_equal(st.messages, 0);
	assert_int_equal(st_ops.append_commit(a, got, &uidvalidity, &err), 0);
	assert_true(got[0] < got[1] && got[1] < got[2]);
	st_status(v, "INBOX", &st);
	assert_int_equal(st.messages, 3);
	assert_int_equal(st.uidvalidity, uidvalidity);
	assert_int_equal(st.size, 9 + 0 + 7);
	mb = st_select(v, "INBOX", 0, NULL, NULL);
	assert_int_equal(st_fetch(mb, NULL, 0, &m), 0);
	assert_int_equal(m.n, 3);
	assert_int_equal(m.m[0].uid, got[0]);
	assert_int_equal(m.m[0].flags, PS_FLAG_SEEN);
	assert_string_equal(m.m[0].keywords, "$Forwarded x-1");
	assert_int_equal(m.m[0].date, 1000000000);
	assert_int_equal(m.m[0].tz, -300);
	assert_int_equal(m.m[0].cache_len, 5);
	assert_memory_equal(m.m[0].cache, "cache", 5);
	assert_int_equal(m.m[1].flags, PS_FLAG_DRAFT);
	assert_int_equal(m.m[1].size, 0);
	assert_int_equal(m.m[1].date, -5);
	assert_int_equal(m.m[2].tz, 330);
	st_read_all(mb, got[0], buf, sizeof(buf));
	assert_string_equal(buf, "one two\r\n");
	st_ops.mailbox_close(mb);
	/* Abort stores nothing. */
	assert_int_equal(st_ops.append_begin(u, "INBOX", &a, &err), 0);
	assert_int_equal(st_ops.append_msg_begin(a, 0, NULL, 0, 0, 0, &err),
			 0);
	assert_int_equal(st_ops.append_data(a, "gone\r\n", 6, &err), 0);
	st_ops.append_abort(a);
	st_status(u, "INBOX", &st);
	assert_int_equal(st.messages, 3);
	st_ops.user_close(v);
	st_ops.user_close(u);
}

/* One transaction of a small message with its cache, one of 150,000
 * octets given in uneven pieces, and another small one: a backend that
 * spools in memory first must move what it held when it overflows. */
void
st_test_append_mixed(void **state)
{
	struct ps_store_user *u = st_user("mixed@append.test", 0);
	struct ps_error err = {""};
	struct ps_store_append *a;
	static unsigned char piece[40000];
	uint32_t got[3], uidvalidity;
	uint64_t off = 0, size = 150000;
	char cache[60], buf[64];
	struct ps_mbox *mb;
	struct st_msgs m;

	memset(cache, 'c', sizeof(cache));
	assert_int_equal(st_ops.append_begin(u, "INBOX", &a, &err), 0);
	assert_int_equal(st_ops.append_msg_begin(a, 0, NULL, 0, 0, 0, &err),
			 0);
	assert_int_equal(st_ops.append_data(a, "small\r\n", 7, &err), 0);
	assert_int_equal(st_ops.append_msg_end(a, cache, sizeof(cache), &err),
			 0);
	assert_int_equal(st_ops.append_msg_begin(a, 0, NULL, 0, 0, 0, &err),
			 0);
	for (size_t n = 1000; off < size; n = n * 3 % sizeof(piece) + 1) {
		if (n > size - off)
			n = (size_t)(size - off);
		st_body_fill(9, off, piece, n);
		assert_int_equal(st_ops.append_data(a, piece, n, &err), 0);
		off += n;
	}
	assert_int_equal(st_ops.append_msg_end(a, "big", 3, &err), 0);
	assert_int_equal(st_ops.append_msg_begin(a, 0, NULL, 0, 0, 0, &err),
			 0);
	assert_int_equal(st_ops.append_data(a, "last\r\n", 6, &err), 0);
	assert_int_equal(st_ops.append_msg_end(a, "end", 3, &err), 0);
	assert_int_equal(st_ops.append_commit(a, got, &uidvalidity, &err), 0);
	mb = st_select(u, "INBOX", 0, NULL, NULL);
	assert_int_equal(st_fetch(mb, NULL, 0, &m), 0);
	assert_int_equal(m.n, 3);
	assert_int_equal(m.m[0].cache_len, sizeof(cache));
	assert_memory_equal(m.m[0].cache, cache, sizeof(m.m[0].cache));
	assert_int_equal(m.m[1].size, size);
	assert_memory_equal(m.m[1].cache, "big", 3);
	assert_memory_equal(m.m[2].cache, "end", 3);
	st_read_all(mb, got[0], buf, sizeof(buf));
	assert_string_equal(buf, "small\r\n");
	st_read_all(mb, got[2], buf, sizeof(buf));
	assert_string_equal(buf, "last\r\n");
	for (off = 0; off < size; off += 30011) {
		size_t n = size - off < sizeof(piece) ? (size_t)(size - off)
						       : sizeof(piece), len;

		assert_int_equal(st_ops.msg_read(mb, got[1], off, piece, n,
						 &len, &err), 0);
		assert_int_equal(len, n);
		assert_true(st_body_check(9, off, piece, n));
	}
	st_ops.mailbox_close(mb);
	st_ops.user_close(u);
}

void
st_test_append_errors(void **state)
{
	struct ps_store_user *u = st_user("errors@append.test", 0);
	struct ps_error err = {""};
	struct ps_store_append *a;
	struct ps_mailbox_status st;
	uint32_t uid, uidvalidity;

	assert_int_equal(st_ops.append_begin(u, "nothere", &a, &err),
			 PS_STORE_ENOMBOX);
	assert_int_equal(st_ops.append_begin(u, "a//b", &a, &err),
			 PS_STORE_EBADNAME);
	assert_int_equal(st_ops.append_begin(u, "INBOX", &a, &err), 0);
	assert_true(st_ops.append_data(a, "x", 1, &err) < 0);
	assert_true(st_ops.append_commit(a, &uid, &uidvalidity, &err) < 0);
	assert_int_equal(st_ops.append_begin(u, "INBOX", &a, &err), 0);
	assert_int_equal(st_ops.append_msg_begin(a, 0, NULL, 0, 0, 0, &err),
			 0);
	assert_true(st_ops.append_msg_begin(a, 0, NULL, 0, 0, 0, &err) < 0);
	assert_true(st_ops.append_commit(a, &uid, &uidvalidity, &err) < 0);
	/* The target may go away before commit. */
	assert_int_equal(st_ops.mailbox_create(u, "Gone", 0, &err), 0);
	assert_int_equal(st_ops.append_begin(u, "Gone", &a, &err), 0);
	assert_int_equal(st_ops.append_msg_begin(a, 0, NULL, 0, 0, 0, &err),
			 0);
	assert_int_equal(st_ops.append_data(a, "y\r\n", 3, &err), 0);
	assert_int_equal(st_ops.append_msg_end(a, NULL, 0, &err), 0);
	assert_int_equal(st_ops.mailbox_delete(u, "Gone", &err), 0);
	assert_int_equal(st_ops.append_commit(a, &uid, &uidvalidity, &err),
			 PS_STORE_ENOMBOX);
	st_status(u, "INBOX", &st);
	assert_int_equal(st.messages, 0);
	st_ops.user_close(u);
}

/* Append n messages of len bytes; the first error of any step. */
static int
st_append_sized(struct ps_store_user *u, const char *mailbox, int n,
		size_t len)
{
	struct ps_error err = {""};
	struct ps_store_append *a;
	char body[1024];
	uint32_t uids[4], uidvalidity;
	int r = st_ops.append_begin(u, mailbox, &a, &err);

	assert_true(len <= sizeof(body) && n <= 4);
	memset(body, 'q', len);
	if (r < 0)
		return r;
	for (int i = 0; i < n && r == 0; i++) {
		r = st_ops.append_msg_begin(a, 0, NULL, 0, 0, 0, &err);
		if (r == 0)
			r = st_ops.append_data(a, body, len, &err);
		if (r == 0)
			r = st_ops.append_msg_end(a, NULL, 0, &err);
	}
	if (r < 0) {
		st_ops.append_abort(a);
		return r;
	}
	return st_ops.append_commit(a, uids, &uidvalidity, &err);
}

static void
st_usage(struct ps_store_user *u, uint64_t bytes, uint64_t messages)
{
	struct ps_error err = {""};
	uint64_t b, m;

	assert_int_equal(st_ops.quota_get(u, &b, &m, &err), 0);
	assert_int_equal(b, bytes);
	assert_int_equal(m, messages);
}

/* A change that would pass the quota stores nothing; reaching it
 * exactly is fine. */
void
st_test_quota(void **state)
{
	struct ps_store_user *u = st_user("quota@append.test", 1000);
	struct ps_error err = {""};
	struct ps_uid_range all = { 1, UINT32_MAX };
	uint32_t uidvalidity;
	struct ps_mbox *mb;

	st_usage(u, 0, 0);
	assert_int_equal(st_append_sized(u, "INBOX", 1, 600), 0);
	st_usage(u, 600, 1);
	assert_int_equal(st_append_sized(u, "INBOX", 1, 500),
			 PS_STORE_EQUOTA);
	assert_int_equal(st_append_sized(u, "INBOX", 2, 300),
			 PS_STORE_EQUOTA);
	st_usage(u, 600, 1);
	assert_int_equal(st_ops.mailbox_create(u, "Other", 0, &err), 0);
	mb = st_select(u, "INBOX", 0, NULL, NULL);
	assert_int_equal(st_ops.msg_copy(mb, &all, 1, "Other", 0, NULL, NULL,
					 &uidvalidity, &err), PS_STORE_EQUOTA);
	st_usage(u, 600, 1);
	assert_int_equal(st_ops.msg_copy(mb, &all, 1, "Other", 1, NULL, NULL,
					 &uidvalidity, &err), 0);
	st_usage(u, 600, 1);
	st_ops.mailbox_close(mb);
	assert_int_equal(st_append_sized(u, "INBOX", 2, 200), 0);
	st_usage(u, 1000, 3);
	assert_int_equal(st_append_sized(u, "INBOX", 1, 1), PS_STORE_EQUOTA);
	st_ops.user_close(u);
}

void
st_test_user_delete(void **state)
{
	struct ps_store_user *u = st_user("gone@append.test", 0);
	struct ps_error err = {""};
	int r;

	assert_int_equal(st_ops.mailbox_create(u, "Box/Sub", 0, &err), 0);
	st_append(u, "Box", "x\r\n", 0, NULL);
	st_append(u, "INBOX", "y\r\n", 0, NULL);
	st_ops.user_close(u);
	assert_int_equal(st_ops.user_delete("gone@append.test", &err), 0);
	assert_int_equal(st_ops.user_open("gone@append.test", 0, &u, &err), 0);
	st_usage(u, 0, 0);
	assert_int_equal(st_attrs(u, "Box"), 0);
	assert_true(st_attrs(u, "INBOX") != 0);
	st_ops.user_close(u);
	r = st_ops.user_delete("never@append.test", &err);
	assert_true(r == 0 || r == PS_ENOENT);
}

static void
st_snapshot(struct ps_store_user *u, struct ps_mailbox_status st[3],
	    struct st_msgs *m)
{
	struct ps_mbox *mb;

	st_status(u, "INBOX", &st[0]);
	st_status(u, "Keep", &st[1]);
	st_status(u, "Keep/Sub", &st[2]);
	mb = st_select(u, "Keep", PS_OPEN_READONLY, NULL, NULL);
	assert_int_equal(st_fetch(mb, NULL, 0, m), 0);
	st_ops.mailbox_close(mb);
}

/* UIDVALIDITY, UIDNEXT, MODSEQ and flags survive closing every handle
 * and starting the backend again (a server restart). */
void
st_test_restart(void **state)
{
	struct ps_store_user *u = st_user("restart@append.test", 0);
	struct ps_error err = {""};
	struct ps_mailbox_status a[3], b[3];
	struct ps_uid_range one;
	struct st_msgs ma, mb_;
	struct ps_mbox *mb;
	uint32_t uid;

	assert_int_equal(st_ops.mailbox_create(u, "Keep/Sub", 0, &err), 0);
	uid = st_append(u, "Keep", "a\r\n", PS_FLAG_FLAGGED, "$Important");
	one = (struct ps_uid_range){ uid, uid };
	st_append(u, "Keep", "b\r\n", 0, NULL);
	st_append(u, "Keep/Sub", "c\r\n", PS_FLAG_SEEN, NULL);
	mb = st_select(u, "Keep", 0, NULL, NULL);
	assert_int_equal(st_ops.msg_store(mb, &one, 1, PS_STORE_ADD,
					  PS_FLAG_ANSWERED, NULL, 0, 0, NULL,
					  NULL, NULL, &err), 0);
	st_ops.mailbox_close(mb);
	st_snapshot(u, a, &ma);
	st_ops.user_close(u);
	st_restart();
	assert_int_equal(st_ops.user_open("restart@append.test", 0, &u, &err),
			 0);
	st_snapshot(u, b, &mb_);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(a[i].uidvalidity, b[i].uidvalidity);
		assert_int_equal(a[i].uidnext, b[i].uidnext);
		assert_int_equal(a[i].messages, b[i].messages);
		assert_int_equal(a[i].unseen, b[i].unseen);
		assert_int_equal(a[i].highestmodseq, b[i].highestmodseq);
		assert_int_equal(a[i].size, b[i].size);
	}
	assert_int_equal(ma.n, mb_.n);
	for (size_t i = 0; i < ma.n; i++) {
		assert_int_equal(ma.m[i].uid, mb_.m[i].uid);
		assert_int_equal(ma.m[i].flags, mb_.m[i].flags);
		assert_string_equal(ma.m[i].keywords, mb_.m[i].keywords);
		assert_int_equal(ma.m[i].modseq, mb_.m[i].modseq);
	}
	uid = st_append(u, "Keep", "d\r\n", 0, NULL);
	assert_true(uid >= a[1].uidnext);
	st_ops.user_close(u);
}
