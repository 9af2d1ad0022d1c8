/* Unit tests of core/conn.c, tls.c, listen.c and limits.c: connections
 * over socketpairs with a hand-made listener and a protocol that records
 * its callbacks, driven turn by turn with ps_loop_once. The TLS tests make
 * their certificates with the OpenSSL API and talk through a client SSL,
 * including the STARTTLS injection of CVE-2011-0411. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "conn.h"
#include "limits.h"
#include "listen.h"
#include "log.h"
#include "loop.h"
#include "module.h"
#include "tls.h"

#define MAXREC 64

/* What the protocol saw. */
struct rec {
	struct ps_conn *c;
	int opens, closes, drains, timeouts, tls_done;
	int starttls_rc, closing_at_close;
	size_t nlines; /* all of them; the first MAXREC are kept */
	char line[MAXREC][128];
	size_t len[MAXREC];
	unsigned flags[MAXREC];
	char bytes[4096];
	size_t nbytes, nchunks;
	size_t left[MAXREC];
	int greet;
};

struct sess {
	int magic;
};

static struct rec R;
static struct ps_loop *loop;
static int cfd = -1; /* the client's end */
static int sfd = -1; /* the server's end */
static struct ps_listener L;

/* ---- The recording protocol ------------------------------------------ */

static int PS_PRINTF(2, 3)
say(struct ps_conn *c, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = ps_conn_vprintf(c, fmt, ap);
	va_end(ap);
	return r;
}

static int
t_open(struct ps_conn *c, void *s)
{
	((struct sess *)s)->magic = 42;
	R.c = c;
	R.opens++;
	if (R.greet)
		say(c, "HELLO %s\r\n", "client");
	return 0;
}

static int
t_line(struct ps_conn *c, void *s, const char *line, size_t len,
       unsigned flags)
{
	char buf[128];
	size_t n;

	assert_int_equal(((struct sess *)s)->magic, 42);
	if (R.nlines < MAXREC) {
		snprintf(R.line[R.nlines], sizeof(R.line[0]), "%.*s",
			 (int)len, line);
		R.len[R.nlines] = len;
		R.flags[R.nlines] = flags;
	}
	R.nlines++;
	snprintf(buf, sizeof(buf), "%.*s", (int)len, line);
	if (strcmp(buf, "QUIT") == 0) {
		ps_conn_write(c, "BYE\r\n", 5);
		ps_conn_close(c);
	} else if (strcmp(buf, "FAIL") == 0) {
		return -1;
	} else if (strcmp(buf, "PAUSE") == 0) {
		ps_conn_pause(c);
	} else if (sscanf(buf, "LIT {%zu}", &n) == 1) {
		assert_int_equal(ps_conn_read_bytes(c, n), 0);
		assert_int_equal(ps_conn_read_bytes(c, n), PS_ESTATE);
	} else if (strcmp(buf, "BIG") == 0) {
		static char big[65536];

		memset(big, 'x', sizeof(big));
		ps_conn_write(c, big, sizeof(big));
	} else if (strcmp(buf, "STARTTLS") == 0) {
		say(c, "220 go\r\n");
		R.starttls_rc = ps_conn_starttls(c);
	} else if (strncmp(buf, "ECHO ", 5) == 0) {
		say(c, "%s\r\n", buf + 5);
	}
	return 0;
}

static int
t_bytes(struct ps_conn *c, void *s, const char *data, size_t len,
	size_t left)
{
	assert_true(R.nbytes + len <= sizeof(R.bytes));
	memcpy(R.bytes + R.nbytes, data, len);
	R.nbytes += len;
	R.left[R.nchunks++] = left;
	return 0;
}

static int
t_drain(struct ps_conn *c, void *s)
{
	R.drains++;
	return 0;
}

static int
t_tls(struct ps_conn *c, void *s)
{
	R.tls_done++;
	return 0;
}

static void
t_timeout(struct ps_conn *c, void *s)
{
	R.timeouts++;
	say(c, "TIMEOUT\r\n");
}

static void
t_close(struct ps_conn *c, void *s)
{
	assert_int_equal(((struct sess *)s)->magic, 42);
	R.closing_at_close = ps_conn_closing(c);
	R.closes++;
}

static const struct ps_protocol proto = {
	.size = sizeof(struct ps_protocol),
	.name = "test",
	.session_size = sizeof(struct sess),
	.on_open = t_open,
	.on_line = t_line,
	.on_bytes = t_bytes,
	.on_drain = t_drain,
	.on_tls = t_tls,
	.on_timeout = t_timeout,
	.on_close = t_close,
};

/* ---- Harness ---------------------------------------------------------- */

