/* Logging: one line per event to stderr (foreground) or syslog, with the
 * level, the module and the connection id in front. */
#ifndef PS_CORE_LOG_H
#define PS_CORE_LOG_H

#include <poshta/types.h>
#include <stdarg.h>

struct ps_conn;

/* Send lines to syslog (ident "poshtad") instead of stderr. */
void ps_log_use_syslog(int on);
/* Drop lines less severe than level. */
void ps_log_set_level(enum ps_log_level level);
/* Name the process in each line: "master", "worker 2". */
void ps_log_set_role(const char *role);

/* m and c may be NULL. */
void ps_logv(struct ps_module_ctx *m, struct ps_conn *c,
	     enum ps_log_level level, const char *fmt, va_list ap);
void ps_logf(struct ps_module_ctx *m, struct ps_conn *c,
	     enum ps_log_level level, const char *fmt, ...) PS_PRINTF(4, 5);

#define ps_err(...) ps_logf(NULL, NULL, PS_LOG_ERR, __VA_ARGS__)
#define ps_warn(...) ps_logf(NULL, NULL, PS_LOG_WARN, __VA_ARGS__)
#define ps_notice(...) ps_logf(NULL, NULL, PS_LOG_NOTICE, __VA_ARGS__)
#define ps_info(...) ps_logf(NULL, NULL, PS_LOG_INFO, __VA_ARGS__)
#define ps_debug(...) ps_logf(NULL, NULL, PS_LOG_DEBUG, __VA_ARGS__)

/* Fill err with a printf-style message; returns PS_EFAIL for chaining:
 *   return ps_error_set(err, "bad port '%s'", p); */
int ps_error_set(struct ps_error *err, const char *fmt, ...) PS_PRINTF(2, 3);

#endif
