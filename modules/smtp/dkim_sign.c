/* DKIM signing of submitted mail at enqueue (RFC 6376, with libpsdkim:
 * rsa-sha256, or ed25519-sha256 per RFC 8463, by the key's type;
 * relaxed/relaxed). The "dkim_sign DOMAIN SELECTOR KEYFILE" directives'
 * keys are loaded at worker start; a message is signed by the key of
 * its From address's domain (RFC 5322 3.6.2; RFC 6376 3.10 and DMARC
 * alignment want d= to be that domain). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dkim.h"
#include "smtpd.h"

#define SIGN_CHUNK (64 * 1024)

struct smtp_dkim {
	const char *domain, *selector; /* the config's strings */
	struct dkim_key *key;
};

const char *
smtp_dkim_domain(const struct smtp_dkim *k)
{
	return k->domain;
}

void
smtp_dkim_free(void)
{
	for (size_t i = 0; i < smtp_cfg.ndkim; i++)
		dkim_key_free(smtp_cfg.dkim[i].key);
	free(smtp_cfg.dkim);
	smtp_cfg.dkim = NULL;
	smtp_cfg.ndkim = 0;
}

static int
load_one(const struct ps_conf_value *v, struct smtp_dkim *k,
	 struct ps_error *err)
{
	struct ps_error why = {""};

	if (!v || v->nwords != 3) {
		snprintf(err->msg, sizeof(err->msg), "dkim_sign takes DOMAIN "
			 "SELECTOR KEYFILE");
		return PS_EINVAL;
	}
	k->domain = v->words[0];
	k->selector = v->words[1];
	if (dkim_check_name("domain", k->domain, &why) < 0 ||
	    dkim_check_name("selector", k->selector, &why) < 0 ||
	    dkim_key_load(v->words[2], &k->key, &why) < 0) {
		snprintf(err->msg, sizeof(err->msg), "%s:%d: dkim_sign %s: %s",
			 v->file, v->line, k->domain, why.msg);
		return PS_EINVAL;
	}
	return 0;
}

/* Every dkim_sign of the smtp block; the config offers no check at
 * load time for a module, so a bad key fails the worker's start. */
int
smtp_dkim_load(struct ps_error *err)
{
	const struct ps_conf_section *m = ps_conf_module();
	size_t n = ps_conf_count(m, "dkim_sign");

	smtp_dkim_free();
	if (n == 0)
		return 0;
	if (!(smtp_cfg.dkim = calloc(n, sizeof(*smtp_cfg.dkim)))) {
		snprintf(err->msg, sizeof(err->msg), "out of memory");
		return PS_ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		const struct ps_conf_value *v = ps_conf_get(m, "dkim_sign", i);

		/* Keys 0..i-1 are loaded: what a failure frees. */
		smtp_cfg.ndkim = i;
		if (load_one(v, &smtp_cfg.dkim[i], err) < 0) {
			smtp_dkim_free();
			return PS_EINVAL;
		}
	}
	smtp_cfg.ndkim = n;
	return 0;
}

/* The unfolded value of the first From field of a header block, in out
 * (cut at size). 0 when there is none. */
static int
from_value(const char *h, size_t len, char *out, size_t size)
{
	size_t i = 0, o = 0;

	for (; i < len; i++) {
		if ((i == 0 || h[i - 1] == '\n') && len - i >= 5 &&
		    strncasecmp(h + i, "From:", 5) == 0)
			break;
		/* The empty line ends the header (RFC 5322 2.1). */
		if (h[i] == '\n' && i + 1 < len &&
		    (h[i + 1] == '\r' || h[i + 1] == '\n'))
			return 0;
	}
	if (i >= len)
		return 0;
	for (i += 5; i < len && o + 1 < size; i++) {
		/* A line that starts with no WSP ends the field (2.2.3). */
		if (h[i] == '\n' && (i + 1 >= len ||
				     (h[i + 1] != ' ' && h[i + 1] != '\t')))
			break;
		if (h[i] != '\r' && h[i] != '\n')
			out[o++] = h[i];
	}
	out[o] = '\0';
	return 1;
}

/* The domain of the first address of a From field's mailbox-list (RFC
 * 5322 3.4): the last '@' outside quoted strings and comments before
 * the first mailbox ends, at a ',' outside angle brackets or at '>'. */
static int
first_domain(const char *v, char *out, size_t size)
{
	const char *at = NULL;
	int quoted = 0, comment = 0, angle = 0;
	size_t n;

	for (const char *p = v; *p; p++) {
		if (*p == '\\' && (quoted || comment) && p[1]) {
			p++;
		} else if (quoted) {
			quoted = *p != '"';
		} else if (*p == '(') {
			comment++;
		} else if (comment) {
			comment -= *p == ')';
		} else if (*p == '"') {
			quoted = 1;
		} else if (*p == '<') {
			angle = 1;
			at = NULL;
		} else if ((*p == '>' && angle) || (*p == ',' && !angle)) {
			break;
		} else if (*p == ':' && !angle) {
			at = NULL; /* a group's name (3.4) */
		} else if (*p == '@') {
			at = p;
		}
	}
	if (!at)
		return 0;
	n = strcspn(at + 1, " \t>,;()<\"");
	if (n == 0 || n >= size)
		return 0;
	memcpy(out, at + 1, n);
	out[n] = '\0';
	return 1;
}

int
smtp_from_domain(const char *headers, size_t len, char *out, size_t size)
{
	char value[2048];

	return from_value(headers, len, value, sizeof(value)) &&
	       first_domain(value, out, size);
}

/* The key for a message whose header block is headers, or NULL. */
const struct smtp_dkim *
smtp_dkim_find(const char *headers, size_t len)
{
	char domain[SMTP_DOMAIN_MAX + 1];

	if (!smtp_from_domain(headers, len, domain, sizeof(domain)))
		return NULL;
	for (size_t i = 0; i < smtp_cfg.ndkim; i++)
		if (strcasecmp(smtp_cfg.dkim[i].domain, domain) == 0)
			return &smtp_cfg.dkim[i];
	return NULL;
}

/* On a pool thread: the signer over the message as it will be queued
 * (head, then the spool), *field_r the DKIM-Signature field. Received
 * and the other trace fields are not in h= (libpsdkim leaves them out),
 * so relays adding theirs do not break it. */
int
smtp_dkim_sign(const struct smtp_dkim *k, const char *head, size_t head_len,
	       const struct smtp_spool *sp, int64_t now, char **field_r,
	       struct ps_error *err)
{
	struct dkim_sign_options opt = {.time = now};
	struct dkim_sign *ds;
	char *buf = malloc(SIGN_CHUNK);
	uint64_t off = 0;
	size_t got;
	int r;

	*field_r = NULL;
	if (!buf) {
		snprintf(err->msg, sizeof(err->msg), "out of memory");
		return PS_ENOMEM;
	}
	r = dkim_sign_new(k->key, k->domain, k->selector, &opt, &ds, err);
	if (r == 0) {
		r = dkim_sign_update(ds, head, head_len, err);
		while (r == 0 && smtp_spool_read(sp, off, buf, SIGN_CHUNK,
						 &got) == 0 && got) {
			r = dkim_sign_update(ds, buf, got, err);
			off += got;
		}
		if (r == 0)
			r = dkim_sign_finish(ds, field_r, err);
		dkim_sign_free(ds);
	}
	free(buf);
	return r;
}
