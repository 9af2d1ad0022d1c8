/* Change notices on the bus, as storage.h asks of every backend: topic
 * "store/" + user, data the mailbox name; for a rename, the old name, a
 * NUL and the new one, then a notice for the new name. */
#include <stdio.h>
#include <string.h>

#include "storage_maildir.h"

void
md_notify(const struct ps_store_user *u, const char *mailbox)
{
	char topic[sizeof(PS_STORAGE_TOPIC) + PS_AUTH_NAME_MAX];

	snprintf(topic, sizeof(topic), "%s%s", PS_STORAGE_TOPIC, u->name);
	(void)ps_bus_publish(topic, mailbox, strlen(mailbox));
}

void
md_notify_rename(const struct ps_store_user *u, const char *old,
		 const char *to)
{
	char topic[sizeof(PS_STORAGE_TOPIC) + PS_AUTH_NAME_MAX];
	char data[2 * (MD_NAME_MAX + 1)];
	int n = snprintf(data, sizeof(data), "%s%c%s", old, '\0', to);

	if (n < 0 || (size_t)n >= sizeof(data))
		return;
	snprintf(topic, sizeof(topic), "%s%s", PS_STORAGE_TOPIC, u->name);
	(void)ps_bus_publish(topic, data, (size_t)n);
	md_notify(u, to);
}
