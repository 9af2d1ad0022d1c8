/* Unit tests for modules/smtp/bounce.c's smtp_bounce_run against an
 * in-memory queue, auth and store: a DSN for a remote sender is enqueued
 * with the null sender and NOTIFY=NEVER to that sender (RFC 3461 6.1);
 * one for a local sender lands in its INBOX with Return-Path: <> and
 * Received (RFC 5321 4.4), an alias reaching both gets both; the fields
 * (RFC 3464 2.3) for failed, expired (4.4.7), delayed and relayed
 * recipients; no DSN for the null sender or a report; a sender reaching
 * nobody drops it; a failed enqueue leaves the report owed while the
 * next message still gets its DSN; more messages than one lease takes;
 * the enqueue's flags from what the DSN needs (8BITMIME, SMTPUTF8) and
 * the original's REQUIRETLS.
 * Linked without poshtad: bounce.c calls the backends only. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <cmocka.h>

#include "smtpd.h"

struct smtp_config smtp_cfg;

#define NOW 1700000000
#define MSGS_MAX 12
#define OUT_MAX 16

static const char body[] =
	"From: Alice <alice@local.test>\r\n"
	"To: bob@remote.test\r\n"
	"Subject: hello\r\n"
	"Message-ID: <m1@local.test>\r\n"
	"\r\n"
	"Hello Bob.\r\n";

static const char body_8bit[] =
	"From: alice@local.test\r\n"
	"Subject: caf\xc3\xa9\r\n"
	"\r\n"
	"Gr\xc3\xbc\xc3\x9f\xc3\xa9.\r\n";

static const char report_body[] =
	"From: MAILER-DAEMON@remote.test\r\n"
	"Content-Type: multipart/report; report-type=delivery-status;\r\n"
	" boundary=\"b\"\r\n"
	"\r\n"
	"--b--\r\n";

/* ---- The queue ------------------------------------------------------------ */

struct fmsg {
	struct ps_queue_msg m;
	struct ps_queue_rcpt r[3];
	size_t n;
	const char *body;
	int owed;
	uint64_t lease;
	int done; /* report_done calls */
};

static struct fmsg msgs[MSGS_MAX];
static size_t nmsgs;
static uint64_t next_lease;
static int leases;        /* report_lease calls */
static int enq_fail_once; /* enq_commit fails the next time */

/* What was enqueued. */
struct out {
	char sender[64];
	unsigned flags;
	char rcpt[3][64];
	unsigned kind[3], notify[3];
	size_t n;
	char *data;
	size_t len;
};
static struct out outs[OUT_MAX];
static size_t nouts;
static struct out pending;

static int
f_enq_begin(const struct ps_queue_envelope *env,
	    const struct ps_queue_rcpt_in *rc, size_t n,
	    struct ps_queue_enq **e_r, char id_r[PS_QUEUE_ID_LEN + 1],
	    struct ps_error *err)
{
	(void)err;
	assert_true(n >= 1 && n <= 3);
	memset(&pending, 0, sizeof(pending));
	snprintf(pending.sender, sizeof(pending.sender), "%s", env->sender);
	pending.flags = env->flags;
	for (size_t i = 0; i < n; i++) {
		snprintf(pending.rcpt[i], 64, "%s", rc[i].address);
		pending.kind[i] = rc[i].kind;
		pending.notify[i] = rc[i].notify;
	}
	pending.n = n;
	*e_r = (struct ps_queue_enq *)&pending;
	snprintf(id_r, PS_QUEUE_ID_LEN + 1, "ffffffffffffffff");
	return 0;
}

static int
f_enq_data(struct ps_queue_enq *e, const void *data, size_t len,
	   struct ps_error *err)
{
	(void)e;
	(void)err;
	pending.data = realloc(pending.data, pending.len + len + 1);
	assert_non_null(pending.data);
	memcpy(pending.data + pending.len, data, len);
	pending.len += len;
	pending.data[pending.len] = '\0';
	return 0;
}

