/* poshtactl migrate-load (hidden; run by migrate with the target's
 * configuration): reads the record stream of ctl_migrate.h on standard
 * input and recreates each user's mailboxes (hierarchy, subscriptions,
 * special use) and messages (flags, keywords, internal date and zone,
 * bytes as they were) in the target store.
 *
 * UIDs: where the target has both optional ops of SDK 1.6, a mailbox
 * that never held a message takes the source's UIDVALIDITY and each
 * message its source UID (RFC 3501 2.3.1.1: clients' caches stay
 * valid), and a run that finds the mailbox copied so by an earlier run
 * (same UIDVALIDITY, and its progress file says so) skips the messages
 * below the target's UIDNEXT. Elsewhere messages get new UIDs and the
 * progress file under the state directory, which remembers the last
 * source UID committed, is what a later run resumes from
 * (ctl_migrate_progress.c).
 * Appends commit every CTL_MIGRATE_BATCH messages, so an interruption
 * loses at most one uncommitted batch, which the next run copies. With
 * --replies the source learns, per mailbox, from which UID on messages
 * are needed, and sends the others as 'S' records without reading them. */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"
#include "ctl_migrate.h"

#define CTL_MIGRATE_BATCH 100 /* messages per append transaction */

enum uid_mode {
	UIDS_KEPT,     /* the source's UIDVALIDITY and UIDs */
	UIDS_PROGRESS, /* new UIDs; a progress file for resuming */
};

struct load {
	struct ctl *c;
	struct ctl_mrec_reader r;
	struct ps_error err;
	int failed;                 /* some user failed */
	/* The user. */
	struct ps_store_user *u;
	char user[PS_AUTH_NAME_MAX + 1];
	int skip_user;              /* unknown or failed: its records pass */
	unsigned long mailboxes, copied, skipped;
	char **noselect;            /* the source's \Noselect names */
	size_t nnoselect, noselect_cap;
	/* The mailbox. */
	char mailbox[CTL_MREC_NAME_MAX + 1];
	uint32_t uidvalidity;       /* the source's */
	enum uid_mode mode;
	uint32_t resume;            /* messages with a lower UID are there */
	int undecided;              /* same UIDVALIDITY, no progress file */
	uint32_t target_uidnext;    /* the target mailbox's, then */
	uint32_t progress;          /* the last UID a copy with new UIDs
				     * committed, from its progress file */
	struct ps_store_append *a;  /* the open batch, or NULL */
	unsigned batch;             /* messages in it */
	uint32_t batch_last;        /* the source UID of its last message */
	/* The message. */
	int skip_msg;
	uint32_t uid;
};

static ssize_t
read_stdin(void *src, void *buf, size_t len)
{
	(void)src;
	return read(STDIN_FILENO, buf, len);
}

/* A storage failure ends this user's migration: say why, and let the
 * rest of its records pass. */
static int
user_failed(struct load *l, const char *what)
{
	ctl_fail("%s: %s%s%s", l->user, what, l->err.msg[0] ? ": " : "",
		 l->err.msg);
	if (l->a)
		l->c->store.append_abort(l->a);
	l->a = NULL;
	l->batch = 0;
	l->skip_user = 1;
	l->failed = 1;
	return 0;
}

static int
commit(struct load *l)
{
	const struct ps_storage_ops *s = &l->c->store;
	int r;

	if (!l->a)
		return 0;
	r = s->append_commit(l->a, NULL, NULL, &l->err);
	l->a = NULL;
	if (r < 0)
		return user_failed(l, l->mailbox);
	l->copied += l->batch;
	l->batch = 0;
	if (ctl_migrate_progress_save(l->c->state_dir, l->user, l->mailbox,
				      l->uidvalidity, l->mode == UIDS_KEPT
				      ? CTL_MIGRATE_KEPT : CTL_MIGRATE_NEW,
				      l->batch_last, &l->err) < 0)
		return user_failed(l, "progress file");
	return 0;
}

/* The messages get new UIDs; the progress file says where to go on. */
static int
new_uids(struct load *l, int ops)
{
	printf("%s: %s: new UIDs (%s)\n", l->user, l->mailbox, ops
	       ? "the target mailbox held other mail"
	       : "the target backend cannot set them");
	l->mode = UIDS_PROGRESS;
	l->resume = l->progress + 1;
	return 0;
}

struct probe {
	int found;
	uint64_t size;
	int64_t date;
};

static int
probe_msg(const struct ps_msg *m, void *arg)
{
	struct probe *p = arg;

	p->found = 1;
	p->size = m->size;
	p->date = m->internal_date;
	return 0;
}

