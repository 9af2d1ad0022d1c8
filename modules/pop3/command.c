/* Parsing a POP3 command line. RFC 1939 3: "Commands in the POP3 consist
 * of a case-insensitive keyword, possibly followed by one or more
 * arguments ... separated by a single SPACE character"; RFC 2449 4 lets
 * keywords be 3 or 4 characters and lines up to 255 octets. Runs of
 * spaces and a trailing space are forgiven, as real clients send them. */
#include <string.h>

#include "command.h"

static int
keyword_char(char ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
	       (ch >= '0' && ch <= '9');
}

int
pop3_cmd_parse(const char *line, size_t len, struct pop3_cmd *cmd)
{
	size_t i = 0, k;

	memset(cmd, 0, sizeof(*cmd));
	for (k = 0; i < len && keyword_char(line[i]); i++, k++) {
		if (k == 4)
			return -1;
		cmd->keyword[k] = line[i] >= 'a' ? line[i] - 32 : line[i];
	}
	if (k < 3 || (i < len && line[i] != ' '))
		return -1;
	if (i < len) {
		cmd->rest = line + i + 1;
		cmd->rest_len = len - i - 1;
	}
	while (i < len) {
		size_t start;

		while (i < len && line[i] == ' ')
			i++;
		if (i == len)
			break;
		for (start = i; i < len && line[i] != ' '; i++)
			;
		if (cmd->nargs < POP3_MAX_ARGS) {
			cmd->args[cmd->nargs] = line + start;
			cmd->lens[cmd->nargs] = i - start;
		}
		cmd->nargs++;
	}
	return 0;
}

int
pop3_number(const char *s, size_t len, uint32_t min, uint32_t *n_r)
{
	uint64_t n = 0;

	if (len == 0 || len > 10)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		n = n * 10 + (uint64_t)(s[i] - '0');
	}
	if (n < min || n > UINT32_MAX)
		return -1;
	*n_r = (uint32_t)n;
	return 0;
}
