/* What the server can do and says about itself: the greeting, CAPABILITY
 * (RFC 9051 6.1.1), ENABLE (RFC 5161), ID (RFC 2971), NAMESPACE (RFC
 * 2342) and LOGOUT (6.1.3). The capability list changes with the
 * session: STARTTLS until TLS, LOGINDISABLED and no AUTH= while the
 * listener forbids plaintext passwords, and no login words after login. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "imapd.h"
#include "quote.h"

/* The extensions every session has, as CAPABILITY lists them. */
static const char *const imap_extensions[] = {
	"SASL-IR",     /* RFC 4959 */
	"LITERAL+",    /* RFC 7888 */
	"ID",          /* RFC 2971 */
	"ENABLE",      /* RFC 5161 */
	"IDLE",        /* RFC 2177 */
	"NAMESPACE",   /* RFC 2342 */
	"UNSELECT",    /* RFC 3691 */
	"CHILDREN",    /* RFC 3348 */
	"SPECIAL-USE", /* RFC 6154 */
	"CREATE-SPECIAL-USE",
	"LIST-EXTENDED", /* RFC 5258 */
	"LIST-STATUS", /* RFC 5819 */
	"STATUS=SIZE", /* RFC 8438 */
	"CONDSTORE",   /* RFC 7162 */
	"QRESYNC",
	"UTF8=ACCEPT", /* RFC 6855 */
	"COMPRESS=DEFLATE", /* RFC 4978 */
	"QUOTA",       /* RFC 9208: one root, "", with a STORAGE limit */
	"QUOTA=RES-STORAGE",
	"UIDPLUS",     /* RFC 4315 */
	"MOVE",        /* RFC 6851 */
	"MULTIAPPEND", /* RFC 3502 */
	"BINARY",      /* RFC 3516 */
	"ESEARCH",     /* RFC 4731 */
	"SEARCHRES",   /* RFC 5182 */
	NULL,
};

static void
add_word(struct imap_buf *b, const char *w)
{
	imap_buf_addc(b, ' ');
	imap_buf_adds(b, w);
}

/* The login words: AUTH=... for each mechanism the core offers now, or
 * LOGINDISABLED when it offers none (RFC 9051 6.2.3, 7.2.2). */
static void
add_login(struct imap_session *s, struct imap_buf *b)
{
	char mechs[256], *save = NULL;
	unsigned tls = ps_conn_tls(s->conn);

	if ((tls & PS_TLS_OFFERED) && !(tls & PS_TLS_ACTIVE))
		add_word(b, "STARTTLS");
	snprintf(mechs, sizeof(mechs), "%s", ps_sasl_mechanisms(s->conn));
	if (!mechs[0]) {
		add_word(b, "LOGINDISABLED");
		return;
	}
	for (char *m = strtok_r(mechs, " ", &save); m;
	     m = strtok_r(NULL, " ", &save)) {
		imap_buf_adds(b, " AUTH=");
		imap_buf_adds(b, m);
	}
}

/* "IMAP4rev1 IMAP4rev2 ..." without the leading "* CAPABILITY". */
void
imap_capabilities(struct imap_session *s, struct imap_buf *b)
{
	imap_buf_adds(b, "IMAP4rev1 IMAP4rev2");
	if (s->state == IMAP_NOTAUTH)
		add_login(s, b);
	for (size_t i = 0; imap_extensions[i]; i++)
		add_word(b, imap_extensions[i]);
	imap_buf_adds(b, " APPENDLIMIT=");
	imap_buf_addu64(b, imap_cfg.append_limit);
	imap_ext_capabilities(b);
}

/* RFC 9051 7.1.1: the greeting may carry the capabilities, which saves
 * the client a round trip. */
int
imap_greet(struct imap_session *s)
{
	struct imap_buf b;
	int r;

	imap_buf_init(&b, 4096);
	imap_capabilities(s, &b);
	r = imap_printf(s, "* OK [CAPABILITY %s] %s Poshta IMAP ready\r\n",
			imap_buf_str(&b), imap_cfg.hostname);
	imap_buf_free(&b);
	return r;
}

int
imap_cmd_capability(struct imap_session *s)
{
	struct imap_buf b;

	if (s->nargs)
		return imap_bad(s, "CAPABILITY takes no arguments");
	imap_buf_init(&b, 4096);
	imap_capabilities(s, &b);
	imap_printf(s, "* CAPABILITY %s\r\n", imap_buf_str(&b));
	imap_buf_free(&b);
	return imap_ok(s, "Capability completed");
}

