# imap.so: IMAP4rev1 and IMAP4rev2 (docs/architecture.md, "imap"). SDK
# headers only, like any module built out of tree. IMAP_PURE_SOURCES call
# no SDK function: tests/unit/test_imap_parse.c,
# tests/unit/test_imap_search_parse.c and the tests/fuzz/fuzz_imap*
# targets link them alone. libpsmime (modules/mime) is linked in.
IMAP_PURE_SOURCES = \
	modules/imap/chars.h modules/imap/utf8.h modules/imap/utf8.c \
	modules/imap/buffer.h modules/imap/buffer.c \
	modules/imap/parser.h modules/imap/parser.c \
	modules/imap/token.h modules/imap/token.c \
	modules/imap/args.h modules/imap/args.c \
	modules/imap/section.h modules/imap/section.c \
	modules/imap/seqset.h modules/imap/seqset.c \
	modules/imap/mutf7.h modules/imap/mutf7.c \
	modules/imap/quote.h modules/imap/quote.c \
	modules/imap/datetime.h modules/imap/datetime.c \
	modules/imap/match.h modules/imap/match.c \
	modules/imap/search_parse.h modules/imap/search_parse.c
module_LTLIBRARIES += modules/imap/imap.la
modules_imap_imap_la_SOURCES = modules/imap/imapd.h \
	modules/imap/module.c modules/imap/session.c \
	modules/imap/capability.c modules/imap/login.c modules/imap/names.c \
	modules/imap/view.c modules/imap/select.c modules/imap/idle.c \
	modules/imap/compress.c modules/imap/ext.c modules/imap/list.c \
	modules/imap/mailbox.c modules/imap/quota.c modules/imap/store.c \
	modules/imap/expunge.c modules/imap/copy.c modules/imap/append.c \
	modules/imap/fetch.h modules/imap/fetch.c modules/imap/fetch_body.c \
	modules/imap/envelope.c modules/imap/bodystructure.c \
	modules/imap/structure.c \
	modules/imap/search.h modules/imap/search.c \
	modules/imap/search_match.c \
	$(IMAP_PURE_SOURCES)
modules_imap_imap_la_CPPFLAGS = -I$(top_srcdir)/sdk -I$(top_builddir)/sdk \
	-I$(top_srcdir)/modules/mime
modules_imap_imap_la_LDFLAGS = -module $(MODULE_LDFLAGS)
modules_imap_imap_la_LIBADD = modules/mime/libpsmime.la
