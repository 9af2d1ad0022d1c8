/* libpsmime: a streaming RFC 5322 / MIME (RFC 2045-2049) library for the
 * protocol modules (imap.so for BODYSTRUCTURE, ENVELOPE and SEARCH,
 * smtp.so). Pure: libc and iconv only, no SDK calls, no global state,
 * every allocation bounded by the input or a limit. Linked into a module
 * as the libtool convenience library modules/mime/libpsmime.la. */
#ifndef MIME_H
#define MIME_H

#include <stddef.h>
#include <stdint.h>

/* Return codes; the same values as <poshta/types.h>'s PS_E*. */
#define MIME_OK 0
#define MIME_ENOMEM (-2)
#define MIME_EINVAL (-3)

/* Receives output octets as they are produced. */
typedef void (*mime_emit_fn)(void *arg, const char *data, size_t len);

/* ---- Limits ---------------------------------------------------------- */

#define MIME_DEPTH_MAX 100       /* hard caps on struct mime_limits */
#define MIME_PARTS_MAX 100000
#define MIME_BOUNDARY_MAX 200    /* RFC 2046 5.1.1 says 70; longer is
				  * no boundary */
#define MIME_PARAMS_MAX 64       /* parameters kept per field */
#define MIME_LANGUAGES_MAX 32    /* Content-Language tags kept */

struct mime_limits {
	unsigned max_depth;      /* nesting below the root (default 20):
				  * a part at this depth is a leaf */
	unsigned max_parts;      /* parts in all, root included (1000) */
	size_t max_header;       /* header octets kept per part (64 KiB) */
	size_t max_header_total; /* header octets kept per message (1 MiB) */
};

/* Fill l with the defaults above. A field left 0 means its default. */
void mime_limits_default(struct mime_limits *l);

/* ---- The parsed tree ------------------------------------------------- */

/* Content-Transfer-Encoding (RFC 2045 6.1). */
enum mime_cte {
	MIME_CTE_7BIT = 0, /* also when absent (RFC 2045 6.1) */
	MIME_CTE_8BIT,
	MIME_CTE_BINARY,
	MIME_CTE_QP,
	MIME_CTE_BASE64,
	MIME_CTE_UNKNOWN,  /* anything else, e.g. x-uuencode */
};

/* One parameter of Content-Type or Content-Disposition (RFC 2045 5.1,
 * RFC 2183 2), listed the way IMAP servers show them in BODYSTRUCTURE
 * (Dovecot's way): every plain parameter in order, repeated ones too,
 * then the RFC 2231 ones (3, 4) by name, their sections joined. */
struct mime_param {
	const char *name;     /* as written (case kept); RFC 2231 sections
			       * under their base name, "*" added when one
			       * was extended ("name*"); sections that do not
			       * join (one missing or repeated) keep their own
			       * names ("name*1", "name*0*") */
	const char *value;    /* unquoted; sections joined; an extended
			       * value as written, "charset'lang'%XX...",
			       * plain sections in it percent-encoded */
	const char *decoded;  /* "name*" only: the text, percent-decoded
			       * and converted to UTF-8 (kept as octets
			       * when the charset is unknown); else NULL */
	const char *charset;  /* "name*" only, may be "", else NULL */
	const char *language; /* "name*" only, may be "", else NULL */
};

/* RFC 5322 3.6 fields of a message as written, unfolded (mime_unfold),
 * encoded words left as they are; NULL when absent. A repeated field
 * counts as Dovecot counts it: the last Date, Subject, In-Reply-To and
 * Message-ID; for an address field every one, their values joined with
 * LF (which no unfolded value holds) for the formatter to list all their
 * addresses. RFC 3501 7.4.2's defaults (Sender and Reply-To fall back to
 * From) are the formatter's job. */
struct mime_envelope {
	const char *date;
	const char *subject;
	const char *from;
	const char *sender;
	const char *reply_to;
	const char *to;
	const char *cc;
	const char *bcc;
	const char *in_reply_to;
	const char *message_id;
};

/* struct mime_part flags */
#define MIME_PART_MULTIPART 0x001  /* type "multipart": children are its
				    * body parts (there may be none) */
#define MIME_PART_MESSAGE 0x002    /* message/rfc822 or message/global:
				    * one child, the encapsulated message.
				    * Without it such a part is a leaf
				    * (encoded, at a limit, or cut off by a
				    * delimiter in its header) */
#define MIME_PART_DEFAULT_TYPE 0x004 /* no Content-Type, or a message
				      * whose header has neither
				      * Content-Type nor MIME-Version: the
				      * RFC 2045 5.2 / 2046 5.1.5 default
				      * is used, other Content-* fields are
				      * ignored (RFC 2045 4) */
