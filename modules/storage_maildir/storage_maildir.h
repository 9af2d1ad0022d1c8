/* storage_maildir's internals shared by its files: the configuration,
 * the handles, the user lock (lock.c), names and their folders on disk
 * (names.c, mutf7.c), the UID list (uidlist.c) and file helpers
 * (util.c). The layout is described in docs/architecture.md,
 * "storage_maildir". */
#ifndef MD_STORAGE_MAILDIR_H
#define MD_STORAGE_MAILDIR_H

#include <stddef.h>
#include <stdint.h>

#include <poshta/poshta.h>
#include <sqlite3.h>

#include "storekit.h" /* names, keywords' syntax: libpsstore */

#define MD_NAME_MAX PST_NAME_MAX /* bytes of a mailbox name */
#define MD_DELIM PST_DELIM /* the SDK's hierarchy delimiter */
#define MD_PATH_MAX 4096
#define MD_UIDLIST "dovecot-uidlist"
#define MD_SPECIAL_USE "poshta-special-use"
#define MD_SUBSCRIPTIONS "subscriptions"
#define MD_HASHED ".~poshta-"      /* a folder named by a hash (names.c) */
#define MD_NAME_FILE "poshta-name" /* and its full name, inside it */
#define MD_KEYWORD_MAX 128 /* keywords on one message, as storage_sqlite */
#define MD_CACHE_MAX (16 * 1024 * 1024) /* a message's cached structure */

/* The module block, read in worker_init (module.c). */
struct md_config {
	char *path; /* path/DOMAIN/LOCAL/Maildir holds each user's mail */
	int fsync;  /* fsync files and folders before a change returns */
};
extern struct md_config md_config;

struct ps_store_user {
	char *name; /* lower case local@domain: the bus topic's suffix */
	char *home; /* path/DOMAIN/LOCAL */
	char *root; /* home/Maildir: INBOX, and the folders below it */
	uint64_t quota;
};

/* The user's lock: an open file description locked with an OFD lock, so
 * that it excludes other threads of this process as well as other
 * workers (lock.c). */
struct md_lock {
	int fd;
};

/* A folder's dovecot-uidlist header (version 3). */
struct md_uidlist_hdr {
	uint32_t uidvalidity;
	uint32_t nextuid;
	char guid[33]; /* 32 hex digits */
};

/* A folder's whole UID list: base file names by UID, ascending. */
struct md_uid_entry {
	uint32_t uid;
	char *base;
};
struct md_uidlist {
	struct md_uidlist_hdr h;
	struct md_uid_entry *v;
	size_t n, cap;
};

/* A folder's keywords: keyword i is letter 'a' + i (keywords.c). */
#define MD_KW_LETTERS 26
struct md_keywords {
	char *v[MD_KW_LETTERS];
	size_t n;
};

/* One message as a scan of new/ and cur/ found it (scan.c). */
#define MD_VSIZE_UNKNOWN UINT64_MAX /* no ",W=": the index knows it */
struct md_msg {
	uint32_t uid;
	unsigned flags;  /* PS_FLAG_* from the info */
	uint32_t kw;     /* keyword letters */
	uint64_t size;   /* octets in the file */
	uint64_t vsize;  /* octets served: bare LFs count as CRLF (crlf.c) */
	int64_t mtime;   /* the internal date, as Dovecot takes it */
	char *file;      /* "cur/NAME" or "new/NAME" */
	uint64_t modseq; /* from the index (index.c) */
	int tz;
	void *cache;
	size_t cache_len;
	char *extra;     /* keywords without a letter, from the index */
};

/* What a scan's index sync found (index.c). */
struct md_sync {
	uint32_t first_recent; /* the lowest unclaimed UID, or uidnext */
	uint32_t recent;       /* unclaimed messages before the claim */
	uint64_t highest;      /* HIGHESTMODSEQ */
};
struct md_msgs {
	struct md_msg *v;
	size_t n, cap;
};

/* util.c */
/* err's message from fmt (err may be NULL), code returned: libpsstore's. */
#define md_err pst_err
int md_errno(struct ps_error *err, const char *what, const char *path);
int md_path(char *out, const char *dir, const char *name);
int md_mkdirs(const char *dir, struct ps_error *err);
int md_fsync_dir(const char *dir, struct ps_error *err);
int md_write_atomic(const char *path, const void *data, size_t len,
		    struct ps_error *err);
