# The storage conformance suite: one program for every backend, given a
# configuration that loads the backend; sqlite-run and maildir-run run it
# against storage_sqlite and storage_maildir from the build tree.
check_PROGRAMS += tests/storage/conformance
tests_storage_conformance_SOURCES = tests/storage/suite.h \
	tests/storage/main.c tests/storage/helpers.c \
	tests/storage/t_mailbox.c tests/storage/t_message.c \
	tests/storage/t_append.c tests/storage/t_process.c \
	tests/storage/t_threads.c tests/storage/t_restore.c
tests_storage_conformance_CPPFLAGS = $(UNIT_CPP)
tests_storage_conformance_LDADD = $(UNIT_LIBS)
TESTS += tests/storage/sqlite-run tests/storage/maildir-run \
	tests/storage/pgsql-run
EXTRA_DIST += tests/storage/sqlite-run tests/storage/maildir-run \
	tests/storage/pgsql-run
