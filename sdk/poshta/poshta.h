/* The Poshta SDK: include this one header in a module.
 *
 * Every function below is a type-checked inline wrapper around the table
 * the core passed to the module (struct ps_api); none is a symbol to link
 * against. Unless a comment says otherwise, call them on the loop thread
 * (from callbacks, timers, job completions), never from a job's work
 * function. "Since" names the ABI minor that added an entry. */
#ifndef POSHTA_POSHTA_H
#define POSHTA_POSHTA_H

#include <poshta/types.h>
#include <poshta/version.h>
#include <poshta/module.h>
#include <poshta/config.h>
#include <poshta/conn.h>
#include <poshta/hook.h>
#include <poshta/api.h>
#include <poshta/auth.h>
#include <poshta/sasl.h>
#include <poshta/storage.h>

#ifndef PS_CORE

/* ---- Logging (since 1.0) -------------------------------------------- */

static inline void PS_PRINTF(2, 3)
ps_log(enum ps_log_level level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	ps__api->logv(ps__self, NULL, level, fmt, ap);
	va_end(ap);
}

/* Like ps_log, prefixed with the connection's id. End the message with
 * key=value details an operator can grep. */
static inline void PS_PRINTF(3, 4)
ps_conn_log(struct ps_conn *c, enum ps_log_level level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	ps__api->logv(ps__self, c, level, fmt, ap);
	va_end(ap);
}

/* ---- Registration: only from the descriptor's init (since 1.0) ------- */

/* Declare directives (array ended by a NULL name). PS_SCOPE_MODULE ones
 * live in a block named after the module; PS_SCOPE_LISTEN ones inside
 * "listen" blocks of this module's protocols. The array must outlive the
 * module. Returns 0, PS_EEXIST for a name declared twice, PS_ESTATE. */
static inline int
ps_conf_register(enum ps_conf_scope scope, const struct ps_directive *d)
{
	return ps__api->conf_register(ps__self, scope, d);
}

/* Offer a protocol to "listen" blocks. The struct must outlive the module.
 * Returns 0, PS_EEXIST if another module has the name, PS_ESTATE. */
static inline int
ps_protocol_register(const struct ps_protocol *p)
{
	return ps__api->protocol_register(ps__self, p);
}

/* Run fn for event (e.g. "smtp.rcpt") at the given priority. */
static inline int
ps_hook_register(const char *event, int priority, ps_hook_fn fn, void *arg)
{
	return ps__api->hook_register(ps__self, event, priority, fn, arg);
}

/* Publish a table of functions other modules can look up by kind and
 * name ("storage", "sqlite"; "imap.command", "quota"). The table must
 * begin with a size_t holding its own size and outlive the module. */
static inline int
ps_iface_publish(const char *kind, const char *name, const void *table)
{
	return ps__api->iface_publish(ps__self, kind, name, table);
}

/* ---- Config (since 1.0) ---------------------------------------------- */

/* This module's block; every declared directive reads at least its
 * default. Valid from worker_init on (the config is final then). */
static inline const struct ps_conf_section *
ps_conf_module(void)
{
	return ps__api->conf_module(ps__self);
}

/* The top level: state_dir, hostname, ... */
static inline const struct ps_conf_section *
ps_conf_core(void)
{
	return ps__api->conf_core();
}

/* The server's name for greetings and trace headers: the top-level
 * hostname directive, else the system's name, else "localhost" (since
 * 1.3). */
static inline const char *
ps_hostname(void)
{
	return ps__api->hostname();
}

/* The index-th value of a directive (0 for single ones), or NULL when it
 * was not given and has no default. */
static inline const struct ps_conf_value *
ps_conf_get(const struct ps_conf_section *s, const char *name, size_t index)
{
	return ps__api->conf_get(s, name, index);
}

static inline size_t
ps_conf_count(const struct ps_conf_section *s, const char *name)
{
	return ps__api->conf_count(s, name);
}

static inline const char *
ps_conf_str(const struct ps_conf_section *s, const char *name)
{
	const struct ps_conf_value *v = ps_conf_get(s, name, 0);
	return v ? v->str : NULL;
}

static inline long long
ps_conf_num(const struct ps_conf_section *s, const char *name)
{
	const struct ps_conf_value *v = ps_conf_get(s, name, 0);
	return v ? v->num : 0;
}

/* ---- Blocks inside the module's block (since 1.5) -------------------- */

