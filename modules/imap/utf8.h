/* Strict UTF-8 (RFC 3629): the checks the parser, mUTF-7 and quoting
 * share. Overlong forms, surrogates (U+D800..U+DFFF), code points past
 * U+10FFFF and truncated sequences are ill-formed. Pure: no SDK calls. */
#ifndef IMAP_UTF8_H
#define IMAP_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* The length (1-4) of the well-formed sequence at s[0..len), with its
 * code point in *cp_r; 0 when it is ill-formed or len is 0. */
size_t imap_utf8_next(const unsigned char *s, size_t len, uint32_t *cp_r);

/* 1 when s[0..len) is well-formed UTF-8 (NUL included), else 0. */
int imap_utf8_valid(const char *s, size_t len);

/* Write code point cp (a scalar value) as UTF-8 into out; returns 1-4,
 * or 0 for a surrogate or a value past U+10FFFF. */
size_t imap_utf8_put(uint32_t cp, char out[4]);

#endif
