/* The character classes of RFC 3501 9 and RFC 9051 9 (identical there)
 * and number64. CHAR is 7-bit without NUL, CTL the controls and DEL,
 *   atom-specials = "(" ")" "{" SP CTL list-wildcards quoted-specials
 *                   resp-specials,
 * list-wildcards "%" "*", quoted-specials DQUOTE "\", resp-specials "]". */
#ifndef IMAP_CHARS_H
#define IMAP_CHARS_H

#include <stddef.h>
#include <stdint.h>

#define IMAP_NUMBER64_MAX 0x7fffffffffffffffULL /* RFC 9051 number64 */

static inline int
imap_is_atom_char(unsigned char c)
{
	return c > 0x20 && c < 0x7f && c != '(' && c != ')' && c != '{' &&
		c != '%' && c != '*' && c != '"' && c != '\\' && c != ']';
}

/* ASTRING-CHAR = ATOM-CHAR / resp-specials */
static inline int
imap_is_astring_char(unsigned char c)
{
	return imap_is_atom_char(c) || c == ']';
}

/* list-char = ATOM-CHAR / list-wildcards / resp-specials: also what a
 * sequence set ("1:*") is made of. */
static inline int
imap_is_list_char(unsigned char c)
{
	return imap_is_astring_char(c) || c == '%' || c == '*';
}

/* tag = 1*<any ASTRING-CHAR except "+"> */
static inline int
imap_is_tag_char(unsigned char c)
{
	return imap_is_astring_char(c) && c != '+';
}

static inline int
imap_is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/* number64 = 1*DIGIT up to IMAP_NUMBER64_MAX, at s[*i_r]: 0 with the
 * value and *i_r past it, or -1. */
static inline int
imap_number64(const unsigned char *s, size_t len, size_t *i_r,
	      uint64_t *v_r)
{
	size_t i = *i_r;
	uint64_t v = 0;

	if (i == len || !imap_is_digit(s[i]))
		return -1;
	for (; i < len && imap_is_digit(s[i]); i++) {
		if (v > (IMAP_NUMBER64_MAX - (unsigned)(s[i] - '0')) / 10)
			return -1;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	*i_r = i;
	*v_r = v;
	return 0;
}

#endif
