/* Mailboxes by name: CREATE (RFC 9051 6.3.4, with USE of RFC 6154 5.3),
 * DELETE (6.3.5), RENAME (6.3.6), SUBSCRIBE and UNSUBSCRIBE (6.3.7,
 * 6.3.8) and STATUS (6.3.11, RFC 3501 6.3.10; SIZE of RFC 8438,
 * HIGHESTMODSEQ of RFC 7162, DELETED-STORAGE of RFC 9208, APPENDLIMIT
 * of RFC 7889), whose items LIST-STATUS (list.c) shares. The hierarchy
 * rules are the store's (storage.h): CREATE makes missing parents,
 * DELETE of a mailbox with children leaves it \Noselect, RENAME takes
 * the children along and RENAME of INBOX moves its messages. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "imapd.h"

/* ---- STATUS items ----------------------------------------------------- */

enum {
	ST_MESSAGES,
	ST_RECENT,
	ST_UIDNEXT,
	ST_UIDVALIDITY,
	ST_UNSEEN,
	ST_DELETED,
	ST_SIZE,
	ST_HIGHESTMODSEQ,
	ST_DELETED_STORAGE,
	ST_APPENDLIMIT,
	ST_COUNT
};

static const char *const status_names[ST_COUNT] = {
	"MESSAGES", "RECENT", "UIDNEXT", "UIDVALIDITY", "UNSEEN", "DELETED",
	"SIZE", "HIGHESTMODSEQ", "DELETED-STORAGE", "APPENDLIMIT",
};

/* An item named twice is answered once, where it was first asked. */
static int
status_add(struct imap_session *s, struct imap_status_req *r,
	   const char *name)
{
	for (unsigned i = 0; i < ST_COUNT; i++) {
		if (strcasecmp(name, status_names[i]) != 0)
			continue;
		/* RFC 9051 6.3.11: IMAP4rev2 has no \Recent. */
		if (i == ST_RECENT && (s->enabled & IMAP_EN_REV2))
			return -1;
		/* RFC 7162 3.1: STATUS HIGHESTMODSEQ enables CONDSTORE. */
		if (i == ST_HIGHESTMODSEQ)
			s->enabled |= IMAP_EN_CONDSTORE;
		if (!(r->mask & (1u << i)))
			r->order[r->n++] = (unsigned char)i;
		r->mask |= 1u << i;
		return 0;
	}
	return -1;
}

