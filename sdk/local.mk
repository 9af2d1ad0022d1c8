# The public SDK headers, installed as <poshta/...>, and poshta-sdk.pc.
poshtaincludedir = $(includedir)/poshta
poshtainclude_HEADERS = \
	sdk/poshta/api.h sdk/poshta/auth.h sdk/poshta/config.h \
	sdk/poshta/conn.h sdk/poshta/dns.h sdk/poshta/hook.h sdk/poshta/module.h \
	sdk/poshta/poshta.h sdk/poshta/sasl.h sdk/poshta/smtp.h \
	sdk/poshta/imap.h \
	sdk/poshta/queue.h sdk/poshta/storage.h sdk/poshta/types.h
nodist_poshtainclude_HEADERS = sdk/poshta/version.h
pkgconfigdir = $(libdir)/pkgconfig
nodist_pkgconfig_DATA = sdk/poshta-sdk.pc
# The examples' files one by one: a folder would also ship whatever was
# built in it (echo's .libs, a greylist.so made by following its README).
EXTRA_DIST += sdk/examples/echo/Makefile sdk/examples/echo/README.md \
	sdk/examples/echo/echo.map
EXTRA_DIST += sdk/examples/greylist/Makefile \
	sdk/examples/greylist/README.md sdk/examples/greylist/greylist.c \
	sdk/examples/greylist/greylist.h sdk/examples/greylist/greylist.map \
	sdk/examples/greylist/db.c sdk/examples/greylist/net.c
EXTRA_DIST += sdk/examples/xcount/Makefile sdk/examples/xcount/README.md \
	sdk/examples/xcount/xcount.c sdk/examples/xcount/xcount.map

# The example module is also built in the tree, so "make run" serves it.
# It sees only the SDK headers, exactly like an out-of-tree build.
noinst_LTLIBRARIES += sdk/examples/echo/echo.la
sdk_examples_echo_echo_la_SOURCES = sdk/examples/echo/echo.c \
	sdk/examples/echo/echo.h
sdk_examples_echo_echo_la_CPPFLAGS = -I$(top_srcdir)/sdk -I$(top_builddir)/sdk
sdk_examples_echo_echo_la_LDFLAGS = -module $(MODULE_LDFLAGS) -rpath /nowhere
STAGED_MODULES += sdk/examples/echo/echo.la
