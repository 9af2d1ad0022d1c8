# Tests: cmocka unit tests per core file, pytest integration tests against
# a real poshtad, and libFuzzer targets (with --enable-fuzz).
UNIT_CPP = $(AM_CPPFLAGS) -DPS_CORE $(CMOCKA_CFLAGS) $(OPENSSL_CFLAGS)
UNIT_LIBS = core/libpscore.la $(CMOCKA_LIBS)

UNIT_TESTS =
include tests/unit/local.mk
check_PROGRAMS += $(UNIT_TESTS)
TESTS += $(UNIT_TESTS) tests/check-config-reference tests/integration/run

include tests/fuzz/local.mk
include tests/storage/local.mk
include tests/queue/local.mk
include tests/bench/storage/local.mk

EXTRA_DIST += tests/integration tests/modules tests/bench \
	tests/check-config-reference
TESTS_ENVIRONMENT = \
	POSHTA_TOP_SRCDIR='$(abs_top_srcdir)' \
	POSHTA_TOP_BUILDDIR='$(abs_top_builddir)' \
	POSHTAD='$(abs_top_builddir)/core/poshtad' \
	PYTHON3='$(PYTHON3)'; export POSHTA_TOP_SRCDIR POSHTA_TOP_BUILDDIR POSHTAD PYTHON3;
# The test folders ship whole; what a run in the source tree left there
# (logs, bytecode) does not. A stale run.trs would make a VPATH check of
# the tarball skip the integration tests.
dist-hook: dist-clean-test-runs
dist-clean-test-runs:
	rm -rf $(distdir)/tests/integration/__pycache__ \
		$(distdir)/tests/integration/*.log \
		$(distdir)/tests/integration/*.trs
.PHONY: dist-clean-test-runs
