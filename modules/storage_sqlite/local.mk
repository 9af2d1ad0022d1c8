# storage_sqlite.so: the embedded mail store, one SQLite database per user
# (docs/architecture.md, "storage_sqlite"). SDK headers only, like any
# module built out of tree, and libpsstore (modules/storekit) for the
# rules every backend shares.
module_LTLIBRARIES += modules/storage_sqlite/storage_sqlite.la
modules_storage_sqlite_storage_sqlite_la_SOURCES = \
	modules/storage_sqlite/storage_sqlite.h \
	modules/storage_sqlite/module.c modules/storage_sqlite/db.c \
	modules/storage_sqlite/pool.c modules/storage_sqlite/group.c \
	modules/storage_sqlite/walbuf.c \
	modules/storage_sqlite/schema.c modules/storage_sqlite/names.c \
	modules/storage_sqlite/user.c modules/storage_sqlite/mailbox.c \
	modules/storage_sqlite/hierarchy.c modules/storage_sqlite/select.c \
	modules/storage_sqlite/message.c modules/storage_sqlite/store.c \
	modules/storage_sqlite/copy.c modules/storage_sqlite/expunge.c \
	modules/storage_sqlite/append.c modules/storage_sqlite/turnstile.c \
	modules/storage_sqlite/restore.c
modules_storage_sqlite_storage_sqlite_la_CPPFLAGS = -I$(top_srcdir)/sdk \
	-I$(top_builddir)/sdk -I$(top_srcdir)/modules/storekit $(SQLITE_CFLAGS)
modules_storage_sqlite_storage_sqlite_la_LDFLAGS = -module $(MODULE_LDFLAGS)
modules_storage_sqlite_storage_sqlite_la_LIBADD = \
	modules/storekit/libpsstore.la $(SQLITE_LIBS)
