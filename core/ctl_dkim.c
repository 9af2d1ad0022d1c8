/* poshtactl dkim keygen: a DKIM signing key (libpsdkim) for a domain and
 * selector, written as PKCS#8 PEM with mode 0600 to a new file, never
 * over an old one, and the DNS TXT record that publishes it (RFC 6376
 * 3.6.2.2: strings of at most 255 octets, joined by the verifier). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl.h"
#include "dkim.h"

#define TXT_STRING_MAX 255
#define RSA_BITS_DEFAULT 2048

static struct dkim_key *key; /* made before rights are dropped */

static void
lower(char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
}

/* --type and --bits. */
static int
key_kind(const struct ctl *c, enum dkim_alg *alg, unsigned *bits)
{
	const char *type = c->key_type ? c->key_type : "rsa";
	char *end;
	long n;

	if (strcmp(type, "ed25519") == 0) {
		*alg = DKIM_ED25519_SHA256;
		return c->key_bits ? ctl_fail("--bits is for RSA keys") :
			CTL_OK;
	}
	if (strcmp(type, "rsa") != 0)
		return ctl_fail("key type '%s' is neither rsa nor ed25519",
				type);
	*alg = DKIM_RSA_SHA256;
	*bits = RSA_BITS_DEFAULT;
	if (!c->key_bits)
		return CTL_OK;
	errno = 0;
	n = strtol(c->key_bits, &end, 10);
	if (errno || *end || end == c->key_bits || n < DKIM_RSA_BITS_MIN ||
	    n > DKIM_RSA_BITS_MAX)
		return ctl_fail("--bits must be a number from %d to %d",
				DKIM_RSA_BITS_MIN, DKIM_RSA_BITS_MAX);
	*bits = (unsigned)n;
	return CTL_OK;
}

/* A new file of mode 0600, or a failure when one is there. */
static int
create(struct ctl *c, const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

	if (fd < 0 && errno == EEXIST)
		return ctl_fail("%s exists: not replacing a key", path);
	if (fd < 0 || !(c->file = fdopen(fd, "w"))) {
		if (fd >= 0)
			close(fd);
		return ctl_fail("%s: %s", path, strerror(errno));
	}
	c->file_name = path;
	return CTL_OK;
}

int
ctl_dkim_prepare(struct ctl *c)
{
	struct ps_error err = {""};
	enum dkim_alg alg = DKIM_RSA_SHA256;
	unsigned bits = 0;

	lower(c->args[0]);
	lower(c->args[1]);
	if (dkim_check_name("domain", c->args[0], &err) < 0 ||
	    dkim_check_name("selector", c->args[1], &err) < 0)
		return ctl_fail("%s", err.msg);
	if (key_kind(c, &alg, &bits) != CTL_OK)
		return CTL_FAIL;
	if (dkim_key_generate(alg, bits, &key, &err) < 0)
		return ctl_fail("%s", err.msg);
	/* A file named on the command line: with the invoking user's
	 * rights, as every such file. */
	if (c->key_out && create(c, c->key_out) != CTL_OK) {
		dkim_key_free(key);
		key = NULL;
		return CTL_FAIL;
	}
	return CTL_OK;
}

/* STATE_DIR/dkim/DOMAIN.SELECTOR.key, the folder made 0700: the
 * server's user reads the keys, nobody else. */
static int
create_default(struct ctl *c)
{
	static char path[4096];
	size_t len = sizeof(path);

	snprintf(path, len, "%s/dkim", c->state_dir);
	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		return ctl_fail("%s: %s", path, strerror(errno));
	if ((size_t)snprintf(path, len, "%s/dkim/%s.%s.key", c->state_dir,
			     c->args[0], c->args[1]) >= len)
		return ctl_fail("state_dir too long for a key file name");
	return create(c, path);
}

static int
write_key(struct ctl *c)
{
	struct ps_error err = {""};
	size_t len;
	char *pem;
	int ok;

	if (dkim_key_pem(key, &pem, &len, &err) < 0)
		return ctl_fail("%s", err.msg);
	ok = fwrite(pem, 1, len, c->file) == len && fflush(c->file) == 0 &&
	     fsync(fileno(c->file)) == 0;
	explicit_bzero(pem, len);
	free(pem);
	if (!ok) {
		ctl_fail("%s: %s", c->file_name, strerror(errno));
		unlink(c->file_name); /* a partial key is no key */
		return CTL_FAIL;
	}
	return CTL_OK;
}

/* "SELECTOR._domainkey.DOMAIN. IN TXT ( "..." "..." )". */
static void
print_record(const struct ctl *c, const char *rec)
{
	size_t len = strlen(rec), n;

	printf("; private key: %s\n%s._domainkey.%s. IN TXT (",
	       c->file_name, c->args[1], c->args[0]);
	for (size_t i = 0; i < len; i += n) {
		n = len - i < TXT_STRING_MAX ? len - i : TXT_STRING_MAX;
		printf(" \"%.*s\"", (int)n, rec + i);
	}
	printf(" )\n");
}

int
ctl_dkim_keygen(struct ctl *c)
{
	struct ps_error err = {""};
	int code = CTL_OK;
	char *rec = NULL;

	if (!c->file)
		code = create_default(c);
	if (code == CTL_OK)
		code = write_key(c);
	if (code == CTL_OK && dkim_key_record(key, &rec, &err) < 0)
		code = ctl_fail("%s", err.msg);
	if (code == CTL_OK)
		print_record(c, rec);
	free(rec);
	dkim_key_free(key);
	key = NULL;
	return code;
}
