/* The runner's decisions that need no I/O: how long to wait before the
 * next attempt, when to give up, and when a DSN is owed (RFC 3461 4.1,
 * RFC 5321 4.5.4.1). Pure, so the unit test drives it with any clock. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "relay.h"

/* RFC 5321 4.5.4.1 asks for a retry interval of at least 30 minutes;
 * like Postfix and OpenSMTPD we start shorter and double: retry_first
 * after the first failure, then twice that each time, up to retry_max.
 * Jitter of +-20% keeps messages deferred together (a receiver that was
 * down) from coming back all at once. random is uniform in 32 bits. */
int64_t
relay_backoff(const struct relay_config *cfg, unsigned attempts,
	      uint32_t random)
{
	int64_t d = cfg->retry_first;
	unsigned i;
	int64_t jitter;

	for (i = 1; i < attempts && d < cfg->retry_max; i++)
		d *= 2;
	if (d > cfg->retry_max)
		d = cfg->retry_max;
	/* d * [0.8, 1.2): in thousandths, so whole seconds still jitter. */
	jitter = (int64_t)(random % 401) - 200;
	d = (d * (1000 + jitter) + 999) / 1000;
	return d < 1 ? 1 : d;
}

/* RFC 3461 4.1: no NOTIFY means FAILURE,DELAY at the MTA's discretion;
 * NEVER means none; and no DSN ever goes to the null sender (RFC 3464
 * 2, RFC 5321 4.5.5). */
static int
notify_wants(const struct relay_msg *m, const struct relay_rcpt *r,
	     unsigned what)
{
	if (!m->sender[0] || (r->notify & PS_QUEUE_NOTIFY_NEVER))
		return 0;
	if (!r->notify)
		return what != PS_QUEUE_NOTIFY_SUCCESS;
	return (r->notify & what) != 0;
}

void
relay_result(const struct relay_config *cfg, const struct relay_msg *m,
	     const struct relay_rcpt *r, int64_t now, uint32_t random,
	     struct ps_queue_result *out)
{
	*out = (struct ps_queue_result){.size = sizeof(*out), .id = m->id,
					.index = r->index, .lease = m->lease,
					.diag = r->diag};
	switch (r->outcome) {
	case SMTPC_DELIVERED:
		out->state = PS_QUEUE_DELIVERED;
		/* A server that offered DSN took NOTIFY along and reports
		 * success itself; one that did not gets a "relayed" DSN
		 * from us (RFC 3461 6.2.3.2). */
		if (!r->dsn_offered &&
		    notify_wants(m, r, PS_QUEUE_NOTIFY_SUCCESS))
			out->flags = PS_QUEUE_REPORT;
		return;
	case SMTPC_FAILED:
		out->state = PS_QUEUE_FAILED;
		break;
	case SMTPC_DEFERRED:
		/* RFC 5321 4.5.4.1: give up after queue_lifetime; the DSN
		 * then carries the last temporary reply. */
		if (now >= m->arrival + cfg->lifetime) {
			out->state = PS_QUEUE_FAILED;
			break;
		}
		out->state = PS_QUEUE_DEFERRED;
		out->next_attempt = now + relay_backoff(cfg, r->attempts + 1,
							random);
		if (cfg->delay_warning > 0 &&
		    now >= m->arrival + cfg->delay_warning &&
		    !(r->report & PS_QUEUE_REPORT_DELAYED) &&
		    notify_wants(m, r, PS_QUEUE_NOTIFY_DELAY))
			out->flags = PS_QUEUE_REPORT;
		return;
	}
	if (notify_wants(m, r, PS_QUEUE_NOTIFY_FAILURE))
		out->flags = PS_QUEUE_REPORT;
}

int
relay_decide(struct relay_rcpt *r, enum smtpc_outcome o,
	     const struct relay_host *host, const char *text)
{
	size_t len;
	char *diag;

	if (r->decided)
		return 0;
	/* Whole: the queue cuts a long diag at a UTF-8 boundary. */
	len = strlen(text) + (host ? strlen(host->name) +
			      strlen(host->addr) + 4 : 0) + 1;
	diag = malloc(len);
	if (!diag)
		return PS_ENOMEM;
	if (host)
		snprintf(diag, len, "%s[%s]: %s", host->name, host->addr,
			 text);
	else
		snprintf(diag, len, "%s", text);
	free(r->diag);
	r->diag = diag;
	r->outcome = o;
	r->decided = 1;
	return 1;
}
