/* Names for storage_maildir. Mailbox names are UTF-8 levels split by
 * '/' (RFC 3501 5.1, INBOX case-insensitive); on disk a folder is
 * Maildir++'s ".Level.Level" below the user's Maildir, each level in
 * modified UTF-7 as Dovecot writes them. '.' separates levels on disk, so
 * a name with '.' in it is refused, as Dovecot does without an escape
 * character. Users live at path/DOMAIN/LOCAL/Maildir, Dovecot's usual
 * virtual-host layout (mail_location = maildir:/var/mail/vhosts/%d/%n/
 * Maildir). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "storage_maildir.h"

/* libpsstore's rules (pst_name_canon), with no '.': Maildir++'s
 * separator on disk. out: MD_NAME_MAX + 1 bytes. */
int
md_name_canon(const char *name, char *out, struct ps_error *err)
{
	return pst_name_canon(name, out, ".", " (a Maildir++ name holds no "
			      "'.')", err);
}

int
md_name_is_inbox(const char *canon)
{
	return strcmp(canon, "INBOX") == 0;
}

/* The folder of mailbox canon: the Maildir itself for INBOX, else
 * root/.L1.L2 with each level in modified UTF-7. A folder name past
 * what the file system takes (255 bytes) is a name not allowed here. */
int
md_folder_dir(const struct ps_store_user *u, const char *canon, char *out,
	      size_t cap, struct ps_error *err)
{
	char enc[MD_PATH_MAX], *o = enc;
	const char *s = canon;

	if (md_name_is_inbox(canon)) {
		snprintf(out, cap, "%s", u->root);
		return 0;
	}
	while (*s) {
		const char *e = strchr(s, MD_DELIM);
		size_t len = e ? (size_t)(e - s) : strlen(s);

		*o++ = '.';
		if (md_mutf7_encode(s, len, o, sizeof(enc) - (size_t)(o - enc))
		    < 0)
			return md_err(err, PS_STORE_EBADNAME,
				      "mailbox name too long");
		o += strlen(o);
		s += len + (e ? 1 : 0);
	}
	if (o - enc > 255)
		md_hashed_entry(canon, enc);
	if (snprintf(out, cap, "%s/%s", u->root, enc) >= (int)cap)
		return md_err(err, PS_STORE_EBADNAME, "mailbox name too long");
	return 0;
}

/* A folder whose Maildir++ name would pass the 255 bytes a file name
 * may have (long names, deep hierarchies) is ".~poshta-HASH" instead,
 * with its full name in the file poshta-name inside it. Dovecot shows
 * such a folder as "~poshta-HASH". enc holds 256 bytes at least. */
void
md_hashed_entry(const char *canon, char *enc)
{
	uint64_t h1 = 0xcbf29ce484222325ull, h2 = 0x84222325cbf29ce4ull;

	for (const unsigned char *p = (const unsigned char *)canon; *p; p++) {
		h1 = (h1 ^ *p) * 0x100000001b3ull;
		h2 = (h2 ^ *p) * 0x1000193ull + (h2 >> 29);
	}
	sprintf(enc, "%s%016llx%016llx", MD_HASHED, (unsigned long long)h1,
		(unsigned long long)h2);
}

/* The full name a hashed folder keeps in poshta-name. */
static int
md_hashed_name(const char *root, const char *entry, char *out, size_t cap)
{
	char path[MD_PATH_MAX], dir[MD_PATH_MAX], *text, check[MD_NAME_MAX + 1];
	size_t len;

	md_path(dir, root, entry);
	md_path(path, dir, MD_NAME_FILE);
	if (md_read_small(path, &text, &len, NULL) < 0)
		return -1;
	if (len && text[len - 1] == '\n')
		text[--len] = '\0';
	if (len == 0 || len >= cap || md_name_canon(text, check, NULL) < 0) {
		free(text);
		return -1;
	}
	memcpy(out, text, len + 1);
	free(text);
	return 0;
}

