/* Unit tests for poshtactl migrate's record stream (core/ctl_migrate_rec.c):
 * what the writer makes the reader gives back, fed one byte at a time;
 * every cut of a valid stream is an error, never a clean end; and each
 * field and order rule of core/ctl_migrate.h is enforced. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ctl_migrate.h"

struct mem {
	const unsigned char *p;
	size_t len, off, step; /* bytes per read */
};

static ssize_t
mem_read(void *src, void *buf, size_t len)
{
	struct mem *m = src;
	size_t n = m->len - m->off;

	if (n > len)
		n = len;
	if (n > m->step)
		n = m->step;
	memcpy(buf, m->p + m->off, n);
	m->off += n;
	return (ssize_t)n;
}

/* A stream of one user with a \Noselect parent, a mailbox of two
 * messages (one with keywords, one of 70000 bytes in two pieces). */
static unsigned char *
valid_stream(size_t *len_r)
{
	static const char *const kw[] = {"$Label1", "custom"};
	struct ps_msg m = {.uid = 3, .flags = PS_FLAG_SEEN, .keywords = kw,
			   .nkeywords = 2, .internal_date = -5,
			   .internal_tz = -330, .size = 5};
	static unsigned char big[70000];
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	memset(big, 'x', sizeof(big));
	assert_non_null(f);
	assert_int_equal(ctl_mrec_put_hello(f), 0);
	assert_int_equal(ctl_mrec_put_user(f, "alice@example.test"), 0);
	assert_int_equal(ctl_mrec_put_mailbox(f, "Work", PS_MBOX_NOSELECT |
					      PS_MBOX_SUBSCRIBED, 0, 0, 0), 0);
	assert_int_equal(ctl_mrec_put_mailbox(f, "Work/a", PS_MBOX_ARCHIVE,
					      77, 9, 2), 0);
	assert_int_equal(ctl_mrec_put_msg(f, &m), 0);
	assert_int_equal(ctl_mrec_put_data(f, "he", 2), 0);
	assert_int_equal(ctl_mrec_put_data(f, "llo", 3), 0);
	assert_int_equal(ctl_mrec_put_empty(f, CTL_MREC_MSG_END), 0);
	m = (struct ps_msg){.uid = 8, .size = sizeof(big)};
	assert_int_equal(ctl_mrec_put_msg(f, &m), 0);
	assert_int_equal(ctl_mrec_put_data(f, big, 65536), 0);
	assert_int_equal(ctl_mrec_put_data(f, big, sizeof(big) - 65536), 0);
	assert_int_equal(ctl_mrec_put_empty(f, CTL_MREC_MSG_END), 0);
	assert_int_equal(ctl_mrec_put_empty(f, CTL_MREC_USER_END), 0);
	assert_int_equal(ctl_mrec_put_empty(f, CTL_MREC_END), 0);
	assert_int_equal(fclose(f), 0);
	*len_r = len;
	return (unsigned char *)buf;
}

/* Read all of p; the number of records, or -1 (the reader's message in
 * err when not NULL). */
static int
read_all(const unsigned char *p, size_t len, size_t step, char *err)
{
	struct ctl_mrec_reader *r = malloc(sizeof(*r));
	struct ctl_mrec *rec = malloc(sizeof(*rec));
	struct mem m = {p, len, 0, step};
	int k, n = 0;

	assert_non_null(r);
	assert_non_null(rec);
	ctl_mrec_reader_init(r, mem_read, &m);
	while ((k = ctl_mrec_next(r, rec)) > 0)
		n++;
	if (k < 0) {
		assert_true(r->err[0] != '\0');
		/* Broken stays broken. */
		assert_int_equal(ctl_mrec_next(r, rec), -1);
		if (err)
			snprintf(err, 256, "%s", r->err);
		n = -1;
	}
	free(r);
	free(rec);
	return n;
}

