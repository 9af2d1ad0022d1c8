/* STATUS (RFC 3501 6.3.10): a read-only open of the folder, which scans
 * it and its index as SELECT does, without claiming \Recent. */
#include "storage_maildir.h"

int
md_mailbox_status(struct ps_store_user *u, const char *name,
		  struct ps_mailbox_status *st_r, struct ps_error *err)
{
	struct ps_mbox *mb;
	uint32_t first;
	int r = md_mailbox_open(u, name, PS_OPEN_READONLY, &mb, st_r, &first,
				err);

	if (r == 0)
		md_mailbox_close(mb);
	return r;
}
