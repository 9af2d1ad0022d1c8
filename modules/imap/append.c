/* APPEND (RFC 9051 6.3.12) and MULTIAPPEND (RFC 3502): each message
 * literal streams into one append transaction of the store as it
 * arrives, 64 KiB at a time from jobs with input paused, so memory does
 * not grow with the message; the command's end commits them all at once
 * or none (APPENDUID, RFC 4315 3). A literal past APPENDLIMIT (RFC 7889),
 * an empty one, bad options or a mailbox that is not there are refused
 * when announced: a synchronizing literal is then never asked for. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "datetime.h"
#include "imapd.h"
#include "mime.h"

#define APPEND_CHUNK (64 * 1024) /* octets per append_data */

struct append {
	char mailbox[IMAP_NAME_MAX + 1];
	struct ps_store_append *a; /* the store's transaction */
	uint64_t used;             /* the user's octets when it began */
	uint64_t added;            /* octets of the messages announced */
	size_t nmsgs;              /* messages ended */
	/* The message streaming now. */
	unsigned flags;
	char **kw;
	size_t nkw;
	int64_t date;
	int tz;
	int begun;                 /* append_msg_begin was called */
	struct mime_parser *mp;    /* the message's structure, as it streams:
				    * its cache blob goes in with it */
	int last;                  /* buf ends the message */
	char *buf;                 /* octets for the next append_data */
	size_t len, cap;
	int result;                /* the first failure dooms them all */
	uint32_t *uids;            /* the commit's */
	uint32_t uidvalidity;
};

static void
msg_forget(struct append *x)
{
	for (size_t i = 0; i < x->nkw; i++)
		free(x->kw[i]);
	free(x->kw);
	x->kw = NULL;
	x->nkw = 0;
}

void
imap_append_abort(struct imap_session *s)
{
	struct append *x = s->append;

	if (!x)
		return;
	if (x->a)
		imap_cfg.store.append_abort(x->a);
	msg_forget(x);
	mime_parser_free(x->mp);
	free(x->buf);
	free(x->uids);
	free(x);
	s->append = NULL;
}

/* A store error as a NO's response code and text (RFC 5530). */
static const char *
append_error(struct imap_session *s, int r, const struct ps_error *err,
	     const char **text_r)
{
	switch (r) {
	case PS_STORE_EQUOTA:
		*text_r = "Quota exceeded";
		return "OVERQUOTA";
	case PS_STORE_ENOMBOX:
		*text_r = "Mailbox does not exist";
		return "TRYCREATE";
	case PS_STORE_ENOSELECT:
		*text_r = "Mailbox cannot hold messages";
		return "CANNOT";
	case PS_STORE_EBADNAME:
		*text_r = "Invalid mailbox name";
		return "CANNOT";
	case PS_EINVAL:
		*text_r = "Too many keywords, or a keyword too long";
		return "LIMIT";
	default:
		ps_conn_log(s->conn, PS_LOG_ERR, "store error user=%s: %s",
			    s->user, err->msg);
		*text_r = "Internal error, try again later";
		return "SERVERBUG";
	}
}

/* Fail the command now; the parser reads what is left of it. */
static int
refuse(struct imap_session *s, int no, const char *code, const char *text)
{
	imap_parser_fail(s->parser, no, code, text);
	return -1;
}

static int
refuse_store(struct imap_session *s, int r, const struct ps_error *err)
{
	const char *text, *code = append_error(s, r, err, &text);

	return refuse(s, 1, code, text);
}

/* append-opts before a message: [flag-list] [date-time] (RFC 9051 9;
 * no append-ext is known). */
static int
msg_options(struct imap_session *s, struct append *x,
	    const struct imap_arg *a, size_t n)
{
	const struct imap_arg *list = NULL;
	const char **kw = NULL, *why;
	size_t nlist = 0, i = 0;
	int r = 0;

	x->flags = 0;
	x->date = (int64_t)time(NULL);
	x->tz = 0;
	if (i < n && a[i].type == IMAP_ARG_LIST)
		imap_arg_get_list(&a[i++], &list, &nlist);
	if (i < n && a[i].type == IMAP_ARG_QUOTED) {
		if (imap_datetime_parse(a[i].str, a[i].len, &x->date,
					&x->tz) < 0)
			return refuse(s, 0, NULL, "Invalid date-time");
		i++;
	}
	if (i < n)
		return refuse(s, 0, NULL, "Invalid APPEND arguments");
	if (nlist && (!(kw = calloc(nlist, sizeof(*kw))) ||
		      !(x->kw = calloc(nlist, sizeof(*x->kw))))) {
		free(kw);
		return refuse(s, 1, "UNAVAILABLE", "Out of memory");
	}
	if (imap_flags_parse(list, nlist, &x->flags, kw, &x->nkw, &why) < 0)
		r = refuse(s, 0, NULL, why);
	for (size_t k = 0; r == 0 && k < x->nkw; k++)
		if (!(x->kw[k] = strdup(kw[k])))
			r = refuse(s, 1, "UNAVAILABLE", "Out of memory");
	free(kw);
	return r;
}

