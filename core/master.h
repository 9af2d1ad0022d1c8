/* The master process: binds listeners, forks and supervises workers,
 * forwards the bus, reloads on SIGHUP and drains on SIGTERM. */
#ifndef PS_CORE_MASTER_H
#define PS_CORE_MASTER_H

struct ps_config;

/* Serve cfg (already validated, modules loaded) until SIGTERM. With
 * daemonize, detach from the terminal once everything is bound. Takes
 * ownership of cfg. Returns the process exit code. */
int ps_master_run(struct ps_config *cfg, int daemonize);

#endif
