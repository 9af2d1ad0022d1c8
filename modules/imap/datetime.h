/* IMAP dates (RFC 3501 9 and RFC 9051 9, "date" and "date-time"): SEARCH
 * keys, APPEND's internal date and INTERNALDATE. Proleptic Gregorian
 * calendar, no locale, no TZ environment. Pure: no SDK calls. */
#ifndef IMAP_DATETIME_H
#define IMAP_DATETIME_H

#include <stddef.h>
#include <stdint.h>

struct imap_date {
	int year; /* 0..9999 */
	int mon;  /* 1..12 */
	int mday; /* 1..31, and a day the month has */
};

/* date-text = date-day "-" date-month "-" date-year, the argument of
 * SEARCH BEFORE/ON/SINCE/SENTxxx with any quotes already removed by the
 * parser: "1-Feb-1994", "01-feb-1994". date-day = 1*2DIGIT; months are
 * case-insensitive (ABNF strings). 0 or -1. */
int imap_date_parse(const char *s, size_t len, struct imap_date *d);

/* The first second of day d in UTC (seconds since the epoch). SEARCH
 * compares dates "disregarding time and timezone": the caller shifts by
 * the zone it compares in. */
int64_t imap_date_time(const struct imap_date *d);

/* date-time without its DQUOTEs, as the parser hands a quoted string:
 * "17-Jul-1996 02:44:25 -0700", day "DD" or " D" (date-day-fixed),
 * 4-digit year, 24-hour time (second 60 allowed for a leap second),
 * zone +/-HHMM with HH < 24 and MM < 60. *t_r: seconds since the epoch
 * (UTC); *tz_r: the zone in minutes east of UTC. 0 or -1. */
int imap_datetime_parse(const char *s, size_t len, int64_t *t_r,
			int *tz_r);

/* date-time with its DQUOTEs, as INTERNALDATE and APPEND want it:
 * "\"17-Jul-1996 02:44:25 -0700\"", the day written as two digits. */
#define IMAP_DATETIME_LEN 28

/* Write t shown in zone tz (minutes east of UTC; outside +/-23:59 is
 * taken as 0) into out, NUL-terminated. Times outside years 0000..9999
 * are clamped to them. Returns IMAP_DATETIME_LEN. */
size_t imap_datetime_format(int64_t t, int tz,
			    char out[IMAP_DATETIME_LEN + 1]);

#endif
