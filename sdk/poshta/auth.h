/* Auth backends: users, domains and aliases, published as the interface
 * kind "auth". Users are virtual: "local@domain".
 *
 * A backend fills a struct ps_auth_ops and publishes it with
 * ps_iface_publish(PS_AUTH_KIND, "NAME", &ops). Protocol modules rarely
 * call it directly: SASL and ps_auth_login (<poshta/poshta.h>) verify
 * passwords with the failure delay and limits; SMTP uses resolve.
 *
 * Threads: every call may block; call them from a job's work function,
 * never on the loop. All calls are safe from several threads at once.
 * Addresses and domains compare case-insensitively and are stored in
 * lower case. */
#ifndef POSHTA_AUTH_H
#define POSHTA_AUTH_H

#include <poshta/types.h>

#define PS_AUTH_KIND "auth"

/* Errors beside the PS_E* codes (PS_EEXIST: already there; PS_ENOENT:
 * no such user, domain or alias). */
#define PS_AUTH_EDENIED (-110)   /* wrong password, unknown or disabled
				  * user: one answer, so no oracle */
#define PS_AUTH_ENOTLOCAL (-111) /* the domain is not one of ours */

#define PS_AUTH_NAME_MAX 320 /* local@domain, RFC 5321 4.5.3.1 bounds */

struct ps_auth_user {
	char name[PS_AUTH_NAME_MAX + 1]; /* canonical: lower case */
	int enabled;
	uint64_t quota_bytes;            /* 0: no limit */
};

/* Callbacks: return 0 to go on, anything else to stop (and return it). */
typedef int (*ps_auth_name_fn)(const char *name, void *arg);
/* A final address of a resolved recipient: a local user (local 1) or a
 * forward to another server (local 0). */
typedef int (*ps_auth_target_fn)(const char *address, int local, void *arg);
typedef int (*ps_auth_alias_fn)(const char *alias, const char *target,
				void *arg);

struct ps_auth_ops {
	size_t size; /* sizeof(struct ps_auth_ops) */

	/* Check a password (through ps_password_verify, which also spends
	 * the same time on unknown users). PS_AUTH_EDENIED for any wrong
	 * combination; user_r is filled on success. */
	int (*verify)(const char *user, const char *password,
		      struct ps_auth_user *user_r, struct ps_error *err);
	/* A user by address: PS_ENOENT when unknown. */
	int (*lookup)(const char *user, struct ps_auth_user *user_r,
		      struct ps_error *err);
	/* Where mail to address goes: fn gets each final address (after
	 * aliases, recursively, without loops or duplicates; an enabled
	 * local user or a remote address). Returns 0, PS_ENOENT (our
	 * domain, nobody there) or PS_AUTH_ENOTLOCAL. */
	int (*resolve)(const char *address, ps_auth_target_fn fn, void *arg,
		       struct ps_error *err);

	/* Administration (poshtactl). Passwords arrive hashed
	 * (ps_password_hash). Deleting a domain deletes its users and
	 * aliases. */
	int (*domain_add)(const char *domain, struct ps_error *err);
	int (*domain_del)(const char *domain, struct ps_error *err);
	int (*domain_list)(ps_auth_name_fn fn, void *arg, struct ps_error *err);
	int (*user_add)(const char *user, const char *hash,
			struct ps_error *err);
	int (*user_set_password)(const char *user, const char *hash,
				 struct ps_error *err);
	int (*user_set_quota)(const char *user, uint64_t quota_bytes,
			      struct ps_error *err);
	int (*user_set_enabled)(const char *user, int enabled,
				struct ps_error *err);
	int (*user_del)(const char *user, struct ps_error *err);
	/* Users of domain, or of every domain when NULL. */
	int (*user_list)(const char *domain, ps_auth_name_fn fn, void *arg,
			 struct ps_error *err);
	/* An alias maps an address (or "@domain", a catch-all) to a target
	 * address, local or not; one alias may have several targets. */
	int (*alias_add)(const char *alias, const char *target,
			 struct ps_error *err);
	/* target NULL: every target of alias. */
	int (*alias_del)(const char *alias, const char *target,
			 struct ps_error *err);
	int (*alias_list)(ps_auth_alias_fn fn, void *arg, struct ps_error *err);
};

#endif