#define MIME_PART_OPAQUE 0x008     /* a multipart or message not split:
				    * depth or parts limit */
#define MIME_PART_NO_BOUNDARY 0x010 /* multipart without a usable
				     * boundary: no children */
#define MIME_PART_NO_END 0x020     /* multipart whose close delimiter
				    * never came */
#define MIME_PART_HEADER_TRUNCATED 0x040 /* header longer than kept */
#define MIME_PART_PARTS_LIMIT 0x080 /* root: max_parts was reached and
				     * later boundaries were content */
#define MIME_PART_FLAGS_ALL 0x0ff

/* A part of a message. Offsets count octets from the start of the
 * message as fed; the header includes its empty line. A multipart's body
 * includes preamble, delimiters and epilogue; a child's body ends before
 * the line break that precedes the next delimiter (RFC 2046 5.1.1). The
 * root and each encapsulated message (the child of a MIME_PART_MESSAGE
 * part) carry an envelope; for them header and body are the message's. */
struct mime_part {
	struct mime_part *parent;
	struct mime_part *children; /* first child */
	struct mime_part *next;     /* next sibling */
	unsigned nchildren;
	unsigned flags;             /* MIME_PART_* */

	uint64_t header_offset;
	uint64_t header_size;
	uint64_t body_offset;       /* header_offset + header_size */
	uint64_t body_size;
	uint64_t body_lines;        /* LF octets in the body */

	const char *type;           /* as written (case kept), "text" by
				     * default; "" or without subtype ""
				     * when Content-Type does not parse */
	const char *subtype;        /* as written, "plain" by default */
	struct mime_param *params;  /* Content-Type parameters */
	unsigned nparams;
	const char *id;             /* Content-ID, raw, or NULL */
	const char *description;    /* Content-Description, raw, or NULL */
	const char *encoding;       /* Content-Transfer-Encoding as written,
				     * "7bit" when absent or not one token */
	enum mime_cte cte;          /* encoding, classified */
	const char *md5;            /* Content-MD5, raw, or NULL */
	const char *disposition;    /* Content-Disposition type as written,
				     * may be "", or NULL (RFC 2183) */
	struct mime_param *disp_params;
	unsigned ndisp_params;
	const char **languages;     /* Content-Language tags (RFC 3282) */
	unsigned nlanguages;
	const char *location;       /* Content-Location, raw (RFC 2557) */
	struct mime_envelope *envelope; /* messages only, else NULL */
};

/* ---- Streaming parser (parse.c) -------------------------------------- */

struct mime_parser;

/* A parser for one message; limits NULL means the defaults. NULL when
 * out of memory. */
struct mime_parser *mime_parser_new(const struct mime_limits *limits);

/* Feed the next len octets of the message, in chunks of any size: the
 * result does not depend on where the chunks are cut. Lines end at LF
 * (CRLF or bare LF, like Dovecot). MIME_OK, or MIME_ENOMEM (the parser
 * then only waits for finish or free). */
int mime_parser_feed(struct mime_parser *p, const void *data, size_t len);

/* End of the message: free the parser and return the tree (free it with
 * mime_tree_free), or NULL when memory ran out. Malformed input never
 * fails: a part that is not closed ends where its parent ends. */
struct mime_part *mime_parser_finish(struct mime_parser *p);

/* Drop a parser without a result. NULL is ignored. */
void mime_parser_free(struct mime_parser *p);

/* Free a tree from mime_parser_finish or mime_cache_read. */
void mime_tree_free(struct mime_part *root);

/* ---- The tree (tree.c) ----------------------------------------------- */

/* The value of the first parameter called name (case-insensitive) in
 * params, or NULL: "boundary" and "charset" are found this way, so an
 * RFC 2231 "charset*" is not one (as in Dovecot). */
const char *mime_param_get(const struct mime_param *params, unsigned n,
			   const char *name);

/* The charset of a text part: its charset parameter, else "us-ascii"
 * (RFC 2045 5.2); NULL for other types. */
const char *mime_part_charset(const struct mime_part *part);

/* The part that IMAP section numbers nums[0..n) name (RFC 3501 6.4.5):
 * the children of a multipart count from 1, the only part of a
 * non-multipart message is 1, and the numbers after a message/rfc822
 * part go into the encapsulated message. NULL when there is no such
 * part. For "2.HEADER" the formatter takes part 2's child's header. */
const struct mime_part *mime_part_section(const struct mime_part *root,
					  const unsigned *nums, size_t n);

/* MIME_OK when the tree keeps every promise above (offsets inside their
 * parent, bodies after headers, lines <= octets, flags consistent,
 * envelopes exactly on messages, depth and part caps), else MIME_EINVAL.
 * The cache reader applies it to every blob. */