int md_read_small(const char *path, char **text_r, size_t *len_r,
		  struct ps_error *err);
int md_rmtree(const char *dir, struct ps_error *err);
int md_is_dir(const char *path);
void md_random_hex(char *out, size_t bytes);

/* mutf7.c: one level of a name, UTF-8 to modified UTF-7 (RFC 3501
 * 5.1.3) and back; -1 when it does not fit or is not valid. */
int md_mutf7_encode(const char *s, size_t len, char *out, size_t cap);
int md_mutf7_decode(const char *s, size_t len, char *out, size_t cap);

/* names.c */
int md_name_canon(const char *name, char *out, struct ps_error *err);
int md_name_join(char *out, const char *prefix, const char *rest);
void md_dir_mailbox(const struct ps_store_user *u, const char *dir,
		    char *out);
int md_name_is_inbox(const char *canon);
int md_folder_dir(const struct ps_store_user *u, const char *canon,
		  char *out, size_t cap, struct ps_error *err);
int md_dir_name(const char *root, const char *entry, char *out, size_t cap);
void md_hashed_entry(const char *canon, char *enc);
int md_user_dirs(const char *user, char **name_r, char **home_r,
		 char **root_r, struct ps_error *err);

/* lock.c */
int md_lock(const struct ps_store_user *u, struct md_lock *l,
	    struct ps_error *err);
void md_unlock(struct md_lock *l);

/* uidlist.c */
int md_uidlist_read_hdr(const char *dir, struct md_uidlist_hdr *h,
			struct ps_error *err);
int md_uidlist_create(const struct ps_store_user *u, const char *dir,
		      struct ps_error *err);
int md_uidvalidity_next(const struct ps_store_user *u, uint32_t *v_r,
			struct ps_error *err);

int md_uidlist_load(const char *dir, struct md_uidlist *l,
		    struct ps_error *err);
int md_uidlist_add(struct md_uidlist *l, uint32_t uid, const char *base,
		   size_t len);
int md_uidlist_save(const char *dir, const struct md_uidlist *l,
		    struct ps_error *err);
void md_uidlist_free(struct md_uidlist *l);

/* keywords.c */
int md_kw_check(const char *const *kw, size_t n, struct ps_error *err);
int md_kw_load(const char *dir, struct md_keywords *k, struct ps_error *err);
int md_kw_mask(const char *dir, struct md_keywords *k, const char *const *kw,
	       size_t n, int add, uint32_t *mask_r, char **extra_r,
	       struct ps_error *err);
void md_kw_free(struct md_keywords *k);

/* info.c */
void md_info_build(unsigned flags, uint32_t kw, char *out);
void md_info_parse(const char *name, unsigned *flags_r, uint32_t *kw_r);
void md_info_keep(const char *old, char *info);
size_t md_base_len(const char *name);

/* scan.c: the messages of folder dir, new files given UIDs (and, with
 * claim, moved from new/ to cur/: *first_r is the lowest UID moved);
 * under the user's lock. */
int md_scan(const char *dir, int claim, struct md_msgs *out,
	    struct md_uidlist_hdr *h_r, uint32_t *first_r,
	    struct ps_error *err);
void md_msgs_free(struct md_msgs *m);
int md_folder_by_guid(const struct ps_store_user *u, const char *guid,
		      char *dir, struct ps_error *err);

/* append.c: a delivery's unique file name. */
void md_unique(char *out, size_t cap);

/* cache.c: what a scan saw of a folder (new/, cur/, the UID list, the
 * keywords file and the user's index), so that a later call can tell that nothing changed
 * without reading it all again. */
struct md_fstamp {
	uint64_t dev, ino, size;
	int64_t sec, nsec; /* mtime */
	int present;
};
struct md_stamp {
	struct md_fstamp f[5];
	int valid; /* taken before a scan that found it unchanged after */
};

/* crlf.c: where the last read of a message with bare LFs stopped, so the
 * next one (a client reads a body in pieces) goes on from there. */
struct md_crlf_pos {
	uint32_t uid;   /* 0: none */
	uint64_t voff;  /* octets served before ... */
	uint64_t poff;  /* ... this octet of the file */
	int prev_cr;    /* the octet before poff is a CR */
};

