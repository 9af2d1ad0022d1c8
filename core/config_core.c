/* The core's directives and the assembled configuration (see
 * config_core.h). Everything is validated before anything starts: a bad
 * file never half-applies, at start-up or on SIGHUP. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "authfail.h"
#include "conf.h"
#include "config_core.h"
#include "listen.h"
#include "log.h"
#include "module.h"
#include "tls.h"

static const char *const log_levels[] = {
	"error", "warning", "notice", "info", "debug", NULL,
};
static const enum ps_log_level log_level_values[] = {
	PS_LOG_ERR, PS_LOG_WARN, PS_LOG_NOTICE, PS_LOG_INFO, PS_LOG_DEBUG,
};
static const char *const tls_modes[] = {
	"none", "starttls", "required", "implicit", NULL,
};
static const char *const tls_versions[] = {"TLSv1.2", "TLSv1.3", NULL};
static const char *const plaintext_modes[] = {"tls", "allow", NULL};

/* core/limits.c counts connections across workers: in all, per client
 * address (top level only) and per listener. */
#define IDLE_TIMEOUT(def)                                                   \
	{"idle_timeout", PS_CONF_DURATION, 0, 1000, 86400000LL * 7, NULL,   \
	 def, "close a connection silent for this long (where neither the " \
	 "listen block nor the top level sets it: the protocol's own, " \
	 "SMTP 5m, POP3 10m, IMAP 30m)"}

static const struct ps_directive core_directives[] = {
	{"workers", PS_CONF_INT, 0, 1, 256, NULL, NULL,
	 "worker processes (default: one per two CPU cores, at least one)"},
	{"threads", PS_CONF_INT, 0, 1, 256, NULL, "4",
	 "thread-pool threads per worker, for blocking work"},
	{"user", PS_CONF_STRING, 0, 0, 0, NULL, NULL,
	 "run workers as this user (default: the invoking user)"},
	{"group", PS_CONF_STRING, 0, 0, 0, NULL, NULL,
	 "run workers with this group (default: the user's group)"},
	{"state_dir", PS_CONF_PATH, 0, 0, 0, NULL, "/var/lib/poshta",
	 "where the server keeps its state"},
	{"module_dir", PS_CONF_PATH, 0, 0, 0, NULL, PS_MODULEDIR,
	 "where \"load NAME\" finds NAME.so"},
	{"pid_file", PS_CONF_PATH, 0, 0, 0, NULL, NULL,
	 "the master's pid (default: STATE_DIR/poshtad.pid)"},
	{"log_level", PS_CONF_ENUM, 0, 0, 0, log_levels, "info",
	 "least severe level logged"},
	{"hostname", PS_CONF_STRING, 0, 0, 0, NULL, NULL,
	 "this server's name in greetings (default: the system's)"},
	{"load", PS_CONF_WORDS, PS_CONF_MULTI, 1, 0, NULL, NULL,
	 "load modules, in order"},
	{"shutdown_timeout", PS_CONF_DURATION, 0, 0, 86400000, NULL, "30s",
	 "on SIGTERM, how long workers finish live connections"},
	{"output_buffer", PS_CONF_SIZE, 0, 4096, 1LL << 30, NULL, "256k",
	 "output queued per connection before its input is paused"},
	{"input_buffer", PS_CONF_SIZE, 0, 4096, 1LL << 30, NULL, "256k",
	 "input buffered per connection before reading stops"},
	{"max_connections", PS_CONF_INT, 0, 0, 10000000, NULL, "10000",
	 "connections served at once, all workers and listeners together "
	 "(0: no limit)"},
	{"max_connections_per_ip", PS_CONF_INT, 0, 0, 10000000, NULL, "100",
	 "connections from one client address at once, server-wide (0: no "
	 "limit)"},
	IDLE_TIMEOUT("5m"),
	{"auth_failure_delay", PS_CONF_DURATION, 0, 0, 60000, NULL, "2s",
	 "wait this long before answering a failed login"},
	{"auth_max_failures_per_ip", PS_CONF_INT, 0, 0, 1000000, NULL, "10",
	 "failed logins from one address (IPv6: one /64) within the window "
	 "before its logins are refused (0: no limit)"},
	{"auth_max_failures_per_user", PS_CONF_INT, 0, 0, 1000000, NULL, "20",
	 "failed logins for one user name within the window before its "
	 "logins are refused (0: no limit)"},
	{"auth_failure_window", PS_CONF_DURATION, 0, 1000, 86400000LL * 7,
	 NULL, "10m", "how long failures count, from the first one"},
	{NULL, 0, 0, 0, 0, NULL, NULL, NULL},
};

