"""smtp.so's outbound runner (modules/smtp/relay*.c) against a receiving
poshtad: messages put in the queue by queue_probe.so (no submission
needed) are leased, delivered over a static route, retried after a
refused connection with the configured backoff, failed on a 5xx with the
reply kept, and released when the sender stops. The sender's queue is
read with `poshtactl queue`."""

import json
import os
import socket
import time

import pytest

from conftest import Poshtad, free_port, quote, wait_for
from outbound_helpers import ScriptedMX
from smtp_helpers import Ctl, start_smtp
from test_poshtactl_queue import Probe


class Sender:
    """poshtad with smtp.so's runner, queue_sqlite and queue_probe."""

    def __init__(self, poshtad, route_port, retry="1s", extra="",
                 route_host="127.0.0.1"):
        self.poshtad = poshtad
        path = os.path.join(poshtad.state, "queue")
        self.block = "queue_sqlite {\n\tpath %s;\n}\n" % quote(path)
        smtp = ("smtp {\n\troute example.test %s:%d;\n"
                "\tretry_first %s;\n\tretry_max %s;\n%s}\n" % (
                    route_host, route_port, retry, retry, extra))
        self.text = poshtad.config(
            load=("echo", "queue_sqlite", "queue_probe", "smtp"),
            body=self.block + smtp)
        self.ctl = Ctl(poshtad, load=("queue_sqlite",), body=self.block)

    def start(self):
        self.poshtad.start(self.text)

    def enqueue(self, *words):
        with self.poshtad.connect() as conn:
            return Probe(conn).enqueue(*words)

    def flush(self):
        """Every waiting recipient due now, with the queue's bus notice
        (poshtactl's flush has no bus: a running runner would wait for
        its timer)."""
        with self.poshtad.connect() as conn:
            probe = Probe(conn)
            conn.sendline("flush")
            assert conn.readline() == "-ERR flushed", probe

    def queue(self):
        out = self.ctl.ok("queue", "list", "--json")
        return {m["id"]: m for m in map(json.loads, out.splitlines())}

    def rcpt(self, qid, index=0):
        return self.queue()[qid]["rcpts"][index]


@pytest.fixture
def receiver(sdk, certs, tmp_path):
    root = tmp_path / "rx"
    root.mkdir()
    server = Poshtad(sdk, certs, str(root))
    server.ports["smtp"] = free_port()
    yield server
    server.stop()


def test_delivered_over_a_route_and_gone_from_the_queue(poshtad, receiver):
    rx = start_smtp(receiver)
    tx = Sender(poshtad, rx.port())
    tx.start()
    qid = tx.enqueue("lines=3000", "bob@example.test")
    wait_for("the delivery", lambda: rx.count("bob@example.test") == 1)
    msg = rx.messages("bob@example.test")[0]
    assert b"Return-Path: <probe@origin.test>" in msg
    # Every line arrived, dot-stuffing undone (RFC 5321 4.5.2).
    for i in (0, 1234, 2999):
        assert b"line %08d of the probe\r\n" % i in msg.replace(
            b"\n", b"\r\n").replace(b"\r\r", b"\r")
    wait_for("the queue to empty", lambda: qid not in tx.queue())
    poshtad.wait_log(r"relay: id=%s to=<bob@example\.test> "
                     r"status=delivered attempt=1" % qid)


def test_refused_then_retried_with_backoff(poshtad, receiver):
    tx = Sender(poshtad, receiver.ports["smtp"])
    tx.start()
    qid = tx.enqueue("bob@example.test")
    wait_for("a deferral", lambda: tx.rcpt(qid)["state"] == "deferred")
    r = tx.rcpt(qid)
    assert r["diag"].startswith("127.0.0.1[127.0.0.1]: 4.4.1 "), r
    assert "refused" in r["diag"], r
    # retry_first 1s, +-20%, in whole seconds.
    assert 1 <= r["next_attempt"] - r["last_attempt"] <= 2, r
    wait_for("a second attempt", lambda: tx.rcpt(qid)["attempts"] >= 2)
    rx = start_smtp(receiver)
    wait_for("the delivery", lambda: rx.count("bob@example.test") == 1)
    wait_for("the queue to empty", lambda: qid not in tx.queue())


