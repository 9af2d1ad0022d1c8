/* Mailbox names between the client and the store. The store keeps UTF-8;
 * an IMAP4rev1 client speaks modified UTF-7 (RFC 3501 5.1.3), one that
 * enabled UTF8=ACCEPT speaks UTF-8 (RFC 6855 3). "INBOX" is the same
 * mailbox in any case (RFC 9051 5.1), and so is the INBOX part of its
 * children's names. Every name is relative to the user's own store: the
 * store has no path to escape to. */
#include <string.h>
#include <strings.h>

#include "imapd.h"
#include "mutf7.h"
#include "quote.h"
#include "utf8.h"

/* "inbox" -> "INBOX", "Inbox/Sub" -> "INBOX/Sub". */
static void
inbox_canon(char *name)
{
	if (strncasecmp(name, "INBOX", 5) == 0 &&
	    (name[5] == '\0' || name[5] == imap_cfg.delim))
		memcpy(name, "INBOX", 5);
}

int
imap_name_decode(const struct imap_session *s, const struct imap_arg *a,
		 char *out, size_t outsize, int *bad_r, const char **text_r)
{
	const char *name;
	size_t len;
	struct imap_buf b;

	*bad_r = 0;
	if (imap_arg_get_astring(a, &name, &len) < 0) {
		*bad_r = 1;
		*text_r = "Invalid mailbox name";
		return -1;
	}
	*text_r = "Invalid mailbox name";
	if (memchr(name, '\0', len) || len == 0)
		return -1;
	if (s->enabled & IMAP_EN_ANY_UTF8) {
		if (!imap_utf8_valid(name, len) || len >= outsize)
			return -1;
		memcpy(out, name, len);
		out[len] = '\0';
	} else {
		imap_buf_init(&b, outsize - 1);
		if (imap_mutf7_decode(name, len, &b) < 0) {
			imap_buf_free(&b);
			*text_r = "Mailbox name is not valid modified UTF-7";
			return -1;
		}
		memcpy(out, imap_buf_str(&b), b.len + 1);
		imap_buf_free(&b);
	}
	inbox_canon(out);
	return 0;
}

int
imap_name_in(struct imap_session *s, const struct imap_arg *a, char *out,
	     size_t outsize)
{
	const char *text;
	int bad;

	if (imap_name_decode(s, a, out, outsize, &bad, &text) == 0)
		return 0;
	if (bad)
		imap_bad(s, text);
	else
		imap_no(s, "CANNOT", text);
	return -1;
}

int
imap_name_out(const struct imap_session *s, const char *name,
	      struct imap_buf *b)
{
	struct imap_buf enc;
	int r;

	if (s->enabled & IMAP_EN_ANY_UTF8)
		return imap_quote_astring(b, name, strlen(name),
					  IMAP_QUOTE_UTF8);
	imap_buf_init(&enc, 4 * IMAP_NAME_MAX);
	r = imap_mutf7_encode(name, strlen(name), &enc);
	if (r == 0)
		r = imap_quote_astring(b, imap_buf_str(&enc), enc.len, 0);
	imap_buf_free(&enc);
	return r;
}