static const struct ps_directive tls_directives[] = {
	{"certificate", PS_CONF_PATH, PS_CONF_MULTI, 0, 0, NULL, NULL,
	 "PEM certificate chain; the first is the default, others by SNI"},
	{"key", PS_CONF_PATH, PS_CONF_MULTI, 0, 0, NULL, NULL,
	 "PEM private key of the certificate in the same position"},
	{"ciphers", PS_CONF_STRING, 0, 0, 0, NULL, NULL,
	 "OpenSSL cipher list for TLS 1.2 (default: ECDHE with AEAD)"},
	{"min_version", PS_CONF_ENUM, 0, 0, 0, tls_versions, "TLSv1.2",
	 "oldest TLS version accepted"},
	{NULL, 0, 0, 0, 0, NULL, NULL, NULL},
};

static const struct ps_directive listen_directives[] = {
	{"protocol", PS_CONF_STRING, 0, 0, 0, NULL, NULL,
	 "protocol served (default: the listener's name)"},
	{"tls", PS_CONF_ENUM, 0, 0, 0, tls_modes, NULL,
	 "none, starttls (offered), required, implicit (default: starttls "
	 "when a certificate applies, else none)"},
	{"certificate", PS_CONF_PATH, PS_CONF_MULTI, 0, 0, NULL, NULL,
	 "this listener's own certificate(s), instead of tls { }"},
	{"key", PS_CONF_PATH, PS_CONF_MULTI, 0, 0, NULL, NULL,
	 "keys for this listener's certificates"},
	{"max_line", PS_CONF_SIZE, 0, 64, 1 << 24, NULL, NULL,
	 "longest command line (default: the protocol's)"},
	{"auth_plaintext", PS_CONF_ENUM, 0, 0, 0, plaintext_modes, "tls",
	 "passwords in the clear (PLAIN, LOGIN): only over TLS, or allow "
	 "them without"},
	{"max_connections", PS_CONF_INT, 0, 0, 10000000, NULL, NULL,
	 "connections this listener serves at once, all workers together "
	 "(0: no limit; the server's limit holds too)"},
	IDLE_TIMEOUT(NULL),
	{NULL, 0, 0, 0, 0, NULL, NULL, NULL},
};

static const struct ps_conf_section *active_core;
static const char *active_hostname = "localhost";

const struct ps_conf_section *
ps_config_core_section(void)
{
	return active_core;
}

const char *
ps_config_hostname(void)
{
	return active_hostname;
}

static const char *
str(const struct ps_conf_section *s, const char *name)
{
	const struct ps_conf_value *v = ps_conf_section_get(s, name, 0);
	return v ? v->str : NULL;
}

static long long
num(const struct ps_conf_section *s, const char *name, long long def)
{
	const struct ps_conf_value *v = ps_conf_section_get(s, name, 0);
	return v ? v->num : def;
}

static char *
join(const char *a, const char *b)
{
	size_t n = strlen(a) + strlen(b) + 2;
	char *p = malloc(n);
	if (p)
		snprintf(p, n, "%s/%s", a, b);
	return p;
}

/* The load lines, read straight from the tree: they decide which module
 * blocks the top level may hold, so they are needed before validating it
 * (which then checks them like any directive). */
static int
collect_load(struct ps_config *cfg, struct ps_error *err)
{
	for (const struct ps_conf_node *n = cfg->tree->root; n; n = n->next) {
		if (strcmp(n->name, "load") != 0)
			continue;
		for (size_t i = 0; i < n->nargs; i++) {
			char **p = realloc(cfg->load,
					   (cfg->nload + 1) * sizeof(*p));
			if (!p)
				return ps_error_set(err, "out of memory");
			cfg->load = p;
			if (!(p[cfg->nload] = strdup(n->args[i])))
				return ps_error_set(err, "out of memory");
			cfg->nload++;
		}
	}
	return 0;
}

