/* Unit tests of core/sasl.c, sasl_plain.c, base64.c and authfail.c: strict
 * base64, PLAIN and LOGIN exchanges over a real connection and loop with
 * a fake auth backend (a static module) on the thread pool, the failure
 * delay, the limits, plaintext refused before TLS, cancellation, and
 * freeing an exchange at every stage. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <poshta/api.h>
#include <poshta/auth.h>
#include "authfail.h"
#include "base64.h"
#include "conn.h"
#include "iface.h"
#include "listen.h"
#include "loop.h"
#include "module.h"
#include "sasl.h"

/* The failure delay: long enough that an undelayed answer on a loaded
 * machine still comes well within it (test_backend_failure). */
#define DELAY_MS 400

/* ---- A fake auth backend ---------------------------------------------- */

static const struct ps_api *api;
static struct ps_module_ctx *self;
static atomic_int backend_calls;

/* Any user with password "secret", except "broken..." (a failing
 * backend); the canonical name is the lower-cased one. */
static int
fake_verify(const char *user, const char *password,
	    struct ps_auth_user *user_r, struct ps_error *err)
{
	atomic_fetch_add(&backend_calls, 1);
	if (strncmp(user, "broken", 6) == 0) {
		snprintf(err->msg, sizeof(err->msg), "database \"down\"");
		return PS_EIO;
	}
	if (strcmp(password, "secret") != 0)
		return PS_AUTH_EDENIED;
	memset(user_r, 0, sizeof(*user_r));
	for (size_t i = 0; user[i] && i < PS_AUTH_NAME_MAX; i++)
		user_r->name[i] = (char)(user[i] >= 'A' && user[i] <= 'Z' ?
					 user[i] + 32 : user[i]);
	user_r->enabled = 1;
	return 0;
}

static const struct ps_auth_ops fake_ops = {
	.size = sizeof(struct ps_auth_ops),
	.verify = fake_verify,
};

static void
fake_bind(struct ps_module_ctx *m, const struct ps_api *a)
{
	self = m;
	api = a;
}

static int
fake_init(struct ps_error *err)
{
	return api->iface_publish(self, PS_AUTH_KIND, "fake", &fake_ops);
}

/* ---- Connection and loop ---------------------------------------------- */

static int
t_line(struct ps_conn *c, void *s, const char *line, size_t len,
       unsigned flags)
{
	return 0;
}

static const struct ps_protocol proto = {
	.size = sizeof(struct ps_protocol),
	.name = "test",
	.on_line = t_line,
};

static struct ps_loop *loop;
static struct ps_listener L;
static struct ps_conn *conn;
static int cfd = -1;

/* The loop's clock, after a turn has refreshed it: the clock the core's
 * timers and failure windows use. */
static uint64_t
loop_now(void)
{
	assert_int_equal(ps_loop_once(loop, 0), 0);
	return ps_loop_now(loop);
}

static const struct ps_authfail_conf no_limits = {
	.delay_ms = DELAY_MS, .window_ms = 60000,
};

static int
group_setup(void **state)
{
	static struct ps_module d = {
		.magic = PS_MODULE_MAGIC, .abi_major = PS_ABI_MAJOR,
		.abi_minor = PS_ABI_MINOR, .size = sizeof(struct ps_module),
		.name = "fakeauth", .bind = fake_bind, .init = fake_init,
	};
	struct ps_error err = {""};

	return ps_modules_add_static(&d, &err);
}

static int
group_teardown(void **state)
{
	ps_modules_unload();
	return 0;
}

static int
setup(void **state)
{
	struct sockaddr_un peer = {.sun_family = AF_UNIX};
	struct ps_error err;
	int sv[2];

	memset(&L, 0, sizeof(L));
	L.name = "test";
	L.fd = -1;
	L.proto = &proto;
	L.auth_plaintext = 1;
	ps_authfail_configure(&no_limits);
	loop = ps_loop_new(2, &err);
	assert_non_null(loop);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0,
				    sv), 0);
	cfd = sv[1];
	conn = ps_conn_accept(loop, &L, sv[0], (struct sockaddr *)&peer,
			      sizeof(sa_family_t));
	assert_non_null(conn);
	return 0;
}

