/* Conformance: several processes and hard stops. Appends from two
 * processes at once get unique increasing UIDs and lose nothing; a
 * process killed before, during or after a commit leaves its message
 * wholly absent or wholly present (RFC 3501 6.3.11: append is atomic);
 * flag changes and expunges that returned outlive a kill; a 50 MB
 * message goes in and out in pieces with bounded memory. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "suite.h"

#define ST_PIECE (64 * 1024)

static unsigned char st_piece[ST_PIECE];

/* Children never return into cmocka: they report through their exit
 * status and a pipe. */
static struct ps_store_user *
st_child_user(const char *name)
{
	struct ps_error err = {""};
	struct ps_store_user *u;

	if (st_ops.user_open(name, 0, &u, &err) < 0)
		_exit(2);
	return u;
}

static void
st_appender(const char *user, int child, int n, int fd)
{
	struct ps_store_user *u = st_child_user(user);
	struct ps_error err = {""};
	struct ps_store_append *a;
	uint32_t uid, uidvalidity;
	char body[64];

	for (int i = 0; i < n; i++) {
		int len = snprintf(body, sizeof(body),
				   "From: child %d\r\n\r\nmessage %d\r\n",
				   child, i);

		if (st_ops.append_begin(u, "INBOX", &a, &err) < 0 ||
		    st_ops.append_msg_begin(a, 0, NULL, 0, 0, 0, &err) < 0 ||
		    st_ops.append_data(a, body, (size_t)len, &err) < 0 ||
		    st_ops.append_msg_end(a, NULL, 0, &err) < 0 ||
		    st_ops.append_commit(a, &uid, &uidvalidity, &err) < 0) {
			fprintf(stderr, "child %d: %s\n", child, err.msg);
			_exit(1);
		}
		if (write(fd, &uid, sizeof(uid)) != sizeof(uid))
			_exit(3);
	}
	st_ops.user_close(u);
	_exit(0);
}

/* A child with a pipe to its parent: 0 in the child, which keeps
 * fds[1]; the pid in the parent, which keeps fds[0]. */
static pid_t
st_fork_piped(int fds[2])
{
	pid_t pid;

	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	close(fds[pid == 0 ? 0 : 1]);
	return pid;
}

static void
st_reap(pid_t pid, int want_signal)
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

/* The UIDs one child wrote, checked to increase. */
static size_t
st_read_uids(int fd, uint32_t *v, size_t max)
{
	size_t n = 0;

	while (n < max && read(fd, &v[n], sizeof(v[n])) == sizeof(v[n])) {
		assert_true(n == 0 || v[n] > v[n - 1]);
		n++;
	}
	close(fd);
	return n;
}

static int
st_uid_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

static void
st_check_child_message(struct ps_mbox *mb, uint32_t uid, int child, int i)
{
	char want[64], got[64];

	snprintf(want, sizeof(want), "From: child %d\r\n\r\nmessage %d\r\n",
		 child, i);
	st_read_all(mb, uid, got, sizeof(got));
	assert_string_equal(got, want);
}

/* Two processes, 200 appends each, into one mailbox. The parent holds
 * no handle while they fork: a connection must not cross a fork. */
void
st_test_concurrent(void **state)
{
	enum { N = 200 };
	static const char user[] = "concurrent@process.test";
	static uint32_t uids[2][N], all[2 * N];
	struct ps_mailbox_status st;
	struct ps_store_user *u = st_user(user, 0);
	struct ps_mbox *mb;
	int fds[2][2];
	pid_t pid[2];

	st_ops.user_close(u);
	for (int c = 0; c < 2; c++)
		if ((pid[c] = st_fork_piped(fds[c])) == 0)
			st_appender(user, c, N, fds[c][1]);
	for (int c = 0; c < 2; c++) {
		assert_int_equal(st_read_uids(fds[c][0], uids[c], N), N);
		st_reap(pid[c], 0);
		memcpy(all + c * N, uids[c], sizeof(uids[c]));
	}
	qsort(all, 2 * N, sizeof(all[0]), st_uid_cmp);
	for (int i = 1; i < 2 * N; i++)
		assert_true(all[i] > all[i - 1]);
	u = st_reopen(user);
	st_status(u, "INBOX", &st);
	assert_int_equal(st.messages, 2 * N);
	assert_true(st.uidnext > all[2 * N - 1]);
	mb = st_select(u, "INBOX", PS_OPEN_READONLY, NULL, NULL);
	for (int c = 0; c < 2; c++)
		for (int i = 0; i < N; i += 37)
			st_check_child_message(mb, uids[c][i], c, i);
	st_check_child_message(mb, uids[1][N - 1], 1, N - 1);
	st_ops.mailbox_close(mb);
	st_ops.user_close(u);
}

