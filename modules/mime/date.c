/* RFC 5322 3.3 date-time to seconds since the epoch, with the obsolete
 * forms of 4.3 (two- and three-digit years, named and military zones,
 * CFWS anywhere), no weekday, no seconds, and a missing zone taken as
 * +0000. Computed without the C library's time zone state. */
#include <stdint.h>

#include "mime_private.h"

static const char *const months[12] = {
	"jan", "feb", "mar", "apr", "may", "jun",
	"jul", "aug", "sep", "oct", "nov", "dec",
};

static const char *const wdays[7] = {
	"mon", "tue", "wed", "thu", "fri", "sat", "sun",
};

static const struct {
	const char *name;
	int minutes;
} zones[] = {
	{"ut", 0}, {"utc", 0}, {"gmt", 0}, {"z", 0},
	{"est", -300}, {"edt", -240}, {"cst", -360}, {"cdt", -300},
	{"mst", -420}, {"mdt", -360}, {"pst", -480}, {"pdt", -420},
};

/* Days from 1970-01-01 to y-m-d of the proleptic Gregorian calendar. */
static int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era, yoe, doy, doe, mm = m;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (mm > 2 ? mm - 3 : mm + 9) + 2) / 5 + (int64_t)d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static unsigned
days_in_month(int64_t y, unsigned m)
{
	static const unsigned char dm[12] = {31, 28, 31, 30, 31, 30,
					     31, 31, 30, 31, 30, 31};
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return dm[m - 1] + (m == 2 && leap);
}

struct cur {
	const char *s;
	size_t len, i;
};

static int
alpha(int ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}

static int
digit(int ch)
{
	return ch >= '0' && ch <= '9';
}

static void
skip(struct cur *c)
{
	c->i = mime_skip_cfws(c->s, c->len, c->i);
}

/* A run of letters; its length (0 if none). */
static size_t
word(struct cur *c, const char **w_r)
{
	size_t start = c->i;

	*w_r = c->s + start;
	while (c->i < c->len && alpha((unsigned char)c->s[c->i]))
		c->i++;
	return c->i - start;
}

/* Up to max digits; -1 if none. *n_r: how many. */
static int64_t
number(struct cur *c, unsigned max, unsigned *n_r)
{
	int64_t v = 0;
	unsigned n = 0;

	while (c->i < c->len && digit((unsigned char)c->s[c->i]) && n < max) {
		v = v * 10 + (c->s[c->i++] - '0');
		n++;
	}
	*n_r = n;
	return n > 0 ? v : -1;
}

/* One of names[0..count) by its first three letters (full names such as
 * "Monday" too); -1 if none. */
static int
lookup3(const char *w, size_t n, const char *const *names, int count)
{
	if (n < 3)
		return -1;
	for (int i = 0; i < count; i++)
		if (mime_eq(w, 3, names[i]))
			return i;
	return -1;
}

static int
zone(struct cur *c, int *tz_r)
{
	const char *w;
	size_t n;
	unsigned nd;
	int64_t v;
	int sign;

	*tz_r = 0;
	if (c->i >= c->len)
		return 0; /* none: +0000 */
	if (c->s[c->i] == '+' || c->s[c->i] == '-') {
		sign = c->s[c->i++] == '-' ? -1 : 1;
		v = number(c, 4, &nd);
		if (nd != 4 || v % 100 > 59)
			return -1;
		*tz_r = sign * (int)(v / 100 * 60 + v % 100);
		return 0;
	}
	n = word(c, &w);
	for (size_t k = 0; k < sizeof(zones) / sizeof(zones[0]); k++)
		if (mime_eq(w, n, zones[k].name)) {
			*tz_r = zones[k].minutes;
			return 0;
		}
	/* Military zones and the unknown: -0000 (RFC 5322 4.3). */
	return 0;
}

int
mime_date_parse(const char *s, size_t len, int64_t *time_r, int *tz_r)
{
	struct cur c = {.s = s, .len = len};
	int64_t day, year, hour, min, sec = 0;
	unsigned nd, nm, ns;
	const char *w;
	size_t n;
	int month, tz;

	skip(&c);
	n = word(&c, &w);
	if (n > 0) {
		if (lookup3(w, n, wdays, 7) < 0)
			return MIME_EINVAL;
		skip(&c);
		if (c.i < c.len && c.s[c.i] == ',')
			c.i++;
		skip(&c);
	}
	day = number(&c, 2, &nd);
	skip(&c);
	n = word(&c, &w);
	month = lookup3(w, n, months, 12);
	skip(&c);
	year = number(&c, 4, &nd);
	if (day < 1 || month < 0 || year < 0 ||
	    (c.i < c.len && digit((unsigned char)c.s[c.i])))
		return MIME_EINVAL;
	if (nd == 2)
		year += year < 50 ? 2000 : 1900;
	else if (nd == 3)
		year += 1900;
	else if (year == 0)
		return MIME_EINVAL;
	if (day > days_in_month(year, (unsigned)month + 1))
		return MIME_EINVAL;
	skip(&c);
	hour = number(&c, 2, &nm);
	skip(&c);
	if (hour < 0 || hour > 23 || c.i >= c.len || c.s[c.i] != ':')
		return MIME_EINVAL;
	c.i++;
	skip(&c);
	min = number(&c, 2, &nm);
	if (min < 0 || min > 59)
		return MIME_EINVAL;
	skip(&c);
	if (c.i < c.len && c.s[c.i] == ':') {
		c.i++;
		skip(&c);
		sec = number(&c, 2, &ns);
		if (sec < 0 || sec > 60)
			return MIME_EINVAL;
		skip(&c);
	}
	if (zone(&c, &tz) < 0)
		return MIME_EINVAL;
	*time_r = days_from_civil(year, (unsigned)month + 1, (unsigned)day) *
			  86400 + hour * 3600 + min * 60 + sec - tz * 60;
	*tz_r = tz;
	return MIME_OK;
}
