/* TLS client sessions for outbound connections (see tls_client.c). */
#ifndef PS_CORE_TLS_CLIENT_H
#define PS_CORE_TLS_CLIENT_H

#include <poshta/conn.h>

struct ps_tls;

/* A client session on the connected fd for o (struct ps_tls_client, any
 * size from its verify field on), ready for ps_tls_handshake. Returns 0
 * with *s_r set, or PS_EINVAL (verify without a server_name, a name
 * OpenSSL refuses), PS_EFAIL (the CA file does not load) or PS_ENOMEM,
 * with err. */
int ps_tls_client_new(const struct ps_tls_client *o, int fd,
		      struct ps_tls **s_r, struct ps_error *err);
/* 1 when, after the handshake, the server's chain verified and its name
 * matched the server_name given; 0 otherwise. */
int ps_tls_client_verified(struct ps_tls *s);

#endif
