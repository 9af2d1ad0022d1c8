/* The outbound client's internals shared by its files: the output
 * buffer and the commands (client_cmd.c), the session
 * (client_session.c), the message transaction (client_trans.c) and AUTH
 * (client_auth.c). Not for callers: they use client.h. */
#ifndef SMTP_CLIENT_PRIVATE_H
#define SMTP_CLIENT_PRIVATE_H

#include "client.h"

/* ---- Output (client_cmd.c) ------------------------------------------- */

/* Octets waiting to be sent. Once an append fails, err stays set. */
struct smtpc_out {
	char *p;
	size_t len, cap;
	int err;
};

int smtpc_out_add(struct smtpc_out *o, const char *s, size_t len);
int smtpc_out_str(struct smtpc_out *o, const char *s);
/* Room for n more octets at o->p + o->len, or NULL. */
char *smtpc_out_room(struct smtpc_out *o, size_t n);

/* ---- Commands (client_cmd.c) ----------------------------------------- */

/* 1 when the addresses of m hold UTF-8 (so SMTPUTF8 is needed), 0 when
 * they are ASCII; SMTPC_EINVAL with *why_r (a constant string) when an
 * address, ENVID, RET, ORCPT or NOTIFY is not of its grammar, or the
 * recipients are none or too many. Nothing from the queue can then end
 * a command early or add one. */
int smtpc_msg_check(const struct smtpc_msg *m, const char **why_r);

/* "MAIL FROM:<...> params CRLF" for m, checked, against caps:
 * parameters only where the server offered their extension (SMTPUTF8
 * and REQUIRETLS are the caller's to have refused when not), and
 * "RCPT TO:<...> params CRLF" with NOTIFY and ORCPT under DSN (an ASCII
 * address without ORCPT gets "rfc822;" and its xtext, RFC 3461 4.2).
 * 0 or SMTPC_ENOMEM. */
int smtpc_cmd_mail(struct smtpc_out *o, const struct smtpc_msg *m,
		   const struct smtpc_caps *caps);
int smtpc_cmd_rcpt(struct smtpc_out *o, const struct smtpc_rcpt *r,
		   const struct smtpc_caps *caps);

/* ---- The session ------------------------------------------------------ */

enum smtpc_state {
	S_GREETING = 0, /* waiting for 220 */
	S_EHLO,
	S_HELO,
	S_STARTTLS,     /* STARTTLS sent */
	S_TLS,          /* the caller does the handshake */
	S_AUTH,
	S_READY,        /* between messages: the caller's turn */
	S_RSET,         /* RSET before a message on a reused session */
	S_TRANS,        /* MAIL, RCPT, DATA sent, replies due */
	S_BODY,         /* the caller sends the body */
	S_DOT,          /* the end of data sent */
	S_QUIT,
	S_CLOSED,
};

struct smtpc {
	struct smtpc_opts o;
	enum smtpc_state state;
	int tls;          /* the connection is TLS */
	int tls_refused;  /* STARTTLS got no 220: plain text it is */
	int authed;
	unsigned auth_mech;   /* SMTPC_AUTH_* in use */
	unsigned auth_step;   /* 334 prompts answered */
	struct smtpc_caps caps;
	struct smtpc_acc acc;
	struct smtpc_out out;
	const char *why;

	/* The message (client_trans.c). */
	struct smtpc_msg m;   /* the caller's, flags completed */
	unsigned char *marks; /* per recipient: open, accepted, decided */
	size_t marks_cap;
	size_t open;          /* recipients not decided */
	size_t accepted;      /* ... of which a RCPT was accepted */
	size_t sent, answered; /* steps: MAIL, each RCPT, DATA */
	unsigned messages;    /* started on this session */
	int discard;          /* DATA's 354 came with nobody to send to */
	struct smtpc_stuff stuff;

	/* A reply made here (smtpc_local), and the session's end. */
	struct smtpc_reply local, end;
	int ended;
	char local_enh[SMTPC_ENH_MAX + 1], end_enh[SMTPC_ENH_MAX + 1];
	char local_text[SMTPC_TEXT_MAX + 1], end_text[SMTPC_TEXT_MAX + 1];
};

/* A reply of ours, "code enh text", in c until the next one. */
const struct smtpc_reply *smtpc_local(struct smtpc *c, int code,
				      const char *enh, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* The session ends for r: a message in progress has its undecided
 * recipients deferred, then QUIT, or with close CLOSED at once.
 * Returns events. */
int smtpc_fail(struct smtpc *c, const struct smtpc_reply *r, int close);

/* The server broke the protocol: the session ends at once (undecided
 * recipients deferred), why kept for smtpc_why. Returns SMTPC_EPROTO. */
int smtpc_protocol_error(struct smtpc *c, const char *why);

/* What a public call returns: ev with SEND when octets wait and CLOSED
 * once closed; a buffer that could not grow ends the session
 * (SMTPC_ENOMEM). A negative ev is returned as it is. */
int smtpc_events(struct smtpc *c, int ev);

/* client_trans.c: defer what a message in progress has undecided
 * (DONE if there was one), a reply in S_RSET, S_TRANS or S_DOT, and the
 * timeout of S_TRANS. */
int smtpc_trans_defer(struct smtpc *c, const struct smtpc_reply *r);
int smtpc_trans_reply(struct smtpc *c, const struct smtpc_reply *r);
unsigned smtpc_trans_timeout(const struct smtpc *c);

/* client_auth.c: AUTH once the session is ready for it, and its
 * replies. */
int smtpc_auth_start(struct smtpc *c);
int smtpc_auth_reply(struct smtpc *c, const struct smtpc_reply *r);

#endif
