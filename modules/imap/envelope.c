/* FETCH ENVELOPE (RFC 3501 7.4.2, RFC 9051 7.5.2): a message's RFC 5322
 * fields as libpsmime kept them (unfolded, encoded words left as they
 * are), written the way Dovecot writes them: the subject and display
 * names with white space made single spaces, Sender and Reply-To falling
 * back to From when they hold no address, the addresses of every copy of
 * a repeated field, groups as (NIL NIL "name" NIL) ... (NIL NIL NIL NIL),
 * and an empty address list as NIL. */
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

/* Text for people (Dovecot's imap_append_string_for_humans): runs of
 * white space, CR and LF as one space, none at either end. */
static int
human(struct imap_buf *b, const char *s, unsigned qflags)
{
	size_t n = 0, len = strlen(s);
	char *t = malloc(len + 1);
	int space = 0;

	if (!t)
		return PS_ENOMEM;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' ||
		    s[i] == '\n') {
			space = n > 0;
			continue;
		}
		if (space)
			t[n++] = ' ';
		space = 0;
		t[n++] = s[i];
	}
	imap_quote_string(b, t, n, qflags);
	free(t);
	return 0;
}

static int
address(struct imap_buf *b, const struct mime_address *a, unsigned qflags)
{
	int r = 0;

	imap_buf_addc(b, '(');
	if (a->name)
		r = human(b, a->name, qflags);
	else
		imap_buf_adds(b, "NIL");
	imap_buf_addc(b, ' ');
	nstring(b, a->route, qflags);
	imap_buf_addc(b, ' ');
	nstring(b, a->mailbox, qflags);
	imap_buf_addc(b, ' ');
	nstring(b, a->host, qflags);
	imap_buf_addc(b, ')');
	return r;
}

/* The addresses of a field, of each of its values (LF-separated: the
 * field was repeated) in turn, as one list; nothing when there are none
 * (*n_r 0). */
static int
address_list(struct imap_buf *b, const char *value, unsigned qflags,
	     unsigned *n_r)
{
	int r = 0;

	*n_r = 0;
	while (value && r == 0) {
		const char *lf = strchr(value, '\n');
		size_t len = lf ? (size_t)(lf - value) : strlen(value);
		struct mime_address *list;
		unsigned n;

		if (mime_address_parse(value, len, 0, &list, &n) != MIME_OK)
			return PS_ENOMEM;
		for (unsigned i = 0; i < n && r == 0; i++) {
			if ((*n_r)++ == 0)
				imap_buf_addc(b, '(');
			r = address(b, &list[i], qflags);
		}
		free(list);
		value = lf ? lf + 1 : NULL;
	}
	if (*n_r)
		imap_buf_addc(b, ')');
	return r;
}

/* One address field; fallback is used when this one has no address. */
static int
field(struct imap_buf *b, const char *value, const char *fallback,
      unsigned qflags)
{
	unsigned n;
	int r = address_list(b, value, qflags, &n);

	if (r == 0 && n == 0 && fallback)
		r = address_list(b, fallback, qflags, &n);
	if (r == 0 && n == 0)
		imap_buf_adds(b, "NIL");
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
	if (e->subject)
		r |= human(b, e->subject, qflags);
	else
		imap_buf_adds(b, "NIL");
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
