/* A DSN from a small text spec, for tests/integration/test_dsn_format.py
 * to parse with Python's email package. Usage:
 *
 *   dsn_build_cli SPEC ORIGINAL > dsn
 *
 * SPEC holds "key value" lines: host, id, now, tz (minutes), sender, ret
 * (none, full, hdrs), envid, arrival, client, smtputf8 (0, 1), reason,
 * max; then per recipient "rcpt ADDRESS" followed by its orcpt, action
 * (failed, delayed, delivered, relayed, expanded), status, remote,
 * diagtype, diag, last, until. ORIGINAL is the message's file. Exit 1
 * with the reason when libpsdsn refuses, 2 on a bad spec. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dsn.h"

#define RCPTS_MAX 16

static struct dsn_rcpt rcpts[RCPTS_MAX];
static struct dsn_report rep = {.host = "mx.example.org", .id = "cli"};

static int
read_file(void *arg, uint64_t off, void *buf, size_t len, size_t *got_r)
{
	FILE *f = arg;

	if (fseek(f, (long)off, SEEK_SET) != 0)
		return -7;
	*got_r = fread(buf, 1, len, f);
	return ferror(f) ? -7 : 0;
}

static int
write_out(void *arg, const void *data, size_t len)
{
	return fwrite(data, 1, len, stdout) == len ? 0 : -7;
}

static int
action(const char *v)
{
	static const char *const names[] = {"failed", "delayed", "delivered",
					    "relayed", "expanded"};

	for (int i = 0; i < 5; i++)
		if (strcmp(v, names[i]) == 0)
			return i;
	return -1;
}

/* One recipient key; 0, or -1 for an unknown one. */
static int
rcpt_key(struct dsn_rcpt *rc, const char *k, char *v)
{
	if (strcmp(k, "orcpt") == 0)
		rc->orcpt = v;
	else if (strcmp(k, "action") == 0 && action(v) >= 0)
		rc->action = (enum dsn_action)action(v);
	else if (strcmp(k, "status") == 0)
		rc->status = v;
	else if (strcmp(k, "remote") == 0)
		rc->remote_mta = v;
	else if (strcmp(k, "diagtype") == 0)
		rc->diag_type = v;
	else if (strcmp(k, "diag") == 0)
		rc->diag = v;
	else if (strcmp(k, "last") == 0)
		rc->last_attempt = strtoll(v, NULL, 10);
	else if (strcmp(k, "until") == 0)
		rc->retry_until = strtoll(v, NULL, 10);
	else
		return -1;
	return 0;
}

static int
report_key(const char *k, char *v)
{
	if (strcmp(k, "host") == 0)
		rep.host = v;
	else if (strcmp(k, "id") == 0)
		rep.id = v;
	else if (strcmp(k, "now") == 0)
		rep.now = strtoll(v, NULL, 10);
	else if (strcmp(k, "tz") == 0)
		rep.tz_minutes = atoi(v);
	else if (strcmp(k, "sender") == 0)
		rep.sender = v;
	else if (strcmp(k, "ret") == 0)
		rep.ret = strcmp(v, "full") == 0 ? DSN_RET_FULL :
			strcmp(v, "hdrs") == 0 ? DSN_RET_HDRS : DSN_RET_NONE;
	else if (strcmp(k, "envid") == 0)
		rep.envid = v;
	else if (strcmp(k, "arrival") == 0)
		rep.arrival = strtoll(v, NULL, 10);
	else if (strcmp(k, "client") == 0)
		rep.client = v;
	else if (strcmp(k, "smtputf8") == 0)
		rep.smtputf8 = atoi(v);
	else if (strcmp(k, "reason") == 0)
		rep.reason = v;
	else if (strcmp(k, "max") == 0)
		rep.max_return = strtoull(v, NULL, 10);
	else
		return -1;
	return 0;
}

/* Every value read, freed before exit (the report points into them). */
#define VALUES_MAX 1024
static char *values[VALUES_MAX];
static size_t nvalues;

static int
spec_line(char *line)
{
	char *v = strchr(line, ' ');

	line[strcspn(line, "\r\n")] = '\0';
	if (!*line)
		return 0;
	if (!v)
		return -1;
	*v++ = '\0';
	if (nvalues == VALUES_MAX || (v = strdup(v)) == NULL)
		return -1;
	values[nvalues++] = v;
	if (strcmp(line, "rcpt") == 0) {
		if (rep.nrcpts == RCPTS_MAX)
			return -1;
		rcpts[rep.nrcpts++].address = v;
		return 0;
	}
	if (report_key(line, v) == 0)
		return 0;
	return rep.nrcpts ? rcpt_key(&rcpts[rep.nrcpts - 1], line, v) : -1;
}

/* Build the DSN the spec describes; 0, 1 (the builder refused) or 2. */
static int
run(FILE *spec, FILE *orig)
{
	char line[8192];
	struct dsn_plan p;
	const char *why;

	while (fgets(line, sizeof(line), spec))
		if (spec_line(line) < 0) {
			fprintf(stderr, "bad spec line: %s\n", line);
			return 2;
		}
	rep.rcpts = rcpts;
	rep.read = read_file;
	rep.read_arg = orig;
	if (dsn_plan(&rep, &p, &why) < 0 ||
	    dsn_write(&rep, &p, write_out, NULL, &why) < 0) {
		fprintf(stderr, "dsn: %s\n", why);
		return 1;
	}
	fprintf(stderr, "boundary=%s flags=%u part=%d returned=%llu cut=%d\n",
		p.boundary, p.flags, (int)p.part,
		(unsigned long long)p.returned, p.cut);
	return fflush(stdout) == 0 ? 0 : 1;
}

int
main(int argc, char **argv)
{
	FILE *spec = NULL, *orig = NULL;
	int r = 2;

	if (argc != 3 || !(spec = fopen(argv[1], "r")) ||
	    !(orig = fopen(argv[2], "rb")))
		fprintf(stderr, "usage: dsn_build_cli SPEC ORIGINAL\n");
	else
		r = run(spec, orig);
	while (nvalues)
		free(values[--nvalues]);
	if (orig)
		fclose(orig);
	if (spec)
		fclose(spec);
	return r;
}
