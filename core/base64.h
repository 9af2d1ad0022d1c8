/* Base64 (RFC 4648 section 4) for SASL exchanges: encoding challenges and
 * strictly decoding what clients send. */
#ifndef PS_CORE_BASE64_H
#define PS_CORE_BASE64_H

#include <stddef.h>

/* Bytes needed to encode n bytes, with the NUL. */
#define PS_BASE64_ENCODED(n) (((n) + 2) / 3 * 4 + 1)

/* Encode len bytes of in into out (PS_BASE64_ENCODED(len) bytes), padded
 * and NUL-terminated. Returns the length without the NUL. */
size_t ps_base64_encode(const void *in, size_t len, char *out);

/* Decode len characters of in into out (room for len / 4 * 3 bytes).
 * Strict, as RFC 4648 section 3 lets a decoder be: only the alphabet, no
 * spaces or line breaks, a length that is a multiple of 4, "=" padding
 * only at the end, and zero bits after the last byte (section 3.5), so
 * every byte string has exactly one accepted form. Returns the number of
 * bytes, or -1. */
long ps_base64_decode(const char *in, size_t len, unsigned char *out);

#endif
