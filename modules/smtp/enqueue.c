/* Submission's remote recipients into the mail queue (<poshta/queue.h>)
 * before the reply: RFC 5321 6.1, the 250 takes responsibility for the
 * message, so enq_commit (durable) comes first. The envelope keeps what
 * the relay and its DSNs need: RET and ENVID (RFC 3461 4.3, 4.4), NOTIFY
 * and ORCPT per recipient (4.1, 4.2), SMTPUTF8 (RFC 6531), 8BITMIME (RFC
 * 6152) and REQUIRETLS (RFC 8689 4.1). The body is what local delivery
 * stores but Return-Path, which final delivery adds (RFC 5321 4.4), with
 * a DKIM-Signature in front when the From domain has a key (RFC 6376). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dsn.h"
#include "smtpd.h"

#define ENQ_CHUNK (64 * 1024)

/* The SMTP parser's values are the queue's (RFC 3461 4.1 bits). */
_Static_assert(SMTP_NOTIFY_NEVER == PS_QUEUE_NOTIFY_NEVER &&
	       SMTP_NOTIFY_SUCCESS == PS_QUEUE_NOTIFY_SUCCESS &&
	       SMTP_NOTIFY_FAILURE == PS_QUEUE_NOTIFY_FAILURE &&
	       SMTP_NOTIFY_DELAY == PS_QUEUE_NOTIFY_DELAY,
	       "NOTIFY bits differ");

struct enq {
	struct smtp_session *s;
	const struct smtp_spool *sp;
	const char *head;
	size_t head_len;
	int64_t now;
	struct ps_queue_envelope env;
	struct ps_queue_rcpt_in *rcpts;
	size_t n;
	char **orcpts;   /* made for forwarded recipients, owned here */
	size_t norcpts;
	char client[SMTP_DOMAIN_MAX + 64];
	const struct smtp_dkim *key;  /* NULL: not signed */
	char *sig;                    /* the DKIM-Signature field */
	int sign_result;
	struct ps_error sign_err;
	int result;
	struct ps_error err;
	char id[PS_QUEUE_ID_LEN + 1];
	void (*done)(void *arg, int result);
	void *arg;
};

int
smtp_has_remote(const struct smtp_session *s)
{
	for (size_t i = 0; i < s->nrcpts; i++)
		if (s->rcpts[i].remote || s->rcpts[i].nforwards)
			return 1;
	return 0;
}

/* The body as local delivery stores it, after the signature. */
static int
enq_body(struct enq *q, struct ps_queue_enq *e, char *buf)
{
	const struct ps_queue_ops *ops = &smtp_cfg.queue;
	uint64_t off = 0;
	size_t got;
	int r = 0;

	if (q->sig)
		r = ops->enq_data(e, q->sig, strlen(q->sig), &q->err);
	if (r == 0 && q->head_len)
		r = ops->enq_data(e, q->head, q->head_len, &q->err);
	while (r == 0) {
		if (smtp_spool_read(q->sp, off, buf, ENQ_CHUNK, &got) < 0) {
			snprintf(q->err.msg, sizeof(q->err.msg),
				 "spool read failed");
			return PS_EIO;
		}
		if (got == 0)
			break;
		r = ops->enq_data(e, buf, got, &q->err);
		off += got;
	}
	return r;
}

/* On a pool thread. A signature that fails leaves the message
 * unsigned: losing it would be worse (the loop logs why). */
static void
enq_work(void *arg)
{
	const struct ps_queue_ops *ops = &smtp_cfg.queue;
	struct enq *q = arg;
	struct ps_queue_enq *e;
	char *buf;

	if (q->key)
		q->sign_result = smtp_dkim_sign(q->key, q->head, q->head_len,
						q->sp, q->now, &q->sig,
						&q->sign_err);
	if (!(buf = malloc(ENQ_CHUNK))) {
		q->result = PS_ENOMEM;
		return;
	}
	q->result = ops->enq_begin(&q->env, q->rcpts, q->n, &e, q->id,
				   &q->err);
	if (q->result == 0) {
		q->result = enq_body(q, e, buf);
		if (q->result == 0)
			q->result = ops->enq_commit(e, &q->err);
		else
			ops->enq_abort(e);
	}
	free(buf);
}

