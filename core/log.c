/* Logging to stderr or syslog; see log.h. */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "conn.h"
#include "module.h"

static int use_syslog;
static enum ps_log_level max_level = PS_LOG_INFO;
static char role[32] = "poshtad";

static const char *const level_names[] = {
	[PS_LOG_ERR] = "error", [PS_LOG_WARN] = "warning",
	[PS_LOG_NOTICE] = "notice", [PS_LOG_INFO] = "info",
	[PS_LOG_DEBUG] = "debug",
};

void
ps_log_use_syslog(int on)
{
	if (on && !use_syslog)
		openlog("poshtad", LOG_PID | LOG_NDELAY, LOG_MAIL);
	use_syslog = on;
}

void
ps_log_set_level(enum ps_log_level level)
{
	max_level = level;
}

void
ps_log_set_role(const char *r)
{
	snprintf(role, sizeof(role), "%s", r);
}

void
ps_logv(struct ps_module_ctx *m, struct ps_conn *c, enum ps_log_level level,
	const char *fmt, va_list ap)
{
	char msg[2048], prefix[128] = "";
	size_t n = 0;

	if (level > max_level)
		return;
	if (m)
		n += snprintf(prefix + n, sizeof(prefix) - n, "%s: ",
			      ps_module_name(m));
	if (c && n < sizeof(prefix))
		snprintf(prefix + n, sizeof(prefix) - n, "[%s] ",
			 ps_conn_id(c));
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (use_syslog) {
		syslog((int)level, "%s%s", prefix, msg);
		return;
	}
	char ts[32];
	struct timespec now;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &now);
	localtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%d %H:%M:%S", &tm);
	fprintf(stderr, "%s.%03ld %s[%d] %s: %s%s\n", ts,
		now.tv_nsec / 1000000, role, (int)getpid(),
		level_names[level], prefix, msg);
}

void
ps_logf(struct ps_module_ctx *m, struct ps_conn *c, enum ps_log_level level,
	const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	ps_logv(m, c, level, fmt, ap);
	va_end(ap);
}

int
ps_error_set(struct ps_error *err, const char *fmt, ...)
{
	va_list ap;
	if (!err)
		return PS_EFAIL;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return PS_EFAIL;
}
