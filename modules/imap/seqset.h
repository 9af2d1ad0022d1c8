/* Sequence sets (RFC 3501 9 and RFC 9051 9 "sequence-set"; "$" of
 * SEARCHRES, RFC 5182): parsed into sorted, disjoint ranges for a given
 * "*", and written back compactly for COPYUID (RFC 4315), ESEARCH ALL
 * (RFC 4731) and VANISHED (RFC 7162). Pure: no SDK calls. */
#ifndef IMAP_SEQSET_H
#define IMAP_SEQSET_H

#include <stddef.h>
#include <stdint.h>

#include <poshta/storage.h> /* struct ps_uid_range, for the types only */

#include "buffer.h"

/* Ranges of message numbers or UIDs. After parse or normalize they are
 * sorted, disjoint and not adjacent (so "1:3,4" is one range 1:4), none
 * holds 0, and the storage calls can take r and n as they are. */
struct imap_seqset {
	struct ps_uid_range *r;
	size_t n, cap;
};

#define IMAP_SEQSET_SAVED 1      /* the text was "$": use the saved set */
#define IMAP_SEQSET_ESYNTAX (-1) /* not a sequence-set */
#define IMAP_SEQSET_ELIMIT (-2)  /* more than max_ranges items */
#define IMAP_SEQSET_ENOMEM (-3)

/* An empty set; allocates nothing. */
void imap_seqset_init(struct imap_seqset *s);
void imap_seqset_free(struct imap_seqset *s);
/* Empty it, keeping the memory. */
void imap_seqset_clear(struct imap_seqset *s);

/* Parse text[0..len) into s (emptied first), strictly: nz-numbers up to
 * 4294967295 without leading zeros, "*", "a:b" in either order, items
 * separated by single commas, at most max_ranges of them. "*" stands for
 * star: the message count for sequence numbers, the highest UID in use
 * for UIDs (RFC 9051 6.4.9: "559:*" still names that message when 559
 * is past it). Ranges are clipped to start at 1, so with star 0 a "*"
 * alone gives an empty set and "1:*" gives 1. Whether a number past the
 * message count is an error (it is, for sequence numbers) is the
 * caller's check, against imap_seqset_last().
 * Returns 0, IMAP_SEQSET_SAVED for "$" (s left empty) or a negative
 * IMAP_SEQSET_E* code. */
int imap_seqset_parse(struct imap_seqset *s, const char *text, size_t len,
		      uint32_t star, size_t max_ranges);

/* Append the range a:b (either order; 0 is taken as 1, a range of only
 * 0 is dropped) without normalizing: for building a set from results.
 * 0 or IMAP_SEQSET_ENOMEM. */
int imap_seqset_add(struct imap_seqset *s, uint32_t a, uint32_t b);
/* Sort and merge after imap_seqset_add(). */
void imap_seqset_normalize(struct imap_seqset *s);

/* For a normalized set: the number of members, whether n is one, and
 * the highest member (0 when empty). */
uint64_t imap_seqset_count(const struct imap_seqset *s);
int imap_seqset_contains(const struct imap_seqset *s, uint32_t n);
uint32_t imap_seqset_last(const struct imap_seqset *s);

/* Write a normalized set as "1:3,7,9:12" (nothing for an empty set).
 * 0, or -1 when out's error is set. */
int imap_seqset_format(const struct imap_seqset *s, struct imap_buf *out);

/* Write the numbers v[0..n) in the order given, runs of consecutive
 * ascending numbers as ranges: COPYUID's two sets must pair source and
 * destination UIDs in order (RFC 4315 3), so they are not sorted. 0, or
 * -1 when out's error is set. */
int imap_seqset_format_list(const uint32_t *v, size_t n,
			    struct imap_buf *out);

#endif
