/* The echo protocol's public face: the event it hands to "echo.line" hook
 * handlers, so that filter modules can read (and judge) each line before
 * echo.so sends it back. */
#ifndef POSHTA_ECHO_H
#define POSHTA_ECHO_H

#include <stddef.h>

/* Run once per line that is about to be echoed. */
#define ECHO_HOOK_LINE "echo.line"

/* ps_hook_data() of an "echo.line" call. New fields are only ever added at
 * the end; a handler checks size before reading one it did not know. */
struct echo_line_event {
	size_t size;      /* sizeof(struct echo_line_event) of echo.so */
	const char *line; /* NUL-terminated, without CR LF; valid until the
			   * chain has its verdict (across PENDING too) */
	size_t len;       /* strlen(line), unless the line held a NUL byte */
};

#endif
