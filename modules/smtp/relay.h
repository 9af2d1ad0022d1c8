/* Outbound delivery: the runner that takes remote recipients from the
 * queue and delivers them by SMTP (RFC 5321 5, 4.5.4), with retries,
 * give-up and DSN requests (RFC 3461).
 *
 *   relay.c          when to lease, concurrency, recording results
 *   relay_config.c   the smtp block's outbound directives
 *   relay_policy.c   pure decisions: backoff, expiry, which DSN is owed
 *   relay_dest.c     where a destination's mail goes (route, relayhost,
 *                    MX) and trying its hosts in turn
 *   relay_session.c  one SMTP session over a core connection, driving
 *                    the client state machine of client.h
 *
 * Ownership: a lease's recipients are grouped per destination into
 * batches (struct relay_batch) of messages (struct relay_msg). A batch
 * lives on the loop thread until its last session ends; a message leaves
 * its batch when every recipient is decided, and the job recording its
 * results frees it. */
#ifndef SMTP_RELAY_H
#define SMTP_RELAY_H

#include <poshta/dns.h>
#include <poshta/poshta.h>
#include <poshta/queue.h>

#include "client.h"

#define RELAY_LEASE_SECONDS 900 /* longer than a session can take at
				 * RFC 5321 4.5.3.2's timeouts for one
				 * message: a killed worker's recipients
				 * are due again after this */
#define RELAY_LEASE_LIMIT 200   /* recipients per lease */
#define RELAY_BATCH_MSGS 20     /* messages per session */
#define RELAY_HOSTS_MAX 10      /* addresses tried per destination: at
				 * RELAY_CONNECT_MS each, within the lease
				 * (Postfix tries 5) */
#define RELAY_NAME_MAX PS_DNS_NAME_MAX
#define RELAY_ADDR_MAX PS_DNS_ADDR_LEN
#define RELAY_CONNECT_MS 30000  /* connecting to one address */

enum relay_tls {
	RELAY_TLS_NONE = 0,
	RELAY_TLS_OPPORTUNISTIC,
	RELAY_TLS_REQUIRED, /* STARTTLS and a verified certificate */
};

struct relay_route {
	char *domain; /* lower case */
	char *host;   /* numeric address or name */
	uint16_t port;
};

struct relay_tls_policy {
	char *domain;
	enum relay_tls tls;
};

/* A smarthost: every domain without a route goes there. */
struct relay_smarthost {
	char *host;   /* numeric address or name; NULL: none */
	uint16_t port;
	const char *user, *pass; /* AUTH, or NULL */
	enum relay_tls tls;
};

struct relay_config {
	int enabled;            /* a queue is loaded (smtp_cfg.queue) */
	struct relay_route *routes;
	size_t nroutes;
	struct relay_tls_policy *policies;
	size_t npolicies;
	struct relay_smarthost relayhost;
	const char *ca_file;    /* NULL: the system's store */
	uint16_t port;          /* MX and address delivery */
	unsigned concurrency;   /* sessions at once in this worker */
	unsigned per_dest;      /* ...to one destination */
	int64_t retry_first;    /* seconds */
	int64_t retry_max;
	int64_t lifetime;
	int64_t delay_warning;  /* 0: never */
};
extern struct relay_config relay_cfg;

/* A recipient of a leased message, and its outcome once decided. */
struct relay_rcpt {
	unsigned index;
	char *address;
	char *orcpt;          /* NULL: none */
	unsigned notify;      /* PS_QUEUE_NOTIFY_* */
	unsigned attempts;    /* before this one */
	unsigned report;      /* PS_QUEUE_REPORT_* as leased */
	int decided;
	enum smtpc_outcome outcome;
	int dsn_offered;      /* the server that decided offered DSN */
	char *diag;
};

struct relay_msg {
	struct relay_msg *next;
	char id[PS_QUEUE_ID_LEN + 1];
	uint64_t lease;
	char *sender;
	char *envid;
	int ret;
	unsigned flags;       /* PS_QUEUE_SMTPUTF8 ... */
	int64_t arrival;
	uint64_t size;
	struct relay_rcpt *rcpts;
	size_t n, ndecided;
};

/* One address to try. */
struct relay_host {
	char name[RELAY_NAME_MAX + 1]; /* for TLS and diagnostics */
	char addr[RELAY_ADDR_MAX];      /* numeric */
	uint16_t port;
};

struct relay_batch {
	struct relay_batch *next;       /* pending or active list */
	char *domain;                   /* the queue's route: lower case */
	struct relay_msg *msgs;         /* not all decided yet */
	size_t nmsgs;
	enum relay_tls tls;
	const char *auth_user;          /* a relayhost's, or NULL */
	const char *auth_pass;
	uint16_t port;                  /* of the hosts a lookup finds */
	int mx;                         /* they are the domain's MX hosts */
	struct relay_host *hosts;
	size_t nhosts, next_host;
	char why[PS_QUEUE_DIAG_MAX + 1]; /* the last host's failure */
	int active;                     /* counted in the running sessions */
};

/* relay.c */
int relay_worker_init(struct ps_error *err);
void relay_worker_exit(void);
void relay_kick(void);
/* The worker is going down: no new leases or sessions; what is held is
 * recorded as due at once (relay_worker_exit). */
void relay_stop(void);
int relay_stopping(void);
/* Every recipient of m is decided: record the results (m is the job's
 * from now on). */
void relay_msg_done(struct relay_msg *m);
/* The batch's last session ended: it leaves the running ones. */
void relay_batch_done(struct relay_batch *b);
void relay_msg_free(struct relay_msg *m);

/* relay_config.c */
int relay_config_register(void);
int relay_config_load(struct ps_error *err);
enum relay_tls relay_tls_for(const char *domain);
const struct relay_route *relay_route_for(const char *domain);

/* relay_policy.c (pure) */
int64_t relay_backoff(const struct relay_config *cfg, unsigned attempts,
		      uint32_t random);
/* The queue result for r of m, decided at now; diag stays r's. */
void relay_result(const struct relay_config *cfg, const struct relay_msg *m,
		  const struct relay_rcpt *r, int64_t now, uint32_t random,
		  struct ps_queue_result *out);
/* Decide r with a reply that came from host (NULL: no host), as the
 * queue's diag text: "name[addr]: 550 5.1.1 text" or "5.1.10 text". */
int relay_decide(struct relay_rcpt *r, enum smtpc_outcome o,
		 const struct relay_host *host, const char *text);

/* relay_dest.c */
void relay_batch_start(struct relay_batch *b);
/* A session on b's current host ended; attempted: a message was sent
 * (or refused) on it, so the batch is not tried on the next host. */
void relay_batch_session_end(struct relay_batch *b, int attempted);
/* Decide every undecided recipient of b's messages (o, text) and hand
 * each message to relay_msg_done. */
void relay_batch_decide_all(struct relay_batch *b, enum smtpc_outcome o,
			    const struct relay_host *host, const char *text);

/* relay_session.c */
int relay_session_start(struct relay_batch *b, const struct relay_host *h,
			struct ps_error *err);

#endif
