/* POP3 command lines (RFC 1939 3, RFC 2449 4): a keyword and arguments.
 * Pure: no SDK calls, so the unit tests and tests/fuzz/fuzz_pop3 link it
 * alone. */
#ifndef POP3_COMMAND_H
#define POP3_COMMAND_H

#include <stddef.h>
#include <stdint.h>

#define POP3_MAX_ARGS 2

struct pop3_cmd {
	char keyword[5];             /* upper case, NUL-terminated */
	size_t nargs;                /* may exceed POP3_MAX_ARGS: the rest
				      * are counted, not kept */
	const char *args[POP3_MAX_ARGS];
	size_t lens[POP3_MAX_ARGS];  /* args are not NUL-terminated */
	const char *rest;            /* everything after "KEYWORD " (PASS) */
	size_t rest_len;
};

/* Split line (without CRLF) into cmd, pointing into line. Returns 0, or -1
 * when the line does not start with a 3-4 character keyword. */
int pop3_cmd_parse(const char *line, size_t len, struct pop3_cmd *cmd);

/* A message-number or line count: 1 to 10 decimal digits, no sign, no
 * leading "+", within [min, UINT32_MAX]. Returns 0 or -1. */
int pop3_number(const char *s, size_t len, uint32_t min, uint32_t *n_r);

#endif
