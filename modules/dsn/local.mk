# libpsdsn: delivery status notifications (RFC 3464, 6522, 6533), xtext
# (RFC 3461 4) and the loop check (docs/architecture.md, "DSN"). A libtool
# convenience library like libpsmime: a module adds modules/dsn/libpsdsn.la
# and modules/mime/libpsmime.la (headers and UTF-8 are read with it) to
# its LIBADD. Pure: libc only, no SDK calls, so tests/unit/test_dsn.c and
# tests/fuzz/fuzz_dsn.c link it alone.
noinst_LTLIBRARIES += modules/dsn/libpsdsn.la
modules_dsn_libpsdsn_la_SOURCES = \
	modules/dsn/dsn.h modules/dsn/dsn_private.h \
	modules/dsn/xtext.c modules/dsn/loop.c modules/dsn/check.c \
	modules/dsn/out.c modules/dsn/date.c modules/dsn/original.c \
	modules/dsn/text.c modules/dsn/status.c modules/dsn/build.c
modules_dsn_libpsdsn_la_CPPFLAGS = -I$(top_srcdir)/modules/mime
