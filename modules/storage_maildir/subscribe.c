/* Subscriptions (RFC 3501 6.3.6, 6.3.7): names, existing or not, in
 * Maildir/subscriptions in Dovecot's version 2 format: a "V\t2" header
 * and an empty line, then one name a line with TAB between its levels.
 * A version 1 file (Courier's, and old Dovecot's: one name a line, '.'
 * between levels) is read too and written back as version 2. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "storage_maildir.h"

int
md_names_add(struct md_names *s, const char *name)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		char **v = realloc(s->v, cap * sizeof(*v));

		if (!v)
			return PS_ENOMEM;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n] = strdup(name);
	if (!s->v[s->n])
		return PS_ENOMEM;
	s->n++;
	return 0;
}

/* The index of name in s, or -1. */
int
md_names_find(const struct md_names *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->v[i], name) == 0)
			return (int)i;
	return -1;
}

void
md_names_free(struct md_names *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	memset(s, 0, sizeof(*s));
}

/* One line of the file as a name; lines that are none are skipped. */
static int
md_subs_line(struct md_names *s, char *line, char sep)
{
	char canon[MD_NAME_MAX + 1];

	for (char *p = line; *p; p++)
		if (*p == sep)
			*p = MD_DELIM;
	if (md_name_canon(line, canon, NULL) < 0 ||
	    md_names_find(s, canon) >= 0)
		return 0;
	return md_names_add(s, canon);
}

int
md_subs_read(const struct ps_store_user *u, struct md_names *s,
	     struct ps_error *err)
{
	char path[MD_PATH_MAX], *text, *line, *save = NULL;
	size_t len;
	char sep = '.';
	int r;

	memset(s, 0, sizeof(*s));
	md_path(path, u->root, MD_SUBSCRIPTIONS);
	r = md_read_small(path, &text, &len, err);
	if (r < 0)
		return r;
	line = text;
	if (strncmp(text, "V\t2\n", 4) == 0) {
		sep = '\t';
		line = strstr(text, "\n\n");
		line = line ? line + 2 : text + len;
	}
	for (line = strtok_r(line, "\n", &save); line && r == 0;
	     line = strtok_r(NULL, "\n", &save))
		r = md_subs_line(s, line, sep);
	free(text);
	if (r < 0) {
		md_names_free(s);
		return md_err(err, r, "out of memory");
	}
	return 0;
}

int
md_subs_write(const struct ps_store_user *u, const struct md_names *s,
	      struct ps_error *err)
{
	char path[MD_PATH_MAX], *text, *o;
	size_t cap = 8;
	int r;

	for (size_t i = 0; i < s->n; i++)
		cap += strlen(s->v[i]) + 1;
	text = malloc(cap);
	if (!text)
		return md_err(err, PS_ENOMEM, "out of memory");
	o = text + sprintf(text, "V\t2\n\n");
	for (size_t i = 0; i < s->n; i++) {
		for (const char *p = s->v[i]; *p; p++)
			*o++ = *p == MD_DELIM ? '\t' : *p;
		*o++ = '\n';
	}
	md_path(path, u->root, MD_SUBSCRIPTIONS);
	r = md_write_atomic(path, text, (size_t)(o - text), err);
	free(text);
	return r;
}
