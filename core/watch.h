/* File descriptor watches for modules (SDK 1.4, see <poshta/poshta.h>). */
#ifndef PS_CORE_WATCH_H
#define PS_CORE_WATCH_H

#include <poshta/api.h>

struct ps_watch *ps_watch_add(int fd, unsigned events, ps_watch_fn fn,
			      void *arg);
int ps_watch_set(struct ps_watch *w, unsigned events);
void ps_watch_remove(struct ps_watch *w);

#endif
