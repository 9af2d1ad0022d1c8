# The public SDK headers, installed as <poshta/...>, and poshta-sdk.pc.
poshtaincludedir = $(includedir)/poshta
poshtainclude_HEADERS = \
	sdk/poshta/api.h sdk/poshta/config.h sdk/poshta/conn.h \
	sdk/poshta/hook.h sdk/poshta/module.h sdk/poshta/poshta.h \
	sdk/poshta/types.h
nodist_poshtainclude_HEADERS = sdk/poshta/version.h
pkgconfigdir = $(libdir)/pkgconfig
nodist_pkgconfig_DATA = sdk/poshta-sdk.pc
EXTRA_DIST += sdk/examples
