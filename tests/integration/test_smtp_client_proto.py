"""The outbound SMTP client's pure half (modules/smtp/client_*.c) over a
real socket: tests/unit/smtp_client_cli (built by make check) drives it
against a scripted server written here (socketserver: the standard
library has no SMTP server since Python 3.12's smtpd removal, and
aiosmtpd is not a dependency), which checks what the client sends and
when, and against poshtad's own smtp.so, whose mailbox must then hold
the message byte for byte."""

import os
import socket
import socketserver
import subprocess
import threading

import pytest

from conftest import BUILDDIR, TIMEOUT, clean_env, run
from smtp_helpers import body, start_smtp

CLI = os.path.join(BUILDDIR, "tests", "unit", "smtp_client_cli")

# Lines that start with a dot, and one that is only a dot: stuffed on
# the wire, whole in the mailbox.
MESSAGE = (b"From: sender@remote.test\r\nTo: alice@example.test\r\n"
           b"Subject: outbound\r\n\r\n.hidden\r\n.\r\nmiddle\r\n..two\r\n"
           b"end\r\n")


@pytest.fixture(scope="module")
def cli():
    if not os.access(CLI, os.X_OK):
        run(["make", "-C", BUILDDIR, "tests/unit/smtp_client_cli"],
            "building smtp_client_cli", env=clean_env())
    return CLI


def send(cli, port, sender, rcpts, data=MESSAGE, args=()):
    """Run the client; its RESULT lines as {(msg, index): (outcome,
    text)}, and its END line's text."""
    r = subprocess.run([cli] + list(args) + [str(port), sender] + rcpts,
                       input=data, capture_output=True,
                       timeout=TIMEOUT * 3)
    out = r.stdout.decode()
    assert r.returncode == 0, (r.returncode, out, r.stderr)
    results, end = {}, None
    for line in out.splitlines():
        kind, rest = line.split(" ", 1)
        if kind == "RESULT":
            msg, index, outcome, text = rest.split(" ", 3)
            assert (int(msg), int(index)) not in results, out
            results[(int(msg), int(index))] = (outcome, text)
        elif kind == "END":
            end = rest
    return results, end


def unstuff(data):
    """DATA's octets up to CRLF . CRLF, dot-unstuffed (RFC 5321 4.5.2)."""
    lines = data.split(b"\r\n")
    end = lines.index(b".")
    return b"".join((ln[1:] if ln.startswith(b".") else ln) + b"\r\n"
                    for ln in lines[:end])


class Script(socketserver.BaseRequestHandler):
    """A scripted server: self.server.plan(self) talks; every line the
    client sent is kept in self.server.got."""

    def setup(self):
        self.request.settimeout(TIMEOUT)
        self.buf = b""

    def line(self):
        while b"\r\n" not in self.buf:
            data = self.request.recv(65536)
            assert data, "client closed; got %r" % self.server.got
            self.buf += data
        line, self.buf = self.buf.split(b"\r\n", 1)
        self.server.got.append(line.decode())
        return self.server.got[-1]

    def data(self):
        while b"\r\n.\r\n" not in self.buf:
            chunk = self.request.recv(65536)
            assert chunk, "client closed in DATA"
            self.buf += chunk
        data, self.buf = self.buf.split(b"\r\n.\r\n", 1)
        self.server.data.append(data + b"\r\n.\r\n")

    def say(self, text):
        self.request.sendall(text.encode())

    def handle(self):
        try:
            self.server.plan(self)
        except Exception as e:  # reported by the test, not the thread
            self.server.error = e


@pytest.fixture
def scripted():
    servers = []

    def start(plan):
        srv = socketserver.TCPServer(("127.0.0.1", 0), Script)
        srv.plan, srv.got, srv.data, srv.error = plan, [], [], None
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        servers.append(srv)
        return srv

    yield start
    for srv in servers:
        srv.shutdown()
        srv.server_close()


def talk(cli, scripted, plan, sender, rcpts):
    """The client against a server following plan; the server (its
    lines and data), the results and the end, as send gives them."""
    srv = scripted(plan)
    results, end = send(cli, srv.server_address[1], sender, rcpts)
    assert srv.error is None, srv.error
    return srv, results, end


def end_of_data(s, reply):
    """Read the body, answer reply, then QUIT and 221."""
    s.data()
    s.say(reply)
    assert s.line() == "QUIT"
    s.say("221 2.0.0 bye\r\n")


