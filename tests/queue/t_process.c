/* Conformance: several processes and hard stops. Worker processes that
 * lease at the same instant never get the same recipient; processes
 * enqueueing at once lose nothing; a process killed before, during or
 * right after enq_commit leaves its message wholly absent or wholly
 * present (RFC 5321 6.1: once the 250 is sent, the message must not be
 * lost); a 50 MB body goes in and out with bounded memory. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "suite.h"

#define QT_PIECE (64 * 1024)

static unsigned char qt_piece[QT_PIECE];

/* A child with a pipe to its parent: 0 in the child, which keeps
 * fds[1]; the pid in the parent, which keeps fds[0]. */
static pid_t
qt_fork_piped(int fds[2])
{
	pid_t pid;

	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	close(fds[pid == 0 ? 0 : 1]);
	return pid;
}

static void
qt_reap(pid_t pid, int want_signal)
{
	int status;

	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (want_signal) {
		assert_true(WIFSIGNALED(status));
	} else {
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
}

static void
qt_write_all(int fd, const void *p, size_t len)
{
	if (write(fd, p, len) != (ssize_t)len)
		_exit(3);
}

/* One leased recipient as a child reports it. */
struct qt_wire {
	char id[PS_QUEUE_ID_LEN + 1];
	uint32_t index;
};

static int
qt_wire_item(const struct ps_queue_msg *m, const struct ps_queue_rcpt *r,
	     void *arg)
{
	struct qt_wire w;

	memset(&w, 0, sizeof(w));
	snprintf(w.id, sizeof(w.id), "%s", m->id);
	w.index = r->index;
	qt_write_all(*(int *)arg, &w, sizeof(w));
	return 0;
}

/* Children never return into cmocka: they report through their exit
 * status and a pipe. Wait for the go, then lease until nothing is
 * left. */
static void
qt_child_lessee(int go, int out)
{
	struct ps_queue_lease_args a = { .size = sizeof(a), .now = QT_T0 + 1,
					 .seconds = 600, .limit = 5 };
	struct ps_error err = {""};
	uint64_t lease;
	unsigned count = 1;
	char c;

	if (read(go, &c, 1) != 1)
		_exit(4);
	while (count)
		if (qt_ops.lease(&a, qt_wire_item, &out, &lease, &count,
				 &err) != 0) {
			fprintf(stderr, "child lease: %s\n", err.msg);
			_exit(1);
		}
	_exit(0);
}

static size_t
qt_read_wire(int fd, struct qt_lease_item *v, size_t max)
{
	struct qt_wire w;
	size_t n = 0;

	while (read(fd, &w, sizeof(w)) == (ssize_t)sizeof(w)) {
		assert_true(n < max);
		memcpy(v[n].id, w.id, sizeof(v[n].id));
		v[n++].index = w.index;
	}
	close(fd);
	return n;
}

void
qt_test_lease_processes(void **state)
{
	enum { KIDS = 2, MSGS = 80, RCPTS = 4 };
	static struct qt_lease_item all[MSGS * RCPTS + 1];
	char id[PS_QUEUE_ID_LEN + 1];
	int fds[KIDS][2], go[2];
	pid_t pid[KIDS];
	size_t n = 0, each[KIDS];

	(void)state;
	qt_empty();
	for (int i = 0; i < MSGS; i++)
		qt_enqueue_simple(id, QT_T0, RCPTS - 1, 1);
	assert_int_equal(pipe(go), 0);
	for (int c = 0; c < KIDS; c++)
		if ((pid[c] = qt_fork_piped(fds[c])) == 0) {
			close(go[1]);
			qt_child_lessee(go[0], fds[c][1]);
		}
	close(go[0]);
	assert_int_equal(write(go[1], "gg", KIDS), KIDS);
	close(go[1]);
	for (int c = 0; c < KIDS; c++) {
		each[c] = qt_read_wire(fds[c][0], all + n,
				       MSGS * RCPTS + 1 - n);
		n += each[c];
		qt_reap(pid[c], 0);
	}
	print_message("lessee processes got %zu and %zu recipients\n",
		      each[0], each[1]);
	qt_check_exclusive(all, n, MSGS * RCPTS);
}

static void
qt_child_body(char *buf, size_t len, int child, int i)
{
	snprintf(buf, len, "From: child %d\r\n\r\nmessage %d\r\n", child, i);
}

static void
qt_child_enqueuer(int child, int n, int fd)
{
	struct ps_queue_envelope env = qt_env("p@origin.test", QT_T0);
	struct ps_queue_rcpt_in r = qt_remote("x@remote.test");
	struct ps_error err = {""};
	char id[PS_QUEUE_ID_LEN + 1], body[64];

	for (int i = 0; i < n; i++) {
		struct ps_queue_enq *e;

		qt_child_body(body, sizeof(body), child, i);
		if (qt_ops.enq_begin(&env, &r, 1, &e, id, &err) < 0 ||
		    qt_ops.enq_data(e, body, strlen(body), &err) < 0 ||
		    qt_ops.enq_commit(e, &err) < 0) {
			fprintf(stderr, "child %d: %s\n", child, err.msg);
			_exit(1);
		}
		qt_write_all(fd, id, sizeof(id));
	}
	_exit(0);
}

/* Two processes, 150 enqueues each, at once. */
void
qt_test_enqueue_processes(void **state)
{
	enum { KIDS = 2, N = 150 };
	static char ids[KIDS][N][PS_QUEUE_ID_LEN + 1];
	char want[64], got[64];
	int fds[KIDS][2];
	pid_t pid[KIDS];
	struct qt_msg m;

	(void)state;
	qt_empty();
	for (int c = 0; c < KIDS; c++)
		if ((pid[c] = qt_fork_piped(fds[c])) == 0)
			qt_child_enqueuer(c, N, fds[c][1]);
	for (int c = 0; c < KIDS; c++) {
		for (int i = 0; i < N; i++)
			assert_int_equal(read(fds[c][0], ids[c][i],
					      sizeof(ids[c][i])),
					 sizeof(ids[c][i]));
		close(fds[c][0]);
		qt_reap(pid[c], 0);
	}
	for (int c = 0; c < KIDS; c++)
		for (int i = 0; i < N; i++) {
			assert_int_equal(qt_get(ids[c][i], &m), 0);
			qt_child_body(want, sizeof(want), c, i);
			qt_read_all(ids[c][i], got, sizeof(got));
			assert_string_equal(got, want);
		}
	assert_int_equal(qt_next_due(0), QT_T0);
}

enum qt_stage { QT_BEFORE_COMMIT, QT_DURING_COMMIT, QT_AFTER_COMMIT };

/* Enqueue a generated body and stop for good at stage, after telling the
 * parent the id (known from enq_begin on) and, for AFTER, that commit
 * returned. */
static void
qt_crasher(uint32_t seed, uint64_t size, enum qt_stage stage, int fd)
{
	struct ps_queue_envelope env = qt_env("crash@origin.test", QT_T0);
	struct ps_queue_rcpt_in r[2] = { qt_remote("x@remote.test"),
					 qt_local("y@here.test", "y") };
	struct ps_error err = {""};
	char id[PS_QUEUE_ID_LEN + 1];
	struct ps_queue_enq *e;
	int rc = qt_ops.enq_begin(&env, r, 2, &e, id, &err);

	for (uint64_t off = 0; rc == 0 && off < size; off += QT_PIECE) {
		size_t n = size - off < QT_PIECE ? size - off : QT_PIECE;

		qt_body_fill(seed, off, qt_piece, n);
		rc = qt_ops.enq_data(e, qt_piece, n, &err);
	}
	if (rc < 0)
		_exit(1);
	if (stage != QT_AFTER_COMMIT)
		qt_write_all(fd, id, sizeof(id));
	if (stage != QT_BEFORE_COMMIT && qt_ops.enq_commit(e, &err) < 0)
		_exit(1);
	if (stage == QT_AFTER_COMMIT)
		qt_write_all(fd, id, sizeof(id));
	for (;;)
		pause();
}

/* Run qt_crasher and SIGKILL it delay_us after it reached stage; its
 * message's id in id. */
static void
qt_kill_at(uint32_t seed, uint64_t size, enum qt_stage stage,
	   unsigned delay_us, char id[PS_QUEUE_ID_LEN + 1])
{
	int fds[2];
	pid_t pid = qt_fork_piped(fds);

	if (pid == 0)
		qt_crasher(seed, size, stage, fds[1]);
	assert_int_equal(read(fds[0], id, PS_QUEUE_ID_LEN + 1),
			 PS_QUEUE_ID_LEN + 1);
	if (delay_us)
		usleep(delay_us);
	kill(pid, SIGKILL);
	qt_reap(pid, 1);
	close(fds[0]);
}

void
qt_test_crash_before_commit(void **state)
{
	char id[PS_QUEUE_ID_LEN + 1], after[PS_QUEUE_ID_LEN + 1];
	static struct qt_msgs all;
	struct qt_msg m;

	(void)state;
	qt_empty();
	qt_kill_at(11, 1024 * 1024, QT_BEFORE_COMMIT, 0, id);
	assert_int_equal(qt_get(id, &m), PS_ENOENT);
	qt_list(&all);
	assert_int_equal(all.n, 0);
	assert_int_equal(qt_next_due(0), -1);
	qt_enqueue_simple(after, QT_T0, 1, 0);
	qt_list(&all);
	assert_int_equal(all.n, 1);
}

/* Killed somewhere inside commit: all of the message or none of it, and
 * the queue goes on working. */
void
qt_test_crash_during_commit(void **state)
{
	static const unsigned delays[] = { 0, 3000, 15000, 60000, 500000 };
	const uint64_t size = 8 * 1024 * 1024;
	char id[PS_QUEUE_ID_LEN + 1];
	static struct qt_msgs all;
	struct qt_msg m;
	size_t present = 0;

	(void)state;
	qt_empty();
	for (uint32_t i = 0; i < sizeof(delays) / sizeof(delays[0]); i++) {
		qt_kill_at(20 + i, size, QT_DURING_COMMIT, delays[i], id);
		print_message("killed %u us into a commit: message %s\n",
			      delays[i], qt_get(id, &m) == 0 ? "present"
							     : "absent");
		if (qt_get(id, &m) != 0)
			continue;
		present++;
		assert_int_equal(m.body_size, size);
		assert_int_equal(m.n, 2);
		assert_string_equal(m.r[1].user, "y");
		qt_check_generated(id, 20 + i, size);
	}
	qt_list(&all);
	assert_int_equal(all.n, present);
	qt_enqueue_simple(id, QT_T0, 1, 0);
	assert_int_equal(qt_get(id, &m), 0);
}

/* Killed the instant enq_commit returned: the message is there, whole,
 * and due. */
void
qt_test_crash_after_commit(void **state)
{
	char id[PS_QUEUE_ID_LEN + 1];
	struct qt_leased *got = calloc(1, sizeof(*got));
	struct qt_msg m;

	(void)state;
	assert_non_null(got);
	qt_empty();
	qt_kill_at(12, 300000, QT_AFTER_COMMIT, 0, id);
	assert_int_equal(qt_get(id, &m), 0);
	assert_int_equal(m.body_size, 300000);
	assert_int_equal(m.r[0].state, PS_QUEUE_QUEUED);
	qt_check_generated(id, 12, 300000);
	assert_int_equal(qt_lease(QT_T0, 60, 10, 0, NULL, got), 2);
	free(got);
}

/* kB of the named line of /proc/self/status ("VmHWM:"), 0 if absent. */
static long
qt_vm_kb(const char *key)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kb = 0;

	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, key, strlen(key)) == 0)
			kb = strtol(line + strlen(key), NULL, 10);
	if (f)
		fclose(f);
	return kb;
}

