/* Conformance: many threads of one process at once, as a busy worker's
 * pool runs them. Concurrent enqueues (which the backend may commit
 * together) each land once with their own id, recipients and bytes;
 * concurrent lessees never get the same recipient. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "suite.h"

#define QT_THREADS 8
#define QT_EACH 40

struct qt_thread {
	pthread_t tid;
	int n;
	char ids[QT_EACH][PS_QUEUE_ID_LEN + 1];
	char error[256]; /* the first failure, or empty */
};

static void
qt_thread_body(char *buf, size_t len, int t, int i)
{
	snprintf(buf, len, "From: thread %d\r\n\r\nmessage %d\r\n", t, i);
}

/* No cmocka in threads: failures go back in t->error. */
static void *
qt_enqueuer(void *arg)
{
	struct qt_thread *t = arg;
	struct ps_queue_envelope env = qt_env("t@origin.test", QT_T0);
	struct ps_queue_rcpt_in r[2];
	struct ps_error err = {""};
	char body[80], user[32];

	snprintf(user, sizeof(user), "user%d", t->n);
	r[0] = qt_remote("x@remote.test");
	r[1] = qt_local(user, user);
	for (int i = 0; i < QT_EACH; i++) {
		struct ps_queue_enq *e;

		qt_thread_body(body, sizeof(body), t->n, i);
		if (qt_ops.enq_begin(&env, r, 2, &e, t->ids[i], &err) < 0 ||
		    qt_ops.enq_data(e, body, strlen(body), &err) < 0 ||
		    qt_ops.enq_commit(e, &err) < 0) {
			snprintf(t->error, sizeof(t->error), "enqueue %d: %s",
				 i, err.msg);
			break;
		}
	}
	return NULL;
}

static int
qt_id_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

void
qt_test_group_commit(void **state)
{
	static struct qt_thread t[QT_THREADS];
	static char ids[QT_THREADS * QT_EACH][PS_QUEUE_ID_LEN + 1];
	struct timespec t0, t1;
	char want[80], got[80], user[32];
	struct qt_msg m;
	double secs;

	(void)state;
	qt_empty();
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int c = 0; c < QT_THREADS; c++) {
		t[c] = (struct qt_thread){ .n = c };
		assert_int_equal(pthread_create(&t[c].tid, NULL, qt_enqueuer,
						&t[c]), 0);
	}
	for (int c = 0; c < QT_THREADS; c++)
		assert_int_equal(pthread_join(t[c].tid, NULL), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) +
	       (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	print_message("%d threads enqueued %d messages in %.2f s\n",
		      QT_THREADS, QT_THREADS * QT_EACH, secs);
	for (int c = 0; c < QT_THREADS; c++) {
		if (t[c].error[0])
			fail_msg("thread %d: %s", c, t[c].error);
		snprintf(user, sizeof(user), "user%d", c);
		for (int i = 0; i < QT_EACH; i++) {
			assert_int_equal(qt_get(t[c].ids[i], &m), 0);
			assert_int_equal(m.n, 2);
			assert_string_equal(m.r[1].user, user);
			qt_thread_body(want, sizeof(want), c, i);
			qt_read_all(t[c].ids[i], got, sizeof(got));
			assert_string_equal(got, want);
		}
	}
	/* Every id is its own: as many messages as enqueues. */
	for (int c = 0; c < QT_THREADS; c++)
		for (int i = 0; i < QT_EACH; i++)
			memcpy(ids[c * QT_EACH + i], t[c].ids[i],
			       sizeof(ids[0]));
	qsort(ids, QT_THREADS * QT_EACH, sizeof(ids[0]), qt_id_cmp);
	for (int i = 1; i < QT_THREADS * QT_EACH; i++)
		assert_string_not_equal(ids[i - 1], ids[i]);
}

struct qt_lessee {
	pthread_t tid;
	struct qt_leased got; /* every item it was given */
	char error[256];
};

static int
qt_lessee_item(const struct ps_queue_msg *m, const struct ps_queue_rcpt *r,
	       void *arg)
{
	struct qt_leased *out = arg;

	if (out->n >= QT_MAX_LEASED)
		return 1;
	snprintf(out->v[out->n].id, sizeof(out->v[out->n].id), "%s", m->id);
	out->v[out->n++].index = r->index;
	return 0;
}

/* Lease small batches at one instant until nothing is left. */
static void *
qt_lessee(void *arg)
{
	struct qt_lessee *l = arg;
	struct ps_queue_lease_args a = { .size = sizeof(a), .now = QT_T0 + 1,
					 .seconds = 600, .limit = 3 };
	struct ps_error err = {""};
	uint64_t lease;
	unsigned count = 1;

	while (count) {
		if (qt_ops.lease(&a, qt_lessee_item, &l->got, &lease, &count,
				 &err) != 0) {
			snprintf(l->error, sizeof(l->error), "lease: %s",
				 err.msg);
			break;
		}
	}
	return NULL;
}

static int
qt_item_cmp(const void *x, const void *y)
{
	const struct qt_lease_item *a = x, *b = y;
	int c = strcmp(a->id, b->id);

	return c ? c : (a->index > b->index) - (a->index < b->index);
}

/* n items from several lessees: no recipient twice, and all of want. */
void
qt_check_exclusive(struct qt_lease_item *v, size_t n, size_t want)
{
	qsort(v, n, sizeof(*v), qt_item_cmp);
	for (size_t i = 1; i < n; i++)
		if (qt_item_cmp(&v[i - 1], &v[i]) == 0)
			fail_msg("recipient %s/%u leased twice", v[i].id,
				 v[i].index);
	assert_int_equal(n, want);
}

void
qt_test_lease_threads(void **state)
{
	enum { LESSEES = 4, MSGS = 60, RCPTS = 5 };
	static struct qt_lessee l[LESSEES];
	static struct qt_lease_item all[LESSEES * QT_MAX_LEASED];
	char id[PS_QUEUE_ID_LEN + 1];
	size_t n = 0;

	(void)state;
	qt_empty();
	for (int i = 0; i < MSGS; i++)
		qt_enqueue_simple(id, QT_T0, RCPTS - 2, 2);
	for (int c = 0; c < LESSEES; c++) {
		memset(&l[c], 0, sizeof(l[c]));
		assert_int_equal(pthread_create(&l[c].tid, NULL, qt_lessee,
						&l[c]), 0);
	}
	for (int c = 0; c < LESSEES; c++) {
		assert_int_equal(pthread_join(l[c].tid, NULL), 0);
		if (l[c].error[0])
			fail_msg("lessee %d: %s", c, l[c].error);
		print_message("lessee thread %d got %zu recipients\n", c,
			      l[c].got.n);
		memcpy(all + n, l[c].got.v, l[c].got.n * sizeof(all[0]));
		n += l[c].got.n;
	}
	qt_check_exclusive(all, n, MSGS * RCPTS);
}
