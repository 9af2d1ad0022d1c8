/* Storage backends: per-user mailboxes with IMAP's model (RFC 3501;
 * CONDSTORE and QRESYNC, RFC 7162; special-use, RFC 6154; quota, RFC
 * 9208), published as the interface kind "storage".
 *
 * A backend module fills a struct ps_storage_ops and publishes it with
 * ps_iface_publish(PS_STORAGE_KIND, "NAME", &ops); protocol modules find
 * the configured one with ps_iface_get(PS_STORAGE_KIND, NULL, ...).
 *
 * Threads: every call may block (disk, fsync). Call them from a job's work
 * function (ps_job_submit), never on the loop. A handle (user, mailbox,
 * append) is used by one thread at a time; any number of handles, in any
 * threads or processes, may work on the same user at once.
 *
 * Durability: a call that returns 0 has committed its change atomically;
 * an append is also on the disk then (power loss included). A backend
 * may commit flag changes, expunges and \Recent claims without waiting
 * for the disk: they survive a crash of the process, and a power loss
 * may undo those made after the user's last append.
 *
 * Errors: calls return 0, a negative PS_E* code, or one of PS_STORE_E*
 * below, with a message in err. Names are UTF-8 full names whose levels
 * are separated by ops->delimiter; "INBOX" (any case) always exists. */
#ifndef POSHTA_STORAGE_H
#define POSHTA_STORAGE_H

#include <poshta/types.h>

#define PS_STORAGE_KIND "storage"
/* A backend publishes a bus message on topic PS_STORAGE_TOPIC + user
 * ("store/alice@example.test") after every committed change; its data is
 * the mailbox name. Receivers resynchronise with changes_since. For each
 * mailbox a rename moves (children too, not INBOX, which stays) the data
 * is the old name, a NUL and the new name, so a receiver that reads it
 * as a string sees the old one; a notice for the new name follows. */
#define PS_STORAGE_TOPIC "store/"

/* Message flags (RFC 3501 section 2.3.2). RECENT is never stored: it is
 * reported for messages this session claimed as recent. */
#define PS_FLAG_SEEN 0x01u
#define PS_FLAG_ANSWERED 0x02u
#define PS_FLAG_FLAGGED 0x04u
#define PS_FLAG_DELETED 0x08u
#define PS_FLAG_DRAFT 0x10u
#define PS_FLAG_RECENT 0x20u
#define PS_FLAGS_STORED 0x1fu

/* Mailbox attributes: RFC 3501 7.2.2, RFC 3348, RFC 5258, RFC 6154. */
#define PS_MBOX_NOSELECT 0x0001u
#define PS_MBOX_NOINFERIORS 0x0002u
#define PS_MBOX_HASCHILDREN 0x0004u
#define PS_MBOX_HASNOCHILDREN 0x0008u
#define PS_MBOX_SUBSCRIBED 0x0010u
#define PS_MBOX_NONEXISTENT 0x0020u /* subscribed, but not there */
#define PS_MBOX_ALL 0x0100u
#define PS_MBOX_ARCHIVE 0x0200u
#define PS_MBOX_DRAFTS 0x0400u
#define PS_MBOX_FLAGGED 0x0800u
#define PS_MBOX_JUNK 0x1000u
#define PS_MBOX_SENT 0x2000u
#define PS_MBOX_TRASH 0x4000u
#define PS_MBOX_SPECIAL_USE 0x7f00u

/* Errors beside the PS_E* codes. */
#define PS_STORE_EQUOTA (-100)    /* the change would pass the quota */
#define PS_STORE_ENOMBOX (-101)   /* no such mailbox */
#define PS_STORE_EEXIST (-102)    /* a mailbox of that name exists */
#define PS_STORE_EBADNAME (-103)  /* name not allowed (empty level, too
				   * long, deleting INBOX, ...) */
#define PS_STORE_ENOSELECT (-104) /* the mailbox cannot hold messages */
#define PS_STORE_ENOMSG (-105)    /* no message with that UID */
#define PS_STORE_EHASCHILD (-106) /* RFC 3501 6.3.4: \Noselect with
				   * children cannot be deleted */

struct ps_store_user;   /* one user's store, opened */
struct ps_mbox;         /* one mailbox, opened (selected) */
struct ps_store_append; /* an append transaction */

/* An inclusive UID range; a set is an array of them (any order). */
struct ps_uid_range {
	uint32_t first, last;
};

struct ps_mailbox_info {
	const char *name;
	unsigned attrs; /* PS_MBOX_* */
};

struct ps_mailbox_status {
	uint32_t messages;
	uint32_t recent;
	uint32_t unseen;
	uint32_t uidnext;
	uint32_t uidvalidity;
	uint64_t highestmodseq;
	uint64_t size; /* octets of all messages, RFC 8438 */
};

/* One message's metadata; pointers are valid during the callback. */
struct ps_msg {
	uint32_t uid;
	unsigned flags;                /* PS_FLAG_* */
	const char *const *keywords;   /* nkeywords keywords, as stored */
	size_t nkeywords;
	int64_t internal_date;         /* seconds since the epoch, UTC */
	int internal_tz;               /* the zone it was given in, minutes
				        * east of UTC */
	uint64_t size;                 /* octets as stored (CRLF lines) */
	uint64_t modseq;
	const void *cache;             /* the protocols' cached structure */
	size_t cache_len;              /* 0: none yet */
};