/* Blocks allowed at the top: tls, listen, and one per loaded module. */
static const char **
top_block_names(const struct ps_config *cfg)
{
	const char **names = calloc(cfg->nload + 3, sizeof(*names));
	if (!names)
		return NULL;
	names[0] = "tls";
	names[1] = "listen";
	for (size_t i = 0; i < cfg->nload; i++)
		names[i + 2] = cfg->load[i];
	return names;
}

static int
resolve_top(struct ps_config *cfg, struct ps_error *err)
{
	const struct ps_conf_section *s = cfg->core;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	char host[256];

	/* Each worker's loop thread does the network; its pool threads do
	 * storage and auth work, and need cores of their own: on two cores
	 * one worker delivered 15-35% more mail than two, at a third less
	 * CPU a message (tests/bench/README.md). */
	cfg->workers = (unsigned)num(s, "workers", cpus > 1 ? (cpus + 1) / 2
								: 1);
	cfg->threads = (unsigned)num(s, "threads", 4);
	cfg->user = str(s, "user");
	cfg->group = str(s, "group");
	cfg->state_dir = str(s, "state_dir");
	cfg->module_dir = str(s, "module_dir");
	cfg->log_level = log_level_values[num(s, "log_level", 3)];
	cfg->shutdown_timeout_ms = (uint64_t)num(s, "shutdown_timeout", 30000);
	cfg->authfail = (struct ps_authfail_conf){
		.delay_ms = (uint64_t)num(s, "auth_failure_delay", 2000),
		.window_ms = (uint64_t)num(s, "auth_failure_window", 600000),
		.max_per_ip = (unsigned)num(s, "auth_max_failures_per_ip", 10),
		.max_per_user =
			(unsigned)num(s, "auth_max_failures_per_user", 20),
	};
	cfg->pid_file = str(s, "pid_file") ? strdup(str(s, "pid_file")) :
		join(cfg->state_dir, "poshtad.pid");
	if (str(s, "hostname"))
		cfg->hostname = strdup(str(s, "hostname"));
	else if (gethostname(host, sizeof(host)) == 0)
		cfg->hostname = strndup(host, sizeof(host));
	else
		cfg->hostname = strdup("localhost");
	if (!cfg->pid_file || !cfg->hostname)
		return ps_error_set(err, "out of memory");
	return 0;
}

struct ps_config *
ps_config_read(const char *path, struct ps_error *err)
{
	struct ps_config *cfg = calloc(1, sizeof(*cfg));
	const struct ps_directive *sets[] = {core_directives};
	const struct ps_conf_schema schema = {.sets = sets, .nsets = 1};
	const char **names;

	if (!cfg || !(cfg->path = strdup(path))) {
		free(cfg);
		ps_error_set(err, "out of memory");
		return NULL;
	}
	cfg->tree = ps_conf_parse_file(path, err);
	if (!cfg->tree || collect_load(cfg, err) < 0)
		goto fail;
	names = top_block_names(cfg);
	if (!names) {
		ps_error_set(err, "out of memory");
		goto fail;
	}
	cfg->core = ps_conf_section_new(cfg->tree->root, &schema, names, err);
	free(names);
	if (!cfg->core || resolve_top(cfg, err) < 0)
		goto fail;
	return cfg;
fail:
	ps_config_free(cfg);
	return NULL;
}

/* "file:line: " for messages about a node. */
static int
node_error(struct ps_error *err, const struct ps_conf_node *n,
	   const char *what, const char *arg)
{
	return ps_error_set(err, "%s:%d: %s%s%s", n->file, n->line, what,
			    arg ? " " : "", arg ? arg : "");
}

/* Validate the children of block (NULL: a block not written, so only
 * defaults) against schema. */
static struct ps_conf_section *
validate_schema(const struct ps_conf_node *block,
		const struct ps_conf_schema *schema, struct ps_error *err)
{
	if (!block)
		return ps_conf_section_new(NULL, schema, NULL, err);
	return ps_conf_section_block(block, schema, NULL, err);
}

/* The same, for a block of directives only. */
static struct ps_conf_section *
validate(const struct ps_conf_node *block, const struct ps_directive **sets,
	 size_t nsets, struct ps_error *err)
{
	const struct ps_conf_schema schema = {.sets = sets, .nsets = nsets};

	return validate_schema(block, &schema, err);
}