/* A target mailbox with the source's UIDVALIDITY and no progress file:
 * a copy made elsewhere (or the source itself, named twice) when the
 * target holds the first message's UID with its size and date, which a
 * mailbox that got that UIDVALIDITY by chance hardly does. Then the
 * messages below its UIDNEXT are there; else they get new UIDs. */
static int
decide(struct load *l, const struct ctl_mrec *rec)
{
	const struct ps_storage_ops *s = &l->c->store;
	struct ps_uid_range one = {rec->uid, rec->uid};
	struct ps_mailbox_status st;
	struct probe p = {0};
	struct ps_mbox *mb;
	uint32_t first_recent;
	int r;

	l->undecided = 0;
	if (rec->uid >= l->target_uidnext)
		return 0; /* past the target's messages: nothing to skip */
	r = s->mailbox_open(l->u, l->mailbox, PS_OPEN_READONLY, &mb, &st,
			    &first_recent, &l->err);
	if (r < 0)
		return r;
	r = s->msg_fetch(mb, &one, 1, probe_msg, &p, &l->err);
	s->mailbox_close(mb);
	if (r < 0 || (p.found && p.size == rec->size && p.date == rec->date))
		return r;
	return new_uids(l, 1);
}

/* How this mailbox gets its UIDs, and where an earlier run stopped. The
 * same UIDVALIDITY alone does not make a copy: two stores that made a
 * mailbox in the same second may well give the same one. */
static int
choose_mode(struct load *l, const struct ctl_mrec *rec)
{
	const struct ps_storage_ops *s = &l->c->store;
	int ops = s->mailbox_set_uidvalidity && s->append_msg_uid;
	struct ps_mailbox_status st;
	uint32_t done;
	char mode;

	if (s->mailbox_status(l->u, rec->name, &st, &l->err) < 0 ||
	    ctl_migrate_progress_load(l->c->state_dir, l->user, rec->name,
				      rec->uidvalidity, &mode, &done,
				      &l->err) < 0)
		return PS_EFAIL;
	if (ops && st.uidnext == 1) {
		l->mode = UIDS_KEPT;
		l->resume = 1;
		return s->mailbox_set_uidvalidity(l->u, rec->name,
						  rec->uidvalidity, &l->err);
	}
	l->progress = mode == CTL_MIGRATE_NEW ? done : 0;
	if (ops && st.uidvalidity == rec->uidvalidity &&
	    mode != CTL_MIGRATE_NEW) {
		l->mode = UIDS_KEPT;
		l->resume = st.uidnext;
		/* Without a progress file, the first message tells. */
		l->undecided = mode != CTL_MIGRATE_KEPT;
		l->target_uidnext = st.uidnext;
		return 0;
	}
	return new_uids(l, ops);
}

/* Remember a \Noselect name: creating its children made it a mailbox
 * that can hold messages, which the user's end undoes. */
static int
note_noselect(struct load *l, const char *name)
{
	char **v = ctl_grow(l->noselect, &l->noselect_cap, l->nnoselect,
			    sizeof(*v));

	if (!v) {
		snprintf(l->err.msg, sizeof(l->err.msg), "out of memory");
		return PS_ENOMEM;
	}
	l->noselect = v;
	/* A leading byte for keep_parents' mark: NUL until marked. */
	if (!(v[l->nnoselect] = malloc(strlen(name) + 2))) {
		snprintf(l->err.msg, sizeof(l->err.msg), "out of memory");
		return PS_ENOMEM;
	}
	v[l->nnoselect][0] = '\0';
	strcpy(v[l->nnoselect] + 1, name);
	l->nnoselect++;
	return 0;
}

/* Which noted names are mailboxes with children in the target (those
 * still to make \Noselect): their entries stay, the others go. */
static int
keep_parents(const struct ps_mailbox_info *mb, void *arg)
{
	struct load *l = arg;

	for (size_t i = 0; i < l->nnoselect; i++)
		if (!l->noselect[i][0] &&
		    strcmp(mb->name, l->noselect[i] + 1) == 0 &&
		    !(mb->attrs & (PS_MBOX_NOSELECT | PS_MBOX_NONEXISTENT)) &&
		    mb->attrs & PS_MBOX_HASCHILDREN)
			l->noselect[i][0] = '\1'; /* marked: a parent */
	return 0;
}

/* Deleting a mailbox that has children leaves it \Noselect (RFC 3501
 * 6.3.4), as the source had it. Only an empty one with children: one
 * without would be gone, and one holding messages is the user's. */
