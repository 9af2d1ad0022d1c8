/* Conformance: messages of an open mailbox. FETCH by UID set (RFC 3501
 * 6.4.5, 6.4.8), partial reads, the cache, STORE (6.4.6) with MODSEQ and
 * UNCHANGEDSINCE (RFC 7162 3.1.3), keyword syntax (RFC 3501 9), COPY with
 * COPYUID (RFC 4315), MOVE (RFC 6851), EXPUNGE and VANISHED (RFC 7162). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "suite.h"

static uint32_t uids[8];

static struct ps_mbox *
st_five(struct ps_store_user *u, const char *name)
{
	struct ps_error err = {""};
	char body[32];

	assert_int_equal(st_ops.mailbox_create(u, name, 0, &err), 0);
	for (int i = 0; i < 5; i++) {
		snprintf(body, sizeof(body), "message %d\r\n", i + 1);
		uids[i] = st_append(u, name, body, i == 1 ? PS_FLAG_SEEN : 0,
				    i == 2 ? "$Label1 Work" : NULL);
	}
	return st_select(u, name, 0, NULL, NULL);
}

static int
st_stop_at_first(const struct ps_msg *m, void *arg)
{
	return 7;
}

void
st_test_fetch(void **state)
{
	struct ps_store_user *u = st_user("fetch@message.test", 0);
	struct ps_mbox *mb = st_five(u, "F");
	struct ps_error err = {""};
	struct st_msgs m;
	struct ps_uid_range set[] = {
		{ uids[4], uids[3] }, { uids[0], uids[1] },
		{ uids[1], uids[2] }, { 90000, 100000 },
	};
	struct ps_uid_range one = { uids[2], uids[2] }, none = { 90000, 90001 };

	assert_int_equal(st_fetch(mb, NULL, 0, &m), 0);
	assert_int_equal(m.n, 5);
	for (size_t i = 0; i < 5; i++) {
		assert_int_equal(m.m[i].uid, uids[i]);
		assert_int_equal(m.m[i].date, 1700000000);
		assert_int_equal(m.m[i].tz, 60);
		assert_int_equal(m.m[i].size, strlen("message 1\r\n"));
		assert_true(m.m[i].modseq > 0);
		assert_int_equal(m.m[i].cache_len, 0);
	}
	assert_int_equal(m.m[1].flags, PS_FLAG_SEEN);
	assert_string_equal(m.m[2].keywords, "$Label1 Work");
	assert_int_equal(st_fetch(mb, set, 4, &m), 0);
	assert_int_equal(m.n, 5);
	for (size_t i = 0; i < 5; i++)
		assert_int_equal(m.m[i].uid, uids[i]);
	assert_int_equal(st_fetch(mb, &one, 1, &m), 0);
	assert_int_equal(m.n, 1);
	assert_int_equal(m.m[0].uid, uids[2]);
	assert_int_equal(st_fetch(mb, &none, 1, &m), 0);
	assert_int_equal(m.n, 0);
	assert_int_equal(st_fetch(mb, &one, 0, &m), 0);
	assert_int_equal(m.n, 0);
	assert_int_equal(st_ops.msg_fetch(mb, NULL, 0, st_stop_at_first, NULL,
					  &err), 7);
	st_ops.mailbox_close(mb);
	st_ops.user_close(u);
}

void
st_test_read_cache(void **state)
{
	struct ps_store_user *u = st_user("read@message.test", 0);
	struct ps_error err = {""};
	uint32_t uid = st_append(u, "INBOX", "Hello, world\r\n", 0, NULL);
	uint32_t big = st_append_generated(u, "INBOX", 5, 200000, 1000);
	uint32_t empty = st_append(u, "INBOX", "", 0, NULL);
	unsigned char buf[300];
	struct ps_mbox *mb = st_select(u, "INBOX", 0, NULL, NULL);
	struct st_msgs m;
	size_t got = 1;

	st_read_all(mb, uid, (char *)buf, sizeof(buf));
	assert_string_equal((char *)buf, "Hello, world\r\n");
	assert_int_equal(st_ops.msg_read(mb, uid, 14, buf, 10, &got, &err), 0);
	assert_int_equal(got, 0);
	assert_int_equal(st_ops.msg_read(mb, uid, 7, buf, 100, &got, &err), 0);
	assert_int_equal(got, 7);
	assert_memory_equal(buf, "world\r\n", 7);
	assert_int_equal(st_ops.msg_read(mb, 9999, 0, buf, 10, &got, &err),
			 PS_STORE_ENOMSG);
	/* A message of no octets is there, and at its end at once. */
	assert_int_equal(st_ops.msg_read(mb, empty, 0, buf, 10, &got, &err),
			 0);
	assert_int_equal(got, 0);
	for (uint64_t off = 65000; off < 200000; off += 65536) {
		assert_int_equal(st_ops.msg_read(mb, big, off, buf, sizeof(buf),
						 &got, &err), 0);
		assert_int_equal(got, sizeof(buf));
		assert_true(st_body_check(5, off, buf, got));
	}
	assert_int_equal(st_ops.msg_read(mb, big, 199900, buf, sizeof(buf),
					 &got, &err), 0);
	assert_int_equal(got, 100);
	assert_true(st_body_check(5, 199900, buf, got));
	assert_int_equal(st_ops.msg_set_cache(mb, uid, "struct", 6, &err), 0);
	assert_int_equal(st_ops.msg_set_cache(mb, uid, "tree", 4, &err), 0);
	assert_int_equal(st_ops.msg_set_cache(mb, 9999, "x", 1, &err),
			 PS_STORE_ENOMSG);
	assert_int_equal(st_fetch(mb, NULL, 0, &m), 0);
	assert_int_equal(m.m[0].cache_len, 4);
	assert_memory_equal(m.m[0].cache, "tree", 4);
	assert_int_equal(m.m[1].size, 200000);
	st_ops.mailbox_close(mb);
	st_ops.user_close(u);
}

