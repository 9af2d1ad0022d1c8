/* Password hashes in crypt(3) form, through libxcrypt: new ones with
 * yescrypt, checks of yescrypt, sha512-crypt and bcrypt. The API table's
 * password_hash and password_verify (see <poshta/poshta.h>).
 *
 * Both block for tens of milliseconds by design: call them on a pool
 * thread (ps_loop_submit) or in a tool, never on the loop thread. Both
 * are thread-safe. */
#ifndef PS_CORE_PASSWORD_H
#define PS_CORE_PASSWORD_H

#include <poshta/types.h>

/* A hash of password with a fresh random salt and libxcrypt's default
 * yescrypt cost, into buf (len at least 128). Returns 0, or PS_EINVAL
 * (NULL password, buf too small) or PS_EFAIL with err. */
int ps_password_hash(const char *password, char *buf, size_t len,
		     struct ps_error *err);

/* 1 when password matches hash ("$y$", "$6$", "$2b$" or "$2y$"), else 0.
 * A NULL, malformed or other kind of hash (an unknown or locked user)
 * spends a yescrypt computation all the same and returns 0, so the time
 * taken does not tell whether the user exists. */
int ps_password_verify(const char *hash, const char *password);

#endif
