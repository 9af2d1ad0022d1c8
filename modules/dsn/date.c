/* Dates of a DSN (RFC 5322 3.3 date-time, which RFC 3464 2.1.1 takes for
 * Arrival-Date, Last-Attempt-Date and Will-Retry-Until) at the caller's
 * offset: no TZ state, so tests and every worker write the same. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "dsn_private.h"

void
dsn_date(int64_t t, int tz_minutes, char out[DSN_DATE_MAX])
{
	static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu",
					"Fri", "Sat"};
	static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May",
					   "Jun", "Jul", "Aug", "Sep", "Oct",
					   "Nov", "Dec"};
	time_t local = (time_t)(t + (int64_t)tz_minutes * 60);
	int off = abs(tz_minutes);
	struct tm tm;

	if (!gmtime_r(&local, &tm) || tm.tm_year + 1900 > 9999 ||
	    tm.tm_year + 1900 < 0) {
		local = 0;
		gmtime_r(&local, &tm);
	}
	snprintf(out, DSN_DATE_MAX, "%s, %d %s %04d %02d:%02d:%02d %c%02d%02d",
		 days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon],
		 tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 tz_minutes < 0 ? '-' : '+', off / 60, off % 60);
}