/* ---- The transaction begins: the first message's literal waits ------- */

static void
begin_work(struct imap_job *j)
{
	struct imap_session *s = j->s;
	struct append *x = j->arg;
	struct ps_error qerr;

	j->result = imap_cfg.store.append_begin(s->store, x->mailbox, &x->a,
						&j->err);
	/* For refusing an append over quota before its octets come; the
	 * store checks again anyway. */
	if (j->result == 0 && s->quota &&
	    imap_cfg.store.quota_get(s->store, &x->used, NULL, &qerr) < 0)
		x->used = 0;
}

static int
over_quota(const struct imap_session *s, const struct append *x)
{
	return s->quota && x->used + x->added > s->quota;
}

static void
begin_done(struct imap_job *j)
{
	struct imap_session *s = j->s;
	struct append *x = j->arg;
	int want = 1;

	if (s->closed)
		return; /* imap_session_free aborts */
	if (j->result < 0)
		want = refuse_store(s, j->result, &j->err);
	else if (over_quota(s, x))
		want = refuse(s, 1, "OVERQUOTA", "Quota exceeded");
	if (imap_literal_go(s, want) < 0)
		ps_conn_close(s->conn);
}

int
imap_append_wants(struct imap_session *s, const struct imap_literal *li)
{
	const char *cmd = imap_parser_command(s->parser);
	const struct imap_arg *args;
	struct append *x;
	struct imap_job *j;
	size_t n, first = 1;
	const char *why;
	int bad;

	/* APPEND SP mailbox 1*(SP append-opts SP literal): the message is a
	 * top-level literal after the mailbox. Before login it is buffered,
	 * and dispatch says no. */
	if (!cmd || strcmp(cmd, "APPEND") != 0 || li->depth || !li->argno ||
	    (s->state != IMAP_AUTH && s->state != IMAP_SELECTED))
		return 0;
	args = imap_parser_args(s->parser, &n);
	for (size_t i = 1; i < n; i++)
		if (args[i].type == IMAP_ARG_STREAM)
			first = i + 1;
	if (first == 1)
		imap_append_abort(s); /* one left from before: not ours */
	if (li->binary)
		return refuse(s, 0, NULL, "literal8 is not supported here");
	if (li->size > imap_cfg.append_limit)
		return refuse(s, 1, "TOOBIG", "Message larger than "
			      "APPENDLIMIT");
	if (li->size == 0)
		return refuse(s, 1, NULL, "Empty message");
	if (first == 1) {
		if (!(x = calloc(1, sizeof(*x))))
			return refuse(s, 1, "UNAVAILABLE", "Out of memory");
		s->append = x;
		if (imap_name_decode(s, &args[0], x->mailbox,
				     sizeof(x->mailbox), &bad, &why) < 0)
			return refuse(s, !bad, bad ? NULL : "CANNOT", why);
	}
	if (!(x = s->append))
		return refuse(s, 1, "UNAVAILABLE", "Append not begun");
	msg_forget(x);
	if (msg_options(s, x, args + first, n - first) < 0)
		return -1;
	x->begun = x->last = 0;
	x->len = 0;
	x->added += li->size;
	if (first > 1)
		return over_quota(s, x) ? refuse(s, 1, "OVERQUOTA",
						 "Quota exceeded") : 1;
	/* The store says whether the mailbox is there before the client is
	 * asked for the octets (RFC 9051 6.3.12: TRYCREATE). */
	if (!(j = imap_job_new(s, begin_work, begin_done, x)) ||
	    imap_job_start(s, j) < 0) {
		imap_job_free(j);
		return refuse(s, 1, "UNAVAILABLE", "Out of memory");
	}
	return IMAP_APPEND_LATER;
}

/* ---- Octets, a chunk at a time ------------------------------------------ */

/* The message is in: its cached structure (RFC 3501 FETCH BODYSTRUCTURE
 * and friends read it instead of the body) goes with it. */
static int
msg_end(struct append *x, struct ps_error *err)
{
	struct mime_part *root = x->mp ? mime_parser_finish(x->mp) : NULL;
	void *blob = NULL;
	size_t len = 0;
	int r;

	x->mp = NULL;
	if (root && mime_cache_write(root, &blob, &len) != MIME_OK)
		blob = NULL;
	mime_tree_free(root);
	r = imap_cfg.store.append_msg_end(x->a, blob, blob ? len : 0, err);
	free(blob);
	return r;
}

