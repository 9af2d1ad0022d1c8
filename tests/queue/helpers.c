/* Helpers of the queue conformance suite: an empty queue for each test,
 * envelopes and recipients, enqueueing, collecting what list, msg_get and
 * lease report, one result, and reproducible bodies of any size (CRLF
 * lines, RFC 5322 2.1) checked byte for byte. */
#include <stdio.h>
#include <string.h>

#include "suite.h"

/* Tests share one queue: each starts from an empty one, so none depends
 * on another or on an earlier run. */
void
qt_empty(void)
{
	struct ps_error err = {""};

	if (qt_ops.remove(NULL, &err) < 0)
		fail_msg("remove all: %s", err.msg);
}

struct ps_queue_rcpt_in
qt_local(const char *address, const char *user)
{
	return (struct ps_queue_rcpt_in){ .size = sizeof(struct
							 ps_queue_rcpt_in),
					  .address = address,
					  .kind = PS_QUEUE_LOCAL,
					  .user = user };
}

struct ps_queue_rcpt_in
qt_remote(const char *address)
{
	return (struct ps_queue_rcpt_in){ .size = sizeof(struct
							 ps_queue_rcpt_in),
					  .address = address,
					  .kind = PS_QUEUE_REMOTE };
}

struct ps_queue_envelope
qt_env(const char *sender, int64_t arrival)
{
	return (struct ps_queue_envelope){ .size = sizeof(struct
							  ps_queue_envelope),
					   .sender = sender,
					   .arrival = arrival };
}

/* Enqueue body in pieces of 1 to 7 bytes, so that the backend's units
 * never match the caller's. */
void
qt_enqueue(char id[PS_QUEUE_ID_LEN + 1], const struct ps_queue_envelope *env,
	   const struct ps_queue_rcpt_in *r, size_t n, const char *body)
{
	struct ps_error err = {""};
	struct ps_queue_enq *e;
	size_t len = strlen(body), off = 0, piece = 1;

	if (qt_ops.enq_begin(env, r, n, &e, id, &err) < 0)
		fail_msg("enq_begin: %s", err.msg);
	while (off < len) {
		size_t k = len - off < piece ? len - off : piece;

		if (qt_ops.enq_data(e, body + off, k, &err) < 0)
			fail_msg("enq_data: %s", err.msg);
		off += k;
		piece = piece % 7 + 1;
	}
	if (qt_ops.enq_commit(e, &err) < 0)
		fail_msg("enq_commit: %s", err.msg);
}

/* A message to nremote recipients at remote.test, then nlocal local
 * users "uN", due at arrival. */
void
qt_enqueue_simple(char id[PS_QUEUE_ID_LEN + 1], int64_t arrival,
		  size_t nremote, size_t nlocal)
{
	static char names[2 * QT_MAX_RCPTS][64];
	struct ps_queue_rcpt_in r[2 * QT_MAX_RCPTS];
	struct ps_queue_envelope env = qt_env("sender@origin.test", arrival);
	size_t n = 0;

	assert_true(nremote + nlocal <= QT_MAX_RCPTS);
	for (size_t i = 0; i < nremote; i++, n++) {
		snprintf(names[n], sizeof(names[n]), "r%zu@remote.test", i);
		r[n] = qt_remote(names[n]);
	}
	for (size_t i = 0; i < nlocal; i++, n++) {
		snprintf(names[n], sizeof(names[n]), "u%zu", i);
		r[n] = qt_local(names[n], names[n]);
	}
	qt_enqueue(id, &env, r, n, "Subject: simple\r\n\r\nbody\r\n");
}

