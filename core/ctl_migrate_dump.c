/* poshtactl migrate-dump (hidden; run by migrate with the source's
 * configuration): every mailbox and message of the users named, or of
 * every user the auth backend knows, as the record stream of
 * ctl_migrate.h on standard output. Bodies are streamed with msg_read in
 * CTL_MREC_DATA_MAX pieces; only the UIDs of one mailbox are held. With
 * --replies the target says, after each mailbox record, from which UID
 * on it needs messages; those below are neither read nor sent. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"
#include "ctl_migrate.h"

/* Messages whose metadata one msg_fetch reads: a backend that scans a
 * folder per call (storage_maildir) scans once per batch, not once per
 * message, and memory stays bounded (keywords included). */
#define DUMP_BATCH 256

/* A message's metadata, copied out of msg_fetch's callback. */
struct meta {
	struct ps_msg m;
	char *kw; /* its keywords, NUL-separated */
};

struct dump {
	struct ctl *c;
	FILE *out;
	struct ps_error err;
	int write_errno;  /* writing failed */
	/* The mailbox being dumped. */
	struct ps_mbox *mb;
	uint32_t *uids;
	size_t n, cap;
	struct meta batch[DUMP_BATCH];
	size_t nbatch;
	struct ps_uid_range set[DUMP_BATCH];
	unsigned char buf[CTL_MREC_DATA_MAX];
};

struct names {
	char **v;
	size_t n, cap;
	unsigned *attrs; /* mailboxes only */
	size_t attrs_cap;
};

static void
names_free(struct names *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	free(l->attrs);
}

static int
names_add(struct names *l, const char *name, unsigned attrs)
{
	char **v = ctl_grow(l->v, &l->cap, l->n, sizeof(*v));
	unsigned *a;

	if (!v)
		return PS_ENOMEM;
	l->v = v;
	if (!(a = ctl_grow(l->attrs, &l->attrs_cap, l->n, sizeof(*a))))
		return PS_ENOMEM;
	l->attrs = a;
	if (!(l->v[l->n] = strdup(name)))
		return PS_ENOMEM;
	l->attrs[l->n++] = attrs;
	return 0;
}

static int
add_user(const char *name, void *arg)
{
	return names_add(arg, name, 0);
}

static int
add_mailbox(const struct ps_mailbox_info *mb, void *arg)
{
	return names_add(arg, mb->name, mb->attrs);
}

/* Sorting by bytes puts a parent ("a") before its children ("a/b"). */
static void
names_sort(struct names *l)
{
	for (size_t i = 1; i < l->n; i++)
		for (size_t k = i; k > 0 && strcmp(l->v[k - 1], l->v[k]) > 0;
		     k--) {
			char *t = l->v[k];
			unsigned a = l->attrs[k];

			l->v[k] = l->v[k - 1];
			l->attrs[k] = l->attrs[k - 1];
			l->v[k - 1] = t;
			l->attrs[k - 1] = a;
		}
}

static int
write_failed(struct dump *d)
{
	d->write_errno = errno ? errno : EIO;
	return PS_EIO;
}

static int
add_uid(const struct ps_msg *m, void *arg)
{
	struct dump *d = arg;
	uint32_t *v = ctl_grow(d->uids, &d->cap, d->n, sizeof(*v));

	if (!v)
		return PS_ENOMEM;
	d->uids = v;
	d->uids[d->n++] = m->uid;
	return 0;
}

static int
keep_meta(const struct ps_msg *m, void *arg)
{
	struct dump *d = arg;
	struct meta *x;
	size_t len = 1;
	char *o;

	if (d->nbatch == DUMP_BATCH || m->nkeywords > CTL_MREC_KEYWORDS_MAX)
		return PS_EINVAL; /* a backend that broke its contract */
	x = &d->batch[d->nbatch];
	for (size_t i = 0; i < m->nkeywords; i++)
		len += strlen(m->keywords[i]) + 1;
	if (!(x->kw = o = malloc(len)))
		return PS_ENOMEM;
	for (size_t i = 0; i < m->nkeywords; i++)
		o = stpcpy(o, m->keywords[i]) + 1;
	x->m = *m;
	x->m.keywords = NULL;
	x->m.cache = NULL;
	x->m.cache_len = 0;
	d->nbatch++;
	return 0;
}