static void
make_noselect(struct load *l)
{
	const struct ps_storage_ops *s = &l->c->store;
	struct ps_mailbox_status st;
	char *name;

	if (!l->skip_user && l->nnoselect &&
	    s->mailbox_list(l->u, keep_parents, l, &l->err) < 0)
		user_failed(l, "listing its mailboxes");
	for (size_t i = 0; i < l->nnoselect; i++) {
		name = l->noselect[i];
		if (!l->skip_user && name[0] == '\1' &&
		    s->mailbox_status(l->u, name + 1, &st, &l->err) == 0 &&
		    st.messages == 0 &&
		    s->mailbox_delete(l->u, name + 1, &l->err) < 0)
			user_failed(l, name + 1);
		free(name);
	}
	l->nnoselect = 0;
}

/* Create it (with its special use) unless there; subscribe it as the
 * source had it. A \Noselect parent comes with its children. */
static int
begin_mailbox(struct load *l, const struct ctl_mrec *rec)
{
	const struct ps_storage_ops *s = &l->c->store;
	int holds = !(rec->attrs & (PS_MBOX_NOSELECT | PS_MBOX_NONEXISTENT));
	int r = 0;

	snprintf(l->mailbox, sizeof(l->mailbox), "%s", rec->name);
	l->uidvalidity = rec->uidvalidity;
	l->undecided = 0;
	l->mailboxes++;
	if (holds) {
		r = s->mailbox_create(l->u, rec->name,
				      rec->attrs & PS_MBOX_SPECIAL_USE,
				      &l->err);
		if (r == PS_STORE_EEXIST)
			r = 0;
	}
	if (rec->attrs & PS_MBOX_NOSELECT)
		r = note_noselect(l, rec->name);
	if (r == 0 && rec->attrs & PS_MBOX_SUBSCRIBED)
		r = s->mailbox_subscribe(l->u, rec->name, 1, &l->err);
	if (r == 0 && holds)
		r = choose_mode(l, rec);
	return r < 0 ? user_failed(l, rec->name) : 0;
}

static int
begin_user(struct load *l, const struct ctl_mrec *rec)
{
	struct ps_auth_user au;

	/* The reader allows PS_AUTH_NAME_MAX bytes in a user record. */
	memcpy(l->user, rec->name, strnlen(rec->name, PS_AUTH_NAME_MAX));
	l->user[strnlen(rec->name, PS_AUTH_NAME_MAX)] = '\0';
	l->mailboxes = l->copied = l->skipped = 0;
	l->skip_user = 0;
	l->err.msg[0] = '\0';
	if (l->c->auth.lookup(rec->name, &au, &l->err) < 0) {
		l->err.msg[0] = '\0';
		return user_failed(l, "not known to the target's auth backend"
				   " (add the user there first)");
	}
	snprintf(l->user, sizeof(l->user), "%s", au.name);
	if (l->c->store.user_open(au.name, au.quota_bytes, &l->u, &l->err) < 0)
		return user_failed(l, "cannot open its store");
	return 0;
}

static void
end_user(struct load *l)
{
	if (!l->skip_user)
		commit(l);
	make_noselect(l);
	if (!l->skip_user)
		printf("%s: %lu mailboxes, %lu messages copied, %lu already "
		       "there\n", l->user, l->mailboxes, l->copied,
		       l->skipped);
	if (l->u)
		l->c->store.user_close(l->u);
	l->u = NULL;
}

static int
begin_message(struct load *l, const struct ctl_mrec *rec)
{
	const struct ps_storage_ops *s = &l->c->store;
	int r = 0;

	if (l->undecided && decide(l, rec) < 0)
		return user_failed(l, l->mailbox);
	l->uid = rec->uid;
	l->skip_msg = rec->uid < l->resume;
	if (l->skip_msg) {
		l->skipped++;
		return 0;
	}
	if (!l->a)
		r = s->append_begin(l->u, l->mailbox, &l->a, &l->err);
	if (r < 0)
		l->a = NULL;
	if (r == 0)
		r = s->append_msg_begin(l->a, rec->flags, rec->keywords,
					rec->nkeywords, rec->date, rec->tz,
					&l->err);
	if (r == 0 && l->mode == UIDS_KEPT)
		r = s->append_msg_uid(l->a, rec->uid, &l->err);
	return r < 0 ? user_failed(l, l->mailbox) : 0;
}

static int
end_message(struct load *l)
{
	if (l->c->store.append_msg_end(l->a, NULL, 0, &l->err) < 0)
		return user_failed(l, l->mailbox);
	l->batch_last = l->uid;
	return ++l->batch == CTL_MIGRATE_BATCH ? commit(l) : 0;
}

