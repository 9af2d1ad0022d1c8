/* Queue backends: the durable mail queue that outbound and local delivery
 * run from (RFC 5321 4.5.4 retry strategy, 6.1 reliable delivery; RFC
 * 3461 DSN parameters kept for RFC 3464 reports), published as the
 * interface kind "queue". It adds nothing to struct ps_api: backends and
 * callers use ps_iface_* and ps_bus_* (ABI 1.0, bus from any thread since
 * 1.1), so they load in any core of ABI 1.1 or later.
 *
 * A backend fills a struct ps_queue_ops and publishes it with
 * ps_iface_publish(PS_QUEUE_KIND, "NAME", &ops); the modules that enqueue
 * (smtp.so) and deliver find it with ps_iface_get(PS_QUEUE_KIND, NULL,
 * ...). The table only grows at its end: check a method for NULL before
 * calling one added after the table you were built with.
 *
 * The life of a message:
 *
 *   enq_begin(envelope, recipients) -> enq_data()... -> enq_commit
 *     (durable when it returns; the id is known from enq_begin on)
 *   lease(now, seconds, ...)  the due recipients, claimed until now +
 *     seconds: no other thread or process gets them meanwhile
 *   results(...)              delivered, failed or deferred, per
 *     recipient; the claim ends
 *   report_lease / report_done  only for recipients whose result asked
 *     for a delivery status notification (PS_QUEUE_REPORT)
 *   the message goes once every recipient is final and no report is owed
 *
 * Delivery is at least once: a lessee that dies (a killed worker) loses
 * its claim when the lease runs out, and the recipients are due again.
 *
 * Time: every call that depends on the clock takes "now" from the caller,
 * in seconds since the epoch; a backend never reads the clock for queue
 * decisions, so tests (and a cluster) control it.
 *
 * Threads: every call may block (disk, fsync). Call them from a job's
 * work function (ps_job_submit), never on the loop. An enqueue handle is
 * used by one thread at a time; every other call is safe from any number
 * of threads and processes at once.
 *
 * Errors: calls return 0, a negative PS_E* code, or one of PS_QUEUE_E*
 * below, with a message in err. Strings are NUL-terminated UTF-8. */
#ifndef POSHTA_QUEUE_H
#define POSHTA_QUEUE_H

#include <poshta/types.h>

#define PS_QUEUE_KIND "queue"

/* Bus notices (ps_bus_subscribe(PS_QUEUE_TOPIC, ...) in every worker that
 * runs deliveries). A backend publishes, after the change is durable:
 *   "queue/new"  data: the message id; enq_commit stored it and its
 *                recipients are due (unless it was enqueued held)
 *   "queue/due"  data: a message id, or empty for every message; flush
 *                or release made recipients due now
 * A notice is a hint to call lease at once; runners still keep a timer
 * for next_due, since deferrals and expired leases send none, and bus
 * messages are lost when a worker restarts. */
#define PS_QUEUE_TOPIC "queue/"
#define PS_QUEUE_TOPIC_NEW "queue/new"
#define PS_QUEUE_TOPIC_DUE "queue/due"

/* Bounds, in octets without the NUL. Longer input is refused (PS_EINVAL),
 * except a diagnostic, which is cut at a UTF-8 character boundary. */
#define PS_QUEUE_ID_LEN 16        /* ids are 16 lower-case hex digits */
#define PS_QUEUE_ADDR_MAX 1000    /* addresses, user names, client */
#define PS_QUEUE_ENVID_MAX 100    /* RFC 3461 4.4 */
#define PS_QUEUE_ORCPT_MAX 500    /* RFC 3461 4.2 */
#define PS_QUEUE_DIAG_MAX 2000    /* a remote reply, a local error */
#define PS_QUEUE_RCPTS_MAX 100000 /* recipients of one message */
#define PS_QUEUE_LEASE_MAX 10000  /* recipients or messages per lease */

/* Errors beside the PS_E* codes. */
#define PS_QUEUE_ESTALE (-120) /* a result or report_done that no longer
				* applies: the recipient is final already,
				* or another lessee holds it now */

/* RFC 3461 4.3 RET. */
enum ps_queue_ret {
	PS_QUEUE_RET_NONE = 0, /* not given */
	PS_QUEUE_RET_FULL = 1,
	PS_QUEUE_RET_HDRS = 2,
};

