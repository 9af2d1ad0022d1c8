/* The API table (see <poshta/api.h>): each entry points at the core
 * function that implements it. Entries that need the worker's loop fail
 * politely in the master, where there is none. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "api.h"
#include "bus.h"
#include "conf.h"
#include "config_core.h"
#include "conn.h"
#include "hook.h"
#include "iface.h"
#include "log.h"
#include "loop.h"
#include "module.h"
#include "password.h"
#include "sasl.h"
#include "watch.h"
#include "worker.h"

static const struct ps_conf_section *
api_conf_core(void)
{
	return ps_config_core_section();
}

static uint64_t
api_now_ms(void)
{
	struct ps_loop *l = ps_worker_loop();
	return l ? ps_loop_now(l) : 0;
}

static struct ps_timer *
api_timer_add(uint64_t ms, ps_timer_fn fn, void *arg)
{
	struct ps_loop *l = ps_worker_loop();
	return l ? ps_loop_timer(l, ms, fn, arg) : NULL;
}

static void
api_timer_cancel(struct ps_timer *t)
{
	struct ps_loop *l = ps_worker_loop();
	if (l && t)
		ps_loop_timer_cancel(l, t);
}

static int
api_job_submit(ps_job_fn work, ps_job_fn done, void *arg)
{
	struct ps_loop *l = ps_worker_loop();
	return l ? ps_loop_submit(l, work, done, arg) : PS_ESTATE;
}

static const struct ps_api table = {
	.size = sizeof(struct ps_api),
	.abi_major = PS_ABI_MAJOR,
	.abi_minor = PS_ABI_MINOR,
	.logv = ps_logv,
	.conf_register = ps_module_add_directives,
	.protocol_register = ps_protocol_add,
	.hook_register = ps_hook_register,
	.iface_publish = ps_iface_publish,
	.conf_module = ps_module_section,
	.conf_core = api_conf_core,
	.conf_get = ps_conf_section_get,
	.conf_count = ps_conf_section_count,
	.hook_run = ps_hook_run,
	.hook_data = ps_hook_data,
	.hook_conn = ps_hook_conn,
	.hook_reply = ps_hook_reply,
	.hook_resume = ps_hook_resume,
	.iface_get = ps_iface_get,
	.now_ms = api_now_ms,
	.timer_add = api_timer_add,
	.timer_cancel = api_timer_cancel,
	.job_submit = api_job_submit,
	.bus_publish = ps_bus_publish,
	.bus_subscribe = ps_bus_subscribe,
	.conn_write = ps_conn_write,
	.conn_vprintf = ps_conn_vprintf,
	.conn_pending = ps_conn_pending,
	.conn_read_bytes = ps_conn_read_bytes,
	.conn_pause = ps_conn_pause,
	.conn_resume = ps_conn_resume,
	.conn_starttls = ps_conn_starttls,
	.conn_close = ps_conn_close,
	.conn_hold = ps_conn_hold,
	.conn_release = ps_conn_release,
	.conn_closing = ps_conn_closing,
	.conn_set_timeout = ps_conn_set_timeout,
	.conn_set_max_line = ps_conn_set_max_line,
	.conn_tls = ps_conn_tls,
	.conn_tls_info = ps_conn_tls_info,
	.conn_id = ps_conn_id,
	.conn_peer = ps_conn_peer,
	.conn_listener = ps_conn_listener,
	.conn_conf = ps_conn_conf,
	.conn_slot = ps_conn_slot,
	.password_hash = ps_password_hash,
	.password_verify = ps_password_verify,
	.sasl_mechanisms = ps_sasl_mechanisms,
	.sasl_start = ps_sasl_start,
	.sasl_respond = ps_sasl_respond,
	.sasl_user = ps_sasl_user,
	.sasl_free = ps_sasl_free,
	.auth_login = ps_auth_login,
	.conn_compress = ps_conn_compress,
	.hostname = ps_config_hostname,
	.conn_connect = ps_conn_connect,
	.conn_arg = ps_conn_arg,
	.conn_error = ps_conn_error,
	.conn_starttls_client = ps_conn_starttls_client,
	.conn_tls_verified = ps_conn_tls_verified,
	.watch_add = ps_watch_add,
	.watch_set = ps_watch_set,
	.watch_remove = ps_watch_remove,
	.conf_register_block = ps_module_add_block,
	.conf_block_count = ps_conf_section_block_count,
	.conf_block = ps_conf_section_sub,
	.worker_stopping = ps_worker_stopping,
	.bus_publish_local = ps_bus_publish_local,
};

const struct ps_api *
ps_api_table(void)
{
	return &table;
}
