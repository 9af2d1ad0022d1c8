/* Modified UTF-7 mailbox names (RFC 3501 5.1.3) to and from UTF-8, as
 * IMAP4rev1 clients without UTF8=ACCEPT see them. Strict both ways, like
 * Dovecot: only the one canonical encoding of a name is accepted. Pure:
 * no SDK calls. */
#ifndef IMAP_MUTF7_H
#define IMAP_MUTF7_H

#include <stddef.h>

#include "buffer.h"

#define IMAP_MUTF7_EINVAL (-1) /* the input is not what it should be */
#define IMAP_MUTF7_EBUF (-2)   /* out ran past its bound or memory */

/* Append the UTF-8 form of the mUTF-7 name in[0..len) to out. Refused
 * (EINVAL): octets outside printable ASCII; a shift ("&") not closed
 * by "-"; characters outside modified base64; a printable ASCII
 * character (so "&" too) or U+0000 encoded; two shifted runs next to
 * each other (they must be one); a lone or reversed surrogate; leftover
 * bits that are non-zero or a whole base64 character's worth. On error
 * out keeps its previous content. Returns 0 or a negative code. */
int imap_mutf7_decode(const char *in, size_t len, struct imap_buf *out);

/* Append the mUTF-7 form of the UTF-8 name in[0..len) to out. Refused
 * (EINVAL): ill-formed UTF-8 (see utf8.h) and NUL. The output is the
 * canonical form imap_mutf7_decode() accepts. */
int imap_mutf7_encode(const char *in, size_t len, struct imap_buf *out);

/* 1 when in[0..len) is canonical mUTF-7, else 0 (no output). */
int imap_mutf7_valid(const char *in, size_t len);

#endif
