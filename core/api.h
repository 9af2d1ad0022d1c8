/* The struct ps_api table handed to every module. */
#ifndef PS_CORE_API_H
#define PS_CORE_API_H

#include <poshta/api.h>

const struct ps_api *ps_api_table(void);

#endif