/* Callbacks: return 0 to go on, anything else to stop early (the call
 * then returns that value). */
typedef int (*ps_store_mailbox_fn)(const struct ps_mailbox_info *mb,
				   void *arg);
typedef int (*ps_store_msg_fn)(const struct ps_msg *m, void *arg);
typedef int (*ps_store_uid_fn)(uint32_t uid, void *arg);
typedef int (*ps_store_uidmap_fn)(uint32_t src_uid, uint32_t dst_uid,
				  void *arg);

/* ps_storage_ops.mailbox_open modes. */
#define PS_OPEN_READONLY 0x1 /* EXAMINE: no flag changes, no \Recent claim */

/* ps_storage_ops.msg_store modes. */
enum ps_store_mode {
	PS_STORE_ADD = 1,
	PS_STORE_REMOVE,
	PS_STORE_REPLACE,
};

struct ps_storage_ops {
	size_t size; /* sizeof(struct ps_storage_ops) */
	char delimiter;

	/* Users. quota_bytes is the limit the auth backend holds (0: none);
	 * a user's store is created on first open. delete removes every
	 * mailbox and message of the user. */
	int (*user_open)(const char *user, uint64_t quota_bytes,
			 struct ps_store_user **u_r, struct ps_error *err);
	void (*user_close)(struct ps_store_user *u);
	int (*user_delete)(const char *user, struct ps_error *err);
	/* Usage (RFC 9208 STORAGE and MESSAGE resources). */
	int (*quota_get)(struct ps_store_user *u, uint64_t *bytes_r,
			 uint64_t *messages_r, struct ps_error *err);

	/* Mailboxes. list reports every mailbox (with HASCHILDREN or
	 * HASNOCHILDREN, SUBSCRIBED and special use) and every subscribed
	 * name that does not exist (NONEXISTENT), in no particular order;
	 * the protocol matches patterns. create makes missing parents too.
	 * delete of a mailbox with children leaves it \Noselect (RFC 3501
	 * 6.3.4). rename moves children too; renaming INBOX moves its
	 * messages to the new mailbox and leaves INBOX empty (6.3.5). */
	int (*mailbox_list)(struct ps_store_user *u, ps_store_mailbox_fn fn,
			    void *arg, struct ps_error *err);
	int (*mailbox_create)(struct ps_store_user *u, const char *name,
			      unsigned special_use, struct ps_error *err);
	int (*mailbox_delete)(struct ps_store_user *u, const char *name,
			      struct ps_error *err);
	int (*mailbox_rename)(struct ps_store_user *u, const char *from,
			      const char *to, struct ps_error *err);
	int (*mailbox_subscribe)(struct ps_store_user *u, const char *name,
				 int subscribe, struct ps_error *err);
	int (*mailbox_status)(struct ps_store_user *u, const char *name,
			      struct ps_mailbox_status *st_r,
			      struct ps_error *err);

	/* Open a mailbox (SELECT/EXAMINE). Unless PS_OPEN_READONLY, the
	 * messages no session has claimed yet become this session's \Recent
	 * ones: *first_recent_r is the lowest such UID (uidnext when none).
	 * st_r describes the mailbox at that moment. The handle follows the
	 * mailbox through renames (of it or a parent); once the mailbox is
	 * deleted, even if its name is created again, changes_since and
	 * the calls that change it fail with PS_STORE_ENOMBOX. */
	int (*mailbox_open)(struct ps_store_user *u, const char *name,
			    unsigned mode, struct ps_mbox **mb_r,
			    struct ps_mailbox_status *st_r,
			    uint32_t *first_recent_r, struct ps_error *err);
	void (*mailbox_close)(struct ps_mbox *mb);

