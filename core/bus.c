/* The worker bus (see bus.h). Messages are one datagram each:
 * topic length (1 byte), topic, data. A peer that cannot take a message
 * right now gets it queued, up to PS_BUS_QUEUE_MAX bytes; past that the
 * message is dropped for that peer and logged, so one stuck worker cannot
 * grow the master without bound. */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bus.h"
#include "log.h"
#include "loop.h"
#include "module.h"

#define PS_BUS_QUEUE_MAX (8u << 20)
#define PS_BUS_MSG_MAX (1 + PS_BUS_MAX_TOPIC + PS_BUS_MAX_DATA)

struct ps_bus_msg {
	struct ps_bus_msg *next;
	size_t len;
	unsigned char data[];
};

struct ps_bus_peer {
	int fd;
	struct ps_bus_msg *head, *tail;
	size_t queued;
	struct ps_bus_peer *next;
};

struct ps_bus_sub {
	char *prefix;
	ps_bus_fn fn;
	void *arg;
};

static struct ps_bus_peer *peers;  /* master: every worker end */
static struct ps_bus_peer self;    /* worker: the end to the master */
/* Storage backends publish from pool threads: guards self's queue. */
static pthread_mutex_t self_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_t loop_thread;
static struct ps_loop *worker_loop;
static void (*on_lost)(void);
/* Made by worker_init and fixed after it (ps_bus_seal), which lets pool
 * threads read them without a lock. */
static struct ps_bus_sub *subs;
static int sealed;
static size_t nsubs;

