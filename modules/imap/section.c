/* section-spec (RFC 9051 9): section-msgtext / section-part ["."
 * section-text], where section-part is nz-numbers joined by "." and
 * section-text adds MIME; section-binary (RFC 3516) is a part alone.
 * Pure: no SDK calls. */
#include <string.h>
#include <strings.h>

#include "chars.h"
#include "section.h"

static const struct {
	const char *name;
	enum imap_body_att att;
} atts[] = {
	{"BODY", IMAP_BODY}, {"BODY.PEEK", IMAP_BODY_PEEK},
	{"BINARY", IMAP_BINARY}, {"BINARY.PEEK", IMAP_BINARY_PEEK},
	{"BINARY.SIZE", IMAP_BINARY_SIZE},
};

static const struct {
	const char *name;
	enum imap_section_text text;
} texts[] = {
	{"HEADER", IMAP_SECTION_HEADER},
	{"HEADER.FIELDS", IMAP_SECTION_HEADER_FIELDS},
	{"HEADER.FIELDS.NOT", IMAP_SECTION_HEADER_FIELDS_NOT},
	{"TEXT", IMAP_SECTION_TEXT},
	{"MIME", IMAP_SECTION_MIME},
};

/* section-part at s: nz-number *("." nz-number), stopping before a "."
 * that is not followed by a digit. Returns the octets read, 0 if none. */
static size_t
parts(const char *s, size_t len, struct imap_section *sec)
{
	size_t i = 0, done = 0;

	while (i < len && s[i] >= '1' && s[i] <= '9') {
		uint64_t v = 0;

		if (sec->nparts == IMAP_SECTION_PARTS)
			return 0;
		for (; i < len && imap_is_digit((unsigned char)s[i]); i++) {
			v = v * 10 + (uint64_t)(s[i] - '0');
			if (v > UINT32_MAX)
				return 0;
		}
		sec->part[sec->nparts++] = (uint32_t)v;
		done = i;
		if (i == len || s[i] != '.')
			break;
		i++;
	}
	return done;
}

static int
field_list(const struct imap_arg *l, struct imap_section *sec)
{
	const char *s;
	size_t n;

	if (imap_arg_get_list(l, &sec->fields, &sec->nfields) < 0 ||
	    sec->nfields == 0)
		return -1;
	for (size_t i = 0; i < sec->nfields; i++)
		if (imap_arg_get_astring(&sec->fields[i], &s, &n) < 0 || n == 0)
			return -1;
	return 0;
}

int
imap_section_parse(const struct imap_arg *a, struct imap_section *sec)
{
	const char *spec = "";
	size_t slen = 0, i, k;
	int found = 0;

	memset(sec, 0, sizeof(*sec));
	if (a->type != IMAP_ARG_SECTION)
		return -1;
	for (k = 0; k < sizeof(atts) / sizeof(atts[0]) && !found; k++)
		if (strcasecmp(a->str, atts[k].name) == 0) {
			sec->att = atts[k].att;
			found = 1;
		}
	if (!found || a->count > 2 || (a->count == 2 &&
	    a->list[1].type != IMAP_ARG_LIST))
		return -1;
	if (a->count > 0 && imap_arg_get_word(&a->list[0], &spec, &slen) < 0)
		return -1;
	i = 0;
	if (slen > 0 && spec[0] >= '1' && spec[0] <= '9') {
		/* Parts, then "." and a section-text, or the end. */
		if ((i = parts(spec, slen, sec)) == 0)
			return -1;
		if (i < slen && (spec[i] != '.' || ++i == slen))
			return -1;
	}
	if (i < slen) {
		found = 0;
		for (k = 0; k < sizeof(texts) / sizeof(texts[0]); k++)
			if (strcasecmp(spec + i, texts[k].name) == 0) {
				sec->text = texts[k].text;
				found = 1;
				break;
			}
		if (!found || (sec->text == IMAP_SECTION_MIME && !sec->nparts))
			return -1;
	}
	if (sec->att >= IMAP_BINARY && sec->text != IMAP_SECTION_ALL)
		return -1;
	if (sec->text == IMAP_SECTION_HEADER_FIELDS ||
	    sec->text == IMAP_SECTION_HEADER_FIELDS_NOT) {
		if (a->count != 2 || field_list(&a->list[1], sec) < 0)
			return -1;
	} else if (a->count == 2) {
		return -1;
	}
	if (a->flags & IMAP_ARGF_PARTIAL) {
		if (sec->att == IMAP_BINARY_SIZE)
			return -1;
		sec->partial = 1;
		sec->start = a->partial_start;
		sec->length = a->partial_len;
	}
	return 0;
}