/* A module's block: its PS_SCOPE_MODULE directives and its sub-blocks. */
static struct ps_conf_section *
validate_module(const struct ps_conf_node *block, struct ps_module_ctx *m,
		struct ps_error *err)
{
	struct ps_conf_schema schema;

	schema.sets = (const struct ps_directive **)ps_module_directives(
		m, PS_SCOPE_MODULE, &schema.nsets);
	schema.blocks = ps_module_blocks(m, &schema.nblocks);
	return validate_schema(block, &schema, err);
}

/* The section of the module named like the block, or one of defaults. */
static int
module_sections(struct ps_config *cfg, struct ps_error *err)
{
	size_t n = ps_module_count();

	cfg->modules = calloc(n ? n : 1, sizeof(*cfg->modules));
	if (!cfg->modules)
		return ps_error_set(err, "out of memory");
	cfg->nmodules = n;
	for (const struct ps_conf_node *b = cfg->tree->root; b; b = b->next) {
		struct ps_module_ctx *m = ps_module_find(b->name);
		size_t i;

		if (!m || strcmp(b->name, "load") == 0)
			continue;
		i = ps_module_index(m);
		if (!b->has_block || b->nargs)
			return node_error(err, b, "a module block is written "
					  "'NAME { ... }':", b->name);
		if (cfg->modules[i])
			return node_error(err, b, "second block for module",
					  b->name);
		cfg->modules[i] = validate_module(b, m, err);
		if (!cfg->modules[i])
			return PS_EFAIL;
	}
	for (size_t i = 0; i < n; i++) {
		struct ps_module_ctx *m = ps_module_at(i);
		struct ps_error why;

		if (cfg->modules[i])
			continue;
		cfg->modules[i] = validate_module(NULL, m, &why);
		if (!cfg->modules[i])
			return ps_error_set(err, "%s: module '%s': %s",
					    cfg->path, ps_module_name(m),
					    why.msg);
	}
	return 0;
}

static struct ps_tls_ctx *global_tls_ctx;

/* A TLS context from the certificate/key pairs of s (NULL: none given). */
static int
make_tls(const struct ps_config *cfg, const struct ps_conf_section *s,
	 const struct ps_conf_node *where, struct ps_tls_ctx **out,
	 struct ps_error *err)
{
	size_t nc = s ? ps_conf_section_count(s, "certificate") : 0;
	size_t nk = s ? ps_conf_section_count(s, "key") : 0;
	struct ps_tls_cert certs[16];
	const char *ciphers = cfg->tls ? str(cfg->tls, "ciphers") : NULL;
	const char *minv = cfg->tls ? str(cfg->tls, "min_version") : NULL;
	struct ps_error why;

	*out = NULL;
	if (nc == 0 && nk == 0)
		return 0;
	if (nc != nk)
		return node_error(err, where, "each certificate needs its key:",
				  nc > nk ? "a key is missing" :
				  "a certificate is missing");
	if (nc > 16)
		return node_error(err, where, "at most 16 certificates", NULL);
	for (size_t i = 0; i < nc; i++) {
		certs[i].certificate =
			ps_conf_section_get(s, "certificate", i)->str;
		certs[i].key = ps_conf_section_get(s, "key", i)->str;
	}
	*out = ps_tls_ctx_new(certs, nc, ciphers, minv, &why);
	return *out ? 0 : node_error(err, where, why.msg, NULL);
}

/* The value of a child directive as written, before validation: which
 * protocol a listen block is for decides its schema. */
static const char *
raw_child(const struct ps_conf_node *b, const char *name)
{
	for (const struct ps_conf_node *n = b->children; n; n = n->next)
		if (strcmp(n->name, name) == 0 && n->nargs == 1)
			return n->args[0];
	return NULL;
}

/* The listener's idle_timeout, else one written at the top level, else
 * the protocol's own (conn.c), else the top level's default. */
static void
idle_timeout(struct ps_listener *l, const struct ps_conf_section *s,
	     const struct ps_conf_section *top)
{
	const struct ps_conf_value *v = ps_conf_section_get(s, "idle_timeout",
							    0);

	if (!v)
		v = ps_conf_section_get(top, "idle_timeout", 0);
	l->idle_timeout_ms = v ? (uint64_t)v->num : 300000;
	/* Defaults carry line 0 (conf.h). */
	l->idle_timeout_given = v && v->line > 0;
}