static void
pump(int turns)
{
	while (turns--)
		assert_int_equal(ps_loop_once(loop, 0), 0);
}

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Turn the loop until *flag reaches want or 2 s pass. */
static void
pump_until(const int *flag, int want)
{
	uint64_t end = now_ms() + 2000;

	while (*flag < want && now_ms() < end)
		assert_int_equal(ps_loop_once(loop, 10), 0);
	assert_int_equal(*flag, want);
}

static void
send_str(const char *s)
{
	size_t len = strlen(s);

	assert_int_equal(write(cfd, s, len), (ssize_t)len);
}

/* Everything the client can read now; returns -1 after EOF. */
static ssize_t
recv_all(char *buf, size_t cap)
{
	size_t got = 0;

	for (;;) {
		ssize_t n = recv(cfd, buf + got, cap - 1 - got, MSG_DONTWAIT);

		if (n == 0) {
			buf[got] = '\0';
			return -1;
		}
		if (n < 0) {
			assert_true(errno == EAGAIN);
			break;
		}
		got += (size_t)n;
	}
	buf[got] = '\0';
	return (ssize_t)got;
}

static void
listener_defaults(struct ps_listener *l)
{
	memset(l, 0, sizeof(*l));
	l->name = "test";
	l->addr_text = "socketpair";
	l->fd = -1;
	l->proto = &proto;
	l->tls_mode = PS_TLSMODE_NONE;
	l->max_input = 4096;
	l->out_high = 16384;
	l->out_low = 4096;
}

static int
setup(void **state)
{
	struct ps_error err;

	memset(&R, 0, sizeof(R));
	listener_defaults(&L);
	loop = ps_loop_new(0, &err);
	assert_non_null(loop);
	return 0;
}

/* A connection over a socketpair; the client end is cfd. */
static void
connect_pair(void)
{
	struct sockaddr_un peer = {.sun_family = AF_UNIX};
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0,
				    sv), 0);
	cfd = sv[1];
	sfd = sv[0];
	assert_non_null(ps_conn_accept(loop, &L, sv[0],
				       (struct sockaddr *)&peer,
				       sizeof(sa_family_t)));
	pump(2);
}

static int
teardown(void **state)
{
	ps_conn_close_all();
	pump(1);
	assert_int_equal(ps_conn_count(), 0);
	if (cfd >= 0)
		close(cfd);
	cfd = -1;
	sfd = -1;
	ps_loop_free(loop);
	loop = NULL;
	return 0;
}

/* ---- Lines ------------------------------------------------------------ */

static void
test_lines_split(void **state)
{
	const char *in = "HELLO\r\nWORLD\nA\rB\r\n\r\nrest";

	connect_pair();
	assert_int_equal(R.opens, 1);
	assert_string_equal(ps_conn_peer(R.c), "local");
	assert_string_equal(ps_conn_listener(R.c), "test");
	assert_int_equal(ps_conn_tls(R.c), 0);
	assert_null(ps_conn_tls_info(R.c));
	/* One byte per turn: the split must not matter. */
	for (const char *p = in; *p; p++) {
		assert_int_equal(write(cfd, p, 1), 1);
		pump(1);
	}
	assert_int_equal(R.nlines, 4);
	assert_string_equal(R.line[0], "HELLO");
	assert_int_equal(R.flags[0], PS_LINE_CRLF);
	assert_string_equal(R.line[1], "WORLD");
	assert_int_equal(R.flags[1], PS_LINE_BARE_LF);
	assert_string_equal(R.line[2], "A\rB");
	assert_int_equal(R.flags[2], PS_LINE_CRLF);
	assert_string_equal(R.line[3], "");
	assert_int_equal(R.closes, 0);
}

static void
test_line_too_long(void **state)
{
	char buf[200];

	L.max_line = 16;
	connect_pair();
	memset(buf, 'a', 40);
	strcpy(buf + 40, "\r\nnext\r\n");
	send_str(buf);
	pump(3);
	assert_int_equal(R.nlines, 2);
	assert_int_equal(R.flags[0], PS_LINE_TOOLONG);
	assert_int_equal(R.len[0], 16);
	assert_string_equal(R.line[1], "next");
	assert_int_equal(R.flags[1], PS_LINE_CRLF);
	/* A per-connection bound overrides the listener's. */
	ps_conn_set_max_line(R.c, 64);
	send_str(buf);
	pump(3);
	assert_int_equal(R.nlines, 4);
	assert_int_equal(R.flags[2], PS_LINE_CRLF);
	assert_int_equal(R.len[2], 40);
}

/* Longer than max_input: the bound grows to fit a longest line. */
static void
test_line_longer_than_input_bound(void **state)
{
	static char buf[9000];

	L.max_input = 1024;
	L.max_line = 8000;
	connect_pair();
	memset(buf, 'b', 7000);
	strcpy(buf + 7000, "\r\n");
	send_str(buf);
	pump(5);
	assert_int_equal(R.nlines, 1);
	assert_int_equal(R.len[0], 7000);
}