/* A callback may read through its own handle: the same fetch again
 * (a backend that keeps statements must not hand out the one in use),
 * and the message's bytes. */
struct st_nested {
	struct ps_mbox *mb;
	size_t outer, inner_total;
	char bodies[5][32];
};

static int
st_nested_msg(const struct ps_msg *m, void *arg)
{
	struct st_nested *n = arg;
	struct st_msgs all;
	struct ps_uid_range one = { m->uid, m->uid };
	struct st_msgs mine;

	assert_int_equal(st_fetch(n->mb, NULL, 0, &all), 0);
	n->inner_total += all.n;
	assert_int_equal(st_fetch(n->mb, &one, 1, &mine), 0);
	assert_int_equal(mine.n, 1);
	assert_int_equal(mine.m[0].uid, m->uid);
	assert_true(n->outer < 5);
	st_read_all(n->mb, m->uid, n->bodies[n->outer],
		    sizeof(n->bodies[0]));
	n->outer++;
	return 0;
}

void
st_test_nested_reads(void **state)
{
	struct ps_store_user *u = st_user("nested@message.test", 0);
	struct st_nested n = { .mb = st_five(u, "N") };
	struct ps_error err = {""};
	char want[32];

	for (int round = 0; round < 2; round++) {
		n.outer = n.inner_total = 0;
		assert_int_equal(st_ops.msg_fetch(n.mb, NULL, 0, st_nested_msg,
						  &n, &err), 0);
		assert_int_equal(n.outer, 5);
		assert_int_equal(n.inner_total, 25);
		for (int i = 0; i < 5; i++) {
			snprintf(want, sizeof(want), "message %d\r\n", i + 1);
			assert_string_equal(n.bodies[i], want);
		}
	}
	st_ops.mailbox_close(n.mb);
	st_ops.user_close(u);
}

/* mailbox_hold (since 1.3, may be NULL): calls in between work as
 * ever and see the handle's own changes; others' changes show after
 * the release; closing a held handle releases it. */