static void
listener_limits(struct ps_listener *l, const struct ps_config *cfg)
{
	const struct ps_conf_section *s = l->conf, *top = cfg->core;

	l->limits.total = (size_t)num(top, "max_connections", 0);
	l->limits.per_ip = (size_t)num(top, "max_connections_per_ip", 0);
	l->limits.listener = (size_t)num(s, "max_connections", 0);
	l->limits.slot = ps_limits_slot(l->name);
	idle_timeout(l, s, top);
	l->max_line = (size_t)num(s, "max_line", 0);
	l->max_input = (size_t)num(top, "input_buffer", 262144);
	l->out_high = (size_t)num(top, "output_buffer", 262144);
	l->out_low = l->out_high / 4;
	l->auth_plaintext = num(s, "auth_plaintext", 0) == 1;
}

static int
listener_tls(struct ps_listener *l, const struct ps_config *cfg,
	     const struct ps_conf_node *b, struct ps_error *err)
{
	const struct ps_conf_value *mode = ps_conf_section_get(l->conf, "tls", 0);

	if (make_tls(cfg, l->conf, b, &l->tls, err) < 0)
		return PS_EFAIL;
	if (!l->tls && global_tls_ctx) {
		ps_tls_ctx_ref(global_tls_ctx);
		l->tls = global_tls_ctx;
	}
	l->tls_mode = mode ? (enum ps_tls_mode)mode->num :
		l->tls ? PS_TLSMODE_STARTTLS : PS_TLSMODE_NONE;
	if (l->tls_mode != PS_TLSMODE_NONE && !l->tls)
		return node_error(err, b, "tls needs a certificate and key, in "
				  "tls { } or in this block: listen",
				  l->name);
	return 0;
}

/* Validate a listen block against the core's listen directives plus the
 * listen-scope ones of the module that owns the protocol. */
static struct ps_conf_section *
listen_section(const struct ps_conf_node *b, struct ps_module_ctx *owner,
	       struct ps_error *err)
{
	size_t nd;
	const struct ps_directive *const *md =
		ps_module_directives(owner, PS_SCOPE_LISTEN, &nd);
	const struct ps_directive **all = calloc(nd + 1, sizeof(*all));
	struct ps_conf_section *s;

	if (!all) {
		ps_error_set(err, "out of memory");
		return NULL;
	}
	all[0] = listen_directives;
	for (size_t i = 0; i < nd; i++)
		all[i + 1] = md[i];
	s = validate(b, all, nd + 1, err);
	free(all);
	return s;
}

/* Append a listener holding section s (owned by cfg from then on). */
static struct ps_listener *
append_listener(struct ps_config *cfg, struct ps_conf_section *s)
{
	struct ps_conf_section **secs;
	struct ps_listener *l, **tail;

	secs = realloc(cfg->listen_sections, (cfg->nlisten + 1) * sizeof(*secs));
	if (!secs) {
		ps_conf_section_free(s);
		return NULL;
	}
	cfg->listen_sections = secs;
	secs[cfg->nlisten++] = s;
	l = calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	l->conf = s;
	l->fd = -1;
	for (tail = &cfg->listeners; *tail; tail = &(*tail)->next)
		;
	*tail = l;
	return l;
}

static int
add_listener(struct ps_config *cfg, const struct ps_conf_node *b,
	     struct ps_error *err)
{
	const char *pname = raw_child(b, "protocol");
	struct ps_module_ctx *owner;
	struct ps_conf_section *s;
	struct ps_listener *l;
	struct ps_error why;