	/* Messages of the open mailbox in UID order: all when set is NULL,
	 * else those in set (UIDs not there are skipped). */
	int (*msg_fetch)(struct ps_mbox *mb, const struct ps_uid_range *set,
			 size_t nset, ps_store_msg_fn fn, void *arg,
			 struct ps_error *err);
	/* Read up to len bytes of message uid from offset; *got_r is 0 at the
	 * end. Memory does not grow with the message's size. */
	int (*msg_read)(struct ps_mbox *mb, uint32_t uid, uint64_t offset,
			void *buf, size_t len, size_t *got_r,
			struct ps_error *err);
	/* Remember the protocols' parsed structure for uid. */
	int (*msg_set_cache)(struct ps_mbox *mb, uint32_t uid, const void *cache,
			     size_t len, struct ps_error *err);
	/* Change flags and keywords of the messages in set, each change
	 * bumping the message's MODSEQ. With unchangedsince > 0 (RFC 7162
	 * 3.1.3) a message whose MODSEQ is higher is left alone and reported
	 * to refused; changed gets each message as it is afterwards. A
	 * message that already is as asked keeps its MODSEQ and is not
	 * reported. changed and refused may be NULL. */
	int (*msg_store)(struct ps_mbox *mb, const struct ps_uid_range *set,
			 size_t nset, enum ps_store_mode mode, unsigned flags,
			 const char *const *keywords, size_t nkeywords,
			 uint64_t unchangedsince, ps_store_msg_fn changed,
			 ps_store_uid_fn refused, void *arg,
			 struct ps_error *err);
	/* Copy (or move) the messages in set to mailbox dest, keeping flags,
	 * keywords, internal date and cache; map gets each source UID with
	 * its new UID in dest, in source UID order (RFC 4315 COPYUID). */
	int (*msg_copy)(struct ps_mbox *mb, const struct ps_uid_range *set,
			size_t nset, const char *dest, int move,
			ps_store_uidmap_fn map, void *arg,
			uint32_t *dest_uidvalidity_r, struct ps_error *err);
	/* Remove the \Deleted messages (all, or those in set: RFC 4315 UID
	 * EXPUNGE), reporting each removed UID in ascending order. */
	int (*expunge)(struct ps_mbox *mb, const struct ps_uid_range *set,
		       size_t nset, ps_store_uid_fn removed, void *arg,
		       struct ps_error *err);
	/* What changed after modseq (RFC 7162): messages whose MODSEQ is
	 * higher, in UID order, then the UIDs expunged after it. */
	int (*changes_since)(struct ps_mbox *mb, uint64_t modseq,
			     ps_store_msg_fn changed, ps_store_uid_fn expunged,
			     void *arg, struct ps_error *err);

	/* Append: one or more messages to one mailbox (MULTIAPPEND, RFC 3502),
	 * visible to nobody until commit, which is atomic and durable when it
	 * returns. A message is msg_begin, any number of data calls with its
	 * bytes (CRLF lines), then msg_end with the protocols' cached
	 * structure (or NULL). An append past the quota fails with
	 * PS_STORE_EQUOTA (at data, msg_end or commit). commit fills uids_r
	 * (one per message, in order, if not NULL) and the mailbox's
	 * uidvalidity; commit and abort free the transaction. */
	int (*append_begin)(struct ps_store_user *u, const char *mailbox,
			    struct ps_store_append **a_r, struct ps_error *err);
	int (*append_msg_begin)(struct ps_store_append *a, unsigned flags,
				const char *const *keywords, size_t nkeywords,
				int64_t internal_date, int internal_tz,
				struct ps_error *err);
	int (*append_data)(struct ps_store_append *a, const void *data,
			   size_t len, struct ps_error *err);
	int (*append_msg_end)(struct ps_store_append *a, const void *cache,
			      size_t cache_len, struct ps_error *err);
	int (*append_commit)(struct ps_store_append *a, uint32_t *uids_r,
			     uint32_t *uidvalidity_r, struct ps_error *err);
	void (*append_abort)(struct ps_store_append *a);

	/* Since 1.3 (NULL in older backends). Bracket the calls one
	 * command makes on mb, in the thread that makes them: in between
	 * the backend may keep what each call would set up and tear down
	 * (storage_sqlite: the connection and a read snapshot), so that a
	 * SEARCH reading every header pays for it once. Reads in between
	 * may see mb's mailbox as it was at the first of them, until a
	 * change through mb itself; changes through other handles show
	 * after the release. Release before the session waits for its
	 * client: a held handle holds what the backend kept. Not nested;
	 * mailbox_close releases too. */
	void (*mailbox_hold)(struct ps_mbox *mb);
	void (*mailbox_release)(struct ps_mbox *mb);

	/* Since 1.6 (NULL where a backend cannot): restoring a mailbox as
	 * it was elsewhere (poshtactl migrate), UIDs included, so that
	 * clients' caches stay valid (RFC 3501 2.3.1.1). set_uidvalidity
	 * gives a mailbox that never held a message (uidnext 1) that
	 * UIDVALIDITY; else PS_EINVAL. append_msg_uid, between
	 * append_msg_begin and append_msg_end, gives the message that UID
	 * instead of the next one: it must be at least the mailbox's
	 * uidnext and above the transaction's earlier UIDs (else
	 * PS_EINVAL); after the commit uidnext is past it. */
	int (*mailbox_set_uidvalidity)(struct ps_store_user *u,
				       const char *name, uint32_t uidvalidity,
				       struct ps_error *err);
	int (*append_msg_uid)(struct ps_store_append *a, uint32_t uid,
			      struct ps_error *err);

	/* Since 1.6 (NULL where the backend has nothing to rebuild:
	 * storage_sqlite's database is the truth): rebuild user's index
	 * from the mail itself (poshtactl index rebuild), for an index
	 * that was damaged or deleted. UIDs, UIDVALIDITY, flags and
	 * keywords stay as the mail holds them; MODSEQs may start again
	 * (above the old ones), \Recent and cached structures may be
	 * lost. Runs while other handles of the user are open; they go
	 * on working. PS_STORE_ENOMBOX when the user has no store. */
	int (*user_reindex)(const char *user, struct ps_error *err);
};

#endif
