/* Storage benchmark: the same workload against any storage backend,
 * loaded through a configuration file as poshtad loads it (read, load,
 * finish, activate, worker_init; the "storage" interface). Phases:
 *
 *   append1   N messages of S bytes into INBOX, one per transaction
 *             (each commit durable, as an SMTP delivery's)
 *   appendB   N more into mailbox "Batch", B per transaction
 *             (MULTIAPPEND, an import)
 *   open      SELECT of INBOX (read-write: the \Recent claim)
 *   fetch0    msg_fetch of every message's metadata right after it
 *   fetch     the same, R rounds, each a call of its own (a FETCH
 *             FLAGS 1:* each), WAIT ms later
 *   fetchH    the same R rounds inside one mailbox_hold (if the
 *             backend has it: as a SEARCH's calls are held)
 *   read      msg_read of every whole body in 64 KiB pieces, checked
 *   readH     the same inside a hold
 *
 * Before fetch it waits WAIT ms (default 1100), so that nothing was
 * written in the last second, as for a mailbox some time after its last
 * change (storage_maildir trusts its folders' mtimes only then). One line per phase:
 * "BACKEND PHASE COUNT SECONDS PER_SECOND". Not part of make check.
 *
 * usage: bench CONFIG [-n N] [-s SIZE] [-b B] [-r R] [-w WAIT] [-u USER] */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <poshta/poshta.h>
#include <poshta/storage.h>

#include "config_core.h"
#include "iface.h"
#include "log.h"
#include "module.h"

static struct ps_storage_ops ops;
static const char *backend = "?";

struct bench_opt {
	unsigned n, batch, rounds, wait_ms;
	size_t size;
	const char *user;
};

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
report(const char *phase, unsigned count, double secs)
{
	printf("%s %s %u %.3f %.1f\n", backend, phase, count, secs,
	       secs > 0 ? count / secs : 0.0);
	fflush(stdout);
}

static _Noreturn void
die(const char *what, const struct ps_error *err)
{
	fprintf(stderr, "bench: %s: %s\n", what, err ? err->msg : "failed");
	exit(1);
}

/* Octet i of message seed: text in CRLF lines of 76 characters. */
static unsigned char
body_byte(uint32_t seed, uint64_t i)
{
	uint64_t col = i % 78;

	if (col == 76)
		return '\r';
	if (col == 77)
		return '\n';
	return (unsigned char)('a' + (seed * 7 + i * 13) % 26);
}

static void
body_fill(uint32_t seed, unsigned char *buf, size_t len)
{
	static const char hdr[] = "Subject: bench\r\n\r\n";
	size_t h = sizeof(hdr) - 1 < len ? sizeof(hdr) - 1 : len;

	memcpy(buf, hdr, h);
	for (size_t i = h; i < len; i++)
		buf[i] = body_byte(seed, i);
	if (len >= 2) {
		buf[len - 2] = '\r';
		buf[len - 1] = '\n';
	}
}

/* count messages into mailbox, per_txn of them per transaction. */
static void
append_all(struct ps_store_user *u, const char *mailbox, unsigned count,
	   unsigned per_txn, const unsigned char *body, size_t size)
{
	struct ps_error err = {""};
	uint32_t *uids = calloc(per_txn, sizeof(*uids)), uidvalidity;

	for (unsigned done = 0; done < count;) {
		struct ps_store_append *a;
		unsigned k = count - done < per_txn ? count - done : per_txn;

		if (ops.append_begin(u, mailbox, &a, &err) < 0)
			die("append_begin", &err);
		for (unsigned i = 0; i < k; i++)
			if (ops.append_msg_begin(a, 0, NULL, 0, time(NULL), 0,
						 &err) < 0 ||
			    ops.append_data(a, body, size, &err) < 0 ||
			    ops.append_msg_end(a, NULL, 0, &err) < 0)
				die("append", &err);
		if (ops.append_commit(a, uids, &uidvalidity, &err) < 0)
			die("append_commit", &err);
		done += k;
	}
	free(uids);
}

struct collect {
	uint32_t *uids;
	size_t n;
	uint64_t bytes;
};

static int
collect_msg(const struct ps_msg *m, void *arg)
{
	struct collect *c = arg;

	c->uids[c->n++] = m->uid;
	c->bytes += m->size;
	return 0;
}

static void
fetch_rounds(struct ps_mbox *mb, unsigned rounds, struct collect *c)
{
	struct ps_error err = {""};

	for (unsigned r = 0; r < rounds; r++) {
		c->n = 0;
		c->bytes = 0;
		if (ops.msg_fetch(mb, NULL, 0, collect_msg, c, &err) < 0)
			die("msg_fetch", &err);
	}
}

/* Every body in 64 KiB pieces; the octets are checked against size. */
static void
read_all(struct ps_mbox *mb, const struct collect *c, size_t size)
{
	static unsigned char buf[65536];
	struct ps_error err = {""};

	for (size_t i = 0; i < c->n; i++) {
		uint64_t off = 0;
		size_t got;

		do {
			if (ops.msg_read(mb, c->uids[i], off, buf, sizeof(buf),
					 &got, &err) < 0)
				die("msg_read", &err);
			off += got;
		} while (got);
		if (off != size) {
			fprintf(stderr, "bench: message %u: %llu octets, not "
				"%zu\n", c->uids[i], (unsigned long long)off,
				size);
			exit(1);
		}
	}
}

