/* The queue conformance suite: every call of <poshta/queue.h>, exercised
 * through the real module loader against whichever backend the
 * configuration given on the command line loads. Shared helpers here. */
#ifndef QT_SUITE_H
#define QT_SUITE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <poshta/queue.h>

#define QT_MAX_RCPTS 16
#define QT_MAX_LEASED 4096
#define QT_TEXT 256
#define QT_T0 ((int64_t)1700000000) /* the suite's clock starts here */

extern struct ps_queue_ops qt_ops;

/* main.c: stop the backend and start it again, as a restart would. */
void qt_restart(void);

/* One recipient as msg_get or report_lease reported it. */
struct qt_rcpt {
	unsigned index, kind, notify, attempts, report;
	char address[QT_TEXT], user[QT_TEXT], route[QT_TEXT], orcpt[QT_TEXT];
	int has_user;
	enum ps_queue_state state;
	int64_t next_attempt, last_attempt, lease_until;
	uint64_t lease;
	char diag[PS_QUEUE_DIAG_MAX + 1];
};

/* One message as msg_get, list or report_lease reported it. */
struct qt_msg {
	char id[PS_QUEUE_ID_LEN + 1];
	char sender[QT_TEXT], envid[QT_TEXT], user[QT_TEXT], client[QT_TEXT];
	int has_user, has_client;
	int ret, held;
	unsigned flags, nrcpts;
	int64_t arrival;
	uint64_t body_size;
	size_t n; /* recipients reported */
	struct qt_rcpt r[QT_MAX_RCPTS];
};

struct qt_msgs {
	size_t n;
	struct qt_msg m[64];
};

/* One leased recipient. */
struct qt_lease_item {
	char id[PS_QUEUE_ID_LEN + 1];
	unsigned index, kind;
	char route[QT_TEXT];
	char sender[QT_TEXT];
	uint64_t lease;
	int64_t lease_until;
};

struct qt_leased {
	size_t n;
	uint64_t lease;
	struct qt_lease_item v[QT_MAX_LEASED];
};

/* helpers.c */
void qt_empty(void);
struct ps_queue_rcpt_in qt_local(const char *address, const char *user);
struct ps_queue_rcpt_in qt_remote(const char *address);
struct ps_queue_envelope qt_env(const char *sender, int64_t arrival);
void qt_enqueue(char id[PS_QUEUE_ID_LEN + 1],
		const struct ps_queue_envelope *env,
		const struct ps_queue_rcpt_in *r, size_t n, const char *body);
void qt_enqueue_simple(char id[PS_QUEUE_ID_LEN + 1], int64_t arrival,
		       size_t nremote, size_t nlocal);
void qt_enqueue_generated(char id[PS_QUEUE_ID_LEN + 1], uint32_t seed,
			  uint64_t size, size_t piece);
int qt_get(const char *id, struct qt_msg *m);
void qt_list(struct qt_msgs *out);
int qt_collect_msg(const struct ps_queue_msg *m,
		   const struct ps_queue_rcpt *r, size_t n, void *arg);
unsigned qt_lease(int64_t now, unsigned seconds, unsigned limit,
		  unsigned kinds, const char *route, struct qt_leased *out);
int qt_result(const char *id, unsigned index, uint64_t lease,
	      enum ps_queue_state state, int64_t next, const char *diag,
	      unsigned flags, int64_t now);
int64_t qt_next_due(unsigned kinds);
void qt_read_all(const char *id, char *buf, size_t len);
void qt_body_fill(uint32_t seed, uint64_t off, unsigned char *buf,
		  size_t len);
int qt_body_check(uint32_t seed, uint64_t off, const unsigned char *buf,
		  size_t len);
void qt_check_generated(const char *id, uint32_t seed, uint64_t size);

/* t_threads.c: items from several lessees, no recipient twice, want in
 * all (v is sorted). */
void qt_check_exclusive(struct qt_lease_item *v, size_t n, size_t want);

/* The tests, by file. */
void qt_test_enqueue(void **state);
void qt_test_enqueue_bounds(void **state);
void qt_test_abort(void **state);
void qt_test_lease(void **state);
void qt_test_lease_filters(void **state);
void qt_test_lease_expiry(void **state);
void qt_test_deferral(void **state);
void qt_test_results(void **state);
void qt_test_result_errors(void **state);
void qt_test_reports(void **state);
void qt_test_report_races(void **state);
void qt_test_admin(void **state);
void qt_test_hold(void **state);
void qt_test_restart(void **state);
void qt_test_group_commit(void **state);
void qt_test_lease_threads(void **state);
void qt_test_lease_processes(void **state);
void qt_test_enqueue_processes(void **state);
void qt_test_crash_before_commit(void **state);
void qt_test_crash_during_commit(void **state);
void qt_test_crash_after_commit(void **state);
void qt_test_big_message(void **state);

#endif