enum st_stage { ST_BEFORE_COMMIT, ST_DURING_COMMIT, ST_AFTER_COMMIT };

/* Append a generated message and stop for good at stage, after telling
 * the parent (with the UID once committed). */
static void
st_crasher(const char *user, uint32_t seed, uint64_t size,
	   enum st_stage stage, int fd)
{
	struct ps_store_user *u = st_child_user(user);
	struct ps_error err = {""};
	struct ps_store_append *a;
	uint32_t uid = 0, uidvalidity;
	char ready = 'R';
	int r = st_ops.append_begin(u, "INBOX", &a, &err);

	if (r == 0)
		r = st_ops.append_msg_begin(a, 0, NULL, 0, 0, 0, &err);
	for (uint64_t off = 0; r == 0 && off < size; off += ST_PIECE) {
		size_t n = size - off < ST_PIECE ? size - off : ST_PIECE;

		st_body_fill(seed, off, st_piece, n);
		r = st_ops.append_data(a, st_piece, n, &err);
	}
	if (r == 0 && stage != ST_BEFORE_COMMIT)
		r = st_ops.append_msg_end(a, NULL, 0, &err);
	if (r == 0 && stage != ST_AFTER_COMMIT && write(fd, &ready, 1) != 1)
		r = PS_EIO;
	if (r == 0 && stage != ST_BEFORE_COMMIT)
		r = st_ops.append_commit(a, &uid, &uidvalidity, &err);
	if (r == 0 && stage == ST_AFTER_COMMIT &&
	    write(fd, &uid, sizeof(uid)) != sizeof(uid))
		r = PS_EIO;
	if (r < 0)
		_exit(1);
	for (;;)
		pause();
}

/* Run st_crasher and SIGKILL it delay_us after it reached stage; the
 * committed UID for ST_AFTER_COMMIT. */
static uint32_t
st_kill_at(const char *user, uint32_t seed, uint64_t size,
	   enum st_stage stage, unsigned delay_us)
{
	uint32_t uid = 0;
	int fds[2];
	pid_t pid;
	char ready;

	pid = st_fork_piped(fds);
	if (pid == 0)
		st_crasher(user, seed, size, stage, fds[1]);
	if (stage == ST_AFTER_COMMIT)
		assert_int_equal(read(fds[0], &uid, sizeof(uid)), sizeof(uid));
	else
		assert_int_equal(read(fds[0], &ready, 1), 1);
	if (delay_us)
		usleep(delay_us);
	kill(pid, SIGKILL);
	st_reap(pid, 1);
	close(fds[0]);
	return uid;
}

/* Message uid holds exactly the size bytes of seed. */
static void
st_check_generated(struct ps_store_user *u, uint32_t uid, uint32_t seed,
		   uint64_t size)
{
	struct ps_mbox *mb = st_select(u, "INBOX", PS_OPEN_READONLY, NULL,
				       NULL);
	struct ps_error err = {""};
	uint64_t off = 0;
	size_t got = 1;

	while (got) {
		assert_int_equal(st_ops.msg_read(mb, uid, off, st_piece,
						 ST_PIECE, &got, &err), 0);
		assert_true(st_body_check(seed, off, st_piece, got));
		off += got;
	}
	assert_int_equal(off, size);
	st_ops.mailbox_close(mb);
}