/* Envelope flags (struct ps_queue_envelope.flags). */
#define PS_QUEUE_SMTPUTF8 0x1u   /* RFC 6531 3.4: the message needs it */
#define PS_QUEUE_8BITMIME 0x2u   /* RFC 6152 BODY=8BITMIME */
#define PS_QUEUE_REQUIRETLS 0x4u /* RFC 8689: relay only over verified
				  * TLS */
#define PS_QUEUE_HOLD 0x100u     /* enqueue held (quarantine): not leased
				  * until released */
#define PS_QUEUE_ENV_FLAGS 0x107u

/* RFC 3461 4.1 NOTIFY (struct ps_queue_rcpt_in.notify); 0: not given,
 * which RFC 3461 4.1 lets the MTA treat as FAILURE,DELAY. */
#define PS_QUEUE_NOTIFY_NEVER 0x1u
#define PS_QUEUE_NOTIFY_SUCCESS 0x2u
#define PS_QUEUE_NOTIFY_FAILURE 0x4u
#define PS_QUEUE_NOTIFY_DELAY 0x8u

/* A recipient's kind; as a filter (lease, next_due) they are bits, and 0
 * means every kind. */
#define PS_QUEUE_LOCAL 0x1u  /* a local user, resolved at enqueue */
#define PS_QUEUE_REMOTE 0x2u /* another server's: delivered by SMTP */

enum ps_queue_state {
	PS_QUEUE_QUEUED = 0,    /* not tried yet */
	PS_QUEUE_DEFERRED = 1,  /* tried; next try at next_attempt */
	PS_QUEUE_DELIVERED = 2, /* final */
	PS_QUEUE_FAILED = 3,    /* final: permanent failure */
};

/* Report flags (struct ps_queue_rcpt.report). */
#define PS_QUEUE_REPORT_OWED 0x1u    /* a DSN is owed for the result */
#define PS_QUEUE_REPORT_DELAYED 0x2u /* a delay DSN was made already */

/* What enq_begin takes: the message's envelope. */
struct ps_queue_envelope {
	size_t size;         /* sizeof(struct ps_queue_envelope) */
	const char *sender;  /* MAIL FROM, "" for the null sender <> */
	int ret;             /* enum ps_queue_ret */
	const char *envid;   /* RFC 3461 ENVID as xtext, NULL or "": none */
	unsigned flags;      /* PS_QUEUE_SMTPUTF8 ... PS_QUEUE_HOLD */
	int64_t arrival;     /* seconds since the epoch; the recipients are
			      * first due then */
	const char *user;    /* the authenticated submitter, or NULL */
	const char *client;  /* who sent it, for logs and the DSN's
			      * Received-From-MTA: "helo [ip]", or NULL */
};

/* What enq_begin takes: one recipient. Recipients are numbered 0..n-1 in
 * the order given; several may share an address (an alias reaching two
 * users is two local recipients). */
struct ps_queue_rcpt_in {
	size_t size;         /* sizeof(struct ps_queue_rcpt_in) */
	const char *address; /* as accepted at RCPT (RFC 5321 4.1.2) */
	unsigned kind;       /* PS_QUEUE_LOCAL or PS_QUEUE_REMOTE */
	const char *user;    /* LOCAL: the user whose store receives it;
			      * REMOTE: NULL (delivered to address) */
	const char *orcpt;   /* RFC 3461 ORCPT "addr-type;xtext", or NULL */
	unsigned notify;     /* PS_QUEUE_NOTIFY_*, 0 when not given */
};

/* A stored message as reported (list, msg_get, lease, report_lease).
 * Pointers are valid during the callback only. */
struct ps_queue_msg {
	size_t size;         /* sizeof(struct ps_queue_msg) of the backend */
	const char *id;
	const char *sender;
	int ret;
	const char *envid;   /* "" when none */
	unsigned flags;      /* PS_QUEUE_SMTPUTF8 | 8BITMIME | REQUIRETLS */
	int64_t arrival;
	uint64_t body_size;  /* octets msg_read gives */
	const char *user;    /* NULL when none */
	const char *client;  /* NULL when none */
	int held;
	unsigned nrcpts;     /* recipients the message has, all states */
};

/* A recipient as reported. route is what a runner batches by: the user
 * for a local recipient, the address's domain (lower case) for a remote
 * one. */