static int
f_enq_commit(struct ps_queue_enq *e, struct ps_error *err)
{
	(void)e;
	if (enq_fail_once) {
		enq_fail_once = 0;
		free(pending.data);
		snprintf(err->msg, sizeof(err->msg), "disk full");
		return PS_EIO;
	}
	assert_true(nouts < OUT_MAX);
	outs[nouts++] = pending;
	return 0;
}

static void
f_enq_abort(struct ps_queue_enq *e)
{
	(void)e;
	free(pending.data);
}

static int
f_report_lease(int64_t now, unsigned seconds, unsigned limit,
	       ps_queue_msg_fn fn, void *arg, uint64_t *lease_r,
	       struct ps_error *err)
{
	unsigned got = 0;

	(void)err;
	assert_int_equal(now, NOW);
	assert_true(seconds > 0 && limit >= 1);
	*lease_r = ++next_lease;
	leases++;
	for (size_t i = 0; i < nmsgs && got < limit; i++) {
		if (!msgs[i].owed || msgs[i].lease)
			continue;
		msgs[i].lease = *lease_r;
		got++;
		fn(&msgs[i].m, msgs[i].r, msgs[i].n, arg);
	}
	return 0;
}

static int
f_report_done(const char *id, uint64_t lease, struct ps_error *err)
{
	(void)err;
	for (size_t i = 0; i < nmsgs; i++) {
		if (strcmp(msgs[i].m.id, id))
			continue;
		assert_int_equal(msgs[i].lease, lease);
		msgs[i].owed = 0;
		msgs[i].done++;
		return 0;
	}
	return PS_ENOENT;
}

static int
f_msg_read(const char *id, uint64_t offset, void *buf, size_t len,
	   size_t *got_r, struct ps_error *err)
{
	(void)err;
	for (size_t i = 0; i < nmsgs; i++) {
		size_t size = strlen(msgs[i].body);

		if (strcmp(msgs[i].m.id, id))
			continue;
		*got_r = offset >= size ? 0 : size - offset < len ?
			size - offset : len;
		memcpy(buf, msgs[i].body + offset, *got_r);
		return 0;
	}
	return PS_ENOENT;
}

static const struct ps_queue_ops queue = {
	.size = sizeof(queue),
	.enq_begin = f_enq_begin, .enq_data = f_enq_data,
	.enq_commit = f_enq_commit, .enq_abort = f_enq_abort,
	.report_lease = f_report_lease, .report_done = f_report_done,
	.msg_read = f_msg_read,
};

/* A message from sender with one owed recipient. */
static struct fmsg *
msg_add(const char *id, const char *sender, const char *rcpt,
	enum ps_queue_state state, const char *diag)
{
	struct fmsg *f = &msgs[nmsgs++];

	assert_true(nmsgs <= MSGS_MAX);
	memset(f, 0, sizeof(*f));
	f->m = (struct ps_queue_msg){
		.size = sizeof(f->m), .id = id, .sender = sender,
		.ret = PS_QUEUE_RET_FULL, .envid = "", .arrival = NOW - 60,
		.client = "client.test [192.0.2.1]", .nrcpts = 1};
	f->r[0] = (struct ps_queue_rcpt){
		.size = sizeof(f->r[0]), .address = rcpt,
		.kind = PS_QUEUE_REMOTE, .route = "remote.test", .orcpt = "",
		.state = state, .attempts = 1, .last_attempt = NOW - 1,
		.diag = diag, .report = PS_QUEUE_REPORT_OWED};
	f->n = 1;
	f->body = body;
	f->owed = 1;
	return f;
}

/* ---- Auth and store ------------------------------------------------------- */

