#include "imapd.h"
int imap_cmd_list(struct imap_session *s) { return imap_no(s, NULL, "stub"); }
int imap_cmd_lsub(struct imap_session *s) { return imap_no(s, NULL, "stub"); }
int imap_cmd_create(struct imap_session *s) { return imap_no(s, NULL, "stub"); }
int imap_cmd_delete(struct imap_session *s) { return imap_no(s, NULL, "stub"); }
int imap_cmd_rename(struct imap_session *s) { return imap_no(s, NULL, "stub"); }
int imap_cmd_subscribe(struct imap_session *s) { return imap_no(s, NULL, "stub"); }
int imap_cmd_unsubscribe(struct imap_session *s) { return imap_no(s, NULL, "stub"); }
int imap_cmd_status(struct imap_session *s) { return imap_no(s, NULL, "stub"); }
int imap_cmd_fetch(struct imap_session *s) { return imap_no(s, NULL, "stub"); }
int imap_cmd_store(struct imap_session *s) { return imap_no(s, NULL, "stub"); }
int imap_cmd_copy(struct imap_session *s) { return imap_no(s, NULL, "stub"); }
int imap_cmd_expunge(struct imap_session *s) { return imap_no(s, NULL, "stub"); }
int imap_cmd_getquota(struct imap_session *s) { return imap_no(s, NULL, "stub"); }
int imap_cmd_getquotaroot(struct imap_session *s) { return imap_no(s, NULL, "stub"); }
int imap_cmd_setquota(struct imap_session *s) { return imap_no(s, NULL, "stub"); }
int imap_cmd_append(struct imap_session *s) { return imap_no(s, NULL, "stub"); }
int imap_append_wants(struct imap_session *s, const struct imap_literal *li) { (void)s; (void)li; return 0; }
int imap_append_bytes(struct imap_session *s, const char *data, size_t len, size_t left) { (void)s; (void)data; (void)len; (void)left; return 0; }
