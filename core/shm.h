/* Memory shared by the master and every worker: mapped by the master
 * before it forks, inherited by each worker at the same address. */
#ifndef PS_CORE_SHM_H
#define PS_CORE_SHM_H

#include <stddef.h>

struct ps_error;

/* A zeroed shared anonymous mapping of size bytes (at least 8) whose
 * first 8 bytes hold a random seed, for hash tables a client must not be
 * able to aim at. NULL with "WHAT: why" in err. Pages are touched only
 * as they are used. */
void *ps_shm_seeded(size_t size, const char *what, struct ps_error *err);

#endif
