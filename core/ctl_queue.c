/* poshtactl queue list and queue show: the mail queue as the configured
 * backend reports it (sdk/poshta/queue.h, list, msg_get, msg_read), in
 * the spirit of Postfix's mailq: each message with its envelope (RFC
 * 5321 MAIL FROM, RFC 3461 RET and ENVID) and its recipients' states.
 * Text from the queue is printed with control characters made visible,
 * since a remote server's reply must not drive the operator's terminal. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl.h"

#define BODY_CHUNK 65536 /* what show --body reads at once */

const struct ctl_name ctl_queue_flags[] = {
	{PS_QUEUE_SMTPUTF8, "SMTPUTF8"},
	{PS_QUEUE_8BITMIME, "8BITMIME"},
	{PS_QUEUE_REQUIRETLS, "REQUIRETLS"},
	{0, NULL},
};

const struct ctl_name ctl_queue_notify[] = {
	{PS_QUEUE_NOTIFY_NEVER, "NEVER"},
	{PS_QUEUE_NOTIFY_SUCCESS, "SUCCESS"},
	{PS_QUEUE_NOTIFY_FAILURE, "FAILURE"},
	{PS_QUEUE_NOTIFY_DELAY, "DELAY"},
	{0, NULL},
};

const struct ctl_name ctl_queue_report[] = {
	{PS_QUEUE_REPORT_OWED, "owed"},
	{PS_QUEUE_REPORT_DELAYED, "delayed"},
	{0, NULL},
};

const char *
ctl_queue_state(enum ps_queue_state s)
{
	switch (s) {
	case PS_QUEUE_QUEUED: return "queued";
	case PS_QUEUE_DEFERRED: return "deferred";
	case PS_QUEUE_DELIVERED: return "delivered";
	case PS_QUEUE_FAILED: return "failed";
	}
	return "unknown";
}

const char *
ctl_queue_ret(int ret)
{
	return ret == PS_QUEUE_RET_FULL ? "full"
	       : ret == PS_QUEUE_RET_HDRS ? "hdrs" : "none";
}

const char *
ctl_queue_kind(unsigned kind)
{
	return kind == PS_QUEUE_LOCAL ? "local"
	       : kind == PS_QUEUE_REMOTE ? "remote" : "unknown";
}

void
ctl_format_time(char buf[32], int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t == 0 || !gmtime_r(&tt, &tm) ||
	    !strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm))
		strcpy(buf, "-");
}

static int
is_id(const char *s)
{
	size_t n = strspn(s, "0123456789abcdef");

	return n == PS_QUEUE_ID_LEN && s[n] == '\0';
}

int
ctl_queue_check_ids(const struct ctl *c)
{
	int code = CTL_OK;

	for (int i = 0; i < c->nargs; i++)
		if (!is_id(c->args[i]))
			code = ctl_fail("bad queue id '%s': 16 lower-case hex "
					"digits", c->args[i]);
	return code;
}

/* s with control characters and bytes that are not UTF-8 as '?'; line
 * breaks (LF, CR LF) end the text when one_line (" ..." then says more
 * followed), else start a new line indented by indent. */
static void
put_text(FILE *f, const char *s, int one_line, int indent)
{
	size_t n;

	for (; *s; s += n ? n : 1) {
		n = ctl_utf8_len(s);
		if (*s == '\r' && s[1] == '\n')
			continue;
		if (*s == '\n' && one_line) {
			fputs(s[1] ? " ..." : "", f);
			return;
		}
		if (*s == '\n')
			fprintf(f, "\n%*s", indent, "");
		else if (n == 0 || (unsigned char)*s < 0x20 || *s == 0x7f)
			putc('?', f);
		else
			fwrite(s, 1, n, f);
	}
}

/* The names of bits, space-separated, or "-" for none. */
static void
put_bits(FILE *f, unsigned bits, const struct ctl_name *names)
{
	const char *sep = "";

	for (; names->name; names++)
		if (bits & names->bit) {
			fprintf(f, "%s%s", sep, names->name);
			sep = " ";
		}
	fputs(*sep ? "\n" : "-\n", f);
}

/* ---- queue list ------------------------------------------------------ */

/* Queued or deferred: not final yet. */
static int
pending(const struct ps_queue_rcpt *r)
{
	return r->state == PS_QUEUE_QUEUED || r->state == PS_QUEUE_DEFERRED;
}

struct listing {
	const struct ctl *c;
	unsigned messages, pending;
};

/* "ID ARRIVAL SIZE SENDER [held]", then each recipient indented:
 * "ADDRESS STATE attempts N next TIME [DIAGNOSTIC]". */
static void
list_text(const struct ps_queue_msg *m, const struct ps_queue_rcpt *rcpts,
	  size_t n)
{
	char when[32];

	ctl_format_time(when, m->arrival);
	printf("%s  %s  %llu  ", m->id, when,
	       (unsigned long long)m->body_size);
	put_text(stdout, *m->sender ? m->sender : "<>", 1, 0);
	puts(m->held ? "  held" : "");
	for (size_t i = 0; i < n; i++) {
		const struct ps_queue_rcpt *r = &rcpts[i];

		if (pending(r))
			ctl_format_time(when, r->next_attempt);
		else
			strcpy(when, "-");
		fputs("    ", stdout);
		put_text(stdout, r->address, 1, 0);
		printf("  %s  attempts %u  next %s", ctl_queue_state(r->state),
		       r->attempts, when);
		if (*r->diag) {
			fputs("  ", stdout);
			put_text(stdout, r->diag, 1, 0);
		}
		putchar('\n');
	}
}

