/* libpsauth's password hashes as a backend stores them: crypt(3)
 * strings (the core hashes and verifies), checked for shape only, and
 * wiped from memory when a copy is no longer needed. */
#include <stdlib.h>
#include <string.h>

#include "authkit.h"

int
authkit_hash_check(const char *hash, struct ps_error *err)
{
	size_t len = strnlen(hash, AUTHKIT_HASH_MAX + 1);

	if (len == 0 || len > AUTHKIT_HASH_MAX)
		return authkit_fail(err, PS_EINVAL, "password hash empty or "
				    "longer than %d bytes", AUTHKIT_HASH_MAX);
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)hash[i] <= ' ' ||
		    (unsigned char)hash[i] >= 0x7f)
			return authkit_fail(err, PS_EINVAL, "password hash "
					    "holds a space or control byte");
	return 0;
}

void
authkit_hash_free(char *hash)
{
	if (hash) {
		explicit_bzero(hash, strlen(hash));
		free(hash);
	}
}
