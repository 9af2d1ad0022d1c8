/* SASL exchanges and password logins for protocol modules (the API
 * table's sasl_* and auth_login, see <poshta/sasl.h>), and the interface a
 * mechanism implements to be one entry of the table in sasl.c.
 *
 * Semantics the SDK comments leave open:
 *
 * - fn is never called inside ps_sasl_start, ps_sasl_respond or
 *   ps_auth_login: always from the loop, on a later turn, so fn may free
 *   the exchange. A protocol still pauses its input until fn comes.
 * - While a timer or a pool job of the exchange is pending, it holds the
 *   connection; fn may thus find it closing (then write nothing).
 * - A response without an outstanding challenge is ignored, with a
 *   warning: it is the module's bug, not the client's.
 * - Statuses: EMECH, EENCRYPT, EMALFORMED and ECANCEL at once; ELIMIT at
 *   once without asking the backend; EDENIED after auth_failure_delay;
 *   ETEMP when no backend is loaded or it fails. A PLAIN authzid other
 *   than the authcid is EDENIED (no proxy authorisation).
 * - ps_sasl_free is safe at any time, from fn too: a pending report is
 *   cancelled, and a verification on the pool finishes on its own. */
#ifndef PS_CORE_SASL_H
#define PS_CORE_SASL_H

#include <poshta/sasl.h>

struct ps_conn;

/* The longest client response or initial response, decoded. */
#define PS_SASL_MAX 4096
/* RFC 4616 section 2 bounds authcid and passwd; LOGIN and plain logins
 * take the same bounds. */
#define PS_SASL_FIELD_MAX 255

const char *ps_sasl_mechanisms(struct ps_conn *c);
struct ps_sasl *ps_sasl_start(struct ps_conn *c, const char *mech,
			      const char *initial, ps_sasl_fn fn, void *arg);
void ps_sasl_respond(struct ps_sasl *s, const char *line, size_t len);
const char *ps_sasl_user(struct ps_sasl *s);
void ps_sasl_free(struct ps_sasl *s);
struct ps_sasl *ps_auth_login(struct ps_conn *c, const char *user,
			      const char *password, ps_sasl_fn fn, void *arg);

/* A mechanism. start gets the decoded initial response (in NULL: the
 * client sent none), step each decoded response. Each either asks for
 * more with ps_sasl_challenge, hands credentials to ps_sasl_verify or
 * ps_sasl_deny, and returns PS_AGAIN, or returns a final negative
 * PS_SASL_* status. The core zeroes state_size bytes of state per
 * exchange and wipes them at the end. A mechanism needing another kind
 * of backend check (SCRAM-SHA-256, RFC 7677: a stored key) is added as
 * one more entry with its own check; protocols do not change. */
struct ps_sasl_mech {
	const char *name;  /* upper case, RFC 4422 section 3.1 */
	int plaintext;     /* the password crosses the wire: needs TLS
			    * unless the listener says auth_plaintext allow */
	size_t state_size;
	int (*start)(struct ps_sasl *s, void *state, const unsigned char *in,
		     size_t len);
	int (*step)(struct ps_sasl *s, void *state, const unsigned char *in,
		    size_t len);
};

/* RFC 4616 and draft-murchison-sasl-login, in sasl_plain.c. */
extern const struct ps_sasl_mech ps_sasl_plain, ps_sasl_login;

/* 1 when p holds 1..PS_SASL_FIELD_MAX octets of UTF-8 without NUL. */
int ps_sasl_field_ok(const void *p, size_t n);
/* Send data to the client as the next challenge. Returns PS_AGAIN, or
 * PS_SASL_ETEMP when out of memory. */
int ps_sasl_challenge(struct ps_sasl *s, const void *data, size_t len);
/* Check user and password (each 1..PS_SASL_FIELD_MAX octets of UTF-8
 * without NUL, else PS_SASL_EMALFORMED) against the failure limits and
 * the auth backend on the pool. Returns PS_AGAIN or a final status. */
int ps_sasl_verify(struct ps_sasl *s, const char *user, size_t ulen,
		   const char *password, size_t plen);
/* Fail user without asking the backend (reason for the log), counted and
 * delayed like a wrong password. Returns PS_AGAIN or a final status. */
int ps_sasl_deny(struct ps_sasl *s, const char *user, size_t ulen,
		 const char *reason);

#endif
