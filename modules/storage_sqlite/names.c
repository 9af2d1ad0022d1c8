/* Names for storage_sqlite: a mailbox name's parent (its rules, RFC 3501
 * 5.1, are libpsstore's pst_name_canon) and the file of each user,
 * path/<domain>/<local>.db, encoded (pst_path_encode) so that no user
 * name reaches outside the folder or shares a file with another. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "storage_sqlite.h"

/* The length of name's parent, if it has one. */
int
ss_name_parent(const char *name, size_t *len_r)
{
	const char *d = strrchr(name, SS_DELIM);

	if (!d)
		return 0;
	*len_r = (size_t)(d - name);
	return 1;
}

static char *
ss_join(const char *a, const char *b, const char *suffix)
{
	size_t len = strlen(a) + strlen(b) + strlen(suffix) + 2;
	char *p = malloc(len);

	if (p)
		snprintf(p, len, "%s/%s%s", a, b, suffix);
	return p;
}

/* The canonical name (lower case), the domain's folder and the database
 * of user "local@domain" (split at the last '@', RFC 5321 4.1.2). */
int
ss_user_path(const char *user, char **name_r, char **dir_r, char **file_r,
	     struct ps_error *err)
{
	const char *at = user ? strrchr(user, '@') : NULL;
	char *local, *domain;

	*name_r = *dir_r = *file_r = NULL;
	if (!ss_config.path)
		return ss_err(err, PS_ESTATE, "storage_sqlite is not "
			      "configured (worker_init has not run)");
	if (!at || at == user || !at[1] || strlen(user) > PS_AUTH_NAME_MAX)
		return ss_err(err, PS_EINVAL, "a user is local@domain, at "
			      "most %d bytes", PS_AUTH_NAME_MAX);
	*name_r = strdup(user);
	local = pst_path_encode(user, (size_t)(at - user));
	domain = pst_path_encode(at + 1, strlen(at + 1));
	if (*name_r && local && domain) {
		*dir_r = ss_join(ss_config.path, domain, "");
		*file_r = *dir_r ? ss_join(*dir_r, local, ".db") : NULL;
	}
	free(local);
	free(domain);
	if (!*file_r) {
		free(*name_r);
		free(*dir_r);
		*name_r = *dir_r = NULL;
		return ss_err(err, PS_ENOMEM, "out of memory");
	}
	for (char *p = *name_r; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return 0;
}

/* Make dir and its missing parents, 0700: mail is for its owner only. */
int
ss_mkdirs(const char *dir, struct ps_error *err)
{
	char *p = strdup(dir);

	if (!p)
		return ss_err(err, PS_ENOMEM, "out of memory");
	for (char *s = strchr(p + 1, '/');; s = strchr(s + 1, '/')) {
		if (s)
			*s = '\0';
		if (mkdir(p, 0700) < 0 && errno != EEXIST) {
			ss_err(err, PS_EIO, "mkdir %s: %s", p, strerror(errno));
			free(p);
			return PS_EIO;
		}
		if (!s)
			break;
		*s = '/';
	}
	free(p);
	return 0;
}
