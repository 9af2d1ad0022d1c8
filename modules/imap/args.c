/* Reading a command's arguments as the grammar's forms (RFC 9051 9):
 * which token types and flags each form admits. Pure: no SDK calls. */
#include <string.h>
#include <strings.h>

#include "args.h"
#include "chars.h"

int
imap_arg_get_atom(const struct imap_arg *a, const char **s_r)
{
	if (a->type == IMAP_ARG_NIL ||
	    (a->type == IMAP_ARG_ATOM && a->flags == 0)) {
		*s_r = a->str;
		return 0;
	}
	return -1;
}

int
imap_arg_is_atom(const struct imap_arg *a, const char *name)
{
	const char *s;

	return imap_arg_get_atom(a, &s) == 0 && strcasecmp(s, name) == 0;
}

int
imap_arg_get_string(const struct imap_arg *a, const char **s_r,
		    size_t *len_r)
{
	if (a->type != IMAP_ARG_QUOTED &&
	    (a->type != IMAP_ARG_LITERAL || (a->flags & IMAP_ARGF_LITERAL8)))
		return -1;
	*s_r = a->str;
	*len_r = a->len;
	return 0;
}

int
imap_arg_get_astring(const struct imap_arg *a, const char **s_r,
		     size_t *len_r)
{
	if (a->type == IMAP_ARG_NIL || (a->type == IMAP_ARG_ATOM &&
	    !(a->flags & (IMAP_ARGF_BACKSLASH | IMAP_ARGF_WILDCARD)))) {
		*s_r = a->str;
		*len_r = a->len;
		return 0;
	}
	if (a->type == IMAP_ARG_SECTION && (a->flags & IMAP_ARGF_RAW)) {
		*s_r = a->raw;
		*len_r = a->raw_len;
		return 0;
	}
	return imap_arg_get_string(a, s_r, len_r);
}

int
imap_arg_get_nstring(const struct imap_arg *a, const char **s_r,
		     size_t *len_r)
{
	if (a->type == IMAP_ARG_NIL) {
		*s_r = NULL;
		*len_r = 0;
		return 0;
	}
	return imap_arg_get_string(a, s_r, len_r);
}

int
imap_arg_get_word(const struct imap_arg *a, const char **s_r, size_t *len_r)
{
	if (a->type == IMAP_ARG_NIL || (a->type == IMAP_ARG_ATOM &&
	    !(a->flags & IMAP_ARGF_BACKSLASH))) {
		*s_r = a->str;
		*len_r = a->len;
		return 0;
	}
	return -1;
}

int
imap_arg_get_list_mailbox(const struct imap_arg *a, const char **s_r,
			  size_t *len_r)
{
	if (imap_arg_get_word(a, s_r, len_r) == 0)
		return 0;
	return imap_arg_get_astring(a, s_r, len_r);
}

int
imap_arg_get_flag(const struct imap_arg *a, const char **s_r)
{
	if (a->type == IMAP_ARG_ATOM && a->flags == IMAP_ARGF_BACKSLASH) {
		*s_r = a->str;
		return 0;
	}
	return imap_arg_get_atom(a, s_r);
}

int
imap_arg_get_list(const struct imap_arg *a, const struct imap_arg **list_r,
		  size_t *count_r)
{
	if (a->type != IMAP_ARG_LIST)
		return -1;
	*list_r = a->list;
	*count_r = a->count;
	return 0;
}

int
imap_arg_get_number64(const struct imap_arg *a, uint64_t *n_r)
{
	const unsigned char *s = (const unsigned char *)a->str;
	size_t i = 0;

	if (a->type != IMAP_ARG_ATOM || a->flags ||
	    imap_number64(s, a->len, &i, n_r) < 0 || i != a->len)
		return -1;
	return 0;
}

int
imap_arg_get_number(const struct imap_arg *a, uint32_t *n_r)
{
	uint64_t v;

	if (imap_arg_get_number64(a, &v) < 0 || v > UINT32_MAX)
		return -1;
	*n_r = (uint32_t)v;
	return 0;
}

int
imap_arg_get_nz_number(const struct imap_arg *a, uint32_t *n_r)
{
	if (imap_arg_get_number(a, n_r) < 0 || a->str[0] == '0')
		return -1;
	return 0;
}
