# libpsstore: what the storage backends apply the same way (docs/
# architecture.md, "Storage kit"): keywords and STORE's keyword lists,
# UID sets, mailbox names and UTF-8, user-name path parts. A libtool
# convenience library like libpsdsn: a backend adds modules/storekit/
# libpsstore.la to its LIBADD and -I$(top_srcdir)/modules/storekit to its
# CPPFLAGS. No SDK calls (its types and codes only), so tests/unit/
# test_storekit.c links it alone.
noinst_LTLIBRARIES += modules/storekit/libpsstore.la
modules_storekit_libpsstore_la_SOURCES = modules/storekit/storekit.h \
	modules/storekit/err.c modules/storekit/names.c \
	modules/storekit/keywords.c modules/storekit/uidset.c \
	modules/storekit/store.c modules/storekit/append.c
modules_storekit_libpsstore_la_CPPFLAGS = -I$(top_srcdir)/sdk \
	-I$(top_builddir)/sdk
