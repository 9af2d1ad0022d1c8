/* libpsmime's internals shared between its files: the arena a tree lives
 * in, a bounded growable buffer, the lexical helpers of RFC 5322 3.2, and
 * the steps the parser and the cache reader share. Not for callers. */
#ifndef MIME_PRIVATE_H
#define MIME_PRIVATE_H

#include "mime.h"

/* ---- Arena (tree.c) -------------------------------------------------- */

struct mime_arena_block;

/* Everything of one tree: freed at once. */
struct mime_arena {
	struct mime_arena_block *head;
	size_t used, cap; /* of head */
};

/* The root and its arena in one allocation: mime_tree_free finds the
 * arena from the root. */
struct mime_tree {
	struct mime_part root; /* first: the tree is its root's address */
	struct mime_arena arena;
};

struct mime_tree *mime_tree_new(void);

/* Zeroed memory from the arena, or NULL. */
void *mime_arena_alloc(struct mime_arena *a, size_t n);

/* s[0..n) and a NUL, or NULL. */
char *mime_arena_strndup(struct mime_arena *a, const char *s, size_t n);

void mime_arena_free(struct mime_arena *a);

/* ---- Growable buffer (tree.c) ---------------------------------------- */

/* Octets in memory up to max (then further appends are dropped and
 * truncated set), or failed after an allocation failure. */
struct mime_buf {
	char *p;
	size_t len, cap, max;
	int truncated, failed;
};

void mime_buf_init(struct mime_buf *b, size_t max);
void mime_buf_add(struct mime_buf *b, const void *data, size_t len);
void mime_buf_addc(struct mime_buf *b, char ch);
/* Hand over the contents NUL-terminated (the buffer is emptied); NULL
 * if an allocation failed. */
char *mime_buf_steal(struct mime_buf *b, size_t *len_r);
void mime_buf_free(struct mime_buf *b);
/* An emit callback appending to the struct mime_buf in arg. */
void mime_buf_emit(void *arg, const char *data, size_t len);

/* ---- Lexical helpers (header.c) -------------------------------------- */

static inline int
mime_is_wsp(int ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

static inline int
mime_tolower(int ch)
{
	return ch >= 'A' && ch <= 'Z' ? ch + ('a' - 'A') : ch;
}

/* The index after the white space and comments (RFC 5322 3.2.2) that
 * start at s[i]; an unterminated comment runs to the end. */
size_t mime_skip_cfws(const char *s, size_t len, size_t i);

/* RFC 2045 5.1 token characters (ASCII printable but tspecials). */
int mime_is_token(int ch);

/* Case-insensitive compare of s[0..n) with the NUL-terminated lit. */
int mime_eq(const char *s, size_t n, const char *lit);

/* ---- Parameters (param.c) -------------------------------------------- */

/* Parse "type/subtype *(; param)" (slash 1: Content-Type) or "type *(;
 * param)" (slash 0: Content-Disposition) from the unfolded value v as
 * Dovecot does; type and subtype go into the arena as written. MIME_OK;
 * MIME_EINVAL when the type does not parse (*type_r and *subtype_r then
 * hold what Dovecot keeps of it: a type alone at the end, else "", and
 * there are no parameters; slash 0: only for a comment that never
 * closes); or MIME_ENOMEM. */
int mime_param_parse(struct mime_arena *a, const char *v, size_t len,
		     int slash, const char **type_r, const char **subtype_r,
		     struct mime_param **params_r, unsigned *nparams_r);

/* A field that must be one token and nothing else but comments
 * (Content-Transfer-Encoding, RFC 2045 6.1): 1 with v[*start_r..) of
 * *len_r octets, else 0. */
int mime_param_token(const char *v, size_t len, size_t *start_r,
		     size_t *len_r);

/* ---- Fields (fields.c) ----------------------------------------------- */

/* Fill part's Content-* fields (and envelope, if it has one) from its
 * header block h[0..len); digest: the parent is multipart/digest, so the
 * default type is message/rfc822 (RFC 2046 5.1.5). MIME_OK or
 * MIME_ENOMEM. */
int mime_fields_apply(struct mime_arena *a, struct mime_part *part,
		      const char *h, size_t len, int digest);

/* The defaults of a part with no header (RFC 2045 5.2, 6.1). */
int mime_fields_default(struct mime_arena *a, struct mime_part *part,
			int digest);

/* ---- UTF-8 (charset.c) ----------------------------------------------- */

#define MIME_REPLACEMENT "\xef\xbf\xbd" /* U+FFFD */


/* ---- Cache (cache.c) ------------------------------------------------- */

uint32_t mime_crc32(const void *data, size_t len);

#endif