int
imap_status_parse(struct imap_session *s, const struct imap_arg *list,
		  size_t n, struct imap_status_req *r)
{
	const char *w;

	if (n == 0) {
		imap_bad(s, "STATUS needs at least one item");
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		if (imap_arg_get_atom(&list[i], &w) < 0 ||
		    status_add(s, r, w) < 0) {
			imap_bad(s, "Unknown STATUS item");
			return -1;
		}
	return 0;
}

struct deleted {
	uint32_t n;
	uint64_t bytes;
};

static int
deleted_msg(const struct ps_msg *m, void *arg)
{
	struct deleted *d = arg;

	if (m->flags & PS_FLAG_DELETED) {
		d->n++;
		d->bytes += m->size;
	}
	return 0;
}

/* The storage SDK counts no \Deleted messages (ps_mailbox_status), so
 * DELETED and DELETED-STORAGE read the flags of every message, through a
 * read-only open that claims no \Recent ones (RFC 3501 6.3.2) and whose
 * status stands for mailbox_status's. */
static int
count_deleted(struct imap_session *s, const char *name,
	      struct ps_mailbox_status *st, struct deleted *d,
	      struct ps_error *err)
{
	struct ps_mbox *mb = NULL;
	uint32_t first_recent;
	int r = imap_cfg.store.mailbox_open(s->store, name, PS_OPEN_READONLY,
					    &mb, st, &first_recent, err);

	if (r == 0)
		r = imap_cfg.store.msg_fetch(mb, NULL, 0, deleted_msg, d, err);
	if (mb)
		imap_cfg.store.mailbox_close(mb);
	return r;
}

/* RFC 9208: storage is counted in units of 1024 octets, rounded up so a
 * byte over is not shown as none. */
static uint64_t
kib(uint64_t bytes)
{
	return bytes / 1024 + (bytes % 1024 != 0);
}

static uint64_t
status_value(unsigned item, const struct ps_mailbox_status *st,
	     const struct deleted *d)
{
	switch (item) {
	case ST_MESSAGES:
		return st->messages;
	case ST_RECENT:
		return st->recent;
	case ST_UIDNEXT:
		return st->uidnext;
	case ST_UIDVALIDITY:
		return st->uidvalidity;
	case ST_UNSEEN:
		return st->unseen;
	case ST_DELETED:
		return d->n;
	case ST_SIZE:
		return st->size;
	case ST_HIGHESTMODSEQ:
		return st->highestmodseq;
	case ST_DELETED_STORAGE:
		return kib(d->bytes);
	default: /* ST_APPENDLIMIT: the same for every mailbox */
		return imap_cfg.append_limit;
	}
}

int
imap_status_build(struct imap_session *s, const char *name,
		  const struct imap_status_req *r, struct imap_buf *out,
		  struct ps_error *err)
{
	struct ps_mailbox_status st;
	struct deleted d = {0, 0};
	int rc;

	if (r->mask & ((1u << ST_DELETED) | (1u << ST_DELETED_STORAGE)))
		rc = count_deleted(s, name, &st, &d, err);
	else
		rc = imap_cfg.store.mailbox_status(s->store, name, &st, err);
	if (rc < 0)
		return rc;
	/* RFC 9051 7.2.4: * STATUS name (item value ...) */
	imap_buf_adds(out, "* STATUS ");
	imap_name_out(s, name, out);
	imap_buf_adds(out, " (");
	for (size_t i = 0; i < r->n; i++) {
		if (i)
			imap_buf_addc(out, ' ');
		imap_buf_adds(out, status_names[r->order[i]]);
		imap_buf_addc(out, ' ');
		imap_buf_addu64(out, status_value(r->order[i], &st, &d));
	}
	imap_buf_adds(out, ")\r\n");
	return 0;
}

/* ---- The commands: one job each --------------------------------------- */

struct mbox_op {
	char name[IMAP_NAME_MAX + 1];
	char to[IMAP_NAME_MAX + 1];  /* RENAME */
	unsigned special_use;        /* CREATE USE */
	int subscribe;               /* SUBSCRIBE or UNSUBSCRIBE */
	struct imap_status_req status;
};

static int
op_start(struct imap_session *s, struct mbox_op *op,
	 void (*work)(struct imap_job *j), void (*done)(struct imap_job *j))
{
	struct imap_job *j = imap_job_new(s, work, done, op);

	if (!j || imap_job_start(s, j) < 0) {
		imap_job_free(j);
		free(op);
		return imap_no(s, "UNAVAILABLE", "Out of memory");
	}
	return 0;
}

/* The reply, once the store answered. */
static void
op_done(struct imap_job *j)
{
	imap_job_status(j);
	free(j->arg);
}

/* The op with its first argument decoded; NULL after a reply. */
static struct mbox_op *
op_new(struct imap_session *s, size_t nargs_min, size_t nargs_max)
{
	struct mbox_op *op;

	if (s->nargs < nargs_min || s->nargs > nargs_max) {
		imap_tagged(s, "BAD", NULL, "Wrong number of arguments to %s",
			    s->cmd);
		return NULL;
	}
	if (!(op = calloc(1, sizeof(*op)))) {
		imap_no(s, "UNAVAILABLE", "Out of memory");
		return NULL;
	}
	if (imap_name_in(s, &s->args[0], op->name, sizeof(op->name)) < 0) {
		free(op);
		return NULL;
	}
	return op;
}

/* ---- CREATE ------------------------------------------------------------- */

/* RFC 6154 2: the special uses. \All and \Flagged name views of messages
 * kept elsewhere, which this store cannot present, so CREATE refuses
 * them (5.3: NO [USEATTR]); LIST still reports them if a store has
 * them. */
static const struct {
	const char *name;
	unsigned attr;
	int creatable;
} special_uses[] = {
	{"\\All", PS_MBOX_ALL, 0},         {"\\Archive", PS_MBOX_ARCHIVE, 1},
	{"\\Drafts", PS_MBOX_DRAFTS, 1},   {"\\Flagged", PS_MBOX_FLAGGED, 0},
	{"\\Junk", PS_MBOX_JUNK, 1},       {"\\Sent", PS_MBOX_SENT, 1},
	{"\\Trash", PS_MBOX_TRASH, 1},
};

#define N_SPECIAL_USES (sizeof(special_uses) / sizeof(special_uses[0]))

void
imap_special_use_out(unsigned attrs, struct imap_buf *out, int *first)
{
	for (size_t i = 0; i < N_SPECIAL_USES; i++)
		if (attrs & special_uses[i].attr) {
			if (!*first)
				imap_buf_addc(out, ' ');
			*first = 0;
			imap_buf_adds(out, special_uses[i].name);
		}
}

static int
refuse(struct imap_session *s, const char *status, const char *code,
       const char *text)
{
	imap_tagged(s, status, code, "%s", text);
	return -1;
}

/* USE (attr ...): 0, or -1 after a BAD or NO [USEATTR]. */
static int
create_use(struct imap_session *s, const struct imap_arg *a,
	   struct mbox_op *op)
{
	const struct imap_arg *list;
	const char *w;
	size_t n, k;

	if (imap_arg_get_list(a, &list, &n) < 0)
		return refuse(s, "BAD", NULL, "USE takes a list of attributes");
	for (size_t i = 0; i < n; i++) {
		if (imap_arg_get_flag(&list[i], &w) < 0)
			return refuse(s, "BAD", NULL,
				      "Invalid special-use attribute");
		for (k = 0; k < N_SPECIAL_USES; k++)
			if (strcasecmp(w, special_uses[k].name) == 0)
				break;
		if (k == N_SPECIAL_USES || !special_uses[k].creatable)
			return refuse(s, "NO", "USEATTR",
				      "Special use not supported");
		op->special_use |= special_uses[k].attr;
	}
	return 0;
}

/* RFC 4466 2.2: CREATE name (param ...); the one parameter known is
 * USE. */
static int
create_params(struct imap_session *s, const struct imap_arg *a,
	      struct mbox_op *op)
{
	const struct imap_arg *list;
	size_t n;

	if (imap_arg_get_list(a, &list, &n) < 0)
		return refuse(s, "BAD", NULL, "CREATE parameters are a list");
	for (size_t i = 0; i < n; i += 2) {
		if (!imap_arg_is_atom(&list[i], "USE") || i + 1 >= n)
			return refuse(s, "BAD", NULL,
				      "Unknown CREATE parameter");
		if (create_use(s, &list[i + 1], op) < 0)
			return -1;
	}
	return 0;
}

static void
create_work(struct imap_job *j)
{
	struct mbox_op *op = j->arg;

	j->result = imap_cfg.store.mailbox_create(j->s->store, op->name,
						  op->special_use, &j->err);
}

int
imap_cmd_create(struct imap_session *s)
{
	struct mbox_op *op = op_new(s, 1, 2);
	size_t len;

	if (!op)
		return 0;
	/* RFC 9051 6.3.4: a trailing delimiter only declares that names
	 * will be created below this one; this store needs no such
	 * declaration, so it is ignored. */
	len = strlen(op->name);
	if (len > 1 && op->name[len - 1] == imap_cfg.delim)
		op->name[len - 1] = '\0';
	if (s->nargs == 2 && create_params(s, &s->args[1], op) < 0) {
		free(op);
		return 0;
	}
	return op_start(s, op, create_work, op_done);
}

/* ---- DELETE ------------------------------------------------------------- */

static void
delete_work(struct imap_job *j)
{
	struct mbox_op *op = j->arg;

	j->result = imap_cfg.store.mailbox_delete(j->s->store, op->name,
						  &j->err);
}

/* The selected mailbox was deleted (or is \Noselect now): it cannot be
 * used any further, so it is closed, and the client told so with the
 * CLOSED code (RFC 9051 7.1), which IMAP4rev1 clients ignore (RFC 3501
 * 7.1: unknown codes are ignored). */
static void
delete_done(struct imap_job *j)
{
	struct imap_session *s = j->s;
	struct mbox_op *op = j->arg;

	if (!s->closed && j->result == 0 && s->view &&
	    strcmp(s->view->name, op->name) == 0) {
		imap_view_free(s->view);
		s->view = NULL;
		s->state = IMAP_AUTH;
		imap_printf(s, "* OK [CLOSED] Selected mailbox deleted\r\n");
	}
	op_done(j);
}

int
imap_cmd_delete(struct imap_session *s)
{
	struct mbox_op *op = op_new(s, 1, 1);

	if (!op)
		return 0;
	/* RFC 9051 6.3.5: it is an error to delete INBOX. */
	if (strcmp(op->name, "INBOX") == 0) {
		free(op);
		return imap_no(s, "CANNOT", "INBOX cannot be deleted");
	}
	return op_start(s, op, delete_work, delete_done);
}

/* ---- RENAME ---------------------------------------------------------- */

static void
rename_work(struct imap_job *j)
{
	struct mbox_op *op = j->arg;

	j->result = imap_cfg.store.mailbox_rename(j->s->store, op->name,
						  op->to, &j->err);
}

/* The selected mailbox stays selected under its new name, or the name
 * its renamed parent gives it: the store keeps the mailbox, only names
 * change, and the bus speaks of names. RENAME INBOX leaves INBOX where
 * it is (its messages leave, and the view learns that as expunges). */
static void
rename_view(struct imap_session *s, const struct mbox_op *op)
{
	struct imap_view *v = s->view;
	size_t flen = strlen(op->name);
	char *name;

	if (!v || strcmp(op->name, "INBOX") == 0 ||
	    strncmp(v->name, op->name, flen) != 0 ||
	    (v->name[flen] != '\0' && v->name[flen] != imap_cfg.delim))
		return;
	name = malloc(strlen(op->to) + strlen(v->name + flen) + 1);
	if (!name)
		return; /* the old name: notices are missed, NOOP still works */
	strcpy(name, op->to);
	strcat(name, v->name + flen);
	free(v->name);
	v->name = name;
}

static void
rename_done(struct imap_job *j)
{
	if (!j->s->closed && j->result == 0)
		rename_view(j->s, j->arg);
	op_done(j);
}

int
imap_cmd_rename(struct imap_session *s)
{
	struct mbox_op *op = op_new(s, 2, 2);

	if (!op)
		return 0;
	if (imap_name_in(s, &s->args[1], op->to, sizeof(op->to)) < 0) {
		free(op);
		return 0;
	}
	return op_start(s, op, rename_work, rename_done);
}

/* ---- SUBSCRIBE, UNSUBSCRIBE ------------------------------------------- */

/* RFC 9051 6.3.7: a name may be subscribed whether or not a mailbox has
 * it; LIST (SUBSCRIBED) shows it \NonExistent then. */
static void
subscribe_work(struct imap_job *j)
{
	struct mbox_op *op = j->arg;

	j->result = imap_cfg.store.mailbox_subscribe(j->s->store, op->name,
						     op->subscribe, &j->err);
}

int
imap_cmd_subscribe(struct imap_session *s)
{
	struct mbox_op *op = op_new(s, 1, 1);

	if (!op)
		return 0;
	op->subscribe = 1;
	return op_start(s, op, subscribe_work, op_done);
}

int
imap_cmd_unsubscribe(struct imap_session *s)
{
	struct mbox_op *op = op_new(s, 1, 1);

	if (!op)
		return 0;
	return op_start(s, op, subscribe_work, op_done);
}

/* ---- STATUS ------------------------------------------------------------- */

/* RFC 9051 6.3.11: STATUS of the selected mailbox is allowed. Its
 * changes are reported first, so that the counts agree with what the
 * client was told. */
static void
status_work(struct imap_job *j)
{
	struct imap_session *s = j->s;
	struct mbox_op *op = j->arg;
	int r = 0;

	if (s->view && strcmp(s->view->name, op->name) == 0)
		r = imap_view_sync(s, &j->out, 1, &j->err);
	if (r == 0)
		r = imap_status_build(s, op->name, &op->status, &j->out,
				      &j->err);
	j->result = r;
}

int
imap_cmd_status(struct imap_session *s)
{
	struct mbox_op *op = op_new(s, 2, 2);
	const struct imap_arg *list;
	size_t n;

	if (!op)
		return 0;
	if (imap_arg_get_list(&s->args[1], &list, &n) < 0) {
		free(op);
		return imap_bad(s, "STATUS takes a list of items");
	}
	if (imap_status_parse(s, list, n, &op->status) < 0) {
		free(op);
		return 0;
	}
	return op_start(s, op, status_work, op_done);
}
