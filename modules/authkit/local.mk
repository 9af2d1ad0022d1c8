# libpsauth: what the auth backends (auth_sqlite, auth_pgsql) must say
# and do alike: name checks, messages, hash checks and the alias walk's
# bounds (docs/architecture.md, "Auth backends"). A libtool convenience
# library like libpsdsn: a backend adds modules/authkit/libpsauth.la to
# its LIBADD and -I$(top_srcdir)/modules/authkit to its CPPFLAGS. Pure:
# libc and the SDK's types, no SDK calls, so tests/unit/test_authkit.c
# links it alone.
noinst_LTLIBRARIES += modules/authkit/libpsauth.la
modules_authkit_libpsauth_la_SOURCES = modules/authkit/authkit.h \
	modules/authkit/name.c modules/authkit/fail.c modules/authkit/hash.c \
	modules/authkit/walk.c
modules_authkit_libpsauth_la_CPPFLAGS = -I$(top_srcdir)/sdk \
	-I$(top_builddir)/sdk
