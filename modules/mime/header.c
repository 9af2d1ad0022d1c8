/* Header fields (RFC 5322 2.2): iterate over a header block, unfold
 * values (2.2.3), and the lexical pieces the structured fields share:
 * comments and white space (3.2.2), MIME tokens (RFC 2045 5.1). Lines
 * end at LF, with or without CR, and a line that is no field is skipped
 * as Dovecot does. */
#include <string.h>

#include "mime_private.h"

void
mime_header_init(struct mime_header_iter *it, const char *data, size_t len,
		 unsigned max_fields)
{
	*it = (struct mime_header_iter){
		.data = data, .len = len, .max_fields = max_fields};
}

/* The index after the line at i, its LF included. */
static size_t
line_end(const struct mime_header_iter *it, size_t i)
{
	const char *nl = memchr(it->data + i, '\n', it->len - i);

	return nl != NULL ? (size_t)(nl - it->data) + 1 : it->len;
}

/* 1 when the line at i is empty: "\n" or "\r\n". */
static int
empty_line(const struct mime_header_iter *it, size_t i)
{
	const char *d = it->data;

	return d[i] == '\n' ||
	       (d[i] == '\r' && i + 1 < it->len && d[i + 1] == '\n');
}

/* A field name: no white space inside, no controls (RFC 5322 2.2 ftext,
 * 8-bit let through as real mail has it). */
static int
name_ok(const char *s, size_t n)
{
	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch <= ' ' || ch == 0x7f)
			return 0;
	}
	return 1;
}

int
mime_header_next(struct mime_header_iter *it, struct mime_field *f)
{
	const char *d = it->data;

	while (it->pos < it->len && !empty_line(it, it->pos)) {
		size_t start = it->pos, end = line_end(it, start);
		const char *colon = NULL;
		size_t n, vend;

		/* The field runs on over continuation lines (a line that
		 * starts with white space). */
		while (end < it->len && (d[end] == ' ' || d[end] == '\t'))
			end = line_end(it, end);
		it->pos = end;
		if (d[start] == ' ' || d[start] == '\t')
			continue; /* a continuation with no field */
		colon = memchr(d + start, ':', line_end(it, start) - start);
		if (colon == NULL)
			continue;
		n = (size_t)(colon - d) - start;
		while (n > 0 && (d[start + n - 1] == ' ' ||
				 d[start + n - 1] == '\t'))
			n--;
		if (!name_ok(d + start, n))
			continue;
		if (it->max_fields != 0 && it->count >= it->max_fields) {
			it->pos = it->len;
			return 0;
		}
		it->count++;
		vend = end;
		if (vend > start && d[vend - 1] == '\n')
			vend--;
		if (vend > start && d[vend - 1] == '\r')
			vend--;
		f->name = d + start;
		f->name_len = n;
		f->value = colon + 1;
		f->value_len = vend - (size_t)(colon + 1 - d);
		return 1;
	}
	it->pos = it->len;
	return 0;
}

static int
lwsp(char ch)
{
	return ch == ' ' || ch == '\t';
}

size_t
mime_unfold(const char *v, size_t len, char *out)
{
	const char *nl = memchr(v, '\n', len);
	size_t first = nl != NULL ? (size_t)(nl - v) : len, i = 0, n = 0;

	if (nl != NULL && first > 0 && v[first - 1] == '\r')
		first--;
	while (i < first && lwsp(v[i]))
		i++;
	if (i == first && first > 0)
		i = 1; /* only white space: one octet of it goes */
	for (; i < len; i++) {
		char next = i + 1 < len ? v[i + 1] : '\0';

		if (v[i] == '\n' || (v[i] == '\r' && next == '\n'))
			continue;
		if (v[i] != '\r')
			out[n++] = v[i];
		else if (!lwsp(next) && next != '\r' && next != '\0')
			out[n++] = ' ';
	}
	return n;
}

size_t
mime_skip_cfws(const char *s, size_t len, size_t i)
{
	while (i < len) {
		unsigned depth;

		if (mime_is_wsp(s[i])) {
			i++;
			continue;
		}
		if (s[i] != '(')
			break;
		/* A comment: nested ones, quoted-pairs. */
		depth = 0;
		for (; i < len; i++) {
			if (s[i] == '\\' && i + 1 < len) {
				i++;
			} else if (s[i] == '(') {
				depth++;
			} else if (s[i] == ')' && --depth == 0) {
				i++;
				break;
			}
		}
	}
	return i;
}

int
mime_is_token(int ch)
{
	return ch > ' ' && ch < 0x7f && strchr("()<>@,;:\\\"/[]?=", ch) == NULL;
}

int
mime_eq(const char *s, size_t n, const char *lit)
{
	size_t i;

	for (i = 0; i < n; i++) {
		int a = mime_tolower((unsigned char)s[i]);

		if (lit[i] == '\0' || a != mime_tolower((unsigned char)lit[i]))
			return 0;
	}
	return lit[i] == '\0';
}
