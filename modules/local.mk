# In-tree modules: one folder each, built as $(moduledir)/NAME.so.
# Module rule of thumb: LDFLAGS = -module $(MODULE_LDFLAGS) (automake wants
# -module spelled out), no core sources, only the SDK headers.

include modules/mime/local.mk
include modules/dsn/local.mk
include modules/dkim/local.mk
include modules/storekit/local.mk
include modules/authkit/local.mk
include modules/auth_sqlite/local.mk
include modules/storage_sqlite/local.mk
include modules/storage_maildir/local.mk
include modules/storage_pgsql/local.mk
include modules/queue_sqlite/local.mk
include modules/smtp/local.mk
include modules/imap/local.mk
include modules/pop3/local.mk

# Stage built modules in one folder so poshtad runs from the build tree.
STAGED_MODULES += $(module_LTLIBRARIES)
all-local: stage-modules
stage-modules: $(STAGED_MODULES)
	@mkdir -p $(top_builddir)/modules/.staged
	@for la in $(STAGED_MODULES); do \
		n=$$(basename $$la .la); d=$$(dirname $$la); \
		ln -sf $(abs_top_builddir)/$$d/.libs/$$n.so $(top_builddir)/modules/.staged/$$n.so; \
	done
clean-local: clean-staged
clean-staged:
	rm -rf $(top_builddir)/modules/.staged
.PHONY: stage-modules clean-staged

# auth_pgsql: auth in PostgreSQL (issue #8).
include modules/auth_pgsql/local.mk
