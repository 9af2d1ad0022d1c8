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
