/* libpsauth's alias resolution walk (RFC 5321 3.9.1): what a backend's
 * resolve keeps while it follows aliases, so that every backend bounds
 * the depth and the count alike, stops at loops, finds each address once
 * and says so in the same words. The backend asks its own tables; this
 * only keeps the lists. */
#include <stdlib.h>
#include <string.h>

#include "authkit.h"

int
authkit_names_init(struct authkit_names *l, struct ps_error *err)
{
	l->n = 0;
	if (!(l->v = calloc(AUTHKIT_RESOLVE_MAX + 1, sizeof(*l->v))))
		return authkit_fail(err, PS_ENOMEM, "out of memory");
	return 0;
}

int
authkit_names_has(const struct authkit_names *l, const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i], name) == 0)
			return 1;
	return 0;
}

int
authkit_names_push(struct authkit_names *l, const char *name,
		   struct ps_error *err)
{
	if (l->n >= AUTHKIT_RESOLVE_MAX)
		return authkit_fail(err, PS_EFAIL, "aliases reach more than "
				    "%d addresses", AUTHKIT_RESOLVE_MAX);
	if (!(l->v[l->n] = strdup(name)))
		return authkit_fail(err, PS_ENOMEM, "out of memory");
	l->n++;
	return 0;
}

void
authkit_names_clear(struct authkit_names *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i]);
		l->v[i] = NULL;
	}
	l->n = 0;
}

void
authkit_names_free(struct authkit_names *l)
{
	if (l->v)
		authkit_names_clear(l);
	free(l->v);
	l->v = NULL;
}

int
authkit_walk_init(struct authkit_walk *w, struct ps_error *err)
{
	int r;

	memset(w, 0, sizeof(*w));
	w->err = err;
	if ((r = authkit_names_init(&w->seen, err)) < 0 ||
	    (r = authkit_names_init(&w->out, err)) < 0)
		return r;
	if (!(w->local = calloc(AUTHKIT_RESOLVE_MAX, sizeof(*w->local))))
		return authkit_fail(err, PS_ENOMEM, "out of memory");
	return 0;
}

int
authkit_walk_mark(struct authkit_walk *w, const char *name)
{
	int r;

	if (authkit_names_has(&w->seen, name))
		return 0;
	r = authkit_names_push(&w->seen, name, w->err);
	return r < 0 ? r : 1;
}

int
authkit_walk_enter(struct authkit_walk *w, const char *address, int depth)
{
	if (authkit_names_has(&w->seen, address))
		return 0;
	if (depth > AUTHKIT_ALIAS_DEPTH)
		return authkit_fail(w->err, PS_EFAIL, "aliases nested deeper "
				    "than %d at %s", AUTHKIT_ALIAS_DEPTH,
				    address);
	return authkit_walk_mark(w, address);
}

int
authkit_walk_emit(struct authkit_walk *w, const char *address, int local)
{
	if (authkit_names_has(&w->out, address))
		return 0;
	/* Within the bound, or the push below refuses it. */
	if (w->out.n < AUTHKIT_RESOLVE_MAX)
		w->local[w->out.n] = local;
	return authkit_names_push(&w->out, address, w->err);
}

void
authkit_walk_reset(struct authkit_walk *w)
{
	authkit_names_clear(&w->seen);
	authkit_names_clear(&w->out);
}

int
authkit_walk_deliver(const struct authkit_walk *w, ps_auth_target_fn fn,
		     void *arg)
{
	int r = 0;

	for (size_t i = 0; r == 0 && i < w->out.n; i++)
		r = fn(w->out.v[i], w->local[i], arg);
	return r;
}

void
authkit_walk_free(struct authkit_walk *w)
{
	authkit_names_free(&w->seen);
	authkit_names_free(&w->out);
	free(w->local);
	w->local = NULL;
}
