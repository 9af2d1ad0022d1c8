# auth_pgsql.so: domains, users and aliases in PostgreSQL (the "auth"
# interface named "pgsql"). Built from the SDK headers and libpq alone.
module_LTLIBRARIES += modules/auth_pgsql/auth_pgsql.la
modules_auth_pgsql_auth_pgsql_la_SOURCES = \
	modules/auth_pgsql/auth_pgsql.c modules/auth_pgsql/auth_pgsql.h \
	modules/auth_pgsql/admin.c modules/auth_pgsql/db.c \
	modules/auth_pgsql/pool.c \
	modules/auth_pgsql/query.c modules/auth_pgsql/resolve.c \
	modules/auth_pgsql/schema.c
modules_auth_pgsql_auth_pgsql_la_CPPFLAGS = -I$(top_srcdir)/sdk \
	-I$(top_builddir)/sdk -I$(top_srcdir)/modules/authkit $(PQ_CFLAGS)
modules_auth_pgsql_auth_pgsql_la_LDFLAGS = -module $(MODULE_LDFLAGS)
modules_auth_pgsql_auth_pgsql_la_LIBADD = modules/authkit/libpsauth.la \
	$(PQ_LIBS) $(PTHREAD_LIBS)
