/* Errors of libpsstore: a message in the caller's struct ps_error, as
 * each backend's own helper (ss_err, sp_err, md_err) writes it. */
#include <stdarg.h>
#include <stdio.h>

#include "storekit.h"

int
pst_err(struct ps_error *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (err) {
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	return code;
}