/* The bytes of body seed, size of them, in pieces of piece bytes. */
void
qt_enqueue_generated(char id[PS_QUEUE_ID_LEN + 1], uint32_t seed,
		     uint64_t size, size_t piece)
{
	static unsigned char buf[64 * 1024];
	struct ps_queue_rcpt_in r = qt_remote("big@remote.test");
	struct ps_queue_envelope env = qt_env("big@origin.test", QT_T0);
	struct ps_error err = {""};
	struct ps_queue_enq *e;

	assert_true(piece <= sizeof(buf));
	assert_int_equal(qt_ops.enq_begin(&env, &r, 1, &e, id, &err), 0);
	for (uint64_t off = 0; off < size; off += piece) {
		size_t n = size - off < piece ? (size_t)(size - off) : piece;

		qt_body_fill(seed, off, buf, n);
		if (qt_ops.enq_data(e, buf, n, &err) < 0)
			fail_msg("enq_data: %s", err.msg);
	}
	if (qt_ops.enq_commit(e, &err) < 0)
		fail_msg("enq_commit: %s", err.msg);
}

static void
qt_copy(char *dst, const char *src, int *has)
{
	snprintf(dst, QT_TEXT, "%s", src ? src : "");
	if (has)
		*has = src != NULL;
}

/* A ps_queue_msg_fn: append the message to a struct qt_msgs. */
int
qt_collect_msg(const struct ps_queue_msg *m, const struct ps_queue_rcpt *r,
	       size_t n, void *arg)
{
	struct qt_msgs *out = arg;
	struct qt_msg *q;

	assert_true(out->n < sizeof(out->m) / sizeof(out->m[0]));
	assert_true(m->size >= sizeof(*m));
	q = &out->m[out->n++];
	memset(q, 0, sizeof(*q));
	snprintf(q->id, sizeof(q->id), "%s", m->id);
	qt_copy(q->sender, m->sender, NULL);
	qt_copy(q->envid, m->envid, NULL);
	qt_copy(q->user, m->user, &q->has_user);
	qt_copy(q->client, m->client, &q->has_client);
	q->ret = m->ret;
	q->held = m->held;
	q->flags = m->flags;
	q->nrcpts = m->nrcpts;
	q->arrival = m->arrival;
	q->body_size = m->body_size;
	assert_true(n <= QT_MAX_RCPTS);
	q->n = n;
	for (size_t i = 0; i < n; i++) {
		struct qt_rcpt *c = &q->r[i];

		assert_true(r[i].size >= sizeof(r[i]));
		c->index = r[i].index;
		c->kind = r[i].kind;
		c->notify = r[i].notify;
		c->attempts = r[i].attempts;
		c->report = r[i].report;
		c->state = r[i].state;
		c->next_attempt = r[i].next_attempt;
		c->last_attempt = r[i].last_attempt;
		c->lease = r[i].lease;
		c->lease_until = r[i].lease_until;
		qt_copy(c->address, r[i].address, NULL);
		qt_copy(c->user, r[i].user, &c->has_user);
		qt_copy(c->route, r[i].route, NULL);
		qt_copy(c->orcpt, r[i].orcpt, NULL);
		snprintf(c->diag, sizeof(c->diag), "%s", r[i].diag);
	}
	return 0;
}

/* msg_get into m: 0, or the call's error (PS_ENOENT). */
int
qt_get(const char *id, struct qt_msg *m)
{
	static struct qt_msgs out;
	struct ps_error err = {""};
	int r;

	out.n = 0;
	r = qt_ops.msg_get(id, qt_collect_msg, &out, &err);
	if (r == 0) {
		assert_int_equal(out.n, 1);
		*m = out.m[0];
	}
	return r;
}

void
qt_list(struct qt_msgs *out)
{
	struct ps_error err = {""};

	out->n = 0;
	if (qt_ops.list(qt_collect_msg, out, &err) < 0)
		fail_msg("list: %s", err.msg);
}