static int
teardown(void **state)
{
	ps_conn_close_all();
	assert_int_equal(ps_loop_once(loop, 0), 0);
	assert_int_equal(ps_conn_count(), 0);
	close(cfd);
	ps_loop_free(loop);
	return 0;
}

/* ---- What fn saw ------------------------------------------------------ */

static struct {
	int calls, status;
	char challenge[256];
	char user[PS_AUTH_NAME_MAX + 1];
	uint64_t at;
} G;

/* Records each report and frees the exchange at a final one, from inside
 * fn, as a protocol does. */
static void
record(struct ps_sasl *s, int status, const char *challenge, void *arg)
{
	const char *user = ps_sasl_user(s);

	G.calls++;
	G.status = status;
	G.at = ps_loop_now(loop);
	snprintf(G.challenge, sizeof(G.challenge), "%s",
		 challenge ? challenge : "(null)");
	snprintf(G.user, sizeof(G.user), "%s", user ? user : "(null)");
	if (status != PS_SASL_CONTINUE)
		ps_sasl_free(s);
}

/* Turn the loop until fn has been called n times in all (3 s at most). */
static void
wait_calls(int n)
{
	uint64_t end = loop_now() + 3000;

	while (G.calls < n && ps_loop_now(loop) < end)
		assert_int_equal(ps_loop_once(loop, 10), 0);
	assert_int_equal(G.calls, n);
}

static struct ps_sasl *
start(const char *mech, const char *initial)
{
	struct ps_sasl *s;

	memset(&G, 0, sizeof(G));
	s = ps_sasl_start(conn, mech, initial, record, NULL);
	assert_non_null(s);
	/* Never inside the call. */
	assert_int_equal(G.calls, 0);
	return s;
}

/* The base64 of len bytes of raw, in a static buffer. */
static const char *
b64(const void *raw, size_t len)
{
	static char out[8192];

	ps_base64_encode(raw, len, out);
	return out;
}

static void
respond(struct ps_sasl *s, const char *text)
{
	int before = G.calls;

	ps_sasl_respond(s, text, strlen(text));
	assert_int_equal(G.calls, before);
}

/* One whole PLAIN exchange with an initial response; the final status. */
static int
plain(const void *msg, size_t len)
{
	start("PLAIN", b64(msg, len));
	wait_calls(1);
	return G.status;
}

#define PLAIN(lit) plain(lit, sizeof(lit) - 1)

/* ---- Base64 ----------------------------------------------------------- */

static void
test_base64_vectors(void **state)
{
	/* RFC 4648 section 10. */
	static const char *const v[][2] = {
		{"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"},
		{"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="},
		{"foobar", "Zm9vYmFy"},
	};
	unsigned char buf[16];

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		size_t n = strlen(v[i][0]);

		assert_string_equal(b64(v[i][0], n), v[i][1]);
		assert_int_equal(ps_base64_decode(v[i][1], strlen(v[i][1]),
						  buf), (long)n);
		assert_memory_equal(buf, v[i][0], n);
	}
	assert_string_equal(b64("\xff\xfe\x00", 3), "//4A");
	assert_int_equal(ps_base64_decode("+/+/", 4, buf), 3);
}

static void
test_base64_strict(void **state)
{
	static const char *const bad[] = {
		"Zg", "Zg=", "Z===", "====", "=Zg=", "Zg==Zg==", "Zm9v=",
		"Zm9v====", "Zh==", "Zm9=", "Zm 9v", "Zm9v\n", " Zm9v",
		"Zm-v", "Zm_v", "Zm9v\r", "Z\x80g=", "Zg=a", "Zm=v",
	};
	unsigned char buf[16];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(ps_base64_decode(bad[i], strlen(bad[i]),
						  buf), -1);
	/* A NUL inside is not base64 either. */
	assert_int_equal(ps_base64_decode("Zm\0v", 4, buf), -1);
}

/* ---- PLAIN ------------------------------------------------------------ */

static void
test_plain_initial(void **state)
{
	assert_int_equal(PLAIN("\0Alice@Example.TEST\0secret"), PS_SASL_OK);
	assert_string_equal(G.user, "alice@example.test");
	assert_int_equal(PLAIN("alice\0alice\0secret"), PS_SASL_OK);
	assert_int_equal(PLAIN("ALICE\0alice\0secret"), PS_SASL_OK);
	assert_string_equal(G.user, "alice");
}

