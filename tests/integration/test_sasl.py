"""SASL through echo's AUTH command against the auth_static test backend:
PLAIN (RFC 4616) and LOGIN, initial responses and empty challenges, the
failure delay, cancel and malformed input, plaintext refused before
STARTTLS, and log lines a fail2ban filter can trust."""

import base64
import re
import time

from conftest import quote

DELAY = 0.3  # auth_failure_delay below
USERS = 'auth_static {\n\tuser alice@example.test %s;\n\tuser ' \
    'bob@example.test hunter2;\n}' % quote("correct horse")


def b64(text):
    return base64.b64encode(text.encode()).decode()


def plain(user, password, authzid=""):
    return b64("%s\0%s\0%s" % (authzid, user, password))


def start(poshtad, listen=None, tls=False, top=""):
    poshtad.start(load=("echo", "auth_static"), tls=tls, body=USERS,
                  top="auth_failure_delay 300ms;\n" + top,
                  listen=listen or {"echo": {"auth_plaintext": "allow"}})


def greeted(poshtad, **kw):
    c = poshtad.connect(**kw)
    c.expect("+OK Poshta echo ready")
    return c


def test_plain_with_initial_response(poshtad):
    start(poshtad)
    with greeted(poshtad) as c:
        c.command("CAPA", "+OK SASL PLAIN LOGIN")
        c.command("WHO?", "+OK anonymous")
        c.command("AUTH PLAIN " + plain("Alice@Example.TEST",
                                        "correct horse"),
                  "+OK authenticated as alice@example.test")
        c.command("WHO?", "+OK alice@example.test")
        c.command("AUTH PLAIN " + plain("bob@example.test", "hunter2"),
                  "-ERR already authenticated")
        c.command("still echoing", "still echoing")
    poshtad.wait_log(r"auth ok: user=Alice@Example\.TEST rip=127\.0\.0\.1 "
                     r"mech=PLAIN")


def test_plain_after_empty_challenge(poshtad):
    start(poshtad)
    with greeted(poshtad) as c:
        # RFC 4422 section 5: no initial response, an empty challenge.
        c.command("AUTH PLAIN", "+ ")
        c.command(plain("bob@example.test", "hunter2", "bob@example.test"),
                  "+OK authenticated as bob@example.test")


def test_login(poshtad):
    start(poshtad)
    with greeted(poshtad) as c:
        c.command("auth login", "+ " + b64("Username:"))
        c.command(b64("Bob@Example.Test"), "+ " + b64("Password:"))
        c.command(b64("hunter2"), "+OK authenticated as bob@example.test")
    with greeted(poshtad) as c:
        # The user name as initial response.
        c.command("AUTH LOGIN " + b64("alice@example.test"),
                  "+ " + b64("Password:"))
        c.command(b64("correct horse"),
                  "+OK authenticated as alice@example.test")


def test_failure_waits_the_delay(poshtad):
    start(poshtad)
    with greeted(poshtad) as c:
        for creds in (("alice@example.test", "wrong"),
                      ("nobody@example.test", "correct horse")):
            began = time.monotonic()
            c.command("AUTH PLAIN " + plain(*creds),
                      "-ERR [AUTH] authentication failed")
            assert time.monotonic() - began >= DELAY
        began = time.monotonic()
        c.command("AUTH LOGIN", "+ " + b64("Username:"))
        c.command(b64("bob@example.test"), "+ " + b64("Password:"))
        c.command(b64("hunter"), "-ERR [AUTH] authentication failed")
        assert time.monotonic() - began >= DELAY
        # Acting for another user is refused the same way.
        c.command("AUTH PLAIN " + plain("bob@example.test", "hunter2",
                                        "alice@example.test"),
                  "-ERR [AUTH] authentication failed")
        c.command("WHO?", "+OK anonymous")
    for rx in (r"auth failed: user=alice@example\.test rip=127\.0\.0\.1 "
               r"mech=PLAIN reason=denied$",
               r"auth failed: user=nobody@example\.test rip=127\.0\.0\.1 "
               r"mech=PLAIN reason=denied$",
               r"auth failed: user=bob@example\.test rip=127\.0\.0\.1 "
               r"mech=LOGIN reason=denied$",
               r"auth failed: user=bob@example\.test rip=127\.0\.0\.1 "
               r"mech=PLAIN reason=authzid$"):
        assert re.search(rx, poshtad.log(), re.M), rx