/* ---- Bytes mode ------------------------------------------------------- */

static void
test_bytes_from_line(void **state)
{
	connect_pair();
	/* The first bytes come with the line that asks for them. */
	send_str("LIT {10}\r\n0123");
	pump(2);
	assert_int_equal(R.nlines, 1);
	assert_int_equal(R.nchunks, 1);
	assert_int_equal(R.left[0], 6);
	send_str("45678");
	pump(2);
	assert_int_equal(R.nchunks, 2);
	assert_int_equal(R.left[1], 1);
	send_str("9AFTER\r\n");
	pump(2);
	assert_int_equal(R.nchunks, 3);
	assert_int_equal(R.left[2], 0);
	assert_int_equal(R.nbytes, 10);
	assert_memory_equal(R.bytes, "0123456789", 10);
	assert_int_equal(R.nlines, 2);
	assert_string_equal(R.line[1], "AFTER");
	/* All at once, CR LF inside the literal included. */
	send_str("LIT {4}\r\na\r\nbNEXT\r\n");
	pump(2);
	assert_int_equal(R.nchunks, 4);
	assert_int_equal(R.left[3], 0);
	assert_memory_equal(R.bytes + 10, "a\r\nb", 4);
	assert_int_equal(R.nlines, 4);
	assert_string_equal(R.line[3], "NEXT");
}

/* ---- Pause and resume ------------------------------------------------- */

static void
test_pause_resume(void **state)
{
	connect_pair();
	send_str("PAUSE\r\nA\r\nB\r\n");
	pump(3);
	assert_int_equal(R.nlines, 1);
	ps_conn_resume(R.c);
	/* Not from inside resume: from the loop. */
	assert_int_equal(R.nlines, 1);
	pump(1);
	assert_int_equal(R.nlines, 3);
	assert_string_equal(R.line[1], "A");
	assert_string_equal(R.line[2], "B");
}

/* Paused with more input than the bound: reading stops, nothing is lost. */
static void
test_pause_input_bound(void **state)
{
	static char buf[20000];
	size_t n = 0;

	connect_pair();
	send_str("PAUSE\r\n");
	pump(2);
	while (n + 6 < sizeof(buf)) {
		memcpy(buf + n, "LINE\r\n", 6);
		n += 6;
	}
	buf[n] = '\0';
	send_str(buf);
	pump(3);
	assert_int_equal(R.nlines, 1);
	ps_conn_resume(R.c);
	pump(20);
	assert_int_equal(R.nlines, 1 + n / 6);
}

/* ---- Backpressure ----------------------------------------------------- */

static void
test_backpressure(void **state)
{
	static char buf[300000];
	size_t got = 0;
	int small = 4096, rounds = 0;

	connect_pair();
	/* A unix socket queues what its sender's buffer holds. */
	assert_int_equal(setsockopt(sfd, SOL_SOCKET, SO_SNDBUF, &small,
				    sizeof(small)), 0);
	send_str("BIG\r\nBIG\r\nNEXT\r\n");
	pump(4);
	/* 64 KiB queued, past out_high: nothing more is delivered. */
	assert_int_equal(R.nlines, 1);
	assert_true(ps_conn_pending(R.c) >= L.out_high);
	assert_int_equal(R.drains, 0);
	while (R.nlines < 3 || got < 2 * 65536) {
		ssize_t n = recv_all(buf + got, sizeof(buf) - got);

		assert_true(n >= 0);
		got += (size_t)n;
		pump(2);
		assert_true(++rounds < 1000);
	}
	assert_int_equal(got, 2 * 65536);
	assert_string_equal(R.line[1], "BIG");
	assert_string_equal(R.line[2], "NEXT");
	assert_true(R.drains >= 2);
	assert_int_equal(ps_conn_pending(R.c), 0);
}

/* ---- Closing ---------------------------------------------------------- */

static void
test_close_in_line(void **state)
{
	char buf[64];

	connect_pair();
	ps_conn_hold(R.c);
	send_str("QUIT\r\nAFTER\r\n");
	pump(4);
	assert_int_equal(R.nlines, 1);
	assert_int_equal(R.closes, 1);
	assert_int_equal(R.closing_at_close, 1);
	assert_int_equal(ps_conn_count(), 0);
	assert_int_equal(recv_all(buf, sizeof(buf)), -1);
	assert_string_equal(buf, "BYE\r\n");
	/* Held: still valid memory, but closed. */
	assert_true(ps_conn_closing(R.c));
	assert_non_null(ps_conn_id(R.c));
	assert_int_equal(ps_conn_write(R.c, "x", 1), PS_ESTATE);
	assert_int_equal(ps_conn_pending(R.c), 0);
	pump(3);
	assert_int_equal(R.closes, 1);
	ps_conn_release(R.c);
}