static int
qt_collect_lease(const struct ps_queue_msg *m, const struct ps_queue_rcpt *r,
		 void *arg)
{
	struct qt_leased *out = arg;
	struct qt_lease_item *it;

	assert_true(out->n < QT_MAX_LEASED);
	it = &out->v[out->n++];
	snprintf(it->id, sizeof(it->id), "%s", m->id);
	it->index = r->index;
	it->kind = r->kind;
	it->lease = r->lease;
	it->lease_until = r->lease_until;
	qt_copy(it->route, r->route, NULL);
	qt_copy(it->sender, m->sender, NULL);
	return 0;
}

/* Lease and collect; every item carries the lease the call returned. */
unsigned
qt_lease(int64_t now, unsigned seconds, unsigned limit, unsigned kinds,
	 const char *route, struct qt_leased *out)
{
	struct ps_queue_lease_args a = {
		.size = sizeof(a), .now = now, .seconds = seconds,
		.limit = limit, .kinds = kinds, .route = route,
	};
	struct ps_error err = {""};
	unsigned count = 0;

	out->n = 0;
	if (qt_ops.lease(&a, qt_collect_lease, out, &out->lease, &count,
			 &err) < 0)
		fail_msg("lease: %s", err.msg);
	assert_int_equal(count, out->n);
	for (size_t i = 0; i < out->n; i++) {
		assert_true(out->v[i].lease == out->lease);
		assert_true(out->v[i].lease_until == now + seconds);
	}
	return count;
}

/* One result: its status (the call itself must succeed). */
int
qt_result(const char *id, unsigned index, uint64_t lease,
	  enum ps_queue_state state, int64_t next, const char *diag,
	  unsigned flags, int64_t now)
{
	struct ps_queue_result v = {
		.size = sizeof(v), .id = id, .index = index, .lease = lease,
		.state = state, .next_attempt = next, .diag = diag,
		.flags = flags, .status = 12345,
	};
	struct ps_error err = {""};

	if (qt_ops.results(&v, 1, now, &err) < 0)
		fail_msg("results: %s", err.msg);
	assert_int_not_equal(v.status, 12345);
	return v.status;
}

/* next_due, or -1 when nothing is pending. */
int64_t
qt_next_due(unsigned kinds)
{
	struct ps_error err = {""};
	int64_t when = -2;
	int r = qt_ops.next_due(kinds, &when, &err);

	if (r == PS_ENOENT)
		return -1;
	if (r < 0)
		fail_msg("next_due: %s", err.msg);
	return when;
}

/* The whole body, read in 7-byte ranges so that reads straddle whatever
 * units the backend stores in. */
void
qt_read_all(const char *id, char *buf, size_t len)
{
	struct ps_error err = {""};
	size_t off = 0, got = 1;

	while (got && off + 1 < len) {
		size_t want = len - 1 - off < 7 ? len - 1 - off : 7;

		if (qt_ops.msg_read(id, off, buf + off, want, &got, &err) < 0)
			fail_msg("msg_read: %s", err.msg);
		off += got;
	}
	buf[off] = '\0';
}

/* Byte off of body seed: lines of 78 letters and CRLF. */
static unsigned char
qt_body_byte(uint32_t seed, uint64_t off)
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
qt_body_fill(uint32_t seed, uint64_t off, unsigned char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = qt_body_byte(seed, off + i);
}

int
qt_body_check(uint32_t seed, uint64_t off, const unsigned char *buf,
	      size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (buf[i] != qt_body_byte(seed, off + i))
			return 0;
	return 1;
}

/* Message id's body holds exactly the size bytes of seed. */
void
qt_check_generated(const char *id, uint32_t seed, uint64_t size)
{
	static unsigned char buf[64 * 1024];
	struct ps_error err = {""};
	uint64_t off = 0;
	size_t got = 1;

	while (got) {
		if (qt_ops.msg_read(id, off, buf, sizeof(buf), &got, &err) < 0)
			fail_msg("msg_read: %s", err.msg);
		assert_true(qt_body_check(seed, off, buf, got));
		off += got;
	}
	assert_int_equal(off, size);
}
