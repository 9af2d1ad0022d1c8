# The queue conformance suite: one program for every queue backend, given
# a configuration that loads the backend; sqlite-run runs it against
# queue_sqlite from the build tree.
check_PROGRAMS += tests/queue/conformance
tests_queue_conformance_SOURCES = tests/queue/suite.h \
	tests/queue/main.c tests/queue/helpers.c \
	tests/queue/t_enqueue.c tests/queue/t_lease.c \
	tests/queue/t_result.c tests/queue/t_admin.c \
	tests/queue/t_threads.c tests/queue/t_process.c
tests_queue_conformance_CPPFLAGS = $(UNIT_CPP)
tests_queue_conformance_LDADD = $(UNIT_LIBS)
TESTS += tests/queue/sqlite-run
EXTRA_DIST += tests/queue/sqlite-run
