/* libFuzzer target for the outbound SMTP client (modules/smtp/
 * client_*.c): the first byte picks the options (TLS policy, TLS
 * already, AUTH) and the message's flags, the rest is the server's
 * lines, one per "\n", fed to the state machine, which the target
 * drives as a runner would (a message at READY, the body at BODY, the
 * handshake at STARTTLS). Checked: each recipient decided at most once,
 * all of them when the message is DONE or the session ends, replies
 * within their bounds, and commands that are CRLF lines without a bare
 * CR or LF. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x) ((x) ? (void)0 : abort())
#define NRCPTS 3

static const struct smtpc_rcpt rcpts[NRCPTS] = {
	{.address = "a@x.test", .notify = SMTPC_NOTIFY_FAILURE},
	{.address = "b@x.test", .orcpt = "rfc822;b+2B@y.test"},
	{.address = "\xc3\xbc@x.test"},
};

struct run {
	struct smtpc *c;
	int decided[NRCPTS];
	size_t nrcpts; /* the UTF-8 one only with SMTPUTF8 */
	int in_msg;
	unsigned messages; /* started: a few, then QUIT */
};

static void
on_result(void *arg, size_t i, enum smtpc_outcome o,
	  const struct smtpc_reply *r)
{
	struct run *run = arg;

	CHECK(run->in_msg && i < run->nrcpts && !run->decided[i]);
	CHECK(o <= SMTPC_FAILED);
	CHECK(r->code >= 200 && r->code <= 559);
	CHECK(strlen(r->text) <= SMTPC_TEXT_MAX && strlen(r->enh) <= 9);
	CHECK(o != SMTPC_DELIVERED || r->code / 100 == 2);
	run->decided[i] = 1;
}

/* What goes out, commands and body alike, has no bare CR or LF; but
 * for a chunk of the body (whole 0), it ends with a CRLF. */
static void
check_output(struct run *run, int whole)
{
	size_t n;
	const char *p = smtpc_output(run->c, &n);

	if (n == 0)
		return;
	CHECK(!whole || (n >= 2 && p[n - 1] == '\n'));
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '\n')
			CHECK(i > 0 && p[i - 1] == '\r');
		if (p[i] == '\r')
			CHECK(i + 1 < n && p[i + 1] == '\n');
	}
}

static void
message_over(struct run *run)
{
	for (size_t i = 0; i < run->nrcpts; i++)
		CHECK(run->decided[i]);
	run->in_msg = 0;
}

/* React to ev as a runner does; 0 to go on, -1 once the session ended. */
static int
react(struct run *run, int ev, unsigned flags)
{
	struct smtpc_msg m = {.sender = "s@y.test", .size = 100,
			      .flags = flags, .ret = 1, .envid = "E",
			      .rcpts = rcpts, .nrcpts = run->nrcpts};

	for (;;) {
		if (ev < 0 || (ev & SMTPC_EV_CLOSED)) {
			if (run->in_msg)
				message_over(run);
			return -1;
		}
		check_output(run, 1);
		if (ev & SMTPC_EV_DONE)
			message_over(run);
		if (ev & SMTPC_EV_STARTTLS) {
			ev = smtpc_tls_started(run->c);
		} else if (ev & SMTPC_EV_BODY) {
			CHECK(smtpc_body(run->c, ".a\r\nb\n.", 8) >= 0);
			check_output(run, 0);
			ev = smtpc_body_end(run->c);
			check_output(run, 1);
		} else if ((ev & SMTPC_EV_READY) && run->messages++ == 4) {
			ev = smtpc_quit(run->c);
		} else if (ev & SMTPC_EV_READY) {
			memset(run->decided, 0, sizeof(run->decided));
			run->in_msg = 1;
			ev = smtpc_start_message(run->c, &m);
			CHECK(ev != SMTPC_EINVAL);
		} else {
			return 0;
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct run run = {0};
	struct smtpc_opts o = {.helo = "client.test", .result = on_result,
			       .arg = &run};
	const char *why, *p, *end;
	unsigned flags;

	if (size < 1)
		return 0;
	o.tls = data[0] % 3;
	o.tls_active = (data[0] >> 2) & 1;
	if (data[0] & 0x8) {
		o.auth_user = "u";
		o.auth_pass = "p";
		o.auth_plaintext = (data[0] >> 4) & 1;
	}
	flags = (data[0] >> 5) & 7;
	run.nrcpts = flags & SMTPC_F_SMTPUTF8 ? NRCPTS : NRCPTS - 1;
	CHECK((run.c = smtpc_new(&o, &why)) != NULL);
	p = (const char *)data + 1;
	end = (const char *)data + size;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl + 1 - p) : (size_t)(end - p);

		if (react(&run, smtpc_feed_line(run.c, p, len), flags) < 0)
			break;
		p += len;
	}
	smtpc_abort(run.c, "end of input");
	if (run.in_msg)
		message_over(&run);
	smtpc_free(run.c);
	return 0;
}
