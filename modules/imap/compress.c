/* COMPRESS=DEFLATE (RFC 4978): after the tagged OK both directions are a
 * raw deflate stream, which the core runs under the session (TLS, if any,
 * stays outside it). Only after login (3: compressing before
 * authentication gives nothing and helps attacks on TLS). */
#include "imapd.h"

int
imap_cmd_compress(struct imap_session *s)
{
	if (s->nargs != 1 || !imap_arg_is_atom(&s->args[0], "DEFLATE"))
		return imap_bad(s, "Only COMPRESS DEFLATE is supported");
	if (s->compressed)
		return imap_no(s, "COMPRESSIONACTIVE", "Compression is "
			       "active already");
	/* The OK goes out as it is; everything after it is compressed. */
	imap_ok(s, "DEFLATE active");
	if (ps_conn_compress(s->conn) < 0) {
		imap_goodbye(s, "Cannot start compression");
		return 0;
	}
	s->compressed = 1;
	return 0;
}
