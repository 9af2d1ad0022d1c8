/* The storage conformance suite: every call of <poshta/storage.h>,
 * exercised through the real module loader against whichever backend the
 * configuration given on the command line loads. Shared helpers here. */
#ifndef ST_SUITE_H
#define ST_SUITE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <poshta/storage.h>

#define ST_MAX_MSGS 64
#define ST_MAX_UIDS 1024

extern struct ps_storage_ops st_ops;

/* One message as fetch reported it. */
struct st_msg {
	uint32_t uid;
	unsigned flags;
	char keywords[512]; /* space-separated, as reported */
	size_t nkeywords;
	int64_t date;
	int tz;
	uint64_t size, modseq;
	char cache[64];
	size_t cache_len;
};

struct st_msgs {
	size_t n;
	struct st_msg m[ST_MAX_MSGS];
};

struct st_uids {
	size_t n;
	uint32_t v[ST_MAX_UIDS];
};

/* main.c: close the backend and start it again, as a restart would. */
void st_restart(void);

/* helpers.c */
struct ps_store_user *st_user(const char *name, uint64_t quota);
struct ps_store_user *st_reopen(const char *name);
uint32_t st_append(struct ps_store_user *u, const char *mailbox,
		   const char *body, unsigned flags, const char *keywords);
uint32_t st_append_generated(struct ps_store_user *u, const char *mailbox,
			     uint32_t seed, uint64_t size, size_t piece);
struct ps_mbox *st_select(struct ps_store_user *u, const char *name,
			  unsigned mode, struct ps_mailbox_status *st,
			  uint32_t *first_recent);
void st_status(struct ps_store_user *u, const char *name,
	       struct ps_mailbox_status *st);
unsigned st_attrs(struct ps_store_user *u, const char *name);
int st_fetch(struct ps_mbox *mb, const struct ps_uid_range *set, size_t nset,
	     struct st_msgs *out);
int st_msg_collect(const struct ps_msg *m, void *arg);
int st_uid_collect(uint32_t uid, void *arg);
void st_read_all(struct ps_mbox *mb, uint32_t uid, char *buf, size_t len);
void st_body_fill(uint32_t seed, uint64_t off, unsigned char *buf,
		  size_t len);
int st_body_check(uint32_t seed, uint64_t off, const unsigned char *buf,
		  size_t len);

/* The tests, by file. */
void st_test_users(void **state);
void st_test_names(void **state);
void st_test_create(void **state);
void st_test_delete(void **state);
void st_test_rename(void **state);
void st_test_rename_inbox(void **state);
void st_test_open_deleted(void **state);
void st_test_rename_subscriptions(void **state);
void st_test_subscribe(void **state);
void st_test_uidvalidity(void **state);
void st_test_status_recent(void **state);
void st_test_fetch(void **state);
void st_test_read_cache(void **state);
void st_test_nested_reads(void **state);
void st_test_hold(void **state);
void st_test_store(void **state);
void st_test_unchangedsince(void **state);
void st_test_keyword_bounds(void **state);
void st_test_copy(void **state);
void st_test_move(void **state);
void st_test_expunge(void **state);
void st_test_readonly(void **state);
void st_test_append(void **state);
void st_test_append_mixed(void **state);
void st_test_append_errors(void **state);
void st_test_quota(void **state);
void st_test_user_delete(void **state);
void st_test_restart(void **state);
void st_test_concurrent(void **state);
void st_test_threads(void **state);
void st_test_crash_before_commit(void **state);
void st_test_crash_after_commit(void **state);
void st_test_crash_during_commit(void **state);
void st_test_crash_after_store(void **state);
void st_test_big_message(void **state);
void st_test_restore_uidvalidity(void **state);
void st_test_restore_uids(void **state);

#endif
