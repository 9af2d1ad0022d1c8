/* WAL writes, gathered. SQLite writes each WAL frame with two pwrites
 * (its 24-byte header, then the page), so a commit of N pages costs 2N
 * system calls: 16 for an SMTP delivery of 10 KB. This VFS hands every
 * call to the default one, but a WAL's contiguous writes wait in a
 * buffer and go in one pwrite: before the WAL is synced, read, sized,
 * truncated, controlled or closed, before a write elsewhere in it, and
 * when the buffer (124 KiB) is full.
 *
 * It buffers only while the connection commits with synchronous=FULL
 * (ss_walbuf_set from ss_sync_set): SQLite then syncs the WAL, which
 * writes the buffer, before it publishes the commit in the WAL index, so
 * no reader in any process meets a frame the index names that the file
 * lacks, and a failed write fails the commit as it would have. As a
 * safety net the main file's shared-memory barrier (which SQLite runs
 * between the two copies of the index header) writes a buffer still
 * waiting; an error there fails the next write or sync. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "storage_sqlite.h"

#define WB_VFS "poshta-walbuf"
/* A buffer's size, allocated whole at a commit's first frame: below the
 * unix VFS's limit on one write (it masks lengths to 17 bits) and below
 * the workers' mmap threshold (512 KiB), whose munmap at every commit
 * would interrupt every thread of the worker. */
#define WB_SIZE (124 * 1024)
#define WB_FCNTL_BUFFER 0x50575301 /* ours: arg int*, 1 buffer, 0 not */

struct wb_file {
	sqlite3_file base;
	sqlite3_file *real;      /* the default VFS's, allocated after us */
	struct wb_file *wal;     /* main file: its WAL, while open */
	struct wb_file *main;    /* WAL: its main file */
	int buffer;              /* main file: commits sync (FULL) */
	int err;                 /* WAL: a barrier's write failed */
	unsigned char *buf;      /* WAL: what waits (WB_SIZE), from off */
	size_t len;
	sqlite3_int64 off;
};

static sqlite3_vfs wb_vfs;

#define REAL(f) (((struct wb_file *)(f))->real)

static int
wb_flush(struct wb_file *w)
{
	int rc = SQLITE_OK;

	if (w->err) {
		rc = w->err;
		w->err = SQLITE_OK;
	}
	if (w->len && rc == SQLITE_OK)
		rc = REAL(w)->pMethods->xWrite(REAL(w), w->buf, (int)w->len,
					       w->off);
	w->len = 0;
	return rc;
}

/* Flushed and freed: a pooled connection keeps no buffer. */
static int
wb_drop(struct wb_file *w)
{
	int rc = wb_flush(w);

	free(w->buf);
	w->buf = NULL;
	return rc;
}

static int
wb_close(sqlite3_file *f)
{
	struct wb_file *w = (struct wb_file *)f;
	int rc = wb_drop(w), rc2;

	if (w->main)
		w->main->wal = NULL;
	if (w->wal)
		w->wal->main = NULL;
	rc2 = w->real->pMethods->xClose(w->real);
	return rc != SQLITE_OK ? rc : rc2;
}

static int
wb_read(sqlite3_file *f, void *p, int amt, sqlite3_int64 off)
{
	int rc = wb_flush((struct wb_file *)f);

	return rc != SQLITE_OK ? rc
			       : REAL(f)->pMethods->xRead(REAL(f), p, amt, off);
}

/* Room for amt more bytes; 0 when the buffer cannot take them. */
static int
wb_room(struct wb_file *w, size_t amt)
{
	if (!w->buf && !(w->buf = malloc(WB_SIZE)))
		return 0;
	return w->len + amt <= WB_SIZE;
}

static int
wb_write(sqlite3_file *f, const void *p, int amt, sqlite3_int64 off)
{
	struct wb_file *w = (struct wb_file *)f;
	int rc = SQLITE_OK;

	if (!w->main || !w->main->buffer || amt <= 0) {
		rc = wb_flush(w);
		return rc != SQLITE_OK ? rc
			: w->real->pMethods->xWrite(w->real, p, amt, off);
	}
	if (w->len && off != w->off + (sqlite3_int64)w->len)
		rc = wb_flush(w);
	if (rc == SQLITE_OK && !wb_room(w, (size_t)amt)) {
		rc = wb_flush(w);
		if (rc == SQLITE_OK && !wb_room(w, (size_t)amt))
			return w->real->pMethods->xWrite(w->real, p, amt, off);
	}
	if (rc != SQLITE_OK)
		return rc;
	if (!w->len)
		w->off = off;
	memcpy(w->buf + w->len, p, (size_t)amt);
	w->len += (size_t)amt;
	return SQLITE_OK;
}

