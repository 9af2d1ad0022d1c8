/* poshtactl migrate's progress files, for a target that cannot keep the
 * source's UIDs (no SDK 1.6 ops, or the target mailbox held other mail):
 * STATE_DIR/migrate/USER/HASH, HASH naming the mailbox and the source's
 * UIDVALIDITY, holds "LAST-UID NAME" with the last source UID whose
 * batch was committed. It is written (atomically, fsynced) right after
 * each commit: a crash between the two repeats that one batch on the
 * next run, which docs/poshtactl.8 states. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl.h"

/* FNV-1a, 64 bits: a short file name for any mailbox name. */
static uint64_t
fnv1a(const char *s, uint32_t uidvalidity)
{
	uint64_t h = 14695981039346656037ull;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	for (int i = 0; i < 4; i++)
		h = (h ^ ((uidvalidity >> (8 * i)) & 0xff)) * 1099511628211ull;
	return h;
}

static int
progress_path(char *out, size_t cap, const char *state_dir, const char *user,
	      const char *mailbox, uint32_t uidvalidity, int make_dirs,
	      struct ps_error *err)
{
	int n = snprintf(out, cap, "%s/migrate", state_dir);

	if (make_dirs && mkdir(out, 0700) < 0 && errno != EEXIST)
		goto fail;
	/* An address is a safe file name unless it holds a '/' or starts
	 * with a dot; those go by hash. */
	if (strchr(user, '/') || user[0] == '.')
		n += snprintf(out + n, cap - (size_t)n, "/%016llx",
			      (unsigned long long)fnv1a(user, 0));
	else
		n += snprintf(out + n, cap - (size_t)n, "/%s", user);
	if (make_dirs && mkdir(out, 0700) < 0 && errno != EEXIST)
		goto fail;
	snprintf(out + n, cap - (size_t)n, "/%016llx",
		 (unsigned long long)fnv1a(mailbox, uidvalidity));
	return 0;
fail:
	snprintf(err->msg, sizeof(err->msg), "%.200s: %s", out,
		 strerror(errno));
	return PS_EIO;
}

int
ctl_migrate_progress_load(const char *state_dir, const char *user,
			  const char *mailbox, uint32_t uidvalidity,
			  uint32_t *last_r, struct ps_error *err)
{
	char path[4096], name[1100];
	unsigned long last;
	FILE *f;
	int ok;

	*last_r = 0;
	progress_path(path, sizeof(path), state_dir, user, mailbox,
		      uidvalidity, 0, err);
	if (!(f = fopen(path, "re"))) {
		if (errno == ENOENT)
			return 0;
		snprintf(err->msg, sizeof(err->msg), "%.200s: %s", path,
			 strerror(errno));
		return PS_EIO;
	}
	ok = fscanf(f, "%lu ", &last) == 1 &&
	     fgets(name, sizeof(name), f) && last <= UINT32_MAX;
	fclose(f);
	/* Another mailbox of the same hash starts afresh. */
	if (ok && strcmp(name, mailbox) == 0)
		*last_r = (uint32_t)last;
	return 0;
}

int
ctl_migrate_progress_save(const char *state_dir, const char *user,
			  const char *mailbox, uint32_t uidvalidity,
			  uint32_t last, struct ps_error *err)
{
	char path[4096], tmp[4200];
	FILE *f;
	int r;

	if (progress_path(path, sizeof(path), state_dir, user, mailbox,
			  uidvalidity, 1, err) < 0)
		return PS_EIO;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if (!(f = fopen(tmp, "we")))
		goto fail;
	r = fprintf(f, "%u %s", last, mailbox) < 0;
	r |= fflush(f) != 0 || fsync(fileno(f)) != 0;
	r |= fclose(f) != 0;
	if (r || rename(tmp, path) < 0)
		goto fail;
	return 0;
fail:
	snprintf(err->msg, sizeof(err->msg), "%.200s: %s", path,
		 strerror(errno));
	return PS_EIO;
}