/* --replies: the lowest UID this mailbox still needs from the source;
 * none for a user that failed, all while the first message has to tell
 * whether the mailbox is a copy (decide). A source that is gone cannot
 * read it: the stream's end says so. */
static void
reply(struct load *l)
{
	uint32_t v = l->skip_user ? UINT32_MAX : l->undecided ? 1 : l->resume;
	unsigned char b[4] = {(unsigned char)(v >> 24),
			      (unsigned char)(v >> 16),
			      (unsigned char)(v >> 8), (unsigned char)v};
	size_t done = 0;

	while (l->c->replies && done < sizeof(b)) {
		ssize_t n = write(CTL_MIGRATE_REPLY_FD, b + done,
				  sizeof(b) - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		done += (size_t)n;
	}
}

/* A message the source left out, as asked: it is there. */
static int
skipped(struct load *l, const struct ctl_mrec *rec)
{
	if (l->undecided || rec->uid >= l->resume) {
		snprintf(l->err.msg, sizeof(l->err.msg), "the source left out "
			 "UID %u, which the target lacks", rec->uid);
		return user_failed(l, l->mailbox);
	}
	l->skipped++;
	return 0;
}

static int
mailbox(struct load *l, const struct ctl_mrec *rec)
{
	if (!l->skip_user)
		commit(l);
	if (!l->skip_user)
		begin_mailbox(l, rec);
	if (!(rec->attrs & (PS_MBOX_NOSELECT | PS_MBOX_NONEXISTENT)))
		reply(l);
	return 0;
}

static int
record(struct load *l, const struct ctl_mrec *rec)
{
	switch (rec->type) {
	case CTL_MREC_USER:
		return begin_user(l, rec);
	case CTL_MREC_USER_END:
		end_user(l);
		return 0;
	case CTL_MREC_MAILBOX:
		return mailbox(l, rec);
	default:
		break;
	}
	if (l->skip_user)
		return 0;
	switch (rec->type) {
	case CTL_MREC_SKIPPED:
		return skipped(l, rec);
	case CTL_MREC_MSG:
		return begin_message(l, rec);
	case CTL_MREC_DATA:
		if (!l->skip_msg && l->c->store.append_data(l->a, rec->data,
							    rec->len,
							    &l->err) < 0)
			return user_failed(l, l->mailbox);
		return 0;
	case CTL_MREC_MSG_END:
		return l->skip_msg ? 0 : end_message(l);
	default:
		return 0;
	}
}

int
ctl_migrate_load(struct ctl *c)
{
	struct load *l = calloc(1, sizeof(*l));
	struct ctl_mrec *rec = calloc(1, sizeof(*rec));
	int k = 0, code = CTL_OK;

	if (!l || !rec) {
		free(l);
		free(rec);
		return ctl_fail("out of memory");
	}
	if (CTL_LACKS(c->auth, lookup) || CTL_LACKS(c->store, mailbox_status) ||
	    CTL_LACKS(c->store, mailbox_create) ||
	    CTL_LACKS(c->store, mailbox_subscribe) ||
	    CTL_LACKS(c->store, mailbox_delete) ||
	    CTL_LACKS(c->store, mailbox_open) ||
	    CTL_LACKS(c->store, msg_fetch) ||
	    CTL_LACKS(c->store, append_begin)) {
		free(l);
		free(rec);
		return CTL_FAIL;
	}
	l->c = c;
	/* A source that died closed the replies' pipe: writing to it must
	 * not kill the target before it reports. */
	if (c->replies)
		signal(SIGPIPE, SIG_IGN);
	ctl_mrec_reader_init(&l->r, read_stdin, NULL);
	while ((k = ctl_mrec_next(&l->r, rec)) > 0)
		record(l, rec);
	/* A stream cut short: the open batch is not committed, so that
	 * nothing of a message the source did not send whole is kept. */
	if (k < 0) {
		code = ctl_fail("%s", l->r.err);
		if (l->a)
			c->store.append_abort(l->a);
		if (l->u)
			printf("%s: stopped: %lu mailboxes, %lu messages "
			       "copied, %lu already there\n", l->user,
			       l->mailboxes, l->copied, l->skipped);
	}
	if (l->u)
		c->store.user_close(l->u);
	for (size_t i = 0; i < l->nnoselect; i++)
		free(l->noselect[i]);
	free(l->noselect);
	if (l->failed)
		code = CTL_FAIL;
	free(l);
	free(rec);
	return code;
}
