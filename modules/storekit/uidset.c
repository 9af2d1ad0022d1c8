/* UID sets for every storage backend (RFC 3501 9, sequence-set; RFC 4315
 * for UID EXPUNGE): ranges in any order, "5:3" meaning 3:5, overlapping
 * or not, become sorted disjoint ranges, so every caller walks them in UID
 * order and meets each message once. UID 0 never names a message. */
#include <stdlib.h>

#include "storekit.h"

static int
pst_range_cmp(const void *a, const void *b)
{
	const struct ps_uid_range *x = a, *y = b;

	return (x->first > y->first) - (x->first < y->first);
}

/* NULL means every UID. */
int
pst_uidset(const struct ps_uid_range *set, size_t nset, struct pst_uidset *s,
	   struct ps_error *err)
{
	size_t n = 0;

	s->all = (struct ps_uid_range){ 1, UINT32_MAX };
	s->r = &s->all;
	s->n = 1;
	if (!set)
		return 0;
	s->r = NULL;
	s->n = 0;
	if (!nset)
		return 0;
	s->r = calloc(nset, sizeof(*s->r));
	if (!s->r)
		return pst_err(err, PS_ENOMEM, "out of memory");
	for (size_t i = 0; i < nset; i++) {
		uint32_t a = set[i].first, b = set[i].last;

		s->r[n].first = a < b ? a : b;
		s->r[n].last = a < b ? b : a;
		if (s->r[n].last == 0)
			continue;
		if (s->r[n].first == 0)
			s->r[n].first = 1;
		n++;
	}
	qsort(s->r, n, sizeof(*s->r), pst_range_cmp);
	for (size_t i = 0; i < n; i++) {
		struct ps_uid_range *prev = s->n ? &s->r[s->n - 1] : NULL;

		if (prev && (uint64_t)prev->last + 1 >= s->r[i].first) {
			if (s->r[i].last > prev->last)
				prev->last = s->r[i].last;
		} else {
			s->r[s->n++] = s->r[i];
		}
	}
	return 0;
}

void
pst_uidset_free(struct pst_uidset *s)
{
	if (s->r != &s->all)
		free(s->r);
	s->r = NULL;
	s->n = 0;
}