def pipelined_plan(s):
    s.say("220 mx.scripted ESMTP\r\n")
    assert s.line() == "EHLO client.test"
    s.say("250-mx.scripted\r\n250-PIPELINING\r\n250-SIZE 100000\r\n"
          "250 8BITMIME\r\n")
    # RFC 2920 3.1: the whole group arrives before any reply; a client
    # that waited for MAIL's reply would stall here until the timeout.
    group = [s.line() for _ in range(5)]
    assert group[-1] == "DATA", group
    s.say("250 2.1.0 ok\r\n250 2.1.5 ok\r\n"
          "550-5.1.1 no such\r\n550 5.1.1 user\r\n"
          "451 4.2.0 try later\r\n354 go ahead\r\n")
    end_of_data(s, "250 2.0.0 queued as S1\r\n")


def test_pipelined_group_and_mixed_results(cli, scripted):
    srv, results, end = talk(cli, scripted, pipelined_plan, "s@src.test",
                             ["a@x.test", "b@x.test", "c@x.test"])
    assert srv.got[1:6] == [
        "MAIL FROM:<s@src.test> SIZE=%d" % len(MESSAGE),
        "RCPT TO:<a@x.test>", "RCPT TO:<b@x.test>", "RCPT TO:<c@x.test>",
        "DATA"]
    assert results == {
        (1, 0): ("delivered", "250 2.0.0 queued as S1"),
        (1, 1): ("failed", "550 5.1.1 no such user"),
        (1, 2): ("deferred", "451 4.2.0 try later"),
    }
    assert end == "quit"
    (wire,) = srv.data
    assert b"\r\n..hidden\r\n..\r\nmiddle\r\n...two\r\n" in wire
    assert unstuff(wire) == MESSAGE


def helo_plan(s):
    s.say("220 old.scripted\r\n")
    assert s.line() == "EHLO client.test"
    s.say("502 5.5.1 EHLO not implemented\r\n")
    assert s.line() == "HELO client.test"
    s.say("250 old.scripted\r\n")
    # One command per reply: nothing more may come before each reply.
    for want, reply in (("MAIL FROM:<>", "250 ok\r\n"),
                        ("RCPT TO:<a@x.test>", "250 ok\r\n"),
                        ("DATA", "354 go\r\n")):
        assert s.line() == want
        s.request.settimeout(0.3)
        try:
            early = s.request.recv(1)
        except socket.timeout:
            early = b""
        s.request.settimeout(TIMEOUT)
        assert not early, "sent before the reply to %s" % want
        s.say(reply)
    end_of_data(s, "250 queued\r\n")


def test_helo_fallback_one_at_a_time(cli, scripted):
    srv, results, end = talk(cli, scripted, helo_plan, "", ["a@x.test"])
    assert results == {(1, 0): ("delivered", "250 queued")}
    assert end == "quit"
    assert unstuff(srv.data[0]) == MESSAGE


def shutdown_plan(s):
    s.say("220 mx\r\n")
    s.line()
    s.say("250-mx\r\n250 PIPELINING\r\n")
    for _ in range(4):
        s.line()
    s.say("250 ok\r\n250 ok\r\n421 4.3.2 shutting down\r\n")


def test_421_defers_the_rest(cli, scripted):
    _, results, end = talk(cli, scripted, shutdown_plan, "s@src.test",
                           ["a@x.test", "b@x.test"])
    assert results == {
        (1, 0): ("deferred", "421 4.3.2 shutting down"),
        (1, 1): ("deferred", "421 4.3.2 shutting down"),
    }
    assert end == "421 4.3.2 shutting down"


@pytest.fixture
def env(poshtad):
    return start_smtp(poshtad)


def test_delivery_to_poshtad(cli, env):
    """Two messages on one session (RSET between them) to smtp.so: a
    user gets both, byte for byte; an unknown one fails with smtp.so's
    550 5.1.1; the SIZE limit (1m here) refuses before MAIL."""
    results, end = send(cli, env.port(), "sender@remote.test",
                        ["alice@example.test", "nobody@example.test"],
                        args=["-n", "2"])
    assert end == "quit"
    for msg in (1, 2):
        assert results[(msg, 0)][0] == "delivered", results
        assert results[(msg, 0)][1].startswith("250 2.0.0 "), results
        outcome, text = results[(msg, 1)]
        assert outcome == "failed" and text.startswith("550 5.1.1"), text
    got = env.messages("alice@example.test")
    assert len(got) == 2
    for m in got:
        assert body(m) == body(MESSAGE.replace(b"\r\n", b"\n"))

    results, _ = send(cli, env.port(), "sender@remote.test",
                      ["alice@example.test"], args=["-s", "2000000"])
    assert results[(1, 0)][0] == "failed"
    assert results[(1, 0)][1].startswith("552 5.3.4 message size 2000000")
    assert len(env.messages("alice@example.test")) == 2
