/* RETR and TOP (RFC 1939 7): messages streamed from the store in chunks,
 * byte-stuffed on the pool (stuff.c), each round written once the client
 * has read most of the one before. Memory per session is one chunk and
 * one round of output, sized to the messages and bounded whatever their
 * size.
 *
 * A pipelining client that asks for many messages gets them in batches:
 * while a RETR runs, input keeps flowing, and the RETR and TOP commands
 * behind it join the batch (validated at once: nothing they depend on can
 * change, as every other command waits for the batch to end). One pool
 * round trip then sends many small messages. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pop3d.h"

/* Requests that may join a running round; a batch holds twice that (the
 * round's unfinished ones and those that joined), more wait in the
 * input. */
#define RETR_QUEUE 64
/* Output one round makes before the loop writes it, at most. */
#define RETR_ROUND (64 * 1024)
/* A first or last line, or an -ERR, in the output. */
#define RETR_LINE 128

struct retr_req {
	struct pop3_msg *msg;
	uint32_t n;
	int top;
	uint32_t lines;
	int sent;              /* all of it went out (not an -ERR) */
};

struct retr_batch {
	struct pop3_session *s;
	/* The job's: requests being sent; reqs[cur] is in progress. */
	struct retr_req reqs[2 * RETR_QUEUE];
	size_t nreqs, cur;
	uint64_t offset;       /* of reqs[cur], next byte to read */
	int started;           /* reqs[cur]'s first line is out */
	struct pop3_stuff st;
	/* Sized to the messages (batch_fit): small ones cost little. */
	char *in, *out;
	size_t in_cap, out_cap, round, out_len;
	/* The loop's, while the job runs: requests that joined. */
	struct retr_req pending[RETR_QUEUE];
	size_t npending;
};

static void
batch_free(void *arg)
{
	struct retr_batch *b = arg;

	b->s->retr = NULL;
	free(b->in);
	free(b->out);
	free(b);
}

/* Buffers for the requests in reqs: a chunk of the largest message (at
 * most POP3_CHUNK), and a round of output no longer than what they can
 * make (at most RETR_ROUND) plus one chunk stuffed. On the loop, while
 * no job runs. */
static int
batch_fit(struct retr_batch *b)
{
	size_t in = 1, round = 0, out;

	for (size_t i = 0; i < b->nreqs; i++) {
		uint64_t size = b->reqs[i].msg->size;

		if (size > in)
			in = size > POP3_CHUNK ? POP3_CHUNK : (size_t)size;
		if (round < RETR_ROUND)
			round += size > RETR_ROUND ? RETR_ROUND
						   : 2 * (size_t)size + RETR_LINE;
	}
	b->round = round < RETR_ROUND ? round : RETR_ROUND;
	out = b->round + 2 * in + 2 * RETR_LINE;
	if (in > b->in_cap) {
		char *p = realloc(b->in, in);

		if (!p)
			return -1;
		b->in = p;
		b->in_cap = in;
	}
	if (out > b->out_cap) {
		char *p = realloc(b->out, out);

		if (!p)
			return -1;
		b->out = p;
		b->out_cap = out;
	}
	return 0;
}

/* A request's first line: RFC 1939 7 says only "+OK"; the size is what
 * most servers add. */
static void
first_line(struct retr_batch *b, const struct retr_req *r)
{
	if (r->top)
		b->out_len += (size_t)sprintf(b->out + b->out_len,
					      "+OK Top of message follows\r\n");
	else
		b->out_len += (size_t)sprintf(b->out + b->out_len,
					      "+OK %" PRIu64 " octets\r\n",
					      r->msg->size);
}

/* Read and stuff one chunk of reqs[cur]; 1 when the request is over. */
static int
batch_chunk(struct pop3_job *j, struct retr_batch *b)
{
	struct retr_req *r = &b->reqs[b->cur];
	size_t have = 0, got;
	int eof = 0;

	while (have < b->in_cap && b->offset < r->msg->size) {
		j->result = pop3_cfg.store.msg_read(j->s->mbox, r->msg->uid,
						     b->offset, b->in + have,
						     b->in_cap - have, &got,
						     &j->err);
		if (j->result < 0)
			return 1;
		if (got == 0)
			break;
		have += got;
		b->offset += got;
	}
	eof = b->offset >= r->msg->size || have < b->in_cap;
	if (!b->started) {
		pop3_stuff_init(&b->st, r->top, r->lines);
		first_line(b, r);
		b->started = 1;
	}
	b->out_len += pop3_stuff(&b->st, b->in, have, b->out + b->out_len);
	if (!eof && !b->st.done)
		return 0;
	b->out_len += pop3_stuff_end(&b->st, b->out + b->out_len);
	r->sent = 1;
	return 1;
}

/* One round: requests in order until the round's output is full. A
 * message gone before its first byte gets -ERR (another session expunged
 * it); a read failing halfway stops the batch (done hangs up). */
