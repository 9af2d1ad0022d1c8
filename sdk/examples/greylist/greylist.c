/* greylist.so: RFC 6647 greylisting at smtp.so's smtp.rcpt hook, and the
 * model of a complete filter module. An unknown (client network, sender,
 * recipient) triplet is deferred with 451 4.7.1 until a retry after the
 * delay; the SQLite work runs in pool jobs while the hook is PENDING, and
 * a timer deletes expired triplets. */
#include <poshta/poshta.h>
#include <poshta/smtp.h>

#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "greylist.h"

/* A temporary failure (RFC 6647 section 2) whose text says why, for the
 * postmaster who reads it in a delayed-delivery notice. */
#define GREYLIST_REPLY "451 4.7.1 Greylisted, please try again later"
/* The database failed: still a temporary refusal (filters fail closed),
 * but not one that blames the sender. */
#define GREYLIST_REPLY_ERROR "451 4.3.0 Greylisting unavailable, please " \
	"try again later"

struct greylist_config greylist_config;

/* The "whitelist" networks, parsed in worker_init. */
static struct greylist_net *whitelist;
static size_t nwhitelist;

static struct ps_timer *cleanup_timer;
static uint64_t cleanup_ms;

static const char *const greylist_requires[] = { "smtp", NULL };

/* Directives are data: the core checks types and bounds, with file:line
 * errors, before any of this module's code runs. The times are the
 * operator's to choose; the defaults are common practice: minutes of
 * delay, days of retry window (a sender's queue backs off to hours), and
 * a pass kept for longer than a monthly newsletter's interval. */
static const struct ps_directive greylist_directives[] = {
	{ .name = "database", .type = PS_CONF_PATH,
	  .help = "the SQLite database of triplets "
		  "(default: STATE_DIR/greylist.db)" },
	{ .name = "delay", .type = PS_CONF_DURATION, .min = 0,
	  .max = 86400000LL, .def = "300s",
	  .help = "how long a new triplet is deferred before a retry passes" },
	{ .name = "retry_window", .type = PS_CONF_DURATION, .min = 1,
	  .max = 30 * 86400000LL, .def = "2d",
	  .help = "how long after the delay a retry still passes; a later "
		  "one starts over" },
	{ .name = "expire", .type = PS_CONF_DURATION, .min = 1,
	  .max = 366 * 86400000LL, .def = "36d",
	  .help = "how long a passed triplet is remembered since it was "
		  "last seen" },
	{ .name = "netmask4", .type = PS_CONF_INT, .min = 0, .max = 32,
	  .def = "24", .help = "IPv4 clients in a network this long share "
			       "triplets" },
	{ .name = "netmask6", .type = PS_CONF_INT, .min = 0, .max = 128,
	  .def = "64", .help = "IPv6 clients in a network this long share "
			       "triplets" },
	{ .name = "whitelist", .type = PS_CONF_WORDS, .flags = PS_CONF_MULTI,
	  .help = "client networks never greylisted, in CIDR notation "
		  "(10.0.0.0/8 2001:db8::/32)" },
	{ .name = "cleanup_interval", .type = PS_CONF_DURATION, .min = 100,
	  .max = 86400000LL, .def = "1h",
	  .help = "how often expired triplets are deleted" },
	{ .name = NULL },
};

/* Wall-clock milliseconds: stored in the database, so unlike
 * ps_now_ms() they mean the same after a restart. Any thread. */
static int64_t
wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- One lookup: the hook, the job, the verdict ------------------------ */

/* What a job needs, copied on the loop thread: the event's strings are
 * smtp.so's and valid only there. */
struct lookup {
	struct ps_hook_call *call;
	enum greylist_result result; /* set by the work function */
	int64_t age;                 /* ms since the triplet was first seen */
	char why[256];               /* the database's complaint */
	char net[64];
	char *sender, *rcpt;         /* in text[], lower case */
	char text[];
};

static char *
lower_copy(char *to, const char *from)
{
	size_t i;

	for (i = 0; from[i]; i++)
		to[i] = from[i] >= 'A' && from[i] <= 'Z' ?
			(char)(from[i] - 'A' + 'a') : from[i];
	to[i] = '\0';
	return to;
}

static struct lookup *
lookup_new(struct ps_hook_call *call, const char *net, const char *sender,
	   const char *rcpt)
{
	size_t ls = strlen(sender) + 1, lr = strlen(rcpt) + 1;
	struct lookup *l = calloc(1, sizeof(*l) + ls + lr);

	if (!l)
		return NULL;
	l->call = call;
	snprintf(l->net, sizeof(l->net), "%s", net);
	l->sender = lower_copy(l->text, sender);
	l->rcpt = lower_copy(l->text + ls, rcpt);
	return l;
}