static void
test_plain_empty_challenge(void **state)
{
	static const char msg[] = "\0bob\0secret";
	struct ps_sasl *s = start("plain", NULL);

	wait_calls(1);
	assert_int_equal(G.status, PS_SASL_CONTINUE);
	assert_string_equal(G.challenge, "");
	respond(s, b64(msg, sizeof(msg) - 1));
	wait_calls(2);
	assert_int_equal(G.status, PS_SASL_OK);
	assert_string_equal(G.user, "bob");
}

static void
test_plain_malformed(void **state)
{
	char big[300];
	int calls = atomic_load(&backend_calls);

	assert_int_equal(PLAIN(""), PS_SASL_EMALFORMED);
	assert_int_equal(PLAIN("alice"), PS_SASL_EMALFORMED);
	assert_int_equal(PLAIN("alice\0secret"), PS_SASL_EMALFORMED);
	assert_int_equal(PLAIN("\0\0secret"), PS_SASL_EMALFORMED);
	assert_int_equal(PLAIN("\0alice\0"), PS_SASL_EMALFORMED);
	assert_int_equal(PLAIN("\0alice\0sec\0ret"), PS_SASL_EMALFORMED);
	assert_int_equal(PLAIN("\0al\xffice\0secret"), PS_SASL_EMALFORMED);
	assert_int_equal(PLAIN("\0\xc0\xaf\0secret"), PS_SASL_EMALFORMED);
	assert_int_equal(PLAIN("\0\xed\xa0\x80\0secret"), PS_SASL_EMALFORMED);
	assert_int_equal(PLAIN("\0\xf4\x90\x80\x80\0secret"),
			 PS_SASL_EMALFORMED);
	assert_int_equal(PLAIN("\0al\xc3\0secret"), PS_SASL_EMALFORMED);
	assert_int_equal(PLAIN("a\xff\0a\0secret"), PS_SASL_EMALFORMED);
	/* RFC 4954 section 4: "=" is an empty response, no message. */
	start("PLAIN", "=");
	wait_calls(1);
	assert_int_equal(G.status, PS_SASL_EMALFORMED);
	/* 255 octets is the bound of authcid and passwd. */
	big[0] = '\0';
	memset(big + 1, 'u', 255);
	memcpy(big + 256, "\0secret", 7);
	assert_int_equal(plain(big, 263), PS_SASL_OK);
	memset(big + 1, 'u', 256);
	memcpy(big + 257, "\0secret", 7);
	assert_int_equal(plain(big, 264), PS_SASL_EMALFORMED);
	memcpy(big, "\0u\0", 3);
	memset(big + 3, 'p', 256);
	assert_int_equal(plain(big, 259), PS_SASL_EMALFORMED);
	assert_int_equal(atomic_load(&backend_calls), calls + 1);
	/* Valid UTF-8 passes. */
	assert_int_equal(PLAIN("\0j\xc3\xb6rg\xf0\x9f\x93\xae\0secret"),
			 PS_SASL_OK);
}

static void
test_plain_denied_after_delay(void **state)
{
	uint64_t began = loop_now();
	int calls = atomic_load(&backend_calls);

	assert_int_equal(PLAIN("\0alice\0wrong"), PS_SASL_EDENIED);
	assert_true(G.at - began >= DELAY_MS);
	assert_string_equal(G.user, "(null)");
	assert_int_equal(atomic_load(&backend_calls), calls + 1);
	/* Acting for someone else: denied without asking the backend. */
	began = loop_now();
	assert_int_equal(PLAIN("bob\0alice\0secret"), PS_SASL_EDENIED);
	assert_true(G.at - began >= DELAY_MS);
	assert_int_equal(atomic_load(&backend_calls), calls + 1);
}

static void
test_backend_failure(void **state)
{
	uint64_t began = loop_now();

	assert_int_equal(PLAIN("\0broken\0secret"), PS_SASL_ETEMP);
	assert_true(G.at - began < DELAY_MS);
}

/* ---- LOGIN ------------------------------------------------------------ */

