# Documentation: guides and man pages.
dist_man_MANS += docs/man/poshtad.8 docs/man/poshta.conf.5
EXTRA_DIST += docs/architecture.md docs/sdk.md docs/config.md
