/* Choosing how a string goes out (RFC 9051 4.1 atoms, 4.3 strings; RFC
 * 6855 3 UTF-8 in quoted strings; RFC 3516 literal8): the cheapest form
 * the grammar allows for the text. Pure: no SDK calls. */
#include <string.h>
#include <strings.h>

#include "chars.h"
#include "quote.h"
#include "utf8.h"

enum form { F_QUOTED, F_LITERAL, F_LITERAL8 };

static enum form
pick(const char *s, size_t len, unsigned flags)
{
	int high = 0;

	if (memchr(s, '\0', len))
		return F_LITERAL8;
	if (len > IMAP_QUOTED_MAX || memchr(s, '\r', len) ||
	    memchr(s, '\n', len))
		return F_LITERAL;
	for (size_t i = 0; i < len && !high; i++)
		high = (unsigned char)s[i] >= 0x80;
	if (high && (!(flags & IMAP_QUOTE_UTF8) || !imap_utf8_valid(s, len)))
		return F_LITERAL;
	return F_QUOTED;
}

int
imap_quote_string(struct imap_buf *out, const char *s, size_t len,
		  unsigned flags)
{
	enum form f = pick(s, len, flags);
	size_t i, span;

	if (f == F_LITERAL8 && !(flags & IMAP_QUOTE_BINARY))
		return IMAP_QUOTE_ENUL;
	if (f != F_QUOTED) {
		if ((f == F_LITERAL8 && imap_buf_addc(out, '~') < 0) ||
		    imap_buf_addc(out, '{') < 0 ||
		    imap_buf_addu64(out, len) < 0 ||
		    imap_buf_add(out, "}\r\n", 3) < 0 ||
		    imap_buf_add(out, s, len) < 0)
			return IMAP_QUOTE_EBUF;
		return 0;
	}
	imap_buf_addc(out, '"');
	for (i = span = 0; i < len; i++) {
		if (s[i] != '"' && s[i] != '\\')
			continue;
		imap_buf_add(out, s + span, i - span);
		imap_buf_addc(out, '\\');
		span = i;
	}
	imap_buf_add(out, s + span, len - span);
	imap_buf_addc(out, '"');
	return out->error ? IMAP_QUOTE_EBUF : 0;
}

int
imap_quote_astring(struct imap_buf *out, const char *s, size_t len,
		   unsigned flags)
{
	size_t i;

	for (i = 0; i < len && imap_is_astring_char((unsigned char)s[i]); i++)
		continue;
	if (len == 0 || i < len ||
	    (len == 3 && strncasecmp(s, "NIL", 3) == 0))
		return imap_quote_string(out, s, len, flags);
	return imap_buf_add(out, s, len) < 0 ? IMAP_QUOTE_EBUF : 0;
}

int
imap_quote_nstring(struct imap_buf *out, const char *s, size_t len,
		   unsigned flags)
{
	if (!s)
		return imap_buf_add(out, "NIL", 3) < 0 ? IMAP_QUOTE_EBUF : 0;
	return imap_quote_string(out, s, len, flags);
}
