/* The core's own directives and the assembled configuration: the top
 * level, the tls block, listen blocks and one block per loaded module.
 *
 * Reading happens in two steps because modules declare their directives
 * when they load, and the "load" lines are in the same file:
 * ps_config_read validates the top level (learning what to load), then,
 * once the modules are loaded, ps_config_finish validates the rest and
 * builds listeners and TLS contexts. */
#ifndef PS_CORE_CONFIG_CORE_H
#define PS_CORE_CONFIG_CORE_H

#include <poshta/types.h>
#include <stdio.h>

#include "authfail.h"
#include <sys/types.h>

struct ps_listener;
struct ps_conf_tree;
struct ps_conf_section;

struct ps_config {
	char *path;
	struct ps_conf_tree *tree;
	struct ps_conf_section *core;
	struct ps_conf_section *tls;     /* the tls { } block, or NULL */
	struct ps_conf_section **modules; /* by module index */
	size_t nmodules;
	struct ps_conf_section **listen_sections;
	size_t nlisten;
	struct ps_listener *listeners;
	char **load;                     /* module names, in order */
	size_t nload;
	/* Resolved top-level values. */
	unsigned workers;
	unsigned threads;
	const char *user;
	const char *group;
	const char *state_dir;
	const char *module_dir;
	char *pid_file;
	char *hostname;
	enum ps_log_level log_level;
	uint64_t shutdown_timeout_ms;
	struct ps_authfail_conf authfail;
	/* Set by the master from user/group: whom workers run as. */
	int drop_privileges;
	uid_t uid;
	gid_t gid;
};

/* Parse path and validate the top level. NULL with "file:line: message"
 * in err on failure. */
struct ps_config *ps_config_read(const char *path, struct ps_error *err);
/* With every module in cfg->load loaded: validate module and listen
 * blocks, resolve listeners and load certificates. */
int ps_config_finish(struct ps_config *cfg, struct ps_error *err);
/* Frees the config; listener fds still open are closed. */
void ps_config_free(struct ps_config *cfg);
/* Make cfg the one modules see (ps_conf_core, ps_conf_module). */
void ps_config_activate(struct ps_config *cfg);
const struct ps_conf_section *ps_config_core_section(void);
/* The hostname directive, else the system's name, else "localhost". */
const char *ps_config_hostname(void);
/* Print every directive of the core and the loaded modules as Markdown
 * (poshtad -d; docs/config.md is made with it). */
void ps_config_reference(FILE *f);

#endif
