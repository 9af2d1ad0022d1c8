/* echo.so: a line echo service in the spirit of RFC 862, and the model of
 * a Poshta protocol module. It greets, answers QUIT, STARTTLS, TLS?, CAPA,
 * WHO? and AUTH (SASL, framed as POP3 frames it: RFC 5034 section 4), and
 * sends every other line back once the "echo.line" hook chain (echo.h) has
 * let it through, after the listener's "prefix". */
#include <poshta/poshta.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "echo.h"

/* One per connection: the core allocates session_size zeroed bytes next to
 * the connection and frees them with it, so there is no table to keep. */
struct echo_session {
	struct ps_conn *conn;
	struct echo_line_event ev; /* what the running hook chain looks at */
	char *line;                /* our copy behind ev.line */
	int waiting;               /* a hook chain or SASL has not answered */
	int paused;                /* we stopped input while it thinks */
	int shutdown;              /* the server is going down */
	unsigned long echoed;      /* for the log line at close */
	struct ps_sasl *sasl;      /* an AUTH exchange in progress */
	int sasl_reply;            /* a challenge is out: the next line is
				    * the client's answer */
	char user[PS_AUTH_NAME_MAX + 1]; /* who authenticated; "" if nobody */
};

/* From the "echo" block; set in each worker once the config is final. */
static const char *greeting;

/* Directives are data: the core checks the whole file against them, with
 * file:line errors, before any module code sees a value. */
static const struct ps_directive echo_module_directives[] = {
	{ .name = "greeting", .type = PS_CONF_STRING,
	  .def = "Poshta echo ready",
	  .help = "text after +OK when a client connects" },
	{ .name = NULL },
};

static const struct ps_directive echo_listen_directives[] = {
	{ .name = "prefix", .type = PS_CONF_STRING,
	  .help = "text put before every echoed line (default: none)" },
	{ .name = NULL },
};

static int
is_command(const char *line, size_t len, const char *word)
{
	return len == strlen(word) && strncasecmp(line, word, len) == 0;
}

static int
echo_open(struct ps_conn *c, void *sp)
{
	struct echo_session *s = sp;
	const char *tls = ps_conn_tls_info(c);

	s->conn = c;
	ps_conn_log(c, PS_LOG_INFO, "connect peer=%s listener=%s tls=\"%s\"",
		    ps_conn_peer(c), ps_conn_listener(c), tls ? tls : "none");
	return ps_conn_printf(c, "+OK %s\r\n", greeting) < 0 ? PS_EIO : 0;
}

static void
echo_goodbye(struct ps_conn *c)
{
	ps_conn_printf(c, "-ERR [SHUTDOWN] server shutting down\r\n");
	ps_conn_close(c);
}

/* The chain's verdict on s->line, maybe long after echo_line returned. */
static void
echo_verdict(int verdict, const char *reply, void *arg)
{
	struct echo_session *s = arg;
	struct ps_conn *c = s->conn;
	const char *prefix = ps_conf_str(ps_conn_conf(c), "prefix");

	/* A client that left while a filter thought gets no answer. */
	if (ps_conn_closing(c))
		goto done;
	switch (verdict) {
	case PS_HOOK_CONTINUE:
	case PS_HOOK_ACCEPT:
		if (prefix)
			ps_conn_write(c, prefix, strlen(prefix));
		ps_conn_write(c, s->line, s->ev.len);
		ps_conn_write(c, "\r\n", 2);
		s->echoed++;
		break;
	case PS_HOOK_DEFER:
		ps_conn_log(c, PS_LOG_INFO, "line deferred reply=\"%s\"",
			    reply ? reply : "");
		ps_conn_printf(c, "-ERR [TEMP] %s\r\n",
			       reply ? reply : "try later");
		break;
	default:
		ps_conn_log(c, PS_LOG_INFO, "line rejected reply=\"%s\"",
			    reply ? reply : "");
		ps_conn_printf(c, "-ERR %s\r\n", reply ? reply : "rejected");
		break;
	}
	if (s->shutdown)
		echo_goodbye(c);
	else if (s->paused)
		ps_conn_resume(c);
done:
	free(s->line);
	s->line = NULL;
	s->waiting = s->paused = 0;
	/* Last: this may free c and s if the connection closed meanwhile. */
	ps_conn_release(c);
}