/* Declare a block allowed inside this module's own block, from init, like
 * ps_conf_register; b is copied, what it points to must outlive the
 * module. Its directives are validated at load like the module's own, and
 * their defaults apply inside each block. Returns 0, PS_EEXIST when a
 * directive or block of the module has the name, PS_EINVAL for a bad
 * declaration, PS_ESTATE outside init, PS_ENOENT before 1.5. */
static inline int
ps_conf_register_block(const struct ps_conf_block *b)
{
	if (!PS_API_HAS(conf_register_block))
		return PS_ENOENT;
	return ps__api->conf_register_block(ps__self, b);
}

/* How many blocks called name s holds (0 before 1.5). */
static inline size_t
ps_conf_block_count(const struct ps_conf_section *s, const char *name)
{
	if (!PS_API_HAS(conf_block_count))
		return 0;
	return ps__api->conf_block_count(s, name);
}

/* The index-th block called name, in file order: its own section, to read
 * with ps_conf_get, ps_conf_str, ps_conf_num and ps_conf_count; and, when
 * args_r is not NULL, its arguments as one value (str, num, words as for
 * a directive of the declared type; nwords 0 when it takes none). Both
 * live as long as s. NULL when there is no such block (or before 1.5). */
static inline const struct ps_conf_section *
ps_conf_block(const struct ps_conf_section *s, const char *name, size_t index,
	      const struct ps_conf_value **args_r)
{
	if (args_r)
		*args_r = NULL;
	if (!PS_API_HAS(conf_block))
		return NULL;
	return ps__api->conf_block(s, name, index, args_r);
}

/* ---- The worker (since 1.5) ------------------------------------------- */

/* 1 once this worker is on its way out: shutting down (SIGTERM), or
 * retiring after a reload, when it exits as soon as its connections are
 * gone. Work of a module's own (a queue runner's leases, outbound
 * connections) should not start then, or a retiring worker never ends;
 * ps_conn_connect fails on shutdown anyway. 0 before 1.5 and outside a
 * worker. */
static inline int
ps_worker_stopping(void)
{
	if (!PS_API_HAS(worker_stopping))
		return 0;
	return ps__api->worker_stopping();
}

/* ---- Hooks and interfaces (since 1.0) -------------------------------- */

/* Run the chain for event; done gets the verdict exactly once, maybe
 * before this returns. data is the area owner's event struct. */
static inline void
ps_hook_run(const char *event, struct ps_conn *c, void *data,
	    ps_hook_done_fn done, void *arg)
{
	ps__api->hook_run(event, c, data, done, arg);
}

static inline void *
ps_hook_data(struct ps_hook_call *call)
{
	return ps__api->hook_data(call);
}

static inline struct ps_conn *
ps_hook_conn(struct ps_hook_call *call)
{
	return ps__api->hook_conn(call);
}

/* Set the reply text that goes with REJECT or DEFER (copied). */
static inline void
ps_hook_reply(struct ps_hook_call *call, const char *reply)
{
	ps__api->hook_reply(call, reply);
}

/* Finish a handler that returned PS_HOOK_PENDING, on the loop thread. */
static inline void
ps_hook_resume(struct ps_hook_call *call, int verdict)
{
	ps__api->hook_resume(call, verdict);
}

/* Copy the table published as kind/name (name NULL: the first of that
 * kind) into buf, zero-filling what an older publisher lacks. Returns 0 or
 * PS_ENOENT. */
static inline int
ps_iface_get(const char *kind, const char *name, void *buf, size_t bufsize)
{
	return ps__api->iface_get(kind, name, buf, bufsize);
}

/* ---- Loop: time, timers, jobs, bus (since 1.0) ----------------------- */

/* Monotonic milliseconds, cached once per loop turn. */
static inline uint64_t
ps_now_ms(void)
{
	return ps__api->now_ms();
}

/* Call fn(arg) once, ms from now. The handle is valid until fn runs or
 * ps_timer_cancel; NULL if out of memory. */
static inline struct ps_timer *
ps_timer_add(uint64_t ms, ps_timer_fn fn, void *arg)
{
	return ps__api->timer_add(ms, fn, arg);
}

static inline void
ps_timer_cancel(struct ps_timer *t)
{
	ps__api->timer_cancel(t);
}

/* Run work(arg) on the worker's thread pool (it may block: disk, fsync,
 * password hashing), then done(arg) on the loop thread. work must not
 * call the SDK. Returns 0 or PS_ENOMEM. */
