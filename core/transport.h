/* The bytes under a connection: the socket, TLS over it once the
 * handshake is done, and raw deflate (RFC 1951) over either once the
 * protocol asks for it (IMAP COMPRESS=DEFLATE, RFC 4978). */
#ifndef PS_TRANSPORT_H
#define PS_TRANSPORT_H

#include <stddef.h>
#include <sys/types.h>

struct ps_tls;
struct ps_deflate;

struct ps_transport {
	int fd;
	struct ps_tls *tls;    /* set from the handshake on */
	int encrypted;         /* the handshake is done: TLS carries data */
	struct ps_deflate *z;  /* compression, when started */
	char err[192];         /* why the last call failed */
};

/* Bytes moved (> 0), 0 at the end of input, PS_TLS_WANT_READ or
 * PS_TLS_WANT_WRITE (the fd event to wait for), or PS_TLS_CLOSED with err
 * set. A write that returned PS_TLS_WANT_* is retried with at least the
 * same bytes. */
ssize_t ps_transport_read(struct ps_transport *t, void *buf, size_t len);
ssize_t ps_transport_write(struct ps_transport *t, const void *buf,
			   size_t len);
/* Push out what the compression layer holds: 1 when nothing is left,
 * else as ps_transport_write. */
ssize_t ps_transport_flush(struct ps_transport *t);
/* Octets the compression layer holds for the socket. */
size_t ps_transport_pending(const struct ps_transport *t);
/* Start compressing: the next plain_first octets written go out as they
 * are (the reply that agreed to it), everything after compressed; unread
 * (octets read past the command that asked) is compressed input. 0 or
 * PS_ENOMEM. */
int ps_transport_compress(struct ps_transport *t, size_t plain_first,
			  const void *unread, size_t unread_len);
/* Free TLS and compression state (not the fd). */
void ps_transport_free(struct ps_transport *t);

/* The layer below compression: plain or TLS. For deflate.c. */
ssize_t ps_transport_raw_read(struct ps_transport *t, void *buf, size_t len);
ssize_t ps_transport_raw_write(struct ps_transport *t, const void *buf,
			       size_t len);

/* deflate.c */
struct ps_deflate *ps_deflate_new(const void *unread, size_t unread_len,
				  size_t plain_first);
void ps_deflate_free(struct ps_deflate *z);
ssize_t ps_deflate_read(struct ps_deflate *z, struct ps_transport *t,
			void *buf, size_t len);
ssize_t ps_deflate_write(struct ps_deflate *z, struct ps_transport *t,
			 const void *buf, size_t len);
ssize_t ps_deflate_flush(struct ps_deflate *z, struct ps_transport *t);
size_t ps_deflate_pending(const struct ps_deflate *z);

#endif
