/* The IMAP session: commands in, replies out (RFC 9051 2.2, 7.1).
 * Lines and literals go through the parser; a complete command is looked
 * up in the table and run. Commands that touch the store run as jobs on
 * the thread pool with input paused, so pipelined commands (RFC 9051
 * 5.5) run one after the other, in order, each with its own tagged
 * reply. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "imapd.h"
#include "quote.h"

/* ---- Output ------------------------------------------------------------- */

int
imap_write(struct imap_session *s, const void *data, size_t len)
{
	if (s->closed || ps_conn_closing(s->conn))
		return 0;
	return ps_conn_write(s->conn, data, len) < 0 ? PS_ENOMEM : 0;
}

int
imap_printf(struct imap_session *s, const char *fmt, ...)
{
	char small[1024], *p = small;
	va_list ap;
	int n, r;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return PS_EINVAL;
	if ((size_t)n >= sizeof(small)) {
		if (!(p = malloc((size_t)n + 1)))
			return PS_ENOMEM;
		va_start(ap, fmt);
		vsnprintf(p, (size_t)n + 1, fmt, ap);
		va_end(ap);
	}
	r = imap_write(s, p, (size_t)n);
	if (p != small)
		free(p);
	return r;
}

/* RFC 9051 7.1: the tagged status response ends the command. Too many
 * BADs in a row end the session: a client that speaks no IMAP is not
 * worth the memory. */
