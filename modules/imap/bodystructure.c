/* FETCH BODY and BODYSTRUCTURE (RFC 3501 7.4.2, RFC 9051 7.5.2) from a
 * libpsmime tree, in Dovecot's shape: text parts get a default charset
 * and their line count, message/rfc822 parts the envelope, structure and
 * line count of the message inside, a multipart without parts a 0-length
 * text/plain; BODYSTRUCTURE adds MD5, disposition, language and location
 * (multiparts: parameters instead of MD5). An RFC 2231 parameter goes out
 * as Dovecot shows it: "name*" with the value as written. */
#include <string.h>

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
		if (p[i].raw) {
			size_t len = strlen(p[i].name);

			imap_buf_addc(b, '"');
			imap_buf_add(b, p[i].name, len);
			imap_buf_adds(b, "*\" ");
			string(b, p[i].raw, qflags);
			continue;
		}
		charset |= strcmp(p[i].name, "charset") == 0;
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

static int part(struct imap_buf *b, const struct mime_part *p, int ext,
		unsigned qflags);

/* body-type-mpart: the parts, each in parentheses, then the subtype. */
static int
multipart(struct imap_buf *b, const struct mime_part *p, int ext,
	  unsigned qflags)
{
	int r = 0;

	if (!p->children) {
		/* RFC 2046 5.1.1 wants one part at least: Dovecot shows an
		 * empty text/plain. */
		imap_buf_adds(b, EMPTY_BODY);
		imap_buf_adds(b, ext ? " NIL NIL NIL NIL)" : ")");
	}
	for (const struct mime_part *c = p->children; c; c = c->next) {
		imap_buf_addc(b, '(');
		r |= part(b, c, ext, qflags);
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

/* body-type-basic, body-type-text or body-type-msg. */
static int
single(struct imap_buf *b, const struct mime_part *p, int ext,
       unsigned qflags)
{
	int message = (p->flags & MIME_PART_MESSAGE) && p->children;
	int text = !message && strcmp(p->type, "text") == 0;
	int r = 0;

	string(b, p->type, qflags);
	imap_buf_addc(b, ' ');
	string(b, p->subtype, qflags);
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
	if (message) {
		imap_buf_adds(b, " (");
		r |= imap_envelope_write(b, p->children->envelope, qflags);
		imap_buf_adds(b, ") (");
		r |= part(b, p->children, ext, qflags);
		imap_buf_addc(b, ')');
	}
	if (message || text) {
		imap_buf_addc(b, ' ');
		imap_buf_addu64(b, p->body_lines);
	}
	if (ext) {
		imap_buf_addc(b, ' ');
		nstring(b, p->md5, qflags);
		extension_common(b, p, qflags);
	}
	return r;
}

static int
part(struct imap_buf *b, const struct mime_part *p, int ext, unsigned qflags)
{
	if (p->flags & MIME_PART_MULTIPART)
		return multipart(b, p, ext, qflags);
	return single(b, p, ext, qflags);
}

int
imap_bodystructure_write(struct imap_buf *b, const struct mime_part *root,
			 int extended, unsigned qflags)
{
	int r = part(b, root, extended, qflags);

	return r || b->error ? PS_ENOMEM : 0;
}
