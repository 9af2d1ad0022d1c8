/* An appended message's flags, time zone and keywords: checked, and the
 * keywords made the text a backend stores, the same way everywhere. */
#include <stdlib.h>
#include <string.h>

#include "storekit.h"

int
pst_append_check(unsigned flags, const char *const *kw, size_t n, int tz,
		 struct ps_error *err)
{
	if (flags & ~(PS_FLAGS_STORED | PS_FLAG_RECENT))
		return pst_err(err, PS_EINVAL, "unknown flags 0x%x", flags);
	/* RFC 3501 9, zone: +/-HHMM; a day's worth either way. */
	if (tz <= -24 * 60 || tz >= 24 * 60)
		return pst_err(err, PS_EINVAL, "time zone %d minutes", tz);
	return pst_kw_check(kw, n, err);
}

int
pst_append_keywords(const char *const *kw, size_t n, char **text_r,
		    struct ps_error *err)
{
	struct pst_kw k = { .n = 0 };
	const char *text;
	int changed;
	int r = pst_kw_apply(&k, PS_STORE_ADD, kw, n, &changed, err);

	*text_r = NULL;
	text = r == 0 ? pst_kw_join(&k) : NULL;
	if (text)
		*text_r = strdup(text);
	if (r == 0 && k.n && !*text_r)
		r = pst_err(err, PS_ENOMEM, "out of memory");
	pst_kw_free(&k);
	return r;
}