int
imap_tagged(struct imap_session *s, const char *status, const char *code,
	    const char *fmt, ...)
{
	char text[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	s->in_command = 0;
	if (code)
		imap_printf(s, "%s %s [%s] %s\r\n", s->tag ? s->tag : "*",
			    status, code, text);
	else
		imap_printf(s, "%s %s %s\r\n", s->tag ? s->tag : "*", status,
			    text);
	if (strcmp(status, "BAD") != 0) {
		s->bad = 0;
	} else if (++s->bad >= imap_cfg.max_bad) {
		ps_conn_log(s->conn, PS_LOG_NOTICE, "too many errors rip=%s",
			    ps_conn_peer(s->conn));
		imap_goodbye(s, "Too many invalid commands");
	}
	return 0;
}

int
imap_ok(struct imap_session *s, const char *text)
{
	return imap_tagged(s, "OK", NULL, "%s", text);
}

int
imap_bad(struct imap_session *s, const char *text)
{
	return imap_tagged(s, "BAD", NULL, "%s", text);
}

int
imap_no(struct imap_session *s, const char *code, const char *text)
{
	return imap_tagged(s, "NO", code, "%s", text);
}

/* Storage errors become NO with the response code RFC 5530 names. */
int
imap_store_error(struct imap_session *s, int r, const struct ps_error *err)
{
	switch (r) {
	case PS_STORE_EQUOTA:
		return imap_no(s, "OVERQUOTA", "Quota exceeded");
	case PS_STORE_ENOMBOX:
		return imap_no(s, "NONEXISTENT", "No such mailbox");
	case PS_STORE_EEXIST:
		return imap_no(s, "ALREADYEXISTS", "Mailbox already exists");
	case PS_STORE_EBADNAME:
		return imap_no(s, "CANNOT", "Invalid mailbox name");
	case PS_STORE_ENOSELECT:
		return imap_no(s, "CANNOT", "Mailbox cannot hold messages");
	case PS_STORE_EHASCHILD:
		return imap_no(s, "HASCHILDREN", "Mailbox has children");
	default:
		ps_conn_log(s->conn, PS_LOG_ERR, "store error user=%s: %s",
			    s->user, err ? err->msg : "");
		return imap_no(s, "SERVERBUG", "Internal error, try again "
			       "later");
	}
}

unsigned
imap_quote_flags(const struct imap_session *s)
{
	return s->enabled & IMAP_EN_ANY_UTF8 ? IMAP_QUOTE_UTF8 : 0;
}

/* ---- Asynchronous steps ----------------------------------------------- */

/* Before an asynchronous step: keep the connection and take no more
 * input until the matching imap_unwait. */
void
imap_wait(struct imap_session *s)
{
	if (s->waiting++ == 0)
		ps_conn_pause(s->conn);
	ps_conn_hold(s->conn);
}

void
imap_unwait(struct imap_session *s)
{
	struct ps_conn *c = s->conn;

	if (--s->waiting == 0) {
		if (s->closed) {
			imap_session_free(s);
		} else {
			if (s->view)
				imap_view_rename(s->view);
			ps_conn_resume(c);
			imap_boundary(s);
		}
	}
	/* Last: this may free c. */
	ps_conn_release(c);
}

struct imap_job *
imap_job_new(struct imap_session *s, void (*work)(struct imap_job *j),
	     void (*done)(struct imap_job *j), void *arg)
{
	struct imap_job *j = calloc(1, sizeof(*j));

	if (!j)
		return NULL;
	j->s = s;
	j->work = work;
	j->done = done;
	j->arg = arg;
	imap_buf_init(&j->out, (size_t)-1);
	return j;
}

void
imap_job_free(struct imap_job *j)
{
	if (!j)
		return;
	imap_buf_free(&j->out);
	free(j);
}

/* One step of a job on the pool. The selected mailbox's handle is held
 * for the step (storage.h mailbox_hold): a FETCH or SEARCH makes a
 * storage call per message, and each would otherwise take a connection
 * and a snapshot of its own. Released before the step ends, so a
 * session waiting for its client holds nothing. */
static void
job_work(void *arg)
{
	struct imap_job *j = arg;
	struct ps_mbox *mb = j->s->view && imap_cfg.store.mailbox_hold &&
				     imap_cfg.store.mailbox_release
			     ? j->s->view->mb : NULL;

	j->more = 0;
	if (mb)
		imap_cfg.store.mailbox_hold(mb);
	j->work(j);
	if (mb)
		imap_cfg.store.mailbox_release(mb);
}

static void job_done(void *arg);

static int
job_submit(struct imap_job *j)
{
	return ps_job_submit(job_work, job_done, j);
}

/* The output queue's low-water mark (core: output_buffer / 4): past it,
 * the core calls on_drain when the client has read enough. */
static size_t
low_water(void)
{
	long long high = ps_conf_num(ps_conf_core(), "output_buffer");

	return (size_t)(high > 0 ? high : 262144) / 4;
}

/* Writes what the step made; a job with more to do goes again at once,
 * or once the client has read enough; the last step calls done. */
static void
job_done(void *arg)
{
	struct imap_job *j = arg;
	struct imap_session *s = j->s;
	int gone;

	if (j->out.error) {
		j->result = PS_ENOMEM;
		j->more = 0;
		snprintf(j->err.msg, sizeof(j->err.msg), "output too large");
	}
	imap_write(s, j->out.data, j->out.len);
	imap_buf_reset(&j->out);
	/* FETCHes a sync held back go out before the command ends, in
	 * steps the client reads one by one (backpressure). */
	if (!j->more && !s->closed && s->view && s->view->pend_uid &&
	    !s->view->gone) {
		j->work = imap_view_continue;
		j->more = 1;
	}
	if (j->more && !s->closed) {
		if (ps_conn_pending(s->conn) > low_water()) {
			s->drain_job = j;
			return;
		}
		if (job_submit(j) == 0)
			return;
		j->result = PS_ENOMEM;
	}
	s->job = NULL;
	gone = s->view && s->view->gone;
	if (gone && j->result < 0)
		imap_view_gone(s);
	j->done(j);
	if (gone)
		imap_view_gone(s);
	imap_job_free(j);
	imap_unwait(s);
}

int
imap_job_start(struct imap_session *s, struct imap_job *j)
{
	imap_wait(s);
	s->job = j;
	if (job_submit(j) < 0) {
		s->job = NULL;
		imap_unwait(s);
		return PS_ENOMEM;
	}
	return 0;
}

/* The tagged status of a command whose job answers nothing else: the
 * store's error, or "OK NAME completed". */
void
imap_job_status(struct imap_job *j)
{
	struct imap_session *s = j->s;

	if (s->closed)
		return;
	if (j->result < 0)
		imap_store_error(s, j->result, &j->err);
	else
		imap_tagged(s, "OK", NULL, "%s completed", s->cmd);
}

void
imap_job_drained(struct imap_session *s)
{
	struct imap_job *j = s->drain_job;

	if (!j)
		return;
	s->drain_job = NULL;
	if (job_submit(j) < 0) {
		j->result = PS_ENOMEM;
		j->more = 0;
		job_done(j);
	}
}

/* ---- Session end -------------------------------------------------------- */

/* RFC 9051 7.1.5: BYE, then close. */
void
imap_goodbye(struct imap_session *s, const char *text)
{
	imap_printf(s, "* BYE %s\r\n", text);
	s->state = IMAP_LOGOUT;
	ps_conn_close(s->conn);
}

/* Between commands: the place to leave when the server shuts down. */
void
imap_boundary(struct imap_session *s)
{
	if (s->shutdown && !s->waiting && !s->in_command && !s->closed)
		imap_goodbye(s, "Server shutting down");
}

void
imap_session_free(struct imap_session *s)
{
	imap_view_free(s->view);
	s->view = NULL;
	imap_append_abort(s); /* before the store it belongs to closes */
	imap_logout_store(s);
	imap_parser_free(s->parser);
	s->parser = NULL;
	imap_job_free(s->drain_job);
	s->drain_job = NULL;
}

/* ---- The command table ------------------------------------------------ */

#define ST(x) (1u << (x))
#define ANY (ST(IMAP_NOTAUTH) | ST(IMAP_AUTH) | ST(IMAP_SELECTED))
#define AUTHED (ST(IMAP_AUTH) | ST(IMAP_SELECTED))
#define SEL ST(IMAP_SELECTED)
#define CMD_UID 0x1 /* also as "UID name" (RFC 9051 6.4.9) */

struct imap_command {
	const char *name;
	unsigned states;
	unsigned flags;
	int (*fn)(struct imap_session *s);
};

static const struct imap_command commands[] = {
	/* RFC 9051 6.1: any state. */
	{"CAPABILITY", ANY, 0, imap_cmd_capability},
	{"NOOP", ANY, 0, imap_cmd_noop},
	{"LOGOUT", ANY, 0, imap_cmd_logout},
	{"ID", ANY, 0, imap_cmd_id},                   /* RFC 2971 */
	/* 6.2: not authenticated. */
	{"STARTTLS", ST(IMAP_NOTAUTH), 0, imap_cmd_starttls},
	{"AUTHENTICATE", ST(IMAP_NOTAUTH), 0, imap_cmd_authenticate},
	{"LOGIN", ST(IMAP_NOTAUTH), 0, imap_cmd_login},
	/* 6.3: authenticated. */
	{"ENABLE", ST(IMAP_AUTH), 0, imap_cmd_enable}, /* RFC 5161 3.1 */
	{"SELECT", AUTHED, 0, imap_cmd_select},
	{"EXAMINE", AUTHED, 0, imap_cmd_select},
	{"NAMESPACE", AUTHED, 0, imap_cmd_namespace},  /* RFC 2342 */
	{"CREATE", AUTHED, 0, imap_cmd_create},
	{"DELETE", AUTHED, 0, imap_cmd_delete},
	{"RENAME", AUTHED, 0, imap_cmd_rename},
	{"SUBSCRIBE", AUTHED, 0, imap_cmd_subscribe},
	{"UNSUBSCRIBE", AUTHED, 0, imap_cmd_unsubscribe},
	{"LIST", AUTHED, 0, imap_cmd_list},
	{"LSUB", AUTHED, 0, imap_cmd_lsub},
	{"STATUS", AUTHED, 0, imap_cmd_status},
	{"APPEND", AUTHED, 0, imap_cmd_append},
	{"IDLE", AUTHED, 0, imap_cmd_idle},            /* RFC 2177 */
	{"COMPRESS", AUTHED, 0, imap_cmd_compress},    /* RFC 4978 */
	{"GETQUOTA", AUTHED, 0, imap_cmd_getquota},    /* RFC 9208 */
	{"GETQUOTAROOT", AUTHED, 0, imap_cmd_getquotaroot},
	{"SETQUOTA", AUTHED, 0, imap_cmd_setquota},
	/* 6.4: selected. */
	{"CHECK", SEL, 0, imap_cmd_noop},              /* RFC 3501 6.4.1 */
	{"CLOSE", SEL, 0, imap_cmd_close},
	{"UNSELECT", SEL, 0, imap_cmd_unselect},       /* RFC 3691 */
	{"EXPUNGE", SEL, CMD_UID, imap_cmd_expunge},   /* UID: RFC 4315 */
	{"SEARCH", SEL, CMD_UID, imap_cmd_search},
	{"FETCH", SEL, CMD_UID, imap_cmd_fetch},
	{"STORE", SEL, CMD_UID, imap_cmd_store},
	{"COPY", SEL, CMD_UID, imap_cmd_copy},
	{"MOVE", SEL, CMD_UID, imap_cmd_copy},         /* RFC 6851 */
};

static const struct imap_command *
command_find(const char *name)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

/* "UID FETCH ...": the command after UID, which must allow it. */
static const struct imap_command *
uid_command(struct imap_session *s)
{
	const struct imap_command *c;
	char name[32];
	const char *w;
	size_t len;

	if (s->nargs < 1 || imap_arg_get_word(&s->args[0], &w, &len) < 0 ||
	    len >= sizeof(name))
		return NULL;
	for (size_t i = 0; i <= len; i++)
		name[i] = (char)(w[i] >= 'a' && w[i] <= 'z' ? w[i] - 32 : w[i]);
	c = command_find(name);
	if (!c || !(c->flags & CMD_UID))
		return NULL;
	s->uid = 1;
	s->args++;
	s->nargs--;
	return c;
}

int
imap_command_known(const char *name)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcasecmp(commands[i].name, name) == 0)
			return 1;
	return strcasecmp(name, "UID") == 0;
}