static void
test_close_by_return(void **state)
{
	connect_pair();
	send_str("FAIL\r\nAFTER\r\n");
	pump(4);
	assert_int_equal(R.nlines, 1);
	assert_int_equal(R.closes, 1);
}

static void
test_eof_delivers_first(void **state)
{
	connect_pair();
	send_str("PAUSE\r\nA\r\nB\r\npartial");
	shutdown(cfd, SHUT_WR);
	pump(4);
	assert_int_equal(R.nlines, 1);
	assert_int_equal(R.closes, 0);
	ps_conn_resume(R.c);
	pump(3);
	assert_int_equal(R.nlines, 3);
	assert_string_equal(R.line[2], "B");
	assert_int_equal(R.closes, 1);
}

static void
test_idle_timeout(void **state)
{
	char buf[64];
	uint64_t active;

	L.idle_timeout_ms = 150;
	connect_pair();
	usleep(100 * 1000);
	send_str("A\r\n");
	pump(2);
	active = now_ms();
	/* Past the first deadline, but not idle for long enough. */
	usleep(100 * 1000);
	pump(2);
	assert_int_equal(R.timeouts, 0);
	pump_until(&R.closes, 1);
	assert_true(now_ms() - active >= 140);
	assert_int_equal(R.timeouts, 1);
	assert_int_equal(recv_all(buf, sizeof(buf)), -1);
	assert_string_equal(buf, "TIMEOUT\r\n");
}

static void
test_timeout_off(void **state)
{
	L.idle_timeout_ms = 50;
	connect_pair();
	ps_conn_set_timeout(R.c, 0);
	usleep(120 * 1000);
	pump(3);
	assert_int_equal(R.timeouts, 0);
	assert_int_equal(R.closes, 0);
}

static void
test_drain_all(void **state)
{
	connect_pair();
	send_str("PAUSE\r\nNOT DELIVERED\r\n");
	pump(3);
	ps_conn_drain_all();
	pump(3);
	/* In flight: left alone until resumed. */
	assert_int_equal(R.closes, 0);
	ps_conn_resume(R.c);
	pump(3);
	assert_int_equal(R.nlines, 1);
	assert_int_equal(R.closes, 1);
}

static void
test_slots_and_id(void **state)
{
	const char *first;

	connect_pair();
	first = ps_conn_id(R.c);
	assert_true(strlen(first) > 2 && strchr(first, '.'));
	for (size_t i = 0; i < ps_module_count(); i++) {
		void **slot = ps_conn_slot(R.c, ps_module_at(i));

		assert_non_null(slot);
		assert_null(*slot);
		*slot = R.c;
	}
	assert_int_equal(R.starttls_rc, 0);
	send_str("STARTTLS\r\n");
	pump(2);
	/* No certificate here: refused, and nothing else changes. */
	assert_int_equal(R.starttls_rc, PS_ESTATE);
	send_str("ECHO still\r\n");
	pump(2);
	assert_int_equal(R.nlines, 2);
}

/* ---- TLS -------------------------------------------------------------- */

static char tmpdir[64];
static char crt[2][128], key[2][128];

/* A self-signed EC certificate for cn with the subjectAltName san. */
static void
make_cert(int i, const char *cn, const char *san)
{
	EVP_PKEY *pk = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_NAME *name = X509_get_subject_name(x);
	X509V3_CTX v3;
	X509_EXTENSION *ext;
	FILE *f;

	assert_non_null(pk);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), i + 1);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, pk);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
				   (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, name);
	X509V3_set_ctx_nodb(&v3);
	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name, san);
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	assert_true(X509_sign(x, pk, EVP_sha256()) > 0);
	snprintf(crt[i], sizeof(crt[i]), "%s/crt%d.pem", tmpdir, i);
	snprintf(key[i], sizeof(key[i]), "%s/key%d.pem", tmpdir, i);
	assert_non_null(f = fopen(crt[i], "w"));
	PEM_write_X509(f, x);
	fclose(f);
	assert_non_null(f = fopen(key[i], "w"));
	PEM_write_PrivateKey(f, pk, NULL, NULL, 0, NULL, NULL);
	fclose(f);
	X509_free(x);
	EVP_PKEY_free(pk);
}

