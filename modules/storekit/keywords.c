/* Message keywords (RFC 3501 2.3.2) for every storage backend: their
 * syntax, an atom (RFC 3501 9), and the lists STORE changes. Keywords
 * compare case-insensitively (RFC 3501 9: "all alphabetic characters are
 * case-insensitive") and keep the spelling they were first stored with. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "storekit.h"

/* ATOM-CHAR: any CHAR but atom-specials: ( ) { SP CTL % * " \ ] */
static int
pst_atom_char(unsigned char ch)
{
	return ch > 0x20 && ch < 0x7f && !strchr("(){%*\"\\]", ch);
}

/* An atom of 1 to PST_KEYWORD_LEN bytes; NULL is not. */
int
pst_kw_valid(const char *kw)
{
	size_t len = kw ? strlen(kw) : 0;

	if (len == 0 || len > PST_KEYWORD_LEN)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!pst_atom_char((unsigned char)kw[i]))
			return 0;
	return 1;
}

int
pst_kw_check(const char *const *kw, size_t n, struct ps_error *err)
{
	if (n > PST_KEYWORD_MAX)
		return pst_err(err, PS_EINVAL, "more than %d keywords",
			       PST_KEYWORD_MAX);
	for (size_t i = 0; i < n; i++)
		if (!pst_kw_valid(kw[i]))
			return pst_err(err, PS_EINVAL, "keyword %zu is not an "
				       "atom of 1 to %d bytes", i + 1,
				       PST_KEYWORD_LEN);
	return 0;
}

static int
pst_grow(char **buf, size_t *cap, size_t need)
{
	char *p;

	if (need <= *cap)
		return 0;
	p = realloc(*buf, need);
	if (!p)
		return PS_ENOMEM;
	*buf = p;
	*cap = need;
	return 0;
}

/* Split a stored list (NULL: none) into k. */
int
pst_kw_load(struct pst_kw *k, const char *text)
{
	size_t len = text ? strlen(text) : 0;
	char *save = NULL;

	k->n = 0;
	if (!len)
		return 0;
	if (pst_grow(&k->split, &k->split_cap, len + 1) < 0)
		return PS_ENOMEM;
	memcpy(k->split, text, len + 1);
	for (char *w = strtok_r(k->split, " ", &save);
	     w && k->n < PST_KEYWORD_MAX; w = strtok_r(NULL, " ", &save))
		k->v[k->n++] = w;
	return 0;
}

static int
pst_kw_in(const char *const *v, size_t n, const char *w)
{
	for (size_t i = 0; i < n; i++)
		if (strcasecmp(v[i], w) == 0)
			return 1;
	return 0;
}

/* Change k's list as STORE's mode asks (RFC 3501 6.4.6); *changed_r
 * tells whether the set of keywords differs afterwards. kw is checked
 * (pst_kw_check) and must outlive k's use of it. */
int
pst_kw_apply(struct pst_kw *k, enum ps_store_mode mode,
	     const char *const *kw, size_t n, int *changed_r,
	     struct ps_error *err)
{
	const char *out[2 * PST_KEYWORD_MAX];
	size_t m = 0;

	if (mode != PS_STORE_REPLACE)
		for (size_t i = 0; i < k->n; i++)
			if (mode == PS_STORE_ADD || !pst_kw_in(kw, n, k->v[i]))
				out[m++] = k->v[i];
	if (mode != PS_STORE_REMOVE)
		for (size_t i = 0; i < n; i++)
			if (!pst_kw_in(out, m, kw[i]))
				out[m++] = kw[i];
	if (m > PST_KEYWORD_MAX)
		return pst_err(err, PS_EINVAL, "a message holds at most %d "
			       "keywords", PST_KEYWORD_MAX);
	*changed_r = m != k->n;
	for (size_t i = 0; i < m && !*changed_r; i++)
		*changed_r = !pst_kw_in(k->v, k->n, out[i]);
	memcpy(k->v, out, m * sizeof(out[0]));
	k->n = m;
	return 0;
}

/* The list as stored: space-separated, NULL when empty or out of
 * memory (the caller tells them apart by k->n). */
const char *
pst_kw_join(struct pst_kw *k)
{
	size_t len = 0;
	char *o;

	for (size_t i = 0; i < k->n; i++)
		len += strlen(k->v[i]) + 1;
	if (!len || pst_grow(&k->text, &k->text_cap, len) < 0)
		return NULL;
	o = k->text;
	for (size_t i = 0; i < k->n; i++) {
		size_t l = strlen(k->v[i]);

		memcpy(o, k->v[i], l);
		o[l] = i + 1 < k->n ? ' ' : '\0';
		o += l + 1;
	}
	return k->text;
}

void
pst_kw_free(struct pst_kw *k)
{
	free(k->split);
	free(k->text);
	k->split = k->text = NULL;
	k->split_cap = k->text_cap = 0;
	k->n = 0;
}
