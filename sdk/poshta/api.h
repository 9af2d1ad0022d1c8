/* struct ps_api: the table of functions the core hands each module.
 *
 * Entries are only ever added at the end (bumping PS_ABI_MINOR); "size" is
 * the size of the core's table, so PS_API_HAS(fn) tells a module built for
 * a newer minor whether this core has fn. Call the entries through the
 * inline wrappers in <poshta/poshta.h>; their comments give each contract. */
#ifndef POSHTA_API_H
#define POSHTA_API_H

#include <poshta/types.h>
#include <poshta/config.h>
#include <poshta/conn.h>
#include <poshta/hook.h>
#include <poshta/sasl.h>

typedef void (*ps_timer_fn)(void *arg);
typedef void (*ps_job_fn)(void *arg);
typedef void (*ps_bus_fn)(const char *topic, const void *data, size_t len,
			  void *arg);

/* Since 1.4: what a watched fd is ready for (events of ps_watch_fn). */
#define PS_WATCH_READ 0x1
#define PS_WATCH_WRITE 0x2
#define PS_WATCH_ERROR 0x4 /* reported only: error or hangup, with READ */
typedef void (*ps_watch_fn)(int fd, unsigned events, void *arg);

struct ps_api {
	size_t size;
	unsigned abi_major, abi_minor;

	/* 1.0: logging */
	void (*logv)(struct ps_module_ctx *m, struct ps_conn *c,
		     enum ps_log_level level, const char *fmt, va_list ap);

	/* 1.0: registration, only from init() */
	int (*conf_register)(struct ps_module_ctx *m, enum ps_conf_scope scope,
			     const struct ps_directive *d);
	int (*protocol_register)(struct ps_module_ctx *m,
				 const struct ps_protocol *p);
	int (*hook_register)(struct ps_module_ctx *m, const char *event,
			     int priority, ps_hook_fn fn, void *arg);
	int (*iface_publish)(struct ps_module_ctx *m, const char *kind,
			     const char *name, const void *table);

	/* 1.0: config */
	const struct ps_conf_section *(*conf_module)(struct ps_module_ctx *m);
	const struct ps_conf_section *(*conf_core)(void);
	const struct ps_conf_value *(*conf_get)(const struct ps_conf_section *s,
						const char *name, size_t index);
	size_t (*conf_count)(const struct ps_conf_section *s, const char *name);

	/* 1.0: hooks and interfaces */
	void (*hook_run)(const char *event, struct ps_conn *c, void *data,
			 ps_hook_done_fn done, void *arg);
	void *(*hook_data)(struct ps_hook_call *call);
	struct ps_conn *(*hook_conn)(struct ps_hook_call *call);
	void (*hook_reply)(struct ps_hook_call *call, const char *reply);
	void (*hook_resume)(struct ps_hook_call *call, int verdict);
	int (*iface_get)(const char *kind, const char *name, void *buf,
			 size_t bufsize);

	/* 1.0: the worker's loop */
	uint64_t (*now_ms)(void);
	struct ps_timer *(*timer_add)(uint64_t ms, ps_timer_fn fn, void *arg);
	void (*timer_cancel)(struct ps_timer *t);
	int (*job_submit)(ps_job_fn work, ps_job_fn done, void *arg);
	int (*bus_publish)(const char *topic, const void *data, size_t len);
	int (*bus_subscribe)(struct ps_module_ctx *m, const char *prefix,
			     ps_bus_fn fn, void *arg);

	/* 1.0: connections */
	int (*conn_write)(struct ps_conn *c, const void *data, size_t len);
	int (*conn_vprintf)(struct ps_conn *c, const char *fmt, va_list ap);
	size_t (*conn_pending)(struct ps_conn *c);
	int (*conn_read_bytes)(struct ps_conn *c, size_t n);
	void (*conn_pause)(struct ps_conn *c);
	void (*conn_resume)(struct ps_conn *c);
	int (*conn_starttls)(struct ps_conn *c);
	void (*conn_close)(struct ps_conn *c);
	void (*conn_hold)(struct ps_conn *c);
	void (*conn_release)(struct ps_conn *c);
	int (*conn_closing)(struct ps_conn *c);
	void (*conn_set_timeout)(struct ps_conn *c, uint64_t ms);
	void (*conn_set_max_line)(struct ps_conn *c, size_t max);
	unsigned (*conn_tls)(struct ps_conn *c);
	const char *(*conn_tls_info)(struct ps_conn *c);
	const char *(*conn_id)(struct ps_conn *c);
	const char *(*conn_peer)(struct ps_conn *c);
	const char *(*conn_listener)(struct ps_conn *c);
	const struct ps_conf_section *(*conn_conf)(struct ps_conn *c);
	void **(*conn_slot)(struct ps_conn *c, struct ps_module_ctx *m);

	/* 1.1: passwords, SASL and logins */
	int (*password_hash)(const char *password, char *buf, size_t len,
			     struct ps_error *err);
	int (*password_verify)(const char *hash, const char *password);
	const char *(*sasl_mechanisms)(struct ps_conn *c);
	struct ps_sasl *(*sasl_start)(struct ps_conn *c, const char *mech,
				      const char *initial, ps_sasl_fn fn,
				      void *arg);
	void (*sasl_respond)(struct ps_sasl *s, const char *line, size_t len);
	const char *(*sasl_user)(struct ps_sasl *s);
	void (*sasl_free)(struct ps_sasl *s);
	struct ps_sasl *(*auth_login)(struct ps_conn *c, const char *user,
				      const char *password, ps_sasl_fn fn,
				      void *arg);

	/* 1.2: compression */
	int (*conn_compress)(struct ps_conn *c);

	/* 1.3: the server's name */
	const char *(*hostname)(void);

	/* 1.4: outbound connections and fd watches */
	struct ps_conn *(*conn_connect)(struct ps_module_ctx *m,
					const struct ps_protocol *p,
					const struct ps_connect *o,
					struct ps_error *err);
	void *(*conn_arg)(struct ps_conn *c);
	const char *(*conn_error)(struct ps_conn *c);
	int (*conn_starttls_client)(struct ps_conn *c,
				    const struct ps_tls_client *o);
	int (*conn_tls_verified)(struct ps_conn *c);
	struct ps_watch *(*watch_add)(int fd, unsigned events, ps_watch_fn fn,
				      void *arg);
	int (*watch_set)(struct ps_watch *w, unsigned events);
	void (*watch_remove)(struct ps_watch *w);

	/* 1.5: named blocks inside the module's block */
	int (*conf_register_block)(struct ps_module_ctx *m,
				   const struct ps_conf_block *b);
	size_t (*conf_block_count)(const struct ps_conf_section *s,
				   const char *name);
	const struct ps_conf_section *(*conf_block)(
		const struct ps_conf_section *s, const char *name, size_t index,
		const struct ps_conf_value **args_r);
	/* 1.5: whether the worker is on its way out */
	int (*worker_stopping)(void);

	/* 1.6: bus messages learnt from outside, for this worker only */
	int (*bus_publish_local)(const char *topic, const void *data,
				 size_t len);
};

#define PS_API_HAS(fn) \
	(offsetof(struct ps_api, fn) + sizeof(ps__api->fn) <= ps__api->size)

#endif
