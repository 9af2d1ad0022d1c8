/* Base64 as RFC 4648 section 4 defines it, for SASL (RFC 4422 section 3,
 * framed by RFC 4954 section 4 and its IMAP and POP3 kin). The decoder
 * refuses everything section 3 lets an implementation refuse: a client
 * that cannot encode its credentials has nothing to say to us. */
#include "config.h"

#include "base64.h"

static const char alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t
ps_base64_encode(const void *in, size_t len, char *out)
{
	const unsigned char *p = in;
	size_t o = 0;

	for (size_t i = 0; i < len; i += 3) {
		unsigned v = (unsigned)p[i] << 16;

		if (i + 1 < len)
			v |= (unsigned)p[i + 1] << 8;
		if (i + 2 < len)
			v |= p[i + 2];
		out[o++] = alphabet[v >> 18];
		out[o++] = alphabet[(v >> 12) & 63];
		out[o++] = i + 1 < len ? alphabet[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < len ? alphabet[v & 63] : '=';
	}
	out[o] = '\0';
	return o;
}

/* The 6-bit value of c, or -1 outside the alphabet ("=" included). */
static int
value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

long
ps_base64_decode(const char *in, size_t len, unsigned char *out)
{
	size_t pad = 0, o = 0;
	unsigned v = 0;

	if (len % 4)
		return -1;
	/* At most two "=", and only as the last characters. */
	while (pad < 2 && pad < len && in[len - 1 - pad] == '=')
		pad++;
	for (size_t i = 0; i < len - pad; i++) {
		int d = value(in[i]);

		if (d < 0)
			return -1;
		v = (v << 6) | (unsigned)d;
		if (i % 4 == 3) {
			out[o++] = (unsigned char)(v >> 16);
			out[o++] = (unsigned char)(v >> 8);
			out[o++] = (unsigned char)v;
			v = 0;
		}
	}
	/* A padded last group: 2 or 3 characters carry 1 or 2 bytes, and
	 * the bits below them must be zero (section 3.5). */
	if (pad == 2) {
		if (v & 0xf)
			return -1;
		out[o++] = (unsigned char)(v >> 4);
	} else if (pad == 1) {
		if (v & 0x3)
			return -1;
		out[o++] = (unsigned char)(v >> 10);
		out[o++] = (unsigned char)(v >> 2);
	}
	return (long)o;
}
