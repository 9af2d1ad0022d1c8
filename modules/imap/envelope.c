/* FETCH ENVELOPE (RFC 3501 7.4.2, RFC 9051 7.5.2): a message's RFC 5322
 * fields as libpsmime kept them (unfolded, encoded words left as they
 * are), written the way Dovecot writes them: Sender and Reply-To fall
 * back to From when absent or empty, groups as (NIL NIL "name" NIL) ...
 * (NIL NIL NIL NIL), and an empty address list as NIL. */
#include <stdlib.h>
#include <string.h>

#include "imapd.h"
#include "mime.h"
#include "quote.h"

static void
nstring(struct imap_buf *b, const char *s, unsigned qflags)
{
	imap_quote_nstring(b, s, s ? strlen(s) : 0, qflags);
}

/* The addresses of a field value, or NULL (and *n_r 0) when it has
 * none. *list_r is for free(). */
static int
addresses(const char *value, struct mime_address **list_r, unsigned *n_r)
{
	*list_r = NULL;
	*n_r = 0;
	if (!value)
		return 0;
	return mime_address_parse(value, strlen(value), 0, list_r, n_r) ==
			       MIME_OK ? 0 : PS_ENOMEM;
}

static void
address_list(struct imap_buf *b, const struct mime_address *a, unsigned n,
	     unsigned qflags)
{
	if (n == 0) {
		imap_buf_adds(b, "NIL");
		return;
	}
	imap_buf_addc(b, '(');
	for (unsigned i = 0; i < n; i++) {
		imap_buf_addc(b, '(');
		nstring(b, a[i].name, qflags);
		imap_buf_addc(b, ' ');
		nstring(b, a[i].route, qflags);
		imap_buf_addc(b, ' ');
		nstring(b, a[i].mailbox, qflags);
		imap_buf_addc(b, ' ');
		nstring(b, a[i].host, qflags);
		imap_buf_addc(b, ')');
	}
	imap_buf_addc(b, ')');
}

/* One address field; fallback is used when this one has no address. */
static int
field(struct imap_buf *b, const char *value, const char *fallback,
      unsigned qflags)
{
	struct mime_address *list;
	unsigned n;
	int r = addresses(value, &list, &n);

	if (r == 0 && n == 0 && fallback)
		r = addresses(fallback, &list, &n);
	if (r == 0)
		address_list(b, list, n, qflags);
	free(list);
	return r;
}

int
imap_envelope_write(struct imap_buf *b, const struct mime_envelope *e,
		    unsigned qflags)
{
	int r = 0;

	if (!e) {
		imap_buf_adds(b, "NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL");
		return 0;
	}
	nstring(b, e->date, qflags);
	imap_buf_addc(b, ' ');
	nstring(b, e->subject, qflags);
	imap_buf_addc(b, ' ');
	r |= field(b, e->from, NULL, qflags);
	imap_buf_addc(b, ' ');
	r |= field(b, e->sender, e->from, qflags);
	imap_buf_addc(b, ' ');
	r |= field(b, e->reply_to, e->from, qflags);
	imap_buf_addc(b, ' ');
	r |= field(b, e->to, NULL, qflags);
	imap_buf_addc(b, ' ');
	r |= field(b, e->cc, NULL, qflags);
	imap_buf_addc(b, ' ');
	r |= field(b, e->bcc, NULL, qflags);
	imap_buf_addc(b, ' ');
	nstring(b, e->in_reply_to, qflags);
	imap_buf_addc(b, ' ');
	nstring(b, e->message_id, qflags);
	return r ? PS_ENOMEM : (b->error ? PS_ENOMEM : 0);
}
