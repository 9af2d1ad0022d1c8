/* Whom the server runs as (see privilege.h). The master keeps the
 * invoking user's rights; workers and poshtactl drop to "user". */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config_core.h"
#include "log.h"
#include "privilege.h"

int
ps_privilege_resolve(struct ps_config *cfg, struct ps_error *err)
{
	struct passwd *pw;
	struct group *gr;

	cfg->drop_privileges = 0;
	if (!cfg->user)
		return 0;
	if (!(pw = getpwnam(cfg->user)))
		return ps_error_set(err, "%s: user '%s' does not exist",
				    cfg->path, cfg->user);
	cfg->uid = pw->pw_uid;
	cfg->gid = pw->pw_gid;
	if (cfg->group) {
		if (!(gr = getgrnam(cfg->group)))
			return ps_error_set(err, "%s: group '%s' does not "
					    "exist", cfg->path, cfg->group);
		cfg->gid = gr->gr_gid;
	}
	cfg->drop_privileges = cfg->uid != geteuid() || cfg->gid != getegid();
	return 0;
}

int
ps_privilege_state_dir(const struct ps_config *cfg, struct ps_error *err)
{
	if (mkdir(cfg->state_dir, 0750) < 0 && errno != EEXIST)
		return ps_error_set(err, "state_dir %s: %s", cfg->state_dir,
				    strerror(errno));
	if (cfg->drop_privileges &&
	    chown(cfg->state_dir, cfg->uid, cfg->gid) < 0)
		return ps_error_set(err, "state_dir %s: chown: %s",
				    cfg->state_dir, strerror(errno));
	return 0;
}

int
ps_privilege_drop(const struct ps_config *cfg, struct ps_error *err)
{
	if (!cfg->drop_privileges)
		return 0;
	if (setgroups(1, &cfg->gid) < 0 || setgid(cfg->gid) < 0 ||
	    setuid(cfg->uid) < 0)
		return ps_error_set(err, "cannot become user %s: %s",
				    cfg->user ? cfg->user : "?",
				    strerror(errno));
	/* Not debuggable by other users, and no core dumps of keys. */
	prctl(PR_SET_DUMPABLE, 0);
	return 0;
}
