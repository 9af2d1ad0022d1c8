"""Outbound connections and fd watches (SDK 1.4), through
tests/modules/connect_probe.c: a "probe" listener whose commands make the
worker connect to small Python servers on loopback, and report what the
client protocol saw (OPEN, LINE, TLS, CLOSED why)."""

import re
import signal
import socket
import ssl
import threading

import pytest

from conftest import TIMEOUT, LineClient

TLS_LINE = re.compile(r"TLS (TLSv1\.[23]) (\S+) verified=([01])$")


class Server:
    """One connection on a loopback port, served by talk(LineClient) in a
    thread; ctx wraps it in TLS first. An assertion in talk fails the test
    at join()."""

    def __init__(self, talk, ctx=None):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.sock.settimeout(TIMEOUT)
        self.port = self.sock.getsockname()[1]
        self.error = None
        self.thread = threading.Thread(target=self._run, args=(talk, ctx),
                                       daemon=True)
        self.thread.start()

    def _run(self, talk, ctx):
        try:
            conn, _ = self.sock.accept()
            if ctx is not None:
                conn.settimeout(TIMEOUT)
                conn = ctx.wrap_socket(conn, server_side=True)
            with LineClient(conn) as c:
                talk(c)
        except BaseException as e:  # reported by join()
            self.error = e

    def join(self, failed_handshake=False):
        """Wait for the thread; failed_handshake: the client was to abort
        the TLS handshake, which fails the server's side."""
        self.thread.join(TIMEOUT)
        self.sock.close()
        assert not self.thread.is_alive(), "server thread still running"
        if failed_handshake:
            assert isinstance(self.error, (ssl.SSLError, OSError)), \
                self.error
        elif self.error:
            raise self.error


def server_context(certs):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(certs.cert, certs.key)
    return ctx


def start(poshtad):
    poshtad.start(load=("connect_probe",),
                  listen={"probe": {"protocol": "probe"}})
    c = poshtad.connect("probe")
    c.expect("PROBE ready")
    return c


def connect(c, port, opts=""):
    """CONNECT; returns the outbound connection's id."""
    c.sendline(("CONNECT 127.0.0.1 %d %s" % (port, opts)).strip())
    line = c.readline()
    assert line.startswith("OK "), line
    return line[3:]


def expect_tls(c, verified):
    m = TLS_LINE.match(c.readline())
    assert m, "no TLS line"
    assert m.group(3) == verified
    return m


def until_eof(c):
    """What the peer sends until it closes."""
    lines = []
    try:
        while True:
            lines.append(c.readline())
    except EOFError:
        return lines


def test_plain_lines_both_ways(poshtad):
    def talk(s):
        s.sendline("220 hello")
        s.expect("EHLO probe")
        s.sendline("250 ok")
        s.expect("QUIT")
        s.sendline("221 bye")

    srv = Server(talk)
    with start(poshtad) as c:
        cid = connect(c, srv.port)
        c.expect("OPEN")
        c.expect("LINE 220 hello")
        c.sendline("SEND EHLO probe")
        c.expect("LINE 250 ok")
        c.sendline("SEND QUIT")
        c.expect("LINE 221 bye")
        c.expect("CLOSED closed by the peer")
    srv.join()
    poshtad.wait_log(r"connect_probe: \[%s\] connect to 127\.0\.0\.1 "
                     r"port=%d protocol=probe_client tls=none"
                     % (re.escape(cid), srv.port))
    poshtad.wait_log(r"\[%s\] disconnect: closed by the peer"
                     % re.escape(cid))


def test_close_from_the_module(poshtad):
    def talk(s):
        s.sendline("220 hello")
        assert until_eof(s) == []

    srv = Server(talk)
    with start(poshtad) as c:
        connect(c, srv.port)
        c.expect("OPEN")
        c.expect("LINE 220 hello")
        c.sendline("CLOSE")
        c.expect("CLOSED closed")
    srv.join()


def test_refused(poshtad):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with start(poshtad) as c:
        connect(c, port)
        c.expect("CLOSED connection refused")


def test_not_a_numeric_address(poshtad):
    with start(poshtad) as c:
        c.command("CONNECT localhost 25", "ERR connect: 'localhost' is not a "
                  "numeric IPv4 or IPv6 address")
        c.command("CONNECT 127.0.0.1 25 source=::1", "ERR connect: source "
                  "'::1' is not a numeric address of the destination's "
                  "family")
        c.command("CONNECT 127.0.0.1 25 tls=1 verify=1", "ERR TLS: verify "
                  "needs a server_name")


def test_connect_timeout(poshtad):
    """A listener whose accept queue is full drops further SYNs (Linux):
    the connect never completes."""
    with socket.socket() as full:
        full.bind(("127.0.0.1", 0))
        full.listen(0)
        port = full.getsockname()[1]
        fillers = []
        for _ in range(3):
            f = socket.socket()
            f.setblocking(False)
            f.connect_ex(("127.0.0.1", port))
            fillers.append(f)
        try:
            with start(poshtad) as c:
                connect(c, port, "timeout=300")
                c.expect("CLOSED timed out")
        finally:
            for f in fillers:
                f.close()


def test_implicit_tls_timeout(poshtad):
    """A server that accepts and never answers the ClientHello."""
    done = threading.Event()
    srv = Server(lambda s: done.wait(TIMEOUT))
    with start(poshtad) as c:
        connect(c, srv.port, "timeout=300 tls=1 verify=0")
        c.expect("CLOSED TLS: timed out")
    done.set()
    srv.join()


