/* FETCH BODY and BODYSTRUCTURE (RFC 3501 7.4.2, RFC 9051 7.5.2) from a
 * libpsmime tree, in Dovecot's shape: types, parameters and encodings as
 * written, text parts with a default charset and their line count,
 * message/rfc822 parts with the envelope, structure and line count of
 * the message inside, a multipart without parts a 0-length text/plain;
 * BODYSTRUCTURE adds MD5, disposition, language and location
 * (multiparts: parameters instead of MD5). message/global is described
 * like message/rfc822 only to an IMAP4rev2 client: RFC 9051's
 * media-message names GLOBAL, RFC 3501's only RFC822. */
#include <string.h>
#include <strings.h>

#include "imapd.h"
#include "mime.h"
#include "quote.h"

#define EMPTY_BODY "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL " \
		   "\"7bit\" 0 0"

static void
string(struct imap_buf *b, const char *s, unsigned qflags)
{
	imap_quote_string(b, s, strlen(s), qflags);
}

static void
nstring(struct imap_buf *b, const char *s, unsigned qflags)
{
	imap_quote_nstring(b, s, s ? strlen(s) : 0, qflags);
}

/* body-fld-param: NIL, or ("name" "value" ...); a text part without a
 * charset gets "us-ascii" (RFC 2045 5.2), as Dovecot adds it. */
static void
params(struct imap_buf *b, const struct mime_param *p, unsigned n,
       int text, unsigned qflags)
{
	int charset = 0;

	if (n == 0 && !text) {
		imap_buf_adds(b, "NIL");
		return;
	}
	imap_buf_addc(b, '(');
	for (unsigned i = 0; i < n; i++) {
		if (i > 0)
			imap_buf_addc(b, ' ');
		charset |= strcasecmp(p[i].name, "charset") == 0;
		string(b, p[i].name, qflags);
		imap_buf_addc(b, ' ');
		string(b, p[i].value, qflags);
	}
	if (text && !charset)
		imap_buf_adds(b, n ? " \"charset\" \"us-ascii\"" :
				     "\"charset\" \"us-ascii\"");
	imap_buf_addc(b, ')');
}

/* body-fld-dsp SP body-fld-lang SP body-fld-loc */
static void
extension_common(struct imap_buf *b, const struct mime_part *p,
		 unsigned qflags)
{
	imap_buf_addc(b, ' ');
	if (!p->disposition) {
		imap_buf_adds(b, "NIL");
	} else {
		imap_buf_addc(b, '(');
		string(b, p->disposition, qflags);
		imap_buf_addc(b, ' ');
		params(b, p->disp_params, p->ndisp_params, 0, qflags);
		imap_buf_addc(b, ')');
	}
	imap_buf_addc(b, ' ');
	if (!p->nlanguages) {
		imap_buf_adds(b, "NIL");
	} else {
		imap_buf_addc(b, '(');
		for (unsigned i = 0; i < p->nlanguages; i++) {
			if (i > 0)
				imap_buf_addc(b, ' ');
			string(b, p->languages[i], qflags);
		}
		imap_buf_addc(b, ')');
	}
	imap_buf_addc(b, ' ');
	nstring(b, p->location, qflags);
}

static int part(struct imap_buf *b, const struct mime_part *p,
		unsigned flags, unsigned qflags);

/* body-type-mpart: the parts, each in parentheses, then the subtype. */
static int
multipart(struct imap_buf *b, const struct mime_part *p, unsigned flags,
	  unsigned qflags)
{
	int ext = flags & IMAP_BS_EXTENDED, r = 0;

	if (!p->children) {
		/* RFC 2046 5.1.1 wants one part at least: Dovecot shows an
		 * empty text/plain. */
		imap_buf_adds(b, EMPTY_BODY);
		imap_buf_adds(b, ext ? " NIL NIL NIL NIL)" : ")");
	}
	for (const struct mime_part *c = p->children; c; c = c->next) {
		imap_buf_addc(b, '(');
		r |= part(b, c, flags, qflags);
		imap_buf_addc(b, ')');
	}
	imap_buf_addc(b, ' ');
	string(b, p->subtype, qflags);
	if (ext) {
		imap_buf_addc(b, ' ');
		params(b, p->params, p->nparams, 0, qflags);
		extension_common(b, p, qflags);
	}
	return r;
}

/* Which body-type-msg p is: "rfc822", "global" (IMAP4rev2 only), or
 * NULL for a body-type-basic or body-type-text. */
static const char *
message(const struct mime_part *p, unsigned flags)
{
	if (!(p->flags & MIME_PART_MESSAGE) || !p->children)
		return NULL;
	if (strcasecmp(p->subtype, "rfc822") == 0)
		return "rfc822";
	return flags & IMAP_BS_GLOBAL ? "global" : NULL;
}

/* body-type-basic, body-type-text or body-type-msg. */
static int
single(struct imap_buf *b, const struct mime_part *p, unsigned flags,
       unsigned qflags)
{
	const char *msg = message(p, flags);
	int text = !msg && strcasecmp(p->type, "text") == 0;
	int r = 0;

	if (msg) {
		/* As Dovecot writes it, whatever the case in the field. */
		imap_buf_adds(b, "\"message\" \"");
		imap_buf_adds(b, msg);
		imap_buf_addc(b, '"');
	} else {
		string(b, p->type, qflags);
		imap_buf_addc(b, ' ');
		string(b, p->subtype, qflags);
	}
	imap_buf_addc(b, ' ');
	params(b, p->params, p->nparams, text, qflags);
	imap_buf_addc(b, ' ');
	nstring(b, p->id, qflags);
	imap_buf_addc(b, ' ');
	nstring(b, p->description, qflags);
	imap_buf_addc(b, ' ');
	string(b, p->encoding, qflags);
	imap_buf_addc(b, ' ');
	imap_buf_addu64(b, p->body_size);
	if (msg) {
		imap_buf_adds(b, " (");
		r |= imap_envelope_write(b, p->children->envelope, qflags);
		imap_buf_adds(b, ") (");
		r |= part(b, p->children, flags, qflags);
		imap_buf_addc(b, ')');
	}
	if (msg || text) {
		imap_buf_addc(b, ' ');
		imap_buf_addu64(b, p->body_lines);
	}
	if (flags & IMAP_BS_EXTENDED) {
		imap_buf_addc(b, ' ');
		nstring(b, p->md5, qflags);
		extension_common(b, p, qflags);
	}
	return r;
}

static int
part(struct imap_buf *b, const struct mime_part *p, unsigned flags,
     unsigned qflags)
{
	if (p->flags & MIME_PART_MULTIPART)
		return multipart(b, p, flags, qflags);
	return single(b, p, flags, qflags);
}

int
imap_bodystructure_write(struct imap_buf *b, const struct mime_part *root,
			 unsigned flags, unsigned qflags)
{
	int r = part(b, root, flags, qflags);

	return r || b->error ? PS_ENOMEM : 0;
}