struct ps_queue_rcpt {
	size_t size;          /* sizeof(struct ps_queue_rcpt) of the backend */
	unsigned index;       /* 0..nrcpts-1, its place at enqueue */
	const char *address;
	unsigned kind;        /* PS_QUEUE_LOCAL or PS_QUEUE_REMOTE */
	const char *user;     /* LOCAL: the user; REMOTE: NULL */
	const char *route;
	const char *orcpt;    /* "" when none */
	unsigned notify;
	enum ps_queue_state state;
	unsigned attempts;    /* results recorded */
	int64_t next_attempt; /* when it is due (queued, deferred) */
	int64_t last_attempt; /* "now" of its last result, 0: none */
	const char *diag;     /* the last result's text, "" when none */
	unsigned report;      /* PS_QUEUE_REPORT_* */
	uint64_t lease;       /* the lease holding it, 0: none */
	int64_t lease_until;  /* when that lease runs out */
};

/* One recipient's outcome, for results. */
struct ps_queue_result {
	size_t size;          /* sizeof(struct ps_queue_result) */
	const char *id;       /* the message */
	unsigned index;       /* the recipient */
	uint64_t lease;       /* the lease it was given under */
	enum ps_queue_state state; /* DELIVERED, FAILED or DEFERRED */
	int64_t next_attempt; /* DEFERRED: when to try again */
	const char *diag;     /* the remote reply or the local error, or
			       * NULL; cut at PS_QUEUE_DIAG_MAX */
	unsigned flags;       /* PS_QUEUE_REPORT: a DSN is owed for this
			       * outcome (the caller applied NOTIFY, the
			       * null sender, its delay policy) */
	int status;           /* out: 0 applied, PS_QUEUE_ESTALE,
			       * PS_ENOENT (no such recipient), PS_EINVAL */
};
#define PS_QUEUE_REPORT 0x1u

/* Callbacks: return 0 to go on, anything else to stop early (the call
 * then returns that value). rcpts holds n recipients: every recipient
 * for list and msg_get, those owed a report under this lease for
 * report_lease. */
typedef int (*ps_queue_msg_fn)(const struct ps_queue_msg *m,
			       const struct ps_queue_rcpt *rcpts, size_t n,
			       void *arg);
/* lease: one recipient with its message; recipients come ordered by
 * route, then message, then index, so a runner batches per user or per
 * domain as they arrive. */
typedef int (*ps_queue_rcpt_fn)(const struct ps_queue_msg *m,
				const struct ps_queue_rcpt *r, void *arg);

/* lease's selection. */
struct ps_queue_lease_args {
	size_t size;       /* sizeof(struct ps_queue_lease_args) */
	int64_t now;       /* due: next_attempt <= now, no live lease */
	unsigned seconds;  /* the claim lasts until now + seconds */
	unsigned limit;    /* at most this many (1..PS_QUEUE_LEASE_MAX) */
	unsigned kinds;    /* PS_QUEUE_LOCAL | PS_QUEUE_REMOTE, 0: any */
	const char *route; /* only this route (a user, a domain), or NULL */
};

struct ps_queue_enq; /* an enqueue in progress */

struct ps_queue_ops {
	size_t size; /* sizeof(struct ps_queue_ops) */

	/* Enqueue. enq_begin checks the envelope and the n recipients
	 * (1..PS_QUEUE_RCPTS_MAX; an array whose elements are
	 * rcpts[0].size bytes apart, so a caller built with a newer,
	 * bigger struct works) and writes the message's id (16 hex digits
	 * and a NUL) to id_r. enq_data takes the body, CRLF lines as
	 * they will be delivered (the trace fields in front), in pieces of
	 * any size; nothing is stored and no lock is held until enq_commit,
	 * which stores envelope, recipients and body atomically and is
	 * durable when it returns 0 (RFC 5321 6.1: the 250 may follow). A
	 * process that dies before leaves nothing. Concurrent commits of one
	 * process may share one disk flush. Commit and abort free the
	 * handle, whatever the result. */
	int (*enq_begin)(const struct ps_queue_envelope *env,
			 const struct ps_queue_rcpt_in *rcpts, size_t n,
			 struct ps_queue_enq **e_r,
			 char id_r[PS_QUEUE_ID_LEN + 1], struct ps_error *err);
	int (*enq_data)(struct ps_queue_enq *e, const void *data, size_t len,
			struct ps_error *err);
	int (*enq_commit)(struct ps_queue_enq *e, struct ps_error *err);
	void (*enq_abort)(struct ps_queue_enq *e);

