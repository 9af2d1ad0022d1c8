/* Change notices of storage_pgsql. A change announces each mailbox it
 * touched twice: inside its transaction with pg_notify on SP_CHANNEL, so
 * the other front ends on the database hear it exactly when it commits
 * (PostgreSQL delivers notifications at commit, and drops them on
 * rollback), and after the commit on this front end's bus, exactly as
 * storage_sqlite does (sdk/poshta/storage.h, PS_STORAGE_TOPIC). The
 * payload is "NODE TOPIC DATA", the last two in hex: a NOTIFY payload is
 * text below 8000 bytes, and a rename's data holds a NUL. NODE tells a
 * front end its own notices apart (listen.c drops those). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "storage_pgsql.h"

static const char sp_hex[] = "0123456789abcdef";

/* A random node id: one per front end, made in the master's init before
 * the workers fork, so all of its workers share it. */
void
sp_node_make(char node[SP_NODE_LEN + 1])
{
	unsigned char raw[SP_NODE_LEN / 2];
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, raw, sizeof(raw)) : -1;

	if (fd >= 0)
		close(fd);
	if (n != (ssize_t)sizeof(raw)) {
		/* No urandom: the pid and the clock still differ between
		 * front ends. */
		unsigned long long v = (unsigned long long)getpid() << 32 ^
				       (unsigned long long)time(NULL) ^
				       (unsigned long long)clock();

		memcpy(raw, &v, sizeof(raw) < sizeof(v) ? sizeof(raw)
							: sizeof(v));
	}
	for (size_t i = 0; i < sizeof(raw); i++) {
		node[2 * i] = sp_hex[raw[i] >> 4];
		node[2 * i + 1] = sp_hex[raw[i] & 15];
	}
	node[SP_NODE_LEN] = '\0';
}

static char *
sp_hex_put(char *o, const void *data, size_t len)
{
	const unsigned char *p = data;

	for (size_t i = 0; i < len; i++) {
		*o++ = sp_hex[p[i] >> 4];
		*o++ = sp_hex[p[i] & 15];
	}
	return o;
}

/* Queue data for the bus and pg_notify it inside c's transaction. */
static int
sp_announce_data(struct sp_conn *c, const char *data, size_t len,
		 struct ps_error *err)
{
	char topic[sizeof(PS_STORAGE_TOPIC) + PS_AUTH_NAME_MAX];
	struct sp_notice *n;
	char *payload, *o;
	size_t tlen;
	int r;

	tlen = (size_t)snprintf(topic, sizeof(topic), "%s%s",
				PS_STORAGE_TOPIC, c->topic_user);
	n = malloc(sizeof(*n) + len + 1);
	payload = malloc(SP_NODE_LEN + 2 * tlen + 2 * len + 3);
	if (!n || !payload) {
		free(n);
		free(payload);
		return sp_err(err, PS_ENOMEM, "out of memory");
	}
	o = payload + snprintf(payload, SP_NODE_LEN + 2, "%s ",
			       sp_config.node);
	o = sp_hex_put(o, topic, tlen);
	*o++ = ' ';
	o = sp_hex_put(o, data, len);
	*o = '\0';
	r = sp_exec(c, err, "SELECT pg_notify('" SP_CHANNEL "', $1)", "s",
		    payload);
	free(payload);
	if (r < 0) {
		free(n);
		return r;
	}
	n->next = NULL;
	n->len = len;
	memcpy(n->data, data, len);
	n->data[len] = '\0';
	*c->tail = n;
	c->tail = &n->next;
	return 0;
}

int
sp_announce(struct sp_conn *c, const char *mailbox, struct ps_error *err)
{
	return sp_announce_data(c, mailbox, strlen(mailbox), err);
}

/* A mailbox moved by RENAME: one notice with the old name, a NUL and the
 * new one (to followed by rest), then one for the new name. */
int
sp_announce_rename(struct sp_conn *c, const char *old, const char *to,
		   const char *rest, struct ps_error *err)
{
	char data[2 * (SP_NAME_MAX + 1)];
	int n = snprintf(data, sizeof(data), "%s%c%s%s", old, '\0', to,
			 rest);
	int r;

	if (n < 0 || (size_t)n >= sizeof(data))
		return 0;
	r = sp_announce_data(c, data, (size_t)n, err);
	return r < 0 ? r : sp_announce(c, data + strlen(old) + 1, err);
}

/* After the commit: every worker of this front end hears it through
 * the master's bus. Tools have no bus (PS_ESTATE), and receivers that
 * miss a notice resynchronise on their next command. */
void
sp_notices_publish(struct sp_conn *c)
{
	char topic[sizeof(PS_STORAGE_TOPIC) + PS_AUTH_NAME_MAX];

	if (!c->notices)
		return;
	snprintf(topic, sizeof(topic), "%s%s", PS_STORAGE_TOPIC,
		 c->topic_user);
	for (struct sp_notice *n = c->notices; n; n = n->next)
		(void)ps_bus_publish(topic, n->data, n->len);
}

void
sp_notices_drop(struct sp_conn *c)
{
	while (c->notices) {
		struct sp_notice *n = c->notices;

		c->notices = n->next;
		free(n);
	}
	c->tail = &c->notices;
}

static int
sp_unhex(const char *s, size_t n, char **out_r)
{
	char *o = malloc(n / 2 + 1);

	if (!o || n % 2) {
		free(o);
		return -1;
	}
	for (size_t i = 0; i < n / 2; i++) {
		const char *hi = strchr(sp_hex, s[2 * i]),
			   *lo = strchr(sp_hex, s[2 * i + 1]);

		if (!s[2 * i] || !s[2 * i + 1] || !hi || !lo) {
			free(o);
			return -1;
		}
		o[i] = (char)((hi - sp_hex) << 4 | (lo - sp_hex));
	}
	o[n / 2] = '\0';
	*out_r = o;
	return 0;
}

/* Split a payload of another node: topic (a string) and data (len
 * bytes, NUL-terminated too). 1 for another node's notice, 0 for this
 * node's own, -1 for one this module did not write. */
int
sp_payload_parse(const char *payload, char **topic_r, char **data_r,
		 size_t *len_r)
{
	const char *sp1 = strchr(payload, ' '), *sp2;

	*topic_r = *data_r = NULL;
	if (!sp1 || (size_t)(sp1 - payload) != SP_NODE_LEN ||
	    !(sp2 = strchr(sp1 + 1, ' ')))
		return -1;
	if (memcmp(payload, sp_config.node, SP_NODE_LEN) == 0)
		return 0;
	if (sp_unhex(sp1 + 1, (size_t)(sp2 - sp1 - 1), topic_r) < 0)
		return -1;
	if (strncmp(*topic_r, PS_STORAGE_TOPIC, strlen(PS_STORAGE_TOPIC)) ||
	    sp_unhex(sp2 + 1, strlen(sp2 + 1), data_r) < 0) {
		free(*topic_r);
		*topic_r = NULL;
		return -1;
	}
	*len_r = strlen(sp2 + 1) / 2;
	return 1;
}
