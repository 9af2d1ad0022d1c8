/* sequence-set (RFC 9051 9: seq-number, seq-range, "*"; RFC 5182 "$"),
 * normalized to sorted disjoint ranges, and its compact text form.
 * Pure: no SDK calls. */
#include <stdlib.h>
#include <string.h>

#include "chars.h"
#include "seqset.h"

void
imap_seqset_init(struct imap_seqset *s)
{
	*s = (struct imap_seqset){0};
}

void
imap_seqset_free(struct imap_seqset *s)
{
	free(s->r);
	imap_seqset_init(s);
}

void
imap_seqset_clear(struct imap_seqset *s)
{
	s->n = 0;
}

static int
grow(struct imap_seqset *s, size_t want)
{
	struct ps_uid_range *r;
	size_t cap = s->cap ? s->cap : 8;

	if (want <= s->cap)
		return 0;
	while (cap < want)
		cap *= 2;
	if (cap > SIZE_MAX / sizeof(*r))
		return IMAP_SEQSET_ENOMEM;
	r = realloc(s->r, cap * sizeof(*r));
	if (!r)
		return IMAP_SEQSET_ENOMEM;
	s->r = r;
	s->cap = cap;
	return 0;
}

int
imap_seqset_add(struct imap_seqset *s, uint32_t a, uint32_t b)
{
	uint32_t lo = a < b ? a : b, hi = a < b ? b : a;

	if (hi == 0)
		return 0;
	if (grow(s, s->n + 1) < 0)
		return IMAP_SEQSET_ENOMEM;
	s->r[s->n++] = (struct ps_uid_range){lo ? lo : 1, hi};
	return 0;
}

static int
range_cmp(const void *a, const void *b)
{
	const struct ps_uid_range *x = a, *y = b;

	return (x->first > y->first) - (x->first < y->first);
}

void
imap_seqset_normalize(struct imap_seqset *s)
{
	size_t k = 0;

	if (s->n < 2)
		return;
	qsort(s->r, s->n, sizeof(*s->r), range_cmp);
	for (size_t i = 1; i < s->n; i++) {
		if ((uint64_t)s->r[k].last + 1 >= s->r[i].first) {
			if (s->r[i].last > s->r[k].last)
				s->r[k].last = s->r[i].last;
		} else {
			s->r[++k] = s->r[i];
		}
	}
	s->n = k + 1;
}

/* seq-number at text[*i_r]: nz-number or "*". */
static int
seq_number(const char *text, size_t len, size_t *i_r, uint32_t star,
	   uint32_t *n_r)
{
	size_t i = *i_r;
	uint64_t v = 0;

	if (i < len && text[i] == '*') {
		*n_r = star;
		*i_r = i + 1;
		return 0;
	}
	if (i == len || text[i] < '1' || text[i] > '9')
		return IMAP_SEQSET_ESYNTAX;
	for (; i < len && imap_is_digit((unsigned char)text[i]); i++) {
		v = v * 10 + (uint64_t)(text[i] - '0');
		if (v > UINT32_MAX)
			return IMAP_SEQSET_ESYNTAX;
	}
	*n_r = (uint32_t)v;
	*i_r = i;
	return 0;
}

int
imap_seqset_parse(struct imap_seqset *s, const char *text, size_t len,
		  uint32_t star, size_t max_ranges)
{
	size_t i = 0, items = 0;
	uint32_t a, b;
	int r;

	imap_seqset_clear(s);
	if (len == 1 && text[0] == '$')
		return IMAP_SEQSET_SAVED;
	for (;;) {
		if (++items > max_ranges) {
			r = IMAP_SEQSET_ELIMIT;
			break;
		}
		if ((r = seq_number(text, len, &i, star, &a)) < 0)
			break;
		b = a;
		if (i < len && text[i] == ':') {
			i++;
			if ((r = seq_number(text, len, &i, star, &b)) < 0)
				break;
		}
		if ((r = imap_seqset_add(s, a, b)) < 0)
			break;
		if (i == len) {
			imap_seqset_normalize(s);
			return 0;
		}
		if (text[i] != ',') {
			r = IMAP_SEQSET_ESYNTAX;
			break;
		}
		i++;
	}
	imap_seqset_clear(s);
	return r;
}

uint64_t
imap_seqset_count(const struct imap_seqset *s)
{
	uint64_t n = 0;

	for (size_t i = 0; i < s->n; i++)
		n += (uint64_t)s->r[i].last - s->r[i].first + 1;
	return n;
}

int
imap_seqset_contains(const struct imap_seqset *s, uint32_t n)
{
	size_t lo = 0, hi = s->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (n < s->r[mid].first)
			hi = mid;
		else if (n > s->r[mid].last)
			lo = mid + 1;
		else
			return 1;
	}
	return 0;
}

uint32_t
imap_seqset_last(const struct imap_seqset *s)
{
	return s->n ? s->r[s->n - 1].last : 0;
}

static void
put_range(struct imap_buf *out, uint32_t a, uint32_t b, int first)
{
	if (!first)
		imap_buf_addc(out, ',');
	imap_buf_addu64(out, a);
	if (b != a) {
		imap_buf_addc(out, ':');
		imap_buf_addu64(out, b);
	}
}

int
imap_seqset_format(const struct imap_seqset *s, struct imap_buf *out)
{
	for (size_t i = 0; i < s->n; i++)
		put_range(out, s->r[i].first, s->r[i].last, i == 0);
	return out->error ? -1 : 0;
}

int
imap_seqset_format_list(const uint32_t *v, size_t n, struct imap_buf *out)
{
	size_t i = 0, j;

	while (i < n) {
		for (j = i; j + 1 < n && v[j] != UINT32_MAX &&
		     v[j + 1] == v[j] + 1; j++)
			continue;
		put_range(out, v[i], v[j], i == 0);
		i = j + 1;
	}
	return out->error ? -1 : 0;
}