int mime_tree_check(const struct mime_part *root);

/* 0 when the two trees are equal in every field above, else nonzero
 * (for tests and the fuzzer). */
int mime_tree_compare(const struct mime_part *a, const struct mime_part *b);

/* ---- Header fields (header.c) ---------------------------------------- */

/* One field of a header block (RFC 5322 2.2): value is everything after
 * the colon up to the line break that ends the field, folds included. */
struct mime_field {
	const char *name;  /* trailing white space removed (obs-field) */
	size_t name_len;
	const char *value;
	size_t value_len;
};

struct mime_header_iter {
	const char *data;
	size_t len, pos;
	unsigned count, max_fields;
};

/* Iterate over data[0..len), a header block, yielding at most max_fields
 * fields (0: no limit). */
void mime_header_init(struct mime_header_iter *it, const char *data,
		      size_t len, unsigned max_fields);

/* The next field: 1, or 0 at the first empty line (CRLF or bare LF), the
 * end of data, or max_fields. A line without a colon, with white space
 * or controls in its name, or a continuation with no field before it is
 * skipped with its continuations, as Dovecot does. */
int mime_header_next(struct mime_header_iter *it, struct mime_field *f);

/* Unfold (RFC 5322 2.2.3: every line break removed, the white space
 * after it kept) as Dovecot keeps a field's value: the white space after
 * the colon dropped (one octet of it when the first line holds nothing
 * else), white space at the end kept, a CR that ends no line made a
 * space, or dropped before white space. out (room for len octets) gets
 * the result, which holds no CR or LF; returns its length. */
size_t mime_unfold(const char *value, size_t len, char *out);

/* ---- Addresses (address.c) ------------------------------------------- */

/* One address as IMAP's ENVELOPE wants it (RFC 3501 7.4.2): a group
 * starts with {mailbox = group name, host = NULL} and ends with all
 * NULL. A mailbox always has a non-NULL host. */
struct mime_address {
	const char *name;    /* display name: phrase with quotes removed,
			      * words joined by one space, encoded words
			      * left raw; or the last comment of
			      * "a@b (Name)"; NULL if none */
	const char *route;   /* obs-route "@a,@b" (RFC 5322 4.4), or NULL */
	const char *mailbox; /* local part, unquoted */
	const char *host;    /* domain or [literal] */
};

#define MIME_ADDRESS_MAX 1000 /* entries when max is 0 */
#define MIME_MISSING_MAILBOX "MISSING_MAILBOX"
#define MIME_MISSING_DOMAIN "MISSING_DOMAIN"

/* Parse an address-list (RFC 5322 3.4 with section 4.4's obsolete forms:
 * routes, comments and CFWS anywhere, dots anywhere in a local part) as
 * Dovecot does. Never fails on syntax: what is missing is filled in (a
 * local part without '@' gets host MIME_MISSING_DOMAIN, "@host" and "<>"
 * mailbox MIME_MISSING_MAILBOX, a broken route "INVALID_ROUTE", a broken
 * angle address host "SYNTAX_ERROR"), words without an address become a
 * display name with both missing, a comment after an addr-spec names it,
 * a group not closed by ';' is closed; the list ends where an address is
 * followed by anything but ','. At most max entries (0:
 * MIME_ADDRESS_MAX); an open group still gets its end. *list_r is one
 * allocation for free() (NULL when there are no entries). MIME_OK or
 * MIME_ENOMEM. */
int mime_address_parse(const char *s, size_t len, unsigned max,
		       struct mime_address **list_r, unsigned *count_r);

/* ---- Encoded words and charsets (rfc2047.c, charset.c) --------------- */

/* Decode an unstructured field value s[0..len) (RFC 2047: "B" and "Q"
 * encoded words, anywhere in the text; white space between two encoded
 * words dropped (6.2); adjacent words in one charset decoded together so
 * a character split between them survives) to UTF-8. Line breaks are
 * unfolded. An encoded word in an unknown charset stays as written;
 * invalid octets become U+FFFD. *out_r is NUL-terminated, for free().
 * MIME_OK or MIME_ENOMEM. */
int mime_rfc2047_decode(const char *s, size_t len, char **out_r,
			size_t *len_r);

/* 1 when text in charset can be converted to UTF-8 (names are checked:
 * letters, digits and "-_.:+" only; aliases as iconv knows them). */
int mime_charset_known(const char *charset);

/* A streaming conversion of text in one charset to UTF-8. */
struct mime_charset_conv;

/* MIME_OK, MIME_EINVAL (unknown charset) or MIME_ENOMEM. */
int mime_charset_conv_new(const char *charset,
			  struct mime_charset_conv **conv_r);

/* Convert the next chunk (cut anywhere): emit gets whole UTF-8
 * characters only; an invalid octet becomes U+FFFD. */
