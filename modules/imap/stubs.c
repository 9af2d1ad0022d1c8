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
int imap_cmd_search(struct imap_session *s) { return imap_no(s, NULL, "stub"); }
int imap_cmd_getquota(struct imap_session *s) { return imap_no(s, NULL, "stub"); }
int imap_cmd_getquotaroot(struct imap_session *s) { return imap_no(s, NULL, "stub"); }
int imap_cmd_setquota(struct imap_session *s) { return imap_no(s, NULL, "stub"); }
