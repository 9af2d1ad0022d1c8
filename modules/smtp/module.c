/* smtp.so: the ESMTP server (RFC 5321) for receiving (role mx) and
 * submission (role submission, RFC 6409; implicit TLS per RFC 8314 is a
 * listener's "tls implicit"). This file holds the descriptor, the
 * directives, and the protocol callbacks that hand over to session.c. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "relay.h"
#include "resolve.h"
#include "smtpd.h"

struct smtp_config smtp_cfg;

static const char *const roles[] = {"mx", "submission", NULL};

static const struct ps_directive smtp_module_directives[] = {
	{.name = "max_message_size", .type = PS_CONF_SIZE, .min = 1024,
	 .max = 1LL << 40, .def = "25m",
	 .help = "largest message accepted, advertised in EHLO SIZE "
		 "(RFC 1870)"},
	{.name = "max_recipients", .type = PS_CONF_INT, .min = 1,
	 .max = 100000, .def = "100",
	 .help = "recipients of one message; more get 452 4.5.3 (RFC 5321 "
		 "4.5.3.1.8)"},
	{.name = "max_errors", .type = PS_CONF_INT, .min = 1, .max = 100000,
	 .def = "10",
	 .help = "error replies a client may cause before 421 and close"},
	{.name = "max_hops", .type = PS_CONF_INT, .min = 10, .max = 1000,
	 .def = "100",
	 .help = "Received fields a message may carry; more is a mail loop: "
		 "554 5.4.6 (RFC 5321 6.3)"},
	{.name = "recipient_cache_ttl", .type = PS_CONF_DURATION, .min = 0,
	 .max = 3600000, .def = "5s",
	 .help = "how long a worker reuses the auth backend's answer for a "
		 "recipient that resolved to users without a quota (0: ask "
		 "every time); unknown recipients are always asked"},
	{.name = "vrfy", .type = PS_CONF_FLAG, .def = "off",
	 .help = "answer VRFY from the user database (off: 252, RFC 5321 "
		 "3.5.3)"},
	{.name = "sender_login_match", .type = PS_CONF_FLAG, .def = "on",
	 .help = "submission: MAIL FROM must be the logged-in user or one "
		 "of its aliases"},
	{.name = "dkim_sign", .type = PS_CONF_WORDS, .flags = PS_CONF_MULTI,
	 .min = 3, .max = 3,
	 .help = "DOMAIN SELECTOR KEYFILE: sign queued mail whose From is "
		 "in DOMAIN (RFC 6376, relaxed/relaxed); the key is checked "
		 "when a worker starts"},
	{.name = NULL},
};

static const struct ps_directive smtp_listen_directives[] = {
	{.name = "role", .type = PS_CONF_ENUM, .choices = roles, .def = "mx",
	 .help = "mx: mail for local users from anyone; submission: mail "
		 "from logged-in users (AUTH before MAIL)"},
	{.name = NULL},
};

static int
smtp_open(struct ps_conn *c, void *sp)
{
	struct smtp_session *s = sp;
	const struct ps_conf_section *l = ps_conn_conf(c);

	s->conn = c;
	s->role = (int)ps_conf_num(l, "role");
	smtp_spool_init(&s->spool, smtp_cfg.state_dir);
	ps_conn_log(c, PS_LOG_INFO, "connect peer=%s listener=%s role=%s",
		    ps_conn_peer(c), ps_conn_listener(c), roles[s->role]);
	return smtp_greet(s);
}

static int
smtp_line(struct ps_conn *c, void *sp, const char *line, size_t len,
	  unsigned flags)
{
	struct smtp_session *s = sp;

	if (s->state == SMTP_DATA)
		return smtp_data_line(s, line, len, flags);
	if (s->sasl_reply)
		return smtp_auth_answer(s, line, len, flags);
	return smtp_command(s, line, len, flags);
}

static int
smtp_bytes(struct ps_conn *c, void *sp, const char *data, size_t len,
	   size_t left)
{
	return smtp_bdat_bytes(sp, data, len, left);
}

/* RFC 3207 4.2: the client must discard what it knew, and so do we. No
 * asynchronous step runs (STARTTLS is answered between commands), and
 * the core has dropped what was pipelined after STARTTLS. */
static int
smtp_tls(struct ps_conn *c, void *sp)
{
	struct smtp_session *s = sp;

	smtp_txn_reset(s);
	s->state = SMTP_INIT;
	s->esmtp = 0;
	s->helo[0] = '\0';
	s->user[0] = '\0';
	ps_conn_log(c, PS_LOG_INFO, "starttls tls=\"%s\"",
		    ps_conn_tls_info(c));
	return 0;
}

static void
smtp_timeout(struct ps_conn *c, void *sp)
{
	ps_conn_log(c, PS_LOG_INFO, "timeout peer=%s", ps_conn_peer(c));
	smtp_reply(sp, "421 4.4.2 %s Error: timeout exceeded",
		   smtp_cfg.hostname);
}

/* What an asynchronous step still uses stays until it ends: smtp_unwait
 * frees it then. An AUTH exchange is ours to end: once freed, the core
 * reports nothing, so its wait ends here. */