static int
tls_group_setup(void **state)
{
	strcpy(tmpdir, "/tmp/test_conn.XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	make_cert(0, "a.test", "DNS:a.test");
	make_cert(1, "b.test", "DNS:*.b.test");
	return 0;
}

static int
tls_group_teardown(void **state)
{
	for (int i = 0; i < 2; i++) {
		unlink(crt[i]);
		unlink(key[i]);
	}
	rmdir(tmpdir);
	return 0;
}

static struct ps_tls_ctx *
server_ctx(void)
{
	struct ps_tls_cert certs[2] = {{crt[0], key[0]}, {crt[1], key[1]}};
	struct ps_error err = {""};
	struct ps_tls_ctx *t = ps_tls_ctx_new(certs, 2, NULL, NULL, &err);

	if (!t)
		fail_msg("%s", err.msg);
	return t;
}

/* The client's handshake, turning the server's loop while it waits. */
static SSL *
client_tls(const char *sni, int expect_ok)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	SSL *ssl = SSL_new(ctx);

	SSL_CTX_free(ctx);
	SSL_set_fd(ssl, cfd);
	if (sni)
		SSL_set_tlsext_host_name(ssl, sni);
	for (int i = 0; i < 500; i++) {
		int r = SSL_connect(ssl), e;

		if (r == 1)
			return ssl;
		e = SSL_get_error(ssl, r);
		if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
			break;
		assert_int_equal(ps_loop_once(loop, 5), 0);
	}
	ERR_clear_error();
	if (expect_ok)
		fail_msg("client handshake failed");
	SSL_free(ssl);
	return NULL;
}

static void
client_write(SSL *ssl, const char *s)
{
	assert_int_equal(SSL_write(ssl, s, (int)strlen(s)), (int)strlen(s));
}

static void
client_read(SSL *ssl, const char *want)
{
	char buf[256];
	size_t got = 0;

	for (int i = 0; i < 200 && got < strlen(want); i++) {
		int r = SSL_read(ssl, buf + got, (int)(sizeof(buf) - 1 - got));

		if (r > 0)
			got += (size_t)r;
		else
			assert_int_equal(ps_loop_once(loop, 5), 0);
	}
	buf[got] = '\0';
	assert_string_equal(buf, want);
}

static const char *
peer_cn(SSL *ssl, char *buf, size_t len)
{
	X509 *x = SSL_get1_peer_certificate(ssl);

	X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName,
				  buf, (int)len);
	X509_free(x);
	return buf;
}

/* Pipelined after STARTTLS, in the same packet: read with it, purged. */
static void
test_starttls_injection(void **state)
{
	char buf[64];
	SSL *ssl;

	L.tls_mode = PS_TLSMODE_STARTTLS;
	L.tls = server_ctx();
	connect_pair();
	assert_int_equal(ps_conn_tls(R.c), PS_TLS_OFFERED);
	send_str("STARTTLS\r\nINJECTED\r\n");
	pump(3);
	assert_int_equal(R.starttls_rc, 0);
	assert_int_equal(ps_conn_tls(R.c), 0);
	assert_int_equal(recv_all(buf, sizeof(buf)), 8);
	assert_string_equal(buf, "220 go\r\n");
	ssl = client_tls(NULL, 1);
	pump(2);
	assert_int_equal(R.tls_done, 1);
	assert_int_equal(ps_conn_tls(R.c), PS_TLS_ACTIVE);
	assert_non_null(ps_conn_tls_info(R.c));
	assert_true(strncmp(ps_conn_tls_info(R.c), "TLSv1.3 TLS_", 12) == 0);
	client_write(ssl, "ECHO secret\r\n");
	client_read(ssl, "secret\r\n");
	assert_int_equal(R.nlines, 2);
	assert_string_equal(R.line[0], "STARTTLS");
	assert_string_equal(R.line[1], "ECHO secret");
	for (size_t i = 0; i < R.nlines; i++)
		assert_null(strstr(R.line[i], "INJECTED"));
	/* The client ends the session: the server closes. */
	SSL_shutdown(ssl);
	pump_until(&R.closes, 1);
	SSL_free(ssl);
	ps_tls_ctx_unref(L.tls);
}

/* Plain text after the go-ahead, before the ClientHello: the handshake
 * fails on it, and it is never a command. */
static void
test_starttls_plaintext_after_reply(void **state)
{
	char buf[64];

	L.tls_mode = PS_TLSMODE_REQUIRED;
	L.tls = server_ctx();
	connect_pair();
	assert_int_equal(ps_conn_tls(R.c), PS_TLS_OFFERED | PS_TLS_REQUIRED);
	send_str("STARTTLS\r\n");
	pump(3);
	assert_int_equal(recv_all(buf, sizeof(buf)), 8);
	send_str("INJECTED\r\n");
	assert_null(client_tls(NULL, 0));
	pump_until(&R.closes, 1);
	assert_int_equal(R.nlines, 1);
	assert_int_equal(R.tls_done, 0);
	ps_tls_ctx_unref(L.tls);
}