static int
dispatch(struct imap_session *s)
{
	const struct imap_command *c;
	int ext;

	s->tag = imap_parser_tag(s->parser);
	s->cmd = imap_parser_command(s->parser);
	s->args = imap_parser_args(s->parser, &s->nargs);
	s->uid = 0;
	s->in_command = 1;
	c = strcmp(s->cmd, "UID") == 0 ? uid_command(s) : command_find(s->cmd);
	if (!c && (ext = imap_ext_find(s->cmd)))
		return imap_ext_run(s, ext, s->state);
	if (!c)
		return imap_bad(s, "Unknown command");
	if (!(c->states & ST(s->state)))
		return imap_bad(s, s->state == IMAP_NOTAUTH
				   ? "Log in first"
				   : "Command not valid in this state");
	return c->fn(s);
}

/* ---- Input ---------------------------------------------------------------- */

/* The parser's refusal: tagged when the tag was read, else "* BAD". */
static int
parse_error(struct imap_session *s)
{
	const struct imap_parse_error *e = imap_parser_error(s->parser);
	const char *tag = imap_parser_tag(s->parser);

	s->tag = tag;
	imap_append_abort(s);
	imap_tagged(s, e->no ? "NO" : "BAD", e->code, "%s", e->text);
	if (e->close && !s->closed)
		imap_goodbye(s, "Cannot go on after that");
	return 0;
}

