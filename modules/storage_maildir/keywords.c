/* Keywords (RFC 3501 2.3.2) as Dovecot keeps them in a Maildir: each
 * folder's dovecot-keywords file lists "N keyword" lines ("%u %s\n", N
 * from 0 to 25, in N order), and keyword N is the letter 'a' + N in a
 * file's ":2," info, after the flags, in ASCII order (Dovecot's
 * maildir-keywords.c and maildir-filename-flags.c: MAILDIR_KEYWORD_FIRST
 * 'a', MAILDIR_MAX_KEYWORDS 26). Names match without regard to case, a
 * new keyword takes the first free letter, and lines whose N is out of
 * range or whose name is empty are skipped, as there. That gives a
 * folder 26 keywords; more live in the index (index.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "storage_maildir.h"

int
md_kw_check(const char *const *kw, size_t n, struct ps_error *err)
{
	for (size_t i = 0; i < n; i++)
		if (!pst_kw_valid(kw[i]))
			return md_err(err, PS_EINVAL, "keyword %zu is not an "
				      "IMAP atom", i);
	return 0;
}

int
md_kw_load(const char *dir, struct md_keywords *k, struct ps_error *err)
{
	char path[MD_PATH_MAX], *text, *line, *save = NULL;
	size_t len;
	int r;

	memset(k, 0, sizeof(*k));
	md_path(path, dir, "dovecot-keywords");
	r = md_read_small(path, &text, &len, err);
	if (r < 0)
		return r;
	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *sp = strchr(line, ' ');
		unsigned long i = strtoul(line, NULL, 10);

		if (!sp || i >= MD_KW_LETTERS || k->v[i] ||
		    !pst_kw_valid(sp + 1))
			continue;
		k->v[i] = strdup(sp + 1);
		if (i >= k->n)
			k->n = i + 1;
	}
	free(text);
	return 0;
}

static int
md_kw_save(const char *dir, const struct md_keywords *k,
	   struct ps_error *err)
{
	char path[MD_PATH_MAX], text[MD_KW_LETTERS * 270];
	size_t len = 0;

	for (size_t i = 0; i < k->n; i++)
		if (k->v[i])
			len += (size_t)snprintf(text + len, sizeof(text) - len,
						"%zu %s\n", i, k->v[i]);
	md_path(path, dir, "dovecot-keywords");
	return md_write_atomic(path, text, len, err);
}

/* The first letter no keyword has (a gap a removed line left, or past
 * the last), or MD_KW_LETTERS when all 26 are taken: Dovecot's
 * maildir_keywords_lookup_or_create chooses it so. */
static size_t
md_kw_free_slot(const struct md_keywords *k)
{
	size_t j = 0;

	while (j < MD_KW_LETTERS && j < k->n && k->v[j])
		j++;
	return j;
}

/* The letters' mask of keywords kw; with add, new ones get letters (and
 * the file is saved). Those without a letter (all 26 taken, or not add)
 * go to extra_r (malloc'd, space-separated, "" when none), which the
 * index keeps. The caller holds the user's lock. */
int
md_kw_mask(const char *dir, struct md_keywords *k, const char *const *kw,
	   size_t n, int add, uint32_t *mask_r, char **extra_r,
	   struct ps_error *err)
{
	size_t cap = 1, len = 0;
	int added = 0;

	*mask_r = 0;
	for (size_t i = 0; i < n; i++)
		cap += strlen(kw[i]) + 1;
	*extra_r = malloc(cap);
	if (!*extra_r)
		return md_err(err, PS_ENOMEM, "out of memory");
	**extra_r = '\0';
	for (size_t i = 0; i < n; i++) {
		size_t j = 0;

		/* Keywords are case-insensitive (RFC 3501 2.3.2): the first
		 * spelling given is kept. */
		while (j < k->n &&
		       (!k->v[j] || strcasecmp(k->v[j], kw[i]) != 0))
			j++;
		if (j == k->n) /* new: the first free letter, as Dovecot */
			j = md_kw_free_slot(k);
		if (j == MD_KW_LETTERS || (!k->v[j] && !add)) {
			len += (size_t)sprintf(*extra_r + len, "%s%s",
					       len ? " " : "", kw[i]);
			continue;
		}
		if (!k->v[j]) {
			k->v[j] = strdup(kw[i]);
			if (!k->v[j])
				return md_err(err, PS_ENOMEM, "out of memory");
			if (j >= k->n)
				k->n = j + 1;
			added = 1;
		}
		*mask_r |= 1u << j;
	}
	return added ? md_kw_save(dir, k, err) : 0;
}

void
md_kw_free(struct md_keywords *k)
{
	for (size_t i = 0; i < k->n; i++)
		free(k->v[i]);
	memset(k, 0, sizeof(*k));
}
