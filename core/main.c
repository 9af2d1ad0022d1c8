/* poshtad: read and check the whole configuration, load the modules it
 * names, then hand over to the master. Every error before serving is one
 * line on stderr and exit status 1. */
#include "config.h"

#include <poshta/version.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "config_core.h"
#include "log.h"
#include "master.h"
#include "module.h"

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: poshtad [-c FILE] [-f] [-t] [-d] [-V]\n"
		"  -c FILE  configuration (default %s/poshta.conf)\n"
		"  -f       stay in the foreground, log to stderr\n"
		"  -t       check the configuration and exit\n"
		"  -d       print the directive reference and exit\n"
		"  -V       print the version and the SDK ABI\n",
		PS_SYSCONFDIR);
}

/* The reference (-d) needs only what the modules declare: its config
 * loads every module and sets nothing, so a directive a module requires
 * (auth_pgsql's conninfo) must not stop it. */
static struct ps_config *
load_config(const char *path, int quiet, int reference, struct ps_error *err)
{
	struct ps_config *cfg = ps_config_read(path, err);

	if (!cfg)
		return NULL;
	/* -t prints only problems, not each module's start-up lines. */
	ps_log_set_level(quiet ? PS_LOG_WARN : cfg->log_level);
	if (ps_modules_load(cfg->module_dir, cfg->load, cfg->nload, err) < 0 ||
	    (!reference && ps_config_finish(cfg, err) < 0)) {
		ps_config_free(cfg);
		return NULL;
	}
	return cfg;
}

int
main(int argc, char **argv)
{
	const char *path = PS_SYSCONFDIR "/poshta.conf";
	int foreground = 0, test = 0, reference = 0, opt, code;
	struct ps_error err = {""};
	struct ps_config *cfg;
	char cwd[4096], abs_path[8192];

	while ((opt = getopt(argc, argv, "c:ftdVh")) != -1) {
		switch (opt) {
		case 'c': path = optarg; break;
		case 'f': foreground = 1; break;
		case 't': test = 1; break;
		case 'd': reference = test = 1; break;
		case 'V':
			printf("poshtad %s (SDK ABI %d.%d)\n", PS_VERSION,
			       PS_ABI_MAJOR, PS_ABI_MINOR);
			return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 1;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 1;
	}
	/* The daemon works in /, and SIGHUP reads the file again. */
	if (path[0] != '/' && getcwd(cwd, sizeof(cwd))) {
		snprintf(abs_path, sizeof(abs_path), "%s/%s", cwd, path);
		path = abs_path;
	}
	cfg = load_config(path, test, reference, &err);
	if (!cfg) {
		fprintf(stderr, "poshtad: %s\n", err.msg);
		ps_modules_unload();
		return 1;
	}
	if (reference)
		ps_config_reference(stdout);
	else if (test)
		printf("poshtad: %s: ok\n", path);
	if (test) {
		ps_config_free(cfg);
		ps_modules_unload();
		return 0;
	}
	code = ps_master_run(cfg, !foreground);
	return code;
}
