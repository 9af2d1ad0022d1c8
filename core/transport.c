/* Connection transports: plain sockets and TLS, with the deflate layer
 * (deflate.c) over either. conn.c sees one read and one write. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tls.h"
#include "transport.h"
#include <poshta/types.h>

static ssize_t
plain_result(struct ps_transport *t, ssize_t n, int want, const char *op)
{
	if (n >= 0)
		return n;
	if (errno == EAGAIN)
		return want;
	snprintf(t->err, sizeof(t->err), "%s: %s", op, strerror(errno));
	return PS_TLS_CLOSED;
}

static ssize_t
tls_result(struct ps_transport *t, ssize_t n, const char *op)
{
	if (n == PS_TLS_CLOSED)
		snprintf(t->err, sizeof(t->err), "TLS %s: %s", op,
			 ps_tls_error(t->tls));
	return n;
}

ssize_t
ps_transport_raw_read(struct ps_transport *t, void *buf, size_t len)
{
	ssize_t n;

	if (t->encrypted)
		return tls_result(t, ps_tls_read(t->tls, buf, len), "read");
	while ((n = read(t->fd, buf, len)) < 0 && errno == EINTR)
		continue;
	return plain_result(t, n, PS_TLS_WANT_READ, "read");
}

ssize_t
ps_transport_raw_write(struct ps_transport *t, const void *buf, size_t len)
{
	ssize_t n;

	if (t->encrypted)
		return tls_result(t, ps_tls_write(t->tls, buf, len), "write");
	while ((n = send(t->fd, buf, len, MSG_NOSIGNAL)) < 0 && errno == EINTR)
		continue;
	return plain_result(t, n, PS_TLS_WANT_WRITE, "write");
}

ssize_t
ps_transport_read(struct ps_transport *t, void *buf, size_t len)
{
	return t->z ? ps_deflate_read(t->z, t, buf, len)
		    : ps_transport_raw_read(t, buf, len);
}

ssize_t
ps_transport_write(struct ps_transport *t, const void *buf, size_t len)
{
	return t->z ? ps_deflate_write(t->z, t, buf, len)
		    : ps_transport_raw_write(t, buf, len);
}

ssize_t
ps_transport_flush(struct ps_transport *t)
{
	return t->z ? ps_deflate_flush(t->z, t) : 1;
}

size_t
ps_transport_pending(const struct ps_transport *t)
{
	return t->z ? ps_deflate_pending(t->z) : 0;
}

int
ps_transport_compress(struct ps_transport *t, size_t plain_first,
		      const void *unread, size_t unread_len)
{
	if (t->z)
		return PS_ESTATE;
	t->z = ps_deflate_new(unread, unread_len, plain_first);
	return t->z ? 0 : PS_ENOMEM;
}

void
ps_transport_free(struct ps_transport *t)
{
	ps_deflate_free(t->z);
	t->z = NULL;
	ps_tls_free(t->tls);
	t->tls = NULL;
}
