/* SASL for every protocol (RFC 4422): the core runs the mechanisms and
 * the password checks; a protocol only frames challenges and responses
 * in its own syntax (SMTP 334, IMAP "+", POP3 "+").
 *
 *   s = ps_sasl_start(c, "PLAIN", initial_or_NULL, fn, arg);
 *   fn(s, PS_SASL_CONTINUE, "base64 challenge", arg)  -> send it, then
 *   ps_sasl_respond(s, client_line, len)               -> fn again ...
 *   fn(s, PS_SASL_OK, NULL, arg)                       -> ps_sasl_user(s)
 *
 * fn always runs on the loop in a later turn, never inside ps_sasl_start,
 * ps_sasl_respond or ps_auth_login, so fn may free s. Verification runs on
 * the thread pool, with the configured failure delay and per-address and
 * per-user failure limits. Free s with ps_sasl_free once fn has reported
 * a final status, or at any time to abandon it. */
#ifndef POSHTA_SASL_H
#define POSHTA_SASL_H

#include <poshta/auth.h>

struct ps_sasl;

/* Statuses passed to ps_sasl_fn. */
#define PS_SASL_OK 0
#define PS_SASL_CONTINUE 1                /* send the challenge */
#define PS_SASL_EDENIED PS_AUTH_EDENIED   /* bad credentials */
#define PS_SASL_EMALFORMED (-120)         /* not base64, bad framing */
#define PS_SASL_EMECH (-121)              /* unknown mechanism */
#define PS_SASL_ECANCEL (-122)            /* the client sent "*" */
#define PS_SASL_ETEMP (-123)              /* backend failure: try later */
#define PS_SASL_ELIMIT (-124)             /* too many failures: wait */
#define PS_SASL_EENCRYPT (-125)           /* mechanism needs TLS here */

/* challenge: base64 for CONTINUE (may be ""), else NULL. */
typedef void (*ps_sasl_fn)(struct ps_sasl *s, int status,
			   const char *challenge, void *arg);

#endif
