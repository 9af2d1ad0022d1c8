# storage_pgsql.so: the mail store in PostgreSQL, shared by several front
# ends (docs/architecture.md, "storage_pgsql"). SDK headers and libpq
# only, and libpsstore (modules/storekit) for the rules every backend
# shares.
module_LTLIBRARIES += modules/storage_pgsql/storage_pgsql.la
modules_storage_pgsql_storage_pgsql_la_SOURCES = \
	modules/storage_pgsql/storage_pgsql.h \
	modules/storage_pgsql/module.c modules/storage_pgsql/pool.c \
	modules/storage_pgsql/db.c modules/storage_pgsql/schema.c \
	modules/storage_pgsql/notify.c modules/storage_pgsql/listen.c \
	modules/storage_pgsql/blob.c modules/storage_pgsql/names.c \
	modules/storage_pgsql/user.c modules/storage_pgsql/mailbox.c \
	modules/storage_pgsql/hierarchy.c modules/storage_pgsql/select.c \
	modules/storage_pgsql/message.c modules/storage_pgsql/store.c \
	modules/storage_pgsql/copy.c modules/storage_pgsql/expunge.c \
	modules/storage_pgsql/append.c modules/storage_pgsql/group.c
modules_storage_pgsql_storage_pgsql_la_CPPFLAGS = -I$(top_srcdir)/sdk \
	-I$(top_builddir)/sdk -I$(top_srcdir)/modules/storekit $(PQ_CFLAGS)
modules_storage_pgsql_storage_pgsql_la_LDFLAGS = -module $(MODULE_LDFLAGS)
modules_storage_pgsql_storage_pgsql_la_LIBADD = modules/storekit/libpsstore.la \
	$(PQ_LIBS)
