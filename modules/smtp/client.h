/* The outbound SMTP client's pure half (RFC 5321 with PIPELINING, SIZE,
 * 8BITMIME, SMTPUTF8, DSN, STARTTLS, AUTH, ENHANCEDSTATUSCODES and
 * REQUIRETLS): a state machine that reads the server's reply lines and
 * gives back octets to send and events. No SDK calls and no sockets, so
 * smtp.so's delivery runner, the unit test and the fuzzer share it.
 *
 * A runner, over a connection the core gives it:
 *
 *   c = smtpc_new(&opts)                       wait for the greeting
 *   each line read:  ev = smtpc_feed_line(c, line, len)
 *   after any call:  SEND      write smtpc_output(c, &len)
 *                    STARTTLS  discard buffered input, handshake, then
 *                              smtpc_tls_started(c) (or close)
 *                    READY     smtpc_start_message(c, &msg) or smtpc_quit
 *                    BODY      smtpc_body(c, chunk, n)... smtpc_body_end
 *                    DONE      every recipient of the message has had
 *                              its opts.result call
 *                    CLOSED    close the connection
 *   a negative return: the server broke the protocol (or the caller
 *   misused the API): smtpc_why(c) says how; undecided recipients were
 *   deferred; close the connection.
 *   a timeout (smtpc_timeout(c) seconds) or the connection lost:
 *   smtpc_abort(c, why), then close. */
#ifndef SMTP_CLIENT_H
#define SMTP_CLIENT_H

#include <stddef.h>
#include <stdint.h>

/* Return codes; the same values as <poshta/types.h>'s PS_E*. */
#define SMTPC_ENOMEM (-2)
#define SMTPC_EINVAL (-3) /* misuse, or a message we cannot send */
#define SMTPC_EPROTO (-9) /* the server broke the protocol */

/* Bounds on what a server sends. RFC 5321 4.5.3.1.5 says a reply line
 * is at most 512 octets; real servers send longer ones (long EHLO
 * keywords, URLs in texts), so up to 2048 are taken and beyond is a
 * protocol error. No RFC bounds the lines of one reply; 128 is three
 * times a large EHLO reply. */
#define SMTPC_LINE_MAX 2048
#define SMTPC_LINES_MAX 128
#define SMTPC_TEXT_MAX 2000 /* a reply kept for diagnostics, the queue's
			     * PS_QUEUE_DIAG_MAX: longer is cut */
#define SMTPC_ENH_MAX 11    /* "5.123.123" and room */
#define SMTPC_RCPTS_MAX 1000  /* recipients of one message per session */
#define SMTPC_CHUNK_MAX 65536 /* octets per smtpc_body call */

/* RFC 5321 4.5.3.2, in seconds: how long to wait for each reply (and,
 * for DATA_BLOCK, for the connection to take each chunk of the body).
 * smtpc_timeout(c) picks the one for what c waits for; EHLO, STARTTLS,
 * AUTH, RSET and QUIT have no value in the RFC and get GREETING's. */
#define SMTPC_TIMEOUT_GREETING 300 /* 4.5.3.2.1 */
#define SMTPC_TIMEOUT_MAIL 300     /* 4.5.3.2.2 */
#define SMTPC_TIMEOUT_RCPT 300     /* 4.5.3.2.3 */
#define SMTPC_TIMEOUT_DATA_INIT 120  /* 4.5.3.2.4 */
#define SMTPC_TIMEOUT_DATA_BLOCK 180 /* 4.5.3.2.5 */
#define SMTPC_TIMEOUT_DATA_END 600   /* 4.5.3.2.6 */

/* ---- Replies (RFC 5321 4.2, RFC 2034, RFC 3463) ----------------------- */

/* A whole reply, or a decision taken here in place of one. */
struct smtpc_reply {
	int code;         /* 200..559 */
	const char *enh;  /* "5.1.1", "" when none */
	const char *text; /* "550 5.1.1 No such user", the lines' texts
			   * joined by spaces, control characters as
			   * spaces, at most SMTPC_TEXT_MAX octets */
	int local;        /* 1: our decision (SIZE, SMTPUTF8 ...), no
			   * server said it */
};

/* Collects the lines of one reply. Zero it (or smtpc_acc_reset) before
 * the first line; the line after a whole reply starts the next one. */
struct smtpc_acc {
	int code;   /* of the first line; 0 before it */
	unsigned lines;
	int done;   /* the last line came */
	char enh[SMTPC_ENH_MAX + 1];
	char text[SMTPC_TEXT_MAX + 1];
	size_t len;
};

void smtpc_acc_reset(struct smtpc_acc *a);

