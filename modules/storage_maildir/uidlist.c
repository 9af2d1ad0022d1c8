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

int
md_uidlist_add(struct md_uidlist *l, uint32_t uid, const char *base,
	       size_t len)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct md_uid_entry *v = realloc(l->v, cap * sizeof(*v));

		if (!v)
			return PS_ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n].base = strndup(base, len);
	if (!l->v[l->n].base)
		return PS_ENOMEM;
	l->v[l->n++].uid = uid;
	return 0;
}

/* One "UID [extensions] :filename" line; others are skipped. */
static int
md_uidlist_line(struct md_uidlist *l, char *line)
{
	char *end, *name = strstr(line, " :");
	unsigned long uid = strtoul(line, &end, 10);

	if (!name || end == line || uid == 0 || uid >= l->h.nextuid)
		return 0;
	name += 2;
	return md_uidlist_add(l, (uint32_t)uid, name, md_base_len(name));
}

/* The whole list of dir; entries stay in file order (ascending UIDs). */
int
md_uidlist_load(const char *dir, struct md_uidlist *l, struct ps_error *err)
{
	char path[MD_PATH_MAX], *text, *line, *save = NULL;
	size_t len;
	int r;

	memset(l, 0, sizeof(*l));
	r = md_uidlist_read_hdr(dir, &l->h, err);
	md_path(path, dir, MD_UIDLIST);
	if (r == 0)
		r = md_read_small(path, &text, &len, err);
	if (r < 0)
		return r;
	line = strtok_r(text, "\n", &save);
	while (r == 0 && (line = strtok_r(NULL, "\n", &save)))
		r = md_uidlist_line(l, line);
	free(text);
	if (r < 0) {
		md_uidlist_free(l);
		return md_err(err, r, "out of memory");
	}
	return 0;
}

int
md_uidlist_save(const char *dir, const struct md_uidlist *l,
		struct ps_error *err)
{
	char path[MD_PATH_MAX], *text, *o;
	size_t cap = 128;
	int r;

	for (size_t i = 0; i < l->n; i++)
		cap += strlen(l->v[i].base) + 16;
	text = malloc(cap);
	if (!text)
		return md_err(err, PS_ENOMEM, "out of memory");
	o = text + sprintf(text, "3 V%u N%u G%s\n", l->h.uidvalidity,
			   l->h.nextuid, l->h.guid);
	for (size_t i = 0; i < l->n; i++)
		o += sprintf(o, "%u :%s\n", l->v[i].uid, l->v[i].base);
	md_path(path, dir, MD_UIDLIST);
	r = md_write_atomic(path, text, (size_t)(o - text), err);
	free(text);
	return r;
}

void
md_uidlist_free(struct md_uidlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].base);
	free(l->v);
	memset(l, 0, sizeof(*l));
}
