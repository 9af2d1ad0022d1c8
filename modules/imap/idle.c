/* IDLE (RFC 2177, RFC 9051 6.3.13): after "+ idling" the server sends
 * untagged updates as they happen, until the client's DONE. Changes
 * reach an idling session through the bus (module.c's store notices,
 * from any worker and from SMTP delivery), each starting a sync job
 * whose output goes straight out. */
#include <strings.h>

#include "imapd.h"

/* A notice that came while this sync ran left the view dirty: once more
 * (the job's own wait is still held here, so input stays paused). */
static void
idle_synced(struct imap_job *j)
{
	struct imap_session *s = j->s;

	if (j->result < 0 && !(s->view && s->view->gone))
		ps_conn_log(s->conn, PS_LOG_ERR, "idle sync user=%s: %s",
			    s->user, j->err.msg);
	else if (s->idling && !s->closed && s->view && s->view->dirty &&
		 imap_sync_start(s, idle_synced) < 0)
		ps_conn_log(s->conn, PS_LOG_ERR, "idle: out of memory");
}

/* A change came, or the server is going down. */
void
imap_idle_wake(struct imap_session *s)
{
	if (!s->idling || s->closed)
		return;
	if (s->shutdown) {
		s->idling = 0;
		imap_goodbye(s, "Server shutting down");
		return;
	}
	if (s->waiting || !s->view)
		return; /* the running sync sees dirty when it ends */
	if (imap_sync_start(s, idle_synced) < 0)
		ps_conn_log(s->conn, PS_LOG_ERR, "idle: out of memory");
}

int
imap_cmd_idle(struct imap_session *s)
{
	if (s->nargs)
		return imap_bad(s, "IDLE takes no arguments");
	imap_printf(s, "+ idling\r\n");
	s->idling = 1;
	/* What changed since the last command goes out now. */
	if (s->view)
		imap_idle_wake(s);
	return 0;
}

/* The line after "+ idling": DONE ends IDLE (RFC 2177 3), anything else
 * is a client bug. The tag is still the IDLE command's: the parser was
 * not fed since. */
int
imap_idle_line(struct imap_session *s, const char *line, size_t len)
{
	s->idling = 0;
	if (len == 4 && strncasecmp(line, "DONE", 4) == 0)
		return imap_ok(s, "Idle completed");
	return imap_bad(s, "Expected DONE");
}
