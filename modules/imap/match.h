/* LIST patterns (RFC 9051 6.3.9, RFC 3501 6.3.8): "*" matches any
 * characters, "%" any but the hierarchy delimiter, everything else
 * itself. INBOX is case-insensitive (RFC 9051 5.1), so the "INBOX" that
 * starts a stored name ("INBOX" or "INBOX/...") matches whatever case
 * the pattern spells it in. Names and patterns are UTF-8, matched octet
 * by octet, which is exact since a pattern's literal characters are
 * whole sequences. Pure: no SDK calls. */
#ifndef IMAP_MATCH_H
#define IMAP_MATCH_H

#include <stddef.h>

/* A compiled pattern: runs of wildcards collapsed ("%*" is "*"), so that
 * matching costs at most (name length) x (pattern length) steps, with
 * no backtracking to blow up. */
struct imap_match {
	char *pat;             /* collapsed, NUL-terminated */
	size_t len;
	char delim;
	int never;             /* no name can match */
	unsigned char *states; /* 2 * (len + 1) octets of work space */
};

#define IMAP_MATCH_ENOMEM (-1)

/* Compile pattern[0..len) for names at most name_max octets long. A
 * pattern that can match no such name (too many literal characters)
 * compiles to one that matches nothing. 0 or IMAP_MATCH_ENOMEM. */
int imap_match_init(struct imap_match *m, const char *pattern, size_t len,
		    char delim, size_t name_max);
void imap_match_free(struct imap_match *m);

/* 1 when the NUL-terminated name matches, else 0. */
int imap_match(const struct imap_match *m, const char *name);

#endif
