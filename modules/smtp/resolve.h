/* smtp.so's asynchronous resolver for outbound mail (resolve.c): c-ares on
 * the worker's loop. The result shape is the public one of <poshta/dns.h>
 * (struct ps_dns_host, enum ps_dns_status, ps_dns_fn), which other modules
 * reach through the "dns" interface smtp.so publishes.
 *
 * Contract (as in <poshta/dns.h>): on the worker's loop thread only; 0 and
 * then fn exactly once, in a later loop turn, on this thread, also at
 * worker exit (PS_DNS_TEMP, "shutdown") — or negative (PS_EINVAL for a
 * bad name or an address, PS_ENOMEM, PS_ESTATE outside a worker or while
 * it exits) and fn never. What fn is handed is valid during the call. */
#ifndef SMTP_RESOLVE_H
#define SMTP_RESOLVE_H

#include <poshta/dns.h>
#include <poshta/poshta.h>

/* RFC 5321 5.1: the hosts to try for mail to domain. */
int smtp_dns_mx(const char *domain, ps_dns_fn fn, void *arg);

/* The addresses of one host (static routes, relay hosts). */
int smtp_dns_host(const char *name, ps_dns_fn fn, void *arg);

/* From smtp_init: the resolver's directives and the "dns" interface. */
int smtp_resolve_init(void);

/* From smtp_worker_init / worker_exit: the worker's c-ares channel. Exit
 * ends every lookup in flight (their callbacks run, PS_DNS_TEMP). */
int smtp_resolve_worker_init(struct ps_error *err);
void smtp_resolve_worker_exit(void);

#endif
