# In-tree modules: one folder each, built as $(moduledir)/NAME.so.
# Module rule of thumb: LDFLAGS = $(MODULE_LDFLAGS), no core sources.

# Stage built modules in one folder so poshtad runs from the build tree.
all-local: stage-modules
stage-modules: $(module_LTLIBRARIES)
	@mkdir -p $(top_builddir)/modules/.staged
	@for la in $(module_LTLIBRARIES); do \
		n=$$(basename $$la .la); d=$$(dirname $$la); \
		ln -sf $(abs_top_builddir)/$$d/.libs/$$n.so $(top_builddir)/modules/.staged/$$n.so; \
	done
clean-local: clean-staged
clean-staged:
	rm -rf $(top_builddir)/modules/.staged
.PHONY: stage-modules clean-staged