	/* Claim the due recipients: state QUEUED or DEFERRED, next_attempt
	 * <= now, no lease or one that ran out, message not held, matching
	 * kinds and route; the longest waiting first, at most limit. Each is
	 * claimed until now + seconds under one new lease id (*lease_r),
	 * durably enough: a claim lost to a power failure only makes the
	 * recipient due again. fn then gets each (see ps_queue_rcpt_fn);
	 * *count_r is how many were claimed. Those fn did not get (it
	 * stopped early, or reading them failed) stay claimed until the
	 * lease runs out. */
	int (*lease)(const struct ps_queue_lease_args *a, ps_queue_rcpt_fn fn,
		     void *arg, uint64_t *lease_r, unsigned *count_r,
		     struct ps_error *err);
	/* Record n outcomes (1..PS_QUEUE_LEASE_MAX, elements v[0].size
	 * bytes apart) at once, in one durable transaction; each gets its
	 * status. A result applies when the recipient is not final
	 * and either its lease is v[i].lease, or no other lease is live at
	 * now, or the outcome is final (a delivery that happened is a fact,
	 * even from a lessee that ran late); else PS_QUEUE_ESTALE. Each
	 * applied result counts an attempt, stores diag and ends the claim;
	 * DEFERRED sets next_attempt. A message whose recipients are all
	 * final and owe no report is removed in the same transaction.
	 * Returns 0 when the transaction committed, whatever the
	 * statuses; a negative code (every status set to it) when nothing
	 * was recorded. */
	int (*results)(struct ps_queue_result *v, size_t n, int64_t now,
		       struct ps_error *err);
	/* The earliest time at which lease or report_lease could find
	 * something (a next_attempt, a lease or report lease running out;
	 * <= now means at once), among messages not held: recipients of
	 * kinds, and with kinds 0 (any) owed reports too. PS_ENOENT when
	 * nothing is pending. */
	int (*next_due)(unsigned kinds, int64_t *when_r, struct ps_error *err);

	/* Reports (RFC 3464 DSNs). A result with PS_QUEUE_REPORT marks its
	 * recipient REPORT_OWED, which keeps the message after its
	 * recipients are final. report_lease claims up to limit messages
	 * (not held) with owed reports, until now + seconds, and hands fn
	 * each message with the recipients owed under this lease; the
	 * caller builds the DSN (msg_read for RET=FULL or HDRS), enqueues it
	 * (null sender), then calls report_done with the lease, which clears
	 * those recipients' OWED (and sets REPORT_DELAYED on the ones still
	 * deferred) and removes the message if nothing else holds it. A
	 * reporter killed between the two leaves the reports owed: the DSN
	 * may be sent twice, never lost. A recipient owed again meanwhile
	 * stays owed for the next report_lease. report_done returns
	 * PS_QUEUE_ESTALE when the report lease ran out and another took
	 * the message over (that one reports), PS_ENOENT when the message
	 * is gone. */
	int (*report_lease)(int64_t now, unsigned seconds, unsigned limit,
			    ps_queue_msg_fn fn, void *arg, uint64_t *lease_r,
			    struct ps_error *err);
	int (*report_done)(const char *id, uint64_t lease,
			   struct ps_error *err);

	/* Reading. msg_get reports message id with every recipient
	 * (PS_ENOENT: none); msg_read reads up to len bytes of its body from
	 * offset, *got_r 0 at the end, memory not growing with the size. */
	int (*msg_get)(const char *id, ps_queue_msg_fn fn, void *arg,
		       struct ps_error *err);
	int (*msg_read)(const char *id, uint64_t offset, void *buf,
			size_t len, size_t *got_r, struct ps_error *err);

	/* Administration (poshtactl queue list|show|flush|hold|release|
	 * delete). list reports every message, oldest first. id NULL means
	 * every message; a named one that is not there is PS_ENOENT. hold
	 * with held 1 stops leases of the message (recipients leased now
	 * finish their attempt), 0 releases it. flush makes the waiting
	 * recipients due at now (held messages stay held). remove deletes
	 * messages at once, whatever their state, with no report. */
	int (*list)(ps_queue_msg_fn fn, void *arg, struct ps_error *err);
	int (*hold)(const char *id, int held, struct ps_error *err);
	int (*flush)(const char *id, int64_t now, struct ps_error *err);
	int (*remove)(const char *id, struct ps_error *err);
};

#endif