static void
enq_free(struct enq *q)
{
	for (size_t i = 0; i < q->norcpts; i++)
		free(q->orcpts[i]);
	free(q->orcpts);
	free(q->sig);
	free(q->rcpts);
	free(q);
}

static void
enq_log(struct enq *q)
{
	struct ps_conn *c = q->s->conn;

	if (q->key && q->sign_result < 0)
		ps_conn_log(c, PS_LOG_WARN, "dkim signing failed, queued "
			    "unsigned id=%s domain=%s error=\"%s\"",
			    q->s->queue_id, smtp_dkim_domain(q->key),
			    q->sign_err.msg);
	else if (q->key)
		ps_conn_log(c, PS_LOG_INFO, "dkim signed id=%s domain=%s",
			    q->s->queue_id, smtp_dkim_domain(q->key));
	if (q->result < 0)
		ps_conn_log(c, PS_LOG_WARN, "enqueue failed id=%s error=%d "
			    "reason=\"%s\"", q->s->queue_id, q->result,
			    q->err.msg);
	else
		ps_conn_log(c, PS_LOG_INFO, "enqueued id=%s queue_id=%s "
			    "remote=%zu", q->s->queue_id, q->id, q->n);
}

static void
enq_done(void *arg)
{
	struct enq *q = arg;

	enq_log(q);
	q->done(q->arg, q->result);
	enq_free(q);
}

static void
enq_envelope(struct enq *q, struct smtp_session *s)
{
	const struct smtp_mail *m = &s->mail;

	snprintf(q->client, sizeof(q->client), "%s [%s]", s->helo,
		 ps_conn_peer(s->conn));
	q->env = (struct ps_queue_envelope){
		.size = sizeof(q->env),
		.sender = m->path.addr,
		.ret = m->ret == SMTP_RET_FULL ? PS_QUEUE_RET_FULL :
		       m->ret == SMTP_RET_HDRS ? PS_QUEUE_RET_HDRS :
		       PS_QUEUE_RET_NONE,
		.envid = m->envid[0] ? m->envid : NULL,
		.flags = (m->smtputf8 ? PS_QUEUE_SMTPUTF8 : 0) |
			 (m->body == SMTP_BODY_8BITMIME ? PS_QUEUE_8BITMIME :
			  0) |
			 (m->requiretls ? PS_QUEUE_REQUIRETLS : 0),
		.arrival = q->now,
		.user = s->user[0] ? s->user : NULL,
		.client = q->client,
	};
}

static int
cmp_rcpt(const void *a, const void *b)
{
	const struct ps_queue_rcpt_in *const *x = a, *const *y = b;
	int c = strcmp((*x)->address, (*y)->address);

	return c ? c : (*x < *y ? -1 : *x > *y);
}

/* A client may name one recipient twice; like local delivery (each user
 * once), it gets one copy: the first RCPT's, with its NOTIFY and ORCPT.
 * Sorted pointers find the twins in O(n log n) (max_recipients may be
 * large); the survivors keep their RCPT order. */
static int
enq_dedup(struct enq *q)
{
	const struct ps_queue_rcpt_in **p = calloc(q->n, sizeof(*p));
	size_t k = 0;

	if (!p)
		return PS_ENOMEM;
	for (size_t i = 0; i < q->n; i++)
		p[i] = &q->rcpts[i];
	qsort(p, q->n, sizeof(*p), cmp_rcpt);
	for (size_t i = 1, first = 0; i < q->n; i++) {
		if (strcmp(p[i]->address, p[first]->address) != 0)
			first = i;
		else
			q->rcpts[p[i] - q->rcpts].address = NULL;
	}
	free(p);
	for (size_t i = 0; i < q->n; i++)
		if (q->rcpts[i].address)
			q->rcpts[k++] = q->rcpts[i];
	q->n = k;
	return 0;
}