/* The mailbox name of root's entry ".L1.L2" (out: MD_NAME_MAX + 1), or
 * -1 when the entry is no folder name or decodes to a bad name. */
int
md_dir_name(const char *root, const char *entry, char *out, size_t cap)
{
	char level[MD_NAME_MAX + 1], check[MD_NAME_MAX + 1];
	size_t len = 0;
	const char *s = entry;

	if (s[0] != '.' || !s[1] || strcmp(s, "..") == 0)
		return -1;
	if (strncmp(s, MD_HASHED, strlen(MD_HASHED)) == 0)
		return md_hashed_name(root, entry, out, cap);
	while (*s == '.') {
		const char *e = strchr(s + 1, '.');
		size_t n = e ? (size_t)(e - s - 1) : strlen(s + 1);

		if (md_mutf7_decode(s + 1, n, level, sizeof(level)) < 0 ||
		    len + strlen(level) + 2 > cap)
			return -1;
		len += (size_t)snprintf(out + len, cap - len, "%s%s",
					len ? "/" : "", level);
		s += n + 1;
	}
	return md_name_canon(out, check, NULL) < 0 ? -1 : 0;
}

static char *
md_printf_dup(const char *fmt, const char *a, const char *b, const char *c)
{
	int n = snprintf(NULL, 0, fmt, a, b, c);
	char *p = n >= 0 ? malloc((size_t)n + 1) : NULL;

	if (p)
		snprintf(p, (size_t)n + 1, fmt, a, b, c);
	return p;
}

/* The canonical (lower case) name, home and Maildir of "local@domain"
 * (split at the last '@', RFC 5321 4.1.2). */
int
md_user_dirs(const char *user, char **name_r, char **home_r, char **root_r,
	     struct ps_error *err)
{
	const char *at = user ? strrchr(user, '@') : NULL;
	char *local = NULL, *domain = NULL;

	*name_r = *home_r = *root_r = NULL;
	if (!md_config.path)
		return md_err(err, PS_ESTATE, "storage_maildir is not "
			      "configured (worker_init has not run)");
	if (!at || at == user || !at[1] || strlen(user) > PS_AUTH_NAME_MAX)
		return md_err(err, PS_EINVAL, "a user is local@domain, at "
			      "most %d bytes", PS_AUTH_NAME_MAX);
	*name_r = strdup(user);
	local = pst_path_encode(user, (size_t)(at - user));
	domain = pst_path_encode(at + 1, strlen(at + 1));
	if (*name_r && local && domain)
		*home_r = md_printf_dup("%s/%s/%s", md_config.path, domain,
					local);
	if (*home_r)
		*root_r = md_printf_dup("%s%s%s", *home_r, "/Maildir", "");
	free(local);
	free(domain);
	if (!*root_r) {
		free(*name_r);
		free(*home_r);
		*name_r = *home_r = NULL;
		return md_err(err, PS_ENOMEM, "out of memory");
	}
	for (char *p = *name_r; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return 0;
}

/* out (MD_NAME_MAX + 1 bytes) = prefix then rest: a name after a rename.
 * PS_STORE_EBADNAME when it would pass MD_NAME_MAX bytes. */
int
md_name_join(char *out, const char *prefix, const char *rest)
{
	int n = snprintf(out, MD_NAME_MAX + 1, "%s%s", prefix, rest);

	return n < 0 || n > MD_NAME_MAX ? PS_STORE_EBADNAME : 0;
}

/* The mailbox name of folder dir of u (out: MD_NAME_MAX + 1): INBOX for
 * the Maildir itself. */
void
md_dir_mailbox(const struct ps_store_user *u, const char *dir, char *out)
{
	const char *slash = strrchr(dir, '/');

	if (strcmp(dir, u->root) == 0 || !slash ||
	    md_dir_name(u->root, slash + 1, out, MD_NAME_MAX + 1) < 0)
		snprintf(out, MD_NAME_MAX + 1, "INBOX");
}
