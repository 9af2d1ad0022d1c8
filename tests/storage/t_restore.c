/* Conformance: the optional ops of SDK 1.6 that restore a mailbox as it
 * was elsewhere (poshtactl migrate): mailbox_set_uidvalidity only while
 * the mailbox never held a message, append_msg_uid with UIDs at or above
 * uidnext and ascending, uidnext past the last one after the commit
 * (RFC 3501 2.3.1.1). A backend without them is skipped. */
#include <string.h>

#include "suite.h"

static int
have_ops(void)
{
	return st_ops.mailbox_set_uidvalidity && st_ops.append_msg_uid;
}

/* One message with uid (0: the next) appended in a transaction of its
 * own; the commit's result. */
static int
append_uid(struct ps_store_user *u, const char *mailbox, uint32_t uid,
	   uint32_t *got_r)
{
	struct ps_error err = {""};
	struct ps_store_append *a;
	int r;

	assert_int_equal(st_ops.append_begin(u, mailbox, &a, &err), 0);
	assert_int_equal(st_ops.append_msg_begin(a, PS_FLAG_SEEN, NULL, 0,
						 1600000000, 120, &err), 0);
	if (uid && (r = st_ops.append_msg_uid(a, uid, &err)) < 0) {
		st_ops.append_abort(a);
		return r;
	}
	assert_int_equal(st_ops.append_data(a, "x\r\n", 3, &err), 0);
	assert_int_equal(st_ops.append_msg_end(a, NULL, 0, &err), 0);
	return st_ops.append_commit(a, got_r, NULL, &err);
}

void
st_test_restore_uidvalidity(void **state)
{
	struct ps_store_user *u;
	struct ps_error err = {""};
	struct ps_mailbox_status st;
	uint32_t uid;

	(void)state;
	if (!have_ops())
		skip();
	u = st_user("restore1@restore.test", 0);
	assert_int_equal(st_ops.mailbox_create(u, "Old", 0, &err), 0);
	assert_int_equal(st_ops.mailbox_set_uidvalidity(u, "Old", 12345, &err),
			 0);
	st_status(u, "Old", &st);
	assert_int_equal(st.uidvalidity, 12345);
	assert_int_equal(st.uidnext, 1);
	/* Again, while it is still empty. */
	assert_int_equal(st_ops.mailbox_set_uidvalidity(u, "Old", 777, &err),
			 0);
	st_status(u, "Old", &st);
	assert_int_equal(st.uidvalidity, 777);
	assert_int_equal(st_ops.mailbox_set_uidvalidity(u, "Nowhere", 5, &err),
			 PS_STORE_ENOMBOX);
	assert_int_equal(append_uid(u, "Old", 0, &uid), 0);
	assert_int_equal(uid, 1);
	assert_int_equal(st_ops.mailbox_set_uidvalidity(u, "Old", 999, &err),
			 PS_EINVAL);
	st_status(u, "Old", &st);
	assert_int_equal(st.uidvalidity, 777);
	st_ops.user_close(u);
}

void
st_test_restore_uids(void **state)
{
	struct ps_store_user *u;
	struct ps_error err = {""};
	struct ps_store_append *a;
	struct ps_mailbox_status st;
	uint32_t got[3], uid;
	struct ps_mbox *mb;
	struct st_msgs m;
	char buf[16];

	(void)state;
	if (!have_ops())
		skip();
	u = st_user("restore2@restore.test", 0);
	/* Ascending, with gaps, one left to the backend. */
	assert_int_equal(st_ops.append_begin(u, "INBOX", &a, &err), 0);
	assert_int_equal(st_ops.append_msg_begin(a, 0, NULL, 0, 1, 0, &err), 0);
	assert_int_equal(st_ops.append_msg_uid(a, 5, &err), 0);
	assert_int_equal(st_ops.append_data(a, "five\r\n", 6, &err), 0);
	assert_int_equal(st_ops.append_msg_end(a, NULL, 0, &err), 0);
	assert_int_equal(st_ops.append_msg_begin(a, 0, NULL, 0, 2, 0, &err), 0);
	assert_int_equal(st_ops.append_msg_uid(a, 9, &err), 0);
	assert_int_equal(st_ops.append_msg_end(a, NULL, 0, &err), 0);
	assert_int_equal(st_ops.append_msg_begin(a, 0, NULL, 0, 3, 0, &err), 0);
	assert_int_equal(st_ops.append_msg_end(a, NULL, 0, &err), 0);
	assert_int_equal(st_ops.append_commit(a, got, NULL, &err), 0);
	assert_int_equal(got[0], 5);
	assert_int_equal(got[1], 9);
	assert_int_equal(got[2], 10);
	st_status(u, "INBOX", &st);
	assert_int_equal(st.uidnext, 11);
	assert_int_equal(st.messages, 3);
	mb = st_select(u, "INBOX", PS_OPEN_READONLY, NULL, NULL);
	assert_int_equal(st_fetch(mb, NULL, 0, &m), 0);
	assert_int_equal(m.n, 3);
	assert_int_equal(m.m[0].uid, 5);
	assert_int_equal(m.m[0].date, 1);
	st_read_all(mb, 5, buf, sizeof(buf));
	assert_string_equal(buf, "five\r\n");
	st_ops.mailbox_close(mb);
	/* Below uidnext, or not above the transaction's last one: refused,
	 * at the call or at the commit, and nothing is stored. */
	assert_int_equal(append_uid(u, "INBOX", 10, &uid), PS_EINVAL);
	assert_int_equal(st_ops.append_begin(u, "INBOX", &a, &err), 0);
	assert_int_equal(st_ops.append_msg_begin(a, 0, NULL, 0, 1, 0, &err), 0);
	assert_int_equal(st_ops.append_msg_uid(a, 20, &err), 0);
	assert_int_equal(st_ops.append_msg_end(a, NULL, 0, &err), 0);
	assert_int_equal(st_ops.append_msg_begin(a, 0, NULL, 0, 1, 0, &err), 0);
	assert_int_equal(st_ops.append_msg_uid(a, 20, &err), PS_EINVAL);
	st_ops.append_abort(a);
	st_status(u, "INBOX", &st);
	assert_int_equal(st.uidnext, 11);
	assert_int_equal(st.messages, 3);
	/* At uidnext exactly, then the next one as usual. */
	assert_int_equal(append_uid(u, "INBOX", 11, &uid), 0);
	assert_int_equal(uid, 11);
	assert_int_equal(append_uid(u, "INBOX", 0, &uid), 0);
	assert_int_equal(uid, 12);
	st_ops.user_close(u);
}
