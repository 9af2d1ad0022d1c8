/* libpsauth: what every auth backend must say word for word the same,
 * kept in one place so two backends cannot drift apart: the address and
 * domain checks (name.c), the messages of the answers struct ps_auth_ops
 * promises (fail.c), password hash checks (hash.c), and the bookkeeping
 * of an alias resolution walk: the depth and size bounds, loops and
 * duplicates (walk.c). Pure: libc and the SDK's types, no SDK calls, no
 * global state. Linked into a module as the convenience library
 * modules/authkit/libpsauth.la; tests/unit/test_authkit.c links it alone.
 *
 * A backend's resolve walks (RFC 5321 3.9.1) like this, asking its own
 * tables the questions in between:
 *
 *   authkit_walk_init(&w, err)
 *   expand(address, depth):
 *     authkit_walk_enter(&w, address, depth)  <= 0: seen, or too deep
 *     not our domain: authkit_walk_emit(&w, address, 0)
 *     aliases: expand each target (depth + 1); a target equal to the
 *              alias emits it (local) when its user is enabled
 *     else its user, when enabled: authkit_walk_emit(&w, address, 1)
 *     else authkit_walk_mark(&w, "@domain") > 0: follow the catch-all
 *   authkit_walk_deliver(&w, fn, arg), with no connection borrowed
 *   authkit_walk_free(&w) */
#ifndef AUTHKIT_H
#define AUTHKIT_H

#include <stddef.h>
#include <poshta/auth.h>

/* RFC 5321 4.5.3.1.1 and 4.5.3.1.2 (the address bound is their sum,
 * PS_AUTH_NAME_MAX). */
#define AUTHKIT_LOCAL_MAX 64
#define AUTHKIT_DOMAIN_MAX 255

/* ---- name.c ---------------------------------------------------------- */

/* Each writes the canonical (lower-case) form of in to out, or returns
 * PS_EINVAL with a message saying what is wrong. */
int authkit_name_domain(const char *in, char out[AUTHKIT_DOMAIN_MAX + 1],
			struct ps_error *err);
int authkit_name_address(const char *in, char out[PS_AUTH_NAME_MAX + 1],
			 struct ps_error *err);
/* An address, or "@domain" (a catch-all). */
int authkit_name_alias(const char *in, char out[PS_AUTH_NAME_MAX + 1],
		       struct ps_error *err);
/* The domain of a canonical address or "@domain". */
const char *authkit_name_domain_of(const char *name);

/* ---- fail.c ---------------------------------------------------------- */

/* Set err and return code (a PS_E* or PS_AUTH_E* value). */
int authkit_fail(struct ps_error *err, int code, const char *fmt, ...)
	PS_PRINTF(3, 4);
/* PS_ENOENT: canonical domain is not there (to add a user or alias). */
int authkit_no_domain(struct ps_error *err, const char *domain);
/* The result r of an UPDATE or DELETE of one user (rows changed, or a
 * negative code): 0, PS_ENOENT "no user" when none changed, or r. */
int authkit_user_changed(int r, const char *user, struct ps_error *err);
/* The result r of an INSERT of a canonical user or alias (rows added,
 * or a negative code: PS_EEXIST a unique key, PS_ENOENT its domain is
 * not there): 0, the code with its message, or r. */
int authkit_user_added(int r, const char *user, struct ps_error *err);
int authkit_alias_added(int r, const char *alias, const char *target,
			struct ps_error *err);

/* ---- hash.c ---------------------------------------------------------- */

/* Hashes are crypt(3) strings: printable ASCII, well under this. */
#define AUTHKIT_HASH_MAX 512

/* 0, or PS_EINVAL when hash is empty, too long, or holds a space, a
 * control or a non-ASCII byte. */
int authkit_hash_check(const char *hash, struct ps_error *err);
/* Wipe and free a copy of a hash; NULL is fine. */
void authkit_hash_free(char *hash);

/* ---- walk.c ---------------------------------------------------------- */

/* Aliases of aliases followed, and addresses one resolution may visit. */
#define AUTHKIT_ALIAS_DEPTH 8
#define AUTHKIT_RESOLVE_MAX 1000

/* At most AUTHKIT_RESOLVE_MAX names, each a copy; v has one slot more,
 * so it stays NULL-terminated. */
struct authkit_names {
	char **v;
	size_t n;
};

/* 0, or PS_ENOMEM with err. */
int authkit_names_init(struct authkit_names *l, struct ps_error *err);
int authkit_names_has(const struct authkit_names *l, const char *name);
/* Append a copy of name: 0, or PS_EFAIL past the bound, or PS_ENOMEM. */
int authkit_names_push(struct authkit_names *l, const char *name,
		       struct ps_error *err);
/* Free the names and start empty again; the slots stay. */
void authkit_names_clear(struct authkit_names *l);
/* Free names and slots; an l whose init failed, or a zeroed one, too. */
void authkit_names_free(struct authkit_names *l);

struct authkit_walk {
	struct ps_error *err;
	struct authkit_names seen; /* addresses and "@domain" keys expanded */
	struct authkit_names out;  /* final addresses, in order found */
	int *local;                /* for each of out */
};

/* 0, or PS_ENOMEM with err (free w all the same). err gets every later
 * message of the walk. */
int authkit_walk_init(struct authkit_walk *w, struct ps_error *err);
/* Before expanding canonical address at depth: 0 when it was seen
 * already (nothing to do), 1 when it is new (and now seen), or PS_EFAIL
 * when depth is past AUTHKIT_ALIAS_DEPTH or too many were seen. */
int authkit_walk_enter(struct authkit_walk *w, const char *address,
		       int depth);
/* The same without the depth bound, for a "@domain" catch-all key. */
int authkit_walk_mark(struct authkit_walk *w, const char *name);
/* A final address (local: a mailbox of ours); once each. 0 or < 0. */
int authkit_walk_emit(struct authkit_walk *w, const char *address,
		      int local);
/* Forget what was seen and found, to walk again from the start. */
void authkit_walk_reset(struct authkit_walk *w);
/* Call fn for each final address in order until it returns non-zero:
 * 0 or fn's value. */
int authkit_walk_deliver(const struct authkit_walk *w, ps_auth_target_fn fn,
			 void *arg);
void authkit_walk_free(struct authkit_walk *w);

#endif
