/* auth_static.so: an auth backend for tests, whose users live in its
 * config block ("user NAME PASSWORD;", repeatable). Each worker hashes the
 * passwords with ps_password_hash at start and checks them with
 * ps_password_verify, so logins pay what a real backend's do. Publishes
 * the "auth" interface as "static" with verify and lookup. */
#include <poshta/poshta.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct static_user {
	char name[PS_AUTH_NAME_MAX + 1]; /* lower case */
	char hash[128];
};

/* Written in worker_init, read-only afterwards: safe from pool threads. */
static struct static_user *users;
static size_t nusers;

static const struct ps_directive static_directives[] = {
	{ .name = "user", .type = PS_CONF_WORDS, .flags = PS_CONF_MULTI,
	  .min = 2, .max = 2,
	  .help = "a user: NAME PASSWORD (in the clear: tests only)" },
	{ .name = NULL },
};

static const struct static_user *
find(const char *name)
{
	for (size_t i = 0; i < nusers; i++)
		if (strcasecmp(users[i].name, name) == 0)
			return &users[i];
	return NULL;
}

static int
found(const struct static_user *u, struct ps_auth_user *user_r)
{
	memset(user_r, 0, sizeof(*user_r));
	snprintf(user_r->name, sizeof(user_r->name), "%s", u->name);
	user_r->enabled = 1;
	return 0;
}

/* An unknown user costs a check all the same (hash NULL). */
static int
static_verify(const char *user, const char *password,
	      struct ps_auth_user *user_r, struct ps_error *err)
{
	const struct static_user *u = find(user);

	(void)err;
	if (!ps_password_verify(u ? u->hash : NULL, password))
		return PS_AUTH_EDENIED;
	return found(u, user_r);
}

static int
static_lookup(const char *user, struct ps_auth_user *user_r,
	      struct ps_error *err)
{
	const struct static_user *u = find(user);

	(void)err;
	return u ? found(u, user_r) : PS_ENOENT;
}

static const struct ps_auth_ops static_ops = {
	.size = sizeof(struct ps_auth_ops),
	.verify = static_verify,
	.lookup = static_lookup,
};

static int
static_init(struct ps_error *err)
{
	if (ps_conf_register(PS_SCOPE_MODULE, static_directives) < 0 ||
	    ps_iface_publish(PS_AUTH_KIND, "static", &static_ops) < 0) {
		snprintf(err->msg, sizeof(err->msg),
			 "cannot register the static auth backend");
		return PS_EFAIL;
	}
	return 0;
}

/* Hashing blocks; at start-up, with no client waiting, that is fine. */
static int
static_worker_init(struct ps_error *err)
{
	const struct ps_conf_section *s = ps_conf_module();
	size_t n = ps_conf_count(s, "user");

	users = calloc(n ? n : 1, sizeof(*users));
	if (!users) {
		snprintf(err->msg, sizeof(err->msg), "out of memory");
		return PS_ENOMEM;
	}
	for (nusers = 0; nusers < n; nusers++) {
		const struct ps_conf_value *v = ps_conf_get(s, "user", nusers);
		struct static_user *u = &users[nusers];

		snprintf(u->name, sizeof(u->name), "%s", v->words[0]);
		for (char *p = u->name; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		if (ps_password_hash(v->words[1], u->hash, sizeof(u->hash),
				     err) < 0)
			return PS_EFAIL;
	}
	return 0;
}

static void
static_worker_exit(void)
{
	free(users);
	users = NULL;
	nusers = 0;
}

PS_MODULE_DEFINE(.name = "auth_static", .version = "1.0",
		 .init = static_init, .worker_init = static_worker_init,
		 .worker_exit = static_worker_exit);
