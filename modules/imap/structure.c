/* A message's MIME structure for FETCH: from the store's cache blob when
 * it holds a valid one, else parsed from the message read in bounded
 * chunks and given back to the store, so BODYSTRUCTURE, ENVELOPE and
 * section numbers read a body once, not at every FETCH. The same parse
 * makes the blob APPEND stores with a new message. Runs on the pool. */
#include <stdlib.h>

#include "imapd.h"
#include "mime.h"

#define STRUCTURE_CHUNK 65536

int
imap_structure_parse(imap_read_fn read, void *arg, struct mime_part **root_r,
		     uint64_t *read_r)
{
	struct mime_parser *p = mime_parser_new(NULL);
	char *buf = malloc(STRUCTURE_CHUNK);
	uint64_t off = 0;
	size_t got;
	int r = 0;

	*root_r = NULL;
	if (!p || !buf) {
		mime_parser_free(p);
		free(buf);
		return PS_ENOMEM;
	}
	for (;;) {
		r = read(arg, off, buf, STRUCTURE_CHUNK, &got);
		if (r < 0 || got == 0)
			break;
		off += got;
		if (mime_parser_feed(p, buf, got) != MIME_OK) {
			r = PS_ENOMEM;
			break;
		}
	}
	free(buf);
	if (read_r)
		*read_r = off;
	if (r < 0) {
		mime_parser_free(p);
		return r;
	}
	*root_r = mime_parser_finish(p);
	return *root_r ? 0 : PS_ENOMEM;
}

int
imap_structure_blob(imap_read_fn read, void *arg, void **blob_r,
		    size_t *len_r)
{
	struct mime_part *root;
	int r = imap_structure_parse(read, arg, &root, NULL);

	*blob_r = NULL;
	*len_r = 0;
	if (r < 0)
		return r;
	r = mime_cache_write(root, blob_r, len_r) == MIME_OK ? 0 : PS_ENOMEM;
	mime_tree_free(root);
	return r;
}

struct store_read {
	struct ps_mbox *mb;
	uint32_t uid;
	struct ps_error *err;
};

static int
store_read(void *arg, uint64_t offset, void *buf, size_t len, size_t *got_r)
{
	struct store_read *x = arg;

	return imap_cfg.store.msg_read(x->mb, x->uid, offset, buf, len, got_r,
				       x->err);
}

int
imap_structure_get(struct ps_mbox *mb, uint32_t uid, const void *cache,
		   size_t cache_len, struct mime_part **root_r,
		   uint64_t *parsed_r, struct ps_error *err)
{
	struct store_read x = {.mb = mb, .uid = uid, .err = err};
	struct ps_error ignored;
	void *blob;
	size_t len;
	int r;

	*parsed_r = 0;
	if (cache_len) {
		r = mime_cache_read(cache, cache_len, root_r);
		if (r == MIME_OK)
			return 0;
		if (r == MIME_ENOMEM)
			return PS_ENOMEM;
		/* MIME_EINVAL: a blob of another version, or damaged. */
	}
	r = imap_structure_parse(store_read, &x, root_r, parsed_r);
	if (r < 0)
		return r;
	/* The cache is an optimisation: a store that cannot keep it (a
	 * read-only database, a blob past its limit) costs a parse next
	 * time, not this FETCH. */
	if (mime_cache_write(*root_r, &blob, &len) == MIME_OK) {
		imap_cfg.store.msg_set_cache(mb, uid, blob, len, &ignored);
		free(blob);
	}
	return 0;
}
