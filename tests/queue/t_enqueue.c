/* Conformance: enqueue. The envelope (RFC 5321 MAIL, RFC 3461 RET and
 * ENVID, SMTPUTF8, 8BITMIME, REQUIRETLS), the recipients (RFC 3461
 * NOTIFY and ORCPT, local or remote) and the body come back exactly as
 * given; bad input is refused before anything is stored; an aborted
 * enqueue leaves nothing. */
#include <stdio.h>
#include <string.h>

#include "suite.h"

static int
qt_is_hex_id(const char *id)
{
	if (strlen(id) != PS_QUEUE_ID_LEN)
		return 0;
	for (const char *p = id; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return 0;
	return 1;
}

void
qt_test_enqueue(void **state)
{
	static const char body[] = "Received: from client.test\r\n"
				   "Subject: read back\r\n\r\n"
				   "line one\r\n\xc3\xa9t\xc3\xa9\r\n.\r\n";
	struct ps_queue_rcpt_in r[3] = {
		qt_remote("Bob@Remote.TEST"),
		qt_local("alias@here.test", "alice@here.test"),
		qt_local("alias@here.test", "carol@here.test"),
	};
	struct ps_queue_envelope env = qt_env("s\xc3\xa9nder@origin.test",
					      QT_T0 + 5);
	char id[PS_QUEUE_ID_LEN + 1], id2[PS_QUEUE_ID_LEN + 1], buf[256];
	struct qt_msg m;
	static struct qt_msgs all;

	(void)state;
	qt_empty();
	env.ret = PS_QUEUE_RET_HDRS;
	env.envid = "QQ314159";
	env.flags = PS_QUEUE_SMTPUTF8 | PS_QUEUE_8BITMIME |
		    PS_QUEUE_REQUIRETLS;
	env.user = "submitter@origin.test";
	env.client = "client.test [192.0.2.1]";
	r[0].orcpt = "rfc822;Bob@Remote.TEST";
	r[0].notify = PS_QUEUE_NOTIFY_FAILURE | PS_QUEUE_NOTIFY_DELAY;
	r[1].notify = PS_QUEUE_NOTIFY_NEVER;
	qt_enqueue(id, &env, r, 3, body);
	assert_true(qt_is_hex_id(id));
	assert_int_equal(qt_get(id, &m), 0);
	assert_string_equal(m.id, id);
	assert_string_equal(m.sender, "s\xc3\xa9nder@origin.test");
	assert_int_equal(m.ret, PS_QUEUE_RET_HDRS);
	assert_string_equal(m.envid, "QQ314159");
	assert_int_equal(m.flags, PS_QUEUE_SMTPUTF8 | PS_QUEUE_8BITMIME |
			 PS_QUEUE_REQUIRETLS);
	assert_int_equal(m.arrival, QT_T0 + 5);
	assert_int_equal(m.body_size, strlen(body));
	assert_true(m.has_user && m.has_client);
	assert_string_equal(m.user, "submitter@origin.test");
	assert_string_equal(m.client, "client.test [192.0.2.1]");
	assert_int_equal(m.held, 0);
	assert_int_equal(m.nrcpts, 3);
	assert_int_equal(m.n, 3);
	for (unsigned i = 0; i < 3; i++) {
		assert_int_equal(m.r[i].index, i);
		assert_int_equal(m.r[i].state, PS_QUEUE_QUEUED);
		assert_int_equal(m.r[i].attempts, 0);
		assert_int_equal(m.r[i].next_attempt, QT_T0 + 5);
		assert_int_equal(m.r[i].last_attempt, 0);
		assert_int_equal(m.r[i].report, 0);
		assert_int_equal(m.r[i].lease, 0);
		assert_string_equal(m.r[i].diag, "");
	}
	assert_string_equal(m.r[0].address, "Bob@Remote.TEST");
	assert_int_equal(m.r[0].kind, PS_QUEUE_REMOTE);
	assert_false(m.r[0].has_user);
	assert_string_equal(m.r[0].route, "remote.test");
	assert_string_equal(m.r[0].orcpt, "rfc822;Bob@Remote.TEST");
	assert_int_equal(m.r[0].notify, PS_QUEUE_NOTIFY_FAILURE |
			 PS_QUEUE_NOTIFY_DELAY);
	assert_int_equal(m.r[1].kind, PS_QUEUE_LOCAL);
	assert_string_equal(m.r[1].address, "alias@here.test");
	assert_string_equal(m.r[1].user, "alice@here.test");
	assert_string_equal(m.r[1].route, "alice@here.test");
	assert_string_equal(m.r[1].orcpt, "");
	assert_int_equal(m.r[1].notify, PS_QUEUE_NOTIFY_NEVER);
	assert_string_equal(m.r[2].user, "carol@here.test");
	qt_read_all(id, buf, sizeof(buf));
	assert_string_equal(buf, body);

	/* The null sender, no options, an empty body. */
	env = qt_env("", QT_T0);
	qt_enqueue(id2, &env, r, 1, "");
	assert_string_not_equal(id, id2);
	assert_int_equal(qt_get(id2, &m), 0);
	assert_string_equal(m.sender, "");
	assert_int_equal(m.ret, PS_QUEUE_RET_NONE);
	assert_string_equal(m.envid, "");
	assert_false(m.has_user || m.has_client);
	assert_int_equal(m.body_size, 0);
	qt_read_all(id2, buf, sizeof(buf));
	assert_string_equal(buf, "");

	/* list: oldest first. */
	qt_list(&all);
	assert_int_equal(all.n, 2);
	assert_string_equal(all.m[0].id, id2);
	assert_string_equal(all.m[1].id, id);
	assert_int_equal(all.m[1].n, 3);
	assert_int_equal(qt_get("0123456789abcdef", &m), PS_ENOENT);
}

/* enq_begin must fail with PS_EINVAL and leave nothing behind. */
static void
qt_refused(const struct ps_queue_envelope *env,
	   const struct ps_queue_rcpt_in *r, size_t n)
{
	struct ps_error err = {""};
	struct ps_queue_enq *e = (struct ps_queue_enq *)&err;
	char id[PS_QUEUE_ID_LEN + 1];

	assert_int_equal(qt_ops.enq_begin(env, r, n, &e, id, &err), PS_EINVAL);
	assert_null(e);
	assert_true(err.msg[0] != '\0');
}

void
qt_test_enqueue_bounds(void **state)
{
	char envid[PS_QUEUE_ENVID_MAX + 2], orcpt[PS_QUEUE_ORCPT_MAX + 2];
	struct ps_queue_envelope env = qt_env("a@b.test", QT_T0), bad;
	struct ps_queue_rcpt_in r = qt_remote("c@d.test"), rb;
	static struct qt_msgs all;

	(void)state;
	qt_empty();
	memset(envid, 'x', sizeof(envid) - 1);
	envid[sizeof(envid) - 1] = '\0';
	memset(orcpt, 'y', sizeof(orcpt) - 1);
	orcpt[sizeof(orcpt) - 1] = '\0';
	qt_refused(NULL, &r, 1);
	qt_refused(&env, &r, 0);
	qt_refused(&env, NULL, 1);
	bad = env, bad.size = 8;
	qt_refused(&bad, &r, 1);
	bad = env, bad.sender = NULL;
	qt_refused(&bad, &r, 1);
	bad = env, bad.sender = "a@b.test\r\nBcc: x@y.test";
	qt_refused(&bad, &r, 1);
	bad = env, bad.ret = 3;
	qt_refused(&bad, &r, 1);
	bad = env, bad.flags = 0x80;
	qt_refused(&bad, &r, 1);
	bad = env, bad.envid = envid;
	qt_refused(&bad, &r, 1);
	rb = r, rb.orcpt = orcpt;
	qt_refused(&env, &rb, 1);
	rb = r, rb.address = "";
	qt_refused(&env, &rb, 1);
	rb = r, rb.address = "no-domain";
	qt_refused(&env, &rb, 1);
	rb = r, rb.address = "trailing@";
	qt_refused(&env, &rb, 1);
	rb = r, rb.user = "someone";
	qt_refused(&env, &rb, 1);
	rb = qt_local("x@here.test", NULL);
	qt_refused(&env, &rb, 1);
	rb = qt_local("x@here.test", "");
	qt_refused(&env, &rb, 1);
	rb = r, rb.kind = 0;
	qt_refused(&env, &rb, 1);
	rb = r, rb.kind = PS_QUEUE_LOCAL | PS_QUEUE_REMOTE;
	qt_refused(&env, &rb, 1);
	rb = r, rb.notify = PS_QUEUE_NOTIFY_NEVER | PS_QUEUE_NOTIFY_SUCCESS;
	qt_refused(&env, &rb, 1);
	rb = r, rb.notify = 0x10;
	qt_refused(&env, &rb, 1);
	rb = r, rb.size = 4;
	qt_refused(&env, &rb, 1);
	/* At the bounds exactly: accepted. */
	envid[PS_QUEUE_ENVID_MAX] = '\0';
	orcpt[PS_QUEUE_ORCPT_MAX] = '\0';
	env.envid = envid;
	r.orcpt = orcpt;
	{
		char id[PS_QUEUE_ID_LEN + 1];
		struct qt_msg m;

		qt_enqueue(id, &env, &r, 1, "x\r\n");
		assert_int_equal(qt_get(id, &m), 0);
		assert_int_equal(strlen(m.envid), PS_QUEUE_ENVID_MAX);
	}
	qt_list(&all);
	assert_int_equal(all.n, 1);
}

/* Abort, and commit after a failed call, store nothing; abort of NULL
 * is harmless. Bodies past one chunk spool somewhere: abort drops that
 * too (the runner script checks the folder afterwards). */
void
qt_test_abort(void **state)
{
	static unsigned char big[200 * 1024];
	struct ps_queue_rcpt_in r = qt_remote("c@d.test");
	struct ps_queue_envelope env = qt_env("a@b.test", QT_T0);
	char id[PS_QUEUE_ID_LEN + 1];
	struct ps_error err = {""};
	struct ps_queue_enq *e;
	struct qt_msg m;
	static struct qt_msgs all;

	(void)state;
	qt_empty();
	memset(big, 'z', sizeof(big));
	assert_int_equal(qt_ops.enq_begin(&env, &r, 1, &e, id, &err), 0);
	assert_int_equal(qt_ops.enq_data(e, "gone\r\n", 6, &err), 0);
	qt_ops.enq_abort(e);
	assert_int_equal(qt_get(id, &m), PS_ENOENT);
	assert_int_equal(qt_ops.enq_begin(&env, &r, 1, &e, id, &err), 0);
	assert_int_equal(qt_ops.enq_data(e, big, sizeof(big), &err), 0);
	assert_int_equal(qt_ops.enq_data(e, big, sizeof(big), &err), 0);
	qt_ops.enq_abort(e);
	qt_ops.enq_abort(NULL);
	qt_list(&all);
	assert_int_equal(all.n, 0);
	assert_int_equal(qt_next_due(0), -1);
}
