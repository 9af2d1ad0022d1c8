# storage_maildir.so: mail in Maildir++ trees Dovecot reads too, one per
# user at path/DOMAIN/LOCAL/Maildir (docs/architecture.md,
# "storage_maildir"). SDK headers only, like any module built out of tree,
# and libpsstore (modules/storekit) for the rules every backend shares.
module_LTLIBRARIES += modules/storage_maildir/storage_maildir.la
modules_storage_maildir_storage_maildir_la_SOURCES = \
	modules/storage_maildir/storage_maildir.h \
	modules/storage_maildir/module.c modules/storage_maildir/util.c \
	modules/storage_maildir/mutf7.c modules/storage_maildir/names.c \
	modules/storage_maildir/lock.c modules/storage_maildir/uidlist.c \
	modules/storage_maildir/folder.c modules/storage_maildir/inbox.c \
	modules/storage_maildir/subscribe.c modules/storage_maildir/notify.c \
	modules/storage_maildir/user.c modules/storage_maildir/list.c \
	modules/storage_maildir/mailbox.c modules/storage_maildir/rename.c \
	modules/storage_maildir/status.c \
	modules/storage_maildir/keywords.c modules/storage_maildir/info.c \
	modules/storage_maildir/scan.c modules/storage_maildir/append.c \
	modules/storage_maildir/open.c modules/storage_maildir/store.c \
	modules/storage_maildir/expunge.c modules/storage_maildir/quota.c \
	modules/storage_maildir/copy.c \
	modules/storage_maildir/index.c modules/storage_maildir/changes.c \
	modules/storage_maildir/cache.c modules/storage_maildir/crlf.c \
	modules/storage_maildir/reindex.c modules/storage_maildir/restore.c
modules_storage_maildir_storage_maildir_la_CPPFLAGS = -I$(top_srcdir)/sdk \
	-I$(top_builddir)/sdk -I$(top_srcdir)/modules/storekit $(SQLITE_CFLAGS)
modules_storage_maildir_storage_maildir_la_LDFLAGS = -module $(MODULE_LDFLAGS)
modules_storage_maildir_storage_maildir_la_LIBADD = \
	modules/storekit/libpsstore.la $(SQLITE_LIBS)
