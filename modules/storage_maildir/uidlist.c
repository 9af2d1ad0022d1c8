/* The UID list of a folder, Dovecot's dovecot-uidlist (version 3): a
 * header "3 V<uidvalidity> N<nextuid> G<guid>", then one line per
 * message "UID [extensions] :filename" with the file's base name (the
 * part before ":2,"). The GUID names the folder for good: an open
 * mailbox finds its folder again by it after a rename. UIDVALIDITY comes
 * from the user's dovecot-uidvalidity counter, so a name deleted and
 * created again in the same second still gets a greater one. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "storage_maildir.h"

int
md_uidlist_read_hdr(const char *dir, struct md_uidlist_hdr *h,
		    struct ps_error *err)
{
	char path[MD_PATH_MAX], line[256];
	FILE *f;
	int ok;

	memset(h, 0, sizeof(*h));
	md_path(path, dir, MD_UIDLIST);
	f = fopen(path, "re");
	if (!f)
		return md_errno(err, "open", path);
	ok = fgets(line, sizeof(line), f) &&
	     sscanf(line, "3 V%u N%u G%32[0-9a-f]", &h->uidvalidity,
		    &h->nextuid, h->guid) == 3;
	fclose(f);
	if (!ok || !h->uidvalidity || !h->nextuid)
		return md_err(err, PS_EIO, "%s: not a version 3 UID list",
			      path);
	return 0;
}

/* A new folder's list: no messages, a fresh UIDVALIDITY and GUID. */
int
md_uidlist_create(const struct ps_store_user *u, const char *dir,
		  struct ps_error *err)
{
	char path[MD_PATH_MAX], text[128], guid[33];
	uint32_t v;
	int r = md_uidvalidity_next(u, &v, err);

	if (r < 0)
		return r;
	md_random_hex(guid, 16);
	md_path(path, dir, MD_UIDLIST);
	snprintf(text, sizeof(text), "3 V%u N1 G%s\n", v, guid);
	return md_write_atomic(path, text, strlen(text), err);
}

/* The next UIDVALIDITY of the user: the time, or one more than the last
 * one given if that is later. The counter is Maildir/dovecot-uidvalidity
 * (hex), as Dovecot keeps it; the caller holds the user's lock. */
int
md_uidvalidity_next(const struct ps_store_user *u, uint32_t *v_r,
		    struct ps_error *err)
{
	char path[MD_PATH_MAX], text[16], *old;
	size_t len;
	uint32_t v = (uint32_t)time(NULL), last = 0;
	int r;

	snprintf(path, sizeof(path), "%s/dovecot-uidvalidity", u->root);
	r = md_read_small(path, &old, &len, err);
	if (r < 0)
		return r;
	if (sscanf(old, "%x", &last) == 1 && last >= v)
		v = last;
	free(old);
	if (v == 0)
		v = 1;
	*v_r = v;
	snprintf(text, sizeof(text), "%08x\n", v + 1);
	return md_write_atomic(path, text, strlen(text), err);
}