/* RFC 5161 3.1: each capability this command enabled is listed once in
 * ENABLED; unknown ones and those enabled before are not an error.
 * QRESYNC brings CONDSTORE with it (RFC 7162 3.2.3). */
int
imap_cmd_enable(struct imap_session *s)
{
	static const struct {
		const char *name;
		unsigned bits;
	} known[] = {
		{"CONDSTORE", IMAP_EN_CONDSTORE},
		{"QRESYNC", IMAP_EN_QRESYNC | IMAP_EN_CONDSTORE},
		{"UTF8=ACCEPT", IMAP_EN_UTF8},
		{"IMAP4rev2", IMAP_EN_REV2},
	};
	struct imap_buf b;
	const char *w;

	if (!s->nargs)
		return imap_bad(s, "ENABLE needs a capability");
	imap_buf_init(&b, 1024);
	for (size_t i = 0; i < s->nargs; i++) {
		if (imap_arg_get_atom(&s->args[i], &w) < 0) {
			imap_buf_free(&b);
			return imap_bad(s, "ENABLE takes capability atoms");
		}
		for (size_t k = 0; k < sizeof(known) / sizeof(known[0]); k++)
			if (strcasecmp(w, known[k].name) == 0 &&
			    (s->enabled & known[k].bits) != known[k].bits) {
				s->enabled |= known[k].bits;
				add_word(&b, known[k].name);
			}
	}
	/* From the next command on, quoted strings may carry UTF-8. */
	if (s->enabled & IMAP_EN_ANY_UTF8)
		imap_parser_set_flags(s->parser,
				      IMAP_PARSE_UTF8 | IMAP_PARSE_BINARY);
	imap_printf(s, "* ENABLED%s\r\n", imap_buf_str(&b));
	imap_buf_free(&b);
	return imap_ok(s, "Enabled");
}

/* RFC 2971 3.3: at most 30 pairs, fields up to 30 octets, values up to
 * 1024; the client's values are logged, ours sent back. */
static int
id_check(const struct imap_arg *list, size_t n)
{
	const char *k, *v;
	size_t klen, vlen;

	if (n % 2 || n > 60)
		return -1;
	for (size_t i = 0; i < n; i += 2)
		if (imap_arg_get_string(&list[i], &k, &klen) < 0 ||
		    klen > 30 ||
		    imap_arg_get_nstring(&list[i + 1], &v, &vlen) < 0 ||
		    vlen > 1024)
			return -1;
	return 0;
}

int
imap_cmd_id(struct imap_session *s)
{
	const struct imap_arg *list = NULL;
	size_t n = 0;
	const char *name = NULL, *k;
	size_t len;

	if (s->nargs != 1 ||
	    (s->args[0].type != IMAP_ARG_NIL &&
	     (imap_arg_get_list(&s->args[0], &list, &n) < 0 ||
	      id_check(list, n) < 0)))
		return imap_bad(s, "ID takes NIL or a list of field/value "
				"pairs");
	for (size_t i = 0; i < n; i += 2)
		if (imap_arg_get_string(&list[i], &k, &len) == 0 &&
		    strcasecmp(k, "name") == 0)
			imap_arg_get_nstring(&list[i + 1], &name, &len);
	if (name)
		ps_conn_log(s->conn, PS_LOG_INFO, "client id name=\"%.64s\"",
			    name);
	imap_printf(s, "* ID (\"name\" \"Poshta\" \"vendor\" \"Poshta\")\r\n");
	return imap_ok(s, "ID completed");
}

/* RFC 2342 5: one personal namespace, the user's own mailboxes; no
 * other users' or shared ones. */
int
imap_cmd_namespace(struct imap_session *s)
{
	if (s->nargs)
		return imap_bad(s, "NAMESPACE takes no arguments");
	imap_printf(s, "* NAMESPACE ((\"\" \"%s%c\")) NIL NIL\r\n",
		    imap_cfg.delim == '"' || imap_cfg.delim == '\\' ? "\\" : "",
		    imap_cfg.delim);
	return imap_ok(s, "Namespace completed");
}

/* RFC 9051 6.1.3: BYE first, then the tagged OK, then close. */
int
imap_cmd_logout(struct imap_session *s)
{
	if (s->nargs)
		return imap_bad(s, "LOGOUT takes no arguments");
	imap_printf(s, "* BYE Logging out\r\n");
	imap_ok(s, "Logout completed");
	s->state = IMAP_LOGOUT;
	ps_conn_close(s->conn);
	return 0;
}