/* Take one reply line (without its CRLF): "NNN-text" continues the
 * reply, "NNN text" or "NNN" ends it; every line has the first one's
 * code. Returns 0 when more lines are due, 1 when the reply is whole,
 * SMTPC_EPROTO with *why_r (a constant string) for a malformed line, a
 * code that changed, a line too long, or too many lines. */
int smtpc_acc_line(struct smtpc_acc *a, const char *line, size_t len,
		   const char **why_r);

/* The reply a whole a stands for; valid while a is unchanged. */
void smtpc_acc_reply(const struct smtpc_acc *a, struct smtpc_reply *r);

/* ---- EHLO keywords (RFC 5321 4.1.1.1) --------------------------------- */

#define SMTPC_CAP_SIZE 0x001        /* RFC 1870 */
#define SMTPC_CAP_PIPELINING 0x002  /* RFC 2920 */
#define SMTPC_CAP_STARTTLS 0x004    /* RFC 3207 */
#define SMTPC_CAP_8BITMIME 0x008    /* RFC 6152 */
#define SMTPC_CAP_SMTPUTF8 0x010    /* RFC 6531 */
#define SMTPC_CAP_CHUNKING 0x020    /* RFC 3030 */
#define SMTPC_CAP_DSN 0x040         /* RFC 3461 */
#define SMTPC_CAP_ENHANCED 0x080    /* RFC 2034 ENHANCEDSTATUSCODES */
#define SMTPC_CAP_REQUIRETLS 0x100  /* RFC 8689 */
#define SMTPC_CAP_AUTH 0x200        /* RFC 4954 */

#define SMTPC_AUTH_PLAIN 0x1
#define SMTPC_AUTH_LOGIN 0x2

struct smtpc_caps {
	unsigned flags;  /* SMTPC_CAP_* */
	uint64_t size;   /* SIZE's limit; 0: none given (or unreadable) */
	unsigned auth;   /* SMTPC_AUTH_* among AUTH's mechanisms */
};

/* One ehlo-line of a 250 reply to EHLO (the text after "250-", from
 * the second line on): keyword and parameters, case-insensitive;
 * unknown keywords are ignored. "AUTH=LOGIN PLAIN", the form before
 * RFC 4954, counts as AUTH. */
void smtpc_caps_line(struct smtpc_caps *caps, const char *s, size_t len);

/* ---- Dot-stuffing (RFC 5321 4.5.2) ------------------------------------ */

struct smtpc_stuff {
	int state;
};

void smtpc_stuff_init(struct smtpc_stuff *st);

/* in[0..len) of the message (cut anywhere) as DATA sends it, into out
 * (2 * len + 2 octets always do); returns the octets written. A "." at
 * the start of a line is doubled; a bare CR or LF is sent as CRLF, as
 * RFC 5321 2.3.8 forbids sending them alone. */
size_t smtpc_stuff(struct smtpc_stuff *st, const char *in, size_t len,
		   char *out);

/* The end of data into out (5 octets do): CRLF when the last line has
 * none, then "." CRLF. Returns the octets written. */
size_t smtpc_stuff_end(struct smtpc_stuff *st, char *out);

/* ---- Messages --------------------------------------------------------- */

/* Envelope flags (struct smtpc_msg.flags): the values of
 * <poshta/queue.h>'s PS_QUEUE_SMTPUTF8, 8BITMIME and REQUIRETLS. */
#define SMTPC_F_SMTPUTF8 0x1u
#define SMTPC_F_8BITMIME 0x2u
#define SMTPC_F_REQUIRETLS 0x4u

/* RFC 3461 NOTIFY: the values of PS_QUEUE_NOTIFY_*. */
#define SMTPC_NOTIFY_NEVER 0x1u
#define SMTPC_NOTIFY_SUCCESS 0x2u
#define SMTPC_NOTIFY_FAILURE 0x4u
#define SMTPC_NOTIFY_DELAY 0x8u

struct smtpc_rcpt {
	const char *address; /* RFC 5321 4.1.2 form, no brackets */
	const char *orcpt;   /* RFC 3461 "addr-type;xtext", NULL or "" */
	unsigned notify;     /* SMTPC_NOTIFY_*, 0: not given */
};

/* One message. Strings and rcpts stay the caller's and must live until
 * DONE. */
struct smtpc_msg {
	const char *sender;  /* "" for the null sender */
	uint64_t size;       /* octets of the body (RFC 1870 counts it
			      * unstuffed), 0: unknown */
	unsigned flags;      /* SMTPC_F_* */
	int ret;             /* RFC 3461 RET: 0 none, 1 FULL, 2 HDRS (the
			      * PS_QUEUE_RET_* values) */
	const char *envid;   /* RFC 3461 ENVID as xtext, NULL or "" */
	const struct smtpc_rcpt *rcpts;
	size_t nrcpts;       /* 1..SMTPC_RCPTS_MAX */
};

