/* poshtactl: administration of a Poshta server's users, domains, aliases,
 * quota, mailboxes, DKIM keys and mail queue. It reads the server's
 * configuration and loads the same modules through the same loader as
 * poshtad, starts only the modules that publish the "auth", "storage" or
 * "queue" interface a command needs, and calls their operations
 * directly. Binds nothing; needs no running server. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poshta/version.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config_core.h"
#include "ctl.h"
#include "iface.h"
#include "log.h"
#include "module.h"
#include "privilege.h"

#define NEED_AUTH 0x01u
#define NEED_STORE 0x02u
#define NEED_QUEUE 0x04u
#define OPT_PASSWORD_STDIN 0x10u
#define OPT_PURGE 0x20u
#define OPT_MAILBOX 0x40u
#define OPT_HASH_STDIN 0x80u
#define FILE_IN 0x100u  /* the last argument is a file to read */
#define FILE_OUT 0x200u /* an optional last argument: a file to write */
#define OPT_KEY 0x400u  /* --type, --bits, --out; a new key is made (and
			 * --out created) before rights are dropped */
#define OPT_HELD 0x800u  /* queue list --held */
#define OPT_JSON 0x1000u /* queue list --json */
#define OPT_BODY 0x2000u /* queue show --body */
#define OPT_MIGRATE 0x4000u /* migrate --from, --to */
#define NO_CONFIG 0x8000u   /* runs without loading a configuration */
#define HIDDEN 0x10000u     /* not in the usage: run by another command */
#define OPT_REPLIES 0x20000u /* migrate-dump, migrate-load --replies */

struct command {
	const char *words; /* one or two: "domain add", "import-mbox" */
	const char *usage; /* what follows the words */
	int min, max;      /* positional arguments */
	unsigned flags;
	int (*run)(struct ctl *c);
};

