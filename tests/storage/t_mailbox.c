/* Conformance: users and mailboxes. Names and INBOX (RFC 3501 5.1), CREATE
 * with parents (6.3.3), DELETE and \Noselect (6.3.4), RENAME with children
 * and of INBOX (6.3.5), subscriptions (6.3.6, 6.3.7; RFC 5258 3), special
 * use (RFC 6154), UIDVALIDITY (2.3.1.1), STATUS and \Recent (2.3.2). */
#include <string.h>

#include "suite.h"

static int
st_count(struct ps_store_user *u, const char *name)
{
	struct ps_mailbox_status st;

	st_status(u, name, &st);
	return (int)st.messages;
}

/* User names are case-insensitive; names with '/' or ".." get a store
 * of their own, never someone else's. */
void
st_test_users(void **state)
{
	static const char *const odd[] = {
		"a/b@users.test", "../b@users.test", "..@users.test",
		"b@../users.test", "b\x01@users.test",
	};
	struct ps_error err = {""};
	struct ps_store_user *u = st_user("Alice@Users.TEST", 0), *v;

	assert_int_equal(st_attrs(u, "INBOX") & (PS_MBOX_NOSELECT |
						 PS_MBOX_HASNOCHILDREN),
			 PS_MBOX_HASNOCHILDREN);
	st_append(u, "INBOX", "Subject: hi\r\n\r\nhi\r\n", 0, NULL);
	st_ops.user_close(u);
	assert_int_equal(st_ops.user_open("alice@users.test", 0, &u, &err), 0);
	assert_int_equal(st_count(u, "INBOX"), 1);
	st_ops.user_close(u);
	v = st_user("b@users.test", 0);
	for (size_t i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
		st_ops.user_delete(odd[i], &err);
		if (st_ops.user_open(odd[i], 0, &u, &err) < 0)
			continue;
		st_append(u, "INBOX", "x\r\n", 0, NULL);
		st_ops.user_close(u);
		assert_int_equal(st_count(v, "INBOX"), 0);
	}
	assert_true(st_ops.user_open("", 0, &u, &err) < 0);
	st_ops.user_close(v);
}