int
ps_bus_pair(int *master_fd, int *worker_fd, struct ps_error *err)
{
	int sv[2];
	int size = PS_BUS_MSG_MAX * 4;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC,
		       0, sv) < 0)
		return ps_error_set(err, "bus socketpair: %s", strerror(errno));
	for (int i = 0; i < 2; i++) {
		setsockopt(sv[i], SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
		setsockopt(sv[i], SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	}
	*master_fd = sv[0];
	*worker_fd = sv[1];
	return 0;
}

/* Queue a copy of msg for p; returns -1 when over the bound. */
static int
enqueue(struct ps_bus_peer *p, const void *msg, size_t len)
{
	struct ps_bus_msg *m;

	if (p->queued + len > PS_BUS_QUEUE_MAX ||
	    !(m = malloc(sizeof(*m) + len)))
		return -1;
	m->next = NULL;
	m->len = len;
	memcpy(m->data, msg, len);
	if (p->tail)
		p->tail->next = m;
	else
		p->head = m;
	p->tail = m;
	p->queued += len;
	return 0;
}

/* Send queued messages; returns 1 if some remain (wait for POLLOUT). */
static int
flush(struct ps_bus_peer *p)
{
	while (p->head) {
		struct ps_bus_msg *m = p->head;
		if (send(p->fd, m->data, m->len, MSG_NOSIGNAL) < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 1;
			/* The peer is gone; its reader will notice. */
		}
		p->head = m->next;
		if (!p->head)
			p->tail = NULL;
		p->queued -= m->len;
		free(m);
	}
	return 0;
}

static void
drop_queue(struct ps_bus_peer *p)
{
	while (p->head) {
		struct ps_bus_msg *m = p->head;
		p->head = m->next;
		free(m);
	}
	p->tail = NULL;
	p->queued = 0;
}

/* Send msg to p now or queue it behind what is waiting. */
static void
deliver(struct ps_loop *loop, struct ps_bus_peer *p, const void *msg,
	size_t len, ps_io_fn *fn)
{
	if (!p->head && send(p->fd, msg, len, MSG_NOSIGNAL) >= 0)
		return;
	if (!p->head && errno != EAGAIN && errno != EWOULDBLOCK)
		return;
	if (enqueue(p, msg, len) < 0) {
		ps_warn("bus: queue full, message dropped fd=%d", p->fd);
		return;
	}
	ps_loop_watch(loop, p->fd, PS_EV_READ | PS_EV_WRITE, fn, p);
}

static void hub_event(struct ps_loop *loop, int fd, unsigned ev, void *arg);

static void
hub_forward(struct ps_loop *loop, const void *msg, size_t len)
{
	for (struct ps_bus_peer *p = peers; p; p = p->next)
		deliver(loop, p, msg, len, hub_event);
}

static void
hub_event(struct ps_loop *loop, int fd, unsigned ev, void *arg)
{
	struct ps_bus_peer *p = arg;
	static unsigned char msg[PS_BUS_MSG_MAX];

	if ((ev & PS_EV_WRITE) && !flush(p))
		ps_loop_watch(loop, fd, PS_EV_READ, hub_event, p);
	if (!(ev & (PS_EV_READ | PS_EV_ERROR)))
		return;
	for (int i = 0; i < 64; i++) {
		ssize_t n = recv(fd, msg, sizeof(msg), MSG_DONTWAIT);
		if (n > 0) {
			hub_forward(loop, msg, (size_t)n);
			continue;
		}
		if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
			/* The worker died; the master reaps it and detaches. */
			ps_loop_watch(loop, fd, 0, hub_event, p);
		return;
	}
}

int
ps_bus_hub_attach(struct ps_loop *loop, int fd)
{
	struct ps_bus_peer *p = calloc(1, sizeof(*p));

	if (!p)
		return PS_ENOMEM;
	p->fd = fd;
	if (ps_loop_watch(loop, fd, PS_EV_READ, hub_event, p) < 0) {
		free(p);
		return PS_EFAIL;
	}
	p->next = peers;
	peers = p;
	return 0;
}

void
ps_bus_hub_detach(struct ps_loop *loop, int fd)
{
	for (struct ps_bus_peer **pp = &peers; *pp; pp = &(*pp)->next) {
		struct ps_bus_peer *p = *pp;
		if (p->fd != fd)
			continue;
		*pp = p->next;
		ps_loop_unwatch(loop, fd);
		close(fd);
		drop_queue(p);
		free(p);
		return;
	}
}

static int
matches(const char *topic, const struct ps_bus_sub *sub)
{
	return strncmp(topic, sub->prefix, strlen(sub->prefix)) == 0;
}

/* Every worker runs the same modules' worker_init, so every worker has
 * the same subscriptions as this one: a topic none of them matches here
 * would go to the master and to each worker only to be dropped. */
static int
wanted(const char *topic)
{
	for (size_t i = 0; i < nsubs; i++)
		if (matches(topic, &subs[i]))
			return 1;
	return 0;
}

static void
dispatch(const unsigned char *msg, size_t len)
{
	char topic[PS_BUS_MAX_TOPIC + 1];
	size_t tlen = msg[0];

	if (len < 1 + tlen)
		return;
	memcpy(topic, msg + 1, tlen);
	topic[tlen] = '\0';
	for (size_t i = 0; i < nsubs; i++)
		if (matches(topic, &subs[i]))
			subs[i].fn(topic, msg + 1 + tlen, len - 1 - tlen,
				   subs[i].arg);
}

static void
worker_event(struct ps_loop *loop, int fd, unsigned ev, void *arg)
{
	static unsigned char msg[PS_BUS_MSG_MAX];

	if (ev & PS_EV_WRITE) {
		pthread_mutex_lock(&self_lock);
		if (!flush(&self))
			ps_loop_watch(loop, fd, PS_EV_READ, worker_event, NULL);
		pthread_mutex_unlock(&self_lock);
	}
	if (!(ev & (PS_EV_READ | PS_EV_ERROR)))
		return;
	for (int i = 0; i < 64; i++) {
		ssize_t n = recv(fd, msg, sizeof(msg), MSG_DONTWAIT);
		if (n > 0) {
			dispatch(msg, (size_t)n);
			continue;
		}
		if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
			ps_bus_worker_stop();
			if (on_lost)
				on_lost();
		}
		return;
	}
}

