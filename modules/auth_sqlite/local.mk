# auth_sqlite.so: domains, users and aliases in SQLite (the "auth"
# interface named "sqlite"). Built from the SDK headers alone.
module_LTLIBRARIES += modules/auth_sqlite/auth_sqlite.la
modules_auth_sqlite_auth_sqlite_la_SOURCES = \
	modules/auth_sqlite/auth_sqlite.c modules/auth_sqlite/auth_sqlite.h \
	modules/auth_sqlite/admin.c modules/auth_sqlite/db.c \
	modules/auth_sqlite/query.c
modules_auth_sqlite_auth_sqlite_la_CPPFLAGS = -I$(top_srcdir)/sdk \
	-I$(top_builddir)/sdk -I$(top_srcdir)/modules/authkit $(SQLITE_CFLAGS)
modules_auth_sqlite_auth_sqlite_la_LDFLAGS = -module $(MODULE_LDFLAGS)
modules_auth_sqlite_auth_sqlite_la_LIBADD = modules/authkit/libpsauth.la \
	$(SQLITE_LIBS) $(PTHREAD_LIBS)
