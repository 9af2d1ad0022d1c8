/* The client of tests/bench/pop3/run: one POP3 session that logs in,
 * waits for the start, sends RETR 1..N in one write (RFC 2449
 * PIPELINING), reads with a large buffer counting the terminating lines,
 * and after the run checks every response against the expected bytes.
 * In C: the same loop in Python took a quarter longer to read the same
 * stream from a server answering from memory (tests/bench/README.md).
 *
 * usage: retr PORT USER N EXPECT GO_FD
 *
 * EXPECT holds the N messages as the server must send them: each one
 * byte-stuffed and followed by ".\r\n" (RFC 1939 3), one after the other.
 * GO_FD is a pipe shared by all clients that becomes readable at the
 * start. On stdout: "ready", then "done T0 T1 CPU BYTES" (CLOCK_MONOTONIC
 * seconds and the CPU seconds between them), then, once a byte or EOF
 * came on stdin, "ok" or "error: WHY" after QUIT. Any failure prints
 * "error: WHY" and exits 1. Every wait is bounded by a 20 s timeout. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define WAIT_S 20
#define READ_MAX (1 << 20)
static const char term[] = "\r\n.\r\n";

static int sock;
static char *buf;      /* everything the server sent after login */
static size_t cap, pos;
static char line[1024];

