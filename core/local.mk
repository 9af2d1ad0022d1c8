# The daemon: everything but main() is a convenience library so unit tests
# and fuzz targets link the same code.
noinst_LTLIBRARIES += core/libpscore.la
core_libpscore_la_CPPFLAGS = $(AM_CPPFLAGS) -DPS_CORE $(OPENSSL_CFLAGS) \
	$(ZLIB_CFLAGS)
core_libpscore_la_SOURCES = \
	core/api.c core/api.h \
	core/authfail.c core/authfail.h \
	core/base64.c core/base64.h \
	core/buf.c core/buf.h \
	core/bus.c core/bus.h \
	core/conf_parse.c core/conf_schema.c core/conf.h \
	core/config_core.c core/config_core.h \
	core/conn.c core/conn.h core/conn_int.h \
	core/connect.c \
	core/hook.c core/hook.h \
	core/iface.c core/iface.h \
	core/limits.c core/limits.h \
	core/listen.c core/listen.h \
	core/log.c core/log.h \
	core/loop.c core/loop.h \
	core/master.c core/master.h \
	core/module.c core/module.h \
	core/privilege.c core/privilege.h \
	core/password.c core/password.h \
	core/sasl.c core/sasl_plain.c core/sasl.h \
	core/shm.c core/shm.h \
	core/sigwatch.c core/sigwatch.h \
	core/tls.c core/tls.h \
	core/tls_client.c core/tls_client.h \
	core/transport.c core/deflate.c core/transport.h \
	core/watch.c core/watch.h \
	core/worker.c core/worker.h
core_libpscore_la_LIBADD = $(OPENSSL_LIBS) $(ZLIB_LIBS) $(LTDL_LIBS) \
	$(PTHREAD_LIBS)

sbin_PROGRAMS += core/poshtad
core_poshtad_SOURCES = core/main.c
core_poshtad_CPPFLAGS = $(AM_CPPFLAGS) -DPS_CORE
core_poshtad_LDADD = core/libpscore.la

# The administration tool: the same config reader and module loader as
# poshtad, driving the auth, storage and queue backends directly.
sbin_PROGRAMS += core/poshtactl
core_poshtactl_SOURCES = core/poshtactl.c core/ctl.h \
	core/ctl_domains.c core/ctl_users.c core/ctl_store.c \
	core/ctl_password.c core/ctl_mbox.c core/ctl_import.c \
	core/ctl_export.c core/ctl_dkim.c core/ctl_queue.c \
	core/ctl_queue_admin.c core/ctl_queue_json.c core/ctl_index.c \
	core/ctl_migrate.h core/ctl_migrate.c core/ctl_migrate_rec.c \
	core/ctl_migrate_dump.c core/ctl_migrate_load.c \
	core/ctl_migrate_progress.c
core_poshtactl_CPPFLAGS = $(AM_CPPFLAGS) -DPS_CORE \
	-I$(top_srcdir)/modules/dkim -I$(top_srcdir)/modules/mime
core_poshtactl_LDADD = core/libpscore.la modules/dkim/libpsdkim.la \
	modules/mime/libpsmime.la
