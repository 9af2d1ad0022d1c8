/* The storage conformance suite: load the backend a configuration names
 * through the real loader (as poshtad does: read, load, finish, activate,
 * worker_init), look up the "storage" interface and run every test.
 * Usage: conformance CONFIG. Any backend module can be checked with it. */
#include "config.h"

#include <stdio.h>

#include "config_core.h"
#include "iface.h"
#include "log.h"
#include "module.h"
#include "suite.h"

struct ps_storage_ops st_ops;

static int
st_start(struct ps_error *err)
{
	if (ps_modules_worker_init(err) < 0)
		return -1;
	if (ps_iface_get(PS_STORAGE_KIND, NULL, &st_ops, sizeof(st_ops)) < 0) {
		snprintf(err->msg, sizeof(err->msg), "no module publishes a "
			 "\"%s\" interface", PS_STORAGE_KIND);
		return -1;
	}
	return 0;
}

static struct ps_config *
st_load(const char *path, struct ps_error *err)
{
	struct ps_config *cfg = ps_config_read(path, err);

	if (!cfg)
		return NULL;
	ps_log_set_level(cfg->log_level);
	if (ps_modules_load(cfg->module_dir, cfg->load, cfg->nload, err) < 0 ||
	    ps_config_finish(cfg, err) < 0) {
		ps_config_free(cfg);
		return NULL;
	}
	ps_config_activate(cfg);
	if (st_start(err) < 0) {
		ps_config_free(cfg);
		return NULL;
	}
	return cfg;
}

void
st_restart(void)
{
	struct ps_error err = {""};

	ps_modules_worker_exit();
	if (st_start(&err) < 0)
		fail_msg("restart: %s", err.msg);
}

int
main(int argc, char **argv)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(st_test_users),
		cmocka_unit_test(st_test_names),
		cmocka_unit_test(st_test_create),
		cmocka_unit_test(st_test_delete),
		cmocka_unit_test(st_test_rename),
		cmocka_unit_test(st_test_rename_inbox),
		cmocka_unit_test(st_test_open_deleted),
		cmocka_unit_test(st_test_rename_subscriptions),
		cmocka_unit_test(st_test_subscribe),
		cmocka_unit_test(st_test_uidvalidity),
		cmocka_unit_test(st_test_status_recent),
		cmocka_unit_test(st_test_fetch),
		cmocka_unit_test(st_test_read_cache),
		cmocka_unit_test(st_test_nested_reads),
		cmocka_unit_test(st_test_hold),
		cmocka_unit_test(st_test_store),
		cmocka_unit_test(st_test_unchangedsince),
		cmocka_unit_test(st_test_keyword_bounds),
		cmocka_unit_test(st_test_copy),
		cmocka_unit_test(st_test_move),
		cmocka_unit_test(st_test_expunge),
		cmocka_unit_test(st_test_readonly),
		cmocka_unit_test(st_test_append),
		cmocka_unit_test(st_test_append_mixed),
		cmocka_unit_test(st_test_append_errors),
		cmocka_unit_test(st_test_quota),
		cmocka_unit_test(st_test_user_delete),
		cmocka_unit_test(st_test_restart),
		cmocka_unit_test(st_test_concurrent),
		cmocka_unit_test(st_test_threads),
		cmocka_unit_test(st_test_crash_before_commit),
		cmocka_unit_test(st_test_crash_after_commit),
		cmocka_unit_test(st_test_crash_during_commit),
		cmocka_unit_test(st_test_crash_after_store),
		cmocka_unit_test(st_test_big_message),
		cmocka_unit_test(st_test_restore_uidvalidity),
		cmocka_unit_test(st_test_restore_uids),
	};
	struct ps_error err = {""};
	struct ps_config *cfg;
	int failed;

	if (argc != 2) {
		fprintf(stderr, "usage: %s CONFIG\n", argv[0]);
		return 2;
	}
	cfg = st_load(argv[1], &err);
	if (!cfg) {
		fprintf(stderr, "%s: %s\n", argv[0], err.msg);
		ps_modules_unload();
		return 1;
	}
	failed = cmocka_run_group_tests_name("storage conformance", tests,
					     NULL, NULL);
	ps_modules_worker_exit();
	ps_config_free(cfg);
	ps_modules_unload();
	return failed ? 1 : 0;
}
