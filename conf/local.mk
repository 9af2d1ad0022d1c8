# Configs: poshta.conf (documented defaults, installed) and dev.conf (the
# development server "make run" starts on loopback).
dist_sysconf_DATA = conf/poshta.conf
EXTRA_DIST += conf/dev.conf conf/dev-state.sh

DEV_STATE = $(abs_top_builddir)/dev-state
run: all
	@$(SHELL) $(top_srcdir)/conf/dev-state.sh $(DEV_STATE) \
		$(abs_top_srcdir) $(abs_top_builddir)/modules/.staged \
		$(abs_top_builddir)/core/poshtactl
	exec $(abs_top_builddir)/core/poshtad -f -c $(DEV_STATE)/poshta.conf
clean-local: clean-dev-state
clean-dev-state:
	rm -rf $(DEV_STATE)
.PHONY: run clean-dev-state