/* open.c: the open mailbox, shared with store.c and expunge.c. */
struct ps_mbox {
	struct ps_store_user *u;
	char guid[33];
	unsigned mode;
	struct md_msgs msgs; /* as the last scan found them */
	struct md_keywords kw;
	struct md_sync sync;  /* and what it found in the index */
	uint32_t uidnext, uidvalidity;
	char dir[MD_PATH_MAX]; /* the folder, as the last scan found it */
	struct md_stamp stamp; /* and its files then */
	int held;     /* between mailbox_hold and mailbox_release */
	int fresh;    /* msgs is current enough for a held handle */
	int walking;  /* msg_fetch is reporting msgs: no rescan may free it */
	struct md_crlf_pos crlf;
	int rfd;       /* held: the last message read stays open ... */
	uint32_t rfd_uid; /* ... this one (0: none) */
};
void md_mbox_drop_fd(struct ps_mbox *mb);
int md_mbox_refresh(struct ps_mbox *mb, struct ps_error *err);
void md_stamp_take(const struct ps_store_user *u, const char *dir,
		   struct md_stamp *s);
int md_stamp_same(const struct md_stamp *a, const struct md_stamp *b);
void md_mailbox_hold(struct ps_mbox *mb);
void md_mailbox_release(struct ps_mbox *mb);

/* crlf.c */
int md_crlf_count(const char *path, uint64_t *vsize_r);
int md_crlf_read(int fd, struct md_crlf_pos *pos, uint32_t uid,
		 uint64_t offset, void *buf, size_t len, size_t *got_r);
int md_name_size(const char *name, const char *key, uint64_t *v_r);

/* reindex.c */
int md_user_reindex(const char *user, struct ps_error *err);
int md_mbox_scan_locked(struct ps_mbox *mb, int claim, char *dir,
			struct md_uidlist_hdr *h, uint32_t *first_r,
			struct ps_error *err);
int md_mbox_scan(struct ps_mbox *mb, int claim, char *dir,
		 struct md_uidlist_hdr *h, uint32_t *first_r,
		 struct ps_error *err);
int md_mbox_report(const struct ps_mbox *mb, const struct md_msg *x,
		   ps_store_msg_fn fn, void *arg);
int md_in_set(uint32_t uid, const struct ps_uid_range *set, size_t nset);

/* index.c */
int md_idx_open(const struct ps_store_user *u, sqlite3 **db_r,
		struct ps_error *err);
int md_idx_close(sqlite3 *db, int r, struct ps_error *err);
int md_idx_folder(sqlite3 *db, const char *guid, uint64_t *modseq_r,
		  uint32_t *recent_r, struct ps_error *err);
int md_idx_folder_set(sqlite3 *db, const char *guid, uint64_t modseq,
		      uint32_t recent, struct ps_error *err);
int md_idx_put(sqlite3 *db, const char *guid, uint32_t uid, uint64_t modseq,
	       const char *state, const char *extra, int tz,
	       const void *cache, size_t len, struct ps_error *err);
int md_idx_sync(const struct ps_store_user *u, const char *guid,
		const char *dir, struct md_msgs *m, uint32_t nextuid,
		int claim, struct md_sync *s, struct ps_error *err);


/* folder.c */
int md_folder_make(const struct ps_store_user *u, const char *canon,
		   unsigned special_use, struct ps_error *err);
int md_folder_name_file(const char *dir, const char *canon, const char *into,
			struct ps_error *err);
int md_folder_parents(const struct ps_store_user *u, const char *canon,
		      struct ps_error *err);
int md_folder_find(const struct ps_store_user *u, const char *name, char *canon,
		   char *dir, struct ps_error *err);
int md_folder_exists(const struct ps_store_user *u, const char *canon);
int md_folder_has_children(const struct ps_store_user *u, const char *canon,
			   struct ps_error *err);
unsigned md_special_use_read(const char *dir);

/* inbox.c: RENAME of INBOX, under the lock. */
int md_rename_inbox(struct ps_store_user *u, const char *to,
		    struct ps_error *err);

/* subscribe.c: the subscriptions file as a list of names. */
struct md_names {
	char **v;
	size_t n, cap;
};
int md_names_add(struct md_names *s, const char *name);
int md_names_find(const struct md_names *s, const char *name);
void md_names_free(struct md_names *s);
int md_subs_read(const struct ps_store_user *u, struct md_names *s,
		 struct ps_error *err);
