# Configs: poshta.conf (documented defaults, installed) and dev.conf (make run).
dist_sysconf_DATA =
EXTRA_DIST += conf/dev.conf conf/poshta.conf