static int
f_resolve(const char *address, ps_auth_target_fn fn, void *arg,
	  struct ps_error *err)
{
	(void)err;
	if (!strcasecmp(address, "alice@local.test"))
		return fn("alice@local.test", 1, arg);
	if (!strcasecmp(address, "team@local.test")) {
		int r = fn("alice@local.test", 1, arg);

		return r ? r : fn("carol@remote.test", 0, arg);
	}
	if (strstr(address, "@local.test"))
		return PS_ENOENT;
	return PS_AUTH_ENOTLOCAL;
}

struct ps_store_user {
	char name[64];
};
struct ps_store_append {
	struct ps_store_user *u;
	char *data;
	size_t len;
};

/* What reached INBOXes: user and message. */
static char inbox_user[OUT_MAX][64];
static char *inbox[OUT_MAX];
static size_t ninbox;

static int
f_user_open(const char *user, uint64_t quota, struct ps_store_user **u_r,
	    struct ps_error *err)
{
	(void)err;
	assert_int_equal(quota, 0);
	*u_r = calloc(1, sizeof(**u_r));
	assert_non_null(*u_r);
	snprintf((*u_r)->name, sizeof((*u_r)->name), "%s", user);
	return 0;
}

static void
f_user_close(struct ps_store_user *u)
{
	free(u);
}

static int
f_append_begin(struct ps_store_user *u, const char *mailbox,
	       struct ps_store_append **a_r, struct ps_error *err)
{
	(void)err;
	assert_string_equal(mailbox, "INBOX");
	*a_r = calloc(1, sizeof(**a_r));
	assert_non_null(*a_r);
	(*a_r)->u = u;
	return 0;
}

static int
f_append_msg_begin(struct ps_store_append *a, unsigned flags,
		   const char *const *kw, size_t nkw, int64_t date, int tz,
		   struct ps_error *err)
{
	(void)a, (void)flags, (void)kw, (void)nkw, (void)tz, (void)err;
	assert_int_equal(date, NOW);
	return 0;
}

static int
f_append_data(struct ps_store_append *a, const void *data, size_t len,
	      struct ps_error *err)
{
	(void)err;
	a->data = realloc(a->data, a->len + len + 1);
	assert_non_null(a->data);
	memcpy(a->data + a->len, data, len);
	a->len += len;
	a->data[a->len] = '\0';
	return 0;
}

static int
f_append_msg_end(struct ps_store_append *a, const void *cache,
		 size_t cache_len, struct ps_error *err)
{
	(void)a, (void)err;
	/* The structure goes with the message, as deliver.c stores it. */
	assert_non_null(cache);
	assert_true(cache_len > 0);
	return 0;
}

static int
f_append_commit(struct ps_store_append *a, uint32_t *uids_r,
		uint32_t *uidvalidity_r, struct ps_error *err)
{
	(void)uids_r, (void)uidvalidity_r, (void)err;
	assert_true(ninbox < OUT_MAX);
	snprintf(inbox_user[ninbox], 64, "%s", a->u->name);
	inbox[ninbox++] = a->data;
	free(a);
	return 0;
}

static void
f_append_abort(struct ps_store_append *a)
{
	free(a->data);
	free(a);
}

static int
setup(void **state)
{
	(void)state;
	memset(&smtp_cfg, 0, sizeof(smtp_cfg));
	smtp_cfg.hostname = "mx.local.test";
	smtp_cfg.state_dir = "/tmp";
	smtp_cfg.have_auth = smtp_cfg.have_store = 1;
	smtp_cfg.auth.resolve = f_resolve;
	smtp_cfg.store = (struct ps_storage_ops){
		.size = sizeof(smtp_cfg.store), .user_open = f_user_open,
		.user_close = f_user_close, .append_begin = f_append_begin,
		.append_msg_begin = f_append_msg_begin,
		.append_data = f_append_data,
		.append_msg_end = f_append_msg_end,
		.append_commit = f_append_commit,
		.append_abort = f_append_abort};
	nmsgs = nouts = ninbox = 0;
	next_lease = 0;
	leases = 0;
	enq_fail_once = 0;
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	for (size_t i = 0; i < nouts; i++)
		free(outs[i].data);
	for (size_t i = 0; i < ninbox; i++)
		free(inbox[i]);
	return 0;
}

