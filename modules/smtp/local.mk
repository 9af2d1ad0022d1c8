# smtp.so: ESMTP receiving and submission, local delivery, filter hooks
# (docs/architecture.md, "smtp"). SDK headers only, like any module built
# out of tree. SMTP_PURE_SOURCES call no SDK function:
# tests/unit/test_smtp_parse.c, test_smtp_client.c, tests/fuzz/fuzz_smtp.c
# and fuzz_smtp_client.c link them with libpsdsn (xtext) alone. client_*
# is the outbound client's pure half (client.h); mxlist.c the resolver's
# (resolve*.c, with c-ares, are smtp.so's alone); relay* the runner that
# drives the client (relay.h), relay_policy.c pure too (test_relay_policy),
# and bounce_diag.c (test_smtp_bounce).
SMTP_PURE_SOURCES = modules/smtp/address.c modules/smtp/command.c \
	modules/smtp/body.c modules/smtp/spool.c modules/smtp/client.h \
	modules/smtp/client_private.h modules/smtp/client_reply.c \
	modules/smtp/client_ehlo.c modules/smtp/client_stuff.c \
	modules/smtp/client_cmd.c modules/smtp/client_auth.c \
	modules/smtp/client_trans.c modules/smtp/client_session.c \
	modules/smtp/mxlist.h modules/smtp/mxlist.c
module_LTLIBRARIES += modules/smtp/smtp.la
modules_smtp_smtp_la_SOURCES = \
	modules/smtp/smtpd.h modules/smtp/command.h modules/smtp/body.h \
	modules/smtp/module.c modules/smtp/session.c modules/smtp/ehlo.c \
	modules/smtp/envelope.c modules/smtp/lookup.c \
	modules/smtp/rcpt_cache.c modules/smtp/auth.c \
	modules/smtp/data.c modules/smtp/deliver.c modules/smtp/append.c \
	modules/smtp/trace.c modules/smtp/hooks.c modules/smtp/ext.c \
	modules/smtp/enqueue.c modules/smtp/dkim_sign.c modules/smtp/relay.h \
	modules/smtp/relay.c modules/smtp/relay_policy.c \
	modules/smtp/relay_config.c modules/smtp/relay_dest.c \
	modules/smtp/idn.h modules/smtp/idn.c \
	modules/smtp/relay_session.c modules/smtp/resolve.h \
	modules/smtp/resolve_private.h modules/smtp/resolve.c \
	modules/smtp/resolve_lookup.c modules/smtp/bounce.h \
	modules/smtp/bounce.c modules/smtp/bounce_diag.c $(SMTP_PURE_SOURCES)
modules_smtp_smtp_la_CPPFLAGS = -I$(top_srcdir)/sdk -I$(top_builddir)/sdk \
	-I$(top_srcdir)/modules/mime -I$(top_srcdir)/modules/dsn \
	-I$(top_srcdir)/modules/dkim $(CARES_CFLAGS) $(IDN2_CFLAGS)
modules_smtp_smtp_la_LDFLAGS = -module $(MODULE_LDFLAGS)
modules_smtp_smtp_la_LIBADD = modules/dsn/libpsdsn.la modules/mime/libpsmime.la \
	modules/dkim/libpsdkim.la $(CARES_LIBS) $(IDN2_LIBS)
