/* Each worker's LISTEN connection: change notices other front ends made
 * on the shared database (notify.c writes them) reach this worker's IMAP
 * sessions, through ps_bus_publish_local, within a round trip of their
 * commit. The connection is non-blocking libpq on the worker's loop (an
 * fd watch, SDK 1.4): connect with PQconnectPoll, send LISTEN, then read
 * notifications as they come. When it drops it is opened again after a
 * backoff (0.5 s doubling to 30 s). Notices missed meanwhile cost
 * nothing lasting: sessions resynchronise on their next command. Tools
 * (no loop: ps_watch_add gives NULL) have no listener. */
#include <stdlib.h>
#include <string.h>

#include "storage_pgsql.h"

#define SP_BACKOFF_MIN 500
#define SP_BACKOFF_MAX 30000

enum sp_listen_state { SP_IDLE, SP_CONNECTING, SP_LISTENING };

static struct {
	PGconn *pg;
	struct ps_watch *w;
	struct ps_timer *t;
	int fd;
	enum sp_listen_state state;
	unsigned backoff;
	int stopped;
} sp_listen;

static void sp_listen_ready(int fd, unsigned events, void *arg);
static void sp_listen_connect(void *arg);

static void
sp_listen_drop(void)
{
	ps_watch_remove(sp_listen.w);
	sp_listen.w = NULL;
	PQfinish(sp_listen.pg);
	sp_listen.pg = NULL;
	sp_listen.fd = -1;
	sp_listen.state = SP_IDLE;
}

/* Lost or never made: try again after the backoff. */
static void
sp_listen_retry(const char *why)
{
	int was_up = sp_listen.state == SP_LISTENING;

	if (sp_listen.pg && why) {
		struct ps_error err = {""};

		sp_pgmsg(&err, 0, "", PQerrorMessage(sp_listen.pg));
		ps_log(was_up ? PS_LOG_WARN : PS_LOG_INFO,
		       "storage_pgsql: change notices from other front ends "
		       "paused (%s): %s", why, err.msg);
	}
	sp_listen_drop();
	if (sp_listen.stopped)
		return;
	sp_listen.t = ps_timer_add(sp_listen.backoff, sp_listen_connect, NULL);
	sp_listen.backoff = sp_listen.backoff * 2 > SP_BACKOFF_MAX
				    ? SP_BACKOFF_MAX
				    : sp_listen.backoff * 2;
}

/* Watch the connection's socket for events; libpq may move to another
 * socket while it connects (another address of the host). */
static int
sp_listen_watch(unsigned events)
{
	int fd = PQsocket(sp_listen.pg);

	if (fd < 0)
		return -1;
	if (sp_listen.w && fd == sp_listen.fd)
		return ps_watch_set(sp_listen.w, events) < 0 ? -1 : 0;
	ps_watch_remove(sp_listen.w);
	sp_listen.fd = fd;
	sp_listen.w = ps_watch_add(fd, events, sp_listen_ready, NULL);
	return sp_listen.w ? 0 : -1;
}

static void
sp_listen_notice(const PGnotify *n)
{
	char *topic, *data;
	size_t len;

	if (strcmp(n->relname, SP_CHANNEL) != 0)
		return;
	if (sp_payload_parse(n->extra, &topic, &data, &len) != 1)
		return;
	(void)ps_bus_publish_local(topic, data, len);
	free(topic);
	free(data);
}

static void
sp_listen_read(void)
{
	PGnotify *n;
	PGresult *res;

	if (!PQconsumeInput(sp_listen.pg)) {
		sp_listen_retry("read");
		return;
	}
	while (!PQisBusy(sp_listen.pg) &&
	       (res = PQgetResult(sp_listen.pg)) != NULL) {
		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			PQclear(res);
			sp_listen_retry("LISTEN");
			return;
		}
		PQclear(res);
		sp_listen.backoff = SP_BACKOFF_MIN;
	}
	while ((n = PQnotifies(sp_listen.pg)) != NULL) {
		sp_listen_notice(n);
		PQfreemem(n);
	}
	if (PQstatus(sp_listen.pg) != CONNECTION_OK)
		sp_listen_retry("status");
}

/* Connected: send LISTEN and wait for what comes. */
static void
sp_listen_subscribe(void)
{
	int flushed;

	if (!PQsendQuery(sp_listen.pg, "LISTEN " SP_CHANNEL)) {
		sp_listen_retry("LISTEN");
		return;
	}
	sp_listen.state = SP_LISTENING;
	flushed = PQflush(sp_listen.pg);
	if (flushed < 0 || sp_listen_watch(PS_WATCH_READ |
					   (flushed ? PS_WATCH_WRITE : 0)) < 0)
		sp_listen_retry("send");
}

static void
sp_listen_poll(void)
{
	switch (PQconnectPoll(sp_listen.pg)) {
	case PGRES_POLLING_READING:
		if (sp_listen_watch(PS_WATCH_READ) < 0)
			sp_listen_retry("watch");
		break;
	case PGRES_POLLING_WRITING:
		if (sp_listen_watch(PS_WATCH_WRITE) < 0)
			sp_listen_retry("watch");
		break;
	case PGRES_POLLING_OK:
		sp_listen_subscribe();
		break;
	default:
		sp_listen_retry("connect");
		break;
	}
}

static void
sp_listen_ready(int fd, unsigned events, void *arg)
{
	(void)fd;
	(void)arg;
	if (sp_listen.state == SP_CONNECTING) {
		sp_listen_poll();
		return;
	}
	if (events & PS_WATCH_WRITE) {
		int flushed = PQflush(sp_listen.pg);

		if (flushed < 0 ||
		    sp_listen_watch(PS_WATCH_READ |
				    (flushed ? PS_WATCH_WRITE : 0)) < 0) {
			sp_listen_retry("send");
			return;
		}
	}
	if (events & (PS_WATCH_READ | PS_WATCH_ERROR))
		sp_listen_read();
}

static void
sp_listen_connect(void *arg)
{
	(void)arg;
	sp_listen.t = NULL;
	sp_listen.pg = PQconnectStart(sp_config.conninfo);
	if (!sp_listen.pg || PQstatus(sp_listen.pg) == CONNECTION_BAD ||
	    PQsetnonblocking(sp_listen.pg, 1) != 0) {
		sp_listen_retry("connect");
		return;
	}
	sp_listen.state = SP_CONNECTING;
	/* Connection started: PQconnectPoll waits for writability first. */
	if (sp_listen_watch(PS_WATCH_WRITE) < 0)
		sp_listen_retry("watch");
}

/* worker_init: start listening, unless this process has no loop. */
void
sp_listen_start(void)
{
	sp_listen.fd = -1;
	sp_listen.stopped = 0;
	sp_listen.backoff = SP_BACKOFF_MIN;
	sp_listen.pg = PQconnectStart(sp_config.conninfo);
	if (!sp_listen.pg || PQstatus(sp_listen.pg) == CONNECTION_BAD ||
	    PQsetnonblocking(sp_listen.pg, 1) != 0 ||
	    sp_listen_watch(PS_WATCH_WRITE) < 0) {
		/* A tool (no watches), or the server is away: worker_init
		 * checked it moments ago, so this is a tool. */
		sp_listen_drop();
		return;
	}
	sp_listen.state = SP_CONNECTING;
}

/* worker_exit: the watch goes before the socket closes. */
void
sp_listen_stop(void)
{
	sp_listen.stopped = 1;
	if (sp_listen.t)
		ps_timer_cancel(sp_listen.t);
	sp_listen.t = NULL;
	sp_listen_drop();
}