static void
has(const char *text, const char *want)
{
	if (!strstr(text, want))
		fail_msg("no \"%s\" in:\n%s", want, text);
}

static void
lacks(const char *text, const char *want)
{
	if (strstr(text, want))
		fail_msg("\"%s\" in:\n%s", want, text);
}

static int
run(struct ps_error *err)
{
	return smtp_bounce_run(&queue, NOW, 5 * 86400, err);
}

/* ---- Tests ------------------------------------------------------------- */

static void
test_remote_sender(void **state)
{
	struct ps_error err;
	struct fmsg *f = msg_add("0000000000000001", "sam@far.test",
				 "bob@remote.test", PS_QUEUE_FAILED,
				 "mx.remote.test[127.0.0.2]: 550 5.1.1 No "
				 "such user");

	(void)state;
	f->m.envid = "env+2D1";
	f->r[0].orcpt = "rfc822;bob@remote.test";
	assert_int_equal(run(&err), 1);
	assert_string_equal(err.msg, "");
	assert_int_equal(f->done, 1);
	assert_int_equal(ninbox, 0);
	assert_int_equal(nouts, 1);
	/* RFC 3461 6.1: the null sender; the original sender alone. */
	assert_string_equal(outs[0].sender, "");
	assert_int_equal(outs[0].n, 1);
	assert_string_equal(outs[0].rcpt[0], "sam@far.test");
	assert_int_equal(outs[0].kind[0], PS_QUEUE_REMOTE);
	assert_int_equal(outs[0].notify[0], PS_QUEUE_NOTIFY_NEVER);
	assert_int_equal(outs[0].flags, 0);
	has(outs[0].data, "To: <sam@far.test>");
	has(outs[0].data, "report-type=delivery-status");
	has(outs[0].data, "Reporting-MTA: dns; mx.local.test");
	has(outs[0].data, "Original-Envelope-Id: env-1");
	has(outs[0].data, "Original-Recipient: rfc822; bob@remote.test");
	has(outs[0].data, "Final-Recipient: rfc822; bob@remote.test");
	has(outs[0].data, "Action: failed");
	has(outs[0].data, "Status: 5.1.1");
	has(outs[0].data, "Remote-MTA: dns; mx.remote.test");
	has(outs[0].data, "Diagnostic-Code: smtp; 550 5.1.1 No such user");
	has(outs[0].data, "Content-Type: message/rfc822");
	has(outs[0].data, "Hello Bob.");
	/* Enqueued, not delivered: the trace fields come at delivery. */
	lacks(outs[0].data, "Return-Path:");
}

static void
test_local_sender(void **state)
{
	struct ps_error err;
	struct fmsg *f = msg_add("0000000000000002", "alice@local.test",
				 "bob@remote.test", PS_QUEUE_FAILED,
				 "5.1.10 Null MX: remote.test takes no mail");

	(void)state;
	f->m.ret = PS_QUEUE_RET_HDRS;
	assert_int_equal(run(&err), 1);
	assert_int_equal(f->done, 1);
	assert_int_equal(nouts, 0);
	assert_int_equal(ninbox, 1);
	assert_string_equal(inbox_user[0], "alice@local.test");
	/* RFC 5321 4.4: final delivery puts the trace fields in front. */
	assert_int_equal(strncmp(inbox[0], "Return-Path: <>\r\nReceived: by "
				 "mx.local.test (Poshta) id 0000000000000002-",
				 70), 0);
	has(inbox[0], "\tfor <alice@local.test>;");
	has(inbox[0], "Status: 5.1.10");
	has(inbox[0], "Diagnostic-Code: X-Poshta; Null MX: remote.test takes");
	lacks(inbox[0], "Remote-MTA");
	/* RET=HDRS: the header only. */
	has(inbox[0], "Content-Type: text/rfc822-headers");
	has(inbox[0], "Subject: hello");
	lacks(inbox[0], "Hello Bob.");
}

