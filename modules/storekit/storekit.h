/* libpsstore: the rules every storage backend applies the same way, with
 * no SDK calls (docs/architecture.md, "Storage kit"): keywords (RFC 3501
 * 2.3.2) and the lists STORE changes, UID sets made sorted and disjoint,
 * mailbox names (RFC 3501 5.1) and UTF-8 (RFC 3629 4), and the file-safe
 * encoding of user names. It uses the SDK's types and codes only, so a
 * unit test links it alone. */
#ifndef PST_STOREKIT_H
#define PST_STOREKIT_H

#include <stddef.h>

#include <poshta/poshta.h>

#define PST_NAME_MAX 1000    /* bytes of a mailbox name */
#define PST_KEYWORD_MAX 128  /* keywords on one message */
#define PST_KEYWORD_LEN 255  /* bytes of one keyword */
#define PST_DELIM '/'        /* the SDK's hierarchy delimiter */

/* err's message from fmt (err may be NULL); returns code. */
int pst_err(struct ps_error *err, int code, const char *fmt, ...)
	PS_PRINTF(3, 4);

/* names.c */
/* Bytes in the UTF-8 sequence at s (RFC 3629 4: no overlongs, no
 * surrogates, nothing past U+10FFFF), or 0 if it is not one. s holds a
 * NUL-terminated string: a sequence cut short by the NUL is not one. */
size_t pst_utf8_len(const unsigned char *s);
/* Check a full mailbox name and write its canonical form to out
 * (PST_NAME_MAX + 1 bytes): 1 to PST_NAME_MAX bytes of UTF-8, no control
 * characters, no LIST wildcards ('*', '%', RFC 3501 6.3.8) nor a byte of
 * forbid (NULL: none), levels non-empty, and "INBOX" in any case as the
 * whole name or its first level becomes "INBOX". why follows the message
 * about a bad character ("" for nothing). PS_STORE_EBADNAME otherwise. */
int pst_name_canon(const char *name, char *out, const char *forbid,
		   const char *why, struct ps_error *err);
/* Lower case; every byte but [a-z0-9_+-] and an inner '.' as %xx, so no
 * result is "", "." or "..", none holds '/', and distinct inputs give
 * distinct results: a part of a path for a user name's part. malloc'd,
 * NULL when out of memory. */
char *pst_path_encode(const char *s, size_t len);

/* keywords.c: a message's keywords. v points into split, the caller's
 * strings, or both (while a STORE computes the new list). Keywords
 * compare case-insensitively (RFC 3501 9) and keep the spelling they
 * were first stored with. Zero it before first use. */
struct pst_kw {
	const char *v[2 * PST_KEYWORD_MAX];
	size_t n;
	char *split, *text;
	size_t split_cap, text_cap;
};

/* An atom (RFC 3501 9) of 1 to PST_KEYWORD_LEN bytes; NULL is not. */
int pst_kw_valid(const char *kw);
/* At most PST_KEYWORD_MAX keywords, each pst_kw_valid. PS_EINVAL. */
int pst_kw_check(const char *const *kw, size_t n, struct ps_error *err);
/* Split a stored list (space-separated; NULL: none) into k. */
int pst_kw_load(struct pst_kw *k, const char *text);
/* Change k's list as STORE's mode asks (RFC 3501 6.4.6); *changed_r
 * tells whether the set of keywords differs afterwards. kw is checked
 * (pst_kw_check) and must outlive k's use of it. */
int pst_kw_apply(struct pst_kw *k, enum ps_store_mode mode,
		 const char *const *kw, size_t n, int *changed_r,
		 struct ps_error *err);
/* The list as stored: space-separated, NULL when empty or out of memory
 * (the caller tells them apart by k->n). Owned by k. */
const char *pst_kw_join(struct pst_kw *k);
void pst_kw_free(struct pst_kw *k);

/* store.c: STORE's mode known, flags known (PS_FLAG_RECENT allowed, for
 * the caller to drop), keywords pst_kw_check'ed. PS_EINVAL otherwise. */
int pst_store_check(enum ps_store_mode mode, unsigned flags,
		    const char *const *kw, size_t nkw, struct ps_error *err);

/* Bits old as STORE's mode makes them with bits (RFC 3501 6.4.6): flags,
 * or a backend's keyword mask. */
static inline unsigned
pst_flags_apply(unsigned old, enum ps_store_mode mode, unsigned bits)
{
	switch (mode) {
	case PS_STORE_ADD:
		return old | bits;
	case PS_STORE_REMOVE:
		return old & ~bits;
	default:
		return bits;
	}
}

/* append.c: an appended message's flags known (PS_FLAG_RECENT allowed,
 * for the caller to drop), its zone within a day either way, keywords
 * pst_kw_check'ed; PS_EINVAL otherwise. */
int pst_append_check(unsigned flags, const char *const *kw, size_t n, int tz,
		     struct ps_error *err);
/* Its keywords as stored, without repeats: *text_r malloc'd, NULL for
 * none. PS_EINVAL, PS_ENOMEM. */
int pst_append_keywords(const char *const *kw, size_t n, char **text_r,
			struct ps_error *err);

/* uidset.c: a sorted, merged UID set (RFC 3501 9, sequence-set); "all"
 * backs the NULL set. */
struct pst_uidset {
	struct ps_uid_range *r;
	size_t n;
	struct ps_uid_range all;
};

/* s from nset ranges in any order ("5:3" is 3:5), overlapping or not:
 * sorted, disjoint, UID 0 dropped. set NULL means every UID. PS_ENOMEM. */
int pst_uidset(const struct ps_uid_range *set, size_t nset,
	       struct pst_uidset *s, struct ps_error *err);
void pst_uidset_free(struct pst_uidset *s);

#endif