def test_implicit_tls_verified(poshtad, certs):
    def talk(s):
        s.sendline("hello over tls")
        s.expect("bye over tls")

    srv = Server(talk, server_context(certs))
    with start(poshtad) as c:
        connect(c, srv.port, "tls=1 verify=1 name=localhost ca=" + certs.cert)
        c.expect("OPEN")
        m = expect_tls(c, "1")
        assert m.group(2).startswith(("TLS_", "ECDHE-")), m.group(2)
        c.expect("LINE hello over tls")
        c.sendline("SEND bye over tls")
        c.expect("CLOSED closed by the peer")
    srv.join()


def test_implicit_tls_wrong_name(poshtad, certs):
    srv = Server(lambda s: None, server_context(certs))
    with start(poshtad) as c:
        connect(c, srv.port, "tls=1 verify=1 name=wrong.test ca=" + certs.cert)
        c.expect("CLOSED TLS: hostname mismatch")
    srv.join(failed_handshake=True)


def test_implicit_tls_unknown_ca(poshtad, certs):
    srv = Server(lambda s: None, server_context(certs))
    with start(poshtad) as c:
        connect(c, srv.port,
                "tls=1 verify=1 name=localhost ca=" + certs.other_cert)
        line = c.readline()
        assert line.startswith("CLOSED TLS: certificate verify failed: "), line
    srv.join(failed_handshake=True)


def test_unreadable_ca_file(poshtad, tmp_path):
    with start(poshtad) as c:
        c.sendline("CONNECT 127.0.0.1 25 tls=1 verify=1 name=localhost ca="
                   + str(tmp_path / "missing.pem"))
        line = c.readline()
        assert line.startswith("ERR TLS CA file "), line
        assert "missing.pem" in line


@pytest.mark.parametrize("ca,verified", [(None, "0"), ("cert", "1")])
def test_opportunistic_tls_reports_verification(poshtad, certs, ca,
                                                verified):
    """verify=0 completes the handshake whatever the certificate; the
    check still runs: against the system store a self-signed certificate
    does not verify, against its own CA file it does."""
    def talk(s):
        s.sendline("hi")
        s.expect("bye")

    srv = Server(talk, server_context(certs))
    opts = "tls=1 verify=0 name=localhost"
    if ca:
        opts += " ca=" + certs.cert
    with start(poshtad) as c:
        connect(c, srv.port, opts)
        c.expect("OPEN")
        expect_tls(c, verified)
        c.expect("LINE hi")
        c.sendline("SEND bye")
        c.expect("CLOSED closed by the peer")
    srv.join()


def starttls_server(certs, after):
    """SMTP-shaped: a greeting, STARTTLS, and a go-ahead followed in the
    same packet by a line that must never reach the client protocol."""
    def talk(s):
        s.sendline("220 hello")
        s.expect("STARTTLS")
        s.send("220 go ahead\r\n250 injected\r\n")
        s.sock = server_context(certs).wrap_socket(s.sock, server_side=True)
        after(s)

    return Server(talk)


def test_client_starttls_discards_plaintext(poshtad, certs):
    def after(s):
        s.sendline("250 after tls")
        s.expect("QUIT")

    srv = starttls_server(certs, after)
    with start(poshtad) as c:
        cid = connect(c, srv.port)
        c.expect("OPEN")
        c.expect("LINE 220 hello")
        c.command("STARTTLS verify=1 name=localhost ca=" + certs.cert, "OK")
        c.sendline("SEND STARTTLS")
        c.expect("LINE 220 go ahead")
        m = expect_tls(c, "1")
        assert m.group(1) in ("TLSv1.2", "TLSv1.3")
        c.expect("LINE 250 after tls")
        c.sendline("SEND QUIT")
        c.expect("CLOSED closed by the peer")
    srv.join()
    poshtad.wait_log(r"\[%s\] STARTTLS: discarded plaintext sent before the "
                     r"handshake bytes=14\b" % re.escape(cid))


def test_client_starttls_hostname_mismatch(poshtad, certs):
    def talk(s):
        s.sendline("220 hello")
        s.expect("STARTTLS")
        s.sendline("220 go ahead")
        server_context(certs).wrap_socket(s.sock, server_side=True)

    srv = Server(talk)
    with start(poshtad) as c:
        connect(c, srv.port)
        c.expect("OPEN")
        c.expect("LINE 220 hello")
        c.command("STARTTLS verify=1 name=wrong.test ca=" + certs.cert, "OK")
        c.sendline("SEND STARTTLS")
        c.expect("LINE 220 go ahead")
        c.expect("CLOSED TLS: hostname mismatch")
    srv.join(failed_handshake=True)


def test_watch_socketpair(poshtad):
    with start(poshtad) as c:
        c.command("WATCH", "OK")
        c.expect("WATCH read")
        c.expect("WATCH write")
        c.expect("WATCH removed")
        c.expect("WATCH done calls=2")


@pytest.mark.parametrize("shutdown", ["quit", "none"])
def test_sigterm_with_an_open_client_connection(poshtad, shutdown):
    """SIGTERM drains outbound connections too: on_shutdown says goodbye,
    or the core closes the idle connection; the worker exits cleanly."""
    got = []
    srv = Server(lambda s: (s.sendline("220 hello"), got.extend(until_eof(s))))
    c = start(poshtad)
    try:
        cid = connect(c, srv.port, "shutdown=" + shutdown)
        c.expect("OPEN")
        c.expect("LINE 220 hello")
        poshtad.signal(signal.SIGTERM)
        srv.join()
        assert poshtad.proc.wait(TIMEOUT) == 0
    finally:
        c.close()
    assert got == (["QUIT"] if shutdown == "quit" else [])
    poshtad.wait_log(r"\[%s\] disconnect: %s" % (
        re.escape(cid), "closed" if shutdown == "quit" else
        "server draining"))