void
st_test_hold(void **state)
{
	struct ps_store_user *u = st_user("hold@message.test", 0);
	struct ps_mbox *mb = st_five(u, "H"), *other;
	struct ps_uid_range one = { uids[0], uids[0] },
			    two = { uids[1], uids[1] };
	struct ps_error err = {""};
	struct st_msgs m;
	char body[32];
	uint32_t late;

	if (!st_ops.mailbox_hold || !st_ops.mailbox_release) {
		st_ops.mailbox_close(mb);
		st_ops.user_close(u);
		skip();
	}
	other = st_select(u, "H", 0, NULL, NULL);
	st_ops.mailbox_hold(mb);
	assert_int_equal(st_fetch(mb, NULL, 0, &m), 0);
	assert_int_equal(m.n, 5);
	st_read_all(mb, uids[3], body, sizeof(body));
	assert_string_equal(body, "message 4\r\n");
	assert_int_equal(st_ops.msg_store(mb, &one, 1, PS_STORE_ADD,
					  PS_FLAG_FLAGGED, NULL, 0, 0, NULL,
					  NULL, NULL, &err), 0);
	assert_int_equal(st_fetch(mb, &one, 1, &m), 0);
	assert_int_equal(m.m[0].flags, PS_FLAG_FLAGGED);
	assert_int_equal(st_ops.msg_store(other, &two, 1, PS_STORE_ADD,
					  PS_FLAG_ANSWERED, NULL, 0, 0, NULL,
					  NULL, NULL, &err), 0);
	late = st_append(u, "H", "message 6\r\n", 0, NULL);
	assert_int_equal(st_fetch(mb, &one, 1, &m), 0);
	st_ops.mailbox_release(mb);
	assert_int_equal(st_fetch(mb, &two, 1, &m), 0);
	assert_int_equal(m.m[0].flags, PS_FLAG_SEEN | PS_FLAG_ANSWERED);
	assert_int_equal(st_fetch(mb, NULL, 0, &m), 0);
	assert_int_equal(m.n, 6);
	assert_int_equal(m.m[5].uid, late);
	/* Held again, for a handle closed before its release. */
	st_ops.mailbox_hold(mb);
	assert_int_equal(st_fetch(mb, &one, 1, &m), 0);
	st_ops.mailbox_close(mb);
	st_ops.mailbox_close(other);
	st_ops.user_close(u);
}

struct st_store_log {
	struct st_msgs changed;
	struct st_uids refused;
};

static int
st_collect_changed(const struct ps_msg *m, void *arg)
{
	return st_msg_collect(m, &((struct st_store_log *)arg)->changed);
}

static int
st_collect_refused(uint32_t uid, void *arg)
{
	return st_uid_collect(uid, &((struct st_store_log *)arg)->refused);
}

/* STORE over first..last with up to two keywords. */
static int
st_store(struct ps_mbox *mb, uint32_t first, uint32_t last,
	 enum ps_store_mode mode, unsigned flags, const char *kw1,
	 const char *kw2, uint64_t unchangedsince, struct st_store_log *log)
{
	struct ps_error err = {""};
	struct ps_uid_range set = { first, last };
	const char *kw[2] = { kw1, kw2 };
	size_t nkw = kw2 ? 2 : kw1 ? 1 : 0;

	memset(log, 0, sizeof(*log));
	return st_ops.msg_store(mb, &set, 1, mode, flags, kw, nkw,
				unchangedsince, st_collect_changed,
				st_collect_refused, log, &err);
}

static uint64_t
st_modseq(struct ps_mbox *mb, uint32_t uid)
{
	struct ps_uid_range one = { uid, uid };
	struct st_msgs m;

	assert_int_equal(st_fetch(mb, &one, 1, &m), 0);
	assert_int_equal(m.n, 1);
	return m.m[0].modseq;
}

/* RFC 3501 6.4.6 with RFC 7162 3.1.3: a change gives the message a
 * MODSEQ above every earlier one; a message already as asked keeps its
 * MODSEQ; keywords compare without case. */
