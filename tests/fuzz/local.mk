# libFuzzer targets (configure --enable-fuzz CC=clang). Each has a .dict.
if ENABLE_FUZZ
FUZZ_TARGETS = tests/fuzz/fuzz_conf tests/fuzz/fuzz_linereader \
	tests/fuzz/fuzz_smtp tests/fuzz/fuzz_imap tests/fuzz/fuzz_mime \
	tests/fuzz/fuzz_imap_search tests/fuzz/fuzz_pop3 tests/fuzz/fuzz_dsn \
	tests/fuzz/fuzz_dkim tests/fuzz/fuzz_smtp_client \
	tests/fuzz/fuzz_migrate_rec
noinst_PROGRAMS += $(FUZZ_TARGETS)
FUZZ_CPP = $(AM_CPPFLAGS) -DPS_CORE $(OPENSSL_CFLAGS)
FUZZ_LINK = -fsanitize=fuzzer
tests_fuzz_fuzz_conf_CPPFLAGS = $(FUZZ_CPP)
tests_fuzz_fuzz_conf_LDADD = core/libpscore.la
tests_fuzz_fuzz_conf_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LINK)
tests_fuzz_fuzz_linereader_CPPFLAGS = $(FUZZ_CPP)
tests_fuzz_fuzz_linereader_LDADD = core/libpscore.la
tests_fuzz_fuzz_linereader_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LINK)
# smtp.so's pure files (modules/smtp/local.mk), without the core.
tests_fuzz_fuzz_smtp_SOURCES = tests/fuzz/fuzz_smtp.c $(SMTP_PURE_SOURCES)
tests_fuzz_fuzz_smtp_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/modules/smtp \
	-I$(top_srcdir)/modules/dsn
tests_fuzz_fuzz_smtp_LDADD = modules/dsn/libpsdsn.la modules/mime/libpsmime.la
tests_fuzz_fuzz_smtp_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LINK)
# The outbound SMTP client in smtp.so's pure files, without the core.
tests_fuzz_fuzz_smtp_client_SOURCES = tests/fuzz/fuzz_smtp_client.c \
	$(SMTP_PURE_SOURCES)
tests_fuzz_fuzz_smtp_client_CPPFLAGS = $(AM_CPPFLAGS) \
	-I$(top_srcdir)/modules/smtp -I$(top_srcdir)/modules/dsn
tests_fuzz_fuzz_smtp_client_LDADD = modules/dsn/libpsdsn.la \
	modules/mime/libpsmime.la
tests_fuzz_fuzz_smtp_client_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LINK)
# imap.so's pure files (modules/imap/local.mk), without the core.
tests_fuzz_fuzz_imap_SOURCES = tests/fuzz/fuzz_imap.c $(IMAP_PURE_SOURCES)
tests_fuzz_fuzz_imap_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/modules/imap
tests_fuzz_fuzz_imap_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LINK)
# libpsmime (modules/mime/local.mk), without the core.
tests_fuzz_fuzz_mime_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/modules/mime
tests_fuzz_fuzz_mime_LDADD = modules/mime/libpsmime.la
tests_fuzz_fuzz_mime_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LINK)
# SEARCH's key grammar behind the command parser (IMAP_PURE_SOURCES).
tests_fuzz_fuzz_imap_search_SOURCES = tests/fuzz/fuzz_imap_search.c \
	$(IMAP_PURE_SOURCES)
tests_fuzz_fuzz_imap_search_CPPFLAGS = $(AM_CPPFLAGS) \
	-I$(top_srcdir)/modules/imap
tests_fuzz_fuzz_imap_search_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LINK)
# pop3.so's pure files (modules/pop3/local.mk), without the core.
tests_fuzz_fuzz_pop3_SOURCES = tests/fuzz/fuzz_pop3.c $(POP3_PURE_SOURCES)
tests_fuzz_fuzz_pop3_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/modules/pop3
tests_fuzz_fuzz_pop3_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LINK)
# libpsdsn (modules/dsn/local.mk) with libpsmime, without the core.
tests_fuzz_fuzz_dsn_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/modules/dsn
tests_fuzz_fuzz_dsn_LDADD = modules/dsn/libpsdsn.la modules/mime/libpsmime.la
tests_fuzz_fuzz_dsn_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LINK)
# libpsdkim (modules/dkim/local.mk), without the core.
tests_fuzz_fuzz_dkim_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/modules/dkim
tests_fuzz_fuzz_dkim_LDADD = modules/dkim/libpsdkim.la
tests_fuzz_fuzz_dkim_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LINK)
# poshtactl migrate's record reader (core/ctl_migrate_rec.c), alone.
tests_fuzz_fuzz_migrate_rec_SOURCES = tests/fuzz/fuzz_migrate_rec.c \
	core/ctl_migrate.h core/ctl_migrate_rec.c
tests_fuzz_fuzz_migrate_rec_CPPFLAGS = $(FUZZ_CPP) -I$(top_srcdir)/core
tests_fuzz_fuzz_migrate_rec_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LINK)
endif
EXTRA_DIST += tests/fuzz/fuzz_conf.c tests/fuzz/fuzz_linereader.c \
	tests/fuzz/fuzz_smtp.c tests/fuzz/fuzz_imap.c tests/fuzz/fuzz_mime.c \
	tests/fuzz/fuzz_imap_search.c tests/fuzz/fuzz_pop3.c \
	tests/fuzz/fuzz_dsn.c tests/fuzz/fuzz_dsn.dict \
	tests/fuzz/fuzz_dkim.c tests/fuzz/fuzz_dkim.dict \
	tests/fuzz/fuzz_smtp_client.c tests/fuzz/fuzz_smtp_client.dict \
	tests/fuzz/fuzz_conf.dict tests/fuzz/fuzz_pop3.dict \
	tests/fuzz/fuzz_linereader.dict tests/fuzz/fuzz_smtp.dict \
	tests/fuzz/fuzz_imap.dict tests/fuzz/fuzz_mime.dict \
	tests/fuzz/fuzz_imap_search.dict tests/fuzz/smoke \
	tests/fuzz/fuzz_migrate_rec.c tests/fuzz/fuzz_migrate_rec.dict