static inline int
ps_job_submit(ps_job_fn work, ps_job_fn done, void *arg)
{
	return ps__api->job_submit(work, done, arg);
}

/* Send data to every worker subscribed to a prefix of topic, this one
 * included, through the master. Delivery is asynchronous and in order per
 * sender. len is at most 64 KiB. Callable from any thread, a job's work
 * function included (since 1.1). */
static inline int
ps_bus_publish(const char *topic, const void *data, size_t len)
{
	return ps__api->bus_publish(topic, data, len);
}

/* Deliver topic and data to this worker's own subscribers only, at once,
 * as if it had come over the bus. For changes a module learns of from
 * outside the server, such as a shared database's notifications, which
 * every worker hears for itself: ps_bus_publish would hand each notice to
 * every worker once per listener. On the loop thread only; PS_ESTATE
 * elsewhere and before 1.6. */
static inline int
ps_bus_publish_local(const char *topic, const void *data, size_t len)
{
	if (!PS_API_HAS(bus_publish_local))
		return PS_ESTATE;
	return ps__api->bus_publish_local(topic, data, len);
}

static inline int
ps_bus_subscribe(const char *prefix, ps_bus_fn fn, void *arg)
{
	return ps__api->bus_subscribe(ps__self, prefix, fn, arg);
}

/* ---- Connections (since 1.0) ----------------------------------------- */

/* Queue bytes for the client. Never blocks; check ps_conn_pending() and
 * wait for on_drain before writing large amounts. */
static inline int
ps_conn_write(struct ps_conn *c, const void *data, size_t len)
{
	return ps__api->conn_write(c, data, len);
}

static inline int PS_PRINTF(2, 3)
ps_conn_printf(struct ps_conn *c, const char *fmt, ...)
{
	va_list ap;
	int r;
	va_start(ap, fmt);
	r = ps__api->conn_vprintf(c, fmt, ap);
	va_end(ap);
	return r;
}

/* Bytes queued and not yet sent. */
static inline size_t
ps_conn_pending(struct ps_conn *c)
{
	return ps__api->conn_pending(c);
}

/* Deliver the next n input bytes to on_bytes (IMAP literals, SMTP BDAT),
 * then go back to lines. */
static inline int
ps_conn_read_bytes(struct ps_conn *c, size_t n)
{
	return ps__api->conn_read_bytes(c, n);
}

/* Stop and restart handing input to the protocol (e.g. while a job or a
 * hook is pending). Input is kept, up to the buffer bound. */
static inline void
ps_conn_pause(struct ps_conn *c)
{
	ps__api->conn_pause(c);
}

static inline void
ps_conn_resume(struct ps_conn *c)
{
	ps__api->conn_resume(c);
}

/* Start TLS after queueing the "go ahead" reply: the core flushes it,
 * discards every byte the client sent before the handshake, shakes hands
 * and calls on_tls. PS_ESTATE if TLS is active or not offered here. */
static inline int
ps_conn_starttls(struct ps_conn *c)
{
	return ps__api->conn_starttls(c);
}

/* Close after the queued output is flushed; on_close follows. */
static inline void
ps_conn_close(struct ps_conn *c)
{
	ps__api->conn_close(c);
}

/* Keep c's memory valid across an asynchronous operation; pair with
 * ps_conn_release. Check ps_conn_closing() when the operation ends. */
static inline void
ps_conn_hold(struct ps_conn *c)
{
	ps__api->conn_hold(c);
}

static inline void
ps_conn_release(struct ps_conn *c)
{
	ps__api->conn_release(c);
}

static inline int
ps_conn_closing(struct ps_conn *c)
{
	return ps__api->conn_closing(c);
}

/* Idle timeout for this connection; 0 turns it off. */
static inline void
ps_conn_set_timeout(struct ps_conn *c, uint64_t ms)
{
	ps__api->conn_set_timeout(c, ms);
}

static inline void
ps_conn_set_max_line(struct ps_conn *c, size_t max)
{
	ps__api->conn_set_max_line(c, max);
}

/* PS_TLS_* bits. */
static inline unsigned
ps_conn_tls(struct ps_conn *c)
{
	return ps__api->conn_tls(c);
}

/* "TLSv1.3 TLS_AES_256_GCM_SHA384", or NULL in plain text. */
static inline const char *
ps_conn_tls_info(struct ps_conn *c)
{
	return ps__api->conn_tls_info(c);
}

