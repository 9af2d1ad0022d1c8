/* SASL exchanges (RFC 4422 sections 3 and 5) and plain password logins:
 * the mechanism table, base64 framing of challenges and responses (RFC
 * 4954 section 4, and its IMAP and POP3 kin), cancellation with "*", and
 * the one verification path every login takes: failure limits, the auth
 * backend on the pool, the failure delay, and fail2ban-ready log lines. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <poshta/auth.h>

#include "authfail.h"
#include "base64.h"
#include "conn.h"
#include "iface.h"
#include "log.h"
#include "loop.h"
#include "sasl.h"

/* Offered in this order; SCRAM-SHA-256 would go first. */
static const struct ps_sasl_mech *const mechs[] = {
	&ps_sasl_plain, &ps_sasl_login, NULL,
};

/* Names for the logs of exchanges outside the table: ps_auth_login, and
 * a mechanism the client asked for that we do not have. */
static const struct ps_sasl_mech password_mech = {
	.name = "password", .plaintext = 1,
};
static const struct ps_sasl_mech unknown_mech = {.name = "unknown"};

/* A password check on the pool. The job outlives its exchange if that is
 * freed meanwhile (s NULL then), and holds the connection until done. */
struct sasl_job {
	struct ps_sasl *s;
	struct ps_conn *c;
	int (*verify)(const char *user, const char *password,
		      struct ps_auth_user *user_r, struct ps_error *err);
	int rc;
	struct ps_auth_user found;
	struct ps_error err;
	char user[PS_SASL_FIELD_MAX + 1];
	char password[PS_SASL_FIELD_MAX + 1];
};

struct ps_sasl {
	struct ps_conn *c;
	struct ps_loop *loop;
	const struct ps_sasl_mech *mech;
	void *state;                     /* the mechanism's */
	ps_sasl_fn fn;
	void *arg;
	struct ps_timer *timer; /* a report due, holding c */
	struct sasl_job *job;
	int status;             /* what the timer reports */
	int challenged;         /* a challenge went out: a response is due */
	char *challenge;        /* base64 */
	char name[PS_SASL_FIELD_MAX + 1]; /* the user as the client gave it */
	char user[PS_AUTH_NAME_MAX + 1];  /* canonical, once authenticated */
};

/* ---- Logs ------------------------------------------------------------ */

/* Client-chosen text made safe for one log line: bytes outside printable
 * ASCII, '"' and '\\' become \\xHH, and so do space and '=' unless the
 * text goes in quotes, so that a user name such as "x rip=10.0.0.1"
 * cannot plant a key a fail2ban filter would trust. */
static const char *
log_safe(const char *in, int quoted, char *out, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	for (; *in && o + 5 < len; in++) {
		unsigned char b = (unsigned char)*in;

		if (b >= ' ' && b < 0x7f && b != '"' && b != '\\' &&
		    (quoted || (b != ' ' && b != '='))) {
			out[o++] = (char)b;
			continue;
		}
		out[o++] = '\\';
		out[o++] = 'x';
		out[o++] = hex[b >> 4];
		out[o++] = hex[b & 15];
	}
	out[o] = '\0';
	return out;
}

/* "auth WHAT: user=U rip=A mech=M reason=R", reason a word of ours. */
static void
sasl_log(const struct ps_sasl *s, enum ps_log_level level, const char *what,
	 const char *reason)
{
	char user[4 * PS_SASL_FIELD_MAX + 1];

	ps_logf(NULL, s->c, level, "auth %s: user=%s rip=%s mech=%s%s%s",
		what, log_safe(s->name, 0, user, sizeof(user)),
		ps_conn_peer(s->c), s->mech->name, reason ? " reason=" : "",
		reason ? reason : "");
}

/* ---- Reports to the protocol ------------------------------------------ */

