/* imap.so: the IMAP4rev1 (RFC 3501) and IMAP4rev2 (RFC 9051) server.
 * This file holds the descriptor, the directives, the protocol callbacks
 * that hand over to session.c, and the worker's registry of logged-in
 * sessions by user, through which the store's change notices (the bus
 * topic "store/USER") reach selected and idling sessions. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "imapd.h"

struct imap_config imap_cfg;

static const struct ps_directive imap_module_directives[] = {
	{.name = "append_limit", .type = PS_CONF_SIZE, .min = 1024,
	 .max = 1LL << 40, .def = "50m",
	 .help = "largest message APPEND accepts, advertised as "
		 "APPENDLIMIT (RFC 7889)"},
	{.name = "max_command_size", .type = PS_CONF_SIZE, .min = 4096,
	 .max = 1LL << 30, .def = "1m",
	 .help = "octets of one command with its literals (APPEND's "
		 "message apart)"},
	{.name = "max_user_sessions", .type = PS_CONF_INT, .min = 1,
	 .max = 100000, .def = "50",
	 .help = "logged-in sessions of one user in one worker; more get "
		 "NO [LIMIT] at login"},
	{.name = "max_bad_commands", .type = PS_CONF_INT, .min = 1,
	 .max = 100000, .def = "20",
	 .help = "BAD replies in a row before the session is closed"},
	{.name = NULL},
};

/* ---- Sessions by user ----------------------------------------------- */

#define IMAP_USER_BUCKETS 256

static struct imap_session *users[IMAP_USER_BUCKETS];

