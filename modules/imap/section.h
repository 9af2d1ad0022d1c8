/* FETCH body sections (RFC 9051 9 "section", "section-binary",
 * "partial"; RFC 3516 BINARY): a SECTION token of parser.h taken apart
 * and checked against the grammar. Pure: no SDK calls. */
#ifndef IMAP_SECTION_H
#define IMAP_SECTION_H

#include <stddef.h>
#include <stdint.h>

#include "parser.h"

#define IMAP_SECTION_PARTS 32 /* section-part numbers we take */

enum imap_body_att {
	IMAP_BODY,        /* BODY[...] */
	IMAP_BODY_PEEK,   /* BODY.PEEK[...] */
	IMAP_BINARY,      /* BINARY[...] */
	IMAP_BINARY_PEEK, /* BINARY.PEEK[...] */
	IMAP_BINARY_SIZE, /* BINARY.SIZE[...] */
};

enum imap_section_text {
	IMAP_SECTION_ALL = 0,          /* "[]" or only a part: the body */
	IMAP_SECTION_HEADER,
	IMAP_SECTION_HEADER_FIELDS,
	IMAP_SECTION_HEADER_FIELDS_NOT,
	IMAP_SECTION_TEXT,
	IMAP_SECTION_MIME,             /* only after a part number */
};

struct imap_section {
	enum imap_body_att att;
	uint32_t part[IMAP_SECTION_PARTS]; /* "1.2.3": 1, 2, 3 */
	size_t nparts;
	enum imap_section_text text;
	/* HEADER.FIELDS[.NOT]: the field names, each an astring (read them
	 * with imap_arg_get_astring()); at least one. */
	const struct imap_arg *fields;
	size_t nfields;
	int partial;                  /* <start.length> given */
	uint64_t start, length;
};

/* Take a SECTION argument apart. BINARY forms take only part numbers,
 * BINARY.SIZE no partial, MIME needs a part. 0 or -1 (a BAD reply). The
 * pointers in *sec point into the parser's arguments. */
int imap_section_parse(const struct imap_arg *a, struct imap_section *sec);

#endif