static void
test_implicit_tls_sni(void **state)
{
	char cn[64];
	SSL *ssl;

	L.tls_mode = PS_TLSMODE_IMPLICIT;
	L.tls = server_ctx();
	R.greet = 1;
	for (int round = 0; round < 3; round++) {
		const char *sni = round == 0 ? NULL : round == 1 ? "x.b.test"
								: "y.x.b.test";

		connect_pair();
		/* No on_open before the handshake. */
		assert_int_equal(R.opens, round);
		ssl = client_tls(sni, 1);
		client_read(ssl, "HELLO client\r\n");
		assert_int_equal(R.opens, round + 1);
		assert_int_equal(ps_conn_tls(R.c),
				 PS_TLS_ACTIVE | PS_TLS_REQUIRED);
		/* Only one label may stand for the wildcard. */
		assert_string_equal(peer_cn(ssl, cn, sizeof(cn)),
				    round == 1 ? "b.test" : "a.test");
		SSL_free(ssl);
		close(cfd);
		cfd = -1;
		pump_until(&R.closes, round + 1);
	}
	ps_tls_ctx_unref(L.tls);
}

static void
test_implicit_tls_garbage(void **state)
{
	L.tls_mode = PS_TLSMODE_IMPLICIT;
	L.tls = server_ctx();
	connect_pair();
	assert_int_equal(ps_conn_count(), 1);
	send_str("EHLO plain\r\n");
	pump(3);
	/* Never opened, so never closed as far as the protocol knows. */
	assert_int_equal(ps_conn_count(), 0);
	assert_int_equal(R.opens, 0);
	assert_int_equal(R.closes, 0);
	ps_tls_ctx_unref(L.tls);
}

/* Bytes OpenSSL decrypted but the paused connection had no room for are
 * not seen by epoll: resuming must still deliver them. Then output far
 * past the socket buffer: partial TLS writes from a growing queue. */
static void
test_tls_pending_and_output(void **state)
{
	static char buf[140000];
	size_t n = 0, got = 0;
	int small = 4096;
	SSL *ssl;

	L.tls_mode = PS_TLSMODE_IMPLICIT;
	L.tls = server_ctx();
	connect_pair();
	ssl = client_tls(NULL, 1);
	n = (size_t)snprintf(buf, sizeof(buf), "PAUSE\r\n");
	while (n + 6 < 20000) {
		memcpy(buf + n, "LINE\r\n", 6);
		n += 6;
	}
	/* Straight after the handshake, before the server has seen the
	 * client's Finished. */
	assert_int_equal(SSL_write(ssl, buf, (int)n), (int)n);
	pump(10);
	assert_int_equal(R.nlines, 1);
	ps_conn_resume(R.c);
	pump(30);
	assert_int_equal(R.nlines, 1 + (n - 7) / 6);

	assert_int_equal(setsockopt(sfd, SOL_SOCKET, SO_SNDBUF, &small,
				    sizeof(small)), 0);
	client_write(ssl, "BIG\r\nBIG\r\nECHO end\r\n");
	for (int i = 0; i < 5000 && got < 2 * 65536 + 5; i++) {
		int r = SSL_read(ssl, buf + got, (int)(sizeof(buf) - got));

		if (r > 0)
			got += (size_t)r;
		else
			pump(1);
	}
	assert_int_equal(got, 2 * 65536 + 5);
	assert_memory_equal(buf + 2 * 65536, "end\r\n", 5);
	assert_true(R.drains >= 2);
	SSL_free(ssl);
	ps_tls_ctx_unref(L.tls);
}

static void
test_tls_ctx_errors(void **state)
{
	struct ps_tls_cert swapped = {crt[0], key[1]};
	struct ps_tls_cert missing = {"/nonexistent/c.pem", key[0]};
	struct ps_tls_cert good = {crt[0], key[0]};
	struct ps_error err = {""};

	assert_null(ps_tls_ctx_new(&swapped, 1, NULL, NULL, &err));
	assert_non_null(strstr(err.msg, key[1]));
	assert_non_null(strstr(err.msg, "does not match certificate"));
	assert_null(ps_tls_ctx_new(&missing, 1, NULL, NULL, &err));
	assert_non_null(strstr(err.msg, "/nonexistent/c.pem"));
	assert_non_null(strstr(err.msg, "No such file"));
	assert_null(ps_tls_ctx_new(&good, 1, "NOPE", NULL, &err));
	assert_non_null(strstr(err.msg, "NOPE"));
	assert_null(ps_tls_ctx_new(&good, 1, NULL, "TLSv1.1", &err));
	assert_non_null(strstr(err.msg, "TLSv1.1"));
	ps_tls_ctx_unref(ps_tls_ctx_new(&good, 1, NULL, "TLSv1.3", &err));
}

