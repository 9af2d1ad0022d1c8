/* connect_probe.so: outbound connections and fd watches (SDK 1.4), driven
 * over a listener of protocol "probe" so that tests can script them. One
 * outbound connection per control connection:
 *
 *   CONNECT addr port [timeout=MS] [tls=1] [verify=0|1] [name=N] [ca=FILE]
 *           [source=ADDR] [shutdown=quit]
 *   SEND text        a line to the server
 *   STARTTLS [verify=0|1] [name=N] [ca=FILE]
 *                    STARTTLS from inside on_line when the next line comes
 *   CLOSE            ps_conn_close the outbound connection
 *   WATCH            a socketpair through ps_watch_add/set/remove
 *
 * It answers "OK" or "ERR why", then reports what happens: "OPEN", "LINE
 * text", "TLS version cipher verified=0|1", "TIMEOUT", "CLOSED why",
 * "WATCH read|write|removed", "WATCH done calls=N". */
#include <poshta/poshta.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct ctl {
	struct ps_conn *c;
	struct ps_conn *out;
	int arm_starttls;
	struct ps_tls_client tls;
	char name[256], ca[512];
};

struct watch_probe {
	struct ctl *ctl;
	struct ps_watch *w;
	int fds[2];
	int calls;
};

static void PS_PRINTF(2, 3)
say(struct ctl *ctl, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	ps_conn_printf(ctl->c, "%s\r\n", line);
}

/* ---- The outbound side ----------------------------------------------- */

static void
report_tls(struct ps_conn *c, struct ctl *ctl)
{
	say(ctl, "TLS %s verified=%d", ps_conn_tls_info(c),
	    ps_conn_tls_verified(c));
}

static int
out_open(struct ps_conn *c, void *s)
{
	struct ctl *ctl = ps_conn_arg(c);

	(void)s;
	say(ctl, "OPEN");
	if (ps_conn_tls(c) & PS_TLS_ACTIVE)
		report_tls(c, ctl);
	return 0;
}

/* STARTTLS starts inside on_line, so that what the server sent behind its
 * go-ahead is still buffered and must be discarded by the core. */
static int
out_line(struct ps_conn *c, void *s, const char *line, size_t len,
	 unsigned flags)
{
	struct ctl *ctl = ps_conn_arg(c);
	int r;

	(void)s;
	(void)flags;
	say(ctl, "LINE %.*s", (int)len, line);
	if (ctl->arm_starttls) {
		ctl->arm_starttls = 0;
		r = ps_conn_starttls_client(c, &ctl->tls);
		if (r < 0)
			say(ctl, "STARTTLS failed %d", r);
	}
	return 0;
}

static int
out_tls(struct ps_conn *c, void *s)
{
	(void)s;
	report_tls(c, ps_conn_arg(c));
	return 0;
}

static void
out_timeout(struct ps_conn *c, void *s)
{
	(void)s;
	say(ps_conn_arg(c), "TIMEOUT");
}

static void
out_close(struct ps_conn *c, void *s)
{
	struct ctl *ctl = ps_conn_arg(c);

	(void)s;
	ps_conn_log(c, PS_LOG_NOTICE, "outbound closed: %s",
		    ps_conn_error(c));
	say(ctl, "CLOSED %s", ps_conn_error(c));
	ctl->out = NULL;
	ps_conn_release(ctl->c);
}

/* The worker shuts down: say goodbye to the server first. */
static void
out_shutdown(struct ps_conn *c, void *s)
{
	(void)s;
	ps_conn_printf(c, "QUIT\r\n");
	ps_conn_close(c);
}

/* Not registered: a client protocol is nothing "listen" could name. */
static const struct ps_protocol probe_client = {
	.size = sizeof(struct ps_protocol),
	.name = "probe_client",
	.on_open = out_open,
	.on_line = out_line,
	.on_tls = out_tls,
	.on_timeout = out_timeout,
	.on_close = out_close,
};

/* The same with on_shutdown, filled in by init. */
static struct ps_protocol probe_client_quit;

/* ---- Commands -------------------------------------------------------- */

static const char *
copy(char *buf, size_t size, const char *v)
{
	snprintf(buf, size, "%s", v);
	return buf;
}

/* key=value words after the command into o and tls; 0 or -1. */
static int
parse_opts(struct ctl *ctl, char *words, struct ps_connect *o, int *quit)
{
	for (char *w = strtok(words, " "); w; w = strtok(NULL, " ")) {
		char *v = strchr(w, '=');

		if (!v)
			return -1;
		*v++ = '\0';
		if (!strcmp(w, "timeout") && o)
			o->timeout_ms = strtoull(v, NULL, 10);
		else if (!strcmp(w, "tls") && o)
			o->tls = atoi(v) ? PS_CONNECT_TLS : 0;
		else if (!strcmp(w, "source") && o)
			o->source = v;
		else if (!strcmp(w, "shutdown") && quit)
			*quit = !strcmp(v, "quit");
		else if (!strcmp(w, "verify"))
			ctl->tls.verify = atoi(v);
		else if (!strcmp(w, "name"))
			ctl->tls.server_name = copy(ctl->name,
						    sizeof(ctl->name), v);
		else if (!strcmp(w, "ca"))
			ctl->tls.ca_file = copy(ctl->ca, sizeof(ctl->ca), v);
		else
			return -1;
	}
	return 0;
}

static void
tls_reset(struct ctl *ctl)
{
	memset(&ctl->tls, 0, sizeof(ctl->tls));
	ctl->tls.size = sizeof(ctl->tls);
}