static int
list_one(const struct ps_queue_msg *m, const struct ps_queue_rcpt *rcpts,
	 size_t n, void *arg)
{
	struct listing *l = arg;

	if (l->c->held && !m->held)
		return 0;
	l->messages++;
	for (size_t i = 0; i < n; i++)
		l->pending += pending(&rcpts[i]);
	if (l->c->json)
		ctl_queue_json(stdout, m, rcpts, n);
	else
		list_text(m, rcpts, n);
	return ferror(stdout) ? PS_EIO : 0;
}

int
ctl_queue_list(struct ctl *c)
{
	struct listing l = {.c = c};
	struct ps_error err = {""};
	int r;

	if (CTL_LACKS(c->queue, list))
		return CTL_FAIL;
	r = c->queue.list(list_one, &l, &err);
	if (r < 0 || c->json)
		return ctl_done(r, &err);
	if (l.messages == 0)
		puts(c->held ? "no held messages" : "queue is empty");
	else
		printf("%u message%s, %u recipient%s pending\n", l.messages,
		       l.messages == 1 ? "" : "s", l.pending,
		       l.pending == 1 ? "" : "s");
	return CTL_OK;
}

/* ---- queue show ------------------------------------------------------ */

/* "name:" padded, so that values line up at column 16. */
static void
field(const char *name)
{
	int n = printf("%s:", name);

	printf("%*s", n > 0 && n < 16 ? 16 - n : 1, "");
}

static void
show_opt(const char *name, const char *value)
{
	field(name);
	put_text(stdout, value && *value ? value : "-", 1, 0);
	putchar('\n');
}

static void
show_time(const char *name, int64_t t)
{
	char when[32];

	ctl_format_time(when, t);
	show_opt(name, when);
}

static void
show_envelope(const struct ps_queue_msg *m)
{
	show_opt("id", m->id);
	show_opt("sender", *m->sender ? m->sender : "<>");
	show_opt("ret", ctl_queue_ret(m->ret));
	show_opt("envid", m->envid);
	field("flags");
	put_bits(stdout, m->flags, ctl_queue_flags);
	show_time("arrival", m->arrival);
	field("size");
	printf("%llu\n", (unsigned long long)m->body_size);
	show_opt("user", m->user);
	show_opt("client", m->client);
	show_opt("held", m->held ? "yes" : "no");
	field("recipients");
	printf("%u\n", m->nrcpts);
}

static void
show_rcpt(const struct ps_queue_rcpt *r)
{
	char lease[24];

	printf("recipient %u:\n", r->index);
	show_opt("  address", r->address);
	show_opt("  kind", ctl_queue_kind(r->kind));
	show_opt("  user", r->user);
	show_opt("  route", r->route);
	show_opt("  orcpt", r->orcpt);
	field("  notify");
	put_bits(stdout, r->notify, ctl_queue_notify);
	show_opt("  state", ctl_queue_state(r->state));
	field("  attempts");
	printf("%u\n", r->attempts);
	show_time("  next attempt", r->next_attempt);
	show_time("  last attempt", r->last_attempt);
	field("  diagnostic");
	put_text(stdout, *r->diag ? r->diag : "-", 0, 16);
	putchar('\n');
	field("  report");
	put_bits(stdout, r->report, ctl_queue_report);
	snprintf(lease, sizeof(lease), "%llu", (unsigned long long)r->lease);
	show_opt("  lease", r->lease ? lease : NULL);
	show_time("  lease until", r->lease ? r->lease_until : 0);
}

static int
show_one(const struct ps_queue_msg *m, const struct ps_queue_rcpt *rcpts,
	 size_t n, void *arg)
{
	(void)arg;
	show_envelope(m);
	for (size_t i = 0; i < n; i++)
		show_rcpt(&rcpts[i]);
	return ferror(stdout) ? PS_EIO : 0;
}

/* The octets as stored, a chunk at a time: memory stays bounded. */
static int
show_body(struct ctl *c, const char *id, struct ps_error *err)
{
	char *buf = malloc(BODY_CHUNK);
	uint64_t offset = 0;
	size_t got;
	int r = 0;

	if (!buf) {
		snprintf(err->msg, sizeof(err->msg), "out of memory");
		return PS_ENOMEM;
	}
	putchar('\n');
	while (r == 0 && (r = c->queue.msg_read(id, offset, buf, BODY_CHUNK,
						&got, err)) == 0 && got) {
		offset += got;
		if (fwrite(buf, 1, got, stdout) != got)
			r = PS_EIO;
	}
	free(buf);
	return r;
}

int
ctl_queue_show(struct ctl *c)
{
	const char *id = c->args[0];
	struct ps_error err = {""};
	int r;

	if (ctl_queue_check_ids(c) != CTL_OK || CTL_LACKS(c->queue, msg_get) ||
	    (c->body && CTL_LACKS(c->queue, msg_read)))
		return CTL_FAIL;
	r = c->queue.msg_get(id, show_one, NULL, &err);
	if (r == 0 && c->body)
		r = show_body(c, id, &err);
	if (r == PS_ENOENT)
		return ctl_fail("%s: no such message in the queue", id);
	return ctl_done(r, &err);
}
