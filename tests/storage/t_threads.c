/* Conformance: many threads of one process appending to one user at
 * once, as a busy worker's pool does. Every append lands once, with its
 * own UID and its own bytes; one append that fails at commit (its quota
 * passed meanwhile) fails alone, whatever others commit beside it. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "suite.h"

#define ST_THREADS 8
#define ST_EACH 40

static const char st_threads_user[] = "threads@process.test";

struct st_thread {
	pthread_t tid;
	int n;
	uint32_t uids[ST_EACH];
	char error[256]; /* the first failure, or empty */
};

static int
st_thread_append(struct ps_store_user *u, const char *body, uint32_t *uid,
		 struct ps_error *err)
{
	struct ps_store_append *a;
	uint32_t uidvalidity;

	if (st_ops.append_begin(u, "INBOX", &a, err) < 0)
		return -1;
	if (st_ops.append_msg_begin(a, 0, NULL, 0, 0, 0, err) < 0 ||
	    st_ops.append_data(a, body, strlen(body), err) < 0 ||
	    st_ops.append_msg_end(a, NULL, 0, err) < 0) {
		st_ops.append_abort(a);
		return -1;
	}
	return st_ops.append_commit(a, uid, &uidvalidity, err);
}

/* No cmocka in threads: failures go back in t->error. */
static void *
st_thread_main(void *arg)
{
	struct st_thread *t = arg;
	struct ps_error err = {""};
	struct ps_store_user *u;
	char body[80];

	if (st_ops.user_open(st_threads_user, 0, &u, &err) < 0) {
		snprintf(t->error, sizeof(t->error), "user_open: %s", err.msg);
		return NULL;
	}
	for (int i = 0; i < ST_EACH; i++) {
		snprintf(body, sizeof(body), "From: thread %d\r\n\r\nmessage %d"
			 "\r\n", t->n, i);
		if (st_thread_append(u, body, &t->uids[i], &err) < 0) {
			snprintf(t->error, sizeof(t->error), "append %d: %s",
				 i, err.msg);
			break;
		}
	}
	st_ops.user_close(u);
	return NULL;
}

static void
st_threads_check(struct ps_store_user *u, struct st_thread *t)
{
	struct ps_mailbox_status st;
	struct ps_mbox *mb = st_select(u, "INBOX", 0, &st, NULL);
	char want[80], got[80];

	assert_int_equal(st.messages, ST_THREADS * ST_EACH);
	for (int c = 0; c < ST_THREADS; c++) {
		if (t[c].error[0])
			fail_msg("thread %d: %s", c, t[c].error);
		for (int i = 0; i < ST_EACH; i++) {
			assert_true(i == 0 || t[c].uids[i] > t[c].uids[i - 1]);
			snprintf(want, sizeof(want), "From: thread %d\r\n\r\n"
				 "message %d\r\n", c, i);
			st_read_all(mb, t[c].uids[i], got, sizeof(got));
			assert_string_equal(got, want);
		}
	}
	st_ops.mailbox_close(mb);
}

/* An append whose quota was fine when its bytes came but is passed by
 * the time it commits, while the threads commit beside it. */
static void
st_threads_over_quota(struct ps_store_user *quota_u, struct st_thread *t)
{
	struct ps_error err = {""};
	struct ps_store_append *a;
	uint32_t uid, uidvalidity;
	static const char body[] = "From: late\r\n\r\ntoo late\r\n";

	assert_int_equal(st_ops.append_begin(quota_u, "INBOX", &a, &err), 0);
	assert_int_equal(st_ops.append_msg_begin(a, 0, NULL, 0, 0, 0, &err),
			 0);
	assert_int_equal(st_ops.append_data(a, body, strlen(body), &err), 0);
	assert_int_equal(st_ops.append_msg_end(a, NULL, 0, &err), 0);
	for (int c = 0; c < ST_THREADS; c++)
		assert_int_equal(pthread_create(&t[c].tid, NULL,
						st_thread_main, &t[c]), 0);
	/* Commit while they run, once they have passed the quota. The wait
	 * is bounded in time, not in polls: a fast quota_get on a loaded
	 * machine ran out of polls before the threads had committed. */
	for (time_t end = time(NULL) + 60; time(NULL) < end; usleep(1000)) {
		uint64_t bytes = 0, msgs = 0;

		st_ops.quota_get(quota_u, &bytes, &msgs, &err);
		if (msgs >= ST_EACH)
			break;
	}
	assert_int_equal(st_ops.append_commit(a, &uid, &uidvalidity, &err),
			 PS_STORE_EQUOTA);
	for (int c = 0; c < ST_THREADS; c++)
		assert_int_equal(pthread_join(t[c].tid, NULL), 0);
}

void
st_test_threads(void **state)
{
	static struct st_thread t[ST_THREADS];
	struct ps_store_user *u = st_user(st_threads_user, 0), *quota_u;
	struct ps_error err = {""};
	uint64_t bytes = 0, msgs = 0;

	(void)state;
	for (int c = 0; c < ST_THREADS; c++)
		t[c] = (struct st_thread){ .n = c };
	/* The quota: what is there now (nothing) plus one small message. */
	assert_int_equal(st_ops.quota_get(u, &bytes, &msgs, &err), 0);
	assert_int_equal(st_ops.user_open(st_threads_user, bytes + 64,
					  &quota_u, &err), 0);
	st_threads_over_quota(quota_u, t);
	st_ops.user_close(quota_u);
	st_threads_check(u, t);
	st_ops.user_close(u);
}
