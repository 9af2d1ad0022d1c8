/* Connections in a worker, accepted or outbound: buffered, flow-controlled I/O over a
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

/* Take over an accepted, non-blocking fd (the caller has counted it with
 * ps_limits_acquire; closing releases it). Calls on_open at once, or
 * after the handshake on an implicit-TLS listener. Returns NULL, fd
 * closed and nothing called, when out of memory. */
struct ps_conn *ps_conn_accept(struct ps_loop *loop, struct ps_listener *l,
			       int fd, const struct sockaddr *peer,
			       socklen_t peerlen);

/* Open connections in this worker (closed ones a module still holds are
 * not counted). */
size_t ps_conn_count(void);

/* The worker shuts down (SIGTERM). A protocol with on_shutdown is told
 * and closes at its own boundary. Otherwise no new command is delivered
 * and the connection closes, flushing its output, once nothing is in
 * flight: not paused, no literal half read, no output queued. A client
 * still in its implicit TLS handshake is dropped at once. */
void ps_conn_drain_all(void);

/* Close every connection now, queued output dropped (worker exit). Run
 * the loop one more turn to free those with a deferred run pending. */
void ps_conn_close_all(void);

/* Semantics the SDK comments leave open:
 *
 * - Close: ps_conn_close and a callback's negative return only mark the
 *   connection closing; it stops reading and delivering, flushes the
 *   queue (for at most 30 s without progress) and then closes, from the
 *   loop, never inside a callback. on_close runs exactly once, and only
 *   if on_open ran: a client failing the implicit TLS handshake is never
 *   seen by the protocol. The memory lives until the last release.
 * - End of input: lines already complete when the client closes its side
 *   are delivered first (after a pause, once resumed); an unfinished
 *   last line is dropped; then the connection closes.
 * - Flow control: output reaching out_high stops delivery and reading.
 *   on_drain is called once each time the queue, having gone above
 *   out_low, falls to out_low or below; delivery resumes then too.
 *   Input stops being read at max_input bytes buffered (TCP pushes back).
 * - ps_conn_read_bytes: PS_ESTATE while bytes are still due, when closing,
 *   or without on_bytes. Bytes already buffered behind the current line
 *   count. Chunks are delivered as they arrive.
 * - STARTTLS: after ps_conn_starttls nothing more is delivered; the queue
 *   is flushed, every buffered input byte is discarded, the line reader
 *   and bytes mode are reset, the handshake runs, then on_tls. Write
 *   nothing between ps_conn_starttls and on_tls: it would go out in
 *   plain text before the handshake.
 * - ps_conn_tls: ACTIVE once the handshake is done. OFFERED on a starttls
 *   or required listener with a certificate until STARTTLS is called.
 *   REQUIRED means the listener demands TLS (required or implicit) and
 *   stays set after the handshake: a protocol refuses authentication and
 *   mail while REQUIRED is set and ACTIVE is not.
 * - Idle timeout: any byte read or written counts as activity. On expiry
 *   on_timeout (if any) says goodbye and the connection closes; during a
 *   handshake it is dropped. ps_conn_set_timeout restarts the clock.
 * - ps_conn_slot: NULL for a module loaded after the connection began. */

int ps_conn_write(struct ps_conn *c, const void *data, size_t len);
int ps_conn_vprintf(struct ps_conn *c, const char *fmt, va_list ap);
size_t ps_conn_pending(struct ps_conn *c);
int ps_conn_read_bytes(struct ps_conn *c, size_t n);
void ps_conn_pause(struct ps_conn *c);
void ps_conn_resume(struct ps_conn *c);
int ps_conn_starttls(struct ps_conn *c);
int ps_conn_compress(struct ps_conn *c);
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
/* The loop the connection lives on (for the core's own timers and jobs
 * about it, e.g. SASL). */
struct ps_loop *ps_conn_loop(struct ps_conn *c);
/* 1 when its listener accepts passwords in the clear without TLS
 * (auth_plaintext allow). */
int ps_conn_auth_plaintext(struct ps_conn *c);
/* Slot i of the connection (one per loaded module, by module index). */
void **ps_conn_slot(struct ps_conn *c, struct ps_module_ctx *m);

/* Outbound connections (connect.c). Semantics beyond the SDK comments:
 *
 * - They live in the worker's list like accepted ones: counted by
 *   ps_conn_count, drained and closed with the worker, logged with their
 *   own ids; never counted against listener limits. ps_conn_listener is
 *   "-" and ps_conn_conf NULL for them; ps_conn_tls never says OFFERED.
 * - ps_conn_connect is refused once ps_conn_drain_all has run.
 * - The protocol is copied into the connection, so it need not be
 *   registered nor outlive the call. A registered one would be listenable:
 *   a client protocol should stay unregistered. */
struct ps_conn *ps_conn_connect(struct ps_module_ctx *m,
				const struct ps_protocol *p,
				const struct ps_connect *o,
				struct ps_error *err);
void *ps_conn_arg(struct ps_conn *c);
const char *ps_conn_error(struct ps_conn *c);
int ps_conn_starttls_client(struct ps_conn *c, const struct ps_tls_client *o);
int ps_conn_tls_verified(struct ps_conn *c);

#endif