def test_failed_on_5xx_with_the_reply(poshtad, receiver):
    rx = start_smtp(receiver)
    tx = Sender(poshtad, rx.port())
    tx.start()
    qid = tx.enqueue("bob@example.test", "nobody@example.test")
    # From the log: once the failure's DSN is made (bounce.c), the
    # message leaves the queue.
    poshtad.wait_log(r'relay: id=%s to=<nobody@example\.test> '
                     r'status=failed attempt=1 diag="127\.0\.0\.1'
                     r'\[127\.0\.0\.1\]: 550 5\.1\.1 ' % qid)
    wait_for("the delivery", lambda: rx.count("bob@example.test") == 1)
    wait_for("the queue to drop it", lambda: qid not in tx.queue())


def test_two_messages_share_one_session(poshtad, receiver):
    tx = Sender(poshtad, receiver.ports["smtp"], retry="1h")
    tx.start()
    one = tx.enqueue("bob@example.test")
    two = tx.enqueue("carol@example.test")
    wait_for("both deferred", lambda: all(
        tx.rcpt(q)["state"] == "deferred" for q in (one, two)))
    rx = start_smtp(receiver)
    tx.flush()
    wait_for("both delivered", lambda: rx.counts(
        ("bob@example.test", "carol@example.test")) == {
            "bob@example.test": 1, "carol@example.test": 1})
    # Due together, leased together: one connection took both (RFC 5321
    # 3.3, several transactions in one session).
    assert poshtad.log().count("relay: connected to") == 1


def test_stop_releases_what_was_leased(poshtad, receiver):
    tx = Sender(poshtad, receiver.ports["smtp"], retry="1h")
    tx.start()
    qid = tx.enqueue("bob@example.test")
    wait_for("a deferral", lambda: tx.rcpt(qid)["state"] == "deferred")
    r = tx.rcpt(qid)
    assert r["next_attempt"] > r["last_attempt"] + 2000, r
    poshtad.stop()
    rx = start_smtp(receiver)
    tx.ctl.ok("queue", "flush")
    tx.start()
    wait_for("the delivery after restart",
             lambda: rx.count("bob@example.test") == 1)


def test_stop_mid_session_gives_the_recipients_back(poshtad):
    """A receiver that accepts and never greets holds the session; a
    SIGTERM then gives the recipient back due at once, not leased for
    the lease's 15 minutes nor pushed back by an hour's backoff."""
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    try:
        tx = Sender(poshtad, silent.getsockname()[1], retry="1h")
        tx.start()
        qid = tx.enqueue("bob@example.test")
        conn, _ = silent.accept()
        poshtad.wait_log(r"relay: connected to 127\.0\.0\.1")
        poshtad.stop()
        conn.close()
    finally:
        silent.close()
    r = tx.rcpt(qid)
    assert r["state"] in ("queued", "deferred"), r
    assert r["next_attempt"] <= time.time(), r
    assert r["lease_until"] <= time.time() or not r["lease"], r


def test_delivered_over_ipv6(poshtad):
    """A route to [::1]: the runner connects over IPv6 like over IPv4
    (the resolver's AAAA answers take the same path)."""
    mx = ScriptedMX("::1", free_port())
    try:
        tx = Sender(poshtad, mx.port, route_host="[::1]")
        tx.start()
        qid = tx.enqueue("bob@example.test")
        wait_for("the delivery", lambda: qid not in tx.queue())
        assert len(mx.sessions) == 1, mx.sessions
        assert mx.sessions[0].mails[0].startswith(
            "MAIL FROM:<probe@origin.test>"), mx.sessions[0].mails
        assert b"Subject: probe" in mx.sessions[0].data[0]
        poshtad.wait_log(r"relay: connected to ::1\[::1\]:%d" % mx.port)
    finally:
        mx.close()
