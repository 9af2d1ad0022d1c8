/* Raw deflate (RFC 1951) over a connection's transport, for protocols
 * that negotiate compression (IMAP COMPRESS=DEFLATE, RFC 4978 3: "the
 * deflate stream ... with no header or trailer", flushed at the end of
 * every write so the peer never waits for a block). Memory per
 * connection stays small for thousands of them: the server compresses
 * with a 4 KiB window and memLevel 5 (about 32 KiB), which any inflater
 * reads; it must inflate with the full 32 KiB window the client may use.
 * Output is compressed at most OUT_STEP octets at a time, so what waits
 * for the socket is bounded too. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "tls.h"
#include "transport.h"

#define IN_CHUNK 4096
#define OUT_STEP 16384
#define WINDOW_IN 15  /* RFC 1951's largest: the client's choice */
#define WINDOW_OUT 12
#define MEMLEVEL_OUT 5

struct ps_deflate {
	z_stream zi, zo;
	size_t plain_first;     /* octets still to go out uncompressed */
	unsigned char *in;      /* compressed input not yet inflated */
	size_t in_cap, in_off, in_len;
	int in_more;            /* inflate may give more without input */
	int in_end;             /* the peer ended its stream */
	unsigned char *out;     /* compressed output not yet written */
	size_t out_cap, out_off, out_len;
};

struct ps_deflate *
ps_deflate_new(const void *unread, size_t unread_len, size_t plain_first)
{
	struct ps_deflate *z = calloc(1, sizeof(*z));

	if (!z)
		return NULL;
	z->in_cap = unread_len > IN_CHUNK ? unread_len : IN_CHUNK;
	z->in = malloc(z->in_cap);
	if (!z->in || inflateInit2(&z->zi, -WINDOW_IN) != Z_OK) {
		free(z->in);
		free(z);
		return NULL;
	}
	if (deflateInit2(&z->zo, Z_DEFAULT_COMPRESSION, Z_DEFLATED,
			 -WINDOW_OUT, MEMLEVEL_OUT, Z_DEFAULT_STRATEGY) != Z_OK) {
		inflateEnd(&z->zi);
		free(z->in);
		free(z);
		return NULL;
	}
	memcpy(z->in, unread, unread_len);
	z->in_len = unread_len;
	z->plain_first = plain_first;
	return z;
}

void
ps_deflate_free(struct ps_deflate *z)
{
	if (!z)
		return;
	inflateEnd(&z->zi);
	deflateEnd(&z->zo);
	free(z->in);
	free(z->out);
	free(z);
}

/* Inflate what is buffered into buf: octets produced, 0 when nothing
 * came out, PS_TLS_CLOSED for a corrupt stream. */
static ssize_t
inflate_some(struct ps_deflate *z, struct ps_transport *t, void *buf,
	     size_t len)
{
	size_t used, got;
	int r;

	z->zi.next_in = z->in + z->in_off;
	z->zi.avail_in = (uInt)z->in_len;
	z->zi.next_out = buf;
	z->zi.avail_out = (uInt)len;
	r = inflate(&z->zi, Z_SYNC_FLUSH);
	used = z->in_len - z->zi.avail_in;
	got = len - z->zi.avail_out;
	z->in_off += used;
	z->in_len -= used;
	z->in_more = z->zi.avail_out == 0;
	if (r == Z_STREAM_END)
		z->in_end = 1;
	else if (r != Z_OK && r != Z_BUF_ERROR) {
		snprintf(t->err, sizeof(t->err), "inflate: %s",
			 z->zi.msg ? z->zi.msg : "corrupt stream");
		return PS_TLS_CLOSED;
	}
	return (ssize_t)got;
}

ssize_t
ps_deflate_read(struct ps_deflate *z, struct ps_transport *t, void *buf,
		size_t len)
{
	for (;;) {
		ssize_t n;

		if (z->in_len || z->in_more) {
			n = inflate_some(z, t, buf, len);
			if (n != 0)
				return n;
		}
		if (z->in_end)
			return 0;
		/* Keep what inflate did not take, read more behind it. */
		memmove(z->in, z->in + z->in_off, z->in_len);
		z->in_off = 0;
		if (z->in_len == z->in_cap) {
			snprintf(t->err, sizeof(t->err), "inflate: stalled");
			return PS_TLS_CLOSED;
		}
		n = ps_transport_raw_read(t, z->in + z->in_len,
					  z->in_cap - z->in_len);
		if (n <= 0)
			return n;
		z->in_len += (size_t)n;
	}
}

ssize_t
ps_deflate_flush(struct ps_deflate *z, struct ps_transport *t)
{
	while (z->out_len) {
		ssize_t n = ps_transport_raw_write(t, z->out + z->out_off,
						   z->out_len);

		if (n <= 0)
			return n;
		z->out_off += (size_t)n;
		z->out_len -= (size_t)n;
	}
	return 1;
}

size_t
ps_deflate_pending(const struct ps_deflate *z)
{
	return z->out_len;
}

/* Compress up to OUT_STEP octets of buf, flushed; the octets taken count
 * as written even before the socket has them (ps_deflate_pending). */
ssize_t
ps_deflate_write(struct ps_deflate *z, struct ps_transport *t,
		 const void *buf, size_t len)
{
	ssize_t n = ps_deflate_flush(z, t);
	size_t need;

	if (n <= 0)
		return n;
	if (z->plain_first) {
		n = ps_transport_raw_write(t, buf, len < z->plain_first
						   ? len : z->plain_first);
		if (n > 0)
			z->plain_first -= (size_t)n;
		return n;
	}
	if (len > OUT_STEP)
		len = OUT_STEP;
	need = deflateBound(&z->zo, len) + 64;
	if (need > z->out_cap) {
		unsigned char *p = realloc(z->out, need);

		if (!p) {
			snprintf(t->err, sizeof(t->err), "deflate: out of "
				 "memory");
			return PS_TLS_CLOSED;
		}
		z->out = p;
		z->out_cap = need;
	}
	z->zo.next_in = (unsigned char *)buf;
	z->zo.avail_in = (uInt)len;
	z->zo.next_out = z->out;
	z->zo.avail_out = (uInt)z->out_cap;
	if (deflate(&z->zo, Z_SYNC_FLUSH) != Z_OK || z->zo.avail_in) {
		snprintf(t->err, sizeof(t->err), "deflate failed");
		return PS_TLS_CLOSED;
	}
	z->out_off = 0;
	z->out_len = z->out_cap - z->zo.avail_out;
	n = ps_deflate_flush(z, t);
	return n == PS_TLS_CLOSED ? n : (ssize_t)len;
}