	if (b->nargs != 2)
		return node_error(err, b, "listen takes a name and an "
				  "address: listen NAME HOST:PORT { ... }", NULL);
	for (l = cfg->listeners; l; l = l->next)
		if (strcmp(l->name, b->args[0]) == 0)
			return node_error(err, b, "second listener named",
					  b->args[0]);
	if (!pname)
		pname = b->args[0];
	if (!ps_protocol_find(pname, &owner))
		return node_error(err, b, "no loaded module provides "
				  "protocol", pname);
	if (!(s = listen_section(b, owner, err)))
		return PS_EFAIL;
	if (!(l = append_listener(cfg, s)) ||
	    !(l->name = strdup(b->args[0])) ||
	    !(l->addr_text = strdup(b->args[1])))
		return ps_error_set(err, "out of memory");
	l->proto = ps_protocol_find(pname, &l->owner);
	if (ps_listen_parse_addr(l->addr_text, &l->addr, &l->addrlen,
				 &why) < 0)
		return node_error(err, b, why.msg, NULL);
	for (struct ps_listener *o = cfg->listeners; o != l; o = o->next)
		if (o->addrlen == l->addrlen &&
		    memcmp(&o->addr, &l->addr, l->addrlen) == 0)
			return node_error(err, b, "address already used by "
					  "listener", o->name);
	listener_limits(l, cfg);
	return listener_tls(l, cfg, b, err);
}

static int
tls_block(struct ps_config *cfg, const struct ps_conf_node *b,
	  struct ps_error *err)
{
	const struct ps_directive *sets[] = {tls_directives};

	if (!b->has_block || b->nargs)
		return node_error(err, b, "tls is a block: tls { certificate "
				  "FILE; key FILE; }", NULL);
	if (cfg->tls)
		return node_error(err, b, "second tls block", NULL);
	cfg->tls = validate(b, sets, 1, err);
	if (!cfg->tls)
		return PS_EFAIL;
	return make_tls(cfg, cfg->tls, b, &global_tls_ctx, err);
}

int
ps_config_finish(struct ps_config *cfg, struct ps_error *err)
{
	int r = 0;

	global_tls_ctx = NULL;
	for (const struct ps_conf_node *b = cfg->tree->root; b && !r;
	     b = b->next)
		if (strcmp(b->name, "tls") == 0)
			r = tls_block(cfg, b, err);
	for (const struct ps_conf_node *b = cfg->tree->root; b && !r;
	     b = b->next)
		if (strcmp(b->name, "listen") == 0)
			r = add_listener(cfg, b, err);
	/* Listeners hold their own references. */
	if (global_tls_ctx)
		ps_tls_ctx_unref(global_tls_ctx);
	global_tls_ctx = NULL;
	if (!r)
		r = module_sections(cfg, err);
	return r;
}

void
ps_config_activate(struct ps_config *cfg)
{
	active_core = cfg->core;
	active_hostname = cfg->hostname;
	for (size_t i = 0; i < cfg->nmodules; i++)
		ps_module_set_section(ps_module_at(i), cfg->modules[i]);
	ps_log_set_level(cfg->log_level);
	ps_authfail_configure(&cfg->authfail);
}

void
ps_config_free(struct ps_config *cfg)
{
	if (!cfg)
		return;
	while (cfg->listeners) {
		struct ps_listener *l = cfg->listeners;
		cfg->listeners = l->next;
		if (l->fd >= 0)
			close(l->fd);
		if (l->tls)
			ps_tls_ctx_unref(l->tls);
		free(l->name);
		free(l->addr_text);
		free(l);
	}
	for (size_t i = 0; i < cfg->nlisten; i++)
		ps_conf_section_free(cfg->listen_sections[i]);
	free(cfg->listen_sections);
	for (size_t i = 0; i < cfg->nmodules; i++)
		ps_conf_section_free(cfg->modules[i]);
	free(cfg->modules);
	ps_conf_section_free(cfg->tls);
	ps_conf_section_free(cfg->core);
	if (cfg->tree)
		ps_conf_tree_free(cfg->tree);
	for (size_t i = 0; i < cfg->nload; i++)
		free(cfg->load[i]);
	free(cfg->load);
	free(cfg->pid_file);
	free(cfg->hostname);
	free(cfg->path);
	free(cfg);
}

static void
type_text(const struct ps_directive *d, char *buf, size_t len)
{
	static const char *const names[] = {
		[PS_CONF_FLAG] = "on \\| off", [PS_CONF_INT] = "integer",
		[PS_CONF_SIZE] = "size", [PS_CONF_DURATION] = "duration",
		[PS_CONF_STRING] = "string", [PS_CONF_PATH] = "path",
		[PS_CONF_ENUM] = "", [PS_CONF_ADDR] = "address",
		[PS_CONF_WORDS] = "words",
	};
	size_t n = (size_t)snprintf(buf, len, "%s", names[d->type]);

	if (d->type == PS_CONF_ENUM)
		for (const char *const *c = d->choices; c && *c && n < len;
		     c++)
			n += (size_t)snprintf(buf + n, len - n, "%s%s",
					      c == d->choices ? "" : " \\| ",
					      *c);
	else if ((d->type == PS_CONF_INT) && d->max > d->min && n < len)
		snprintf(buf + n, len - n, " %lld..%lld", d->min, d->max);
	if ((d->flags & PS_CONF_MULTI) && strlen(buf) + 12 < len)
		strcat(buf, ", repeatable");
}

