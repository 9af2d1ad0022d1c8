/* poshtactl migrate's progress files: STATE_DIR/migrate/USER/HASH, HASH
 * naming the mailbox and the source's UIDVALIDITY, holds "MODE LAST-UID
 * NAME": the last source UID whose batch was committed, and how (MODE
 * 'K': with the source's UIDs, 'N': with new ones). It is written
 * (atomically, fsynced) right after each commit. With UIDs kept it only
 * tells a copy from a mailbox whose UIDVALIDITY is the same by chance;
 * with new UIDs it is what resuming goes by, and a crash between the
 * commit and the file repeats that one batch on the next run, which
 * docs/poshtactl.8 states. */
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
			  char *mode_r, uint32_t *last_r, struct ps_error *err)
{
	char path[4096], name[1100], mode;
	unsigned long last;
	FILE *f;
	int ok;

	*last_r = 0;
	*mode_r = 0;
	progress_path(path, sizeof(path), state_dir, user, mailbox,
		      uidvalidity, 0, err);
	if (!(f = fopen(path, "re"))) {
		if (errno == ENOENT)
			return 0;
		snprintf(err->msg, sizeof(err->msg), "%.200s: %s", path,
			 strerror(errno));
		return PS_EIO;
	}
	ok = fscanf(f, "%c %lu ", &mode, &last) == 2 &&
	     fgets(name, sizeof(name), f) && last <= UINT32_MAX;
	fclose(f);
	/* Another mailbox of the same hash starts afresh. */
	if (ok && strcmp(name, mailbox) == 0) {
		*last_r = (uint32_t)last;
		*mode_r = mode;
	}
	return 0;
}

int
ctl_migrate_progress_save(const char *state_dir, const char *user,
			  const char *mailbox, uint32_t uidvalidity,
			  char mode, uint32_t last, struct ps_error *err)
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
	r = fprintf(f, "%c %u %s", mode, last, mailbox) < 0;
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