static uint64_t
st_used(struct ps_store_user *u)
{
	struct ps_error err = {""};
	uint64_t bytes, messages;

	assert_int_equal(st_ops.quota_get(u, &bytes, &messages, &err), 0);
	return bytes;
}

void
st_test_crash_before_commit(void **state)
{
	static const char user[] = "crash-before@process.test";
	struct ps_store_user *u = st_user(user, 0);
	struct ps_mailbox_status st;

	st_ops.user_close(u);
	st_kill_at(user, 11, 1024 * 1024, ST_BEFORE_COMMIT, 0);
	u = st_reopen(user);
	st_status(u, "INBOX", &st);
	assert_int_equal(st.messages, 0);
	assert_int_equal(st_used(u), 0);
	st_append(u, "INBOX", "after the crash\r\n", 0, NULL);
	st_status(u, "INBOX", &st);
	assert_int_equal(st.messages, 1);
	st_ops.user_close(u);
}

void
st_test_crash_after_commit(void **state)
{
	static const char user[] = "crash-after@process.test";
	struct ps_store_user *u = st_user(user, 0);
	struct ps_mailbox_status st;
	uint32_t uid;

	st_ops.user_close(u);
	uid = st_kill_at(user, 12, 300000, ST_AFTER_COMMIT, 0);
	assert_true(uid > 0);
	u = st_reopen(user);
	st_status(u, "INBOX", &st);
	assert_int_equal(st.messages, 1);
	assert_int_equal(st_used(u), 300000);
	st_check_generated(u, uid, 12, 300000);
	st_ops.user_close(u);
}

/* Killed somewhere inside commit: all of the message or none of it. */
void
st_test_crash_during_commit(void **state)
{
	static const char user[] = "crash-during@process.test";
	static const unsigned delays[] = { 0, 3000, 15000, 60000 };
	const uint64_t size = 8 * 1024 * 1024;
	struct ps_store_user *u = st_user(user, 0);
	struct ps_mailbox_status before, after;
	struct ps_uid_range added;
	struct st_msgs m;
	struct ps_mbox *mb;

	for (uint32_t i = 0; i < sizeof(delays) / sizeof(delays[0]); i++) {
		st_status(u, "INBOX", &before);
		st_ops.user_close(u);
		st_kill_at(user, 20 + i, size, ST_DURING_COMMIT, delays[i]);
		u = st_reopen(user);
		st_status(u, "INBOX", &after);
		assert_true(after.messages == before.messages ||
			    after.messages == before.messages + 1);
		assert_int_equal(after.size, after.messages * size);
		print_message("killed %u us into a commit: message %s\n",
			      delays[i], after.messages == before.messages
						 ? "absent" : "present");
		if (after.messages == before.messages)
			continue;
		mb = st_select(u, "INBOX", PS_OPEN_READONLY, NULL, NULL);
		added = (struct ps_uid_range){ before.uidnext, UINT32_MAX };
		assert_int_equal(st_fetch(mb, &added, 1, &m), 0);
		st_ops.mailbox_close(mb);
		assert_int_equal(m.n, 1);
		st_check_generated(u, m.m[0].uid, 20 + i, size);
	}
	st_ops.user_close(u);
}

/* Flag changes and expunges that returned survive a SIGKILL of their
 * process right after (a backend may leave them unsynced, never
 * unwritten: storage.h). */
static void
st_changer(const char *user, uint32_t seen, uint32_t gone, int fd)
{
	struct ps_store_user *u = st_child_user(user);
	struct ps_error err = {""};
	struct ps_uid_range s = { seen, seen }, g = { gone, gone };
	struct ps_mailbox_status st;
	struct ps_mbox *mb;
	uint32_t recent;
	char done = 'D';

	if (st_ops.mailbox_open(u, "INBOX", 0, &mb, &st, &recent, &err) < 0 ||
	    st_ops.msg_store(mb, &s, 1, PS_STORE_ADD, PS_FLAG_SEEN, NULL, 0,
			     0, NULL, NULL, NULL, &err) < 0 ||
	    st_ops.msg_store(mb, &g, 1, PS_STORE_ADD, PS_FLAG_DELETED, NULL,
			     0, 0, NULL, NULL, NULL, &err) < 0 ||
	    st_ops.expunge(mb, NULL, 0, NULL, NULL, &err) < 0 ||
	    write(fd, &done, 1) != 1)
		_exit(1);
	for (;;)
		pause();
}

