/* storage_maildir's part of restoring a mailbox as it was elsewhere (SDK
 * 1.6, poshtactl migrate): a folder whose UID list never gave a UID
 * (next UID 1) takes a given UIDVALIDITY, so clients' caches stay valid
 * (RFC 3501 2.3.1.1). append_msg_uid, the other half, lives with the
 * append (append.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "storage_maildir.h"

/* The user's dovecot-uidvalidity counter (the next value, hex) moves
 * past v, so a folder created later still gets a value no folder of
 * the user had. */
static int
md_uidvalidity_past(const struct ps_store_user *u, uint32_t v,
		    struct ps_error *err)
{
	char path[MD_PATH_MAX], text[16], *old;
	unsigned next = 0;
	size_t len;
	int r;

	snprintf(path, sizeof(path), "%s/dovecot-uidvalidity", u->root);
	r = md_read_small(path, &old, &len, err);
	if (r < 0)
		return r;
	if (sscanf(old, "%x", &next) != 1)
		next = 0;
	free(old);
	if (v == UINT32_MAX || next > v)
		return 0;
	snprintf(text, sizeof(text), "%08x\n", v + 1);
	return md_write_atomic(path, text, strlen(text), err);
}

/* Under the user's lock, which scans and appends take too. */
static int
md_set_uidvalidity_locked(const struct ps_store_user *u, const char *dir,
			  const char *canon, uint32_t uidvalidity,
			  struct ps_error *err)
{
	struct md_uidlist l;
	int r = md_uidlist_load(dir, &l, err);

	if (r < 0)
		return r;
	if (l.h.nextuid != 1 || l.n)
		r = md_err(err, PS_EINVAL, "mailbox %s has held messages (UID"
			   "NEXT %u): its UIDVALIDITY stays", canon,
			   l.h.nextuid);
	if (r == 0) {
		l.h.uidvalidity = uidvalidity;
		r = md_uidlist_save(dir, &l, err);
	}
	md_uidlist_free(&l);
	if (r == 0)
		r = md_uidvalidity_past(u, uidvalidity, err);
	return r;
}

int
md_mailbox_set_uidvalidity(struct ps_store_user *u, const char *name,
			   uint32_t uidvalidity, struct ps_error *err)
{
	char canon[MD_NAME_MAX + 1], dir[MD_PATH_MAX];
	struct md_lock l;
	int r;

	if (uidvalidity == 0) /* RFC 3501 9: nz-number */
		return md_err(err, PS_EINVAL, "UIDVALIDITY 0");
	r = md_folder_find(u, name, canon, dir, err);
	if (r == 0)
		r = md_lock(u, &l, err);
	if (r < 0)
		return r;
	r = md_set_uidvalidity_locked(u, dir, canon, uidvalidity, err);
	md_unlock(&l);
	if (r == 0)
		md_notify(u, canon);
	return r;
}
