# cmocka unit tests, one per core file; each links the core library.
UNIT_TESTS += tests/unit/test_conf tests/unit/test_buf tests/unit/test_loop \
	tests/unit/test_conn tests/unit/test_module tests/unit/test_hook \
	tests/unit/test_sasl tests/unit/test_password tests/unit/test_smtp_parse \
	tests/unit/test_mime tests/unit/test_mime_text \
	tests/unit/test_imap_parse tests/unit/test_imap_search_parse \
	tests/unit/test_pop3_parse tests/unit/test_dsn \
	tests/unit/test_smtp_client tests/unit/test_relay_policy \
	tests/unit/test_smtp_mxlist tests/unit/test_smtp_bounce \
	tests/unit/test_smtp_bounce_run tests/unit/test_storekit

tests_unit_test_conf_CPPFLAGS = $(UNIT_CPP)
tests_unit_test_conf_LDADD = $(UNIT_LIBS)
tests_unit_test_buf_CPPFLAGS = $(UNIT_CPP)
tests_unit_test_buf_LDADD = $(UNIT_LIBS)
tests_unit_test_loop_CPPFLAGS = $(UNIT_CPP)
tests_unit_test_loop_LDADD = $(UNIT_LIBS)
tests_unit_test_conn_CPPFLAGS = $(UNIT_CPP)
tests_unit_test_conn_LDADD = $(UNIT_LIBS)
tests_unit_test_module_CPPFLAGS = $(UNIT_CPP)
tests_unit_test_module_LDADD = $(UNIT_LIBS)
tests_unit_test_hook_CPPFLAGS = $(UNIT_CPP)
tests_unit_test_hook_LDADD = $(UNIT_LIBS)
tests_unit_test_sasl_CPPFLAGS = $(UNIT_CPP)
tests_unit_test_sasl_LDADD = $(UNIT_LIBS)
tests_unit_test_password_CPPFLAGS = $(UNIT_CPP)
tests_unit_test_password_LDADD = $(UNIT_LIBS)

# smtp.so's pure files (modules/smtp/local.mk), linked directly.
tests_unit_test_smtp_parse_SOURCES = tests/unit/test_smtp_parse.c \
	$(SMTP_PURE_SOURCES) modules/smtp/trace.c
tests_unit_test_smtp_parse_CPPFLAGS = $(UNIT_CPP) -I$(top_srcdir)/modules/smtp \
	-I$(top_srcdir)/modules/dsn
tests_unit_test_smtp_parse_LDADD = modules/dsn/libpsdsn.la \
	modules/mime/libpsmime.la $(CMOCKA_LIBS)

# The outbound client's pure half (client_*.c in SMTP_PURE_SOURCES).
tests_unit_test_smtp_client_SOURCES = tests/unit/test_smtp_client.c \
	$(SMTP_PURE_SOURCES)
tests_unit_test_smtp_client_CPPFLAGS = $(UNIT_CPP) \
	-I$(top_srcdir)/modules/smtp -I$(top_srcdir)/modules/dsn
tests_unit_test_smtp_client_LDADD = modules/dsn/libpsdsn.la \
	modules/mime/libpsmime.la $(CMOCKA_LIBS)

# The runner's pure decisions (relay_policy.c): backoff, expiry, DSNs.
tests_unit_test_relay_policy_SOURCES = tests/unit/test_relay_policy.c \
	modules/smtp/relay.h modules/smtp/relay_policy.c
tests_unit_test_relay_policy_CPPFLAGS = $(UNIT_CPP) \
	-I$(top_srcdir)/modules/smtp
tests_unit_test_relay_policy_LDADD = $(CMOCKA_LIBS)

# The resolver's pure half (mxlist.c): MX order, null MX, bounds.
tests_unit_test_smtp_mxlist_SOURCES = tests/unit/test_smtp_mxlist.c \
	modules/smtp/mxlist.h modules/smtp/mxlist.c
tests_unit_test_smtp_mxlist_CPPFLAGS = $(UNIT_CPP) -I$(top_srcdir)/modules/smtp
tests_unit_test_smtp_mxlist_LDADD = $(CMOCKA_LIBS)

# The DSN fields from the queue's diag text (modules/smtp/bounce_diag.c).
tests_unit_test_smtp_bounce_SOURCES = tests/unit/test_smtp_bounce.c \
	modules/smtp/bounce.h modules/smtp/bounce_diag.c
tests_unit_test_smtp_bounce_CPPFLAGS = $(UNIT_CPP) \
	-I$(top_srcdir)/modules/smtp -I$(top_srcdir)/modules/dsn
tests_unit_test_smtp_bounce_LDADD = $(CMOCKA_LIBS)
# smtp_bounce_run (bounce.c) against an in-memory queue, auth and store: it
# calls the backends only, never the SDK, so it links without poshtad.
tests_unit_test_smtp_bounce_run_SOURCES = tests/unit/test_smtp_bounce_run.c \
	modules/smtp/bounce.c modules/smtp/bounce_diag.c \
	modules/smtp/append.c modules/smtp/trace.c $(SMTP_PURE_SOURCES)
tests_unit_test_smtp_bounce_run_CPPFLAGS = $(UNIT_CPP) \
	-I$(top_srcdir)/modules/smtp -I$(top_srcdir)/modules/dsn \
	-I$(top_srcdir)/modules/mime
tests_unit_test_smtp_bounce_run_LDADD = modules/dsn/libpsdsn.la \
	modules/mime/libpsmime.la $(CMOCKA_LIBS)

