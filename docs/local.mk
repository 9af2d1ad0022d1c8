# Documentation: guides and man pages.
EXTRA_DIST += docs