/* On a pool thread: no SDK calls here, only the database. */
static void
lookup_work(void *arg)
{
	struct lookup *l = arg;

	l->result = greylist_db_check(l->net, l->sender, l->rcpt, wall_ms(),
				      &l->age, l->why, sizeof(l->why));
}

static void
lookup_log(struct lookup *l)
{
	struct ps_conn *c = ps_hook_conn(l->call);
	int64_t left = greylist_config.delay_ms - l->age;

	if (l->result == GREYLIST_ERROR)
		ps_conn_log(c, PS_LOG_ERR, "lookup failed net=%s error=\"%s\"",
			    l->net, l->why);
	else if (l->result == GREYLIST_NEW)
		ps_conn_log(c, PS_LOG_INFO, "greylisted net=%s from=<%s> "
			    "to=<%s> reason=new", l->net, l->sender, l->rcpt);
	else if (l->result == GREYLIST_EARLY)
		ps_conn_log(c, PS_LOG_INFO, "greylisted net=%s from=<%s> "
			    "to=<%s> reason=early wait_ms=%lld", l->net,
			    l->sender, l->rcpt, (long long)left);
	else if (l->result == GREYLIST_PASSED)
		ps_conn_log(c, PS_LOG_INFO, "passed net=%s from=<%s> to=<%s> "
			    "after_ms=%lld", l->net, l->sender, l->rcpt,
			    (long long)l->age);
}

/* Back on the loop thread: answer the hook. smtp.so holds the connection
 * while its chain runs, so the call is valid even if the client left. */
static void
lookup_done(void *arg)
{
	struct lookup *l = arg;
	int pass = l->result == GREYLIST_PASSED ||
		   l->result == GREYLIST_KNOWN;

	lookup_log(l);
	if (!pass)
		ps_hook_reply(l->call, l->result == GREYLIST_ERROR ?
			      GREYLIST_REPLY_ERROR : GREYLIST_REPLY);
	/* CONTINUE, not ACCEPT: filters after this one still have a say. */
	ps_hook_resume(l->call, pass ? PS_HOOK_CONTINUE : PS_HOOK_DEFER);
	free(l);
}

/* Greylisting is "degraded service to unknown email clients" (RFC 6647,
 * abstract). A logged-in user (submission) is known; so are the
 * operator's own networks. */
static int
exempt(const struct ps_smtp_event *ev, int family,
       const unsigned char *addr)
{
	if (ev->user || ev->role == PS_SMTP_ROLE_SUBMISSION)
		return 1;
	for (size_t i = 0; i < nwhitelist; i++)
		if (greylist_net_contains(&whitelist[i], family, addr))
			return 1;
	return 0;
}

static int
on_rcpt(struct ps_hook_call *call, void *arg)
{
	const struct ps_smtp_event *ev = ps_hook_data(call);
	unsigned char addr[16];
	struct lookup *l;
	char net[64];
	int family;

	(void)arg;
	/* An unparsable address ("local") is no client of the Internet. */
	if (!ev->client_ip || !ev->rcpt ||
	    greylist_net_addr(ev->client_ip, &family, addr) < 0 ||
	    exempt(ev, family, addr))
		return PS_HOOK_CONTINUE;
	greylist_net_key(family, addr, family == AF_INET ?
			 greylist_config.netmask4 : greylist_config.netmask6,
			 net, sizeof(net));
	/* RFC 6647 section 2.4's triplet; the null sender <> is "". */
	l = lookup_new(call, net, ev->sender ? ev->sender : "", ev->rcpt);
	if (!l || ps_job_submit(lookup_work, lookup_done, l) < 0) {
		free(l);
		ps_hook_reply(call, GREYLIST_REPLY_ERROR);
		return PS_HOOK_DEFER;
	}
	return PS_HOOK_PENDING;
}

/* ---- Cleanup: a timer that submits a job, re-armed when it ends -------- */

struct cleanup {
	int deleted;
	char why[256];
};

static void cleanup_tick(void *arg);

static void
cleanup_arm(void)
{
	cleanup_timer = ps_timer_add(cleanup_ms, cleanup_tick, NULL);
	if (!cleanup_timer)
		ps_log(PS_LOG_ERR, "out of memory: no more cleanups here");
}

static void
cleanup_work(void *arg)
{
	struct cleanup *k = arg;

	k->deleted = greylist_db_cleanup(wall_ms(), k->why, sizeof(k->why));
}

