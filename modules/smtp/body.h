/* Message data, pure (no SDK calls, so the unit test and the fuzzer link
 * body.c and spool.c alone): the DATA byte state machine (RFC 5321
 * 4.1.1.4, 4.5.2; SMTP smuggling, CVE-2023-51764), its raw mode for BDAT
 * (RFC 3030), and the spool a message is kept in until delivery. */
#ifndef SMTP_BODY_H
#define SMTP_BODY_H

#include <stddef.h>
#include <stdint.h>

/* struct smtp_body flags: the message had a line end other than CRLF. */
#define SMTP_BODY_BARE_LF 0x1
#define SMTP_BODY_BARE_CR 0x2

/* Receives the message's octets as they are decoded. */
typedef void (*smtp_emit_fn)(void *arg, const char *data, size_t len);

struct smtp_body {
	int state;
	int raw;             /* BDAT: octets as they come, no end marker */
	unsigned flags;      /* SMTP_BODY_BARE_* */
	uint64_t size;       /* octets emitted */
	uint64_t line;       /* octets emitted since the last CRLF */
	uint64_t header_end; /* where the empty line after the header block
			      * starts, once header_done */
	int header_done;
};

void smtp_body_init(struct smtp_body *b, int raw);

/* Decode in[0..len): the message's octets go to emit, dot-unstuffed
 * unless raw. Returns the octets consumed: all of them, unless the end
 * of data came (CRLF "." CRLF, where the first CRLF ends the previous
 * line or the DATA command; nothing else ends it), then up to and
 * including its LF. A bare CR or LF is passed on and flagged; a line
 * that began after a bare LF is not a line start, so "." there neither
 * ends the data nor is unstuffed. */
size_t smtp_body_feed(struct smtp_body *b, const char *in, size_t len,
		      smtp_emit_fn emit, void *arg);

/* 1 once the end of data was consumed. */
int smtp_body_done(const struct smtp_body *b);

/* The last BDAT chunk is in: a CR held back waiting for its LF is
 * emitted and flagged as bare. */
void smtp_body_finish(struct smtp_body *b, smtp_emit_fn emit, void *arg);

/* ---- Spool ----------------------------------------------------------- */

#define SMTP_SPOOL_MEM (64 * 1024) /* in memory up to this, then a file */

/* A message on its way to delivery: in memory while small, then in an
 * unlinked file in dir, written through the same buffer. Reading is
 * safe from any thread once smtp_spool_flush returned and nothing
 * writes. A zeroed struct with fd -1 is empty. */
struct smtp_spool {
	const char *dir; /* where the file goes (the state folder) */
	char *buf;       /* SMTP_SPOOL_MEM bytes, allocated on first write */
	size_t used;     /* octets in buf not yet written to the file */
	int fd;          /* -1 while the message fits in buf */
	uint64_t size;   /* octets written in all */
	int error;       /* errno of the first failure: the message fails */
};

void smtp_spool_init(struct smtp_spool *sp, const char *dir);
/* Append; on failure sets sp->error and returns -1 (later writes too). */
int smtp_spool_write(struct smtp_spool *sp, const void *data, size_t len);
/* Push buffered octets to the file, if there is one. 0 or -1. */
int smtp_spool_flush(struct smtp_spool *sp);
/* Up to len octets from offset into buf; *got_r is 0 at the end. */
int smtp_spool_read(const struct smtp_spool *sp, uint64_t offset, void *buf,
		    size_t len, size_t *got_r);
/* Empty it (closing the file) for the next message; keeps dir. */
void smtp_spool_reset(struct smtp_spool *sp);

#endif