int
imap_literal_go(struct imap_session *s, int want)
{
	const struct imap_literal *li = imap_parser_literal_info(s->parser);

	s->stream = 0;
	if (want < 0) {
		if (!li->discard)
			return parse_error(s);
	} else if (!li->discard) {
		if (imap_parser_literal_begin(s->parser, want) ==
		    IMAP_PARSE_ERROR)
			return parse_error(s);
		li = imap_parser_literal_info(s->parser);
		s->stream = li->stream && !li->discard;
	}
	if (li->sync && !li->discard)
		imap_printf(s, "+ Ready for literal data\r\n");
	if (li->size == 0)
		return 0;
	if (ps_conn_read_bytes(s->conn, (size_t)li->size) < 0)
		return PS_EIO;
	return 0;
}

/* A literal was announced: take it (or drop it), ask for it with "+"
 * when the client waits (RFC 9051 4.3), and have the core deliver its
 * octets to on_bytes. */
static int
literal(struct imap_session *s)
{
	const struct imap_literal *li = imap_parser_literal_info(s->parser);
	int want = 0;

	/* The command goes on after the literal, maybe on an empty line. */
	s->in_command = 1;
	/* APPEND's message goes to append.c as it arrives; append.c may ask
	 * the store first, and then goes on itself. */
	if (!li->discard &&
	    (want = imap_append_wants(s, li)) == IMAP_APPEND_LATER)
		return 0;
	return imap_literal_go(s, want);
}

static int
parse_result(struct imap_session *s, int r)
{
	switch (r) {
	case IMAP_PARSE_DONE:
		return dispatch(s);
	case IMAP_PARSE_LITERAL:
		return literal(s);
	case IMAP_PARSE_ERROR:
		return parse_error(s);
	default: /* MORE, LINE: keep reading */
		return 0;
	}
}

int
imap_input_line(struct imap_session *s, const char *line, size_t len,
		unsigned flags)
{
	int r;

	if (s->sasl_reply)
		return imap_auth_answer(s, line, len, flags);
	if (s->idling)
		return imap_idle_line(s, line, len);
	if (s->shutdown) {
		imap_boundary(s);
		return 0;
	}
	/* Stray empty lines between commands are ignored, as most servers
	 * do: some clients send one after a literal. */
	if (len == 0 && !(flags & PS_LINE_TOOLONG) && !s->in_command)
		return 0;
	r = imap_parser_line(s->parser, line, len,
			     flags & PS_LINE_TOOLONG ? IMAP_LINE_TRUNCATED : 0);
	r = parse_result(s, r);
	imap_boundary(s);
	return r < 0 ? r : 0;
}

int
imap_input_bytes(struct imap_session *s, const char *data, size_t len,
		 size_t left)
{
	if (s->stream)
		return imap_append_bytes(s, data, len, left);
	return parse_result(s, imap_parser_literal(s->parser, data, len));
}
