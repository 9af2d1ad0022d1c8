/* The storage calls storage_maildir does not implement yet (issue #8,
 * steps 2-4): each refuses with PS_ESTATE and says so, so a protocol
 * gets an error it reports instead of calling a NULL method. This file
 * goes away as the calls land in files of their own. */
#include "storage_maildir.h"

#define MD_PENDING(err) \
	md_err(err, PS_ESTATE, "storage_maildir: %s is not implemented yet", \
	       __func__)

/* The cache is an optimisation the protocols rebuild when it is
 * missing ("0: none yet"), so dropping it is allowed. */
static int
md_msg_set_cache(struct ps_mbox *mb, uint32_t uid, const void *cache,
		 size_t len, struct ps_error *err)
{
	(void)mb, (void)uid, (void)cache, (void)len, (void)err;
	return 0;
}

static int
md_changes_since(struct ps_mbox *mb, uint64_t modseq,
		 ps_store_msg_fn changed, ps_store_uid_fn expunged, void *arg,
		 struct ps_error *err)
{
	(void)mb, (void)modseq, (void)changed, (void)expunged, (void)arg;
	return MD_PENDING(err);
}

/* Every method a protocol may call is set: none is left NULL. */
void
md_pending_fill(struct ps_storage_ops *ops)
{
	ops->msg_set_cache = md_msg_set_cache;
	ops->changes_since = md_changes_since;
}
