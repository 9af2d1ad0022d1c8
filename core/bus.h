/* The publish/subscribe bus between workers. Each worker holds one end of
 * a SOCK_SEQPACKET socketpair whose other end the master holds; the master
 * forwards every message to every worker, the sender included, so all
 * workers see one order per sender. */
#ifndef PS_CORE_BUS_H
#define PS_CORE_BUS_H

#include <poshta/api.h>

struct ps_loop;

#define PS_BUS_MAX_TOPIC 255
#define PS_BUS_MAX_DATA 65536

/* A new pair: *master_fd stays in the master, *worker_fd goes to a
 * worker. Both non-blocking and close-on-exec. */
int ps_bus_pair(int *master_fd, int *worker_fd, struct ps_error *err);

/* Master: forward messages among the attached worker ends. */
int ps_bus_hub_attach(struct ps_loop *loop, int fd);
void ps_bus_hub_detach(struct ps_loop *loop, int fd);

/* Worker: start receiving on fd; lost() runs if the master goes away. */
int ps_bus_worker_start(struct ps_loop *loop, int fd, void (*lost)(void));
void ps_bus_worker_stop(void);
/* Any thread (storage backends publish from the pool). */
int ps_bus_publish(const char *topic, const void *data, size_t len);
/* The loop thread: to this worker's subscribers only. */
int ps_bus_publish_local(const char *topic, const void *data, size_t len);
/* From a module's worker_init only: every worker then has the same
 * subscriptions, and a publish no subscription matches is not sent. */
int ps_bus_subscribe(struct ps_module_ctx *m, const char *prefix,
		     ps_bus_fn fn, void *arg);
/* worker_init is over: later subscriptions are refused (PS_ESTATE). */
void ps_bus_seal(void);

#endif