static void
test_login_flow(void **state)
{
	struct ps_sasl *s = start("LOGIN", NULL);

	wait_calls(1);
	assert_int_equal(G.status, PS_SASL_CONTINUE);
	assert_string_equal(G.challenge, "VXNlcm5hbWU6"); /* Username: */
	respond(s, b64("carol", 5));
	wait_calls(2);
	assert_string_equal(G.challenge, "UGFzc3dvcmQ6"); /* Password: */
	respond(s, b64("secret", 6));
	wait_calls(3);
	assert_int_equal(G.status, PS_SASL_OK);
	assert_string_equal(G.user, "carol");
}

static void
test_login_initial_user(void **state)
{
	struct ps_sasl *s = start("login", b64("Dave", 4));

	wait_calls(1);
	assert_string_equal(G.challenge, "UGFzc3dvcmQ6");
	respond(s, b64("wrong", 5));
	wait_calls(2);
	assert_int_equal(G.status, PS_SASL_EDENIED);
	start("LOGIN", "=");
	wait_calls(1);
	assert_int_equal(G.status, PS_SASL_EMALFORMED);
}

/* Start mech without an initial response and answer its first challenge
 * with text: the status that follows. */
static int
answer_first(const char *mech, const char *text)
{
	struct ps_sasl *s = start(mech, NULL);

	wait_calls(1);
	assert_int_equal(G.status, PS_SASL_CONTINUE);
	respond(s, text);
	wait_calls(2);
	return G.status;
}

