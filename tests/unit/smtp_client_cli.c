/* The outbound SMTP client's pure half (modules/smtp/client_*.c) over a
 * plain blocking socket, for tests/integration/test_smtp_client_proto.py:
 *
 *   smtp_client_cli [-n COUNT] [-s SIZE] [-f FLAGS] PORT SENDER RCPT...
 *
 * connects to 127.0.0.1:PORT, sends the message read from stdin COUNT
 * times on one session (default 1; -s: the size given to MAIL, default
 * the message's; -f: SMTPC_F_* flags), then QUIT. It prints one line per
 * recipient and message, "RESULT msg index outcome text", and at the
 * end "END text" (why the session ended, or "quit"). Exit 0 when the
 * session ran to its end, 1 on a protocol or connection error. No TLS:
 * a STARTTLS event is a failure (the policy is none). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "client.h"

#define READ_MAX (2 * SMTPC_LINE_MAX)

struct cli {
	struct smtpc *c;
	int fd;
	unsigned msg; /* messages started */
	char in[READ_MAX];
	size_t have;
};

static const char *const outcomes[] = {"delivered", "deferred", "failed"};

static void
on_result(void *arg, size_t i, enum smtpc_outcome o,
	  const struct smtpc_reply *r)
{
	struct cli *cli = arg;

	printf("RESULT %u %zu %s %s\n", cli->msg, i, outcomes[o], r->text);
}

static int
flush_out(struct cli *cli)
{
	size_t n, off = 0;
	const char *p = smtpc_output(cli->c, &n);

	while (off < n) {
		ssize_t w = send(cli->fd, p + off, n - off, MSG_NOSIGNAL);

		if (w <= 0)
			return -1;
		off += (size_t)w;
	}
	return 0;
}

/* The next line from the server into line (with its LF; a full
 * buffer without one is given whole, and the parser refuses it), its
 * length; 0 when the connection closed or timed out. */
static size_t
read_line(struct cli *cli, char *line)
{
	struct timeval tv = {.tv_sec = 30};
	char *nl;
	size_t n;
	ssize_t r;

	if (smtpc_timeout(cli->c) && smtpc_timeout(cli->c) < 30)
		tv.tv_sec = smtpc_timeout(cli->c);
	setsockopt(cli->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	while (!(nl = memchr(cli->in, '\n', cli->have)) &&
	       cli->have < sizeof(cli->in)) {
		r = recv(cli->fd, cli->in + cli->have,
			 sizeof(cli->in) - cli->have, 0);
		if (r <= 0)
			return 0;
		cli->have += (size_t)r;
	}
	n = nl ? (size_t)(nl - cli->in) + 1 : cli->have;
	memcpy(line, cli->in, n);
	memmove(cli->in, cli->in + n, cli->have - n);
	cli->have -= n;
	return n;
}

/* The body: stdin's octets, in chunks, as smtpc_body wants them. */
static int
send_body(struct cli *cli, const char *body, size_t len)
{
	for (size_t off = 0; off < len; off += 4096) {
		size_t n = len - off < 4096 ? len - off : 4096;

		if (smtpc_body(cli->c, body + off, n) < 0 || flush_out(cli))
			return -1;
	}
	return smtpc_body_end(cli->c);
}

static char *
read_all(FILE *f, size_t *len_r)
{
	size_t cap = 65536, len = 0, n;
	char *p = malloc(cap);

	while (p && (n = fread(p + len, 1, cap - len, f)) > 0) {
		len += n;
		if (len == cap && !(p = realloc(p, cap *= 2)))
			break;
	}
	*len_r = len;
	return p;
}

int
main(int argc, char **argv)
{
	struct cli cli = {0};
	struct smtpc_opts o = {.helo = "client.test", .result = on_result,
			       .arg = &cli};
	struct smtpc_rcpt rcpts[16] = {{0}};
	struct smtpc_msg m = {0};
	struct sockaddr_in sa = {.sin_family = AF_INET};
	unsigned count = 1;
	const char *why;
	char line[READ_MAX];
	size_t blen, n;
	char *body;
	int opt, ev;
	long size = -1;

	while ((opt = getopt(argc, argv, "n:s:f:")) != -1) {
		if (opt == 'n')
			count = (unsigned)atoi(optarg);
		else if (opt == 's')
			size = atol(optarg);
		else if (opt == 'f')
			m.flags = (unsigned)strtoul(optarg, NULL, 0);
		else
			return 2;
	}
	if (argc - optind < 3 || argc - optind - 2 > 16) {
		fprintf(stderr, "usage: %s [-n COUNT] [-s SIZE] [-f FLAGS] "
				"PORT SENDER RCPT...\n", argv[0]);
		return 2;
	}
	body = read_all(stdin, &blen);
	m.sender = argv[optind + 1];
	m.size = size >= 0 ? (uint64_t)size : blen;
	m.rcpts = rcpts;
	for (int i = optind + 2; i < argc; i++)
		rcpts[m.nrcpts++].address = argv[i];
	sa.sin_port = htons((uint16_t)atoi(argv[optind]));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cli.fd = socket(AF_INET, SOCK_STREAM, 0);
	if (!body || cli.fd < 0 ||
	    connect(cli.fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    !(cli.c = smtpc_new(&o, &why))) {
		perror("smtp_client_cli");
		return 1;
	}
	ev = 0;
	while (!(ev & SMTPC_EV_CLOSED)) {
		if (ev & SMTPC_EV_READY)
			ev = cli.msg++ < count ? smtpc_start_message(cli.c, &m)
					       : smtpc_quit(cli.c);
		else if (ev & SMTPC_EV_BODY)
			ev = send_body(&cli, body, blen);
		else if (ev & SMTPC_EV_STARTTLS)
			ev = SMTPC_EPROTO;
		else if ((n = read_line(&cli, line)) > 0)
			ev = smtpc_feed_line(cli.c, line, n);
		else
			ev = SMTPC_EPROTO;
		if (ev < 0 || flush_out(&cli) < 0)
			break;
	}
	if (ev < 0) {
		/* Lost, refused STARTTLS, or broken: what is undecided is
		 * deferred (and printed) before the end. */
		smtpc_abort(cli.c, "connection lost or refused");
		fprintf(stderr, "smtp_client_cli: %s\n", smtpc_why(cli.c));
	}
	printf("END %s\n", smtpc_end_reply(cli.c)
				   ? smtpc_end_reply(cli.c)->text
				   : "quit");
	smtpc_free(cli.c);
	free(body);
	close(cli.fd);
	return ev < 0 ? 1 : 0;
}
