#include "imapd.h"
int imap_cmd_search(struct imap_session *s) { return imap_no(s, NULL, "stub"); }
