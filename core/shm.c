/* Shared anonymous mappings with a random seed in front (see shm.h), for
 * the counters every worker updates with C11 atomics. */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>

#include "log.h"
#include "shm.h"

void *
ps_shm_seeded(size_t size, const char *what, struct ps_error *err)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		ps_error_set(err, "%s: mmap: %s", what, strerror(errno));
		return NULL;
	}
	if (getrandom(p, sizeof(uint64_t), 0) != (ssize_t)sizeof(uint64_t)) {
		ps_error_set(err, "%s: getrandom: %s", what, strerror(errno));
		munmap(p, size);
		return NULL;
	}
	return p;
}
