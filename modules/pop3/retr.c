/* RETR and TOP (RFC 1939 7): the message streamed from the store in
 * chunks, byte-stuffed on the pool (stuff.c), each chunk written once the
 * client has read most of the one before. Memory per session is one chunk
 * and the output buffer, whatever the message's size. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pop3d.h"

struct retr {
	struct pop3_msg *msg;
	uint32_t n;
	int top;
	uint64_t offset;       /* next byte to read from the store */
	struct pop3_stuff st;
	int started;           /* the "+OK" line is out */
	int eof;
	char in[POP3_CHUNK];
	size_t out_len;
	char out[2 * POP3_CHUNK + 5];
};

static void
retr_free(void *arg)
{
	free(arg);
}

/* One chunk: read, stuff, and at the end add the terminator. */
static void
retr_work(struct pop3_job *j)
{
	struct pop3_session *s = j->s;
	struct retr *r = j->arg;
	size_t have = 0, got;

	/* The store knows the size: no read just to learn of the end. */
	while (have < sizeof(r->in) && r->offset < r->msg->size) {
		j->result = pop3_cfg.store.msg_read(s->mbox, r->msg->uid,
						     r->offset, r->in + have,
						     sizeof(r->in) - have,
						     &got, &j->err);
		if (j->result < 0)
			return;
		if (got == 0) {
			r->eof = 1;
			break;
		}
		have += got;
		r->offset += got;
	}
	if (r->offset >= r->msg->size)
		r->eof = 1;
	r->out_len = pop3_stuff(&r->st, r->in, have, r->out);
	if (r->st.done)
		r->eof = 1;
	if (r->eof)
		r->out_len += pop3_stuff_end(&r->st, r->out + r->out_len);
}

static int
retr_done(struct pop3_job *j)
{
	struct pop3_session *s = j->s;
	struct retr *r = j->arg;

	if (s->closed)
		return POP3_JOB_DONE;
	if (j->result < 0) {
		ps_conn_log(s->conn, PS_LOG_ERR, "user=%s uid=%" PRIu32
			    ": cannot read: %s", s->user, r->msg->uid,
			    j->err.msg);
		if (!r->started) {
			pop3_err(s, j->result == PS_STORE_ENOMSG ? NULL
								 : "SYS/TEMP",
				 "Message %" PRIu32 " %s", r->n,
				 j->result == PS_STORE_ENOMSG
					 ? "was removed by another session"
					 : "cannot be read now");
			return POP3_JOB_DONE;
		}
		/* Half sent: no way to say so but to hang up. */
		ps_conn_close(s->conn);
		return POP3_JOB_DONE;
	}
	if (!r->started) {
		r->started = 1;
		if (r->top)
			pop3_ok(s, "Top of message follows");
		else
			pop3_ok(s, "%" PRIu64 " octets", r->msg->size);
	}
	ps_conn_write(s->conn, r->out, r->out_len);
	if (!r->eof)
		return POP3_JOB_MORE;
	if (!r->top) {
		r->msg->flags |= POP3_MSG_RETRIEVED;
		s->nretr++;
	}
	return POP3_JOB_DONE;
}

static int
send_msg(struct pop3_session *s, const struct pop3_cmd *cmd, int top,
	 uint64_t lines)
{
	struct retr *r;
	struct pop3_msg *m;
	uint32_t n;

	if (!(m = pop3_drop_msg(s, cmd, &n)))
		return 0;
	if (!(r = malloc(sizeof(*r))))
		return pop3_err(s, "SYS/TEMP", "Out of memory");
	r->msg = m;
	r->n = n;
	r->top = top;
	r->offset = 0;
	r->started = r->eof = 0;
	pop3_stuff_init(&r->st, top, lines);
	return pop3_job_start(s, retr_work, retr_done, retr_free, r);
}

int
pop3_cmd_retr(struct pop3_session *s, const struct pop3_cmd *cmd)
{
	return send_msg(s, cmd, 0, 0);
}

/* RFC 1939 7: "TOP msg n", n non-negative; a number of lines past the
 * body's end sends the whole message. */
int
pop3_cmd_top(struct pop3_session *s, const struct pop3_cmd *cmd)
{
	uint32_t lines;

	if (pop3_number(cmd->args[1], cmd->lens[1], 0, &lines) < 0)
		return pop3_bad(s, "TOP needs a message number and a number "
				"of lines");
	return send_msg(s, cmd, 1, lines);
}