/* ---- Listeners and limits --------------------------------------------- */

static void
check_addr(const char *text, int family, const char *addr, int port)
{
	struct sockaddr_storage ss;
	struct ps_error err = {""};
	socklen_t len;
	char buf[64];

	if (ps_listen_parse_addr(text, &ss, &len, &err) < 0)
		fail_msg("%s: %s", text, err.msg);
	assert_int_equal(ss.ss_family, family);
	assert_string_equal(ps_listen_addr_text((struct sockaddr *)&ss, buf,
						sizeof(buf)), addr);
	assert_int_equal(ntohs(family == AF_INET ?
			       ((struct sockaddr_in *)&ss)->sin_port :
			       ((struct sockaddr_in6 *)&ss)->sin6_port),
			 port);
}

static void
test_parse_addr(void **state)
{
	const char *bad[] = {"::1:143", "127.0.0.1", "127.0.0.1:0",
			     "127.0.0.1:99999", "mail.test:25", "[::1]143",
			     "[127.0.0.1]:25", "1.2.3.4:25x", "1.2.3.4:"};
	struct sockaddr_storage ss;
	struct ps_error err;
	socklen_t len;

	check_addr("127.0.0.1:25", AF_INET, "127.0.0.1", 25);
	check_addr("[::1]:143", AF_INET6, "::1", 143);
	check_addr("*:993", AF_INET, "0.0.0.0", 993);
	check_addr(":587", AF_INET, "0.0.0.0", 587);
	check_addr("[::]:110", AF_INET6, "::", 110);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err.msg[0] = '\0';
		assert_int_equal(ps_listen_parse_addr(bad[i], &ss, &len, &err),
				 -1);
		assert_non_null(strstr(err.msg, bad[i]));
	}
}

static int
tcp_connect(int port)
{
	struct sockaddr_in sin = {.sin_family = AF_INET,
				  .sin_port = htons((uint16_t)port)};
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&sin, sizeof(sin)),
			 0);
	return fd;
}

/* Reads nothing and sees EOF: the server closed it unanswered. */
static int
tcp_refused(int fd)
{
	char c;

	for (int i = 0; i < 100; i++) {
		ssize_t n = recv(fd, &c, 1, MSG_DONTWAIT);

		if (n == 0 || (n < 0 && errno == ECONNRESET))
			return 1;
		pump(1);
		usleep(1000);
	}
	return 0;
}

static void
test_listen_accept_limits(void **state)
{
	struct ps_listener second;
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	struct ps_error err = {""};
	char text[64];
	int a, b, c, port;

	assert_int_equal(ps_limits_init(&err), 0);
	/* Port 0 is refused in a config; here it picks a free port. */
	sin.sin_family = AF_INET;
	sin.sin_port = 0;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	memcpy(&L.addr, &sin, sizeof(sin));
	L.addrlen = sizeof(sin);
	L.addr_text = "127.0.0.1:0";
	L.limits.per_ip = 1;
	assert_int_equal(ps_listen_bind(&L, &err), 0);
	assert_true(fcntl(L.fd, F_GETFL) & O_NONBLOCK);
	assert_true(fcntl(L.fd, F_GETFD) & FD_CLOEXEC);
	getsockname(L.fd, (struct sockaddr *)&sin, &len);
	port = ntohs(sin.sin_port);
	/* The same address again: the operator's message. */
	second = L;
	second.name = "second";
	snprintf(text, sizeof(text), "127.0.0.1:%d", port);
	second.addr_text = text;
	((struct sockaddr_in *)&second.addr)->sin_port = sin.sin_port;
	assert_int_equal(ps_listen_bind(&second, &err), -1);
	snprintf(text, sizeof(text), "listen second 127.0.0.1:%d: Address "
		 "already in use", port);
	assert_string_equal(err.msg, text);

	assert_int_equal(ps_listen_start(loop, &L), 0);
	a = tcp_connect(port);
	pump_until(&R.opens, 1);
	assert_string_equal(ps_conn_peer(R.c), "127.0.0.1");
	b = tcp_connect(port);
	assert_true(tcp_refused(b));
	assert_int_equal(R.opens, 1);
	/* The first one leaves: its count goes with it. */
	close(a);
	pump_until(&R.closes, 1);
	c = tcp_connect(port);
	pump_until(&R.opens, 2);
	ps_listen_stop(loop, &L);
	close(b);
	close(c);
	close(L.fd);
}

/* Per-address assertions use a only, so that a and b sharing a bucket
 * (one chance in 4096) cannot make the test fail. */
