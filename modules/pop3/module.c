/* pop3.so: the POP3 server. This file holds the descriptor, the
 * directives and the protocol callbacks that hand over to session.c. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pop3d.h"

struct pop3_config pop3_cfg;

static const struct ps_directive pop3_module_directives[] = {
	{.name = "max_bad_commands", .type = PS_CONF_INT, .min = 1,
	 .max = 100000, .def = "10",
	 .help = "bad commands in a row before the session is closed"},
	{.name = "mark_seen", .type = PS_CONF_FLAG, .def = "on",
	 .help = "messages RETR sent whole get \\Seen at QUIT, as IMAP "
		 "clients then show them read"},
	{.name = "lock_dir", .type = PS_CONF_PATH,
	 .help = "folder of the per-user lock files that keep a maildrop to "
		 "one POP3 session (default: STATE_DIR/pop3-locks)"},
	{.name = NULL},
};

/* ---- Protocol callbacks ---------------------------------------------- */

static int
pop3_open(struct ps_conn *c, void *sp)
{
	struct pop3_session *s = sp;

	s->conn = c;
	s->lock_fd = -1;
	s->state = POP3_AUTHORIZATION;
	ps_conn_log(c, PS_LOG_INFO, "connect peer=%s listener=%s",
		    ps_conn_peer(c), ps_conn_listener(c));
	pop3_greet(s);
	return 0;
}

static int
pop3_on_line(struct ps_conn *c, void *s, const char *line, size_t len,
	     unsigned flags)
{
	(void)c;
	return pop3_line(s, line, len, flags);
}

static int
pop3_drain(struct ps_conn *c, void *s)
{
	(void)c;
	pop3_job_drained(s);
	return 0;
}

/* RFC 2595 4: after the handshake the client starts over; a USER given
 * before it is forgotten (the core has dropped what was pipelined). */
static int
pop3_tls(struct ps_conn *c, void *sp)
{
	struct pop3_session *s = sp;

	s->user_given = 0;
	s->utf8 = 0;
	s->user[0] = '\0';
	ps_conn_log(c, PS_LOG_INFO, "starttls tls=\"%s\"",
		    ps_conn_tls_info(c));
	return 0;
}

/* RFC 1939 3: the timer's expiry closes without entering UPDATE, so
 * nothing is deleted. */
static void
pop3_timeout(struct ps_conn *c, void *s)
{
	ps_conn_log(c, PS_LOG_INFO, "timeout peer=%s", ps_conn_peer(c));
	pop3_err(s, NULL, "Autologout; idle for too long");
}

static void
pop3_close(struct ps_conn *c, void *sp)
{
	struct pop3_session *s = sp;

	s->closed = 1;
	ps_conn_log(c, PS_LOG_INFO, "disconnect peer=%s user=%s",
		    ps_conn_peer(c), s->user[0] ? s->user : "-");
	ps_sasl_free(s->sasl);
	s->sasl = NULL;
	if (s->sasl_wait) {
		/* Freed exchanges report nothing: this wait ends here. */
		s->sasl_wait = 0;
		s->waiting--;
		ps_conn_release(c);
	}
	if (s->drain_job) {
		pop3_job_drained(s);
		return;
	}
	if (!s->waiting)
		pop3_session_free(s);
}

static void
pop3_shutdown(struct ps_conn *c, void *sp)
{
	struct pop3_session *s = sp;

	(void)c;
	s->shutdown = 1;
	pop3_boundary(s);
}

static const struct ps_protocol pop3_protocol = {
	.size = sizeof(struct ps_protocol),
	.name = "pop3",
	.session_size = sizeof(struct pop3_session),
	.max_line = POP3_LINE_MAX,
	.on_open = pop3_open,
	.on_line = pop3_on_line,
	.on_drain = pop3_drain,
	.on_tls = pop3_tls,
	.on_timeout = pop3_timeout,
	.on_close = pop3_close,
	.on_shutdown = pop3_shutdown,
	/* RFC 1939 3: an autologout timer of at least 10 minutes. */
	.idle_timeout_ms = POP3_TIMEOUT_MS,
};

static int
pop3_init(struct ps_error *err)
{
	if (ps_conf_register(PS_SCOPE_MODULE, pop3_module_directives) < 0 ||
	    ps_protocol_register(&pop3_protocol) < 0) {
		snprintf(err->msg, sizeof(err->msg), "cannot register the pop3 "
			 "protocol and its directives");
		return PS_EFAIL;
	}
	return 0;
}

/* The lock folder, made here: workers run as the unprivileged user that
 * owns state_dir. */
static int
lock_dir_init(const struct ps_conf_section *m, struct ps_error *err)
{
	const char *dir = ps_conf_str(m, "lock_dir");
	int n;

	if (dir)
		n = snprintf(pop3_cfg.lock_dir, sizeof(pop3_cfg.lock_dir),
			     "%s", dir);
	else
		n = snprintf(pop3_cfg.lock_dir, sizeof(pop3_cfg.lock_dir),
			     "%s/pop3-locks",
			     ps_conf_str(ps_conf_core(), "state_dir"));
	if (n < 0 || (size_t)n >= sizeof(pop3_cfg.lock_dir)) {
		snprintf(err->msg, sizeof(err->msg), "lock_dir too long");
		return PS_EFAIL;
	}
	if (mkdir(pop3_cfg.lock_dir, 0700) < 0 && errno != EEXIST) {
		snprintf(err->msg, sizeof(err->msg), "lock_dir %.160s: %s",
			 pop3_cfg.lock_dir, strerror(errno));
		return PS_EFAIL;
	}
	return 0;
}

static int
pop3_worker_init(struct ps_error *err)
{
	const struct ps_conf_section *m = ps_conf_module();

	pop3_cfg.max_bad = (unsigned)ps_conf_num(m, "max_bad_commands");
	pop3_cfg.mark_seen = ps_conf_num(m, "mark_seen") != 0;
	pop3_cfg.hostname = ps_hostname();
	pop3_cfg.have_auth = ps_iface_get(PS_AUTH_KIND, NULL, &pop3_cfg.auth,
					  sizeof(pop3_cfg.auth)) == 0;
	pop3_cfg.have_store = ps_iface_get(PS_STORAGE_KIND, NULL,
					   &pop3_cfg.store,
					   sizeof(pop3_cfg.store)) == 0;
	if (!pop3_cfg.have_auth || !pop3_cfg.have_store)
		ps_log(PS_LOG_WARN, "no %s backend loaded: logins fail (load "
		       "auth_sqlite and storage_sqlite)",
		       pop3_cfg.have_auth ? "storage" : "auth");
	return lock_dir_init(m, err);
}

PS_MODULE_DEFINE(.name = "pop3", .version = "1.0", .init = pop3_init,
		 .worker_init = pop3_worker_init);
