# libpsmime: RFC 5322 and MIME parsing shared by the protocol modules
# (docs/architecture.md, "MIME"). A libtool convenience library of PIC
# objects: a module adds modules/mime/libpsmime.la to its LIBADD and the
# code lands inside its .so, hidden behind the module's export list.
# Pure: libc and iconv only, no SDK calls, so tests/unit/test_mime.c and
# tests/fuzz/fuzz_mime.c link it alone.
noinst_LTLIBRARIES += modules/mime/libpsmime.la
modules_mime_libpsmime_la_SOURCES = \
	modules/mime/mime.h modules/mime/mime_private.h \
	modules/mime/tree.c modules/mime/header.c modules/mime/param.c \
	modules/mime/fields.c modules/mime/parse.c modules/mime/address.c \
	modules/mime/rfc2047.c modules/mime/charset.c \
	modules/mime/casefold.c modules/mime/decode.c modules/mime/date.c \
	modules/mime/cache.c