void
st_test_store(void **state)
{
	struct ps_store_user *u = st_user("store@message.test", 0);
	struct ps_mbox *mb = st_five(u, "S");
	struct ps_mailbox_status st;
	struct st_store_log log;
	struct ps_uid_range three;
	struct st_msgs m;
	uint64_t before, m1;

	st_status(u, "S", &st);
	before = st.highestmodseq;
	assert_int_equal(st_store(mb, uids[0], uids[4], PS_STORE_ADD,
				  PS_FLAG_SEEN, NULL, NULL, 0, &log), 0);
	assert_int_equal(log.changed.n, 4);
	for (size_t i = 0; i < log.changed.n; i++) {
		assert_true(log.changed.m[i].modseq > before);
		assert_true(log.changed.m[i].flags & PS_FLAG_SEEN);
		assert_true(log.changed.m[i].uid != uids[1]);
	}
	st_status(u, "S", &st);
	assert_int_equal(st.unseen, 0);
	assert_true(st.highestmodseq >= log.changed.m[0].modseq);
	m1 = st_modseq(mb, uids[0]);
	assert_int_equal(st_store(mb, uids[0], uids[0], PS_STORE_ADD,
				  PS_FLAG_SEEN, NULL, NULL, 0, &log), 0);
	assert_int_equal(log.changed.n, 0);
	assert_int_equal(st_modseq(mb, uids[0]), m1);
	assert_int_equal(st_store(mb, uids[0], uids[0], PS_STORE_ADD, 0,
				  "Work", "$Label1", 0, &log), 0);
	assert_int_equal(log.changed.n, 1);
	assert_true(log.changed.m[0].modseq > m1);
	assert_int_equal(log.changed.m[0].nkeywords, 2);
	assert_int_equal(st_store(mb, uids[0], uids[0], PS_STORE_ADD, 0,
				  "work", NULL, 0, &log), 0);
	assert_int_equal(log.changed.n, 0);
	assert_int_equal(st_store(mb, uids[0], uids[0], PS_STORE_REMOVE,
				  PS_FLAG_SEEN, "WORK", NULL, 0, &log), 0);
	assert_int_equal(log.changed.n, 1);
	assert_string_equal(log.changed.m[0].keywords, "$Label1");
	assert_int_equal(log.changed.m[0].flags, 0);
	st_status(u, "S", &st);
	assert_int_equal(st.unseen, 1);
	assert_int_equal(st_store(mb, uids[2], uids[2], PS_STORE_REPLACE,
				  PS_FLAG_FLAGGED | PS_FLAG_DRAFT |
					  PS_FLAG_RECENT,
				  "A", "B", 0, &log), 0);
	three = (struct ps_uid_range){ uids[2], uids[2] };
	assert_int_equal(st_fetch(mb, &three, 1, &m), 0);
	assert_int_equal(m.m[0].flags, PS_FLAG_FLAGGED | PS_FLAG_DRAFT);
	assert_string_equal(m.m[0].keywords, "A B");
	st_ops.mailbox_close(mb);
	st_ops.user_close(u);
}

static int
st_changes(struct ps_mbox *mb, uint64_t since, struct st_msgs *changed,
	   struct st_uids *expunged)
{
	struct ps_error err = {""};
	struct st_store_log log = { .changed.n = 0 };
	int r = st_ops.changes_since(mb, since, st_collect_changed,
				     st_collect_refused, &log, &err);

	*changed = log.changed;
	*expunged = log.refused;
	return r;
}

/* RFC 7162 3.1.3: a message changed after UNCHANGEDSINCE is refused,
 * the others are stored; changes_since sees the stored ones. */
void
st_test_unchangedsince(void **state)
{
	struct ps_store_user *u = st_user("unchanged@message.test", 0);
	struct ps_mbox *mb = st_five(u, "U");
	struct ps_mailbox_status st;
	struct st_store_log log;
	struct st_msgs changed;
	struct st_uids expunged;

	st_status(u, "U", &st);
	assert_int_equal(st_store(mb, uids[1], uids[1], PS_STORE_ADD,
				  PS_FLAG_ANSWERED, NULL, NULL, 0, &log), 0);
	assert_true(st_modseq(mb, uids[1]) > st.highestmodseq);
	assert_int_equal(st_store(mb, uids[0], uids[1], PS_STORE_ADD,
				  PS_FLAG_FLAGGED, NULL, NULL,
				  st.highestmodseq, &log), 0);
	assert_int_equal(log.refused.n, 1);
	assert_int_equal(log.refused.v[0], uids[1]);
	assert_int_equal(log.changed.n, 1);
	assert_int_equal(log.changed.m[0].uid, uids[0]);
	assert_int_equal(st_changes(mb, st.highestmodseq, &changed,
				    &expunged), 0);
	assert_int_equal(changed.n, 2);
	assert_int_equal(changed.m[0].uid, uids[0]);
	assert_int_equal(changed.m[1].uid, uids[1]);
	assert_int_equal(expunged.n, 0);
	st_ops.mailbox_close(mb);
	st_ops.user_close(u);
}

