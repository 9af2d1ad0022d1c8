/* The server's replies, as the outbound client reads them: RFC 5321 4.2
 * (three digits, "-" on every line but the last, one code for all),
 * 4.5.3.1.5's line length (relaxed: see SMTPC_LINE_MAX), and the
 * enhanced status code of RFC 2034 and RFC 3463 in front of the text.
 * Pure: no SDK calls. */
#include <string.h>

#include "client.h"

void
smtpc_acc_reset(struct smtpc_acc *a)
{
	memset(a, 0, sizeof(*a));
}

static int
digit(char ch)
{
	return ch >= '0' && ch <= '9';
}

/* RFC 5321 4.2: Reply-code = %x32-35 %x30-35 %x30-39. */
static int
reply_code(const char *s)
{
	if (s[0] < '2' || s[0] > '5' || s[1] < '0' || s[1] > '5' ||
	    !digit(s[2]))
		return 0;
	return (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
}

/* The length of an RFC 3463 status-code "class.subject.detail" at the
 * start of s[0..len) (subject and detail 1-3 digits), followed by a
 * space or the end, whose class is code's first digit; else 0. RFC 2034
 * 4: only 2xx, 4xx and 5xx replies carry one. */
static size_t
enhanced(const char *s, size_t len, int code)
{
	size_t i = 1;

	if (len < 5 || s[0] != '0' + code / 100 || s[0] == '3' || s[1] != '.')
		return 0;
	for (int part = 0; part < 2; part++) {
		size_t start = ++i;

		while (i < len && digit(s[i]) && i - start < 3)
			i++;
		if (i == start || (i < len && digit(s[i])))
			return 0;
		if (part == 0 && (i == len || s[i] != '.'))
			return 0;
	}
	return i == len || s[i] == ' ' ? i : 0;
}

/* Append s[0..len) to the kept text, control characters as spaces; a
 * text past SMTPC_TEXT_MAX is cut before a UTF-8 character it would
 * split. */
static void
keep(struct smtpc_acc *a, const char *s, size_t len)
{
	size_t room = SMTPC_TEXT_MAX - a->len;

	if (len > room) {
		len = room;
		while (len > 0 && ((unsigned char)s[len] & 0xc0) == 0x80)
			len--;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];

		a->text[a->len++] = ch < 0x20 || ch == 0x7f ? ' ' : (char)ch;
	}
	a->text[a->len] = '\0';
}

/* The text of a line after its code: the first line's is kept whole
 * (so the kept text starts "550 5.1.1 ..."); on later lines the
 * enhanced code, the same as the first's in practice, is dropped. */
static void
keep_line(struct smtpc_acc *a, const char *text, size_t len)
{
	size_t e = enhanced(text, len, a->code);

	if (a->lines == 1) {
		memcpy(a->enh, text, e);
		a->enh[e] = '\0';
	} else if (e) {
		text += e;
		len -= e;
		while (len > 0 && *text == ' ') {
			text++;
			len--;
		}
	}
	if (len == 0)
		return;
	keep(a, " ", 1);
	keep(a, text, len);
}

int
smtpc_acc_line(struct smtpc_acc *a, const char *line, size_t len,
	       const char **why_r)
{
	int code;

	if (len > SMTPC_LINE_MAX) {
		*why_r = "reply line longer than 2048 octets";
		return SMTPC_EPROTO;
	}
	if (len < 3 || !(code = reply_code(line)) ||
	    (len > 3 && line[3] != ' ' && line[3] != '-')) {
		*why_r = "malformed reply line";
		return SMTPC_EPROTO;
	}
	if (a->done)
		smtpc_acc_reset(a);
	if (a->lines == 0) {
		a->code = code;
		keep(a, line, 3);
	} else if (code != a->code) {
		*why_r = "reply lines with different codes";
		return SMTPC_EPROTO;
	}
	if (++a->lines > SMTPC_LINES_MAX) {
		*why_r = "reply of more than 128 lines";
		return SMTPC_EPROTO;
	}
	if (len > 4)
		keep_line(a, line + 4, len - 4);
	a->done = len == 3 || line[3] == ' ';
	return a->done;
}

void
smtpc_acc_reply(const struct smtpc_acc *a, struct smtpc_reply *r)
{
	*r = (struct smtpc_reply){
		.code = a->code, .enh = a->enh, .text = a->text, .local = 0};
}
