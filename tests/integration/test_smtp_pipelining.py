"""PIPELINING (RFC 2920) over a raw socket: a whole transaction written
at once gets its replies in order; 200 NOOPs written before reading get
200 replies; plaintext pipelined after STARTTLS is discarded, never
executed inside TLS (RFC 3207 5, CVE-2011-0411)."""

import time

import pytest

from smtp_helpers import (PASSWORDS, dot_stuff, headers, message,
                          start_smtp)


@pytest.fixture
def env(poshtad):
    return start_smtp(poshtad, listeners=("smtp", "submission"))


def test_transaction_in_one_write(env):
    with env.client() as c:
        c.send(b"EHLO client.test\r\n"
               b"MAIL FROM:<sender@remote.test>\r\n"
               b"RCPT TO:<alice@example.test>\r\n"
               b"RCPT TO:<nobody@example.test>\r\n"
               b"RCPT TO:<bob@example.test>\r\n"
               b"RCPT TO:<friend@remote.test>\r\n"
               b"RCPT TO:<carol@example.test>\r\n"
               b"DATA\r\n")
        kws = c.reply().check(250).keywords()
        assert "PIPELINING" in kws, kws
        c.reply().check(250, "2.1.0")
        c.reply().check(250, "2.1.5")
        c.reply().check(550, "5.1.1")
        c.reply().check(250, "2.1.5")
        c.reply().check(550, "5.7.1")
        c.reply().check(250, "2.1.5")
        c.reply().check(354)
        c.send(dot_stuff(message(subject="pipelined")) +
               b"MAIL FROM:<sender@remote.test>\r\n"
               b"RCPT TO:<bob@example.test>\r\n"
               b"DATA\r\n")
        c.reply().check(250, "2.0.0")
        c.reply().check(250, "2.1.0")
        c.reply().check(250, "2.1.5")
        c.reply().check(354)
        c.send(dot_stuff(message(subject="second")) + b"QUIT\r\n")
        c.reply().check(250, "2.0.0")
        c.reply().check(221, "2.0.0")
        c.expect_eof()
    for user in PASSWORDS:
        msgs = env.messages(user)
        subjects = [headers(m, "Subject") for m in msgs]
        want = [["Subject: pipelined"]] + (
            [["Subject: second"]] if user == "bob@example.test" else [])
        assert subjects == want, (user, subjects)


def test_200_noops_before_reading(env):
    with env.client() as c:
        c.ehlo()
        c.send(b"NOOP\r\n" * 200 + b"QUIT\r\n")
        for i in range(200):
            r = c.reply()
            assert (r.code, r.enh) == (250, "2.0.0"), (i, r)
        c.reply().check(221)
        c.expect_eof()


def test_pipelined_rset_and_errors_keep_order(env):
    with env.client() as c:
        c.ehlo()
        c.send(b"RCPT TO:<alice@example.test>\r\n"      # 503: no MAIL
               b"MAIL FROM:<sender@remote.test>\r\n"
               b"MAIL FROM:<sender@remote.test>\r\n"    # 503: nested
               b"RCPT TO:<alice@example.test>\r\n"
               b"RSET\r\n"
               b"DATA\r\n"                               # 503: reset
               b"NOOP\r\n")
        c.reply().check(503, "5.5.1")
        c.reply().check(250, "2.1.0")
        c.reply().check(503, "5.5.1")
        c.reply().check(250, "2.1.5")
        c.reply().check(250, "2.0.0")
        c.reply().check(503, "5.5.1")
        c.reply().check(250, "2.0.0")
        assert c.pending(0.3) == b""
    assert env.count("alice@example.test") == 0


@pytest.mark.parametrize("name", ["smtp", "submission"])
def test_starttls_injection(env, name):
    with env.client(name) as c:
        c.ehlo()
        c.send(b"STARTTLS\r\nMAIL FROM:<x@y.test>\r\n"
               b"RCPT TO:<alice@example.test>\r\n")
        c.reply().check(220, "2.0.0")
        # Nothing in the clear after the 220.
        assert c.buf == b"", c.buf
        c.starttls(env.tls_context())
        # The injected commands were discarded: no reply for them.
        assert c.pending(0.5) == b"", c.buf
        c.ehlo()
        # Had the injected MAIL run, this would be a nested MAIL (503).
        r = c.cmd("MAIL FROM:<x@y.test>")
        if name == "smtp":
            r.check(250, "2.1.0")
            c.cmd("RCPT TO:<bob@example.test>").check(250)
        else:
            r.check(530, "5.7.0")  # submission: still not logged in
        c.quit()
    assert env.count("alice@example.test") == 0


def test_injection_split_over_two_writes(env):
    """The injected line comes after the 220 but before the ClientHello:
    still plaintext, never executed."""
    with env.client() as c:
        c.ehlo()
        c.sendline("STARTTLS")
        c.reply().check(220, "2.0.0")
        c.send(b"MAIL FROM:<x@y.test>\r\n")
        time.sleep(0.1)
        try:
            c.starttls(env.tls_context())
            c.sendline("EHLO client.test")
            r = c.reply()
        except (OSError, EOFError):
            r = None  # the handshake failed: the server refused the line
        if r is not None:
            r.check(250)
            c.cmd("MAIL FROM:<x@y.test>").check(250, "2.1.0")
