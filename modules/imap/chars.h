/* The character classes of RFC 3501 9 and RFC 9051 9 (identical there):
 * CHAR is 7-bit without NUL, CTL the controls and DEL,
 *   atom-specials = "(" ")" "{" SP CTL list-wildcards quoted-specials
 *                   resp-specials,
 * list-wildcards "%" "*", quoted-specials DQUOTE "\", resp-specials "]". */
#ifndef IMAP_CHARS_H
#define IMAP_CHARS_H

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

#endif
