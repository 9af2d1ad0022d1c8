# pop3.so: POP3 with CAPA, STLS, SASL and UTF8 (docs/architecture.md,
# "POP3"). SDK headers only, like any module built out of tree.
# POP3_PURE_SOURCES call no SDK function: tests/unit/test_pop3_parse.c
# and tests/fuzz/fuzz_pop3.c link them alone.
POP3_PURE_SOURCES = modules/pop3/command.h modules/pop3/command.c \
	modules/pop3/stuff.h modules/pop3/stuff.c
module_LTLIBRARIES += modules/pop3/pop3.la
modules_pop3_pop3_la_SOURCES = modules/pop3/pop3d.h \
	modules/pop3/module.c modules/pop3/session.c modules/pop3/job.c \
	modules/pop3/capa.c modules/pop3/login.c modules/pop3/lock.c \
	modules/pop3/maildrop.c modules/pop3/retr.c $(POP3_PURE_SOURCES)
modules_pop3_pop3_la_CPPFLAGS = -I$(top_srcdir)/sdk -I$(top_builddir)/sdk
modules_pop3_pop3_la_LDFLAGS = -module $(MODULE_LDFLAGS)
