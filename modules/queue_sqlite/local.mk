# queue_sqlite.so: the embedded mail queue, one SQLite database (the
# "queue" interface named "sqlite"; docs/architecture.md, "Mail queue").
# SDK headers only, like any module built out of tree.
module_LTLIBRARIES += modules/queue_sqlite/queue_sqlite.la
modules_queue_sqlite_queue_sqlite_la_SOURCES = \
	modules/queue_sqlite/queue_sqlite.h \
	modules/queue_sqlite/module.c modules/queue_sqlite/db.c \
	modules/queue_sqlite/pool.c modules/queue_sqlite/group.c \
	modules/queue_sqlite/schema.c modules/queue_sqlite/enqueue.c \
	modules/queue_sqlite/lease.c modules/queue_sqlite/result.c \
	modules/queue_sqlite/read.c modules/queue_sqlite/admin.c
modules_queue_sqlite_queue_sqlite_la_CPPFLAGS = -I$(top_srcdir)/sdk \
	-I$(top_builddir)/sdk $(SQLITE_CFLAGS)
modules_queue_sqlite_queue_sqlite_la_LDFLAGS = -module $(MODULE_LDFLAGS)
modules_queue_sqlite_queue_sqlite_la_LIBADD = $(SQLITE_LIBS) $(PTHREAD_LIBS)
