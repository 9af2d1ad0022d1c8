/* poshtactl migrate's record stream (version 1): what the source process
 * (migrate-dump, ctl_migrate_dump.c) writes to a pipe and the target
 * process (migrate-load, ctl_migrate_load.c) reads, with a strict reader
 * (ctl_migrate_rec.c) that refuses anything out of place. The format is
 * documented in docs/poshtactl.8 and docs/architecture.md.
 *
 * A record is one type byte, its payload's length as 4 bytes (big
 * endian, at most CTL_MREC_MAX) and the payload. Integers in payloads are
 * big endian. The order is fixed:
 *   'H' hello        "poshta-migrate" u32 version
 *   then per user:
 *   'U' user         name (1..320 bytes, no control characters)
 *     per mailbox, parents before children:
 *     'M' mailbox    u32 attrs (PS_MBOX_*), u32 uidvalidity, u32 uidnext,
 *                    u32 messages, name (1..1000 bytes, no NUL)
 *       per message, in ascending UID order, only in a mailbox that
 *       holds messages (neither \Noselect nor \NonExistent):
 *       'S' skipped  u32 uid: a message the target has (see below)
 *       'm' message  u32 uid, u32 flags (PS_FLAGS_STORED), i64 internal
 *                    date, i32 zone (minutes east), u64 size, u16 number
 *                    of keywords (<= 128), each u8 length (>= 1) and its
 *                    bytes (no NUL, no control characters, no space)
 *       'D' data     1..65536 bytes of the message
 *       'E' end      empty: the data added up to size
 *   'u' user end     empty
 *   'Z' end          empty: nothing may follow
 * A stream that stops anywhere before 'Z' is an error ("ended early"):
 * the source failed, and the target commits no message it did not see
 * whole.
 *
 * Replies (migrate-dump and migrate-load --replies, as migrate runs
 * them): after each mailbox record that may hold messages the source
 * flushes and waits for 4 bytes (u32, big endian) from the target: the
 * lowest UID it still needs (0xffffffff: none). The source then writes
 * only an 'S' record for each message below it, without reading it. */
#ifndef PS_CORE_CTL_MIGRATE_H
#define PS_CORE_CTL_MIGRATE_H

#include <poshta/auth.h>
#include <poshta/storage.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#define CTL_MREC_MAGIC "poshta-migrate"
#define CTL_MREC_VERSION 1
#define CTL_MREC_DATA_MAX 65536       /* bytes of one 'D' record */
#define CTL_MREC_MAX CTL_MREC_DATA_MAX /* bytes of any payload */
#define CTL_MREC_NAME_MAX 1000        /* bytes of a mailbox name */
#define CTL_MREC_KEYWORDS_MAX 128     /* keywords of one message */
#define CTL_MREC_KEYWORD_LEN 255      /* bytes of one keyword */
#define CTL_MREC_ATTRS                                                    \
	(PS_MBOX_NOSELECT | PS_MBOX_NOINFERIORS | PS_MBOX_HASCHILDREN |   \
	 PS_MBOX_HASNOCHILDREN | PS_MBOX_SUBSCRIBED | PS_MBOX_NONEXISTENT | \
	 PS_MBOX_SPECIAL_USE)

enum ctl_mrec_type {
	CTL_MREC_HELLO = 'H',
	CTL_MREC_USER = 'U',
	CTL_MREC_MAILBOX = 'M',
	CTL_MREC_MSG = 'm',
	CTL_MREC_SKIPPED = 'S',
	CTL_MREC_DATA = 'D',
	CTL_MREC_MSG_END = 'E',
	CTL_MREC_USER_END = 'u',
	CTL_MREC_END = 'Z',
};

/* One record as read; pointers are valid until the next read. */
struct ctl_mrec {
	enum ctl_mrec_type type;
	char name[CTL_MREC_NAME_MAX + 1]; /* 'U', 'M' */
	unsigned attrs;                   /* 'M' */
	uint32_t uidvalidity, uidnext, messages;
	uint32_t uid;                     /* 'm', 'S' */
	unsigned flags;
	int64_t date;
	int tz;
	uint64_t size;
	const char *keywords[CTL_MREC_KEYWORDS_MAX];
	size_t nkeywords;
	const unsigned char *data;        /* 'D' */
	size_t len;
};

/* Reads records from read(src, buf, len) (bytes read, 0 at the end, -1
 * on error), checking each payload and the order. */
typedef ssize_t (*ctl_mrec_read_fn)(void *src, void *buf, size_t len);
struct ctl_mrec_reader {
	ctl_mrec_read_fn read;
	void *src;
	int state;          /* what may come next */
	int holds;          /* the current mailbox may hold messages */
	uint32_t uidnext;   /* the current mailbox's, from its record */
	uint32_t last_uid;  /* the last message's UID in the mailbox */
	uint64_t left;      /* bytes of the current message still to come */
	uint64_t offset;    /* bytes of the stream read, for messages */
	char err[256];      /* why the last read failed */
	unsigned char buf[CTL_MREC_MAX];
	char kw[CTL_MREC_KEYWORDS_MAX * (CTL_MREC_KEYWORD_LEN + 1)];
};

void ctl_mrec_reader_init(struct ctl_mrec_reader *r, ctl_mrec_read_fn read,
			  void *src);
/* 1 with the next record in *rec, 0 after 'Z' at the end of the stream,
 * -1 with r->err said (bad input, a stream ended early, a read error). */
int ctl_mrec_next(struct ctl_mrec_reader *r, struct ctl_mrec *rec);

/* Writing: each returns 0, or -1 when f failed (errno). The caller
 * keeps to the order; the payloads are built as the reader checks. */
int ctl_mrec_put_hello(FILE *f);
int ctl_mrec_put_user(FILE *f, const char *name);
int ctl_mrec_put_mailbox(FILE *f, const char *name, unsigned attrs,
			 uint32_t uidvalidity, uint32_t uidnext,
			 uint32_t messages);
int ctl_mrec_put_msg(FILE *f, const struct ps_msg *m);
int ctl_mrec_put_skipped(FILE *f, uint32_t uid);
int ctl_mrec_put_data(FILE *f, const void *data, size_t len);
int ctl_mrec_put_empty(FILE *f, enum ctl_mrec_type type);

#endif
