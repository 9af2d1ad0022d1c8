/* The SMTP command grammar (RFC 5321 4.1.1 and 4.1.2, with RFC 6531's
 * UTF-8 and the parameters of RFC 1870, 6152, 3461, 4954 and 3030) as
 * pure functions: no SDK calls, so the unit test and the fuzzer link
 * command.c alone. */
#ifndef SMTP_COMMAND_H
#define SMTP_COMMAND_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define SMTP_LOCAL_MAX 64   /* RFC 5321 4.5.3.1.1 */
#define SMTP_DOMAIN_MAX 255 /* 4.5.3.1.2 */
#define SMTP_PATH_MAX 256   /* 4.5.3.1.3, brackets and route included */
#define SMTP_ENVID_MAX 100  /* RFC 3461 4.4 */
#define SMTP_ORCPT_MAX 500  /* RFC 3461 4.2 */

enum smtp_verb {
	SMTP_V_UNKNOWN = 0,
	SMTP_V_EHLO,
	SMTP_V_HELO,
	SMTP_V_MAIL,
	SMTP_V_RCPT,
	SMTP_V_DATA,
	SMTP_V_BDAT,
	SMTP_V_RSET,
	SMTP_V_NOOP,
	SMTP_V_QUIT,
	SMTP_V_VRFY,
	SMTP_V_EXPN,
	SMTP_V_HELP,
	SMTP_V_STARTTLS,
	SMTP_V_AUTH,
};

/* Character classes of RFC 5321 4.1.2 and RFC 5322 3.2.3. */
static inline int
smtp_is_alpha(int ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}

static inline int
smtp_is_digit(int ch)
{
	return ch >= '0' && ch <= '9';
}

static inline int
smtp_is_letdig(int ch)
{
	return smtp_is_alpha(ch) || smtp_is_digit(ch);
}

/* RFC 5322 3.2.3 atext, ASCII part. */
static inline int
smtp_is_atext(int ch)
{
	return smtp_is_letdig(ch) || (ch && strchr("!#$%&'*+-/=?^_`{|}~", ch));
}

/* The length of the well-formed non-ASCII UTF-8 sequence at s, or 0. */
size_t smtp_utf8_seq(const unsigned char *s, size_t len);

/* Parse results; the module turns each into its reply. */
enum smtp_perr {
	SMTP_P_OK = 0,
	SMTP_P_SYNTAX,    /* the command's own words: 501 5.5.4 */
	SMTP_P_ADDRESS,   /* the path: 501 5.1.7 (MAIL), 5.1.3 (RCPT) */
	SMTP_P_PARAM,     /* a known parameter, badly written: 501 5.5.4 */
	SMTP_P_UNKNOWN,   /* a parameter not offered: 555 5.5.4 */
};

/* struct smtp_path flags. */
#define SMTP_PATH_NULL 0x01     /* "<>" */
#define SMTP_PATH_QUOTED 0x02   /* the local part keeps its quotes */
#define SMTP_PATH_LITERAL 0x04  /* the domain is an address literal */
#define SMTP_PATH_UTF8 0x08     /* non-ASCII octets (RFC 6531) */
#define SMTP_PATH_ROUTE 0x10    /* a source route was given, and dropped */
#define SMTP_PATH_NODOMAIN 0x20 /* "<Postmaster>", RFC 5321 4.1.1.3 */
#define SMTP_PATH_ROUTING 0x40  /* '%', '!' or '@' in the local part */

struct smtp_path {
	/* local@domain: a quoted local part whose content is a dot-string
	 * is unquoted (RFC 5321 4.1.2 says they are the same mailbox); ""
	 * for <>; "Postmaster" as written for NODOMAIN. */
	char addr[SMTP_PATH_MAX + 1];
	size_t local_len; /* octets of addr before the '@' */
	unsigned flags;
};

/* BODY= values (RFC 6152, RFC 3030). */
enum smtp_body_type {
	SMTP_BODY_NONE = 0,
	SMTP_BODY_7BIT,
	SMTP_BODY_8BITMIME,
};

/* RFC 3461 RET and NOTIFY. */
#define SMTP_RET_FULL 1
#define SMTP_RET_HDRS 2
#define SMTP_NOTIFY_NEVER 0x1
#define SMTP_NOTIFY_SUCCESS 0x2
#define SMTP_NOTIFY_FAILURE 0x4
#define SMTP_NOTIFY_DELAY 0x8

/* "MAIL FROM:<path> [params]" */
struct smtp_mail {
	struct smtp_path path;
	uint64_t size;     /* SIZE=, RFC 1870; 0 when not given */
	int body;          /* enum smtp_body_type */
	int smtputf8;      /* SMTPUTF8, RFC 6531 3.4 */
	int ret;           /* SMTP_RET_*, 0 when not given */
	char envid[SMTP_ENVID_MAX + 1]; /* ENVID= as xtext, "" if none */
	int auth;          /* AUTH= was given (RFC 4954 5) */
	int requiretls;    /* REQUIRETLS, RFC 8689 4.1; allowed only on
			    * a TLS session (the caller's check) */
};

/* "RCPT TO:<path> [params]" */
struct smtp_rcpt {
	struct smtp_path path;
	unsigned notify;   /* SMTP_NOTIFY_*, 0 when not given */
	char orcpt[SMTP_ORCPT_MAX + 1]; /* ORCPT= as written, "" if none */
};

/* The verb of line[0..len) (case-insensitive) and, in *args_r, where
 * its argument starts (after the spaces that follow the verb). */
enum smtp_verb smtp_verb_parse(const char *line, size_t len,
			       size_t *args_r);

/* A path at s[0..len), which must begin with '<'. Flags allow "<>"
 * (null_ok) and "<Postmaster>" (postmaster_ok). *end_r: the byte after
 * '>'. UTF-8 is always parsed (SMTP_PATH_UTF8 tells); whether it was
 * allowed is the caller's decision. */
int smtp_path_parse(const char *s, size_t len, int null_ok,
		    int postmaster_ok, struct smtp_path *p, size_t *end_r);

/* The argument of MAIL and RCPT (after the verb). */
int smtp_mail_parse(const char *s, size_t len, struct smtp_mail *m);
int smtp_rcpt_parse(const char *s, size_t len, struct smtp_rcpt *r);

/* "BDAT size [LAST]" (RFC 3030 2): 0 or SMTP_P_SYNTAX. */
int smtp_bdat_parse(const char *s, size_t len, uint64_t *size_r,
		    int *last_r);

/* An EHLO/HELO argument we take: printable ASCII, one word, no comment
 * characters, at most 255 octets. Returns 1 when acceptable. */
int smtp_helo_ok(const char *s, size_t len);

/* 1 when s[0..len) is a Domain or address-literal of RFC 5321 4.1.2
 * (ASCII), so it can stand in a Received "from" clause as it is. */
int smtp_domain_ok(const char *s, size_t len);

#endif