/* One message: its record, its bytes, its end. */
static int
dump_message(struct dump *d, const struct meta *x)
{
	const char *kw[CTL_MREC_KEYWORDS_MAX];
	struct ps_msg m = x->m;
	const char *p = x->kw;
	uint64_t off = 0;
	size_t got;
	int r;

	for (size_t i = 0; i < m.nkeywords; i++, p += strlen(p) + 1)
		kw[i] = p;
	m.keywords = kw;
	if (ctl_mrec_put_msg(d->out, &m) < 0)
		return write_failed(d);
	while (off < m.size) {
		size_t want = m.size - off < sizeof(d->buf)
			? (size_t)(m.size - off) : sizeof(d->buf);

		r = d->c->store.msg_read(d->mb, m.uid, off, d->buf, want, &got,
					 &d->err);
		if (r < 0)
			return r;
		if (got == 0) {
			snprintf(d->err.msg, sizeof(d->err.msg), "message UID "
				 "%u is shorter than its size %llu", m.uid,
				 (unsigned long long)m.size);
			return PS_EIO;
		}
		if (ctl_mrec_put_data(d->out, d->buf, got) < 0)
			return write_failed(d);
		off += got;
	}
	return ctl_mrec_put_empty(d->out, CTL_MREC_MSG_END) < 0
		? write_failed(d) : 0;
}

/* The messages of uids[0..n): their metadata in one fetch (one expunged
 * since the UIDs were read is left out), then each in turn. */
static int
dump_batch(struct dump *d, const uint32_t *uids, size_t n)
{
	size_t nset = 0;
	int r;

	for (size_t i = 0; i < n; i++) {
		struct ps_uid_range one = {uids[i], uids[i]};

		if (nset && d->set[nset - 1].last + 1 == uids[i])
			d->set[nset - 1].last = uids[i];
		else
			d->set[nset++] = one;
	}
	d->nbatch = 0;
	r = d->c->store.msg_fetch(d->mb, d->set, nset, keep_meta, d, &d->err);
	for (size_t i = 0; r == 0 && i < d->nbatch; i++)
		r = dump_message(d, &d->batch[i]);
	for (size_t i = 0; i < d->nbatch; i++)
		free(d->batch[i].kw);
	d->nbatch = 0;
	return r;
}

/* With --replies: the lowest UID the target still needs. */
static int
read_reply(struct dump *d, uint32_t *from_r)
{
	unsigned char b[4];
	size_t got = 0;

	*from_r = 1;
	if (!d->c->replies)
		return 0;
	if (fflush(d->out) != 0)
		return write_failed(d);
	while (got < sizeof(b)) {
		ssize_t n = read(STDIN_FILENO, b + got, sizeof(b) - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(d->err.msg, sizeof(d->err.msg), "the target "
				 "stopped answering%s%s", n ? ": " : "",
				 n ? strerror(errno) : "");
			return PS_EIO;
		}
		got += (size_t)n;
	}
	*from_r = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
		  (uint32_t)b[2] << 8 | b[3];
	return 0;
}

/* A mailbox's record, then (when it holds messages) its messages as
 * the open found them: one delivered since has a UID past the UIDNEXT
 * the record gave, and waits for the next run. */
static int
dump_mailbox(struct dump *d, struct ps_store_user *u, const char *name,
	     unsigned attrs)
{
	const struct ps_storage_ops *s = &d->c->store;
	struct ps_mailbox_status st;
	uint32_t first_recent, from;
	size_t skip = 0;
	int r;

	if (attrs & (PS_MBOX_NOSELECT | PS_MBOX_NONEXISTENT))
		return ctl_mrec_put_mailbox(d->out, name, attrs, 0, 0, 0) < 0
			? write_failed(d) : 0;
	r = s->mailbox_open(u, name, PS_OPEN_READONLY, &d->mb, &st,
			    &first_recent, &d->err);
	if (r < 0)
		return r;
	d->n = 0;
	r = s->msg_fetch(d->mb, NULL, 0, add_uid, d, &d->err);
	if (r == 0 && ctl_mrec_put_mailbox(d->out, name, attrs, st.uidvalidity,
					   st.uidnext, st.messages) < 0)
		r = write_failed(d);
	while (d->n && d->uids[d->n - 1] >= st.uidnext)
		d->n--;
	if (r == 0)
		r = read_reply(d, &from);
	for (; r == 0 && skip < d->n && d->uids[skip] < from; skip++)
		if (ctl_mrec_put_skipped(d->out, d->uids[skip]) < 0)
			r = write_failed(d);
	for (size_t i = skip; r == 0 && i < d->n; i += DUMP_BATCH)
		r = dump_batch(d, d->uids + i, d->n - i < DUMP_BATCH
			       ? d->n - i : DUMP_BATCH);
	s->mailbox_close(d->mb);
	d->mb = NULL;
	return r;
}

