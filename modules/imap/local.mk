# imap.so: IMAP4rev1 and IMAP4rev2 (docs/architecture.md, "imap"). SDK
# headers only, like any module built out of tree. IMAP_PURE_SOURCES call
# no SDK function: tests/unit/test_imap_parse.c and tests/fuzz/fuzz_imap.c
# link them alone.
IMAP_PURE_SOURCES = \
	modules/imap/chars.h modules/imap/utf8.h modules/imap/utf8.c \
	modules/imap/buffer.h modules/imap/buffer.c \
	modules/imap/parser.h modules/imap/parser.c \
	modules/imap/section.h modules/imap/section.c \
	modules/imap/seqset.h modules/imap/seqset.c \
	modules/imap/mutf7.h modules/imap/mutf7.c \
	modules/imap/quote.h modules/imap/quote.c \
	modules/imap/datetime.h modules/imap/datetime.c \
	modules/imap/search_parse.h modules/imap/search_parse.c
module_LTLIBRARIES += modules/imap/imap.la
modules_imap_imap_la_SOURCES = modules/imap/imapd.h \
	modules/imap/module.c modules/imap/session.c \
	modules/imap/capability.c modules/imap/login.c modules/imap/names.c \
	modules/imap/view.c modules/imap/select.c modules/imap/idle.c modules/imap/stubs.c \
	modules/imap/search.h modules/imap/search.c modules/imap/search_match.c \
	$(IMAP_PURE_SOURCES)
modules_imap_imap_la_CPPFLAGS = -I$(top_srcdir)/sdk -I$(top_builddir)/sdk \
	-I$(top_srcdir)/modules/mime
modules_imap_imap_la_LDFLAGS = -module $(MODULE_LDFLAGS)
modules_imap_imap_la_LIBADD = modules/mime/libpsmime.la