/* The table's header; intro (or NULL) is a paragraph between the title
 * and the table. */
static void
print_table_intro(FILE *f, const char *title, const char *intro,
		  const struct ps_directive *d)
{
	char type[256];

	fprintf(f, "\n## %s\n\n%s%s| directive | type | default | meaning |\n"
		"| --- | --- | --- | --- |\n", title, intro ? intro : "",
		intro ? "\n\n" : "");
	for (; d->name; d++) {
		/* The reference must not depend on where this build installs. */
		const char *def = d->def && strcmp(d->def, PS_MODULEDIR) == 0 ?
			"MODULEDIR (from configure)" : d->def;
		type_text(d, type, sizeof(type));
		fprintf(f, "| `%s` | %s | %s%s%s | %s |\n", d->name, type,
			def ? "`" : "", def ? def : "-", def ? "`" : "",
			d->help ? d->help : "");
	}
}

static void
print_table(FILE *f, const char *title, const struct ps_directive *d)
{
	print_table_intro(f, title, NULL, d);
}

/* A sub-block of a module's block: its arguments and flags in a
 * paragraph, then its directives. */
static void
print_block(FILE *f, struct ps_module_ctx *m, const struct ps_conf_block *b)
{
	char title[256], intro[1024], type[256] = "none";

	snprintf(title, sizeof(title), "`%s` module: `%s%s { }` inside its "
		 "block", ps_module_name(m), b->name,
		 b->args.type ? " ARGUMENTS" : "");
	if (b->args.type) {
		struct ps_directive args = b->args;
		args.flags = 0;
		type_text(&args, type, sizeof(type));
	}
	snprintf(intro, sizeof(intro), "%s%sArguments: %s%s%s%s.%s%s",
		 b->help ? b->help : "", b->help ? ". " : "", type,
		 b->args.help ? " (" : "", b->args.help ? b->args.help : "",
		 b->args.help ? ")" : "",
		 (b->flags & PS_CONF_MULTI) ? " Repeatable." : "",
		 (b->flags & PS_CONF_REQUIRED) ? " Required." : "");
	print_table_intro(f, title, intro, b->directives);
}

static void
print_blocks(FILE *f, struct ps_module_ctx *m)
{
	size_t n;
	const struct ps_conf_block *const *b = ps_module_blocks(m, &n);

	for (size_t i = 0; i < n; i++)
		print_block(f, m, b[i]);
}

static void
print_module(FILE *f, struct ps_module_ctx *m)
{
	const char *scopes[] = {"block", "listen blocks of its protocols"};
	char title[128];

	for (int s = PS_SCOPE_MODULE; s <= PS_SCOPE_LISTEN; s++) {
		size_t n;
		const struct ps_directive *const *d =
			ps_module_directives(m, (enum ps_conf_scope)s, &n);
		for (size_t i = 0; i < n; i++) {
			snprintf(title, sizeof(title), "`%s` module: %s",
				 ps_module_name(m), scopes[s - 1]);
			print_table(f, title, d[i]);
		}
		/* Sub-blocks next to the module block's own directives. */
		if (s == PS_SCOPE_MODULE)
			print_blocks(f, m);
	}
}

void
ps_config_reference(FILE *f)
{
	fprintf(f, "# Configuration reference\n\nGenerated by `poshtad -d` "
		"from the directives the core and the loaded modules declare."
		"\nSizes take k, m, g; durations ms, s, m, h, d (bare: "
		"seconds).\n");
	print_table(f, "Top level", core_directives);
	print_table(f, "`tls { }`", tls_directives);
	print_table(f, "`listen NAME ADDRESS { }`", listen_directives);
	for (size_t i = 0; i < ps_module_count(); i++)
		print_module(f, ps_module_at(i));
}
