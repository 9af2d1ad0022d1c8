/* poshtactl's quota and mailbox commands. The limit lives in the auth
 * backend, the usage and the mailboxes in the storage backend (RFC 9208
 * STORAGE and MESSAGE resources; attributes of RFC 3501, 5258, 6154).
 * Sizes are parsed by the configuration's own parser. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "ctl.h"

void
ctl_format_size(char buf[32], uint64_t n)
{
	static const char units[] = "KMGT";
	int u = -1;

	while (n && n % 1024 == 0 && units[u + 1]) {
		n /= 1024;
		u++;
	}
	if (u < 0)
		snprintf(buf, 32, "%llu", (unsigned long long)n);
	else
		snprintf(buf, 32, "%llu%c", (unsigned long long)n, units[u]);
}

int
ctl_open_user(struct ctl *c, const char *address, char *name,
	      struct ps_store_user **u_r)
{
	struct ps_error err = {""};
	struct ps_auth_user user;

	if (CTL_LACKS(c->auth, lookup) || CTL_LACKS(c->store, user_open))
		return CTL_FAIL;
	if (c->auth.lookup(address, &user, &err) < 0 ||
	    c->store.user_open(user.name, user.quota_bytes, u_r, &err) < 0)
		return ctl_fail("%s", err.msg);
	strcpy(name, user.name);
	return CTL_OK;
}

int
ctl_quota_set(struct ctl *c)
{
	static const struct ps_directive size = {
		.name = "size", .type = PS_CONF_SIZE, .min = 0,
	};
	char *const value[] = {c->args[1], NULL};
	struct ps_error err = {""};
	struct ps_conf_value v;

	if (CTL_LACKS(c->auth, user_set_quota))
		return CTL_FAIL;
	if (ps_conf_check_value(&size, value, 1, &v, &err) < 0)
		return ctl_fail("bad size '%s': bytes, or a number with k, m "
				"or g (500M, 1G); 0 for no limit", c->args[1]);
	return ctl_done(c->auth.user_set_quota(c->args[0], (uint64_t)v.num,
					       &err), &err);
}

int
ctl_quota_get(struct ctl *c)
{
	char name[PS_AUTH_NAME_MAX + 1], limit[32];
	struct ps_error err = {""};
	struct ps_auth_user user;
	struct ps_store_user *u;
	uint64_t bytes, messages;
	int r;

	if (CTL_LACKS(c->store, quota_get) ||
	    ctl_open_user(c, c->args[0], name, &u) != CTL_OK)
		return CTL_FAIL;
	r = c->store.quota_get(u, &bytes, &messages, &err);
	c->store.user_close(u);
	if (r < 0 || c->auth.lookup(name, &user, &err) < 0)
		return ctl_fail("%s", err.msg);
	ctl_format_size(limit, user.quota_bytes);
	printf("%s: %llu bytes in %llu messages, %s%s\n", name,
	       (unsigned long long)bytes, (unsigned long long)messages,
	       user.quota_bytes ? "limit " : "no limit",
	       user.quota_bytes ? limit : "");
	return CTL_OK;
}

/* ---- mailbox list ---------------------------------------------------- */

static const struct {
	unsigned bit;
	const char *name;
} attr_names[] = {
	{PS_MBOX_NOSELECT, "\\Noselect"},
	{PS_MBOX_NOINFERIORS, "\\Noinferiors"},
	{PS_MBOX_HASCHILDREN, "\\HasChildren"},
	{PS_MBOX_HASNOCHILDREN, "\\HasNoChildren"},
	{PS_MBOX_SUBSCRIBED, "\\Subscribed"},
	{PS_MBOX_NONEXISTENT, "\\NonExistent"},
	{PS_MBOX_ALL, "\\All"},
	{PS_MBOX_ARCHIVE, "\\Archive"},
	{PS_MBOX_DRAFTS, "\\Drafts"},
	{PS_MBOX_FLAGGED, "\\Flagged"},
	{PS_MBOX_JUNK, "\\Junk"},
	{PS_MBOX_SENT, "\\Sent"},
	{PS_MBOX_TRASH, "\\Trash"},
};

struct mbox_entry {
	char *name;
	unsigned attrs;
};

struct mbox_list {
	struct mbox_entry *v;
	size_t n, cap;
};

static int
collect_mailbox(const struct ps_mailbox_info *mb, void *arg)
{
	struct mbox_list *l = arg;
	struct mbox_entry *v = ctl_grow(l->v, &l->cap, l->n, sizeof(*v));

	if (!v)
		return PS_ENOMEM;
	l->v = v;
	if (!(l->v[l->n].name = strdup(mb->name)))
		return PS_ENOMEM;
	l->v[l->n++].attrs = mb->attrs;
	return 0;
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(((const struct mbox_entry *)a)->name,
		      ((const struct mbox_entry *)b)->name);
}

/* NAME MESSAGES UNSEEN SIZE ATTRIBUTES; "-" for a mailbox that holds no
 * messages (\Noselect, or only subscribed). */
static int
print_mailbox(struct ctl *c, struct ps_store_user *u,
	      const struct mbox_entry *e)
{
	struct ps_error err = {""};
	struct ps_mailbox_status st;
	char attrs[256] = "";
	size_t n = 0;

	for (size_t i = 0; i < sizeof(attr_names) / sizeof(attr_names[0]); i++)
		if (e->attrs & attr_names[i].bit && n < sizeof(attrs))
			n += (size_t)snprintf(attrs + n, sizeof(attrs) - n,
					      "%s%s", n ? " " : "",
					      attr_names[i].name);
	if (e->attrs & (PS_MBOX_NOSELECT | PS_MBOX_NONEXISTENT)) {
		printf("%s\t-\t-\t-\t%s\n", e->name, attrs);
		return CTL_OK;
	}
	if (c->store.mailbox_status(u, e->name, &st, &err) < 0)
		return ctl_fail("%s: %s", e->name, err.msg);
	printf("%s\t%u\t%u\t%llu\t%s\n", e->name, st.messages, st.unseen,
	       (unsigned long long)st.size, attrs);
	return CTL_OK;
}

/* The list first, statuses after: a backend need not allow calls on the
 * user while its list runs. */
int
ctl_mailbox_list(struct ctl *c)
{
	char name[PS_AUTH_NAME_MAX + 1];
	struct ps_error err = {""};
	struct mbox_list l = {0};
	struct ps_store_user *u;
	int r, code = CTL_OK;

	if (CTL_LACKS(c->store, mailbox_list) ||
	    CTL_LACKS(c->store, mailbox_status) ||
	    ctl_open_user(c, c->args[0], name, &u) != CTL_OK)
		return CTL_FAIL;
	r = c->store.mailbox_list(u, collect_mailbox, &l, &err);
	if (r < 0)
		code = ctl_fail("%s", err.msg[0] ? err.msg : "out of memory");
	if (l.n)
		qsort(l.v, l.n, sizeof(*l.v), by_name);
	for (size_t i = 0; i < l.n; i++) {
		if (code == CTL_OK)
			code = print_mailbox(c, u, &l.v[i]);
		free(l.v[i].name);
	}
	free(l.v);
	c->store.user_close(u);
	return code;
}