/* ---- The session ------------------------------------------------------ */

/* STARTTLS policy (RFC 3207). */
enum smtpc_tls {
	SMTPC_TLS_NONE = 0,      /* never */
	SMTPC_TLS_OPPORTUNISTIC, /* when offered; plain text otherwise, or
				  * when STARTTLS is refused */
	SMTPC_TLS_REQUIRED,      /* no TLS: the session fails (deferred) */
};

/* A recipient's outcome. */
enum smtpc_outcome {
	SMTPC_DELIVERED = 0, /* the final reply to DATA was 2xx */
	SMTPC_DEFERRED,      /* 4xx, 421, a lost session: try again */
	SMTPC_FAILED,        /* 5xx, or a message the server cannot take */
};

/* Called once per recipient of each message, with its outcome and the
 * reply (or local decision) that decided it, valid during the call. */
typedef void (*smtpc_result_fn)(void *arg, size_t index,
				enum smtpc_outcome outcome,
				const struct smtpc_reply *reply);

struct smtpc_opts {
	const char *helo;      /* our name for EHLO and HELO (a domain or
				* address literal) */
	enum smtpc_tls tls;
	int tls_active;        /* the connection is TLS already (465) */
	const char *auth_user; /* AUTH with these (a smarthost), or NULL;
				* both must live as long as the session */
	const char *auth_pass;
	int auth_plaintext;    /* AUTH allowed without TLS */
	smtpc_result_fn result;
	void *arg;
};

/* Events: the bits smtpc_feed_line and the calls below return. */
#define SMTPC_EV_SEND 0x01     /* smtpc_output has octets */
#define SMTPC_EV_STARTTLS 0x02 /* do the TLS handshake now */
#define SMTPC_EV_READY 0x04    /* a message may start */
#define SMTPC_EV_BODY 0x08     /* send the body */
#define SMTPC_EV_DONE 0x10     /* the message's recipients are decided */
#define SMTPC_EV_CLOSED 0x20   /* the session is over: close */

struct smtpc;

/* A session on a connection that is about to give its greeting. NULL
 * with *why_r (a constant string): bad opts, or no memory. */
struct smtpc *smtpc_new(const struct smtpc_opts *o, const char **why_r);
void smtpc_free(struct smtpc *c);

/* One line from the server, with or without its CRLF. Events, or
 * SMTPC_EPROTO (see smtpc_why), SMTPC_EINVAL when no reply was due. */
int smtpc_feed_line(struct smtpc *c, const char *line, size_t len);

/* The TLS handshake after STARTTLS succeeded: EHLO again, and the
 * capabilities said before it are forgotten (RFC 3207 4.2). */
int smtpc_tls_started(struct smtpc *c);

/* After READY: send m. A message this server cannot take (SIZE over
 * its limit, SMTPUTF8 or REQUIRETLS or 8BITMIME not offered,
 * REQUIRETLS without TLS) fails at once: DONE | READY, no octets.
 * SMTPC_EINVAL when m is malformed (smtpc_why says how; nothing
 * decided, still READY). */
int smtpc_start_message(struct smtpc *c, const struct smtpc_msg *m);

/* After BODY: the message's octets, in chunks of at most
 * SMTPC_CHUNK_MAX, taken from smtpc_output after each call; then
 * smtpc_body_end. */
int smtpc_body(struct smtpc *c, const char *data, size_t len);
int smtpc_body_end(struct smtpc *c);

/* After READY: QUIT; CLOSED follows its reply. */
int smtpc_quit(struct smtpc *c);

/* The session is lost (timeout, connection closed, TLS failed): every
 * undecided recipient is deferred with why ("timeout after RCPT"); the
 * session is CLOSED. */
void smtpc_abort(struct smtpc *c, const char *why);

/* The octets to send now, *len_r of them (0: none); valid until the
 * next call on c. They are taken: the next call returns new ones. */
const char *smtpc_output(struct smtpc *c, size_t *len_r);

/* Seconds to wait for what c waits for (SMTPC_TIMEOUT_*), 0 when it
 * waits for the caller. */
unsigned smtpc_timeout(const struct smtpc *c);

/* What the server offered in its last EHLO. */
const struct smtpc_caps *smtpc_caps(const struct smtpc *c);

/* Why the session ended, once CLOSED: the reply that ended it (a 421,
 * a refused greeting, EHLO, STARTTLS or AUTH), or a local decision (no
 * STARTTLS under TLS_REQUIRED); for recipients of messages not started
 * on it. NULL after a plain QUIT. */
const struct smtpc_reply *smtpc_end_reply(const struct smtpc *c);

/* The reason for the last negative return. */
const char *smtpc_why(const struct smtpc *c);

#endif
