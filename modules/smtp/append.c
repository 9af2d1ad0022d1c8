/* A message kept as a head (trace fields, RFC 5321 4.4) and a spool, put
 * into a user's store: its parsed structure (libpsmime's cache blob, so
 * IMAP's FETCH never reads the body to describe it) and the append
 * itself. Shared by local delivery (deliver.c) and the delivery status
 * notifications to local senders (bounce.c). On a pool thread. */
#include <stdlib.h>
#include <stdio.h>

#include "mime.h"
#include "smtpd.h"

void *
smtp_append_structure(const char *head, size_t head_len,
		      const struct smtp_spool *sp, char *buf, size_t *len_r)
{
	struct mime_parser *p = mime_parser_new(NULL);
	struct mime_part *root;
	uint64_t off = 0;
	size_t got;
	void *blob = NULL;
	int ok;

	*len_r = 0;
	if (!p)
		return NULL;
	ok = mime_parser_feed(p, head, head_len) == MIME_OK;
	while (ok && smtp_spool_read(sp, off, buf, SMTP_APPEND_CHUNK,
				     &got) == 0 && got) {
		ok = mime_parser_feed(p, buf, got) == MIME_OK;
		off += got;
	}
	root = mime_parser_finish(p);
	if (!ok || !root || mime_cache_write(root, &blob, len_r) != MIME_OK) {
		blob = NULL;
		*len_r = 0;
	}
	mime_tree_free(root);
	return blob;
}

int
smtp_append_spool(struct ps_store_append *a, const struct smtp_append *m,
		  char *buf, struct ps_error *err)
{
	const struct ps_storage_ops *st = &smtp_cfg.store;
	uint64_t off = 0;
	size_t got;
	int r;

	r = st->append_msg_begin(a, 0, NULL, 0, m->now, m->tz, err);
	if (r == 0)
		r = st->append_data(a, m->head, m->head_len, err);
	while (r == 0) {
		if (smtp_spool_read(m->spool, off, buf, SMTP_APPEND_CHUNK,
				    &got) < 0) {
			snprintf(err->msg, sizeof(err->msg),
				 "spool read failed");
			r = PS_EIO;
		} else if (got == 0) {
			break;
		} else {
			r = st->append_data(a, buf, got, err);
			off += got;
		}
	}
	return r == 0 ? st->append_msg_end(a, m->blob, m->blob ? m->blob_len
							     : 0, err) : r;
}