static void
data_work(struct imap_job *j)
{
	struct append *x = j->arg;
	int r = 0;

	if (!x->begun) {
		r = imap_cfg.store.append_msg_begin(
			x->a, x->flags, (const char *const *)x->kw, x->nkw,
			x->date, x->tz, &j->err);
		x->begun = 1;
		x->mp = mime_parser_new(NULL);
	}
	if (r == 0 && x->len) {
		r = imap_cfg.store.append_data(x->a, x->buf, x->len, &j->err);
		/* Without memory for the structure the message still goes
		 * in; FETCH parses it later. */
		if (x->mp && mime_parser_feed(x->mp, x->buf, x->len) != MIME_OK) {
			mime_parser_free(x->mp);
			x->mp = NULL;
		}
	}
	if (r == 0 && x->last)
		r = msg_end(x, &j->err);
	if (r < 0) {
		imap_cfg.store.append_abort(x->a);
		x->a = NULL;
	}
	j->result = r;
}

static void
data_done(struct imap_job *j)
{
	struct imap_session *s = j->s;
	struct append *x = j->arg;

	x->len = 0;
	if (j->result < 0) {
		x->result = j->result;
		if (!s->closed)
			refuse_store(s, j->result, &j->err);
	} else if (x->last) {
		x->nmsgs++;
		msg_forget(x);
	}
}

int
imap_append_bytes(struct imap_session *s, const char *data, size_t len,
		  size_t left)
{
	struct append *x = s->append;
	struct imap_job *j;

	/* Refused while streaming: the rest is read and dropped. */
	if (!x || x->result < 0)
		return 0;
	if (x->len + len > x->cap) {
		size_t cap = x->len + len > APPEND_CHUNK ? x->len + len
							 : APPEND_CHUNK;
		char *p = realloc(x->buf, cap);

		if (!p) {
			x->result = PS_ENOMEM;
			refuse(s, 1, "UNAVAILABLE", "Out of memory");
			return 0;
		}
		x->buf = p;
		x->cap = cap;
	}
	memcpy(x->buf + x->len, data, len);
	x->len += len;
	x->last = left == 0;
	if (x->len < APPEND_CHUNK && !x->last)
		return 0;
	/* The store may block: a job writes, and input waits for it. */
	if (!(j = imap_job_new(s, data_work, data_done, x)) ||
	    imap_job_start(s, j) < 0) {
		imap_job_free(j);
		x->result = PS_ENOMEM;
		refuse(s, 1, "UNAVAILABLE", "Out of memory");
	}
	return 0;
}

/* ---- The command's end: commit -------------------------------------- */

static void
commit_work(struct imap_job *j)
{
	struct imap_session *s = j->s;
	struct append *x = j->arg;
	struct ps_error serr;

	if (!(x->uids = calloc(x->nmsgs, sizeof(*x->uids)))) {
		j->result = PS_ENOMEM;
		return;
	}
	j->result = imap_cfg.store.append_commit(x->a, x->uids,
						 &x->uidvalidity, &j->err);
	x->a = NULL; /* commit frees it, whatever the outcome */
	/* RFC 9051 6.3.12: appended to the selected mailbox, the message
	 * shows up as EXISTS now. */
	if (s->view)
		imap_view_sync(s, &j->out, imap_expunge_ok(s), &serr);
}

static void
commit_done(struct imap_job *j)
{
	struct imap_session *s = j->s;
	struct append *x = j->arg;
	const char *code, *text;
	struct imap_buf b;

	if (j->result < 0) {
		code = append_error(s, j->result, &j->err, &text);
		imap_no(s, code, text);
	} else {
		/* RFC 4315 3: APPENDUID uidvalidity uid-set. */
		imap_buf_init(&b, (size_t)-1);
		imap_buf_adds(&b, "APPENDUID ");
		imap_buf_addu64(&b, x->uidvalidity);
		imap_buf_addc(&b, ' ');
		imap_seqset_format_list(x->uids, x->nmsgs, &b);
		imap_tagged(s, "OK", b.error ? NULL : imap_buf_str(&b),
			    "Append completed");
		imap_buf_free(&b);
	}
	imap_append_abort(s);
}

/* Every message was streamed and ended when the last line came: the
 * arguments hold mailbox, then per message [flags] [date] and the
 * streamed literal, with nothing after the last. */
int
imap_cmd_append(struct imap_session *s)
{
	struct append *x = s->append;
	struct imap_job *j;
	size_t streams = 0;

	for (size_t i = 1; i < s->nargs; i++)
		if (s->args[i].type == IMAP_ARG_STREAM)
			streams++;
	if (!x || !x->a || x->result < 0 || !streams ||
	    streams != x->nmsgs ||
	    s->args[s->nargs - 1].type != IMAP_ARG_STREAM) {
		imap_append_abort(s);
		return imap_bad(s, "APPEND takes a mailbox, then per message "
				"optional flags and date-time and a literal");
	}
	if (!(j = imap_job_new(s, commit_work, commit_done, x)) ||
	    imap_job_start(s, j) < 0) {
		imap_job_free(j);
		imap_append_abort(s);
		return imap_no(s, "UNAVAILABLE", "Out of memory");
	}
	return 0;
}