void
st_test_crash_after_store(void **state)
{
	static const char user[] = "crash-store@process.test";
	struct ps_store_user *u = st_user(user, 0);
	uint32_t a = st_append(u, "INBOX", "first\r\n", 0, NULL);
	uint32_t b = st_append(u, "INBOX", "second\r\n", 0, NULL);
	struct ps_mbox *mb;
	struct st_msgs m;
	int fds[2];
	pid_t pid;
	char done;

	st_ops.user_close(u);
	pid = st_fork_piped(fds);
	if (pid == 0)
		st_changer(user, a, b, fds[1]);
	assert_int_equal(read(fds[0], &done, 1), 1);
	kill(pid, SIGKILL);
	st_reap(pid, 1);
	close(fds[0]);
	u = st_reopen(user);
	mb = st_select(u, "INBOX", PS_OPEN_READONLY, NULL, NULL);
	assert_int_equal(st_fetch(mb, NULL, 0, &m), 0);
	assert_int_equal(m.n, 1);
	assert_int_equal(m.m[0].uid, a);
	assert_int_equal(m.m[0].flags, PS_FLAG_SEEN);
	st_ops.mailbox_close(mb);
	st_ops.user_close(u);
}

/* kB of the named line of /proc/self/status ("VmHWM:"), 0 if absent. */
static long
st_vm_kb(const char *key)
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
st_vm_reset_peak(void)
{
	FILE *f = fopen("/proc/self/clear_refs", "w");

	if (f) {
		fputs("5", f);
		fclose(f);
	}
}

static int
st_memcheck(void)
{
#if defined(__SANITIZE_ADDRESS__)
	return 0;
#else
	return !getenv("STORAGE_SUITE_NO_MEMCHECK");
#endif
}

/* 50 MB in 64 KiB pieces, then read back in 64 KiB and odd ranges: the
 * peak memory must grow far less than the message. */
void
st_test_big_message(void **state)
{
	const uint64_t size = 50 * 1024 * 1024;
	struct ps_store_user *u = st_user("big@process.test", 0);
	struct ps_mailbox_status st;
	struct ps_error err = {""};
	unsigned char odd[100];
	struct ps_mbox *mb;
	uint32_t uid;
	size_t got;
	long base, grown;

	st_vm_reset_peak();
	base = st_vm_kb("VmHWM:");
	uid = st_append_generated(u, "INBOX", 50, size, ST_PIECE);
	st_status(u, "INBOX", &st);
	assert_int_equal(st.size, size);
	st_check_generated(u, uid, 50, size);
	mb = st_select(u, "INBOX", PS_OPEN_READONLY, NULL, NULL);
	for (uint64_t off = 12345; off < size; off += 7777777) {
		assert_int_equal(st_ops.msg_read(mb, uid, off, odd, sizeof(odd),
						 &got, &err), 0);
		assert_int_equal(got, sizeof(odd));
		assert_true(st_body_check(50, off, odd, got));
	}
	assert_int_equal(st_ops.msg_read(mb, uid, size - 10, odd, sizeof(odd),
					 &got, &err), 0);
	assert_int_equal(got, 10);
	st_ops.mailbox_close(mb);
	grown = st_vm_kb("VmHWM:") - base;
	print_message("50 MB message: peak memory grew %ld kB (VmRSS %ld kB)\n",
		      grown, st_vm_kb("VmRSS:"));
	if (st_memcheck())
		assert_true(grown < 16 * 1024);
	st_ops.user_close(u);
}