/* Keywords are atoms (RFC 3501 9), at most 128 a message. */
void
st_test_keyword_bounds(void **state)
{
	static const char *const bad[] = {
		"with space", "a(b", "\\Seen", "a*", "a%", "a]", "a\"b",
		"a\x01", "", "a{1}",
	};
	struct ps_store_user *u = st_user("keywords@message.test", 0);
	struct ps_mbox *mb = st_five(u, "K");
	struct ps_error err = {""};
	struct ps_store_append *a;
	struct st_store_log log;
	char names[130][8];
	const char *kw[130];
	struct ps_uid_range one = { uids[0], uids[0] };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_true(st_store(mb, uids[0], uids[0], PS_STORE_ADD, 0,
				     bad[i], NULL, 0, &log) < 0);
		assert_int_equal(st_ops.append_begin(u, "K", &a, &err), 0);
		assert_true(st_ops.append_msg_begin(a, 0, &bad[i], 1, 0, 0,
						    &err) < 0);
		st_ops.append_abort(a);
	}
	for (int i = 0; i < 130; i++) {
		snprintf(names[i], sizeof(names[i]), "k%d", i);
		kw[i] = names[i];
	}
	assert_true(st_ops.msg_store(mb, &one, 1, PS_STORE_ADD, 0, kw, 129, 0,
				     NULL, NULL, NULL, &err) < 0);
	assert_int_equal(st_ops.msg_store(mb, &one, 1, PS_STORE_ADD, 0, kw,
					  128, 0, NULL, NULL, NULL, &err), 0);
	assert_true(st_ops.msg_store(mb, &one, 1, PS_STORE_ADD, 0, kw + 128,
				     1, 0, NULL, NULL, NULL, &err) < 0);
	assert_true(st_ops.msg_store(mb, &one, 1, PS_STORE_ADD, 0x1000, NULL,
				     0, 0, NULL, NULL, NULL, &err) < 0);
	st_ops.mailbox_close(mb);
	st_ops.user_close(u);
}

struct st_map {
	size_t n;
	uint32_t src[8], dst[8];
};

static int
st_map_collect(uint32_t src, uint32_t dst, void *arg)
{
	struct st_map *m = arg;

	assert_true(m->n < 8);
	m->src[m->n] = src;
	m->dst[m->n++] = dst;
	return 0;
}

/* RFC 4315 COPYUID: the map comes in source order, to the mailbox's
 * UIDVALIDITY; copies keep flags, keywords, dates, cache and bytes. */