int md_subs_write(const struct ps_store_user *u, const struct md_names *s,
		  struct ps_error *err);

/* notify.c */
void md_notify(const struct ps_store_user *u, const char *mailbox);
void md_notify_rename(const struct ps_store_user *u, const char *old,
		      const char *to);

/* The storage calls, one file per family. */
int md_user_open(const char *user, uint64_t quota_bytes,
		 struct ps_store_user **u_r, struct ps_error *err);
void md_user_close(struct ps_store_user *u);
int md_user_delete(const char *user, struct ps_error *err);
int md_mailbox_list(struct ps_store_user *u, ps_store_mailbox_fn fn,
		    void *arg, struct ps_error *err);
int md_mailbox_create(struct ps_store_user *u, const char *name,
		      unsigned special_use, struct ps_error *err);
int md_mailbox_delete(struct ps_store_user *u, const char *name,
		      struct ps_error *err);
int md_mailbox_rename(struct ps_store_user *u, const char *from,
		      const char *to, struct ps_error *err);
int md_mailbox_subscribe(struct ps_store_user *u, const char *name,
			 int subscribe, struct ps_error *err);
int md_mailbox_status(struct ps_store_user *u, const char *name,
		      struct ps_mailbox_status *st_r, struct ps_error *err);
int md_append_begin(struct ps_store_user *u, const char *mailbox,
		    struct ps_store_append **a_r, struct ps_error *err);
int md_append_msg_begin(struct ps_store_append *a, unsigned flags,
			const char *const *keywords, size_t nkeywords,
			int64_t internal_date, int internal_tz,
			struct ps_error *err);
int md_append_data(struct ps_store_append *a, const void *data, size_t len,
		   struct ps_error *err);
int md_append_msg_end(struct ps_store_append *a, const void *cache,
		      size_t cache_len, struct ps_error *err);
int md_append_commit(struct ps_store_append *a, uint32_t *uids_r,
		     uint32_t *uidvalidity_r, struct ps_error *err);
void md_append_abort(struct ps_store_append *a);
/* SDK 1.6: restore.c, append.c */
int md_mailbox_set_uidvalidity(struct ps_store_user *u, const char *name,
			       uint32_t uidvalidity, struct ps_error *err);
int md_append_msg_uid(struct ps_store_append *a, uint32_t uid,
		      struct ps_error *err);
int md_mailbox_open(struct ps_store_user *u, const char *name, unsigned mode,
		    struct ps_mbox **mb_r, struct ps_mailbox_status *st_r,
		    uint32_t *first_recent_r, struct ps_error *err);
void md_mailbox_close(struct ps_mbox *mb);
int md_msg_fetch(struct ps_mbox *mb, const struct ps_uid_range *set,
		 size_t nset, ps_store_msg_fn fn, void *arg,
		 struct ps_error *err);
int md_msg_store(struct ps_mbox *mb, const struct ps_uid_range *set,
		 size_t nset, enum ps_store_mode mode, unsigned flags,
		 const char *const *keywords, size_t nkeywords,
		 uint64_t unchangedsince, ps_store_msg_fn changed,
		 ps_store_uid_fn refused, void *arg, struct ps_error *err);
int md_msg_copy(struct ps_mbox *mb, const struct ps_uid_range *set,
		size_t nset, const char *dest, int move,
		ps_store_uidmap_fn map, void *arg,
		uint32_t *dest_uidvalidity_r, struct ps_error *err);
int md_expunge(struct ps_mbox *mb, const struct ps_uid_range *set,
	       size_t nset, ps_store_uid_fn removed, void *arg,
	       struct ps_error *err);
int md_quota_get(struct ps_store_user *u, uint64_t *bytes_r,
		 uint64_t *messages_r, struct ps_error *err);
int md_usage(const struct ps_store_user *u, uint64_t *bytes_r,
	     uint64_t *messages_r, struct ps_error *err);
int md_changes_since(struct ps_mbox *mb, uint64_t modseq,
		     ps_store_msg_fn changed, ps_store_uid_fn expunged,
		     void *arg, struct ps_error *err);
int md_msg_set_cache(struct ps_mbox *mb, uint32_t uid, const void *cache,
		     size_t len, struct ps_error *err);
int md_msg_read(struct ps_mbox *mb, uint32_t uid, uint64_t offset, void *buf,
		size_t len, size_t *got_r, struct ps_error *err);

#endif