static const struct command commands[] = {
	{"domain add", "DOMAIN", 1, 1, NEED_AUTH, ctl_domain_add},
	{"domain del", "DOMAIN", 1, 1, NEED_AUTH, ctl_domain_del},
	{"domain list", "", 0, 0, NEED_AUTH, ctl_domain_list},
	{"user add", "ADDRESS [--password-stdin | --hash-stdin]", 1, 1,
	 NEED_AUTH | OPT_PASSWORD_STDIN | OPT_HASH_STDIN, ctl_user_add},
	{"user passwd", "ADDRESS [--password-stdin | --hash-stdin]", 1, 1,
	 NEED_AUTH | OPT_PASSWORD_STDIN | OPT_HASH_STDIN, ctl_user_passwd},
	{"user verify", "ADDRESS [--password-stdin]", 1, 1,
	 NEED_AUTH | OPT_PASSWORD_STDIN, ctl_user_verify},
	{"user del", "ADDRESS [--purge]", 1, 1, NEED_AUTH | OPT_PURGE,
	 ctl_user_del},
	{"user list", "[DOMAIN]", 0, 1, NEED_AUTH, ctl_user_list},
	{"user enable", "ADDRESS", 1, 1, NEED_AUTH, ctl_user_enable},
	{"user disable", "ADDRESS", 1, 1, NEED_AUTH, ctl_user_disable},
	{"alias add", "ALIAS TARGET", 2, 2, NEED_AUTH, ctl_alias_add},
	{"alias del", "ALIAS [TARGET]", 1, 2, NEED_AUTH, ctl_alias_del},
	{"alias list", "", 0, 0, NEED_AUTH, ctl_alias_list},
	{"alias resolve", "ADDRESS", 1, 1, NEED_AUTH, ctl_alias_resolve},
	{"quota set", "ADDRESS SIZE", 2, 2, NEED_AUTH, ctl_quota_set},
	{"quota get", "ADDRESS", 1, 1, NEED_AUTH | NEED_STORE, ctl_quota_get},
	{"mailbox list", "ADDRESS", 1, 1, NEED_AUTH | NEED_STORE,
	 ctl_mailbox_list},
	{"import-mbox", "ADDRESS FILE [--mailbox NAME]", 2, 2,
	 NEED_AUTH | NEED_STORE | OPT_MAILBOX | FILE_IN, ctl_import_mbox},
	{"export-mbox", "ADDRESS [--mailbox NAME] [FILE]", 1, 2,
	 NEED_AUTH | NEED_STORE | OPT_MAILBOX | FILE_OUT, ctl_export_mbox},
	{"index rebuild", "ADDRESS", 1, 1, NEED_AUTH | NEED_STORE,
	 ctl_index_rebuild},
	{"dkim keygen", "DOMAIN SELECTOR [--type rsa|ed25519] [--bits N] "
	 "[--out FILE]", 2, 2, OPT_KEY, ctl_dkim_keygen},
	{"queue list", "[--held] [--json]", 0, 0,
	 NEED_QUEUE | OPT_HELD | OPT_JSON, ctl_queue_list},
	{"queue show", "ID [--body]", 1, 1, NEED_QUEUE | OPT_BODY,
	 ctl_queue_show},
	{"queue flush", "[ID...]", 0, INT_MAX, NEED_QUEUE, ctl_queue_flush},
	{"queue hold", "ID...", 1, INT_MAX, NEED_QUEUE, ctl_queue_hold},
	{"queue release", "ID...", 1, INT_MAX, NEED_QUEUE, ctl_queue_release},
	{"queue delete", "ID...", 1, INT_MAX, NEED_QUEUE, ctl_queue_delete},
	{"migrate", "--from CONF --to CONF [USER...]", 0, INT_MAX,
	 NO_CONFIG | OPT_MIGRATE, ctl_migrate},
	{"migrate-dump", "[--replies] [USER...]", 0, INT_MAX,
	 NEED_AUTH | NEED_STORE | HIDDEN | OPT_REPLIES, ctl_migrate_dump},
	{"migrate-load", "[--replies]", 0, 0,
	 NEED_AUTH | NEED_STORE | HIDDEN | OPT_REPLIES, ctl_migrate_load},
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

int
ctl_fail(const char *fmt, ...)
{
	va_list ap;

	fputs("poshtactl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return CTL_FAIL;
}

int
ctl_done(int r, const struct ps_error *err)
{
	if (r >= 0)
		return CTL_OK;
	/* Only our own callbacks fail without a message: they write. */
	return ctl_fail("%s", err->msg[0] ? err->msg : "cannot write output");
}

void *
ctl_grow(void *v, size_t *cap, size_t n, size_t size)
{
	size_t more = *cap ? 2 * *cap : 64;

	if (n < *cap)
		return v;
	if (!(v = realloc(v, more * size)))
		return NULL;
	*cap = more;
	return v;
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: poshtactl [-c FILE] COMMAND ...\n"
		"  -c FILE  the server's configuration (default %s/poshta.conf)"
		"\ncommands:\n", PS_SYSCONFDIR);
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (!(commands[i].flags & HIDDEN))
			fprintf(f, "  %s%s%s\n", commands[i].words,
			*commands[i].usage ? " " : "", commands[i].usage);
}

static int
command_usage(const struct command *cmd, const char *why)
{
	fprintf(stderr, "poshtactl: %s\nusage: poshtactl [-c FILE] %s %s\n",
		why, cmd->words, cmd->usage);
	return CTL_USAGE;
}

/* The command named by argv[0] (and argv[1]); *nwords_r words long. */
static const struct command *
find_command(int argc, char **argv, int *nwords_r)
{
	for (size_t i = 0; i < NCOMMANDS; i++) {
		const char *w = commands[i].words, *sp = strchr(w, ' ');
		size_t n = sp ? (size_t)(sp - w) : strlen(w);

		if (strncmp(argv[0], w, n) != 0 || argv[0][n])
			continue;
		if (!sp) {
			*nwords_r = 1;
			return &commands[i];
		}
		if (argc > 1 && strcmp(argv[1], sp + 1) == 0) {
			*nwords_r = 2;
			return &commands[i];
		}
	}
	return NULL;
}

/* The value of option name at argv[*i], "--name VALUE" (*i moves on)
 * or "--name=VALUE"; NULL when argv[*i] is not that option. */
static const char *
value(const char *name, int argc, char **argv, int *i)
{
	size_t n = strlen(name);

	if (strncmp(argv[*i], name, n) != 0)
		return NULL;
	if (argv[*i][n] == '=')
		return argv[*i] + n + 1;
	if (argv[*i][n] == '\0' && *i + 1 < argc)
		return argv[++*i];
	return NULL;
}

/* Options and positional arguments of a command (options anywhere, "--"
 * ends them). argv is reordered: positionals end up in c->args. */
static int
parse_args(const struct command *cmd, int argc, char **argv, struct ctl *c)
{
	const char *v;
	int only_args = 0;

	c->args = argv;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];

		if (only_args || a[0] != '-' || strcmp(a, "-") == 0)
			c->args[c->nargs++] = argv[i];
		else if (strcmp(a, "--") == 0)
			only_args = 1;
		else if ((cmd->flags & OPT_PASSWORD_STDIN) &&
			 strcmp(a, "--password-stdin") == 0)
			c->password_stdin = 1;
		else if ((cmd->flags & OPT_HASH_STDIN) &&
			 strcmp(a, "--hash-stdin") == 0)
			c->hash_stdin = 1;
		else if ((cmd->flags & OPT_PURGE) && strcmp(a, "--purge") == 0)
			c->purge = 1;
		else if ((cmd->flags & OPT_HELD) && strcmp(a, "--held") == 0)
			c->held = 1;
		else if ((cmd->flags & OPT_JSON) && strcmp(a, "--json") == 0)
			c->json = 1;
		else if ((cmd->flags & OPT_BODY) && strcmp(a, "--body") == 0)
			c->body = 1;
		else if ((cmd->flags & OPT_REPLIES) &&
			 strcmp(a, "--replies") == 0)
			c->replies = 1;
		else if ((cmd->flags & OPT_MAILBOX) &&
			 (v = value("--mailbox", argc, argv, &i)))
			c->mailbox = v;
		else if ((cmd->flags & OPT_KEY) &&
			 (v = value("--type", argc, argv, &i)))
			c->key_type = v;
		else if ((cmd->flags & OPT_KEY) &&
			 (v = value("--bits", argc, argv, &i)))
			c->key_bits = v;
		else if ((cmd->flags & OPT_KEY) &&
			 (v = value("--out", argc, argv, &i)))
			c->key_out = v;
		else if ((cmd->flags & OPT_MIGRATE) &&
			 (v = value("--from", argc, argv, &i)))
			c->migrate_from = v;
		else if ((cmd->flags & OPT_MIGRATE) &&
			 (v = value("--to", argc, argv, &i)))
			c->migrate_to = v;
		else
			return command_usage(cmd, "unknown option or missing "
					     "value");
	}
	if (c->nargs < cmd->min || c->nargs > cmd->max)
		return command_usage(cmd, "wrong number of arguments");
	if (c->mailbox && !*c->mailbox)
		return command_usage(cmd, "empty mailbox name");
	return CTL_OK;
}

