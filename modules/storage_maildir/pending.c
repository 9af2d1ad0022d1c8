/* The storage calls storage_maildir does not implement yet (issue #8,
 * steps 2-4): each refuses with PS_ESTATE and says so, so a protocol
 * gets an error it reports instead of calling a NULL method. This file
 * goes away as the calls land in files of their own. */
#include "storage_maildir.h"

#define MD_PENDING(err) \
	md_err(err, PS_ESTATE, "storage_maildir: %s is not implemented yet", \
	       __func__)

static int
md_quota_get(struct ps_store_user *u, uint64_t *bytes_r,
	     uint64_t *messages_r, struct ps_error *err)
{
	(void)u;
	*bytes_r = *messages_r = 0;
	return MD_PENDING(err);
}

static int
md_mailbox_open(struct ps_store_user *u, const char *name, unsigned mode,
		struct ps_mbox **mb_r, struct ps_mailbox_status *st_r,
		uint32_t *first_recent_r, struct ps_error *err)
{
	(void)u, (void)name, (void)mode, (void)st_r, (void)first_recent_r;
	*mb_r = NULL;
	return MD_PENDING(err);
}

static void
md_mailbox_close(struct ps_mbox *mb)
{
	(void)mb;
}

static int
md_append_begin(struct ps_store_user *u, const char *mailbox,
		struct ps_store_append **a_r, struct ps_error *err)
{
	(void)u, (void)mailbox;
	*a_r = NULL;
	return MD_PENDING(err);
}

static void
md_append_abort(struct ps_store_append *a)
{
	(void)a;
}

/* Without an open mailbox or append, the calls on them are never
 * reached; those left NULL below are only callable on such handles. */
void
md_pending_fill(struct ps_storage_ops *ops)
{
	ops->quota_get = md_quota_get;
	ops->mailbox_open = md_mailbox_open;
	ops->mailbox_close = md_mailbox_close;
	ops->append_begin = md_append_begin;
	ops->append_abort = md_append_abort;
}
