/* conf_blocks.so: declares sub-blocks of its own block (SDK 1.5) and, in
 * each worker, logs what it reads back, one line per block, so the tests
 * can compare values, defaults and order with the file. In init it also
 * tries declarations the core must refuse and logs the codes. */
#include <poshta/poshta.h>

#include <stdio.h>
#include <string.h>

static const char *const tls_modes[] = {"none", "optional", "required",
					NULL};

static const struct ps_directive relay_directives[] = {
	{.name = "auth", .type = PS_CONF_WORDS, .min = 2, .max = 2,
	 .help = "user name and password for AUTH"},
	{.name = "tls", .type = PS_CONF_ENUM, .choices = tls_modes,
	 .def = "optional", .help = "STARTTLS towards the relay"},
	{.name = "timeout", .type = PS_CONF_DURATION, .min = 1000,
	 .max = 3600000, .def = "30s", .help = "give up on a silent relay"},
	{.name = "weight", .type = PS_CONF_INT, .min = 1, .max = 100,
	 .flags = PS_CONF_REQUIRED, .help = "share of the mail it gets"},
	{.name = NULL},
};

static const struct ps_conf_block relay_block = {
	.size = sizeof(struct ps_conf_block),
	.name = "relayhost",
	.flags = PS_CONF_MULTI,
	.args = {.type = PS_CONF_ADDR, .help = "the relay, host:port"},
	.directives = relay_directives,
	.help = "a relay to send mail through",
};

static const struct ps_directive limits_directives[] = {
	{.name = "max_rate", .type = PS_CONF_INT, .min = 1, .max = 1000,
	 .def = "10", .help = "messages per second"},
	{.name = NULL},
};

/* No arguments, at most once. */
static const struct ps_conf_block limits_block = {
	.size = sizeof(struct ps_conf_block),
	.name = "limits",
	.directives = limits_directives,
};

static const struct ps_directive module_directives[] = {
	{.name = "label", .type = PS_CONF_STRING, .def = "probe",
	 .help = "a directive of the module's block, beside the blocks"},
	{.name = NULL},
};

/* What init's refused declarations returned, for the worker's log. */
static int dup_name_r, dup_block_r, bad_size_r;

static int
conf_blocks_init(struct ps_error *err)
{
	struct ps_conf_block bad = relay_block;

	if (ps_conf_register(PS_SCOPE_MODULE, module_directives) < 0 ||
	    ps_conf_register_block(&relay_block) < 0 ||
	    ps_conf_register_block(&limits_block) < 0) {
		snprintf(err->msg, sizeof(err->msg), "cannot register");
		return PS_EFAIL;
	}
	bad.name = "label";
	dup_name_r = ps_conf_register_block(&bad);
	dup_block_r = ps_conf_register_block(&relay_block);
	bad.name = "other";
	bad.size = 8;
	bad_size_r = ps_conf_register_block(&bad);
	return 0;
}

static void
log_relay(const struct ps_conf_section *s, size_t i)
{
	const struct ps_conf_value *args, *auth;
	const struct ps_conf_section *r =
		ps_conf_block(s, "relayhost", i, &args);

	auth = ps_conf_get(r, "auth", 0);
	ps_log(PS_LOG_NOTICE, "relayhost[%zu] at=%s:%d addr=%s auth=%s|%s "
	       "tls=%lld timeout_ms=%lld weight=%lld", i, args->file,
	       args->line, args->str, auth ? auth->words[0] : "-",
	       auth ? auth->words[1] : "-", ps_conf_num(r, "tls"),
	       ps_conf_num(r, "timeout"), ps_conf_num(r, "weight"));
}

static int
conf_blocks_worker_init(struct ps_error *err)
{
	const struct ps_conf_section *s = ps_conf_module(), *l;
	const struct ps_conf_value *args;
	size_t n = ps_conf_block_count(s, "relayhost");

	(void)err;
	ps_log(PS_LOG_NOTICE, "blocks relayhost=%zu limits=%zu label=%s "
	       "dup_name=%d dup_block=%d bad_size=%d late=%d",
	       n, ps_conf_block_count(s, "limits"), ps_conf_str(s, "label"),
	       dup_name_r, dup_block_r, bad_size_r,
	       ps_conf_register_block(&limits_block));
	for (size_t i = 0; i < n; i++)
		log_relay(s, i);
	if ((l = ps_conf_block(s, "limits", 0, &args)))
		ps_log(PS_LOG_NOTICE, "limits max_rate=%lld nwords=%zu",
		       ps_conf_num(l, "max_rate"), args->nwords);
	return 0;
}

PS_MODULE_DEFINE(.name = "conf_blocks", .version = "1.0",
		 .init = conf_blocks_init,
		 .worker_init = conf_blocks_worker_init);