void
st_test_copy(void **state)
{
	struct ps_store_user *u = st_user("copy@message.test", 0);
	struct ps_mbox *mb = st_five(u, "C1"), *dst;
	struct ps_error err = {""};
	struct ps_uid_range set[] = { { uids[2], uids[2] },
				      { uids[0], uids[1] } };
	struct ps_uid_range none = { 90000, 90000 };
	struct ps_mailbox_status st;
	struct st_map map = { 0 };
	struct st_msgs src, m;
	uint32_t uidvalidity = 0;
	char buf[64];

	assert_int_equal(st_ops.msg_set_cache(mb, uids[2], "c3", 2, &err), 0);
	assert_int_equal(st_ops.mailbox_create(u, "C2", 0, &err), 0);
	assert_int_equal(st_ops.msg_copy(mb, set, 2, "C2", 0, st_map_collect,
					 &map, &uidvalidity, &err), 0);
	st_status(u, "C2", &st);
	assert_int_equal(uidvalidity, st.uidvalidity);
	assert_int_equal(map.n, 3);
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(map.src[i], uids[i]);
		assert_true(i == 0 || map.dst[i] > map.dst[i - 1]);
	}
	assert_int_equal(st_fetch(mb, NULL, 0, &src), 0);
	assert_int_equal(src.n, 5);
	dst = st_select(u, "C2", PS_OPEN_READONLY, NULL, NULL);
	assert_int_equal(st_fetch(dst, NULL, 0, &m), 0);
	assert_int_equal(m.n, 3);
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(m.m[i].uid, map.dst[i]);
		assert_int_equal(m.m[i].flags, src.m[i].flags);
		assert_string_equal(m.m[i].keywords, src.m[i].keywords);
		assert_int_equal(m.m[i].date, src.m[i].date);
		assert_int_equal(m.m[i].tz, src.m[i].tz);
		assert_int_equal(m.m[i].size, src.m[i].size);
	}
	assert_int_equal(m.m[2].cache_len, 2);
	assert_memory_equal(m.m[2].cache, "c3", 2);
	st_read_all(dst, map.dst[1], buf, sizeof(buf));
	assert_string_equal(buf, "message 2\r\n");
	st_ops.mailbox_close(dst);
	map.n = 0;
	assert_int_equal(st_ops.msg_copy(mb, &none, 1, "C2", 0, st_map_collect,
					 &map, &uidvalidity, &err), 0);
	assert_int_equal(map.n, 0);
	assert_int_equal(st_ops.msg_copy(mb, set, 2, "nothere", 0, NULL, NULL,
					 &uidvalidity, &err),
			 PS_STORE_ENOMBOX);
	assert_int_equal(st_ops.mailbox_create(u, "N/c", 0, &err), 0);
	assert_int_equal(st_ops.mailbox_delete(u, "N", &err), 0);
	assert_int_equal(st_ops.msg_copy(mb, set, 2, "N", 0, NULL, NULL,
					 &uidvalidity, &err),
			 PS_STORE_ENOSELECT);
	st_ops.mailbox_close(mb);
	st_ops.user_close(u);
}

/* RFC 6851: a move is a copy whose sources are expunged, which the
 * source's changes_since reports (RFC 7162 VANISHED). */
void
st_test_move(void **state)
{
	struct ps_store_user *u = st_user("move@message.test", 0);
	struct ps_mbox *mb = st_five(u, "M1");
	struct ps_error err = {""};
	struct ps_uid_range set = { uids[0], uids[1] };
	struct ps_uid_range last = { uids[4], uids[4] };
	struct ps_mailbox_status st;
	struct st_map map = { 0 };
	struct st_msgs m;
	struct st_uids gone;
	uint32_t uidvalidity;
	uint64_t since;

	assert_int_equal(st_ops.mailbox_create(u, "M2", 0, &err), 0);
	st_status(u, "M1", &st);
	since = st.highestmodseq;
	assert_int_equal(st_ops.msg_copy(mb, &set, 1, "M2", 1, st_map_collect,
					 &map, &uidvalidity, &err), 0);
	assert_int_equal(map.n, 2);
	assert_int_equal(map.src[0], uids[0]);
	assert_int_equal(map.src[1], uids[1]);
	assert_int_equal(st_fetch(mb, NULL, 0, &m), 0);
	assert_int_equal(m.n, 3);
	assert_int_equal(m.m[0].uid, uids[2]);
	assert_int_equal(st_changes(mb, since, &m, &gone), 0);
	assert_int_equal(gone.n, 2);
	assert_int_equal(gone.v[0], uids[0]);
	assert_int_equal(gone.v[1], uids[1]);
	st_status(u, "M2", &st);
	assert_int_equal(st.messages, 2);
	assert_int_equal(st.unseen, 1);
	/* Into the same mailbox: a new UID, the old one expunged. */
	map.n = 0;
	assert_int_equal(st_ops.msg_copy(mb, &last, 1, "M1", 1, st_map_collect,
					 &map, &uidvalidity, &err), 0);
	assert_int_equal(map.n, 1);
	assert_true(map.dst[0] > uids[4]);
	assert_int_equal(st_fetch(mb, NULL, 0, &m), 0);
	assert_int_equal(m.n, 3);
	assert_int_equal(m.m[2].uid, map.dst[0]);
	st_ops.mailbox_close(mb);
	st_ops.user_close(u);
}

