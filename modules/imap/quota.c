/* QUOTA (RFC 9208): GETQUOTAROOT (4.1.2), GETQUOTA (4.1.1) and SETQUOTA
 * (4.1.3). A user has at most one quota root, "", over all of its
 * mailboxes: the limit the auth backend holds (s->quota, in octets; 0
 * is none, and then no mailbox has a root). It is the STORAGE resource,
 * in units of 1024 octets (5.1), its usage the store's. No MESSAGE limit
 * exists, so no QUOTA response lists one. Users cannot set their own
 * quota: SETQUOTA is NO [NOPERM], and QUOTASET is not advertised. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imapd.h"

struct quota {
	char name[IMAP_NAME_MAX + 1]; /* GETQUOTAROOT's mailbox */
};

static uint64_t
kib(uint64_t bytes)
{
	return bytes / 1024 + (bytes % 1024 != 0);
}

/* 4.2.1: * QUOTA "" (STORAGE usage limit). Rounded up both, so usage
 * under the limit never shows past it. */
static int
quota_line(struct imap_job *j)
{
	uint64_t bytes, messages;
	int r = imap_cfg.store.quota_get(j->s->store, &bytes, &messages,
					 &j->err);

	if (r < 0)
		return r;
	imap_buf_adds(&j->out, "* QUOTA \"\" (STORAGE ");
	imap_buf_addu64(&j->out, kib(bytes));
	imap_buf_addc(&j->out, ' ');
	imap_buf_addu64(&j->out, kib(j->s->quota));
	imap_buf_adds(&j->out, ")\r\n");
	return 0;
}

static void
quota_done(struct imap_job *j)
{
	imap_job_status(j);
	free(j->arg);
}

static int
quota_start(struct imap_session *s, void (*work)(struct imap_job *j),
	    struct quota *q)
{
	struct imap_job *j = imap_job_new(s, work, quota_done, q);

	if (!j || imap_job_start(s, j) < 0) {
		imap_job_free(j);
		free(q);
		return imap_no(s, "UNAVAILABLE", "Out of memory");
	}
	return 0;
}

/* 4.2.2: * QUOTAROOT mailbox [""], then the root's QUOTA. The mailbox
 * must exist; a \Noselect one does. */
static void
quotaroot_work(struct imap_job *j)
{
	struct quota *q = j->arg;
	struct ps_mailbox_status st;
	int r = imap_cfg.store.mailbox_status(j->s->store, q->name, &st,
					      &j->err);

	if (r == PS_STORE_ENOSELECT)
		r = 0;
	if (r < 0) {
		j->result = r;
		return;
	}
	imap_buf_adds(&j->out, "* QUOTAROOT ");
	imap_name_out(j->s, q->name, &j->out);
	if (j->s->quota)
		imap_buf_adds(&j->out, " \"\"");
	imap_buf_adds(&j->out, "\r\n");
	if (j->s->quota)
		j->result = quota_line(j);
}

int
imap_cmd_getquotaroot(struct imap_session *s)
{
	struct quota *q;

	if (s->nargs != 1)
		return imap_bad(s, "GETQUOTAROOT takes a mailbox name");
	if (!(q = calloc(1, sizeof(*q))))
		return imap_no(s, "UNAVAILABLE", "Out of memory");
	if (imap_name_in(s, &s->args[0], q->name, sizeof(q->name)) < 0) {
		free(q);
		return 0;
	}
	return quota_start(s, quotaroot_work, q);
}

static void
getquota_work(struct imap_job *j)
{
	j->result = quota_line(j);
}

int
imap_cmd_getquota(struct imap_session *s)
{
	const char *root;
	size_t len;

	if (s->nargs != 1 ||
	    imap_arg_get_astring(&s->args[0], &root, &len) < 0)
		return imap_bad(s, "GETQUOTA takes a quota root");
	if (len != 0 || !s->quota)
		return imap_no(s, "NONEXISTENT", "No such quota root");
	return quota_start(s, getquota_work, NULL);
}

/* 4.1.3: SETQUOTA root (resource limit ...): checked, then refused. */
int
imap_cmd_setquota(struct imap_session *s)
{
	const struct imap_arg *list;
	const char *w;
	size_t n, len;
	uint64_t limit;

	if (s->nargs != 2 ||
	    imap_arg_get_astring(&s->args[0], &w, &len) < 0 ||
	    imap_arg_get_list(&s->args[1], &list, &n) < 0 || n % 2)
		return imap_bad(s, "SETQUOTA takes a root and a list of "
				"resource limits");
	for (size_t i = 0; i < n; i += 2)
		if (imap_arg_get_atom(&list[i], &w) < 0 ||
		    imap_arg_get_number64(&list[i + 1], &limit) < 0)
			return imap_bad(s, "Invalid resource limit");
	return imap_no(s, "NOPERM", "Quotas are set by the administrator");
}