static unsigned
user_bucket(const char *user)
{
	unsigned h = 5381;

	for (const unsigned char *p = (const unsigned char *)user; *p; p++)
		h = h * 33 + (*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
	return h % IMAP_USER_BUCKETS;
}

/* At login: NO [LIMIT] (RFC 5530) when the user has too many. */
int
imap_user_register(struct imap_session *s)
{
	struct imap_session **head = &users[user_bucket(s->user)];
	unsigned n = 0;

	for (struct imap_session *o = *head; o; o = o->next_of_user)
		n += strcasecmp(o->user, s->user) == 0;
	if (n >= imap_cfg.max_user_sessions)
		return PS_EFAIL;
	s->next_of_user = *head;
	*head = s;
	return 0;
}

void
imap_user_unregister(struct imap_session *s)
{
	struct imap_session **pp;

	if (!s->user[0])
		return;
	for (pp = &users[user_bucket(s->user)]; *pp; pp = &(*pp)->next_of_user)
		if (*pp == s) {
			*pp = s->next_of_user;
			break;
		}
	s->next_of_user = NULL;
}

/* "store/alice@example.test" with the mailbox's name: every session of
 * that user with that mailbox selected learns of it. */
static void
store_notice(const char *topic, const void *data, size_t len, void *arg)
{
	const char *user = topic + strlen(PS_STORAGE_TOPIC);
	char mailbox[IMAP_NAME_MAX + 1];
	struct imap_session *s, *next;

	(void)arg;
	if (len > IMAP_NAME_MAX)
		return;
	memcpy(mailbox, data, len);
	mailbox[len] = '\0';
	for (s = users[user_bucket(user)]; s; s = next) {
		next = s->next_of_user;
		if (strcasecmp(s->user, user) == 0)
			imap_view_changed(s, mailbox);
	}
}

/* ---- Protocol callbacks ---------------------------------------------- */

static int
imap_open(struct ps_conn *c, void *sp)
{
	struct imap_session *s = sp;

	s->conn = c;
	s->state = IMAP_NOTAUTH;
	/* RFC 3516: BINARY is offered, so APPEND may send "~{n}". */
	s->parser = imap_parser_new(&imap_cfg.limits, IMAP_PARSE_BINARY);
	if (!s->parser)
		return PS_ENOMEM;
	ps_conn_log(c, PS_LOG_INFO, "connect peer=%s listener=%s",
		    ps_conn_peer(c), ps_conn_listener(c));
	return imap_greet(s);
}

static int
imap_line(struct ps_conn *c, void *s, const char *line, size_t len,
	  unsigned flags)
{
	(void)c;
	return imap_input_line(s, line, len, flags);
}

static int
imap_bytes(struct ps_conn *c, void *s, const char *data, size_t len,
	   size_t left)
{
	(void)c;
	return imap_input_bytes(s, data, len, left);
}

static int
imap_drain(struct ps_conn *c, void *s)
{
	(void)c;
	imap_job_drained(s);
	return 0;
}

/* RFC 9051 6.2.1: after the handshake the client asks for CAPABILITY
 * again; the parser forgets whatever was half read (the core has
 * dropped what was pipelined after STARTTLS). */
static int
imap_tls(struct ps_conn *c, void *sp)
{
	struct imap_session *s = sp;

	imap_parser_reset(s->parser);
	s->in_command = 0;
	ps_conn_log(c, PS_LOG_INFO, "starttls tls=\"%s\"",
		    ps_conn_tls_info(c));
	return 0;
}

static void
imap_timeout(struct ps_conn *c, void *s)
{
	ps_conn_log(c, PS_LOG_INFO, "timeout peer=%s", ps_conn_peer(c));
	imap_printf(s, "* BYE Autologout; idle for too long\r\n");
}

/* What a job still uses stays until it ends: imap_unwait frees it then.
 * A SASL exchange is ours to end: once freed the core reports nothing,
 * so its wait ends here. */
static void
imap_close(struct ps_conn *c, void *sp)
{
	struct imap_session *s = sp;

	s->closed = 1;
	ps_conn_log(c, PS_LOG_INFO, "disconnect peer=%s user=%s",
		    ps_conn_peer(c), s->user[0] ? s->user : "-");
	imap_user_unregister(s);
	ps_sasl_free(s->sasl);
	s->sasl = NULL;
	if (s->sasl_wait) {
		s->sasl_wait = 0;
		s->waiting--;
		ps_conn_release(c);
	}
	if (s->drain_job) {
		/* Its step is over: end it as if the client had read. */
		imap_job_drained(s);
		return;
	}
	if (!s->waiting)
		imap_session_free(s);
}

/* RFC 9051 7.1.5: BYE at the next command boundary (the command in
 * progress, or an IDLE, finishes first). */
static void
imap_shutdown(struct ps_conn *c, void *sp)
{
	struct imap_session *s = sp;

	(void)c;
	s->shutdown = 1;
	if (s->idling)
		imap_idle_wake(s);
	imap_boundary(s);
}

static const struct ps_protocol imap_protocol = {
	.size = sizeof(struct ps_protocol),
	.name = "imap",
	.session_size = sizeof(struct imap_session),
	.max_line = IMAP_LINE_MAX,
	.on_open = imap_open,
	.on_line = imap_line,
	.on_bytes = imap_bytes,
	.on_drain = imap_drain,
	.on_tls = imap_tls,
	.on_timeout = imap_timeout,
	.on_close = imap_close,
	.on_shutdown = imap_shutdown,
	/* RFC 9051 5.4: the autologout timer is at least 30 minutes. */
	.idle_timeout_ms = IMAP_TIMEOUT_MS,
};

static int
imap_init(struct ps_error *err)
{
	if (ps_conf_register(PS_SCOPE_MODULE, imap_module_directives) < 0 ||
	    ps_protocol_register(&imap_protocol) < 0 ||
	    ps_iface_publish(PS_IMAP_EXT_KIND, PS_IMAP_EXT_NAME,
			     &imap_ext) < 0) {
		snprintf(err->msg, sizeof(err->msg), "cannot register the imap "
			 "protocol, its directives and its interface");
		return PS_EFAIL;
	}
	return 0;
}

static int
imap_worker_init(struct ps_error *err)
{
	const struct ps_conf_section *m = ps_conf_module();

	imap_limits_default(&imap_cfg.limits);
	imap_cfg.limits.max_command = (size_t)ps_conf_num(m,
							  "max_command_size");
	/* LITERAL+ (capability.c, RFC 7888): "{n+}" of any size. One the
	 * command cannot buffer is read and dropped, up to max_discard. */
	imap_cfg.limits.max_nonsync = UINT64_MAX;
	imap_cfg.append_limit = (uint64_t)ps_conf_num(m, "append_limit");
	imap_cfg.max_user_sessions = (unsigned)ps_conf_num(
		m, "max_user_sessions");
	imap_cfg.max_bad = (unsigned)ps_conf_num(m, "max_bad_commands");
	imap_cfg.hostname = ps_hostname();
	imap_cfg.have_auth = ps_iface_get(PS_AUTH_KIND, NULL, &imap_cfg.auth,
					  sizeof(imap_cfg.auth)) == 0;
	imap_cfg.have_store = ps_iface_get(PS_STORAGE_KIND, NULL,
					   &imap_cfg.store,
					   sizeof(imap_cfg.store)) == 0;
	imap_cfg.delim = imap_cfg.have_store ? imap_cfg.store.delimiter : '/';
	if (!imap_cfg.have_auth || !imap_cfg.have_store)
		ps_log(PS_LOG_WARN, "no %s backend loaded: logins fail (load "
		       "auth_sqlite and storage_sqlite)",
		       imap_cfg.have_auth ? "storage" : "auth");
	if (ps_bus_subscribe(PS_STORAGE_TOPIC, store_notice, NULL) < 0) {
		snprintf(err->msg, sizeof(err->msg), "cannot subscribe to %s",
			 PS_STORAGE_TOPIC);
		return PS_EFAIL;
	}
	return 0;
}

PS_MODULE_DEFINE(.name = "imap", .version = "1.0", .init = imap_init,
		 .worker_init = imap_worker_init);