def test_pipelined_commands_keep_their_order(poshtad):
    start(poshtad)
    with greeted(poshtad) as c:
        c.send("AUTH PLAIN %s\r\nWHO?\r\nping\r\n"
               % plain("alice@example.test", "correct horse"))
        c.expect("+OK authenticated as alice@example.test")
        c.expect("+OK alice@example.test")
        c.expect("ping")


def test_cancel_malformed_and_unknown(poshtad):
    start(poshtad)
    with greeted(poshtad) as c:
        c.command("AUTH LOGIN", "+ " + b64("Username:"))
        c.command("*", "-ERR [AUTH] cancelled")
        c.command("AUTH PLAIN not-base64!", "-ERR [AUTH] malformed response")
        c.command("AUTH PLAIN", "+ ")
        c.command("Zg=", "-ERR [AUTH] malformed response")
        c.command("AUTH PLAIN " + b64("alice@example.test\0correct horse"),
                  "-ERR [AUTH] malformed response")
        c.command("AUTH CRAM-MD5", "-ERR [AUTH] unknown mechanism")
        c.command("hello", "hello")


def test_plaintext_refused_before_starttls(poshtad, certs):
    start(poshtad, tls=True, listen={"echo": {"tls": "starttls"}})
    with greeted(poshtad) as c:
        c.command("CAPA", "+OK SASL")
        c.command("AUTH PLAIN " + plain("alice@example.test",
                                        "correct horse"),
                  "-ERR [ENCRYPT] use STARTTLS first")
        c.command("AUTH LOGIN", "-ERR [ENCRYPT] use STARTTLS first")
        c.command("STARTTLS", "+OK begin TLS")
        c.starttls(certs.client_context())
        c.command("CAPA", "+OK SASL PLAIN LOGIN")
        c.command("AUTH PLAIN " + plain("alice@example.test",
                                        "correct horse"),
                  "+OK authenticated as alice@example.test")
    assert "auth failed" not in poshtad.log()


def test_starttls_forgets_the_user(poshtad, certs):
    start(poshtad, tls=True,
          listen={"echo": {"tls": "starttls", "auth_plaintext": "allow"}})
    with greeted(poshtad) as c:
        c.command("AUTH PLAIN " + plain("bob@example.test", "hunter2"),
                  "+OK authenticated as bob@example.test")
        c.command("STARTTLS", "+OK begin TLS")
        c.starttls(certs.client_context())
        c.command("WHO?", "+OK anonymous")


def test_user_names_cannot_forge_log_keys(poshtad):
    start(poshtad)
    with greeted(poshtad) as c:
        c.command("AUTH PLAIN " + plain("x rip=10.9.8.7", "pw"),
                  "-ERR [AUTH] authentication failed")
    line = poshtad.wait_log(r"auth failed: .*").group(0)
    assert "rip=10.9.8.7" not in line
    assert line.startswith(r"auth failed: user=x\x20rip\x3d10.9.8.7 "
                           r"rip=127.0.0.1 "), line


def test_client_leaves_during_the_check(poshtad):
    start(poshtad)
    for creds in (("alice@example.test", "wrong"),
                  ("alice@example.test", "correct horse")):
        with greeted(poshtad) as c:
            c.sendline("AUTH PLAIN " + plain(*creds))
    # The checks finish without their clients; the server serves on.
    poshtad.wait_log(r"auth failed: user=alice@example\.test ")
    poshtad.wait_log(r"auth ok: user=alice@example\.test ")
    with greeted(poshtad) as c:
        c.command("AUTH PLAIN " + plain("bob@example.test", "hunter2"),
                  "+OK authenticated as bob@example.test")
