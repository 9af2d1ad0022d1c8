/* Shared types of the Poshta SDK: return codes, errors, opaque handles. */
#ifndef POSHTA_TYPES_H
#define POSHTA_TYPES_H

#include <stddef.h>
#include <stdint.h>
#include <stdarg.h>

/* Return codes. 0 is success; failures are negative. */
#define PS_OK 0
#define PS_AGAIN 1     /* not done yet: more input or a later callback */
#define PS_DECLINED 2  /* not mine: let the next handler try */
#define PS_EFAIL (-1)  /* generic failure, see the struct ps_error */
#define PS_ENOMEM (-2)
#define PS_EINVAL (-3)
#define PS_ENOENT (-4)
#define PS_EEXIST (-5)
#define PS_ESTATE (-6) /* not allowed now (e.g. registration after load) */
#define PS_EIO (-7)

/* A message for the caller to log. Filled by the callee on failure. */
struct ps_error {
	char msg[256];
};

/* Log levels, syslog's order. */
enum ps_log_level {
	PS_LOG_ERR = 3,
	PS_LOG_WARN = 4,
	PS_LOG_NOTICE = 5,
	PS_LOG_INFO = 6,
	PS_LOG_DEBUG = 7,
};

/* Opaque handles owned by the core. */
struct ps_module_ctx;     /* one per loaded module */
struct ps_conn;           /* one client connection */
struct ps_timer;          /* a pending one-shot timer */
struct ps_conf_section;   /* a validated config block */
struct ps_hook_call;      /* one running hook chain */
struct ps_watch;          /* a watched file descriptor (since 1.4) */

#if defined(__GNUC__)
#define PS_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define PS_EXPORT __attribute__((visibility("default")))
#define PS_HIDDEN __attribute__((visibility("hidden")))
#else
#define PS_PRINTF(f, a)
#define PS_EXPORT
#define PS_HIDDEN
#endif

#endif