void
st_test_names(void **state)
{
	struct ps_store_user *u = st_user("names@mailbox.test", 0);
	struct ps_error err = {""};
	struct ps_mailbox_status st;
	static const char *const bad[] = {
		"", "/a", "a/", "a//b", "a\x01", "\xff", "a\xc0\xafz",
	};
	char name[1002];

	st_status(u, "inbox", &st);
	st_status(u, "InBoX", &st);
	assert_int_equal(st_ops.mailbox_create(u, "Inbox", 0, &err),
			 PS_STORE_EEXIST);
	assert_int_equal(st_ops.mailbox_delete(u, "inbox", &err),
			 PS_STORE_EBADNAME);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(st_ops.mailbox_create(u, bad[i], 0, &err),
				 PS_STORE_EBADNAME);
	memset(name, 'x', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	assert_int_equal(st_ops.mailbox_create(u, name, 0, &err),
			 PS_STORE_EBADNAME);
	name[1000] = '\0';
	assert_int_equal(st_ops.mailbox_create(u, name, 0, &err), 0);
	st_status(u, name, &st);
	assert_int_equal(st_ops.mailbox_create(u, "Entwürfe/日本", 0, &err),
			 0);
	assert_int_equal(st_attrs(u, "Entwürfe") & PS_MBOX_HASCHILDREN,
			 PS_MBOX_HASCHILDREN);
	assert_int_equal(st_ops.mailbox_status(u, "nothere", &st, &err),
			 PS_STORE_ENOMBOX);
	assert_true(err.msg[0] != '\0');
	st_ops.user_close(u);
}

void
st_test_create(void **state)
{
	struct ps_store_user *u = st_user("create@mailbox.test", 0);
	struct ps_error err = {""};
	struct ps_mailbox_status st;

	assert_int_equal(st_ops.mailbox_create(u, "a/b/c", 0, &err), 0);
	assert_true(st_attrs(u, "a") & PS_MBOX_HASCHILDREN);
	assert_true(st_attrs(u, "a/b") & PS_MBOX_HASCHILDREN);
	assert_int_equal(st_attrs(u, "a/b/c"), PS_MBOX_HASNOCHILDREN);
	assert_int_equal(st_ops.mailbox_create(u, "a/b/c", 0, &err),
			 PS_STORE_EEXIST);
	st_status(u, "a/b/c", &st);
	assert_int_equal(st.messages, 0);
	assert_true(st.uidnext >= 1);
	assert_true(st.uidvalidity > 0);
	assert_true(st.highestmodseq > 0);
	assert_int_equal(st_ops.mailbox_create(u, "Sent", PS_MBOX_SENT, &err),
			 0);
	assert_int_equal(st_ops.mailbox_create(u, "Bin", PS_MBOX_TRASH |
					       PS_MBOX_JUNK, &err), 0);
	assert_int_equal(st_attrs(u, "Sent") & PS_MBOX_SPECIAL_USE,
			 PS_MBOX_SENT);
	assert_int_equal(st_attrs(u, "Bin") & PS_MBOX_SPECIAL_USE,
			 PS_MBOX_TRASH | PS_MBOX_JUNK);
	assert_int_equal(st_attrs(u, "a") & PS_MBOX_SPECIAL_USE, 0);
	assert_true(st_ops.mailbox_create(u, "Odd", PS_MBOX_NOSELECT, &err) <
		    0);
	st_ops.user_close(u);
}

/* RFC 3501 6.3.4: with children a mailbox becomes \Noselect; a
 * \Noselect one with children cannot be deleted. */
void
st_test_delete(void **state)
{
	struct ps_store_user *u = st_user("delete@mailbox.test", 0);
	struct ps_error err = {""};
	struct ps_mailbox_status st;
	struct ps_store_append *a;
	struct ps_mbox *mb;
	uint64_t bytes, msgs;
	uint32_t first;
	int r;

	assert_int_equal(st_ops.mailbox_create(u, "p/q", 0, &err), 0);
	st_append(u, "p", "one\r\n", 0, NULL);
	assert_int_equal(st_ops.mailbox_delete(u, "p", &err), 0);
	assert_int_equal(st_attrs(u, "p"), PS_MBOX_NOSELECT |
					   PS_MBOX_HASCHILDREN);
	assert_int_equal(st_ops.mailbox_status(u, "p", &st, &err),
			 PS_STORE_ENOSELECT);
	assert_int_equal(st_ops.mailbox_open(u, "p", 0, &mb, &st, &first,
					     &err), PS_STORE_ENOSELECT);
	assert_int_equal(st_ops.append_begin(u, "p", &a, &err),
			 PS_STORE_ENOSELECT);
	assert_int_equal(st_ops.mailbox_delete(u, "p", &err),
			 PS_STORE_EHASCHILD);
	assert_int_equal(st_ops.quota_get(u, &bytes, &msgs, &err), 0);
	assert_int_equal(msgs, 0);
	assert_int_equal(st_ops.mailbox_delete(u, "p/q", &err), 0);
	assert_int_equal(st_attrs(u, "p/q"), 0);
	r = st_ops.mailbox_delete(u, "p", &err);
	assert_true(r == 0 || r == PS_STORE_ENOMBOX);
	assert_int_equal(st_attrs(u, "p"), 0);
	assert_int_equal(st_ops.mailbox_delete(u, "p", &err),
			 PS_STORE_ENOMBOX);
	/* A leaf goes with its messages. */
	assert_int_equal(st_ops.mailbox_create(u, "leaf", 0, &err), 0);
	st_append(u, "leaf", "two\r\n", 0, NULL);
	assert_int_equal(st_ops.mailbox_delete(u, "leaf", &err), 0);
	assert_int_equal(st_ops.quota_get(u, &bytes, &msgs, &err), 0);
	assert_int_equal(bytes, 0);
	st_ops.user_close(u);
}

void
st_test_rename(void **state)
{
	struct ps_store_user *u = st_user("rename@mailbox.test", 0);
	struct ps_error err = {""};
	struct ps_mailbox_status before, after;
	char name[1001];

	assert_int_equal(st_ops.mailbox_create(u, "r/s/t", 0, &err), 0);
	st_append(u, "r", "in r\r\n", 0, NULL);
	st_append(u, "r/s", "in r/s\r\n", 0, NULL);
	st_status(u, "r", &before);
	assert_int_equal(st_ops.mailbox_rename(u, "r", "x/y", &err), 0);
	assert_true(st_attrs(u, "x") & PS_MBOX_HASCHILDREN);
	assert_true(st_attrs(u, "x/y/s") & PS_MBOX_HASCHILDREN);
	assert_int_equal(st_attrs(u, "x/y/s/t"), PS_MBOX_HASNOCHILDREN);
	assert_int_equal(st_attrs(u, "r"), 0);
	assert_int_equal(st_attrs(u, "r/s/t"), 0);
	st_status(u, "x/y", &after);
	assert_int_equal(after.messages, 1);
	assert_int_equal(after.uidvalidity, before.uidvalidity);
	assert_int_equal(after.uidnext, before.uidnext);
	assert_int_equal(st_count(u, "x/y/s"), 1);
	assert_int_equal(st_ops.mailbox_create(u, "z", 0, &err), 0);
	assert_int_equal(st_ops.mailbox_rename(u, "z", "x/y", &err),
			 PS_STORE_EEXIST);
	assert_int_equal(st_ops.mailbox_rename(u, "nothere", "w", &err),
			 PS_STORE_ENOMBOX);
	assert_int_equal(st_ops.mailbox_rename(u, "z", "inbox", &err),
			 PS_STORE_EEXIST);
	assert_true(st_ops.mailbox_rename(u, "x", "x/y/q", &err) < 0);
	assert_int_equal(st_ops.mailbox_rename(u, "z", "a//b", &err),
			 PS_STORE_EBADNAME);
	/* A child's name would pass 1000 bytes: refused, nothing moves. */
	memset(name, 'x', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	memcpy(name, "long/", 5);
	assert_int_equal(st_ops.mailbox_create(u, name, 0, &err), 0);
	assert_int_equal(st_ops.mailbox_rename(u, "long", "longer", &err),
			 PS_STORE_EBADNAME);
	assert_int_equal(st_attrs(u, name), PS_MBOX_HASNOCHILDREN);
	assert_int_equal(st_attrs(u, "longer"), 0);
	assert_int_equal(st_ops.mailbox_rename(u, "long", "lon", &err), 0);
	st_ops.user_close(u);
}

/* RFC 3501 6.3.5: renaming INBOX moves its messages to the new name
 * and leaves INBOX empty; its children stay where they are. */
void
st_test_rename_inbox(void **state)
{
	struct ps_store_user *u = st_user("inbox@mailbox.test", 0);
	struct ps_error err = {""};
	struct ps_mailbox_status before, after;
	uint32_t last, next;
	char buf[64];
	struct ps_mbox *mb;
	struct st_msgs m;

	st_append(u, "INBOX", "first\r\n", 0, NULL);
	last = st_append(u, "INBOX", "second\r\n", PS_FLAG_SEEN, "$Work");
	assert_int_equal(st_ops.mailbox_create(u, "INBOX/kid", 0, &err), 0);
	st_status(u, "INBOX", &before);
	assert_int_equal(st_ops.mailbox_rename(u, "inbox", "Old", &err), 0);
	st_status(u, "INBOX", &after);
	assert_int_equal(after.messages, 0);
	assert_int_equal(st_count(u, "Old"), 2);
	assert_true(st_attrs(u, "INBOX/kid") != 0);
	assert_int_equal(st_attrs(u, "Old/kid"), 0);
	next = st_append(u, "INBOX", "third\r\n", 0, NULL);
	if (after.uidvalidity == before.uidvalidity)
		assert_true(next > last);
	mb = st_select(u, "Old", PS_OPEN_READONLY, &after, NULL);
	assert_int_equal(st_fetch(mb, NULL, 0, &m), 0);
	assert_int_equal(m.n, 2);
	assert_int_equal(m.m[1].flags, PS_FLAG_SEEN);
	assert_string_equal(m.m[1].keywords, "$Work");
	st_read_all(mb, m.m[1].uid, buf, sizeof(buf));
	assert_string_equal(buf, "second\r\n");
	st_ops.mailbox_close(mb);
	assert_int_equal(st_ops.mailbox_rename(u, "INBOX", "INBOX/old", &err),
			 0);
	assert_int_equal(st_count(u, "INBOX/old"), 1);
	st_ops.user_close(u);
}

/* What an open handle's calls answer once its mailbox is gone. */
static void
st_assert_gone(struct ps_mbox *mb)
{
	struct ps_error err = {""};
	struct ps_uid_range all = {1, UINT32_MAX};
	struct st_msgs m = {.n = 0};
	struct st_uids x = {.n = 0};

	assert_int_equal(st_ops.changes_since(mb, 0, st_msg_collect,
					      st_uid_collect, &m, &err),
			 PS_STORE_ENOMBOX);
	assert_int_equal(m.n, 0);
	assert_int_equal(st_ops.msg_store(mb, &all, 1, PS_STORE_ADD,
					  PS_FLAG_DELETED, NULL, 0, 0, NULL,
					  NULL, NULL, &err),
			 PS_STORE_ENOMBOX);
	assert_int_equal(st_ops.expunge(mb, NULL, 0, st_uid_collect, &x,
					&err), PS_STORE_ENOMBOX);
	assert_int_equal(x.n, 0);
	st_ops.mailbox_close(mb);
}

/* An open mailbox (SELECT) follows its mailbox through a rename of it
 * or of a parent; once the mailbox is deleted the handle reaches
 * nothing, not even a mailbox created under the same name afterwards,
 * which is another one (RFC 3501 2.3.1.1, a new UIDVALIDITY): the
 * protocol tells its client the mailbox is gone (RFC 2180 3). */
void
st_test_open_deleted(void **state)
{
	struct ps_store_user *u = st_user("opendel@mailbox.test", 0);
	struct ps_error err = {""};
	struct ps_mbox *leaf, *parent, *moved;
	struct st_msgs m = {.n = 0};
	uint32_t uid;

	assert_int_equal(st_ops.mailbox_create(u, "leaf", 0, &err), 0);
	st_append(u, "leaf", "one\r\n", 0, NULL);
	leaf = st_select(u, "leaf", 0, NULL, NULL);
	assert_int_equal(st_ops.mailbox_delete(u, "leaf", &err), 0);
	assert_int_equal(st_ops.mailbox_create(u, "leaf", 0, &err), 0);
	st_append(u, "leaf", "new\r\n", PS_FLAG_DELETED, NULL);
	st_assert_gone(leaf);
	assert_int_equal(st_count(u, "leaf"), 1);

	/* Deleted with children: the name stays, \Noselect, and may then
	 * become a mailbox again; the handle's mailbox is gone in both. */
	assert_int_equal(st_ops.mailbox_create(u, "p/kid", 0, &err), 0);
	st_append(u, "p", "one\r\n", 0, NULL);
	parent = st_select(u, "p", 0, NULL, NULL);
	assert_int_equal(st_ops.mailbox_delete(u, "p", &err), 0);
	assert_int_equal(st_ops.changes_since(parent, 0, st_msg_collect,
					      NULL, &m, &err),
			 PS_STORE_ENOMBOX);
	assert_int_equal(st_ops.mailbox_create(u, "p", 0, &err), 0);
	st_append(u, "p", "new\r\n", PS_FLAG_DELETED, NULL);
	st_assert_gone(parent);
	assert_int_equal(st_count(u, "p"), 1);

	/* A rename is no delete: the handle sees what comes to the new
	 * name. */
	assert_int_equal(st_ops.mailbox_create(u, "a/b", 0, &err), 0);
	moved = st_select(u, "a/b", 0, NULL, NULL);
	assert_int_equal(st_ops.mailbox_rename(u, "a", "c", &err), 0);
	uid = st_append(u, "c/b", "moved\r\n", 0, NULL);
	assert_int_equal(st_ops.changes_since(moved, 0, st_msg_collect, NULL,
					      &m, &err), 0);
	assert_int_equal(m.n, 1);
	assert_int_equal(m.m[0].uid, uid);
	st_ops.mailbox_close(moved);
	st_ops.user_close(u);
}

/* RENAME takes the subscriptions of the mailboxes it moves along (the
 * client asked for the new names); subscribed names that are no mailbox
 * stay as they are (RFC 9051 6.3.7), and so does INBOX's, as INBOX
 * stays (RFC 3501 6.3.5). */
void
st_test_rename_subscriptions(void **state)
{
	static const unsigned ghost = PS_MBOX_NONEXISTENT | PS_MBOX_SUBSCRIBED;
	static const char *const subscribed[] = {
		"s", "s/k/g", "s/ghost", "sx", "t/ghost", "INBOX",
	};
	struct ps_store_user *u = st_user("subren@mailbox.test", 0);
	struct ps_error err = {""};

	assert_int_equal(st_ops.mailbox_create(u, "s/k/g", 0, &err), 0);
	assert_int_equal(st_ops.mailbox_create(u, "s/u", 0, &err), 0);
	assert_int_equal(st_ops.mailbox_create(u, "sx", 0, &err), 0);
	for (size_t i = 0; i < sizeof(subscribed) / sizeof(subscribed[0]);
	     i++)
		assert_int_equal(st_ops.mailbox_subscribe(u, subscribed[i], 1,
							  &err), 0);
	assert_int_equal(st_ops.mailbox_rename(u, "s", "t", &err), 0);
	assert_true(st_attrs(u, "t") & PS_MBOX_SUBSCRIBED);
	assert_true(st_attrs(u, "t/k/g") & PS_MBOX_SUBSCRIBED);
	assert_int_equal(st_attrs(u, "t/k") & PS_MBOX_SUBSCRIBED, 0);
	assert_int_equal(st_attrs(u, "t/u") & PS_MBOX_SUBSCRIBED, 0);
	assert_int_equal(st_attrs(u, "s"), 0);
	assert_int_equal(st_attrs(u, "s/k/g"), 0);
	assert_int_equal(st_attrs(u, "s/ghost") & ghost, ghost);
	assert_int_equal(st_attrs(u, "t/ghost") & ghost, ghost);
	assert_true(st_attrs(u, "sx") & PS_MBOX_SUBSCRIBED);
	assert_int_equal(st_ops.mailbox_rename(u, "INBOX", "old", &err), 0);
	assert_true(st_attrs(u, "INBOX") & PS_MBOX_SUBSCRIBED);
	assert_int_equal(st_attrs(u, "old") & PS_MBOX_SUBSCRIBED, 0);
	st_ops.user_close(u);
}

/* Subscriptions are names (RFC 3501 6.3.6); a subscribed name that does
 * not exist is \NonExistent (RFC 5258 3). */
void
st_test_subscribe(void **state)
{
	struct ps_store_user *u = st_user("subscribe@mailbox.test", 0);
	struct ps_error err = {""};

	assert_int_equal(st_ops.mailbox_create(u, "sub1", 0, &err), 0);
	assert_int_equal(st_ops.mailbox_create(u, "sub2", 0, &err), 0);
	assert_int_equal(st_ops.mailbox_subscribe(u, "sub1", 1, &err), 0);
	assert_int_equal(st_ops.mailbox_subscribe(u, "sub1", 1, &err), 0);
	assert_int_equal(st_ops.mailbox_subscribe(u, "sub2", 1, &err), 0);
	assert_int_equal(st_ops.mailbox_subscribe(u, "ghost", 1, &err), 0);
	assert_true(st_attrs(u, "sub1") & PS_MBOX_SUBSCRIBED);
	assert_int_equal(st_attrs(u, "ghost") & (PS_MBOX_NONEXISTENT |
						 PS_MBOX_SUBSCRIBED),
			 PS_MBOX_NONEXISTENT | PS_MBOX_SUBSCRIBED);
	assert_int_equal(st_ops.mailbox_subscribe(u, "sub1", 0, &err), 0);
	assert_int_equal(st_attrs(u, "sub1") & PS_MBOX_SUBSCRIBED, 0);
	assert_int_equal(st_ops.mailbox_subscribe(u, "never", 0, &err), 0);
	assert_int_equal(st_ops.mailbox_delete(u, "sub2", &err), 0);
	assert_int_equal(st_attrs(u, "sub2") & (PS_MBOX_NONEXISTENT |
						PS_MBOX_SUBSCRIBED),
			 PS_MBOX_NONEXISTENT | PS_MBOX_SUBSCRIBED);
	assert_int_equal(st_attrs(u, "INBOX") & PS_MBOX_SUBSCRIBED, 0);
	assert_int_equal(st_ops.mailbox_subscribe(u, "a//b", 1, &err),
			 PS_STORE_EBADNAME);
	st_ops.user_close(u);
}

/* A name deleted and created again, at once, gets a greater
 * UIDVALIDITY (RFC 3501 2.3.1.1). */
void
st_test_uidvalidity(void **state)
{
	struct ps_store_user *u = st_user("uidvalidity@mailbox.test", 0);
	struct ps_error err = {""};
	struct ps_mailbox_status a, b;

	assert_int_equal(st_ops.mailbox_create(u, "v", 0, &err), 0);
	st_append(u, "v", "x\r\n", 0, NULL);
	st_status(u, "v", &a);
	assert_int_equal(st_ops.mailbox_delete(u, "v", &err), 0);
	assert_int_equal(st_ops.mailbox_create(u, "v", 0, &err), 0);
	st_status(u, "v", &b);
	assert_true(b.uidvalidity > a.uidvalidity);
	assert_int_equal(b.messages, 0);
	st_ops.user_close(u);
}

/* STATUS counts, and \Recent claimed by the first read-write open
 * (RFC 3501 2.3.2); EXAMINE claims nothing. */
void
st_test_status_recent(void **state)
{
	struct ps_store_user *u = st_user("status@mailbox.test", 0);
	struct ps_error err = {""};
	struct ps_mailbox_status st, st2;
	struct ps_mbox *mb, *mb2;
	uint32_t first, uid1, uid5;

	assert_int_equal(st_ops.mailbox_create(u, "R", 0, &err), 0);
	st_status(u, "R", &st);
	uid1 = st_append(u, "R", "1234\r\n", 0, NULL);
	st_append(u, "R", "12345\r\n", PS_FLAG_FLAGGED, NULL);
	st_append(u, "R", "123456\r\n", 0, NULL);
	st_append(u, "R", "1234567\r\n", PS_FLAG_SEEN, NULL);
	st_status(u, "R", &st2);
	assert_true(st2.highestmodseq > st.highestmodseq);
	assert_int_equal(st2.messages, 4);
	assert_int_equal(st2.recent, 4);
	assert_int_equal(st2.unseen, 3);
	assert_int_equal(st2.size, 6 + 7 + 8 + 9);
	assert_true(st2.uidnext > uid1 + 3);
	mb = st_select(u, "R", PS_OPEN_READONLY, &st, &first);
	assert_int_equal(first, st.uidnext);
	st_ops.mailbox_close(mb);
	mb = st_select(u, "R", 0, &st, &first);
	assert_int_equal(first, uid1);
	assert_int_equal(st.recent, 4);
	mb2 = st_select(u, "R", 0, &st, &first);
	assert_int_equal(first, st.uidnext);
	assert_int_equal(st.recent, 0);
	st_ops.mailbox_close(mb2);
	st_status(u, "R", &st);
	assert_int_equal(st.recent, 0);
	uid5 = st_append(u, "R", "late\r\n", 0, NULL);
	st_status(u, "R", &st);
	assert_int_equal(st.recent, 1);
	mb2 = st_select(u, "R", 0, &st, &first);
	assert_int_equal(first, uid5);
	assert_int_equal(st.recent, 1);
	assert_int_equal(st.uidnext, uid5 + 1);
	st_ops.mailbox_close(mb2);
	st_ops.mailbox_close(mb);
	st_ops.user_close(u);
}