static void
fail(const char *fmt, ...)
{
	va_list ap;

	printf("error: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	exit(1);
}

static double
now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static double
cpu(void)
{
	struct rusage r;

	getrusage(RUSAGE_SELF, &r);
	return (double)(r.ru_utime.tv_sec + r.ru_stime.tv_sec) +
	       (double)(r.ru_utime.tv_usec + r.ru_stime.tv_usec) / 1e6;
}

static void
send_all(const char *p, size_t len)
{
	while (len) {
		ssize_t n = write(sock, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			fail("write: %s", strerror(errno));
		p += n;
		len -= (size_t)n;
	}
}

/* One line of a reply (CRLF cut), read a byte at a time: only the few
 * lines of the login and of QUIT, so that nothing after them is taken. */
static void
read_line(const char *what)
{
	size_t n = 0;
	char c;

	for (;;) {
		ssize_t r = read(sock, &c, 1);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			fail("%s: %s", what, r ? strerror(errno)
					       : "connection closed");
		if (c == '\n')
			break;
		if (n < sizeof(line) - 1)
			line[n++] = c;
	}
	if (n && line[n - 1] == '\r')
		n--;
	line[n] = '\0';
	if (strncmp(line, "+OK", 3) != 0)
		fail("%s: %s", what, line);
}

static char *
load(const char *path, size_t *len_r)
{
	int fd = open(path, O_RDONLY);
	struct stat st;
	char *p;
	size_t have = 0;

	if (fd < 0 || fstat(fd, &st) < 0)
		fail("%s: %s", path, strerror(errno));
	p = malloc((size_t)st.st_size + 1);
	if (!p)
		fail("out of memory");
	while (have < (size_t)st.st_size) {
		ssize_t n = read(fd, p + have, (size_t)st.st_size - have);

		if (n <= 0)
			fail("%s: short read", path);
		have += (size_t)n;
	}
	close(fd);
	*len_r = have;
	return p;
}

/* Up to 30 bytes of p, printable: the error stays on one line. */
static const char *
show(const char *p, size_t len, char *out)
{
	char *o = out;

	for (size_t i = 0; i < len && i < 30; i++) {
		unsigned char ch = (unsigned char)p[i];

		if (ch >= 0x20 && ch < 0x7f && ch != '\\')
			*o++ = (char)ch;
		else
			o += sprintf(o, "\\x%02x", ch);
	}
	*o = '\0';
	return out;
}

/* The responses in buf against the expected messages. */
static void
check(const char *exp, size_t explen, long n)
{
	size_t at = 0, e = 0;
	char s1[128], s2[128];

	for (long k = 1; k <= n; k++) {
		char *eol = memmem(buf + at, pos - at, "\r\n", 2);
		char *end = memmem(exp + e, explen - e, term, 5);
		size_t len, body;

		if (!end)
			fail("the expected file holds fewer than %ld", n);
		len = (size_t)(end - (exp + e)) + 5;
		if (!eol || pos - at < 3 || memcmp(buf + at, "+OK", 3) != 0)
			fail("RETR %ld: \"%s\"", k,
			     show(buf + at, pos - at, s1));
		body = (size_t)(eol - buf) + 2;
		if (pos - body < len || memcmp(buf + body, exp + e, len) != 0) {
			size_t i = 0;

			while (i < len && body + i < pos &&
			       buf[body + i] == exp[e + i])
				i++;
			fail("RETR %ld: differs at byte %zu of %zu (stuffed): "
			     "\"%s\", not \"%s\"", k, i, len,
			     show(buf + body + i, pos - body - i, s1),
			     show(exp + e + i, len - i, s2));
		}
		at = body + len;
		e += len;
	}
	if (at != pos)
		fail("%zu bytes after the last response", pos - at);
}

int
main(int argc, char **argv)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	struct timeval tv = {.tv_sec = WAIT_S};
	struct pollfd go;
	char cmd[512], *block, *exp, c;
	size_t blen = 0, explen, scan = 0;
	long n, found = 0;
	double t0, t1, c0, c1;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc != 6)
		fail("usage: retr PORT USER N EXPECT GO_FD");
	n = atol(argv[3]);
	exp = load(argv[4], &explen);
	go.fd = atoi(argv[5]);
	go.events = POLLIN;
	a.sin_port = htons((unsigned short)atoi(argv[1]));
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sock = socket(AF_INET, SOCK_STREAM, 0);
	if (sock < 0 || connect(sock, (struct sockaddr *)&a, sizeof(a)) < 0)
		fail("connect: %s", strerror(errno));
	setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(sock, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	read_line("greeting");
	snprintf(cmd, sizeof(cmd), "USER %s\r\n", argv[2]);
	send_all(cmd, strlen(cmd));
	read_line("USER");
	send_all("PASS bench\r\n", 12);
	read_line("PASS");

	/* Everything allocated and touched before the clock. */
	block = malloc((size_t)n * 24 + 1);
	cap = explen + (size_t)n * 128 + READ_MAX;
	buf = malloc(cap);
	if (!block || !buf)
		fail("out of memory");
	memset(buf, 0xff, cap);
	for (long k = 1; k <= n; k++)
		blen += (size_t)sprintf(block + blen, "RETR %ld\r\n", k);
	printf("ready\n");
	if (poll(&go, 1, WAIT_S * 1000) != 1)
		fail("no start in %d s", WAIT_S);

	c0 = cpu();
	t0 = now();
	send_all(block, blen);
	while (found < n) {
		size_t want = cap - pos < READ_MAX ? cap - pos : READ_MAX;
		ssize_t got;
		char *p;

		if (!want)
			fail("more than %zu bytes", cap);
		got = read(sock, buf + pos, want);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			char *err = memmem(buf, pos, "-ERR", 4), s1[128];
			char *eol = err ? memchr(err, '\r', pos -
						 (size_t)(err - buf)) : NULL;

			fail("%ld of %ld messages, then %s%s%s", found, n,
			     got ? strerror(errno) : "connection closed",
			     eol ? "; " : "",
			     eol ? show(err, (size_t)(eol - err), s1) : "");
		}
		if (scan + 4 < pos)
			scan = pos - 4;
		pos += (size_t)got;
		while ((p = memmem(buf + scan, pos - scan, term, 5))) {
			found++;
			scan = (size_t)(p - buf) + 5;
		}
	}
	t1 = now();
	c1 = cpu();
	printf("done %.6f %.6f %.6f %zu\n", t0, t1, c1 - c0, pos);

	if (read(0, &c, 1) < 0)
		fail("stdin: %s", strerror(errno));
	send_all("QUIT\r\n", 6);
	read_line("QUIT");
	/* The server closes: its lock on the maildrop is gone before the
	 * next run logs in. */
	while (read(sock, cmd, sizeof(cmd)) > 0)
		continue;
	check(exp, explen, n);
	printf("ok\n");
	return 0;
}