void mime_charset_conv_feed(struct mime_charset_conv *c, const void *in,
			    size_t len, mime_emit_fn emit, void *arg);

/* The end: an incomplete sequence held back becomes U+FFFD, and the
 * converter is reset for new text. */
void mime_charset_conv_finish(struct mime_charset_conv *c,
			      mime_emit_fn emit, void *arg);

void mime_charset_conv_free(struct mime_charset_conv *c);

/* The length of the well-formed UTF-8 sequence at s (1 for ASCII; RFC
 * 3629 4: shortest form, no surrogates, at most U+10FFFF), 0 if it is
 * invalid, or -1 if it is a valid beginning cut by len. libpsdsn uses it
 * too. */
int mime_utf8_seq(const unsigned char *s, size_t len);

/* One-shot conversion; *out_r NUL-terminated, for free(). MIME_OK,
 * MIME_EINVAL (unknown charset) or MIME_ENOMEM. */
int mime_charset_to_utf8(const char *charset, const void *in, size_t len,
			 char **out_r, size_t *len_r);

/* Room mime_casefold_utf8 may need for len input octets. */
#define MIME_CASEFOLD_MAX(len) ((len) * 3)

/* i;unicode-casemap (RFC 5051) for substring search, without its
 * decomposition step: Unicode's simple case folding (CaseFolding.txt
 * status C and S, Unicode 14), so "K", the Kelvin sign and "k" compare
 * equal, final sigma folds to sigma, long s to s. Invalid UTF-8 octets
 * become U+FFFD. out needs MIME_CASEFOLD_MAX(len); returns its length.
 * Give whole characters: a sequence cut at the end becomes U+FFFD. */
size_t mime_casefold_utf8(const char *in, size_t len, char *out);

/* i;ascii-casemap (RFC 4790 9.2): A-Z to a-z only. out may be in. */
void mime_casefold_ascii(const char *in, size_t len, char *out);

/* ---- Content-Transfer-Encoding (decode.c) ---------------------------- */

/* The encoding named by s (case-insensitive), RFC 2045 6.1. */
enum mime_cte mime_cte_parse(const char *s);

struct mime_decoder {
	enum mime_cte cte;
	unsigned state;
	unsigned acc;      /* base64 bits, or QP's pending hex digit */
	unsigned nacc;
	unsigned nws;      /* QP: white space held back */
	char ws[64];
	char out[1024];
	size_t olen;
};

/* Start decoding a body in cte: base64 (RFC 2045 6.8: characters
 * outside the alphabet ignored, as Dovecot does; "=" ends a quantum),
 * quoted-printable (6.7: soft line breaks, trailing white space dropped,
 * an invalid "=" sequence passed through as it is); anything else is
 * copied. */
void mime_decoder_init(struct mime_decoder *d, enum mime_cte cte);

/* Decode the next chunk, cut anywhere; the output is the same as for
 * the whole at once. */
void mime_decoder_feed(struct mime_decoder *d, const void *in, size_t len,
		       mime_emit_fn emit, void *arg);

/* The end of the body: what was held back is emitted. */
void mime_decoder_finish(struct mime_decoder *d, mime_emit_fn emit,
			 void *arg);

/* ---- Dates (date.c) -------------------------------------------------- */

/* An RFC 5322 3.3 date-time, with section 4.3's obsolete forms (two- and
 * three-digit years, named zones UT GMT EST EDT CST CDT MST MDT PST PDT,
 * military zones as -0000, CFWS anywhere), no weekday, no seconds, a
 * missing zone taken as +0000, anything after the zone ignored. The
 * weekday is not checked against the date. *time_r: seconds since the
 * epoch (UTC); *tz_r: the zone in minutes east of UTC. MIME_OK or
 * MIME_EINVAL. */
int mime_date_parse(const char *s, size_t len, int64_t *time_r, int *tz_r);

/* ---- Cache blobs (cache.c) ------------------------------------------- */

#define MIME_CACHE_VERSION 2 /* 2: case kept, parameters listed as IMAP
				* shows them */

/* Serialize a tree (every field above) into a versioned, checksummed
 * blob for storage; *blob_r is for free(). MIME_OK or MIME_ENOMEM. */
int mime_cache_write(const struct mime_part *root, void **blob_r,
		     size_t *len_r);

/* Rebuild the tree from a blob, validating everything (magic, version,
 * length, checksum, every count and string, then mime_tree_check): a
 * corrupt, truncated or hostile blob is MIME_EINVAL and the caller
 * parses the message again. MIME_OK, MIME_EINVAL or MIME_ENOMEM. */
int mime_cache_read(const void *blob, size_t len, struct mime_part **root_r);

#endif
