/* A part's header block into its fields: Content-Type (RFC 2045 5, with
 * the defaults of 5.2 and RFC 2046 5.1.5), Content-Transfer-Encoding
 * (6), Content-ID and Content-Description (7, 8), Content-MD5 (RFC
 * 1864), Content-Disposition (RFC 2183), Content-Language (RFC 3282),
 * Content-Location (RFC 2557), and a message's envelope fields (RFC 5322
 * 3.6). The first of a repeated field counts, as in Dovecot. */
#include <stdlib.h>
#include <string.h>

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

/* Content-Transfer-Encoding: one token, lower case; "" is the default. */
static int
set_cte(struct mime_arena *a, struct mime_part *part, const char *v,
	size_t n)
{
	size_t i = mime_skip_cfws(v, n, 0), e = i;
	char *s;

	while (e < n && mime_is_token((unsigned char)v[e]))
		e++;
	if (e == i)
		return MIME_OK;
	if ((s = mime_arena_strndup(a, v + i, e - i)) == NULL)
		return MIME_ENOMEM;
	for (char *q = s; *q; q++)
		*q = (char)mime_tolower((unsigned char)*q);
	part->encoding = s;
	return MIME_OK;
}

/* Content-Language: a comma-separated list of tags, CFWS around. */
static int
set_languages(struct mime_arena *a, struct mime_part *part, const char *v,
	      size_t n)
{
	const char *tags[MIME_LANGUAGES_MAX];
	unsigned count = 0;
	size_t i = 0;

	while (i < n && count < MIME_LANGUAGES_MAX) {
		size_t e;

		i = mime_skip_cfws(v, n, i);
		for (e = i; e < n && v[e] != ',' && v[e] != '(' &&
			    v[e] != ';' && !mime_is_wsp(v[e]); e++)
			;
		if (e > i && (tags[count++] = mime_arena_strndup(
				      a, v + i, e - i)) == NULL)
			return MIME_ENOMEM;
		i = mime_skip_cfws(v, n, e);
		while (i < n && v[i] != ',')
			i++; /* stray text after a tag */
		if (i < n)
			i++;
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
	if (part->flags & MIME_PART_MULTIPART)
		part->flags &= ~(unsigned)MIME_PART_MULTIPART;
	if (strcmp(part->type, "multipart") == 0)
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
		r = mime_param_parse(a, v, n, 1, &part->type, &sub,
				     &part->params, &part->nparams);
		if (r == MIME_OK) {
			part->subtype = sub;
		} else {
			part->type = NULL; /* the default, later */
			part->params = NULL;
			part->nparams = 0;
		}
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
	unsigned seen = 0;
	char *v;
	int ret = MIME_OK;

	if ((v = malloc(len + 1)) == NULL)
		return MIME_ENOMEM;
	mime_header_init(&it, h, len, FIELDS_MAX);
	while (ret == MIME_OK && mime_header_next(&it, &f)) {
		int k = field_of(&f, part->envelope != NULL);
		size_t n;

		if (k < 0 || (seen & (1u << k)))
			continue;
		seen |= 1u << k;
		n = mime_unfold(f.value, f.value_len, v);
		ret = apply_one(a, part, k, v, n);
	}
	free(v);
	if (ret != MIME_OK)
		return ret;
	return mime_fields_default(a, part, digest);
}