static int
wb_truncate(sqlite3_file *f, sqlite3_int64 size)
{
	int rc = wb_flush((struct wb_file *)f);

	return rc != SQLITE_OK ? rc
			       : REAL(f)->pMethods->xTruncate(REAL(f), size);
}

/* The end of a commit: the buffer goes before the sync, and is freed. */
static int
wb_sync(sqlite3_file *f, int flags)
{
	int rc = wb_drop((struct wb_file *)f);

	return rc != SQLITE_OK ? rc
			       : REAL(f)->pMethods->xSync(REAL(f), flags);
}

static int
wb_size(sqlite3_file *f, sqlite3_int64 *size)
{
	int rc = wb_flush((struct wb_file *)f);

	return rc != SQLITE_OK ? rc
			       : REAL(f)->pMethods->xFileSize(REAL(f), size);
}

static int
wb_lock(sqlite3_file *f, int level)
{
	return REAL(f)->pMethods->xLock(REAL(f), level);
}

static int
wb_unlock(sqlite3_file *f, int level)
{
	return REAL(f)->pMethods->xUnlock(REAL(f), level);
}

static int
wb_reserved(sqlite3_file *f, int *out)
{
	return REAL(f)->pMethods->xCheckReservedLock(REAL(f), out);
}

static int
wb_control(sqlite3_file *f, int op, void *arg)
{
	struct wb_file *w = (struct wb_file *)f;
	int rc;

	if (op == WB_FCNTL_BUFFER) {
		w->buffer = *(int *)arg;
		return !w->buffer && w->wal ? wb_drop(w->wal) : SQLITE_OK;
	}
	if ((rc = wb_flush(w)) != SQLITE_OK)
		return rc;
	rc = w->real->pMethods->xFileControl(w->real, op, arg);
	/* SQLite's own VFS names itself here (vfs_list): add ours. */
	if (op == SQLITE_FCNTL_VFSNAME && rc == SQLITE_OK && arg)
		*(char **)arg = sqlite3_mprintf("%s/%z", WB_VFS,
						*(char **)arg);
	return rc;
}

static int
wb_sector(sqlite3_file *f)
{
	return REAL(f)->pMethods->xSectorSize(REAL(f));
}

static int
wb_device(sqlite3_file *f)
{
	return REAL(f)->pMethods->xDeviceCharacteristics(REAL(f));
}

static int
wb_shm_map(sqlite3_file *f, int pg, int pgsz, int extend,
	   void volatile **pp)
{
	return REAL(f)->pMethods->xShmMap(REAL(f), pg, pgsz, extend, pp);
}

static int
wb_shm_lock(sqlite3_file *f, int offset, int n, int flags)
{
	return REAL(f)->pMethods->xShmLock(REAL(f), offset, n, flags);
}

/* Between the two copies of the WAL index header: a buffer still
 * waiting is written before readers can see the commit. */
static void
wb_shm_barrier(sqlite3_file *f)
{
	struct wb_file *w = (struct wb_file *)f;

	if (w->wal && w->wal->len) {
		int rc = wb_flush(w->wal);

		if (rc != SQLITE_OK)
			w->wal->err = rc;
	}
	w->real->pMethods->xShmBarrier(w->real);
}

static int
wb_shm_unmap(sqlite3_file *f, int del)
{
	return REAL(f)->pMethods->xShmUnmap(REAL(f), del);
}

static int
wb_fetch(sqlite3_file *f, sqlite3_int64 off, int amt, void **pp)
{
	return REAL(f)->pMethods->xFetch(REAL(f), off, amt, pp);
}

static int
wb_unfetch(sqlite3_file *f, sqlite3_int64 off, void *p)
{
	return REAL(f)->pMethods->xUnfetch(REAL(f), off, p);
}

static sqlite3_io_methods wb_methods = {
	.iVersion = 3,
	.xClose = wb_close,
	.xRead = wb_read,
	.xWrite = wb_write,
	.xTruncate = wb_truncate,
	.xSync = wb_sync,
	.xFileSize = wb_size,
	.xLock = wb_lock,
	.xUnlock = wb_unlock,
	.xCheckReservedLock = wb_reserved,
	.xFileControl = wb_control,
	.xSectorSize = wb_sector,
	.xDeviceCharacteristics = wb_device,
	.xShmMap = wb_shm_map,
	.xShmLock = wb_shm_lock,
	.xShmBarrier = wb_shm_barrier,
	.xShmUnmap = wb_shm_unmap,
	.xFetch = wb_fetch,
	.xUnfetch = wb_unfetch,
};

