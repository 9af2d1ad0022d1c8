/* dkim_sign_cli: sign the message on standard input with libpsdkim and
 * write it signed (the DKIM-Signature field, then the message) to
 * standard output, for tests/integration/test_dkim.py to verify with an
 * independent implementation. The message goes to the signer in pieces
 * of -n octets (default 65536).
 *
 * usage: dkim_sign_cli [-c HEADER/BODY] [-x SECONDS] [-n OCTETS]
 *                      KEY DOMAIN SELECTOR TIME */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dkim.h"

static int
canon(const char *s, enum dkim_canon *c)
{
	if (strcmp(s, "relaxed") == 0)
		*c = DKIM_CANON_RELAXED;
	else if (strcmp(s, "simple") == 0)
		*c = DKIM_CANON_SIMPLE;
	else
		return -1;
	return 0;
}

static int
options(int argc, char **argv, struct dkim_sign_options *opt,
	size_t *piece)
{
	char *slash;
	int c;

	while ((c = getopt(argc, argv, "c:x:n:")) != -1) {
		switch (c) {
		case 'c':
			if (!(slash = strchr(optarg, '/')))
				return -1;
			*slash = '\0';
			if (canon(optarg, &opt->header_canon) < 0 ||
			    canon(slash + 1, &opt->body_canon) < 0)
				return -1;
			break;
		case 'x': opt->expire = atoll(optarg); break;
		case 'n': *piece = (size_t)atol(optarg); break;
		default: return -1;
		}
	}
	if (argc - optind != 4 || *piece == 0)
		return -1;
	opt->time = atoll(argv[optind + 3]);
	return 0;
}

/* Standard input, fed to s as it is read; *len_r octets in the copy. */
static char *
feed(struct dkim_sign *s, size_t piece, size_t *len_r,
     struct ps_error *err)
{
	size_t len = 0, cap = 0, n;
	char *msg = NULL;

	do {
		if (len + piece > cap) {
			cap = 2 * (len + piece);
			if (!(msg = realloc(msg, cap))) {
				snprintf(err->msg, sizeof(err->msg), "out of "
					 "memory");
				return NULL;
			}
		}
		n = fread(msg + len, 1, piece, stdin);
		if (dkim_sign_update(s, msg + len, n, err) < 0) {
			free(msg);
			return NULL;
		}
		len += n;
	} while (n > 0);
	*len_r = len;
	return msg;
}

int
main(int argc, char **argv)
{
	struct dkim_sign_options opt = {0};
	struct ps_error err = {""};
	struct dkim_key *key = NULL;
	struct dkim_sign *s = NULL;
	char *field = NULL, *msg = NULL;
	size_t piece = 65536, len = 0;

	if (options(argc, argv, &opt, &piece) < 0) {
		fprintf(stderr, "usage: dkim_sign_cli [-c HEADER/BODY] "
			"[-x SECONDS] [-n OCTETS] KEY DOMAIN SELECTOR TIME\n");
		return 2;
	}
	argv += optind;
	if (dkim_key_load(argv[0], &key, &err) < 0 ||
	    dkim_sign_new(key, argv[1], argv[2], &opt, &s, &err) < 0 ||
	    !(msg = feed(s, piece, &len, &err)) ||
	    dkim_sign_finish(s, &field, &err) < 0) {
		fprintf(stderr, "dkim_sign_cli: %s\n", err.msg);
		return 1;
	}
	fputs(field, stdout);
	fwrite(msg, 1, len, stdout);
	free(field);
	free(msg);
	dkim_sign_free(s);
	dkim_key_free(key);
	return fflush(stdout) == 0 ? 0 : 1;
}