static void
batch_work(struct pop3_job *j)
{
	struct retr_batch *b = j->arg;
	struct ps_mbox *mb = j->s->mbox;

	b->out_len = 0;
	/* One connection and snapshot for the round's reads (since 1.3). */
	if (pop3_cfg.store.mailbox_hold)
		pop3_cfg.store.mailbox_hold(mb);
	while (b->cur < b->nreqs && b->out_len < b->round) {
		j->result = 0;
		if (!batch_chunk(j, b))
			continue;
		if (j->result < 0 && b->started)
			break;
		if (j->result < 0)
			b->out_len += (size_t)snprintf(
				b->out + b->out_len, RETR_LINE, "-ERR %sMessage %"
				PRIu32 " %s\r\n",
				j->result == PS_STORE_ENOMSG ? "" : "[SYS/TEMP] ",
				b->reqs[b->cur].n,
				j->result == PS_STORE_ENOMSG
					? "was removed by another session"
					: "cannot be read now");
		b->cur++;
		b->offset = 0;
		b->started = 0;
	}
	if (pop3_cfg.store.mailbox_release)
		pop3_cfg.store.mailbox_release(mb);
	if (j->result < 0 && b->started)
		return;
	j->result = 0;
}

static int
batch_done(struct pop3_job *j)
{
	struct pop3_session *s = j->s;
	struct retr_batch *b = j->arg;
	size_t i;

	if (s->closed)
		return POP3_JOB_DONE;
	ps_conn_write(s->conn, b->out, b->out_len);
	for (i = 0; i < b->cur; i++)
		if (b->reqs[i].sent && !b->reqs[i].top) {
			b->reqs[i].msg->flags |= POP3_MSG_RETRIEVED;
			s->nretr++;
		}
	if (j->result < 0) {
		ps_conn_log(s->conn, PS_LOG_ERR, "user=%s message %" PRIu32
			    ": cannot read: %s", s->user,
			    b->reqs[b->cur].n, j->err.msg);
		/* Half sent: no way to say so but to hang up. */
		ps_conn_close(s->conn);
		return POP3_JOB_DONE;
	}
	/* Move what is left to the front, then what joined meanwhile. */
	memmove(b->reqs, b->reqs + b->cur, (b->nreqs - b->cur) *
		sizeof(b->reqs[0]));
	b->nreqs -= b->cur;
	b->cur = 0;
	memcpy(b->reqs + b->nreqs, b->pending, b->npending *
	       sizeof(b->reqs[0]));
	b->nreqs += b->npending;
	b->npending = 0;
	if (b->nreqs && batch_fit(b) < 0) {
		pop3_err(s, "SYS/TEMP", "Out of memory");
		ps_conn_close(s->conn);
		return POP3_JOB_DONE;
	}
	return b->nreqs ? POP3_JOB_MORE : POP3_JOB_DONE;
}

/* ---- Commands -------------------------------------------------------- */

/* RETR n or TOP n lines (RFC 1939 7: lines non-negative; more lines than
 * the body has send it whole). -1 with the error sent when invalid. */
static int
request(struct pop3_session *s, const struct pop3_cmd *cmd,
	struct retr_req *r)
{
	uint32_t n;

	memset(r, 0, sizeof(*r));
	r->top = strcmp(cmd->keyword, "TOP") == 0;
	if (r->top && pop3_number(cmd->args[1], cmd->lens[1], 0,
				  &r->lines) < 0) {
		pop3_bad(s, "TOP needs a message number and a number of "
			 "lines");
		return -1;
	}
	if (!(r->msg = pop3_drop_msg(s, cmd, &n)))
		return -1;
	r->n = n;
	return 0;
}

static int
send_msg(struct pop3_session *s, const struct pop3_cmd *cmd)
{
	struct retr_batch *b;
	struct retr_req r;

	if (request(s, cmd, &r) < 0)
		return 0;
	if (!(b = calloc(1, sizeof(*b))))
		return pop3_err(s, "SYS/TEMP", "Out of memory");
	b->s = s;
	b->reqs[0] = r;
	b->nreqs = 1;
	if (batch_fit(b) < 0) {
		batch_free(b);
		return pop3_err(s, "SYS/TEMP", "Out of memory");
	}
	s->bad = 0;
	s->retr = b;
	return pop3_job_start(s, batch_work, batch_done, batch_free, b);
}

int
pop3_cmd_retr(struct pop3_session *s, const struct pop3_cmd *cmd)
{
	return send_msg(s, cmd);
}

int
pop3_cmd_top(struct pop3_session *s, const struct pop3_cmd *cmd)
{
	return send_msg(s, cmd);
}

/* A line that came while a batch runs: 1 if it is a RETR or TOP that
 * joined the batch, 0 if it must wait for the batch to end. */
int
pop3_retr_join(struct pop3_session *s, const char *line, size_t len)
{
	struct retr_batch *b = s->retr;
	struct pop3_cmd cmd;
	uint32_t n;

	/* nreqs, which only the loop changes, bounds what the round leaves:
	 * both together fit in reqs when batch_done merges them. */
	if (s->shutdown || b->npending == RETR_QUEUE ||
	    b->nreqs + b->npending >= 2 * RETR_QUEUE ||
	    pop3_cmd_parse(line, len, &cmd) < 0 ||
	    !((strcmp(cmd.keyword, "RETR") == 0 && cmd.nargs == 1) ||
	      (strcmp(cmd.keyword, "TOP") == 0 && cmd.nargs == 2)) ||
	    pop3_number(cmd.args[0], cmd.lens[0], 1, &n) < 0 ||
	    n > s->drop.count ||
	    (s->drop.msgs[n - 1].flags & POP3_MSG_DELETED) ||
	    (cmd.nargs == 2 &&
	     pop3_number(cmd.args[1], cmd.lens[1], 0, &n) < 0))
		return 0;
	/* Valid: what request() answers needs no reply now. */
	request(s, &cmd, &b->pending[b->npending++]);
	s->bad = 0;
	return 1;
}