static void
test_round_trip(void **state)
{
	struct ctl_mrec_reader *r = malloc(sizeof(*r));
	struct ctl_mrec rec;
	size_t len;
	unsigned char *p = valid_stream(&len);
	struct mem m = {p, len, 0, 1};

	(void)state;
	ctl_mrec_reader_init(r, mem_read, &m);
	assert_int_equal(ctl_mrec_next(r, &rec), 1);
	assert_int_equal(rec.type, CTL_MREC_HELLO);
	assert_int_equal(ctl_mrec_next(r, &rec), 1);
	assert_int_equal(rec.type, CTL_MREC_USER);
	assert_string_equal(rec.name, "alice@example.test");
	assert_int_equal(ctl_mrec_next(r, &rec), 1);
	assert_int_equal(rec.type, CTL_MREC_MAILBOX);
	assert_string_equal(rec.name, "Work");
	assert_int_equal(rec.attrs, PS_MBOX_NOSELECT | PS_MBOX_SUBSCRIBED);
	assert_int_equal(ctl_mrec_next(r, &rec), 1);
	assert_string_equal(rec.name, "Work/a");
	assert_int_equal(rec.attrs, PS_MBOX_ARCHIVE);
	assert_int_equal(rec.uidvalidity, 77);
	assert_int_equal(rec.uidnext, 9);
	assert_int_equal(rec.messages, 2);
	assert_int_equal(ctl_mrec_next(r, &rec), 1);
	assert_int_equal(rec.type, CTL_MREC_MSG);
	assert_int_equal(rec.uid, 3);
	assert_int_equal(rec.flags, PS_FLAG_SEEN);
	assert_int_equal(rec.date, -5);
	assert_int_equal(rec.tz, -330);
	assert_int_equal(rec.size, 5);
	assert_int_equal(rec.nkeywords, 2);
	assert_string_equal(rec.keywords[0], "$Label1");
	assert_string_equal(rec.keywords[1], "custom");
	assert_int_equal(ctl_mrec_next(r, &rec), 1);
	assert_int_equal(rec.type, CTL_MREC_DATA);
	assert_int_equal(rec.len, 2);
	assert_memory_equal(rec.data, "he", 2);
	assert_int_equal(ctl_mrec_next(r, &rec), 1);
	assert_int_equal(ctl_mrec_next(r, &rec), 1);
	assert_int_equal(rec.type, CTL_MREC_MSG_END);
	free(r);
	assert_int_equal(read_all(p, len, 1, NULL), 14);
	assert_int_equal(read_all(p, len, 7, NULL), 14);
	assert_int_equal(read_all(p, len, len, NULL), 14);
	free(p);
}

static void
test_every_cut(void **state)
{
	char err[256];
	size_t len;
	unsigned char *p = valid_stream(&len);

	(void)state;
	for (size_t cut = 0; cut < len; cut += cut < 200 ? 1 : 997) {
		assert_int_equal(read_all(p, cut, 4096, err), -1);
		assert_non_null(strstr(err, "ended"));
	}
	/* Anything after the end. */
	p = realloc(p, len + 5);
	memcpy(p + len, "Z\0\0\0\0", 5);
	assert_int_equal(read_all(p, len + 5, 4096, err), -1);
	assert_non_null(strstr(err, "after the end"));
	free(p);
}

/* A stream: hello, then the records given as (type, payload, len)
 * triples ending with a 0 type; the reader's verdict. */
static int
verdict(char *err, ...)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	va_list ap;
	int t, n;

	assert_int_equal(ctl_mrec_put_hello(f), 0);
	va_start(ap, err);
	while ((t = va_arg(ap, int)) != 0) {
		const char *p = va_arg(ap, const char *);
		size_t plen = va_arg(ap, size_t);
		unsigned char hdr[5] = {(unsigned char)t, (unsigned char)(
			plen >> 24), (unsigned char)(plen >> 16),
			(unsigned char)(plen >> 8), (unsigned char)plen};

		fwrite(hdr, 1, 5, f);
		fwrite(p, 1, plen, f);
	}
	va_end(ap);
	fclose(f);
	n = read_all((unsigned char *)buf, len, 3, err);
	free(buf);
	return n;
}

#define REC(t, s) (int)(t), (const char *)(s), (size_t)(sizeof(s) - 1)
#define USER REC('U', "a@b.test")
/* attrs 0, UIDVALIDITY 1, UIDNEXT 5, 0 messages, "INBOX" */
#define MBOX REC('M', "\0\0\0\0\0\0\0\1\0\0\0\5\0\0\0\0INBOX")
/* UID u, no flags, date 0, zone 0, size 2, no keywords */
#define MSG(u) REC('m', "\0\0\0" u "\0\0\0\0" "\0\0\0\0\0\0\0\0" "\0\0\0\0" \
		   "\0\0\0\0\0\0\0\2" "\0\0")