/* RFC 3461 4.2: a recipient forwarded by an alias keeps the address the
 * client gave as its ORCPT ("rfc822;" xtext), unless the client gave one
 * itself. A UTF-8 address goes without (the ORCPT is optional, and RFC
 * 6533's utf-8 form is for the client to give); NULL then too. */
static const char *
enq_orcpt(struct enq *q, const struct smtp_rcpt_entry *r)
{
	size_t len = strlen(r->addr), n;
	char *o;

	if (r->orcpt && r->orcpt[0])
		return r->orcpt;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)r->addr[i] >= 0x80)
			return NULL;
	if (!(o = malloc(sizeof("rfc822;") + 3 * len)))
		return NULL;
	memcpy(o, "rfc822;", 7);
	if (dsn_xtext_encode(r->addr, len, o + 7, 3 * len + 1, &n) < 0) {
		free(o);
		return NULL;
	}
	q->orcpts[q->norcpts++] = o;
	return o;
}

static void
enq_add(struct enq *q, const char *address, const char *orcpt,
	unsigned notify)
{
	q->rcpts[q->n++] = (struct ps_queue_rcpt_in){
		.size = sizeof(*q->rcpts),
		.address = address,
		.kind = PS_QUEUE_REMOTE,
		.orcpt = orcpt,
		.notify = notify,
	};
}

/* The remote recipients only: the local ones are delivered now by
 * deliver.c; a recipient's aliases that point to other servers are
 * forwarded with the original envelope sender, as sendmail's and
 * Postfix's aliases do. Strings point into the session, which outlives
 * the job (smtp_wait). */
static int
enq_rcpts(struct enq *q, struct smtp_session *s)
{
	size_t max = 0;

	for (size_t i = 0; i < s->nrcpts; i++)
		max += (s->rcpts[i].remote != 0) + s->rcpts[i].nforwards;
	if (!max)
		return PS_EINVAL;
	if (!(q->rcpts = calloc(max, sizeof(*q->rcpts))) ||
	    !(q->orcpts = calloc(s->nrcpts, sizeof(*q->orcpts))))
		return PS_ENOMEM;
	for (size_t i = 0; i < s->nrcpts; i++) {
		const struct smtp_rcpt_entry *r = &s->rcpts[i];
		const char *orcpt = r->orcpt && r->orcpt[0] ? r->orcpt : NULL;

		if (r->remote)
			enq_add(q, r->addr, orcpt, r->notify);
		if (r->nforwards)
			orcpt = enq_orcpt(q, r);
		for (size_t k = 0; k < r->nforwards; k++)
			enq_add(q, r->forwards[k], orcpt, r->notify);
	}
	return enq_dedup(q);
}

/* Start the job; done(arg, result) runs on the loop when the message is
 * durable in the queue (0) or could not be stored. On failure to start,
 * done never runs. */
int
smtp_enqueue(struct smtp_session *s, const struct smtp_spool *sp,
	     const char *head, size_t head_len, int64_t now,
	     void (*done)(void *arg, int result), void *arg)
{
	struct enq *q;
	int r;

	if (!smtp_cfg.have_queue)
		return PS_ESTATE;
	if (!(q = calloc(1, sizeof(*q))))
		return PS_ENOMEM;
	*q = (struct enq){.s = s, .sp = sp, .head = head,
			  .head_len = head_len, .now = now, .done = done,
			  .arg = arg};
	enq_envelope(q, s);
	if ((r = enq_rcpts(q, s)) < 0) {
		enq_free(q);
		return r;
	}
	if (smtp_cfg.ndkim && s->headers)
		q->key = smtp_dkim_find(s->headers, strlen(s->headers));
	if ((r = ps_job_submit(enq_work, enq_done, q)) < 0)
		enq_free(q);
	return r;
}
