/* IMAP strings on the way out (RFC 9051 4.1-4.3): an atom where an
 * astring allows one, a quoted string when the text is short and plain,
 * a literal otherwise, NIL for a missing nstring. Pure: no SDK calls. */
#ifndef IMAP_QUOTE_H
#define IMAP_QUOTE_H

#include <stddef.h>

#include "buffer.h"

#define IMAP_QUOTE_UTF8 0x1   /* UTF8=ACCEPT (RFC 6855) is enabled:
			       * well-formed UTF-8 may be quoted */
#define IMAP_QUOTE_BINARY 0x2 /* a NUL may go out in a literal8 "~{n}"
			       * (RFC 3516 FETCH BINARY) */

/* Longer text goes out as a literal (a client's line buffer is finite). */
#define IMAP_QUOTED_MAX 1024

#define IMAP_QUOTE_ENUL (-1) /* s holds a NUL and BINARY was not given:
			      * nothing was written */
#define IMAP_QUOTE_EBUF (-2) /* out's error is set */

/* string = quoted / literal. Quoted unless s[0..len) holds CR, LF or
 * NUL, octets >= 0x80 (unless UTF8 is set and the text is well-formed
 * UTF-8) or is longer than IMAP_QUOTED_MAX; then a literal "{n}" CRLF
 * and the octets ("~{n}" with BINARY when it holds a NUL). Returns 0 or
 * a negative IMAP_QUOTE_E* code. */
int imap_quote_string(struct imap_buf *out, const char *s, size_t len,
		      unsigned flags);

/* astring: as an atom when s is 1*ASTRING-CHAR and not "NIL" (which a
 * client could read as NIL), else as imap_quote_string(). */
int imap_quote_astring(struct imap_buf *out, const char *s, size_t len,
		       unsigned flags);

/* nstring: NIL when s is NULL, else imap_quote_string(). */
int imap_quote_nstring(struct imap_buf *out, const char *s, size_t len,
		       unsigned flags);

#endif