/* ---- Configuration and backends -------------------------------------- */

static struct ps_config *cfg;
static struct ps_module_ctx *started[2];
static size_t nstarted;

static int
load(const char *path)
{
	struct ps_error err = {""};

	ps_log_set_role("poshtactl");
	/* Only problems: not every module's "loaded" line. */
	ps_log_set_level(PS_LOG_WARN);
	if (!(cfg = ps_config_read(path, &err)) ||
	    ps_modules_load(cfg->module_dir, cfg->load, cfg->nload,
			    &err) < 0 ||
	    ps_config_finish(cfg, &err) < 0)
		return ctl_fail("%s", err.msg);
	ps_config_activate(cfg);
	ps_log_set_level(PS_LOG_WARN);
	return CTL_OK;
}

/* Open the command's file as the invoking user, before dropping rights. */
static int
open_file(const struct command *cmd, struct ctl *c)
{
	int fd;

	if ((cmd->flags & FILE_IN) || (cmd->flags & FILE_OUT && c->nargs > 1))
		c->file_name = c->args[--c->nargs];
	if (c->file_name && strcmp(c->file_name, "-") == 0)
		c->file_name = NULL;
	if (!c->file_name) {
		c->file = cmd->flags & FILE_IN ? stdin : stdout;
		c->file_name = cmd->flags & FILE_IN ? "(stdin)" : "(stdout)";
		return CTL_OK;
	}
	if (cmd->flags & FILE_IN)
		c->file = fopen(c->file_name, "r");
	else if ((fd = open(c->file_name, O_WRONLY | O_CREAT | O_TRUNC |
			    O_CLOEXEC, 0600)) >= 0 &&
		 !(c->file = fdopen(fd, "w")))
		close(fd);
	if (!c->file)
		return ctl_fail("%s: %s", c->file_name, strerror(errno));
	return CTL_OK;
}

/* Become the configured user, as workers do, so the databases poshtactl
 * creates belong to the server. Only root can; others stay themselves. */
static int
become_user(void)
{
	struct ps_error err = {""};

	if ((geteuid() == 0 && ps_privilege_resolve(cfg, &err) < 0) ||
	    ps_privilege_state_dir(cfg, &err) < 0 ||
	    ps_privilege_drop(cfg, &err) < 0)
		return ctl_fail("%s", err.msg);
	return CTL_OK;
}