static void
test_alias_sender(void **state)
{
	struct ps_error err;
	struct fmsg *f = msg_add("0000000000000003", "team@local.test",
				 "bob@remote.test", PS_QUEUE_FAILED,
				 "mx.remote.test[127.0.0.2]: 550 5.1.1 no");

	(void)state;
	assert_int_equal(run(&err), 1);
	assert_int_equal(f->done, 1);
	assert_int_equal(ninbox, 1);
	assert_string_equal(inbox_user[0], "alice@local.test");
	assert_int_equal(nouts, 1);
	assert_string_equal(outs[0].sender, "");
	assert_string_equal(outs[0].rcpt[0], "carol@remote.test");
	has(outs[0].data, "To: <team@local.test>");
}

static void
test_expired_delayed_relayed(void **state)
{
	struct ps_error err;
	struct fmsg *f = msg_add("0000000000000004", "sam@far.test",
				 "bob@remote.test", PS_QUEUE_FAILED,
				 "mx.remote.test[127.0.0.2]: 451 4.3.0 later");

	(void)state;
	f->r[1] = f->r[0];
	f->r[1].index = 1;
	f->r[1].address = "dan@remote.test";
	f->r[1].state = PS_QUEUE_DEFERRED;
	f->r[1].diag = "mx.remote.test[127.0.0.2]: 452 mailbox busy";
	f->r[2] = f->r[0];
	f->r[2].index = 2;
	f->r[2].address = "eve@remote.test";
	f->r[2].state = PS_QUEUE_DELIVERED;
	f->r[2].diag = "mx.remote.test[127.0.0.2]: 250 2.0.0 Ok";
	f->n = 3;
	assert_int_equal(run(&err), 1);
	assert_int_equal(nouts, 1);
	has(outs[0].data, "Reason: Delivery time expired: the mail system "
	    "kept trying for 5 days");
	has(outs[0].data, "Action: failed\r\nStatus: 4.4.7\r\n");
	has(outs[0].data, "Diagnostic-Code: smtp; 451 4.3.0 later");
	has(outs[0].data, "Action: delayed\r\nStatus: 4.0.0\r\n");
	has(outs[0].data, "Will-Retry-Until: ");
	has(outs[0].data, "Action: relayed\r\nStatus: 2.0.0\r\n");
	/* A failure among them: the whole message returns. */
	has(outs[0].data, "Hello Bob.");
}

static void
test_no_dsn(void **state)
{
	struct ps_error err;
	struct fmsg *null = msg_add("0000000000000005", "", "bob@remote.test",
				    PS_QUEUE_FAILED, "5.1.2 no such domain");
	struct fmsg *rep = msg_add("0000000000000006", "sam@far.test",
				   "bob@remote.test", PS_QUEUE_FAILED,
				   "5.1.2 no such domain");

	(void)state;
	rep->body = report_body;
	assert_int_equal(run(&err), 0);
	assert_string_equal(err.msg, "");
	assert_int_equal(null->done, 1);
	assert_int_equal(rep->done, 1);
	assert_int_equal(nouts + ninbox, 0);
}

static void
test_nobody(void **state)
{
	struct ps_error err;
	struct fmsg *f = msg_add("0000000000000007", "gone@local.test",
				 "bob@remote.test", PS_QUEUE_FAILED,
				 "5.1.2 no such domain");

	(void)state;
	/* Undeliverable DSNs are dropped, not retried for ever. */
	assert_int_equal(run(&err), 0);
	has(err.msg, "reaches nobody");
	assert_int_equal(f->done, 1);
	assert_int_equal(nouts + ninbox, 0);
}

