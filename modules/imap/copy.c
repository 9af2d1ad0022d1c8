/* COPY and MOVE, with their UID forms (RFC 9051 6.4.7-6.4.8, RFC 6851):
 * the store copies or moves the messages in one transaction and maps
 * each source UID to its new one, which the client gets as COPYUID (RFC
 * 4315 2.3): in the tagged OK of COPY, in an untagged OK before MOVE's
 * EXPUNGE (or VANISHED) responses (RFC 6851 4.3-4.4). A destination
 * that does not exist is [TRYCREATE] (RFC 9051 6.4.7). */
#include <stdlib.h>
#include <string.h>

#include "imapd.h"

struct copy {
	char dest[IMAP_NAME_MAX + 1];
	int move;
	struct imap_seqset uids;
	uint32_t *src, *dst; /* the map, in source UID order */
	size_t n, cap;
	uint32_t uidvalidity;
	struct imap_buf code; /* "COPYUID ..." */
	int error;
};

static int
copy_map(uint32_t src, uint32_t dst, void *arg)
{
	struct copy *x = arg;

	if (x->n == x->cap) {
		size_t cap = x->cap ? x->cap * 2 : 64;
		uint32_t *a = realloc(x->src, cap * sizeof(*a));

		if (a)
			x->src = a;
		if (!a || !(a = realloc(x->dst, cap * sizeof(*a)))) {
			x->error = 1;
			return 0;
		}
		x->dst = a;
		x->cap = cap;
	}
	x->src[x->n] = src;
	x->dst[x->n++] = dst;
	return 0;
}

/* RFC 4315 3: "COPYUID" SP nz-number SP uid-set SP uid-set, the two
 * sets pairing up in order. Nothing copied, nothing to say. */
static void
copy_code(struct copy *x)
{
	if (!x->n)
		return;
	imap_buf_adds(&x->code, "COPYUID ");
	imap_buf_addu64(&x->code, x->uidvalidity);
	imap_buf_addc(&x->code, ' ');
	imap_seqset_format_list(x->src, x->n, &x->code);
	imap_buf_addc(&x->code, ' ');
	imap_seqset_format_list(x->dst, x->n, &x->code);
}

static void
copy_work(struct imap_job *j)
{
	struct imap_session *s = j->s;
	struct imap_view *v = s->view;
	struct copy *x = j->arg;
	int r = imap_cfg.store.msg_copy(v->mb, x->uids.r, x->uids.n, x->dest,
					x->move, copy_map, x,
					&x->uidvalidity, &j->err);

	if (r == 0 && x->error)
		r = PS_ENOMEM;
	if (r == 0)
		copy_code(x);
	if (r == 0 && x->move) {
		if (x->n) {
			imap_buf_adds(&j->out, "* OK [");
			imap_buf_add(&j->out, x->code.data, x->code.len);
			imap_buf_adds(&j->out, "] Moved\r\n");
		}
		/* The moved messages are gone from here: reported at once,
		 * with whatever others expunged. */
		for (size_t i = 0; i < x->n; i++)
			if (imap_view_seq(v, x->src[i]) &&
			    imap_seqset_add(&v->expunged, x->src[i],
					    x->src[i]) < 0)
				r = PS_ENOMEM;
	}
	j->result = r;
	r = imap_view_sync(s, &j->out, 1, &j->err);
	if (j->result == 0)
		j->result = r;
}

static void
copy_free(struct copy *x)
{
	imap_seqset_free(&x->uids);
	imap_buf_free(&x->code);
	free(x->src);
	free(x->dst);
	free(x);
}

static void
copy_done(struct imap_job *j)
{
	struct imap_session *s = j->s;
	struct copy *x = j->arg;

	if (j->result == PS_STORE_ENOMBOX)
		imap_no(s, "TRYCREATE", "Mailbox does not exist");
	else if (j->result < 0)
		imap_store_error(s, j->result, &j->err);
	else if (x->move)
		imap_ok(s, "Move completed");
	else
		imap_tagged(s, "OK", x->code.len ? imap_buf_str(&x->code)
						 : NULL, "Copy completed");
	copy_free(x);
}

int
imap_cmd_copy(struct imap_session *s)
{
	struct copy *x;
	struct imap_job *j;
	/* Under UID, s->cmd is "UID" and the name is the argument dispatch
	 * took off, just before s->args. */
	int move = s->uid ? imap_arg_is_atom(&s->args[-1], "MOVE")
			  : strcmp(s->cmd, "MOVE") == 0;

	if (s->nargs != 2)
		return imap_bad(s, move ? "MOVE takes a sequence set and a "
					  "mailbox"
					: "COPY takes a sequence set and a "
					  "mailbox");
	if (move && s->view->readonly)
		return imap_no(s, NULL, "Mailbox is read-only");
	if (!(x = calloc(1, sizeof(*x))))
		return imap_no(s, "UNAVAILABLE", "Out of memory");
	x->move = move;
	imap_seqset_init(&x->uids);
	imap_buf_init(&x->code, (size_t)-1);
	if (imap_view_set(s, &s->args[0], s->uid, &x->uids) < 0 ||
	    imap_name_in(s, &s->args[1], x->dest, sizeof(x->dest)) < 0) {
		copy_free(x);
		return 0;
	}
	if (!(j = imap_job_new(s, copy_work, copy_done, x)) ||
	    imap_job_start(s, j) < 0) {
		imap_job_free(j);
		copy_free(x);
		return imap_no(s, "UNAVAILABLE", "Out of memory");
	}
	return 0;
}
