/* Loop protection: is a message an automatic one that must not get a DSN?
 * Auto-Submitted other than "no" (RFC 3834 5), or a delivery report
 * (RFC 6522 multipart/report, report-type delivery-status or RFC 6533's
 * global-delivery-status). Header fields are read with libpsmime, so a
 * report is recognised however its header is folded or quoted. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dsn.h"
#include "mime.h"

#define AUTO_VALUE_MAX 256 /* octets of Auto-Submitted looked at */

/* Skip white space and RFC 5322 comments (nesting bounded by the text). */
static size_t
skip_cfws(const char *s, size_t len, size_t i)
{
	unsigned depth = 0;

	for (; i < len; i++) {
		if (s[i] == '(')
			depth++;
		else if (s[i] == ')' && depth > 0)
			depth--;
		else if (s[i] == '\\' && depth > 0 && i + 1 < len)
			i++;
		else if (depth == 0 && s[i] != ' ' && s[i] != '\t')
			break;
	}
	return i;
}

/* Auto-Submitted's keyword is "no": a human sent the message. Anything
 * else, an empty or unreadable value too, is treated as automatic. */
static int
auto_submitted(const struct mime_field *f)
{
	char v[AUTO_VALUE_MAX];
	size_t n = f->value_len < sizeof(v) ? f->value_len : sizeof(v);
	size_t i, end;

	n = mime_unfold(f->value, n, v);
	i = skip_cfws(v, n, 0);
	for (end = i; end < n && v[end] != ';' && v[end] != ' ' &&
	     v[end] != '\t' && v[end] != '('; end++)
		continue;
	return !(end - i == 2 && strncasecmp(v + i, "no", 2) == 0);
}

static int
field_is(const struct mime_field *f, const char *name)
{
	return f->name_len == strlen(name) &&
		strncasecmp(f->name, name, f->name_len) == 0;
}

/* Content-Type multipart/report with a delivery-status report-type. */
static int
delivery_report(const char *hdr, size_t len)
{
	struct mime_parser *p = mime_parser_new(NULL);
	struct mime_part *root;
	const char *rt;
	int yes;

	if (!p)
		return DSN_ENOMEM;
	mime_parser_feed(p, hdr, len);
	if (!(root = mime_parser_finish(p)))
		return DSN_ENOMEM;
	rt = mime_param_get(root->params, root->nparams, "report-type");
	yes = strcasecmp(root->type, "multipart") == 0 &&
		strcasecmp(root->subtype, "report") == 0 && rt &&
		(strcasecmp(rt, "delivery-status") == 0 ||
		 strcasecmp(rt, "global-delivery-status") == 0);
	mime_tree_free(root);
	return yes;
}

int
dsn_is_report(const char *hdr, size_t len)
{
	struct mime_header_iter it;
	struct mime_field f;
	int content_type = 0;

	mime_header_init(&it, hdr, len, 0);
	while (mime_header_next(&it, &f)) {
		if (field_is(&f, "Auto-Submitted") && auto_submitted(&f))
			return 1;
		content_type |= field_is(&f, "Content-Type");
	}
	return content_type ? delivery_report(hdr, len) : 0;
}