/* RFC 3501 6.4.3 and RFC 4315 UID EXPUNGE: only \Deleted messages, all
 * or those in the set, reported in ascending order. */
void
st_test_expunge(void **state)
{
	struct ps_store_user *u = st_user("expunge@message.test", 0);
	struct ps_mbox *mb = st_five(u, "E");
	struct ps_error err = {""};
	struct ps_uid_range tail = { uids[3], uids[4] };
	struct ps_mailbox_status st, st2;
	struct st_store_log log;
	struct st_uids gone = { 0 };
	struct st_msgs m;
	uint64_t since;

	st_status(u, "E", &st);
	since = st.highestmodseq;
	assert_int_equal(st_store(mb, uids[0], uids[1], PS_STORE_ADD,
				  PS_FLAG_DELETED, NULL, NULL, 0, &log), 0);
	assert_int_equal(st_store(mb, uids[3], uids[3], PS_STORE_ADD,
				  PS_FLAG_DELETED, NULL, NULL, 0, &log), 0);
	assert_int_equal(st_ops.expunge(mb, &tail, 1, st_uid_collect, &gone,
					&err), 0);
	assert_int_equal(gone.n, 1);
	assert_int_equal(gone.v[0], uids[3]);
	gone.n = 0;
	assert_int_equal(st_ops.expunge(mb, NULL, 0, st_uid_collect, &gone,
					&err), 0);
	assert_int_equal(gone.n, 2);
	assert_int_equal(gone.v[0], uids[0]);
	assert_int_equal(gone.v[1], uids[1]);
	st_status(u, "E", &st2);
	assert_int_equal(st2.messages, 2);
	assert_true(st2.highestmodseq > since);
	assert_int_equal(st2.size, 2 * strlen("message 1\r\n"));
	assert_int_equal(st_changes(mb, since, &m, &gone), 0);
	assert_int_equal(gone.n, 3);
	assert_int_equal(gone.v[0], uids[0]);
	assert_int_equal(gone.v[1], uids[1]);
	assert_int_equal(gone.v[2], uids[3]);
	gone.n = 0;
	assert_int_equal(st_ops.expunge(mb, NULL, 0, st_uid_collect, &gone,
					&err), 0);
	assert_int_equal(gone.n, 0);
	st_ops.mailbox_close(mb);
	st_ops.user_close(u);
}

/* EXAMINE (RFC 3501 6.3.2): no flag changes, no expunge, no move; a
 * copy out is fine. */
void
st_test_readonly(void **state)
{
	struct ps_store_user *u = st_user("readonly@message.test", 0);
	struct ps_mbox *mb = st_five(u, "RO");
	struct ps_error err = {""};
	struct ps_uid_range all = { 1, UINT32_MAX };
	struct ps_mailbox_status st, st2;
	struct st_store_log log;
	uint32_t uidvalidity;

	st_ops.mailbox_close(mb);
	st_status(u, "RO", &st);
	mb = st_select(u, "RO", PS_OPEN_READONLY, NULL, NULL);
	assert_true(st_store(mb, uids[0], uids[4], PS_STORE_ADD,
			     PS_FLAG_DELETED, NULL, NULL, 0, &log) < 0);
	assert_true(st_ops.expunge(mb, NULL, 0, NULL, NULL, &err) < 0);
	assert_true(st_ops.msg_copy(mb, &all, 1, "INBOX", 1, NULL, NULL,
				    &uidvalidity, &err) < 0);
	assert_int_equal(st_ops.msg_copy(mb, &all, 1, "INBOX", 0, NULL, NULL,
					 &uidvalidity, &err), 0);
	st_status(u, "RO", &st2);
	assert_int_equal(st2.messages, 5);
	assert_int_equal(st2.unseen, st.unseen);
	assert_int_equal(st2.highestmodseq, st.highestmodseq);
	st_status(u, "INBOX", &st2);
	assert_int_equal(st2.messages, 5);
	st_ops.mailbox_close(mb);
	st_ops.user_close(u);
}
