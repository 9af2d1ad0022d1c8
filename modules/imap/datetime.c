/* date and date-time of RFC 3501 9 / RFC 9051 9, parsed strictly and
 * formatted for INTERNALDATE. Calendar arithmetic is Howard Hinnant's
 * days-from-civil algorithm, so no timegm() or TZ state is involved.
 * Pure: no SDK calls. */
#include <string.h>
#include <strings.h>

#include "chars.h"
#include "datetime.h"

static const char months[12][4] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	"Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
};

static int
leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
month_days(int y, int m)
{
	static const int days[12] = {31, 28, 31, 30, 31, 30,
				     31, 31, 30, 31, 30, 31};

	return m == 2 && leap(y) ? 29 : days[m - 1];
}

/* Days from 1970-01-01 to y-m-d. */
static int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static void
civil_from_days(int64_t z, int *y_r, int *m_r, int *d_r)
{
	int64_t era;
	unsigned doe, yoe, doy, mp, m;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	m = mp < 10 ? mp + 3 : mp - 9;
	*y_r = (int)(yoe + era * 400 + (m <= 2));
	*m_r = (int)m;
	*d_r = (int)(doy - (153 * mp + 2) / 5 + 1);
}

/* n digits at s as a number, or -1. */
static int
digits(const char *s, size_t n)
{
	int v = 0;

	for (size_t i = 0; i < n; i++) {
		if (!imap_is_digit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

static int
month(const char *s)
{
	for (int m = 0; m < 12; m++)
		if (strncasecmp(s, months[m], 3) == 0)
			return m + 1;
	return -1;
}

/* "-Mon-YYYY" at s, completing d (whose mday is set). */
static int
month_year(const char *s, struct imap_date *d)
{
	if (s[0] != '-' || s[4] != '-')
		return -1;
	d->mon = month(s + 1);
	d->year = digits(s + 5, 4);
	if (d->mon < 0 || d->year < 0 || d->mday < 1 ||
	    d->mday > month_days(d->year, d->mon))
		return -1;
	return 0;
}

int
imap_date_parse(const char *s, size_t len, struct imap_date *d)
{
	/* 1*2DIGIT, then "-Mon-YYYY": 10 or 11 octets. */
	size_t nd = len == 10 ? 1 : len == 11 ? 2 : 0;

	if (nd == 0)
		return -1;
	d->mday = digits(s, nd);
	return month_year(s + nd, d);
}

int64_t
imap_date_time(const struct imap_date *d)
{
	return days_from_civil(d->year, (unsigned)d->mon,
			       (unsigned)d->mday) * 86400;
}

int
imap_datetime_parse(const char *s, size_t len, int64_t *t_r, int *tz_r)
{
	struct imap_date d;
	int hh, mm, ss, zh, zm;

	/* "DD-Mon-YYYY HH:MM:SS +ZZZZ" */
	if (len != 26 || s[11] != ' ' || s[14] != ':' || s[17] != ':' ||
	    s[20] != ' ' || (s[21] != '+' && s[21] != '-'))
		return -1;
	d.mday = s[0] == ' ' ? digits(s + 1, 1) : digits(s, 2);
	if (month_year(s + 2, &d) < 0)
		return -1;
	hh = digits(s + 12, 2);
	mm = digits(s + 15, 2);
	ss = digits(s + 18, 2);
	zh = digits(s + 22, 2);
	zm = digits(s + 24, 2);
	if (hh < 0 || hh > 23 || mm < 0 || mm > 59 || ss < 0 || ss > 60 ||
	    zh < 0 || zh > 23 || zm < 0 || zm > 59)
		return -1;
	*tz_r = (s[21] == '-' ? -1 : 1) * (zh * 60 + zm);
	*t_r = imap_date_time(&d) + hh * 3600 + mm * 60 + ss -
		(int64_t)*tz_r * 60;
	return 0;
}

/* v (0 <= v < 10^n) as n digits. */
static void
put_digits(char *out, int v, int n)
{
	while (n-- > 0) {
		out[n] = (char)('0' + v % 10);
		v /= 10;
	}
}

size_t
imap_datetime_format(int64_t t, int tz, char out[IMAP_DATETIME_LEN + 1])
{
	const int64_t lo = days_from_civil(0, 1, 1) * 86400;
	const int64_t hi = days_from_civil(10000, 1, 1) * 86400 - 1;
	int64_t local, days, sec;
	int y, m, d, atz;

	if (tz < -1439 || tz > 1439)
		tz = 0;
	/* Clamp before adding the zone, so nothing can overflow. */
	if (t < lo - 86400)
		t = lo - 86400;
	if (t > hi + 86400)
		t = hi + 86400;
	local = t + (int64_t)tz * 60;
	if (local < lo)
		local = lo;
	if (local > hi)
		local = hi;
	days = local / 86400 - (local % 86400 < 0);
	sec = local - days * 86400;
	civil_from_days(days, &y, &m, &d);
	atz = tz < 0 ? -tz : tz;
	out[0] = '"';
	put_digits(out + 1, d, 2);
	out[3] = '-';
	memcpy(out + 4, months[m - 1], 3);
	out[7] = '-';
	put_digits(out + 8, y, 4);
	out[12] = ' ';
	put_digits(out + 13, (int)(sec / 3600), 2);
	out[15] = ':';
	put_digits(out + 16, (int)(sec / 60 % 60), 2);
	out[18] = ':';
	put_digits(out + 19, (int)(sec % 60), 2);
	out[21] = ' ';
	out[22] = tz < 0 ? '-' : '+';
	put_digits(out + 23, atz / 60, 2);
	put_digits(out + 25, atz % 60, 2);
	out[27] = '"';
	out[28] = '\0';
	return IMAP_DATETIME_LEN;
}