/* Hand a line to the filters; echo_verdict answers it. */
static int
echo_filter_line(struct ps_conn *c, struct echo_session *s, const char *line,
		 size_t len)
{
	/* The core's line buffer changes once we return, and a filter may
	 * answer later, so the chain gets a copy of its own. */
	s->line = malloc(len + 1);
	if (!s->line)
		return PS_ENOMEM;
	memcpy(s->line, line, len);
	s->line[len] = '\0';
	s->ev = (struct echo_line_event){
		.size = sizeof(s->ev), .line = s->line, .len = len };
	s->waiting = 1;
	/* The connection must outlive a PENDING filter, even if the client
	 * goes away: the verdict releases it. */
	ps_conn_hold(c);
	ps_hook_run(ECHO_HOOK_LINE, c, &s->ev, echo_verdict, s);
	/* No verdict yet: take no more lines, so that replies come back in
	 * the order of the lines a pipelining client sent. */
	if (s->waiting) {
		s->paused = 1;
		ps_conn_pause(c);
	}
	return 0;
}

/* ---- AUTH: the core runs SASL, echo only frames it -------------------- */

static const char *
echo_auth_error(int status)
{
	switch (status) {
	case PS_SASL_EDENIED:
		return "[AUTH] authentication failed";
	case PS_SASL_ELIMIT:
		return "[LIMIT] too many failures, try later";
	case PS_SASL_EENCRYPT:
		return "[ENCRYPT] use STARTTLS first";
	case PS_SASL_EMECH:
		return "[AUTH] unknown mechanism";
	case PS_SASL_ECANCEL:
		return "[AUTH] cancelled";
	case PS_SASL_EMALFORMED:
		return "[AUTH] malformed response";
	default:
		return "[TEMP] try later";
	}
}

/* Stop taking lines until the core answers: replies keep their order. */
static void
echo_wait(struct ps_conn *c, struct echo_session *s)
{
	s->waiting = s->paused = 1;
	ps_conn_pause(c);
}

/* The answer is out: take lines again, or leave if the server is going
 * down. */
static void
echo_unwait(struct ps_conn *c, struct echo_session *s)
{
	if (s->shutdown)
		echo_goodbye(c);
	else if (s->paused)
		ps_conn_resume(c);
	s->waiting = s->paused = 0;
}

/* The core's word on the exchange. It never comes from inside
 * ps_sasl_start or ps_sasl_respond, so freeing the exchange here is
 * safe. */
static void
echo_sasl(struct ps_sasl *sasl, int status, const char *challenge, void *arg)
{
	struct echo_session *s = arg;
	struct ps_conn *c = s->conn;

	if (ps_conn_closing(c)) {
		/* The client left; on_close frees the exchange. */
		return;
	}
	if (status == PS_SASL_CONTINUE) {
		ps_conn_printf(c, "+ %s\r\n", challenge);
		s->sasl_reply = 1;
		echo_unwait(c, s);
		return;
	}
	if (status == PS_SASL_OK) {
		snprintf(s->user, sizeof(s->user), "%s", ps_sasl_user(sasl));
		ps_conn_printf(c, "+OK authenticated as %s\r\n", s->user);
	} else
		ps_conn_printf(c, "-ERR %s\r\n", echo_auth_error(status));
	ps_sasl_free(sasl);
	s->sasl = NULL;
	echo_unwait(c, s);
}

/* "AUTH mechanism [initial-response]" */
static int
echo_auth(struct ps_conn *c, struct echo_session *s, const char *line,
	  size_t len)
{
	char *args = strndup(line + 5, len - 5), *initial;

	if (!args)
		return PS_ENOMEM;
	initial = strchr(args, ' ');
	if (initial)
		*initial++ = '\0';
	if (s->user[0])
		ps_conn_printf(c, "-ERR already authenticated\r\n");
	else if (!(s->sasl = ps_sasl_start(c, args, initial, echo_sasl, s)))
		ps_conn_printf(c, "-ERR [TEMP] out of memory\r\n");
	else
		echo_wait(c, s);
	free(args);
	return 0;
}

/* The client's answer to a challenge (or "*" to give up). */
static int
echo_auth_answer(struct ps_conn *c, struct echo_session *s, const char *line,
		 size_t len, unsigned flags)
{
	s->sasl_reply = 0;
	if (flags & PS_LINE_TOOLONG) {
		ps_sasl_free(s->sasl);
		s->sasl = NULL;
		return ps_conn_printf(c, "-ERR line too long\r\n");
	}
	echo_wait(c, s);
	ps_sasl_respond(s->sasl, line, len);
	return 0;
}

static int
echo_capa(struct ps_conn *c)
{
	const char *mechs = ps_sasl_mechanisms(c);

	return ps_conn_printf(c, "+OK SASL%s%s\r\n", mechs[0] ? " " : "",
			      mechs);
}

