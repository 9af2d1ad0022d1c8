/* The header of the message being signed: kept (bounded) until its
 * empty line, then split into fields, of which those RFC 6376 5.4.1
 * recommends are signed, some over-signed (5.4.2: a name listed once
 * more than it occurs makes an added instance break the signature). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dkim_private.h"

/* Listed once more than it occurs: OVER_PRESENT when it occurs, and
 * OVER_ALWAYS even when it does not, so that none can be added. The
 * choice is rspamd's default: From, To, Cc, Subject and Reply-To are
 * what a reader sees and what a forger would add; Sender, Date and the
 * rest shape the display but mailing lists add some of them. */
#define OVER_PRESENT 1
#define OVER_ALWAYS 2

static const struct {
	const char *name;
	int over;
} signed_fields[] = {
	/* 5.4.1's list, From first (it must be signed, 5.4) */
	{"from", OVER_ALWAYS}, {"reply-to", OVER_ALWAYS},
	{"subject", OVER_ALWAYS}, {"date", OVER_PRESENT},
	{"to", OVER_ALWAYS}, {"cc", OVER_ALWAYS},
	{"resent-date", 0}, {"resent-from", 0}, {"resent-to", 0},
	{"resent-cc", 0}, {"in-reply-to", OVER_PRESENT},
	{"references", OVER_PRESENT}, {"list-id", 0}, {"list-help", 0},
	{"list-unsubscribe", 0}, {"list-subscribe", 0}, {"list-post", 0},
	{"list-owner", 0}, {"list-archive", 0},
	/* RFC 8058 4: one-click unsubscribe must be signed */
	{"list-unsubscribe-post", 0},
	/* who sent it, and how the body is to be read: a replaced
	 * Content-Type changes what the reader sees of a signed body */
	{"sender", OVER_PRESENT}, {"message-id", OVER_PRESENT},
	{"mime-version", OVER_PRESENT}, {"content-type", OVER_PRESENT},
	{"content-transfer-encoding", OVER_PRESENT},
};
#define NSIGNED (sizeof(signed_fields) / sizeof(signed_fields[0]))

/* ---- Keeping it ------------------------------------------------------ */

static int
append(struct dkim_header *h, const char *p, size_t len,
       struct ps_error *err)
{
	size_t cap = h->cap ? h->cap : 4096;
	char *buf;

	if (len == 0)
		return DKIM_OK; /* buf may still be NULL */
	if (len > h->max - h->len)
		return dkim_error(err, DKIM_EINVAL, "header longer than %zu "
				  "octets", h->max);
	if (h->len + len > h->cap) {
		while (cap < h->len + len)
			cap *= 2;
		if (!(buf = realloc(h->buf, cap)))
			return dkim_error(err, DKIM_ENOMEM, "out of memory "
					  "for the header");
		h->buf = buf;
		h->cap = cap;
	}
	memcpy(h->buf + h->len, p, len);
	h->len += len;
	return DKIM_OK;
}

/* A line end: CR LF, whether the CR came or not. An empty line ends the
 * header and is not kept. */
static int
line_end(struct dkim_header *h, struct ps_error *err)
{
	int r = DKIM_OK;

	if (h->len == h->line || h->buf[h->len - 1] != '\r')
		r = append(h, "\r", 1, err);
	if (r == DKIM_OK)
		r = append(h, "\n", 1, err);
	if (r == DKIM_OK && h->len - h->line == 2) {
		h->len = h->line;
		h->done = 1;
	}
	h->line = h->len;
	return r;
}

int
dkim_header_feed(struct dkim_header *h, const char *data, size_t len,
		 size_t *used_r, struct ps_error *err)
{
	size_t used = 0, n;
	const char *lf;
	int r = DKIM_OK;

	while (r == DKIM_OK && !h->done && used < len) {
		lf = memchr(data + used, '\n', len - used);
		n = lf ? (size_t)(lf - (data + used)) : len - used;
		r = append(h, data + used, n, err);
		used += n;
		if (r == DKIM_OK && lf) {
			r = line_end(h, err);
			used++;
		}
	}
	*used_r = used;
	return r;
}

