/* libpsdkim's failure messages, with OpenSSL's reason where it has one. */
#include <openssl/err.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "dkim_private.h"

int
dkim_error(struct ps_error *err, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return code;
}

int
dkim_ssl_error(struct ps_error *err, int code, const char *fmt, ...)
{
	unsigned long e = ERR_peek_last_error();
	const char *why = e ? ERR_reason_error_string(e) : NULL;
	size_t n;
	va_list ap;

	ERR_clear_error();
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	n = strlen(err->msg);
	if (why)
		snprintf(err->msg + n, sizeof(err->msg) - n, ": %s", why);
	return code;
}