/* A short id unique in this server's lifetime, as in the logs. */
static inline const char *
ps_conn_id(struct ps_conn *c)
{
	return ps__api->conn_id(c);
}

/* The client's address as text, without port. */
static inline const char *
ps_conn_peer(struct ps_conn *c)
{
	return ps__api->conn_peer(c);
}

/* The name of the listen block the client came in on; "-" for an
 * outbound connection. */
static inline const char *
ps_conn_listener(struct ps_conn *c)
{
	return ps__api->conn_listener(c);
}

/* That listen block, with PS_SCOPE_LISTEN directives; NULL for an
 * outbound connection (ps_conf_get and ps_conf_str read nothing there). */
static inline const struct ps_conf_section *
ps_conn_conf(struct ps_conn *c)
{
	return ps__api->conn_conf(c);
}

/* This module's pointer-sized slot on c (for modules that are not the
 * connection's protocol, e.g. filters). Starts NULL. */
static inline void **
ps_conn_slot(struct ps_conn *c)
{
	return ps__api->conn_slot(c, ps__self);
}

/* ---- Passwords (since 1.1) ------------------------------------------ */

/* Hash a new password with yescrypt into buf (at least 128 bytes).
 * Blocks for tens of milliseconds: call from a job's work function (or a
 * tool). Returns 0 or negative with err. Any thread. */
static inline int
ps_password_hash(const char *password, char *buf, size_t len,
		 struct ps_error *err)
{
	return ps__api->password_hash(password, buf, len, err);
}

/* 1 when password matches hash (yescrypt "$y$", sha512-crypt "$6$" or
 * bcrypt "$2b$"), else 0, comparing in constant time. hash NULL (an
 * unknown user) costs the same time and returns 0. Blocks; any thread. */
static inline int
ps_password_verify(const char *hash, const char *password)
{
	return ps__api->password_verify(hash, password);
}

/* ---- SASL and logins (since 1.1), see <poshta/sasl.h> ---------------- */

/* The mechanisms offered on c now, space-separated ("PLAIN LOGIN"), or ""
 * when none is allowed (plaintext mechanisms before TLS on a listener
 * with auth_plaintext tls). */
static inline const char *
ps_sasl_mechanisms(struct ps_conn *c)
{
	return ps__api->sasl_mechanisms(c);
}

/* Start mechanism mech (any case) with the base64 initial response
 * (RFC 4954 4, "=" for an empty one) or NULL. NULL only when out of
 * memory; every other outcome reaches fn, in a later loop turn. */
static inline struct ps_sasl *
ps_sasl_start(struct ps_conn *c, const char *mech, const char *initial,
	      ps_sasl_fn fn, void *arg)
{
	return ps__api->sasl_start(c, mech, initial, fn, arg);
}

/* The client's answer to a challenge: a base64 line, or "*" to cancel. */
static inline void
ps_sasl_respond(struct ps_sasl *s, const char *line, size_t len)
{
	ps__api->sasl_respond(s, line, len);
}

/* The authenticated user (canonical), after PS_SASL_OK; else NULL. */
static inline const char *
ps_sasl_user(struct ps_sasl *s)
{
	return ps__api->sasl_user(s);
}

static inline void
ps_sasl_free(struct ps_sasl *s)
{
	ps__api->sasl_free(s);
}

/* A plain user name and password (IMAP LOGIN, POP3 USER/PASS) through the
 * same checks, delay and limits as SASL; the result reaches fn. */
static inline struct ps_sasl *
ps_auth_login(struct ps_conn *c, const char *user, const char *password,
	      ps_sasl_fn fn, void *arg)
{
	return ps__api->auth_login(c, user, password, fn, arg);
}

/* ---- Compression (since 1.2) ----------------------------------------- */

/* Compress the connection both ways with raw deflate (RFC 1951), as IMAP
 * COMPRESS=DEFLATE (RFC 4978) asks: call it from on_line right after
 * queueing the reply that agrees, which still goes out as it is; every
 * later byte either way is compressed. STARTTLS is refused afterwards.
 * PS_ESTATE if compression is on already or the connection is closing;
 * PS_ENOENT from a core older than 1.2. */
static inline int
ps_conn_compress(struct ps_conn *c)
{
	if (!PS_API_HAS(conn_compress))
		return PS_ENOENT;
	return ps__api->conn_compress(c);
}

/* ---- Outbound connections (since 1.4) -------------------------------- */

