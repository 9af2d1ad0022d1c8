/* poshtactl queue list --json: a message with its recipients as one JSON
 * object on one line (RFC 8259), for scripts. Strings pass valid UTF-8
 * through and escape '"', '\' and control characters as \uXXXX; a byte
 * that is no part of valid UTF-8 (RFC 3629) becomes U+FFFD, so a line
 * always parses. Lease numbers use 63 bits, more than a JSON number
 * keeps exactly, so they are strings. */
#include "config.h"

#include "ctl.h"
#include "mime.h"

size_t
ctl_utf8_len(const char *s)
{
	/* 4, the longest sequence, reads no further than the NUL: a NUL is
	 * no continuation byte, so it ends the check there. */
	int n = mime_utf8_seq((const unsigned char *)s, 4);

	return n > 0 ? (size_t)n : 0;
}

static void
json_string(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	if (!s) {
		fputs("null", f);
		return;
	}
	putc('"', f);
	while (*p) {
		size_t n = ctl_utf8_len((const char *)p);

		if (n == 0)
			fputs("\\ufffd", f);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(f, "\\u%04x", *p);
		else if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else
			fwrite(p, 1, n, f);
		p += n ? n : 1;
	}
	putc('"', f);
}

/* ,"key": */
static void
json_key(FILE *f, const char *key)
{
	fprintf(f, ",\"%s\":", key);
}

static void
json_bits(FILE *f, const char *key, unsigned bits,
	  const struct ctl_name *names)
{
	const char *sep = "";

	json_key(f, key);
	putc('[', f);
	for (; names->name; names++)
		if (bits & names->bit) {
			fprintf(f, "%s\"%s\"", sep, names->name);
			sep = ",";
		}
	putc(']', f);
}

static void
json_rcpt(FILE *f, const struct ps_queue_rcpt *r)
{
	fprintf(f, "{\"index\":%u", r->index);
	json_key(f, "address");
	json_string(f, r->address);
	fprintf(f, ",\"kind\":\"%s\"", ctl_queue_kind(r->kind));
	json_key(f, "user");
	json_string(f, r->user);
	json_key(f, "route");
	json_string(f, r->route);
	json_key(f, "orcpt");
	json_string(f, r->orcpt);
	json_bits(f, "notify", r->notify, ctl_queue_notify);
	fprintf(f, ",\"state\":\"%s\",\"attempts\":%u,\"next_attempt\":%lld,"
		"\"last_attempt\":%lld", ctl_queue_state(r->state),
		r->attempts, (long long)r->next_attempt,
		(long long)r->last_attempt);
	json_key(f, "diag");
	json_string(f, r->diag);
	json_bits(f, "report", r->report, ctl_queue_report);
	if (r->lease)
		fprintf(f, ",\"lease\":\"%llu\"", (unsigned long long)r->lease);
	else
		fputs(",\"lease\":null", f);
	fprintf(f, ",\"lease_until\":%lld}",
		(long long)(r->lease ? r->lease_until : 0));
}

void
ctl_queue_json(FILE *f, const struct ps_queue_msg *m,
	       const struct ps_queue_rcpt *rcpts, size_t n)
{
	fputs("{\"id\":", f);
	json_string(f, m->id);
	fprintf(f, ",\"arrival\":%lld,\"size\":%llu", (long long)m->arrival,
		(unsigned long long)m->body_size);
	json_key(f, "sender");
	json_string(f, m->sender);
	fprintf(f, ",\"ret\":\"%s\"", ctl_queue_ret(m->ret));
	json_key(f, "envid");
	json_string(f, m->envid);
	json_bits(f, "flags", m->flags, ctl_queue_flags);
	json_key(f, "user");
	json_string(f, m->user);
	json_key(f, "client");
	json_string(f, m->client);
	fprintf(f, ",\"held\":%s,\"nrcpts\":%u,\"rcpts\":[",
		m->held ? "true" : "false", m->nrcpts);
	for (size_t i = 0; i < n; i++) {
		if (i)
			putc(',', f);
		json_rcpt(f, &rcpts[i]);
	}
	fputs("]}\n", f);
}