/* Reset the peak to the current size (Linux clear_refs "5"). */
static void
qt_vm_reset_peak(void)
{
	FILE *f = fopen("/proc/self/clear_refs", "w");

	if (f) {
		fputs("5", f);
		fclose(f);
	}
}

static int
qt_memcheck(void)
{
#if defined(__SANITIZE_ADDRESS__)
	return 0;
#else
	return !getenv("QUEUE_SUITE_NO_MEMCHECK");
#endif
}

/* 50 MB in 64 KiB pieces, then read back in 64 KiB and odd ranges: the
 * peak memory must grow far less than the message. */
void
qt_test_big_message(void **state)
{
	const uint64_t size = 50 * 1024 * 1024;
	char id[PS_QUEUE_ID_LEN + 1];
	struct ps_error err = {""};
	unsigned char odd[100];
	struct qt_msg m;
	size_t got;
	long base, grown;

	(void)state;
	qt_empty();
	qt_vm_reset_peak();
	base = qt_vm_kb("VmHWM:");
	qt_enqueue_generated(id, 50, size, QT_PIECE);
	assert_int_equal(qt_get(id, &m), 0);
	assert_int_equal(m.body_size, size);
	qt_check_generated(id, 50, size);
	for (uint64_t off = 12345; off < size; off += 7777777) {
		assert_int_equal(qt_ops.msg_read(id, off, odd, sizeof(odd),
						 &got, &err), 0);
		assert_int_equal(got, sizeof(odd));
		assert_true(qt_body_check(50, off, odd, got));
	}
	assert_int_equal(qt_ops.msg_read(id, size - 10, odd, sizeof(odd), &got,
					 &err), 0);
	assert_int_equal(got, 10);
	assert_int_equal(qt_ops.msg_read(id, size, odd, sizeof(odd), &got,
					 &err), 0);
	assert_int_equal(got, 0);
	assert_int_equal(qt_result(id, 0, 0, PS_QUEUE_DELIVERED, 0, "250 ok",
				   0, QT_T0), 0);
	assert_int_equal(qt_get(id, &m), PS_ENOENT);
	grown = qt_vm_kb("VmHWM:") - base;
	print_message("50 MB message: peak memory grew %ld kB (VmRSS %ld kB)\n",
		      grown, qt_vm_kb("VmRSS:"));
	if (qt_memcheck())
		assert_true(grown < 16 * 1024);
}