static void
test_enqueue_fails(void **state)
{
	struct ps_error err;
	struct fmsg *a = msg_add("0000000000000008", "sam@far.test",
				 "bob@remote.test", PS_QUEUE_FAILED,
				 "5.1.2 no such domain");
	struct fmsg *b = msg_add("0000000000000009", "sam@far.test",
				 "bob@remote.test", PS_QUEUE_FAILED,
				 "5.1.2 no such domain");

	(void)state;
	enq_fail_once = 1;
	assert_int_equal(run(&err), 1);
	has(err.msg, "0000000000000008");
	/* Left owed, under its lease until that runs out; the next one
	 * went on. */
	assert_int_equal(a->done, 0);
	assert_true(a->owed);
	assert_int_equal(b->done, 1);
	assert_int_equal(nouts, 1);
	/* The lease ran out: a later run reports it. */
	a->lease = 0;
	assert_int_equal(run(&err), 1);
	assert_int_equal(a->done, 1);
}

static void
test_many(void **state)
{
	static char ids[10][17];
	struct ps_error err;

	(void)state;
	for (int i = 0; i < 10; i++) {
		snprintf(ids[i], sizeof(ids[i]), "00000000000001%02d", i);
		msg_add(ids[i], "sam@far.test", "bob@remote.test",
			PS_QUEUE_FAILED, "5.1.2 no such domain");
	}
	/* Four a lease: three leases, the last not full. */
	assert_int_equal(run(&err), 10);
	assert_int_equal(leases, 3);
	for (int i = 0; i < 10; i++)
		assert_int_equal(msgs[i].done, 1);
	/* The DSNs' ids differ, so do their Message-IDs. */
	for (size_t i = 1; i < nouts; i++) {
		const char *m0 = strstr(outs[0].data, "Message-ID:");
		const char *mi = strstr(outs[i].data, "Message-ID:");

		assert_non_null(m0);
		assert_non_null(mi);
		assert_true(strncmp(m0, mi, strcspn(m0, "\r")) != 0);
	}
}

static void
test_flags(void **state)
{
	struct ps_error err;
	struct fmsg *eight = msg_add("0000000000000011", "sam@far.test",
				     "bob@remote.test", PS_QUEUE_FAILED,
				     "5.1.2 no such domain");
	struct fmsg *utf8 = msg_add("0000000000000012", "sam@far.test",
				    "bob@remote.test", PS_QUEUE_FAILED,
				    "5.1.2 no such domain");
	struct fmsg *tls = msg_add("0000000000000013", "sam@far.test",
				   "bob@remote.test", PS_QUEUE_FAILED,
				   "5.1.2 no such domain");

	(void)state;
	eight->body = body_8bit;
	eight->m.flags = PS_QUEUE_8BITMIME;
	utf8->body = body_8bit;
	utf8->m.flags = PS_QUEUE_SMTPUTF8 | PS_QUEUE_8BITMIME;
	tls->m.flags = PS_QUEUE_REQUIRETLS;
	assert_int_equal(run(&err), 3);
	assert_int_equal(nouts, 3);
	/* The whole 8-bit original returned: BODY=8BITMIME (RFC 6152). */
	assert_int_equal(outs[0].flags, PS_QUEUE_8BITMIME);
	has(outs[0].data, "Content-Type: message/rfc822");
	/* RFC 6533: an internationalised DSN needs SMTPUTF8. */
	assert_int_equal(outs[1].flags, PS_QUEUE_SMTPUTF8 |
			 PS_QUEUE_8BITMIME);
	has(outs[1].data, "message/global-delivery-status");
	/* RFC 8689 5: the DSN carries the original, so REQUIRETLS too. */
	assert_int_equal(outs[2].flags, PS_QUEUE_REQUIRETLS);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_remote_sender, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_local_sender, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_alias_sender, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_expired_delayed_relayed,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_dsn, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nobody, setup, teardown),
		cmocka_unit_test_setup_teardown(test_enqueue_fails, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_many, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flags, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
