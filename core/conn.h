/* Client connections in a worker: buffered, flow-controlled I/O over a
 * plain or TLS transport, line and exact-byte delivery to the protocol,
 * STARTTLS, idle timeouts, and deferred close.
 *
 * The functions named like the SDK's wrappers (ps_conn_write, ...) are the
 * ones the API table points at; see <poshta/poshta.h> for their contracts. */
#ifndef PS_CORE_CONN_H
#define PS_CORE_CONN_H

#include <poshta/conn.h>
#include <stdarg.h>
#include <sys/socket.h>

struct ps_loop;
struct ps_listener;
struct ps_module_ctx;

/* Take over an accepted, non-blocking fd. Starts the implicit TLS
 * handshake or calls on_open. Returns NULL (fd closed) on ENOMEM. */
struct ps_conn *ps_conn_accept(struct ps_loop *loop, struct ps_listener *l,
			       int fd, const struct sockaddr *peer,
			       socklen_t peerlen);

/* Live connections in this worker, and those from one peer address. */
size_t ps_conn_count(void);
size_t ps_conn_count_peer(const struct sockaddr *peer);

/* Stop reading new commands everywhere; used when the worker drains on
 * SIGTERM or reload (the connections finish on their own). */
void ps_conn_drain_all(void);

/* Close every connection now (worker exit). */
void ps_conn_close_all(void);

int ps_conn_write(struct ps_conn *c, const void *data, size_t len);
int ps_conn_vprintf(struct ps_conn *c, const char *fmt, va_list ap);
size_t ps_conn_pending(struct ps_conn *c);
int ps_conn_read_bytes(struct ps_conn *c, size_t n);
void ps_conn_pause(struct ps_conn *c);
void ps_conn_resume(struct ps_conn *c);
int ps_conn_starttls(struct ps_conn *c);
void ps_conn_close(struct ps_conn *c);
void ps_conn_hold(struct ps_conn *c);
void ps_conn_release(struct ps_conn *c);
int ps_conn_closing(struct ps_conn *c);
void ps_conn_set_timeout(struct ps_conn *c, uint64_t ms);
void ps_conn_set_max_line(struct ps_conn *c, size_t max);
unsigned ps_conn_tls(struct ps_conn *c);
const char *ps_conn_tls_info(struct ps_conn *c);
const char *ps_conn_id(struct ps_conn *c);
const char *ps_conn_peer(struct ps_conn *c);
const char *ps_conn_listener(struct ps_conn *c);
const struct ps_conf_section *ps_conn_conf(struct ps_conn *c);
/* Slot i of the connection (one per loaded module, by module index). */
void **ps_conn_slot(struct ps_conn *c, struct ps_module_ctx *m);

#endif
