/* The Maildir info suffix (cr.yp.to/proto/maildir.html): a file in cur/
 * is BASE:2,LETTERS with the flags D (draft), F (flagged), P (passed),
 * R (replied), S (seen), T (trashed) in ASCII order, then Dovecot's
 * keyword letters a-z (keywords.c). */
#include <stdio.h>
#include <string.h>

#include "storage_maildir.h"

static const struct {
	char letter;
	unsigned flag;
} md_letters[] = {
	{ 'D', PS_FLAG_DRAFT }, { 'F', PS_FLAG_FLAGGED },
	{ 'R', PS_FLAG_ANSWERED }, { 'S', PS_FLAG_SEEN },
	{ 'T', PS_FLAG_DELETED },
};

/* ":2," and the letters of flags and keyword mask kw (out: 40 bytes). */
void
md_info_build(unsigned flags, uint32_t kw, char *out)
{
	size_t n = (size_t)sprintf(out, ":2,");

	for (size_t i = 0; i < sizeof(md_letters) / sizeof(md_letters[0]); i++)
		if (flags & md_letters[i].flag)
			out[n++] = md_letters[i].letter;
	for (unsigned i = 0; i < MD_KW_LETTERS; i++)
		if (kw & 1u << i)
			out[n++] = (char)('a' + i);
	out[n] = '\0';
}

/* The flags and keyword mask a file name carries; a name without
 * ":2," (in new/) has none. */
void
md_info_parse(const char *name, unsigned *flags_r, uint32_t *kw_r)
{
	const char *info = strstr(name, ":2,");

	*flags_r = 0;
	*kw_r = 0;
	if (!info)
		return;
	for (const char *p = info + 3; *p; p++) {
		if (*p >= 'a' && *p <= 'z') {
			*kw_r |= 1u << (*p - 'a');
			continue;
		}
		for (size_t i = 0; i < sizeof(md_letters) / sizeof(md_letters[0]);
		     i++)
			if (*p == md_letters[i].letter)
				*flags_r |= md_letters[i].flag;
	}
}

/* The length of name's base: the part before ":2," (Dovecot's key in
 * its UID list: the info changes, the base does not). */
size_t
md_base_len(const char *name)
{
	const char *info = strstr(name, ":2,");

	return info ? (size_t)(info - name) : strlen(name);
}

/* Letters of old's info this module does not know ('P', passed, which
 * mutt sets, and others) appended to info (48 bytes) and all of them
 * put in ASCII order: Dovecot keeps such letters when it renames a
 * file for new flags (maildir-filename-flags.c), and so does STORE. */
void
md_info_keep(const char *old, char *info)
{
	const char *p = strstr(old, ":2,");
	size_t n = strlen(info);
	char *letters = info + 3;

	for (p = p ? p + 3 : ""; *p && *p != ',' && n < 47; p++) {
		int known = *p >= 'a' && *p <= 'z';

		for (size_t i = 0; i < sizeof(md_letters) / sizeof(md_letters[0]);
		     i++)
			known |= *p == md_letters[i].letter;
		if (!known && !strchr(letters, *p))
			info[n++] = *p;
	}
	info[n] = '\0';
	/* Insertion sort: at most a few dozen letters. */
	for (size_t i = 1; letters[0] && letters[i]; i++)
		for (size_t j = i; j > 0 && letters[j - 1] > letters[j]; j--) {
			char t = letters[j];

			letters[j] = letters[j - 1];
			letters[j - 1] = t;
		}
}