static void
cmd_connect(struct ctl *ctl, char *args)
{
	struct ps_connect o = {.size = sizeof(o), .tls_opts = &ctl->tls,
			       .arg = ctl};
	struct ps_error err = {""};
	char *addr = strtok(args, " "), *port = strtok(NULL, " ");
	char *rest = strtok(NULL, "");
	int quit = 0;

	tls_reset(ctl);
	if (ctl->out || !addr || !port ||
	    (rest && parse_opts(ctl, rest, &o, &quit) < 0)) {
		say(ctl, "ERR usage");
		return;
	}
	o.address = addr;
	o.port = (uint16_t)atoi(port);
	ctl->out = ps_conn_connect(quit ? &probe_client_quit : &probe_client,
				   &o, &err);
	if (!ctl->out) {
		say(ctl, "ERR %s", err.msg);
		return;
	}
	/* The control connection stays valid until out_close. */
	ps_conn_hold(ctl->c);
	say(ctl, "OK %s", ps_conn_id(ctl->out));
}

static void
cmd_starttls(struct ctl *ctl, char *args)
{
	tls_reset(ctl);
	if (!ctl->out || (args && parse_opts(ctl, args, NULL, NULL) < 0)) {
		say(ctl, "ERR usage");
		return;
	}
	ctl->arm_starttls = 1;
	say(ctl, "OK");
}

/* ---- Watches --------------------------------------------------------- */

static void
watch_done(void *arg)
{
	struct watch_probe *p = arg;

	say(p->ctl, "WATCH done calls=%d", p->calls);
	close(p->fds[0]);
	close(p->fds[1]);
	ps_conn_release(p->ctl->c);
	free(p);
}

/* Readable with the byte written, then writable; removed from inside its
 * own callback. The socket stays writable: a watch that was not really
 * removed would be called again before watch_done counts. */
static void
watch_cb(int fd, unsigned events, void *arg)
{
	struct watch_probe *p = arg;
	char byte;

	p->calls++;
	if (p->calls == 1 && (events & PS_WATCH_READ) &&
	    read(fd, &byte, 1) == 1) {
		say(p->ctl, "WATCH read");
		if (ps_watch_set(p->w, PS_WATCH_WRITE) < 0)
			say(p->ctl, "WATCH set failed");
		return;
	}
	if (p->calls == 2 && (events & PS_WATCH_WRITE)) {
		say(p->ctl, "WATCH write");
		ps_watch_remove(p->w);
		say(p->ctl, "WATCH removed");
		ps_timer_add(100, watch_done, p);
		return;
	}
	say(p->ctl, "WATCH unexpected call=%d events=%u", p->calls, events);
}

static void
cmd_watch(struct ctl *ctl)
{
	struct watch_probe *p = calloc(1, sizeof(*p));

	if (!p || socketpair(AF_UNIX, SOCK_STREAM, 0, p->fds) < 0) {
		free(p);
		say(ctl, "ERR socketpair");
		return;
	}
	p->ctl = ctl;
	p->w = ps_watch_add(p->fds[0], PS_WATCH_READ, watch_cb, p);
	if (!p->w || write(p->fds[1], "x", 1) != 1) {
		say(ctl, "ERR watch_add");
		ps_watch_remove(p->w);
		close(p->fds[0]);
		close(p->fds[1]);
		free(p);
		return;
	}
	ps_conn_hold(ctl->c);
	say(ctl, "OK");
}

/* ---- The control protocol -------------------------------------------- */

static int
ctl_open(struct ps_conn *c, void *s)
{
	struct ctl *ctl = s;

	ctl->c = c;
	say(ctl, "PROBE ready");
	return 0;
}

static int
ctl_line(struct ps_conn *c, void *s, const char *line, size_t len,
	 unsigned flags)
{
	struct ctl *ctl = s;
	char buf[1024], *args;

	(void)c;
	(void)flags;
	snprintf(buf, sizeof(buf), "%.*s", (int)len, line);
	args = strchr(buf, ' ');
	if (args)
		*args++ = '\0';
	if (!strcmp(buf, "CONNECT") && args)
		cmd_connect(ctl, args);
	else if (!strcmp(buf, "SEND") && ctl->out)
		ps_conn_printf(ctl->out, "%s\r\n", args ? args : "");
	else if (!strcmp(buf, "STARTTLS"))
		cmd_starttls(ctl, args);
	else if (!strcmp(buf, "CLOSE") && ctl->out)
		ps_conn_close(ctl->out);
	else if (!strcmp(buf, "WATCH"))
		cmd_watch(ctl);
	else
		say(ctl, "ERR unknown");
	return 0;
}

static void
ctl_close(struct ps_conn *c, void *s)
{
	struct ctl *ctl = s;

	(void)c;
	if (ctl->out)
		ps_conn_close(ctl->out);
}

static const struct ps_protocol probe = {
	.size = sizeof(struct ps_protocol),
	.name = "probe",
	.session_size = sizeof(struct ctl),
	.on_open = ctl_open,
	.on_line = ctl_line,
	.on_close = ctl_close,
};

static int
connect_probe_init(struct ps_error *err)
{
	probe_client_quit = probe_client;
	probe_client_quit.name = "probe_client_quit";
	probe_client_quit.on_shutdown = out_shutdown;
	if (ps_protocol_register(&probe) < 0) {
		snprintf(err->msg, sizeof(err->msg), "cannot register probe");
		return PS_EFAIL;
	}
	return 0;
}

PS_MODULE_DEFINE(.name = "connect_probe", .version = "1.0",
		 .init = connect_probe_init);