static void
cleanup_done(void *arg)
{
	struct cleanup *k = arg;

	if (k->deleted < 0)
		ps_log(PS_LOG_ERR, "cleanup failed error=\"%s\"", k->why);
	else if (k->deleted > 0)
		ps_log(PS_LOG_INFO, "cleanup deleted=%d", k->deleted);
	free(k);
	cleanup_arm();
}

/* Every worker cleans up: the DELETE is idempotent, and one worker's
 * timer would die with that worker. */
static void
cleanup_tick(void *arg)
{
	struct cleanup *k = calloc(1, sizeof(*k));

	(void)arg;
	cleanup_timer = NULL;
	if (k && ps_job_submit(cleanup_work, cleanup_done, k) == 0)
		return;
	free(k);
	cleanup_arm();
}

/* ---- Lifecycle --------------------------------------------------------- */

/* The core checks that each word is a word; what it means is ours to
 * check, and the message points at the line as the core's do. */
static int
whitelist_load(const struct ps_conf_section *s, struct ps_error *err)
{
	size_t n = 0, k = ps_conf_count(s, "whitelist");
	char why[160];

	for (size_t i = 0; i < k; i++)
		n += ps_conf_get(s, "whitelist", i)->nwords;
	if (n && !(whitelist = calloc(n, sizeof(*whitelist)))) {
		snprintf(err->msg, sizeof(err->msg), "out of memory");
		return PS_ENOMEM;
	}
	for (size_t i = 0; i < k; i++) {
		const struct ps_conf_value *v = ps_conf_get(s, "whitelist", i);

		for (size_t w = 0; w < v->nwords; w++) {
			if (greylist_net_parse(v->words[w],
					       &whitelist[nwhitelist], why,
					       sizeof(why)) < 0) {
				snprintf(err->msg, sizeof(err->msg),
					 "%s:%d: whitelist: %s", v->file,
					 v->line, why);
				return PS_EINVAL;
			}
			nwhitelist++;
		}
	}
	return 0;
}

static int
greylist_init(struct ps_error *err)
{
	int r = ps_conf_register(PS_SCOPE_MODULE, greylist_directives);

	/* Last: a filter that refuses for good, or vouches for a client
	 * with ACCEPT, answers before a database row is spent on it. */
	if (r == 0)
		r = ps_hook_register(PS_SMTP_HOOK_RCPT, PS_HOOK_LAST, on_rcpt,
				     NULL);
	if (r < 0)
		snprintf(err->msg, sizeof(err->msg),
			 "cannot register (error %d)", r);
	return r;
}

static int
greylist_worker_init(struct ps_error *err)
{
	const struct ps_conf_section *s = ps_conf_module();
	const char *path = ps_conf_str(s, "database");
	char def[4096], why[sizeof(err->msg)];
	int r;

	greylist_config = (struct greylist_config){
		.delay_ms = ps_conf_num(s, "delay"),
		.window_ms = ps_conf_num(s, "retry_window"),
		.expire_ms = ps_conf_num(s, "expire"),
		.netmask4 = (unsigned)ps_conf_num(s, "netmask4"),
		.netmask6 = (unsigned)ps_conf_num(s, "netmask6"),
	};
	cleanup_ms = (uint64_t)ps_conf_num(s, "cleanup_interval");
	if ((r = whitelist_load(s, err)) < 0)
		return r;
	if (!path) {
		if ((size_t)snprintf(def, sizeof(def), "%s/greylist.db",
				     ps_conf_str(ps_conf_core(), "state_dir"))
		    >= sizeof(def)) {
			snprintf(err->msg, sizeof(err->msg),
				 "state_dir too long");
			return PS_EINVAL;
		}
		path = def;
	}
	if (greylist_db_open(path, why, sizeof(why)) < 0) {
		snprintf(err->msg, sizeof(err->msg), "%s", why);
		return PS_EIO;
	}
	cleanup_arm();
	ps_log(PS_LOG_INFO, "database=%s delay_ms=%lld whitelist=%zu", path,
	       (long long)greylist_config.delay_ms, nwhitelist);
	return 0;
}

static void
greylist_worker_exit(void)
{
	if (cleanup_timer)
		ps_timer_cancel(cleanup_timer);
	cleanup_timer = NULL;
	greylist_db_close();
	free(whitelist);
	whitelist = NULL;
	nwhitelist = 0;
}

PS_MODULE_DEFINE(.name = "greylist", .version = "1.0",
		 .requires = greylist_requires, .init = greylist_init,
		 .worker_init = greylist_worker_init,
		 .worker_exit = greylist_worker_exit);