static void
sasl_fire(void *arg)
{
	struct ps_sasl *s = arg;
	struct ps_conn *c = s->c;
	int status = s->status;

	s->timer = NULL;
	s->challenged = status == PS_SASL_CONTINUE;
	/* fn may free s; the connection stays valid until released. */
	s->fn(s, status, s->challenged ? s->challenge : NULL, s->arg);
	ps_conn_release(c);
}

/* Report status from the loop after ms: never inside the caller's call,
 * so that fn may free the exchange. */
static void
sasl_later(struct ps_sasl *s, int status, uint64_t ms)
{
	s->status = status;
	s->timer = ps_loop_timer(s->loop, ms, sasl_fire, s);
	if (s->timer) {
		ps_conn_hold(s->c);
		return;
	}
	/* No way to answer: end the connection, whose close frees s. */
	ps_logf(NULL, s->c, PS_LOG_ERR, "auth: out of memory, closing");
	ps_conn_close(s->c);
}

/* What a mechanism returned: PS_AGAIN, or a status to report. */
static void
sasl_settle(struct ps_sasl *s, int r)
{
	if (r != PS_AGAIN)
		sasl_later(s, r, 0);
}

int
ps_sasl_challenge(struct ps_sasl *s, const void *data, size_t len)
{
	char *b64 = malloc(PS_BASE64_ENCODED(len));

	if (!b64)
		return PS_SASL_ETEMP;
	ps_base64_encode(data, len, b64);
	free(s->challenge);
	s->challenge = b64;
	sasl_later(s, PS_SASL_CONTINUE, 0);
	return PS_AGAIN;
}

/* ---- Verification ----------------------------------------------------- */

/* Checks every attempt shares: a well-formed name, not over a bound. */
static int
sasl_admit(struct ps_sasl *s, const char *user, size_t ulen)
{
	static const char *const which[] = {"", "address", "user"};
	char safe[4 * PS_SASL_FIELD_MAX + 1];
	int why;

	if (!ps_sasl_field_ok(user, ulen))
		return PS_SASL_EMALFORMED;
	memcpy(s->name, user, ulen);
	s->name[ulen] = '\0';
	why = ps_authfail_blocked(ps_conn_peer(s->c), s->name,
				  ps_loop_now(s->loop));
	if (!why)
		return 0;
	ps_logf(NULL, s->c, PS_LOG_NOTICE, "auth blocked: rip=%s user=%s "
		"mech=%s limit=%s reason=too many failures",
		ps_conn_peer(s->c), log_safe(s->name, 0, safe, sizeof(safe)),
		s->mech->name, which[why]);
	return PS_SASL_ELIMIT;
}

/* A failure: count it, log it, answer after the delay. */
static void
sasl_failed(struct ps_sasl *s, const char *reason)
{
	ps_authfail_failed(ps_conn_peer(s->c), s->name, ps_loop_now(s->loop));
	sasl_log(s, PS_LOG_NOTICE, "failed", reason);
	sasl_later(s, PS_SASL_EDENIED, ps_authfail_delay_ms());
}

int
ps_sasl_deny(struct ps_sasl *s, const char *user, size_t ulen,
	     const char *reason)
{
	int r = sasl_admit(s, user, ulen);

	if (r < 0)
		return r;
	sasl_failed(s, reason);
	return PS_AGAIN;
}

static void
job_work(void *arg)
{
	struct sasl_job *job = arg;

	job->rc = job->verify(job->user, job->password, &job->found,
			      &job->err);
	explicit_bzero(job->password, sizeof(job->password));
}

/* The backend's answer, on the loop. fn runs directly: this is a loop
 * callback, not a call of the protocol's. */
static void
sasl_verified(struct ps_sasl *s, struct sasl_job *job)
{
	if (job->rc == 0) {
		ps_authfail_succeeded(s->name);
		snprintf(s->user, sizeof(s->user), "%s",
			 job->found.name[0] ? job->found.name : s->name);
		sasl_log(s, PS_LOG_INFO, "ok", NULL);
		s->fn(s, PS_SASL_OK, NULL, s->arg);
	} else if (job->rc == PS_AUTH_EDENIED || job->rc == PS_ENOENT) {
		sasl_failed(s, "denied");
	} else {
		char safe[4 * sizeof(job->err.msg)], why[sizeof(safe) + 32];

		snprintf(why, sizeof(why), "backend detail=\"%s\"",
			 log_safe(job->err.msg, 1, safe, sizeof(safe)));
		sasl_log(s, PS_LOG_WARN, "error", why);
		s->fn(s, PS_SASL_ETEMP, NULL, s->arg);
	}
}

