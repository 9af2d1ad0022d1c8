# Documentation: guides and man pages.
dist_man_MANS += docs/man/poshtad.8 docs/man/poshtactl.8 \
	docs/man/poshta.conf.5
EXTRA_DIST += docs/architecture.md docs/sdk.md docs/config.md
EXTRA_DIST += docs/config-reference.sh

# Regenerate docs/config.md from the directives the code declares.
config-reference: all
	$(SHELL) $(top_srcdir)/docs/config-reference.sh \
		$(abs_top_builddir)/core/poshtad \
		$(abs_top_builddir)/modules/.staged >$(top_srcdir)/docs/config.md
.PHONY: config-reference
