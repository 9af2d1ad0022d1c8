/* A part's header block into its fields: Content-Type (RFC 2045 5, with
 * the defaults of 5.2 and RFC 2046 5.1.5), Content-Transfer-Encoding
 * (6), Content-ID and Content-Description (7, 8), Content-MD5 (RFC
 * 1864), Content-Disposition (RFC 2183), Content-Language (RFC 3282),
 * Content-Location (RFC 2557), and a message's envelope fields (RFC 5322
 * 3.6), counted as Dovecot counts them: the first of a repeated Content-*
 * field, the last Date, Subject, In-Reply-To and Message-ID, every
 * address field; a message with neither Content-Type nor MIME-Version is
 * no MIME (RFC 2045 4), so its other Content-* fields are ignored. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mime_private.h"

#define FIELDS_MAX 4096 /* fields looked at per header block */

enum field {
	F_TYPE,
	F_CTE,
	F_ID,
	F_DESCRIPTION,
	F_MD5,
	F_DISPOSITION,
	F_LANGUAGE,
	F_LOCATION,
	F_DATE,
	F_SUBJECT,
	F_FROM,
	F_SENDER,
	F_REPLY_TO,
	F_TO,
	F_CC,
	F_BCC,
	F_IN_REPLY_TO,
	F_MESSAGE_ID,
	F_MIME_VERSION,
	F_COUNT,
};

static const char *const names[F_COUNT] = {
	"content-type",        "content-transfer-encoding",
	"content-id",          "content-description",
	"content-md5",         "content-disposition",
	"content-language",    "content-location",
	"date",                "subject",
	"from",                "sender",
	"reply-to",            "to",
	"cc",                  "bcc",
	"in-reply-to",         "message-id",
	"mime-version",
};

static int
field_of(const struct mime_field *f, int envelope)
{
	for (int i = 0; i < F_COUNT; i++) {
		if (i >= F_DATE && !envelope)
			break;
		if (mime_eq(f->name, f->name_len, names[i]))
			return i;
	}
	return -1;
}

static int
address_field(int f)
{
	return f >= F_FROM && f <= F_BCC;
}

static const char **
envelope_slot(struct mime_envelope *e, int f)
{
	switch (f) {
	case F_DATE: return &e->date;
	case F_SUBJECT: return &e->subject;
	case F_FROM: return &e->from;
	case F_SENDER: return &e->sender;
	case F_REPLY_TO: return &e->reply_to;
	case F_TO: return &e->to;
	case F_CC: return &e->cc;
	case F_BCC: return &e->bcc;
	case F_IN_REPLY_TO: return &e->in_reply_to;
	default: return &e->message_id;
	}
}

/* Content-Transfer-Encoding: one token and nothing else, as written;
 * anything else is the default. */
static int
set_cte(struct mime_arena *a, struct mime_part *part, const char *v,
	size_t n)
{
	size_t start, len;

	if (!mime_param_token(v, n, &start, &len))
		return MIME_OK;
	part->encoding = mime_arena_strndup(a, v + start, len);
	return part->encoding != NULL ? MIME_OK : MIME_ENOMEM;
}