static void
test_login_malformed(void **state)
{
	char big[6000];

	assert_int_equal(answer_first("LOGIN", "not base64!"),
			 PS_SASL_EMALFORMED);
	assert_int_equal(answer_first("LOGIN", b64("a\0b", 3)),
			 PS_SASL_EMALFORMED);
	/* Past the bound on a response. */
	memset(big, 'A', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(answer_first("LOGIN", big), PS_SASL_EMALFORMED);
}

/* ---- Mechanisms, TLS, cancel ------------------------------------------ */

static void
test_mechanisms(void **state)
{
	assert_string_equal(ps_sasl_mechanisms(conn), "PLAIN LOGIN");
	start("CRAM-MD5", NULL);
	wait_calls(1);
	assert_int_equal(G.status, PS_SASL_EMECH);
	start("", NULL);
	wait_calls(1);
	assert_int_equal(G.status, PS_SASL_EMECH);
	start(NULL, NULL);
	wait_calls(1);
	assert_int_equal(G.status, PS_SASL_EMECH);
	start("PLAINX", NULL);
	wait_calls(1);
	assert_int_equal(G.status, PS_SASL_EMECH);
}

static void
test_plaintext_needs_tls(void **state)
{
	static const char *const mechs[] = {"PLAIN", "LOGIN"};
	int calls = atomic_load(&backend_calls);

	L.auth_plaintext = 0;
	assert_string_equal(ps_sasl_mechanisms(conn), "");
	for (size_t i = 0; i < 2; i++) {
		start(mechs[i], b64("\0alice\0secret", 13));
		wait_calls(1);
		assert_int_equal(G.status, PS_SASL_EENCRYPT);
	}
	memset(&G, 0, sizeof(G));
	assert_non_null(ps_auth_login(conn, "alice", "secret", record, NULL));
	wait_calls(1);
	assert_int_equal(G.status, PS_SASL_EENCRYPT);
	assert_int_equal(atomic_load(&backend_calls), calls);
}

static void
test_cancel(void **state)
{
	assert_int_equal(answer_first("LOGIN", "*"), PS_SASL_ECANCEL);
	assert_int_equal(answer_first("PLAIN", "*"), PS_SASL_ECANCEL);
}

static void
test_auth_login(void **state)
{
	memset(&G, 0, sizeof(G));
	assert_non_null(ps_auth_login(conn, "Erin", "secret", record, NULL));
	assert_int_equal(G.calls, 0);
	wait_calls(1);
	assert_int_equal(G.status, PS_SASL_OK);
	assert_string_equal(G.user, "erin");
	memset(&G, 0, sizeof(G));
	ps_auth_login(conn, "erin", "nope", record, NULL);
	wait_calls(1);
	assert_int_equal(G.status, PS_SASL_EDENIED);
	memset(&G, 0, sizeof(G));
	ps_auth_login(conn, "", "secret", record, NULL);
	wait_calls(1);
	assert_int_equal(G.status, PS_SASL_EMALFORMED);
}

/* ---- Freeing at every stage ------------------------------------------- */

/* Turn the loop for ms, or until no job is left when jobs is set. */
static void
spin(uint64_t ms, int jobs)
{
	uint64_t end = loop_now() + ms;

	while (ps_loop_now(loop) < end && (!jobs || ps_loop_jobs(loop)))
		assert_int_equal(ps_loop_once(loop, 5), 0);
}

static void
test_free_anytime(void **state)
{
	struct ps_sasl *s;

	/* A report due. */
	ps_sasl_free(start("LOGIN", NULL));
	/* A check on the pool: its completion must not touch s. */
	ps_sasl_free(start("PLAIN", b64("\0alice\0secret", 13)));
	spin(3000, 1);
	assert_int_equal(ps_loop_jobs(loop), 0);
	/* The failure delay running. */
	s = start("PLAIN", b64("\0alice\0wrong", 12));
	spin(3000, 1);
	assert_int_equal(G.calls, 0);
	ps_sasl_free(s);
	spin(2 * DELAY_MS, 0);
	assert_int_equal(G.calls, 0);
	ps_sasl_free(NULL);
}

static void
test_response_out_of_turn(void **state)
{
	struct ps_sasl *s = start("PLAIN", b64("\0alice\0secret", 13));

	/* No challenge is out: ignored, the check goes on. */
	ps_sasl_respond(s, "Kg==", 4);
	wait_calls(1);
	assert_int_equal(G.status, PS_SASL_OK);
}

/* ---- Limits ----------------------------------------------------------- */

static int
login(const char *user, const char *password)
{
	memset(&G, 0, sizeof(G));
	assert_non_null(ps_auth_login(conn, user, password, record, NULL));
	wait_calls(1);
	return G.status;
}

static void
test_limits(void **state)
{
	struct ps_authfail_conf conf = no_limits;
	struct ps_error err;
	int calls;

	assert_int_equal(ps_authfail_init(&err), 0);
	/* Per user; a success clears the user's count. */
	conf.max_per_user = 2;
	ps_authfail_configure(&conf);
	assert_int_equal(login("frank", "x"), PS_SASL_EDENIED);
	assert_int_equal(login("frank", "secret"), PS_SASL_OK);
	assert_int_equal(login("Frank", "x"), PS_SASL_EDENIED);
	assert_int_equal(login("frank", "x"), PS_SASL_EDENIED);
	calls = atomic_load(&backend_calls);
	assert_int_equal(login("FRANK", "secret"), PS_SASL_ELIMIT);
	assert_int_equal(PLAIN("\0frank\0secret"), PS_SASL_ELIMIT);
	assert_int_equal(atomic_load(&backend_calls), calls);
	assert_int_equal(login("grace", "secret"), PS_SASL_OK);
	/* Per address: 3 failures from here so far. */
	conf.max_per_ip = 4;
	ps_authfail_configure(&conf);
	assert_int_equal(login("heidi", "x"), PS_SASL_EDENIED);
	calls = atomic_load(&backend_calls);
	assert_int_equal(login("grace", "secret"), PS_SASL_ELIMIT);
	assert_int_equal(atomic_load(&backend_calls), calls);
	/* A window closes. */
	conf.window_ms = 150;
	ps_authfail_configure(&conf);
	spin(200, 0);
	assert_int_equal(login("frank", "secret"), PS_SASL_OK);
}

static void
test_no_backend(void **state)
{
	ps_ifaces_clear();
	assert_int_equal(PLAIN("\0alice\0secret"), PS_SASL_ETEMP);
}

int
main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_base64_vectors),
		cmocka_unit_test(test_base64_strict),
		T(test_plain_initial),
		T(test_plain_empty_challenge),
		T(test_plain_malformed),
		T(test_plain_denied_after_delay),
		T(test_backend_failure),
		T(test_login_flow),
		T(test_login_initial_user),
		T(test_login_malformed),
		T(test_mechanisms),
		T(test_plaintext_needs_tls),
		T(test_cancel),
		T(test_auth_login),
		T(test_free_anytime),
		T(test_response_out_of_turn),
		/* Last: they change what the others rely on. */
		T(test_limits),
		T(test_no_backend),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
