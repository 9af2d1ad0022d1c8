/* DATA (RFC 5321 4.1.1.4, 3.3) and BDAT (RFC 3030 2, 4): the message
 * streams through body.c into the spool, its size bounded as it streams
 * (RFC 1870 6); it ends only at CRLF "." CRLF and fails on a bare CR or
 * LF (SMTP smuggling, CVE-2023-51764). Refused BDAT chunks are still
 * read whole, so their octets never become commands. */
#include <stdio.h>
#include <string.h>

#include "smtpd.h"

static void
emit(void *arg, const char *data, size_t len)
{
	struct smtp_session *s = arg;

	if (s->too_big || s->body.size > smtp_cfg.max_size) {
		s->too_big = 1;
		return;
	}
	smtp_spool_write(&s->spool, data, len);
}

/* Unique in the server's lifetime like the connection's id, and an Atom
 * (RFC 5321 4.4: the ID of a Received line). */
static void
make_id(struct smtp_session *s)
{
	const char *id = ps_conn_id(s->conn);
	size_t i;

	for (i = 0; id[i] && i < SMTP_ID_MAX - 12; i++)
		s->queue_id[i] = id[i] == '.' ? '-' : id[i];
	snprintf(s->queue_id + i, SMTP_ID_MAX - i, "-%u", ++s->nqueued);
}

static void
data_next(struct smtp_session *s, int pass)
{
	unsigned hops;

	if (!pass) {
		smtp_txn_reset(s);
		return;
	}
	/* RFC 5321 6.3: a loop, likely through forwarding aliases. */
	hops = smtp_trace_hops(s->headers);
	if (hops > smtp_cfg.max_hops) {
		ps_conn_log(s->conn, PS_LOG_NOTICE, "message refused id=%s "
			    "hops=%u (a mail loop?)", s->queue_id, hops);
		smtp_reply(s, "554 5.4.6 Too many hops (%u Received fields): "
			   "a mail loop?", hops);
		smtp_txn_reset(s);
		return;
	}
	smtp_deliver(s);
}

/* The refusal of a whole message, if any. */
static const char *
message_refusal(struct smtp_session *s)
{
	if (s->toolong)
		return "554 5.6.0 Message line longer than " SMTP_DATA_LINE_TEXT
		       " octets";
	if (s->body.flags)
		return "550 5.5.2 Bare LF/CR not allowed (SMTP smuggling)";
	if (s->too_big)
		return "552 5.3.4 Message size exceeds fixed maximum message "
		       "size";
	if (smtp_spool_flush(&s->spool) < 0)
		return "451 4.3.0 Temporary spool failure, try again later";
	return NULL;
}

/* The end of data, or BDAT LAST: the transaction ends here whatever
 * happens (RFC 5321 4.1.1.4). */
static int
message_end(struct smtp_session *s)
{
	const char *why = message_refusal(s);

	s->reading = 0;
	make_id(s);
	if (why) {
		ps_conn_log(s->conn, PS_LOG_NOTICE, "message refused rip=%s "
			    "id=%s size=%llu bare=%u spool_errno=%d "
			    "reply=\"%s\"",
			    ps_conn_peer(s->conn), s->queue_id,
			    (unsigned long long)s->body.size, s->body.flags,
			    s->spool.error, why);
		smtp_reply(s, "%s", why);
		/* After an over-long line the end of data was a guess:
		 * nothing the client sent after it may run as a command. */
		if (s->toolong)
			ps_conn_close(s->conn);
		smtp_txn_reset(s);
		smtp_boundary(s);
		return 0;
	}
	smtp_hook(s, PS_SMTP_HOOK_DATA, data_next);
	return 0;
}