static void
job_done(void *arg)
{
	struct sasl_job *job = arg;
	struct ps_conn *c = job->c;

	if (job->s) {
		job->s->job = NULL;
		sasl_verified(job->s, job);
	}
	explicit_bzero(job, sizeof(*job));
	free(job);
	ps_conn_release(c);
}

int
ps_sasl_verify(struct ps_sasl *s, const char *user, size_t ulen,
	       const char *password, size_t plen)
{
	struct ps_auth_ops ops;
	struct sasl_job *job;
	int r = sasl_admit(s, user, ulen);

	if (r < 0)
		return r;
	if (!ps_sasl_field_ok(password, plen))
		return PS_SASL_EMALFORMED;
	if (ps_iface_get(PS_AUTH_KIND, NULL, &ops, sizeof(ops)) < 0 ||
	    !ops.verify) {
		sasl_log(s, PS_LOG_ERR, "error", "no-backend detail=\"no auth "
			 "backend module is loaded (e.g. auth_sqlite)\"");
		return PS_SASL_ETEMP;
	}
	if (!(job = calloc(1, sizeof(*job))))
		return PS_SASL_ETEMP;
	job->s = s;
	job->c = s->c;
	job->verify = ops.verify;
	memcpy(job->user, user, ulen);
	memcpy(job->password, password, plen);
	ps_conn_hold(s->c);
	if (ps_loop_submit(s->loop, job_work, job_done, job) < 0) {
		ps_conn_release(s->c);
		explicit_bzero(job, sizeof(*job));
		free(job);
		return PS_SASL_ETEMP;
	}
	s->job = job;
	return PS_AGAIN;
}

/* ---- The exchange ----------------------------------------------------- */

static int
plaintext_ok(struct ps_conn *c)
{
	return ps_conn_auth_plaintext(c) || (ps_conn_tls(c) & PS_TLS_ACTIVE);
}

const char *
ps_sasl_mechanisms(struct ps_conn *c)
{
	/* Built once per process from the table: all, and the ones that
	 * keep the password off the wire. */
	static char list[2][128];
	static int built;
	int all = plaintext_ok(c);

	if (!built) {
		for (const struct ps_sasl_mech *const *m = mechs; *m; m++)
			for (int k = (*m)->plaintext ? 1 : 0; k < 2; k++)
				snprintf(list[k] + strlen(list[k]),
					 sizeof(list[k]) - strlen(list[k]),
					 "%s%s", list[k][0] ? " " : "",
					 (*m)->name);
		built = 1;
	}
	return list[all];
}

static const struct ps_sasl_mech *
find_mech(const char *name)
{
	for (const struct ps_sasl_mech *const *m = mechs; name && *m; m++)
		if (strcasecmp((*m)->name, name) == 0)
			return *m;
	return NULL;
}

/* A new exchange of mech (NULL: none such) on c, or NULL when out of
 * memory. *ready_r is 0 when it ended at once (its report is due). */
static struct ps_sasl *
sasl_new(struct ps_conn *c, const struct ps_sasl_mech *mech, ps_sasl_fn fn,
	 void *arg, int *ready_r)
{
	struct ps_sasl *s = calloc(1, sizeof(*s));

	*ready_r = 0;
	if (!s)
		return NULL;
	s->c = c;
	s->loop = ps_conn_loop(c);
	s->mech = mech ? mech : &unknown_mech;
	s->fn = fn;
	s->arg = arg;
	if (!mech)
		sasl_later(s, PS_SASL_EMECH, 0);
	else if (mech->plaintext && !plaintext_ok(c))
		sasl_later(s, PS_SASL_EENCRYPT, 0);
	else if (mech->state_size &&
		 !(s->state = calloc(1, mech->state_size)))
		sasl_later(s, PS_SASL_ETEMP, 0);
	else
		*ready_r = 1;
	return s;
}

