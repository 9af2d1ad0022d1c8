# libpsdkim: DKIM signing (RFC 6376, RFC 8463) for the outbound relay
# (docs/architecture.md, "DKIM"). A libtool convenience library of PIC
# objects, like libpsmime: the module that signs adds
# modules/dkim/libpsdkim.la to its LIBADD, and libcrypto comes with it.
# Pure: libc and libcrypto, no SDK calls, so tests/unit/test_dkim.c,
# tests/fuzz/fuzz_dkim.c and poshtactl's keygen link it alone.
noinst_LTLIBRARIES += modules/dkim/libpsdkim.la
modules_dkim_libpsdkim_la_SOURCES = \
	modules/dkim/dkim.h modules/dkim/dkim_private.h \
	modules/dkim/sign.c modules/dkim/header.c modules/dkim/canon.c \
	modules/dkim/field.c modules/dkim/key.c modules/dkim/name.c \
	modules/dkim/error.c
modules_dkim_libpsdkim_la_CPPFLAGS = $(AM_CPPFLAGS) $(LIBCRYPTO_CFLAGS)
modules_dkim_libpsdkim_la_LIBADD = $(LIBCRYPTO_LIBS)