/* Connect to o->address (numeric IPv4 or IPv6; resolve names first) and
 * drive the connection with p exactly as the core drives a server
 * protocol: on_open once connected (for PS_CONNECT_TLS once the handshake
 * is done), on_line for each line the server sends, on_bytes, on_drain,
 * on_tls after ps_conn_starttls_client, on_timeout, and on_close exactly
 * once, also when the connection never opened. p need not be registered
 * and should not be: a registered protocol is one "listen" can name. The
 * core copies p and o; session_size bytes are the connection's session as
 * for an accepted one. Writing before on_open queues the bytes.
 *
 * Returns the connection at once, connect in progress, or NULL with err
 * when nothing was started: not a numeric address, a bad source, TLS
 * options that cannot be used (CA file unreadable, verify without a
 * server_name), out of memory, not in a worker, or the worker shutting
 * down. Every network failure (refused, unreachable, timed out, TLS)
 * arrives later as on_close, with ps_conn_error saying why. Client
 * connections are shut down with the worker like accepted ones
 * (on_shutdown if set, else closed between commands). A module that
 * also loads in older cores tests PS_API_HAS(conn_connect) first. */
static inline struct ps_conn *
ps_conn_connect(const struct ps_protocol *p, const struct ps_connect *o,
		struct ps_error *err)
{
	return ps__api->conn_connect(ps__self, p, o, err);
}

/* The arg given in struct ps_connect; NULL for an accepted connection. */
static inline void *
ps_conn_arg(struct ps_conn *c)
{
	return ps__api->conn_arg(c);
}

/* Why the connection is closing, for on_close and its log line:
 * "connection refused", "timed out", "TLS: hostname mismatch", "TLS:
 * certificate verify failed: self-signed certificate", "closed by the
 * peer", "closed" (ps_conn_close), ... NULL while it is not closing. Valid
 * until on_close returns. */
static inline const char *
ps_conn_error(struct ps_conn *c)
{
	return ps__api->conn_error(c);
}

/* STARTTLS as the client (RFC 3207 4.2 and the like), called once the
 * server's go-ahead arrived (typically from on_line): input already
 * buffered behind that line, which the server may have sent in the same
 * packet, is discarded; the queue is flushed; the handshake runs with o
 * (copied); then on_tls, or on_close with the reason. Write nothing in
 * between. Returns 0, PS_ESTATE (not an outbound connection, TLS already
 * on or started, closing, compressed), or PS_EINVAL / PS_EFAIL /
 * PS_ENOMEM when o cannot be used (logged with the connection id); the
 * connection then goes on in plain text. PS_ENOENT before 1.4. */
static inline int
ps_conn_starttls_client(struct ps_conn *c, const struct ps_tls_client *o)
{
	if (!PS_API_HAS(conn_starttls_client))
		return PS_ENOENT;
	return ps__api->conn_starttls_client(c, o);
}

/* 1 when TLS is up on an outbound connection and the server's chain
 * verified against the CA file (or system store) and its certificate
 * matched server_name; 0 otherwise, also with verify off (opportunistic
 * TLS still learns what a check found) and on accepted connections. */
static inline int
ps_conn_tls_verified(struct ps_conn *c)
{
	return ps__api->conn_tls_verified(c);
}

/* ---- Watching file descriptors (since 1.4) --------------------------- */

/* Call fn(fd, ready, arg) on the loop thread while fd is ready for
 * events (PS_WATCH_READ | PS_WATCH_WRITE; 0 keeps it silent), level-
 * triggered; ready may add PS_WATCH_ERROR. For descriptors the module
 * owns (a resolver library's sockets), never a connection's; one watch
 * per fd. Remove the watch before closing fd. From worker_init on, on the
 * loop thread. NULL on bad arguments, out of memory, in the master, or
 * before 1.4. */
static inline struct ps_watch *
ps_watch_add(int fd, unsigned events, ps_watch_fn fn, void *arg)
{
	if (!PS_API_HAS(watch_add))
		return NULL;
	return ps__api->watch_add(fd, events, fn, arg);
}

/* Change what w waits for. Returns 0 or PS_EINVAL / PS_EIO / PS_ENOMEM. */
static inline int
ps_watch_set(struct ps_watch *w, unsigned events)
{
	return ps__api->watch_set(w, events);
}

/* Stop watching and free w (NULL: nothing). Safe inside w's own callback:
 * events already fetched for it are not delivered. */
static inline void
ps_watch_remove(struct ps_watch *w)
{
	ps__api->watch_remove(w);
}

#endif /* PS_CORE */
#endif