# The client over a socket, for tests/integration/test_smtp_client_proto.py:
# built by make check, run by the integration test.
check_PROGRAMS += tests/unit/smtp_client_cli
tests_unit_smtp_client_cli_SOURCES = tests/unit/smtp_client_cli.c \
	$(SMTP_PURE_SOURCES)
tests_unit_smtp_client_cli_CPPFLAGS = $(AM_CPPFLAGS) \
	-I$(top_srcdir)/modules/smtp -I$(top_srcdir)/modules/dsn
tests_unit_smtp_client_cli_LDADD = modules/dsn/libpsdsn.la \
	modules/mime/libpsmime.la

# libpsmime (modules/mime/local.mk), linked alone.
tests_unit_test_mime_CPPFLAGS = $(UNIT_CPP) -I$(top_srcdir)/modules/mime
tests_unit_test_mime_LDADD = modules/mime/libpsmime.la $(CMOCKA_LIBS)
tests_unit_test_mime_text_CPPFLAGS = $(UNIT_CPP) -I$(top_srcdir)/modules/mime
tests_unit_test_mime_text_LDADD = modules/mime/libpsmime.la $(CMOCKA_LIBS)

# imap.so's pure files (modules/imap/local.mk), linked directly.
tests_unit_test_imap_parse_SOURCES = tests/unit/test_imap_parse.c \
	$(IMAP_PURE_SOURCES)
tests_unit_test_imap_parse_CPPFLAGS = $(UNIT_CPP) -I$(top_srcdir)/modules/imap
tests_unit_test_imap_parse_LDADD = $(CMOCKA_LIBS)
# SEARCH's key grammar, with the same pure files.
tests_unit_test_imap_search_parse_SOURCES = \
	tests/unit/test_imap_search_parse.c $(IMAP_PURE_SOURCES)
tests_unit_test_imap_search_parse_CPPFLAGS = $(UNIT_CPP) \
	-I$(top_srcdir)/modules/imap
tests_unit_test_imap_search_parse_LDADD = $(CMOCKA_LIBS)

# pop3.so's pure files (modules/pop3/local.mk), linked directly.
tests_unit_test_pop3_parse_SOURCES = tests/unit/test_pop3_parse.c \
	$(POP3_PURE_SOURCES)
tests_unit_test_pop3_parse_CPPFLAGS = $(UNIT_CPP) -I$(top_srcdir)/modules/pop3
tests_unit_test_pop3_parse_LDADD = $(CMOCKA_LIBS)

# libpsdsn (modules/dsn/local.mk) with the libpsmime it reads headers with.
tests_unit_test_dsn_CPPFLAGS = $(UNIT_CPP) -I$(top_srcdir)/modules/dsn
tests_unit_test_dsn_LDADD = modules/dsn/libpsdsn.la modules/mime/libpsmime.la \
	$(CMOCKA_LIBS)

# libpsstore (modules/storekit/local.mk), alone.
tests_unit_test_storekit_CPPFLAGS = $(UNIT_CPP) \
	-I$(top_srcdir)/modules/storekit
tests_unit_test_storekit_LDADD = modules/storekit/libpsstore.la \
	$(CMOCKA_LIBS)

# A DSN from a text spec, for tests/integration/test_dsn_format.py: built
# by make check, run by the integration test.
check_PROGRAMS += tests/unit/dsn_build_cli
tests_unit_dsn_build_cli_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/modules/dsn
tests_unit_dsn_build_cli_LDADD = modules/dsn/libpsdsn.la \
	modules/mime/libpsmime.la
# libpsdkim (modules/dkim/local.mk), linked alone. dkim_sign_cli signs a
# message for tests/integration/test_dkim.py, which checks it with dkimpy.
UNIT_TESTS += tests/unit/test_dkim
tests_unit_test_dkim_CPPFLAGS = $(UNIT_CPP) -I$(top_srcdir)/modules/dkim
tests_unit_test_dkim_LDADD = modules/dkim/libpsdkim.la $(CMOCKA_LIBS)
check_PROGRAMS += tests/unit/dkim_sign_cli
tests_unit_dkim_sign_cli_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/modules/dkim
tests_unit_dkim_sign_cli_LDADD = modules/dkim/libpsdkim.la

# poshtactl migrate's record stream (core/ctl_migrate_rec.c), linked directly.
UNIT_TESTS += tests/unit/test_ctl_migrate_rec
tests_unit_test_ctl_migrate_rec_SOURCES = tests/unit/test_ctl_migrate_rec.c \
	core/ctl_migrate.h core/ctl_migrate_rec.c
tests_unit_test_ctl_migrate_rec_CPPFLAGS = $(UNIT_CPP) -I$(top_srcdir)/core
tests_unit_test_ctl_migrate_rec_LDADD = $(CMOCKA_LIBS)

# libpsauth (modules/authkit/local.mk), what the auth backends share,
# linked alone.
UNIT_TESTS += tests/unit/test_authkit
tests_unit_test_authkit_CPPFLAGS = $(UNIT_CPP) -I$(top_srcdir)/modules/authkit
tests_unit_test_authkit_LDADD = modules/authkit/libpsauth.la $(CMOCKA_LIBS)

# storage_sqlite's WAL write buffer, built from its source with SQLite.
UNIT_TESTS += tests/unit/test_walbuf
tests_unit_test_walbuf_SOURCES = tests/unit/test_walbuf.c \
	modules/storage_sqlite/walbuf.c
tests_unit_test_walbuf_CPPFLAGS = $(UNIT_CPP) \
	-I$(top_srcdir)/modules/storage_sqlite \
	-I$(top_srcdir)/modules/storekit $(SQLITE_CFLAGS)
tests_unit_test_walbuf_LDADD = $(SQLITE_LIBS) $(CMOCKA_LIBS)