static int
wb_open(sqlite3_vfs *vfs, sqlite3_filename name, sqlite3_file *f, int flags,
	int *out)
{
	sqlite3_vfs *real = vfs->pAppData;
	struct wb_file *w = (struct wb_file *)f;
	int rc;

	memset(w, 0, sizeof(*w));
	w->real = (sqlite3_file *)(w + 1);
	rc = real->xOpen(real, name, w->real, flags, out);
	if (!w->real->pMethods)
		return rc; /* base.pMethods stays NULL: no xClose */
	/* Ours only where the default VFS's are version 3, as unix's are. */
	if (w->real->pMethods->iVersion < 3) {
		w->real->pMethods->xClose(w->real);
		return SQLITE_CANTOPEN;
	}
	w->base.pMethods = &wb_methods;
	if ((flags & SQLITE_OPEN_WAL) && name) {
		w->main = (struct wb_file *)sqlite3_database_file_object(name);
		if (w->main && w->main->base.pMethods == &wb_methods)
			w->main->wal = w;
		else
			w->main = NULL;
	}
	return rc;
}

static int
wb_delete(sqlite3_vfs *vfs, const char *name, int dirsync)
{
	sqlite3_vfs *real = vfs->pAppData;

	return real->xDelete(real, name, dirsync);
}

static int
wb_access(sqlite3_vfs *vfs, const char *name, int flags, int *out)
{
	sqlite3_vfs *real = vfs->pAppData;

	return real->xAccess(real, name, flags, out);
}

static int
wb_full(sqlite3_vfs *vfs, const char *name, int n, char *out)
{
	sqlite3_vfs *real = vfs->pAppData;

	return real->xFullPathname(real, name, n, out);
}

static void *
wb_dlopen(sqlite3_vfs *vfs, const char *name)
{
	sqlite3_vfs *real = vfs->pAppData;

	return real->xDlOpen(real, name);
}

static void
wb_dlerror(sqlite3_vfs *vfs, int n, char *msg)
{
	sqlite3_vfs *real = vfs->pAppData;

	real->xDlError(real, n, msg);
}

static void (*wb_dlsym(sqlite3_vfs *vfs, void *h, const char *sym))(void)
{
	sqlite3_vfs *real = vfs->pAppData;

	return real->xDlSym(real, h, sym);
}

static void
wb_dlclose(sqlite3_vfs *vfs, void *h)
{
	sqlite3_vfs *real = vfs->pAppData;

	real->xDlClose(real, h);
}

static int
wb_random(sqlite3_vfs *vfs, int n, char *out)
{
	sqlite3_vfs *real = vfs->pAppData;

	return real->xRandomness(real, n, out);
}

static int
wb_sleep(sqlite3_vfs *vfs, int us)
{
	sqlite3_vfs *real = vfs->pAppData;

	return real->xSleep(real, us);
}

static int
wb_time(sqlite3_vfs *vfs, double *out)
{
	sqlite3_vfs *real = vfs->pAppData;

	return real->xCurrentTime(real, out);
}

static int
wb_lasterr(sqlite3_vfs *vfs, int n, char *msg)
{
	sqlite3_vfs *real = vfs->pAppData;

	return real->xGetLastError ? real->xGetLastError(real, n, msg) : 0;
}

static int
wb_time64(sqlite3_vfs *vfs, sqlite3_int64 *out)
{
	sqlite3_vfs *real = vfs->pAppData;

	return real->xCurrentTimeInt64(real, out);
}

static int wb_registered;

static void
wb_register(void)
{
	sqlite3_vfs *real = sqlite3_vfs_find(NULL);

	if (!real || real->iVersion < 2)
		return;
	wb_vfs = (sqlite3_vfs){
		.iVersion = 2,
		.szOsFile = (int)sizeof(struct wb_file) + real->szOsFile,
		.mxPathname = real->mxPathname,
		.zName = WB_VFS,
		.pAppData = real,
		.xOpen = wb_open,
		.xDelete = wb_delete,
		.xAccess = wb_access,
		.xFullPathname = wb_full,
		.xDlOpen = wb_dlopen,
		.xDlError = wb_dlerror,
		.xDlSym = wb_dlsym,
		.xDlClose = wb_dlclose,
		.xRandomness = wb_random,
		.xSleep = wb_sleep,
		.xCurrentTime = wb_time,
		.xGetLastError = wb_lasterr,
		.xCurrentTimeInt64 = wb_time64,
	};
	wb_registered = sqlite3_vfs_register(&wb_vfs, 0) == SQLITE_OK;
}

const char *
ss_walbuf_vfs(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, wb_register);
	return wb_registered ? WB_VFS : NULL;
}

void
ss_walbuf_set(sqlite3 *db, int on)
{
	(void)sqlite3_file_control(db, "main", WB_FCNTL_BUFFER, &on);
}
