# imap.so: IMAP4rev1 and IMAP4rev2 (docs/architecture.md, "IMAP"). So far
# only its pure parts: they call no SDK function, so
# tests/unit/test_imap_parse.c and tests/fuzz/fuzz_imap.c link them alone.
# The module itself (module_LTLIBRARIES += modules/imap/imap.la) comes
# with the session and the commands, and takes these too.
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
	modules/imap/datetime.h modules/imap/datetime.c
