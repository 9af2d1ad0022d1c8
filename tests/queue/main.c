/* The queue conformance suite: load the backend a configuration names
 * through the real loader (as poshtad does: read, load, finish, activate,
 * worker_init), look up the "queue" interface and run every test.
 * Usage: conformance CONFIG. Any queue backend can be checked with it;
 * QUEUE_SUITE_FILTER=PATTERN runs only the tests whose names match,
 * QUEUE_SUITE_SKIP=PATTERN all but those (cmocka's patterns: * and ?). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "config_core.h"
#include "iface.h"
#include "log.h"
#include "module.h"
#include "suite.h"

struct ps_queue_ops qt_ops;

static int
qt_start(struct ps_error *err)
{
	if (ps_modules_worker_init(err) < 0)
		return -1;
	if (ps_iface_get(PS_QUEUE_KIND, NULL, &qt_ops, sizeof(qt_ops)) < 0) {
		snprintf(err->msg, sizeof(err->msg), "no module publishes a "
			 "\"%s\" interface", PS_QUEUE_KIND);
		return -1;
	}
	return 0;
}

static struct ps_config *
qt_load(const char *path, struct ps_error *err)
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
	if (qt_start(err) < 0) {
		ps_config_free(cfg);
		return NULL;
	}
	return cfg;
}

void
qt_restart(void)
{
	struct ps_error err = {""};

	ps_modules_worker_exit();
	if (qt_start(&err) < 0)
		fail_msg("restart: %s", err.msg);
}

int
main(int argc, char **argv)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(qt_test_enqueue),
		cmocka_unit_test(qt_test_enqueue_bounds),
		cmocka_unit_test(qt_test_abort),
		cmocka_unit_test(qt_test_lease),
		cmocka_unit_test(qt_test_lease_filters),
		cmocka_unit_test(qt_test_lease_expiry),
		cmocka_unit_test(qt_test_deferral),
		cmocka_unit_test(qt_test_results),
		cmocka_unit_test(qt_test_result_errors),
		cmocka_unit_test(qt_test_reports),
		cmocka_unit_test(qt_test_report_races),
		cmocka_unit_test(qt_test_admin),
		cmocka_unit_test(qt_test_hold),
		cmocka_unit_test(qt_test_restart),
		cmocka_unit_test(qt_test_group_commit),
		cmocka_unit_test(qt_test_lease_threads),
		cmocka_unit_test(qt_test_lease_processes),
		cmocka_unit_test(qt_test_enqueue_processes),
		cmocka_unit_test(qt_test_crash_before_commit),
		cmocka_unit_test(qt_test_crash_during_commit),
		cmocka_unit_test(qt_test_crash_after_commit),
		cmocka_unit_test(qt_test_big_message),
	};
	struct ps_error err = {""};
	struct ps_config *cfg;
	int failed;

	if (argc != 2) {
		fprintf(stderr, "usage: %s CONFIG\n", argv[0]);
		return 2;
	}
	cfg = qt_load(argv[1], &err);
	if (!cfg) {
		fprintf(stderr, "%s: %s\n", argv[0], err.msg);
		ps_modules_unload();
		return 1;
	}
	if (getenv("QUEUE_SUITE_FILTER"))
		cmocka_set_test_filter(getenv("QUEUE_SUITE_FILTER"));
	if (getenv("QUEUE_SUITE_SKIP"))
		cmocka_set_skip_filter(getenv("QUEUE_SUITE_SKIP"));
	failed = cmocka_run_group_tests_name("queue conformance", tests, NULL,
					     NULL);
	ps_modules_worker_exit();
	ps_config_free(cfg);
	ps_modules_unload();
	return failed ? 1 : 0;
}
