/* Domains in U-labels as A-labels (idn.c). */
#ifndef SMTP_IDN_H
#define SMTP_IDN_H

#include <stddef.h>

/* A domain, or local@domain, with U-labels made A-labels (RFC 5891)
 * into out (not the input); ASCII is copied as it is. -1: not a valid
 * IDN, or longer than size. */
int smtp_idn_domain(const char *domain, char *out, size_t size);
int smtp_idn_address(const char *addr, char *out, size_t size);

#endif