/* Acquire on listener slot 0 with no listener bound. */
static int
acquire(const struct sockaddr *peer, size_t total, size_t per_ip)
{
	struct ps_limits_max max = {.total = total, .per_ip = per_ip};
	return ps_limits_acquire(peer, &max);
}

static void
test_limits(void **state)
{
	struct sockaddr_in a = {.sin_family = AF_INET}, b = a;
	struct sockaddr_in6 mapped = {.sin6_family = AF_INET6};
	struct sockaddr *pa = (struct sockaddr *)&a;
	struct sockaddr *pb = (struct sockaddr *)&b;
	struct ps_error err;

	assert_int_equal(ps_limits_init(&err), 0);
	inet_pton(AF_INET, "10.0.0.1", &a.sin_addr);
	inet_pton(AF_INET, "10.0.0.2", &b.sin_addr);
	inet_pton(AF_INET6, "::ffff:10.0.0.1", &mapped.sin6_addr);
	assert_int_equal(acquire(pa, 3, 2), 0);
	/* The same client, written as IPv6. */
	assert_int_equal(acquire((struct sockaddr *)&mapped, 3, 2),
			 0);
	assert_int_equal(acquire(pa, 3, 2), PS_LIMITS_PEER);
	assert_int_equal(acquire(pb, 3, 0), 0);
	assert_int_equal(acquire(pb, 3, 0), PS_LIMITS_TOTAL);
	assert_int_equal(acquire(pb, 0, 0), 0);
	/* A worker that holds nothing releases nothing. */
	assert_int_equal(ps_limits_set_worker(9), 0);
	ps_limits_release(pa, 0);
	assert_int_equal(ps_limits_set_worker(0), 0);
	assert_int_equal(acquire(pa, 0, 2), PS_LIMITS_PEER);
	ps_limits_release(pb, 0);
	ps_limits_release(pb, 0);
	assert_int_equal(acquire(pb, 3, 0), 0);
	assert_int_equal(acquire(pb, 3, 0), PS_LIMITS_TOTAL);
	ps_limits_release(pb, 0);
	/* Worker 7 dies holding two connections. */
	assert_int_equal(ps_limits_set_worker(7), 0);
	assert_int_equal(acquire(pb, 0, 0), 0);
	assert_int_equal(acquire(pb, 0, 0), 0);
	assert_int_equal(ps_limits_set_worker(0), 0);
	assert_int_equal(acquire(pa, 4, 0), PS_LIMITS_TOTAL);
	ps_limits_worker_died(7);
	assert_int_equal(acquire(pb, 3, 0), 0);
	ps_limits_release(pb, 0);
	ps_limits_release(pa, 0);
	ps_limits_release(pa, 0);
	assert_int_equal(acquire(pa, 1, 1), 0);
	ps_limits_release(pa, 0);
	/* A listener's own bound, beside the server's. */
	{
		struct ps_limits_max one = {.listener = 1, .slot = 5};
		assert_int_equal(ps_limits_acquire(pa, &one), 0);
		assert_int_equal(ps_limits_acquire(pb, &one),
				 PS_LIMITS_LISTENER);
		assert_int_equal(acquire(pb, 0, 0), 0);
		ps_limits_release(pa, 5);
		assert_int_equal(ps_limits_acquire(pb, &one), 0);
		ps_limits_release(pb, 5);
		ps_limits_release(pb, 0);
	}
	assert_int_equal(ps_limits_set_worker(PS_LIMITS_MAX_WORKERS),
			 PS_EINVAL);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
	const struct CMUnitTest conn_tests[] = {
		T(test_lines_split),
		T(test_line_too_long),
		T(test_line_longer_than_input_bound),
		T(test_bytes_from_line),
		T(test_pause_resume),
		T(test_pause_input_bound),
		T(test_backpressure),
		T(test_close_in_line),
		T(test_close_by_return),
		T(test_eof_delivers_first),
		T(test_idle_timeout),
		T(test_timeout_off),
		T(test_drain_all),
		T(test_slots_and_id),
		T(test_parse_addr),
		T(test_listen_accept_limits),
		T(test_limits),
	};
	const struct CMUnitTest tls_tests[] = {
		T(test_starttls_injection),
		T(test_starttls_plaintext_after_reply),
		T(test_implicit_tls_sni),
		T(test_implicit_tls_garbage),
		T(test_tls_pending_and_output),
		T(test_tls_ctx_errors),
	};
	int failed;

	/* As in the workers: a peer gone mid-write is an error, not a
	 * signal (OpenSSL writes with write(2)). */
	signal(SIGPIPE, SIG_IGN);
	failed = cmocka_run_group_tests_name("conn", conn_tests, NULL, NULL);
	failed += cmocka_run_group_tests_name("tls", tls_tests,
					      tls_group_setup,
					      tls_group_teardown);
	return failed ? 1 : 0;
}
