/* What poshtactl's mbox import and export share (RFC 4155, read and
 * written as mboxrd): a bounded line reader, the From_ line and its
 * quoting, and the Status:/X-Status: letters mail readers (mutt, Dovecot)
 * keep flags in: R seen; A answered, D deleted, F flagged, T draft. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "ctl.h"

struct ctl_lines *
ctl_lines_new(ctl_read_fn read, void *src)
{
	struct ctl_lines *r = malloc(sizeof(*r));

	if (r) {
		r->read = read;
		r->src = src;
		ctl_lines_reset(r);
	}
	return r;
}

void
ctl_lines_reset(struct ctl_lines *r)
{
	r->start = r->end = 0;
	r->eof = 0;
	r->bol = 1;
	r->line = 0;
}

/* Move what is left to the front and read more after it. */
static int
refill(struct ctl_lines *r)
{
	ssize_t n;

	memmove(r->buf, r->buf + r->start, r->end - r->start);
	r->end -= r->start;
	r->start = 0;
	n = r->read(r->src, r->buf + r->end, sizeof(r->buf) - r->end);
	if (n < 0)
		return -1;
	r->eof = n == 0;
	r->end += (size_t)n;
	return 0;
}

int
ctl_lines_next(struct ctl_lines *r, const char **p_r, size_t *len_r,
	       int *bol_r)
{
	for (;;) {
		char *p = r->buf + r->start;
		size_t have = r->end - r->start, n;
		char *nl = memchr(p, '\n', have < CTL_LINE_PIECE ? have :
				  CTL_LINE_PIECE);

		if (nl)
			n = (size_t)(nl - p) + 1;
		else if (have >= CTL_LINE_PIECE)
			/* A CR stays with its LF, for whoever converts. */
			n = CTL_LINE_PIECE - (p[CTL_LINE_PIECE - 1] == '\r');
		else if (r->eof && have)
			n = have;
		else if (r->eof)
			return 0;
		else if (refill(r) < 0)
			return -1;
		else
			continue;
		*p_r = p;
		*len_r = n;
		*bol_r = r->bol;
		r->line += (unsigned long)r->bol;
		r->bol = p[n - 1] == '\n';
		r->start += n;
		return 1;
	}
}

int
ctl_mbox_blank(const char *p, size_t len)
{
	return (len == 1 && p[0] == '\n') ||
	       (len == 2 && p[0] == '\r' && p[1] == '\n');
}

int
ctl_mbox_from(const char *p, size_t len)
{
	return len >= 5 && memcmp(p, "From ", 5) == 0;
}

int
ctl_mbox_quoted(const char *p, size_t len)
{
	size_t i = 0;

	while (i < len && p[i] == '>')
		i++;
	return ctl_mbox_from(p + i, len - i);
}

/* "From sender Sat Jan  3 01:05:34 1996" (asctime's form, RFC 4155
 * appendix A); what follows the year (a zone, "remote from") is left. */
int64_t
ctl_mbox_from_date(const char *p, size_t len)
{
	char line[128];
	const char *s;
	struct tm tm = {0};

	if (len > sizeof(line) - 1)
		len = sizeof(line) - 1;
	memcpy(line, p, len);
	line[len] = '\0';
	s = line + 5;
	s += strcspn(s, " \t\r\n");
	if (!strptime(s, " %a %b %e %H:%M:%S %Y", &tm))
		return -1;
	return (int64_t)timegm(&tm);
}

void
ctl_mbox_from_line(char buf[80], int64_t date)
{
	time_t t = (time_t)date;
	struct tm tm;
	char when[40] = "Thu Jan  1 00:00:00 1970";

	/* The C locale (poshtactl never sets another): English names. */
	if (gmtime_r(&t, &tm))
		strftime(when, sizeof(when), "%a %b %e %H:%M:%S %Y", &tm);
	snprintf(buf, 80, "From MAILER-DAEMON %s\n", when);
}

static const struct {
	int x;       /* in X-Status:, else in Status: */
	char letter;
	unsigned flag;
} letters[] = {
	{0, 'R', PS_FLAG_SEEN},
	{1, 'A', PS_FLAG_ANSWERED},
	{1, 'D', PS_FLAG_DELETED},
	{1, 'F', PS_FLAG_FLAGGED},
	{1, 'T', PS_FLAG_DRAFT},
};
#define NLETTERS (sizeof(letters) / sizeof(letters[0]))

int
ctl_mbox_status_header(const char *p, size_t len, unsigned *flags)
{
	int x = len >= 9 && strncasecmp(p, "X-Status:", 9) == 0;
	size_t skip = x ? 9 : 7;

	if (!x && (len < 7 || strncasecmp(p, "Status:", 7) != 0))
		return 0;
	for (size_t i = 0; i < NLETTERS; i++)
		if (letters[i].x == x &&
		    memchr(p + skip, letters[i].letter, len - skip))
			*flags |= letters[i].flag;
	return 1;
}

void
ctl_mbox_status_lines(char buf[64], unsigned flags)
{
	size_t n = 0;

	/* "O": the message is old (seen by a mail reader's listing). */
	if (flags & PS_FLAG_SEEN)
		n = (size_t)snprintf(buf, 64, "Status: RO\n");
	if (flags & (PS_FLAGS_STORED & ~PS_FLAG_SEEN)) {
		n += (size_t)snprintf(buf + n, 64 - n, "X-Status: ");
		for (size_t i = 0; i < NLETTERS; i++)
			if (letters[i].x && flags & letters[i].flag)
				buf[n++] = letters[i].letter;
		buf[n++] = '\n';
	}
	buf[n] = '\0';
}