static int
no_backend(const char *kind)
{
	return ctl_fail("no %s backend loaded (add one, e.g. 'load %s_sqlite;',"
			" to %s)", kind, kind, cfg->path);
}

/* Start the module that published kind (once) and copy its table. */
static int
start_backend(const char *kind, void *ops, size_t size)
{
	struct ps_module_ctx *m = ps_iface_owner(kind, NULL);
	struct ps_error err = {""};

	if (nstarted == 0 || started[0] != m) {
		if (ps_module_worker_init(m, &err) < 0)
			return ctl_fail("%s", err.msg);
		started[nstarted++] = m;
	}
	ps_iface_get(kind, NULL, ops, size);
	return CTL_OK;
}

/* Every backend is found before any module opens a database. */
static int
start_backends(unsigned flags, struct ctl *c)
{
	if (flags & NEED_AUTH && !ps_iface_owner(PS_AUTH_KIND, NULL))
		return no_backend(PS_AUTH_KIND);
	if (flags & NEED_STORE && !ps_iface_owner(PS_STORAGE_KIND, NULL))
		return no_backend(PS_STORAGE_KIND);
	if (flags & NEED_QUEUE && !ps_iface_owner(PS_QUEUE_KIND, NULL))
		return no_backend(PS_QUEUE_KIND);
	if (become_user() != CTL_OK)
		return CTL_FAIL;
	if (flags & NEED_AUTH &&
	    start_backend(PS_AUTH_KIND, &c->auth, sizeof(c->auth)) != CTL_OK)
		return CTL_FAIL;
	if (flags & NEED_STORE &&
	    start_backend(PS_STORAGE_KIND, &c->store, sizeof(c->store)) !=
	    CTL_OK)
		return CTL_FAIL;
	if (flags & NEED_QUEUE &&
	    start_backend(PS_QUEUE_KIND, &c->queue, sizeof(c->queue)) != CTL_OK)
		return CTL_FAIL;
	return CTL_OK;
}

static void
stop(struct ctl *c)
{
	while (nstarted > 0)
		ps_module_worker_exit(started[--nstarted]);
	if (c->file && c->file != stdin && c->file != stdout)
		fclose(c->file);
	ps_config_free(cfg);
	ps_modules_unload();
}

static int
run(const char *path, const struct command *cmd, struct ctl *c)
{
	int code = load(path);

	if (code == CTL_OK)
		c->state_dir = cfg->state_dir;
	if (code == CTL_OK && cmd->flags & (FILE_IN | FILE_OUT))
		code = open_file(cmd, c);
	if (code == CTL_OK && cmd->flags & OPT_KEY)
		code = ctl_dkim_prepare(c);
	/* Purging a user deletes its mailboxes too. */
	if (code == CTL_OK)
		code = start_backends(cmd->flags | (c->purge ? NEED_STORE : 0),
				      c);
	if (code == CTL_OK)
		code = cmd->run(c);
	/* A list that did not reach its reader is a failure too. */
	if (code == CTL_OK && fflush(stdout) != 0)
		code = ctl_fail("standard output: %s", strerror(errno));
	stop(c);
	return code;
}

int
main(int argc, char **argv)
{
	const char *path = PS_SYSCONFDIR "/poshta.conf";
	const struct command *cmd;
	struct ctl c = {0};
	int opt, nwords, code;

	/* '+': options stop at the command, whose own options follow it. */
	while ((opt = getopt(argc, argv, "+c:hV")) != -1) {
		switch (opt) {
		case 'c': path = optarg; break;
		case 'h': usage(stdout); return CTL_OK;
		case 'V':
			printf("poshtactl %s (SDK ABI %d.%d)\n", PS_VERSION,
			       PS_ABI_MAJOR, PS_ABI_MINOR);
			return CTL_OK;
		default: usage(stderr); return CTL_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0 || !(cmd = find_command(argc, argv, &nwords))) {
		if (argc > 0)
			fprintf(stderr, "poshtactl: unknown command '%s'\n",
				argv[0]);
		usage(stderr);
		return CTL_USAGE;
	}
	code = parse_args(cmd, argc - nwords, argv + nwords, &c);
	if (code != CTL_OK)
		return code;
	if (!c.mailbox)
		c.mailbox = "INBOX";
	if (cmd->flags & NO_CONFIG)
		return cmd->run(&c);
	return run(path, cmd, &c);
}
