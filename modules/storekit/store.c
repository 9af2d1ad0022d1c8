/* STORE's arguments for every storage backend (RFC 3501 6.4.6): a mode
 * the SDK knows, flags it knows (\Recent is the server's and ignored, as
 * storage.h says), and keywords that are atoms. */
#include "storekit.h"

int
pst_store_check(enum ps_store_mode mode, unsigned flags,
		const char *const *kw, size_t nkw, struct ps_error *err)
{
	if (mode < PS_STORE_ADD || mode > PS_STORE_REPLACE)
		return pst_err(err, PS_EINVAL, "unknown store mode %d", mode);
	if (flags & ~(PS_FLAGS_STORED | PS_FLAG_RECENT))
		return pst_err(err, PS_EINVAL, "unknown flags 0x%x", flags);
	return pst_kw_check(kw, nkw, err);
}
