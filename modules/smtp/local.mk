# smtp.so: ESMTP receiving and submission, local delivery, filter hooks
# (docs/architecture.md, "smtp"). SDK headers only, like any module built
# out of tree. SMTP_PURE_SOURCES call no SDK function:
# tests/unit/test_smtp_parse.c and tests/fuzz/fuzz_smtp.c link them with
# libpsdsn (xtext) alone.
SMTP_PURE_SOURCES = modules/smtp/address.c modules/smtp/command.c \
	modules/smtp/body.c modules/smtp/spool.c
module_LTLIBRARIES += modules/smtp/smtp.la
modules_smtp_smtp_la_SOURCES = \
	modules/smtp/smtpd.h modules/smtp/command.h modules/smtp/body.h \
	modules/smtp/module.c modules/smtp/session.c modules/smtp/ehlo.c \
	modules/smtp/envelope.c modules/smtp/lookup.c modules/smtp/auth.c \
	modules/smtp/data.c modules/smtp/deliver.c modules/smtp/trace.c \
	modules/smtp/hooks.c modules/smtp/ext.c $(SMTP_PURE_SOURCES)
modules_smtp_smtp_la_CPPFLAGS = -I$(top_srcdir)/sdk -I$(top_builddir)/sdk \
	-I$(top_srcdir)/modules/mime -I$(top_srcdir)/modules/dsn
modules_smtp_smtp_la_LDFLAGS = -module $(MODULE_LDFLAGS)
modules_smtp_smtp_la_LIBADD = modules/dsn/libpsdsn.la modules/mime/libpsmime.la