/* The list first, the mailboxes after: a backend need not allow calls
 * on the user while its list runs. */
static int
dump_user(struct dump *d, const char *address)
{
	const struct ps_storage_ops *s = &d->c->store;
	char name[PS_AUTH_NAME_MAX + 1];
	struct names l = {0};
	struct ps_store_user *u;
	int r;

	if (ctl_open_user(d->c, address, name, &u) != CTL_OK)
		return CTL_FAIL;
	r = s->mailbox_list(u, add_mailbox, &l, &d->err);
	if (r == 0 && ctl_mrec_put_user(d->out, name) < 0)
		r = write_failed(d);
	names_sort(&l);
	for (size_t i = 0; r == 0 && i < l.n; i++)
		r = dump_mailbox(d, u, l.v[i], l.attrs[i]);
	if (r == 0 && ctl_mrec_put_empty(d->out, CTL_MREC_USER_END) < 0)
		r = write_failed(d);
	s->user_close(u);
	names_free(&l);
	if (d->write_errno)
		return ctl_fail("migrate source: writing to the target: %s",
				strerror(d->write_errno));
	if (r < 0)
		return ctl_fail("migrate source: %s: %s", name, d->err.msg[0]
				? d->err.msg : "out of memory");
	return CTL_OK;
}

/* Every user named must be known before anything is written: a
 * mistyped name stops the migration, not the copy half-way. */
static int
check_users(struct ctl *c)
{
	struct ps_error err = {""};
	struct ps_auth_user au;

	if (CTL_LACKS(c->auth, lookup) || CTL_LACKS(c->store, mailbox_list) ||
	    CTL_LACKS(c->store, mailbox_open) ||
	    CTL_LACKS(c->store, msg_fetch) || CTL_LACKS(c->store, msg_read))
		return CTL_FAIL;
	for (int i = 0; i < c->nargs; i++)
		if (c->auth.lookup(c->args[i], &au, &err) < 0)
			return ctl_fail("migrate source: %s: %s", c->args[i],
					err.msg);
	return CTL_OK;
}

int
ctl_migrate_dump(struct ctl *c)
{
	struct dump *d = calloc(1, sizeof(*d));
	struct names users = {0};
	struct ps_error err = {""};
	int code = d ? check_users(c) : ctl_fail("out of memory");

	for (int i = 0; code == CTL_OK && i < c->nargs; i++)
		if (names_add(&users, c->args[i], 0) < 0)
			code = ctl_fail("out of memory");
	if (code == CTL_OK && c->nargs == 0 &&
	    !CTL_LACKS(c->auth, user_list) &&
	    c->auth.user_list(NULL, add_user, &users, &err) < 0)
		code = ctl_fail("migrate source: %s", err.msg[0] ? err.msg
				: "out of memory");
	if (code == CTL_OK && c->nargs == 0 && !c->auth.user_list)
		code = CTL_FAIL;
	if (code == CTL_OK) {
		d->c = c;
		d->out = stdout;
		if (ctl_mrec_put_hello(d->out) < 0)
			code = ctl_fail("migrate source: %s", strerror(errno));
	}
	for (size_t i = 0; code == CTL_OK && i < users.n; i++)
		code = dump_user(d, users.v[i]);
	if (code == CTL_OK && (ctl_mrec_put_empty(d->out, CTL_MREC_END) < 0 ||
			       fflush(d->out) != 0))
		code = ctl_fail("migrate source: writing to the target: %s",
				strerror(errno));
	names_free(&users);
	if (d)
		free(d->uids);
	free(d);
	return code;
}