int
dkim_header_end(struct dkim_header *h, struct ps_error *err)
{
	if (!h->done && h->len > h->line)
		return line_end(h, err);
	return DKIM_OK;
}

void
dkim_header_free(struct dkim_header *h)
{
	free(h->buf);
	memset(h, 0, sizeof(*h));
}

/* ---- Choosing the signed fields -------------------------------------- */

struct span {
	const char *p;
	size_t len;  /* without its CR LF */
	size_t name; /* the name's length, WSP before the colon excluded */
};

/* The fields of the header, each with its continuation lines (those
 * starting with WSP); *n_r of them in *fields_r (to free()). */
static int
split(const struct dkim_header *h, struct span **fields_r, size_t *n_r,
      struct ps_error *err)
{
	struct span *f = NULL;
	size_t n = 0, i = 0, end;
	const char *colon;

	/* At most one field a line; every line ends in CR LF. */
	for (size_t j = 0; j < h->len; j++)
		n += h->buf[j] == '\n';
	if (n && !(f = calloc(n, sizeof(*f))))
		return dkim_error(err, DKIM_ENOMEM, "out of memory");
	for (n = 0; i < h->len; i = end + 2) {
		end = (size_t)((char *)memchr(h->buf + i, '\n', h->len - i) -
			       h->buf) - 1;
		if (n > 0 && (h->buf[i] == ' ' || h->buf[i] == '\t')) {
			f[n - 1].len = end - (size_t)(f[n - 1].p - h->buf);
			continue;
		}
		f[n].p = h->buf + i;
		f[n].len = end - i;
		colon = memchr(f[n].p, ':', f[n].len);
		f[n].name = colon ? (size_t)(colon - f[n].p) : 0;
		while (f[n].name > 0 && (f[n].p[f[n].name - 1] == ' ' ||
					 f[n].p[f[n].name - 1] == '\t'))
			f[n].name--;
		n++;
	}
	*fields_r = f;
	*n_r = n;
	return DKIM_OK;
}

static int
named(const struct span *f, const char *name)
{
	return f->name == strlen(name) &&
	       strncasecmp(f->p, name, f->name) == 0;
}

/* Every instance of one name, from the last up (5.4.2), then the
 * over-signed absence. */
static size_t
select_name(const struct span *f, size_t n, const char *name, int over,
	    struct dkim_signed *out)
{
	size_t k = 0;

	for (size_t i = n; i-- > 0;)
		if (named(&f[i], name))
			out[k++] = (struct dkim_signed){name, f[i].p,
							f[i].len};
	if (over == OVER_ALWAYS || (over == OVER_PRESENT && k > 0))
		out[k++] = (struct dkim_signed){name, NULL, 0};
	return k;
}

int
dkim_header_select(const struct dkim_header *h,
		   struct dkim_signed **list_r, size_t *n_r,
		   struct ps_error *err)
{
	struct dkim_signed *list;
	struct span *f = NULL;
	size_t n = 0, k = 0;
	int r;

	if ((r = split(h, &f, &n, err)) < 0)
		return r;
	for (size_t i = 0; i < n && k == 0; i++)
		k = named(&f[i], "from");
	if (k == 0) {
		free(f);
		return dkim_error(err, DKIM_EINVAL, "the message has no From "
				  "field, which DKIM must sign (RFC 6376 "
				  "5.4)");
	}
	if (!(list = calloc(n + NSIGNED, sizeof(*list)))) {
		free(f);
		return dkim_error(err, DKIM_ENOMEM, "out of memory");
	}
	k = 0;
	for (size_t i = 0; i < NSIGNED; i++)
		k += select_name(f, n, signed_fields[i].name,
				 signed_fields[i].over, list + k);
	free(f);
	*list_r = list;
	*n_r = k;
	return DKIM_OK;
}