static int
echo_line(struct ps_conn *c, void *sp, const char *line, size_t len,
	  unsigned flags)
{
	struct echo_session *s = sp;
	unsigned tls = ps_conn_tls(c);
	int r;

	if (s->sasl_reply)
		r = echo_auth_answer(c, s, line, len, flags);
	else if (flags & PS_LINE_TOOLONG)
		r = ps_conn_printf(c, "-ERR line too long\r\n");
	else if (is_command(line, len, "QUIT")) {
		r = ps_conn_printf(c, "+OK bye\r\n");
		ps_conn_close(c);
	} else if (is_command(line, len, "STARTTLS")) {
		if (!(tls & PS_TLS_OFFERED) || (tls & PS_TLS_ACTIVE))
			r = ps_conn_printf(c, "-ERR TLS not available\r\n");
		else if (ps_conn_printf(c, "+OK begin TLS\r\n") < 0)
			r = PS_EIO;
		else
			/* Flushes our reply, drops what the client sent
			 * after STARTTLS, shakes hands, then on_tls. */
			r = ps_conn_starttls(c);
	} else if (is_command(line, len, "TLS?"))
		r = ps_conn_printf(c, "+OK %s\r\n",
				   tls & PS_TLS_ACTIVE ? "tls" : "plain");
	else if (is_command(line, len, "CAPA"))
		r = echo_capa(c);
	else if (is_command(line, len, "WHO?"))
		r = ps_conn_printf(c, "+OK %s\r\n",
				   s->user[0] ? s->user : "anonymous");
	else if ((tls & PS_TLS_REQUIRED) && !(tls & PS_TLS_ACTIVE))
		r = ps_conn_printf(c, "-ERR TLS required\r\n");
	else if (len > 5 && strncasecmp(line, "AUTH ", 5) == 0)
		r = echo_auth(c, s, line, len);
	else
		r = echo_filter_line(c, sp, line, len);
	return r < 0 ? r : 0;
}

/* A protocol forgets here what it learned in plain text (an SMTP server
 * drops EHLO and AUTH state): echo forgets who authenticated. No hook
 * chain or AUTH exchange runs (input stays paused while one does, and a
 * line during AUTH answers its challenge), and the core has already
 * dropped the plaintext the client sent after STARTTLS. */
static int
echo_tls(struct ps_conn *c, void *sp)
{
	struct echo_session *s = sp;

	s->user[0] = '\0';
	ps_conn_log(c, PS_LOG_INFO, "starttls tls=\"%s\"", ps_conn_tls_info(c));
	return 0;
}

static void
echo_timeout(struct ps_conn *c, void *sp)
{
	(void)sp;
	ps_conn_log(c, PS_LOG_INFO, "idle timeout peer=%s", ps_conn_peer(c));
	ps_conn_printf(c, "-ERR idle timeout\r\n");
}

/* SIGTERM: a line under judgement gets its answer first (echo_verdict),
 * then the client hears why we close. */
static void
echo_shutdown(struct ps_conn *c, void *sp)
{
	struct echo_session *s = sp;

	s->shutdown = 1;
	if (!s->waiting)
		echo_goodbye(c);
}

/* An AUTH exchange is ours to free (the core lets a check it started
 * finish on its own). A line still under judgement belongs to its hook
 * chain, and echo_verdict frees it when the chain ends. */
static void
echo_close(struct ps_conn *c, void *sp)
{
	struct echo_session *s = sp;

	ps_sasl_free(s->sasl);
	s->sasl = NULL;

	ps_conn_log(c, PS_LOG_INFO, "disconnect peer=%s echoed=%lu",
		    ps_conn_peer(c), s->echoed);
}

static const struct ps_protocol echo_protocol = {
	.size = sizeof(struct ps_protocol),
	.name = "echo",
	.session_size = sizeof(struct echo_session),
	.max_line = 1000, /* SMTP's bound; "max_line" in listen overrides */
	.on_open = echo_open,
	.on_line = echo_line,
	.on_tls = echo_tls,
	.on_timeout = echo_timeout,
	.on_close = echo_close,
	.on_shutdown = echo_shutdown,
};

/* In the master: say what we provide. Values come later, in workers. */
static int
echo_init(struct ps_error *err)
{
	if (ps_conf_register(PS_SCOPE_MODULE, echo_module_directives) < 0 ||
	    ps_conf_register(PS_SCOPE_LISTEN, echo_listen_directives) < 0 ||
	    ps_protocol_register(&echo_protocol) < 0) {
		snprintf(err->msg, sizeof(err->msg),
			 "cannot register the echo protocol and directives");
		return PS_EFAIL;
	}
	return 0;
}

static int
echo_worker_init(struct ps_error *err)
{
	(void)err;
	greeting = ps_conf_str(ps_conf_module(), "greeting");
	ps_log(PS_LOG_DEBUG, "ready greeting=\"%s\"", greeting);
	return 0;
}

PS_MODULE_DEFINE(.name = "echo", .version = "1.0", .init = echo_init,
		 .worker_init = echo_worker_init);