/* RFC 5322 3.2.3 atext, 8-bit octets too. */
static int
atext(unsigned char ch)
{
	return ch >= 0x80 || (ch >= '0' && ch <= '9') ||
	       (mime_tolower(ch) >= 'a' && mime_tolower(ch) <= 'z') ||
	       (ch != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", ch) != NULL);
}

/* Content-Language: atoms separated by commas, CFWS around; the list
 * ends at anything else (as Dovecot reads it). */
static int
set_languages(struct mime_arena *a, struct mime_part *part, const char *v,
	      size_t n)
{
	const char *tags[MIME_LANGUAGES_MAX];
	unsigned count = 0;
	size_t i = mime_skip_cfws(v, n, 0);

	while (i < n && atext((unsigned char)v[i]) &&
	       count < MIME_LANGUAGES_MAX) {
		size_t e = i;

		while (e < n && atext((unsigned char)v[e]))
			e++;
		if ((tags[count++] = mime_arena_strndup(a, v + i, e - i)) ==
		    NULL)
			return MIME_ENOMEM;
		i = mime_skip_cfws(v, n, e);
		if (i >= n || v[i] != ',')
			break;
		i = mime_skip_cfws(v, n, i + 1);
	}
	if (count == 0)
		return MIME_OK;
	part->languages = mime_arena_alloc(a, count * sizeof(tags[0]));
	if (part->languages == NULL)
		return MIME_ENOMEM;
	memcpy(part->languages, tags, count * sizeof(tags[0]));
	part->nlanguages = count;
	return MIME_OK;
}

/* No MIME (RFC 2045 4): the Content-* fields do not count. */
static void
not_mime(struct mime_part *part)
{
	part->type = NULL;
	part->params = NULL;
	part->nparams = 0;
	part->id = part->description = part->encoding = part->md5 = NULL;
	part->disposition = NULL;
	part->disp_params = NULL;
	part->ndisp_params = 0;
	part->languages = NULL;
	part->nlanguages = 0;
	part->location = NULL;
}

int
mime_fields_default(struct mime_arena *a, struct mime_part *part, int digest)
{
	if (part->type == NULL) {
		part->flags |= MIME_PART_DEFAULT_TYPE;
		part->nparams = 0;
		part->params = NULL;
		if (digest) {
			part->type = "message";
			part->subtype = "rfc822";
		} else {
			part->type = "text";
			part->subtype = "plain";
			part->params = mime_arena_alloc(a,
							sizeof(*part->params));
			if (part->params == NULL)
				return MIME_ENOMEM;
			part->params->name = "charset";
			part->params->value = "us-ascii";
			part->nparams = 1;
		}
	}
	if (part->encoding == NULL)
		part->encoding = "7bit";
	part->cte = mime_cte_parse(part->encoding);
	part->flags &= ~(unsigned)MIME_PART_MULTIPART;
	if (strcasecmp(part->type, "multipart") == 0 && *part->subtype != '\0')
		part->flags |= MIME_PART_MULTIPART;
	return MIME_OK;
}

static int
apply_one(struct mime_arena *a, struct mime_part *part, int f,
	  const char *v, size_t n)
{
	const char **slot;
	const char *sub = NULL;
	int r;

	switch (f) {
	case F_TYPE:
		/* A type that does not parse stays as far as it went, with
		 * no parameters (Dovecot): "text" alone is text. */
		r = mime_param_parse(a, v, n, 1, &part->type, &sub,
				     &part->params, &part->nparams);
		part->subtype = sub;
		return r == MIME_ENOMEM ? r : MIME_OK;
	case F_DISPOSITION:
		r = mime_param_parse(a, v, n, 0, &part->disposition, &sub,
				     &part->disp_params, &part->ndisp_params);
		if (r != MIME_OK) {
			part->disposition = NULL;
			part->disp_params = NULL;
			part->ndisp_params = 0;
		}
		return r == MIME_ENOMEM ? r : MIME_OK;
	case F_CTE:
		return set_cte(a, part, v, n);
	case F_LANGUAGE:
		return set_languages(a, part, v, n);
	case F_ID:
		slot = &part->id;
		break;
	case F_DESCRIPTION:
		slot = &part->description;
		break;
	case F_MD5:
		slot = &part->md5;
		break;
	case F_LOCATION:
		slot = &part->location;
		break;
	case F_MIME_VERSION:
		return MIME_OK;
	default:
		slot = envelope_slot(part->envelope, f);
		break;
	}
	*slot = mime_arena_strndup(a, v, n);
	return *slot != NULL ? MIME_OK : MIME_ENOMEM;
}

int
mime_fields_apply(struct mime_arena *a, struct mime_part *part,
		  const char *h, size_t len, int digest)
{
	struct mime_header_iter it;
	struct mime_field f;
	/* Each address field's values, LF between (bounded by h). */
	struct mime_buf addr[F_BCC - F_FROM + 1];
	unsigned seen = 0;
	char *v;
	int ret = MIME_OK;

	if ((v = malloc(len + 1)) == NULL)
		return MIME_ENOMEM;
	for (int k = F_FROM; k <= F_BCC; k++)
		mime_buf_init(&addr[k - F_FROM], SIZE_MAX);
	mime_header_init(&it, h, len, FIELDS_MAX);
	while (ret == MIME_OK && mime_header_next(&it, &f)) {
		int k = field_of(&f, part->envelope != NULL);
		size_t n;

		/* Content-* fields: the first counts. */
		if (k < 0 || (k < F_DATE && (seen & (1u << k))))
			continue;
		n = mime_unfold(f.value, f.value_len, v);
		if (address_field(k)) {
			if (seen & (1u << k))
				mime_buf_addc(&addr[k - F_FROM], '\n');
			mime_buf_add(&addr[k - F_FROM], v, n);
		} else {
			ret = apply_one(a, part, k, v, n);
		}
		seen |= 1u << k;
	}
	free(v);
	for (int k = F_FROM; k <= F_BCC; k++) {
		struct mime_buf *b = &addr[k - F_FROM];
		const char **slot;

		if (ret == MIME_OK && (seen & (1u << k))) {
			slot = envelope_slot(part->envelope, k);
			*slot = mime_arena_strndup(a, b->p ? b->p : "",
						   b->len);
			if (*slot == NULL || b->failed)
				ret = MIME_ENOMEM;
		}
		mime_buf_free(b);
	}
	if (ret != MIME_OK)
		return ret;
	if (part->envelope != NULL &&
	    !(seen & (1u << F_TYPE | 1u << F_MIME_VERSION)))
		not_mime(part);
	return mime_fields_default(a, part, digest);
}