static void
test_rules(void **state)
{
	char err[256];

	(void)state;
	assert_int_equal(verdict(err, USER, MBOX, MSG("\1"), REC('D', "ab"),
				 REC('E', ""), REC('u', ""), REC('Z', ""), 0),
			 8);
	/* Hello: magic and version. */
	assert_int_equal(read_all((const unsigned char *)"From x\n", 7, 1,
				  err), -1);
	assert_int_equal(read_all((const unsigned char *)
				  "H\0\0\0\x12poshta-migrate\0\0\0\2", 23, 1,
				  err), -1);
	assert_non_null(strstr(err, "version 2"));
	/* Out of place. */
	assert_int_equal(verdict(err, MBOX, 0), -1);
	assert_non_null(strstr(err, "out of place"));
	assert_int_equal(verdict(err, USER, MSG("\1"), 0), -1);
	assert_int_equal(verdict(err, USER, MBOX, REC('D', "ab"), 0), -1);
	assert_int_equal(verdict(err, USER, MBOX, MSG("\1"), REC('u', ""), 0),
			 -1);
	assert_int_equal(verdict(err, USER, REC('U', "c@d.test"), 0), -1);
	assert_int_equal(verdict(err, REC('Q', ""), 0), -1);
	assert_non_null(strstr(err, "unknown record type"));
	/* No message in a \Noselect mailbox. */
	assert_int_equal(verdict(err, USER, REC('M', "\0\0\0\1\0\0\0\0\0\0\0\0"
						"\0\0\0\0Work"),
				 MSG("\1"), 0), -1);
	/* Skipped messages: in a mailbox that holds them, UIDs in order. */
	assert_int_equal(verdict(err, USER, MBOX, REC('S', "\0\0\0\1"),
				 MSG("\2"), REC('D', "ab"), REC('E', ""),
				 REC('S', "\0\0\0\3"), REC('u', ""),
				 REC('Z', ""), 0), 10);
	assert_int_equal(verdict(err, USER, MBOX, MSG("\2"), REC('D', "ab"),
				 REC('E', ""), REC('S', "\0\0\0\2"), 0), -1);
	assert_int_equal(verdict(err, USER, MBOX, REC('S', "\0\0\0\5"), 0),
			 -1);
	assert_int_equal(verdict(err, USER, MBOX, REC('S', "\0\0\1"), 0), -1);
	assert_int_equal(verdict(err, USER, MBOX, MSG("\2"),
				 REC('S', "\0\0\0\3"), 0), -1);
	/* Sizes. */
	assert_int_equal(verdict(err, USER, MBOX, MSG("\1"), REC('D', "abc"),
				 0), -1);
	assert_int_equal(verdict(err, USER, MBOX, MSG("\1"), REC('D', "a"),
				 REC('E', ""), 0), -1);
	assert_non_null(strstr(err, "short"));
	assert_int_equal(verdict(err, USER, MBOX, MSG("\1"), REC('D', ""), 0),
			 -1);
	/* UIDs ascend and stay below UIDNEXT. */
	assert_int_equal(verdict(err, USER, MBOX, MSG("\0"), 0), -1);
	assert_int_equal(verdict(err, USER, MBOX, MSG("\5"), 0), -1);
	assert_int_equal(verdict(err, USER, MBOX, MSG("\2"), REC('D', "ab"),
				 REC('E', ""), MSG("\2"), 0), -1);
	assert_non_null(strstr(err, "out of order"));
	/* Fields. */
	assert_int_equal(verdict(err, REC('U', "a\nb"), 0), -1);
	assert_int_equal(verdict(err, REC('U', ""), 0), -1);
	assert_int_equal(verdict(err, USER, REC('M', "\0\0\0\0\0\0\0\1\0\0\0"
						"\5\0\0\0\0a\0b"), 0), -1);
	assert_int_equal(verdict(err, USER, REC('M', "\0\0\0\0\0\0\0\0\0\0\0"
						"\5\0\0\0\0INBOX"), 0), -1);
	assert_int_equal(verdict(err, USER, REC('M', "\0\1\0\0\0\0\0\1\0\0\0"
						"\5\0\0\0\0INBOX"), 0), -1);
	assert_non_null(strstr(err, "attributes"));
	assert_int_equal(verdict(err, USER, MBOX, REC('m', "\0\0\0\1\0\0\1\0"
		"\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\2\0\0"), 0), -1);
	assert_non_null(strstr(err, "flags"));
	assert_int_equal(verdict(err, USER, MBOX, REC('m', "\0\0\0\1\0\0\0\0"
		"\0\0\0\0\0\0\0\0\0\0\x05\xa0\0\0\0\0\0\0\0\2\0\0"), 0), -1);
	assert_non_null(strstr(err, "zone"));
	/* Keywords: counted, non-empty, atoms, nothing after them. */
	assert_int_equal(verdict(err, USER, MBOX, REC('m', "\0\0\0\1\0\0\0\0"
		"\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\2\0\1\2ab"),
				 REC('D', "ab"), REC('E', ""), REC('u', ""),
				 REC('Z', ""), 0), 8);
	assert_int_equal(verdict(err, USER, MBOX, REC('m', "\0\0\0\1\0\0\0\0"
		"\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\2\0\1\3a b"), 0), -1);
	assert_int_equal(verdict(err, USER, MBOX, REC('m', "\0\0\0\1\0\0\0\0"
		"\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\2\0\1\0"), 0), -1);
	assert_int_equal(verdict(err, USER, MBOX, REC('m', "\0\0\0\1\0\0\0\0"
		"\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\2\0\1\3abcd"), 0), -1);
	assert_int_equal(verdict(err, USER, MBOX, REC('m', "\0\0\0\1\0\0\0\0"
		"\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\2\0\x81"), 0), -1);
	/* A record longer than any may be. */
	assert_int_equal(read_all((const unsigned char *)
				  "H\0\1\0\1", 5, 1, err), -1);
	assert_non_null(strstr(err, "at most"));
}

int
main(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_every_cut),
		cmocka_unit_test(test_rules),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