/* Decode a client's base64 into buf (PS_SASL_MAX bytes). -1 when it is
 * not strict base64 or too long. */
static long
sasl_decode(const char *text, size_t len, unsigned char *buf)
{
	if (len > (PS_SASL_MAX / 3) * 4)
		return -1;
	return ps_base64_decode(text, len, buf);
}

/* Feed decoded client data (in NULL: no initial response) to the
 * mechanism, then wipe it: it may hold a password. */
static void
sasl_feed(struct ps_sasl *s, const char *text, int first)
{
	unsigned char buf[PS_SASL_MAX];
	long n = 0;

	/* RFC 4954 section 4: "=" is an empty initial response. */
	if (text && !(first && strcmp(text, "=") == 0))
		n = sasl_decode(text, strlen(text), buf);
	if (n < 0)
		sasl_later(s, PS_SASL_EMALFORMED, 0);
	else if (first)
		sasl_settle(s, s->mech->start(s, s->state, text ? buf : NULL,
					      (size_t)n));
	else
		sasl_settle(s, s->mech->step(s, s->state, buf, (size_t)n));
	explicit_bzero(buf, (size_t)(n > 0 ? n : 0));
}

struct ps_sasl *
ps_sasl_start(struct ps_conn *c, const char *mech, const char *initial,
	      ps_sasl_fn fn, void *arg)
{
	int ready;
	struct ps_sasl *s = sasl_new(c, find_mech(mech), fn, arg, &ready);

	if (ready)
		sasl_feed(s, initial, 1);
	return s;
}

void
ps_sasl_respond(struct ps_sasl *s, const char *line, size_t len)
{
	char text[(PS_SASL_MAX / 3) * 4 + 2];

	if (!s->challenged) {
		ps_logf(NULL, s->c, PS_LOG_WARN, "auth: a response without a "
			"challenge (module bug), ignored mech=%s",
			s->mech->name);
		return;
	}
	s->challenged = 0;
	/* RFC 4422 section 3.5: the client may abort at any step. */
	if (len == 1 && line[0] == '*')
		sasl_later(s, PS_SASL_ECANCEL, 0);
	else if (len >= sizeof(text) || memchr(line, '\0', len))
		sasl_later(s, PS_SASL_EMALFORMED, 0);
	else {
		memcpy(text, line, len);
		text[len] = '\0';
		sasl_feed(s, text, 0);
		explicit_bzero(text, len);
	}
}

const char *
ps_sasl_user(struct ps_sasl *s)
{
	return s->user[0] ? s->user : NULL;
}

void
ps_sasl_free(struct ps_sasl *s)
{
	if (!s)
		return;
	if (s->timer) {
		ps_loop_timer_cancel(s->loop, s->timer);
		ps_conn_release(s->c);
	}
	if (s->job)
		s->job->s = NULL;
	if (s->state) {
		explicit_bzero(s->state, s->mech->state_size);
		free(s->state);
	}
	free(s->challenge);
	free(s);
}

/* A plain login sends the password as it is, like PLAIN: it is a
 * plaintext mechanism of its own, offered by no list. */
struct ps_sasl *
ps_auth_login(struct ps_conn *c, const char *user, const char *password,
	      ps_sasl_fn fn, void *arg)
{
	int ready;
	struct ps_sasl *s = sasl_new(c, &password_mech, fn, arg, &ready);

	if (ready && (!user || !password))
		sasl_later(s, PS_SASL_EMALFORMED, 0);
	else if (ready)
		sasl_settle(s, ps_sasl_verify(s, user, strlen(user), password,
					      strlen(password)));
	return s;
}