static void
smtp_close(struct ps_conn *c, void *sp)
{
	struct smtp_session *s = sp;

	s->closed = 1;
	ps_sasl_free(s->sasl);
	s->sasl = NULL;
	if (s->sasl_wait) {
		s->sasl_wait = 0;
		s->waiting--;
		/* The closing connection keeps a reference of its own. */
		ps_conn_release(c);
	}
	if (!s->waiting)
		smtp_session_free(s);
	ps_conn_log(c, PS_LOG_INFO, "disconnect peer=%s messages=%u",
		    ps_conn_peer(c), s->nqueued);
}

/* 421 4.3.2 at the next command boundary: a message being read or a
 * step in flight finishes first (smtp_boundary). */
static void
smtp_shutdown(struct ps_conn *c, void *sp)
{
	struct smtp_session *s = sp;

	s->shutdown = 1;
	if (!s->waiting && !s->reading)
		smtp_goodbye(s);
}

static const struct ps_protocol smtp_protocol = {
	.size = sizeof(struct ps_protocol),
	.name = "smtp",
	.session_size = sizeof(struct smtp_session),
	.max_line = SMTP_CMD_LINE,
	.on_open = smtp_open,
	.on_line = smtp_line,
	.on_bytes = smtp_bytes,
	.on_tls = smtp_tls,
	.on_timeout = smtp_timeout,
	.on_close = smtp_close,
	.on_shutdown = smtp_shutdown,
	/* RFC 5321 4.5.3.2.7: a server waits at least 5 minutes for the
	 * next command. */
	.idle_timeout_ms = SMTP_TIMEOUT_MS,
};

static int
smtp_init(struct ps_error *err)
{
	if (ps_conf_register(PS_SCOPE_MODULE, smtp_module_directives) < 0 ||
	    ps_conf_register(PS_SCOPE_LISTEN, smtp_listen_directives) < 0 ||
	    relay_config_register() < 0 ||
	    ps_protocol_register(&smtp_protocol) < 0 ||
	    ps_iface_publish(PS_SMTP_EXT_KIND, PS_SMTP_EXT_NAME,
			     &smtp_ext) < 0 ||
	    smtp_resolve_init() < 0) {
		snprintf(err->msg, sizeof(err->msg), "cannot register the smtp "
			 "protocol, its directives and its interfaces");
		return PS_EFAIL;
	}
	return 0;
}

/* The queue is optional: without it a submission's remote recipients
 * get 451 at RCPT (envelope.c). */
static void
find_queue(void)
{
	struct ps_queue_ops *q = &smtp_cfg.queue;

	smtp_cfg.have_queue = ps_iface_get(PS_QUEUE_KIND, NULL, q,
					   sizeof(*q)) == 0 &&
			      q->enq_begin && q->enq_data && q->enq_commit &&
			      q->enq_abort;
	if (!smtp_cfg.have_queue)
		ps_log(PS_LOG_INFO, "no queue backend loaded: submission to "
		       "remote recipients gets 451 4.7.1 (load queue_sqlite)");
}

static int
smtp_worker_init(struct ps_error *err)
{
	const struct ps_conf_section *m = ps_conf_module();

	smtp_cfg.max_size = (uint64_t)ps_conf_num(m, "max_message_size");
	smtp_cfg.max_rcpts = (size_t)ps_conf_num(m, "max_recipients");
	smtp_cfg.max_hops = (unsigned)ps_conf_num(m, "max_hops");
	smtp_cfg.rcpt_cache_ms = (uint64_t)ps_conf_num(m,
						       "recipient_cache_ttl");
	smtp_cfg.max_errors = (unsigned)ps_conf_num(m, "max_errors");
	smtp_cfg.vrfy = (int)ps_conf_num(m, "vrfy");
	smtp_cfg.sender_login_match = (int)ps_conf_num(m,
						       "sender_login_match");
	smtp_cfg.hostname = ps_hostname();
	smtp_cfg.state_dir = ps_conf_str(ps_conf_core(), "state_dir");
	smtp_cfg.have_auth = ps_iface_get(PS_AUTH_KIND, NULL, &smtp_cfg.auth,
					  sizeof(smtp_cfg.auth)) == 0 &&
			     smtp_cfg.auth.resolve && smtp_cfg.auth.lookup;
	smtp_cfg.have_store = ps_iface_get(PS_STORAGE_KIND, NULL,
					   &smtp_cfg.store,
					   sizeof(smtp_cfg.store)) == 0;
	if (!smtp_cfg.have_auth || !smtp_cfg.have_store)
		ps_log(PS_LOG_WARN, "no %s backend loaded: recipients get "
		       "451 4.3.5 (load auth_sqlite and storage_sqlite)",
		       smtp_cfg.have_auth ? "storage" : "auth");
	find_queue();
	if (smtp_dkim_load(err) < 0 || smtp_resolve_worker_init(err) < 0)
		return PS_EFAIL;
	return relay_worker_init(err);
}

static void
smtp_worker_exit(void)
{
	/* The resolver's last answers (TEMP, "shutdown") come first, so
	 * the runner records the batches that waited for them. */
	smtp_resolve_worker_exit();
	relay_worker_exit();
	smtp_dkim_free();
	smtp_rcpt_cache_free();
}

PS_MODULE_DEFINE(.name = "smtp", .version = "1.0", .init = smtp_init,
		 .worker_init = smtp_worker_init,
		 .worker_exit = smtp_worker_exit);
