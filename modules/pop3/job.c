/* Steps off the loop: store calls block (storage.h), so they run as jobs
 * on the worker's pool while the session waits. A job may run again and
 * again (RETR reads a message chunk by chunk), each time after the client
 * has read most of what the previous round wrote: memory stays bounded by
 * the output buffer and one chunk, whatever the message's size. */
#include <stdlib.h>

#include "pop3d.h"

/* Past this much queued output a streaming job waits for on_drain. */
#define POP3_LOW_WATER (64 * 1024)

static void job_done(void *arg);

static void
job_work(void *arg)
{
	struct pop3_job *j = arg;

	j->work(j);
}

static void
job_end(struct pop3_job *j)
{
	struct pop3_session *s = j->s;

	if (j->free_arg)
		j->free_arg(j->arg);
	free(j);
	pop3_unwait(s);
}

/* Run work again; if the pool cannot take it the stream is broken, and a
 * half-sent response cannot be taken back: close. */
static void
job_again(struct pop3_job *j)
{
	if (ps_job_submit(job_work, job_done, j) == 0)
		return;
	ps_conn_log(j->s->conn, PS_LOG_ERR, "cannot queue a job: closing");
	ps_conn_close(j->s->conn);
	job_end(j);
}

static void
job_done(void *arg)
{
	struct pop3_job *j = arg;
	struct pop3_session *s = j->s;

	if (j->done(j) != POP3_JOB_MORE || s->closed ||
	    ps_conn_closing(s->conn)) {
		job_end(j);
		return;
	}
	if (ps_conn_pending(s->conn) > POP3_LOW_WATER) {
		s->drain_job = j;
		return;
	}
	job_again(j);
}

int
pop3_job_start(struct pop3_session *s, void (*work)(struct pop3_job *),
	       int (*done)(struct pop3_job *), void (*free_arg)(void *),
	       void *arg)
{
	struct pop3_job *j = calloc(1, sizeof(*j));

	if (!j) {
		if (free_arg)
			free_arg(arg);
		return pop3_err(s, "SYS/TEMP", "Out of memory");
	}
	*j = (struct pop3_job){.s = s, .work = work, .done = done,
			       .free_arg = free_arg, .arg = arg};
	pop3_wait(s);
	if (ps_job_submit(job_work, job_done, j) < 0) {
		job_end(j);
		return pop3_err(s, "SYS/TEMP", "Out of memory");
	}
	return 0;
}

/* on_drain, or on_close: a waiting job goes on, or ends with the
 * connection. */
void
pop3_job_drained(struct pop3_session *s)
{
	struct pop3_job *j = s->drain_job;

	if (!j)
		return;
	s->drain_job = NULL;
	if (s->closed || ps_conn_closing(s->conn))
		job_end(j);
	else
		job_again(j);
}
