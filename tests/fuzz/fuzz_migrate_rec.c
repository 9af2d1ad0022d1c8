/* libFuzzer target for poshtactl migrate's record reader
 * (core/ctl_migrate_rec.c). The first byte picks how the rest is cut
 * into reads; the input follows a valid hello so the fuzzer reaches the
 * records. Whatever the bytes, the reader must stay inside its promises:
 * data records within the message's size, names NUL-terminated within
 * bounds, keywords counted, an error that stays an error, and a clean
 * end only after 'Z'. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_migrate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x) ((x) ? (void)0 : abort())

struct src {
	const uint8_t *p;
	size_t len, off;
	unsigned step; /* bytes per read; 0: all that is asked */
	int hello;     /* the hello still to give first */
};

static const unsigned char hello[] =
	"H\0\0\0\x12" CTL_MREC_MAGIC "\0\0\0\1";

static ssize_t
src_read(void *arg, void *buf, size_t len)
{
	struct src *s = arg;
	const uint8_t *from = s->hello ? hello + (sizeof(hello) - 1 -
						  (size_t)s->hello)
				       : s->p + s->off;
	size_t n = s->hello ? (size_t)s->hello : s->len - s->off;

	if (n > len)
		n = len;
	if (s->step && n > s->step)
		n = s->step;
	memcpy(buf, from, n);
	if (s->hello)
		s->hello -= (int)n;
	else
		s->off += n;
	return (ssize_t)n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ctl_mrec_reader r;
	static struct ctl_mrec rec;
	struct src s;
	uint64_t left = 0;
	int k, last = 0;

	if (size < 1)
		return 0;
	s = (struct src){data + 1, size - 1, 0, data[0] & 0x3f,
			 (data[0] & 0x40) ? 0 : (int)sizeof(hello) - 1};
	ctl_mrec_reader_init(&r, src_read, &s);
	while ((k = ctl_mrec_next(&r, &rec)) > 0) {
		switch (rec.type) {
		case CTL_MREC_USER:
			CHECK(strlen(rec.name) <= PS_AUTH_NAME_MAX);
			break;
		case CTL_MREC_MAILBOX:
			CHECK(strlen(rec.name) >= 1 &&
			      strlen(rec.name) <= CTL_MREC_NAME_MAX);
			CHECK(!(rec.attrs & ~(unsigned)CTL_MREC_ATTRS));
			break;
		case CTL_MREC_MSG:
			CHECK(rec.nkeywords <= CTL_MREC_KEYWORDS_MAX);
			for (size_t i = 0; i < rec.nkeywords; i++)
				CHECK(strlen(rec.keywords[i]) >= 1 &&
				      strlen(rec.keywords[i]) <=
				      CTL_MREC_KEYWORD_LEN);
			CHECK(rec.uid != 0);
			left = rec.size;
			break;
		case CTL_MREC_DATA:
			CHECK(rec.len >= 1 && rec.len <= CTL_MREC_DATA_MAX);
			CHECK(rec.len <= left);
			left -= rec.len;
			break;
		case CTL_MREC_MSG_END:
			CHECK(left == 0);
			break;
		default:
			break;
		}
		last = rec.type;
	}
	if (k == 0)
		CHECK(last == CTL_MREC_END);
	else
		CHECK(r.err[0] && ctl_mrec_next(&r, &rec) == -1);
	return 0;
}