int
ps_bus_worker_start(struct ps_loop *loop, int fd, void (*lost)(void))
{
	self.fd = fd;
	worker_loop = loop;
	loop_thread = pthread_self();
	on_lost = lost;
	return ps_loop_watch(loop, fd, PS_EV_READ, worker_event, NULL);
}

void
ps_bus_worker_stop(void)
{
	if (!worker_loop)
		return;
	ps_loop_unwatch(worker_loop, self.fd);
	close(self.fd);
	drop_queue(&self);
	worker_loop = NULL;
}

/* Off the loop thread the loop's watch table is out of reach, but a pool
 * thread may block: wait (at most a second) for room. */
static void
send_from_pool(const void *msg, size_t len)
{
	struct pollfd p = {.fd = self.fd, .events = POLLOUT};

	for (int i = 0; i < 2; i++) {
		if (send(self.fd, msg, len, MSG_NOSIGNAL | MSG_DONTWAIT) >= 0)
			return;
		if ((errno != EAGAIN && errno != EWOULDBLOCK) ||
		    poll(&p, 1, 1000) <= 0)
			break;
	}
	ps_warn("bus: master not reading, message dropped");
}

/* One datagram for topic and data into msg: its length, or PS_EINVAL. */
static long
frame(unsigned char *msg, const char *topic, const void *data, size_t len)
{
	size_t tlen = topic ? strlen(topic) : 0;

	if (!tlen || tlen > PS_BUS_MAX_TOPIC || len > PS_BUS_MAX_DATA)
		return PS_EINVAL;
	msg[0] = (unsigned char)tlen;
	memcpy(msg + 1, topic, tlen);
	if (len)
		memcpy(msg + 1 + tlen, data, len);
	return (long)(1 + tlen + len);
}

int
ps_bus_publish(const char *topic, const void *data, size_t len)
{
	unsigned char msg[PS_BUS_MSG_MAX];
	long n;

	if (!worker_loop)
		return PS_ESTATE;
	if ((n = frame(msg, topic, data, len)) < 0)
		return (int)n;
	if (!wanted(topic))
		return 0;
	pthread_mutex_lock(&self_lock);
	if (pthread_equal(pthread_self(), loop_thread))
		deliver(worker_loop, &self, msg, (size_t)n, worker_event);
	else if (self.head)
		/* Behind what waits; the loop already watches for POLLOUT. */
		enqueue(&self, msg, (size_t)n);
	else
		send_from_pool(msg, (size_t)n);
	pthread_mutex_unlock(&self_lock);
	return 0;
}

int
ps_bus_publish_local(const char *topic, const void *data, size_t len)
{
	unsigned char msg[PS_BUS_MSG_MAX]; /* a subscriber may publish too */
	long n;

	if (!worker_loop || !pthread_equal(pthread_self(), loop_thread))
		return PS_ESTATE;
	if ((n = frame(msg, topic, data, len)) < 0)
		return (int)n;
	dispatch(msg, (size_t)n);
	return 0;
}

int
ps_bus_subscribe(struct ps_module_ctx *m, const char *prefix, ps_bus_fn fn,
		 void *arg)
{
	struct ps_bus_sub *v;

	if (!prefix || !fn)
		return PS_EINVAL;
	if (sealed) {
		ps_logf(m, NULL, PS_LOG_ERR, "bus: subscribe to \"%s\" after "
			"worker_init: refused", prefix);
		return PS_ESTATE;
	}
	v = realloc(subs, (nsubs + 1) * sizeof(*v));
	if (!v)
		return PS_ENOMEM;
	subs = v;
	v[nsubs].prefix = strdup(prefix);
	if (!v[nsubs].prefix)
		return PS_ENOMEM;
	v[nsubs].fn = fn;
	v[nsubs].arg = arg;
	nsubs++;
	return 0;
}

void
ps_bus_seal(void)
{
	sealed = 1;
}
