# The storage benchmark (tests/bench/storage/run): built with the tree so
# it stays compiling, never run by make check (its figures depend on the
# machine).
noinst_PROGRAMS += tests/bench/storage/bench
tests_bench_storage_bench_SOURCES = tests/bench/storage/bench.c
tests_bench_storage_bench_CPPFLAGS = $(AM_CPPFLAGS) -DPS_CORE
tests_bench_storage_bench_LDADD = core/libpscore.la