static void
hold(struct ps_mbox *mb, int on)
{
	if (on && ops.mailbox_hold)
		ops.mailbox_hold(mb);
	else if (!on && ops.mailbox_release)
		ops.mailbox_release(mb);
}

static void
run(const struct bench_opt *o)
{
	struct ps_error err = {""};
	struct ps_store_user *u;
	struct ps_mailbox_status st;
	struct ps_mbox *mb;
	struct collect c = { 0 };
	unsigned char *body = malloc(o->size);
	uint32_t first;
	double t;

	if (!body)
		die("malloc", NULL);
	body_fill(1, body, o->size);
	if (ops.user_delete(o->user, &err) < 0 ||
	    ops.user_open(o->user, 0, &u, &err) < 0 ||
	    ops.mailbox_create(u, "Batch", 0, &err) < 0)
		die("user", &err);

	t = now();
	append_all(u, "INBOX", o->n, 1, body, o->size);
	report("append1", o->n, now() - t);
	t = now();
	append_all(u, "Batch", o->n, o->batch, body, o->size);
	report("appendB", o->n, now() - t);

	t = now();
	if (ops.mailbox_open(u, "INBOX", 0, &mb, &st, &first, &err) < 0)
		die("mailbox_open", &err);
	report("open", 1, now() - t);
	c.uids = calloc(o->n + 1, sizeof(*c.uids));
	t = now();
	fetch_rounds(mb, 1, &c);
	report("fetch0", (unsigned)c.n, now() - t);
	usleep(o->wait_ms * 1000u);

	t = now();
	fetch_rounds(mb, o->rounds, &c);
	report("fetch", o->rounds * (unsigned)c.n, now() - t);
	if (c.n != o->n)
		die("fetch: wrong count", NULL);
	if (ops.mailbox_hold) {
		t = now();
		hold(mb, 1);
		fetch_rounds(mb, o->rounds, &c);
		hold(mb, 0);
		report("fetchH", o->rounds * (unsigned)c.n, now() - t);
	}
	t = now();
	read_all(mb, &c, o->size);
	report("read", (unsigned)c.n, now() - t);
	if (ops.mailbox_hold) {
		t = now();
		hold(mb, 1);
		read_all(mb, &c, o->size);
		hold(mb, 0);
		report("readH", (unsigned)c.n, now() - t);
	}
	ops.mailbox_close(mb);
	free(c.uids);
	if (ops.user_delete(o->user, &err) < 0)
		die("user_delete", &err);
	ops.user_close(u);
	free(body);
}

static struct ps_config *
load(const char *path, struct ps_error *err)
{
	struct ps_config *cfg = ps_config_read(path, err);
	struct ps_module_ctx *m;

	if (!cfg)
		return NULL;
	ps_log_set_level(cfg->log_level);
	if (ps_modules_load(cfg->module_dir, cfg->load, cfg->nload, err) < 0 ||
	    ps_config_finish(cfg, err) < 0) {
		ps_config_free(cfg);
		return NULL;
	}
	ps_config_activate(cfg);
	if (ps_modules_worker_init(err) < 0 ||
	    ps_iface_get(PS_STORAGE_KIND, NULL, &ops, sizeof(ops)) < 0 ||
	    !(m = ps_iface_owner(PS_STORAGE_KIND, NULL))) {
		if (!err->msg[0])
			snprintf(err->msg, sizeof(err->msg), "no storage "
				 "backend loaded");
		ps_config_free(cfg);
		return NULL;
	}
	backend = ps_module_name(m);
	return cfg;
}

int
main(int argc, char **argv)
{
	struct bench_opt o = { .n = 1000, .batch = 100, .rounds = 20,
			       .wait_ms = 1100, .size = 10240,
			       .user = "bench@example.test" };
	struct ps_error err = {""};
	struct ps_config *cfg;
	int c;

	while ((c = getopt(argc, argv, "n:s:b:r:w:u:")) != -1) {
		switch (c) {
		case 'n': o.n = (unsigned)atoi(optarg); break;
		case 's': o.size = (size_t)atol(optarg); break;
		case 'b': o.batch = (unsigned)atoi(optarg); break;
		case 'r': o.rounds = (unsigned)atoi(optarg); break;
		case 'w': o.wait_ms = (unsigned)atoi(optarg); break;
		case 'u': o.user = optarg; break;
		default: goto usage;
		}
	}
	if (optind != argc - 1 || !o.n || !o.batch || !o.rounds || o.size < 32)
		goto usage;
	cfg = load(argv[optind], &err);
	if (!cfg) {
		fprintf(stderr, "bench: %s\n", err.msg);
		ps_modules_unload();
		return 1;
	}
	run(&o);
	ps_modules_worker_exit();
	ps_config_free(cfg);
	ps_modules_unload();
	return 0;
usage:
	fprintf(stderr, "usage: %s CONFIG [-n N] [-s SIZE] [-b BATCH] "
		"[-r ROUNDS] [-w WAIT_MS] [-u USER]\n", argv[0]);
	return 2;
}