int
smtp_cmd_data(struct smtp_session *s, const char *args, size_t len)
{
	if (s->state == SMTP_INIT)
		return smtp_reply(s, "503 5.5.1 Error: send HELO/EHLO first");
	if (s->state == SMTP_BDAT)
		return smtp_reply(s, "503 5.5.1 Error: DATA after BDAT");
	if (s->state == SMTP_READY)
		return smtp_reply(s, "503 5.5.1 Error: need MAIL command");
	/* RFC 5321 3.3: 503, or 554 when every RCPT was refused. */
	if (s->state == SMTP_MAIL)
		return smtp_reply(s, s->rcpt_tried ?
				  "554 5.5.1 Error: no valid recipients" :
				  "503 5.5.1 Error: need RCPT command");
	if (len)
		return smtp_reply(s, "501 5.5.4 Syntax: DATA");
	smtp_body_init(&s->body, 0);
	s->state = SMTP_DATA;
	s->reading = 1;
	ps_conn_set_max_line(s->conn, SMTP_DATA_LINE);
	return smtp_reply(s, "354 End data with <CR><LF>.<CR><LF>");
}

/* A line of DATA, put back together with its terminator for body.c,
 * which alone decides where the data ends. An over-long line lost its
 * tail up to an LF, and with it how it ended: it is taken to end in
 * CRLF, so a client that sent one still finds its end of data and gets
 * an answer, and the message is refused and the session closed there. */
int
smtp_data_line(struct smtp_session *s, const char *line, size_t len,
	       unsigned flags)
{
	if (flags & PS_LINE_TOOLONG)
		s->toolong = 1;
	smtp_body_feed(&s->body, line, len, emit, s);
	if (flags & PS_LINE_BARE_LF)
		smtp_body_feed(&s->body, "\n", 1, emit, s);
	else
		smtp_body_feed(&s->body, "\r\n", 2, emit, s);
	if (!smtp_body_done(&s->body))
		return 0;
	ps_conn_set_max_line(s->conn, 0);
	return message_end(s);
}

/* ---- BDAT -------------------------------------------------------------- */

static const char *
bdat_refusal(struct smtp_session *s, uint64_t n)
{
	uint64_t have = s->state == SMTP_BDAT ? s->body.size : 0;

	if (smtp_tls_required(s))
		return "530 5.7.0 Must issue a STARTTLS command first";
	if (s->state == SMTP_INIT)
		return "503 5.5.1 Error: send HELO/EHLO first";
	if (s->state == SMTP_READY)
		return "503 5.5.1 Error: need MAIL command";
	if (s->state == SMTP_MAIL)
		return s->rcpt_tried ? "554 5.5.1 Error: no valid recipients" :
			"503 5.5.1 Error: need RCPT command";
	if (n > smtp_cfg.max_size || have + n > smtp_cfg.max_size)
		return "552 5.3.4 Message size exceeds fixed maximum message "
		       "size";
	return NULL;
}

static int
chunk_end(struct smtp_session *s)
{
	s->reading = 0;
	if (s->bdat_discard) {
		smtp_reply(s, "%s", s->bdat_error);
		/* RFC 3030 2: the transaction failed; chunks already
		 * pipelined after this one are read and refused too. */
		smtp_txn_reset(s);
		s->bdat_discard = 0;
	} else if (!s->bdat_last) {
		smtp_reply(s, "250 2.0.0 %llu octets received",
			   (unsigned long long)s->bdat_size);
	} else {
		smtp_body_finish(&s->body, emit, s);
		return message_end(s);
	}
	smtp_boundary(s);
	return 0;
}

/* "BDAT size [LAST]": the chunk is read before any reply. */
int
smtp_cmd_bdat(struct smtp_session *s, const char *args, size_t len)
{
	uint64_t n;
	int last;

	if (smtp_bdat_parse(args, len, &n, &last) != SMTP_P_OK)
		return smtp_reply(s, "501 5.5.4 Syntax: BDAT size [LAST]");
	s->bdat_size = n;
	s->bdat_last = last;
	s->bdat_error = bdat_refusal(s, n);
	s->bdat_discard = s->bdat_error != NULL;
	if (!s->bdat_discard && s->state != SMTP_BDAT) {
		smtp_body_init(&s->body, 1);
		s->state = SMTP_BDAT;
	}
	s->reading = 1;
	if (n == 0)
		return chunk_end(s);
	return ps_conn_read_bytes(s->conn, (size_t)n) < 0 ? PS_EIO : 0;
}

int
smtp_bdat_bytes(struct smtp_session *s, const char *data, size_t len,
		size_t left)
{
	if (!s->bdat_discard)
		smtp_body_feed(&s->body, data, len, emit, s);
	return left == 0 ? chunk_end(s) : 0;
}
