"""Delivery status notifications out of the queue (modules/smtp/bounce.c,
RFC 3464 in an RFC 6522 multipart/report, RFC 3461): a sending poshtad
(queue_sqlite, the outbound runner, users in example.test) gets messages
from queue_probe.so and routes remote.test and far.test to a scripted
SMTP server in this file. A 550 puts a "failed" DSN in the local
sender's INBOX (through an alias too) with the original (RET=FULL) or
its header (RET=HDRS), ENVID and ORCPT echoed; NOTIFY=NEVER gets none;
a server that keeps answering 451 gets one "delayed" DSN, then after
queue_lifetime a "failed" one with status 4.4.7; a success at a server
without DSN is "relayed"; a remote sender's DSN is sent with MAIL
FROM:<> and NOTIFY=NEVER to the scripted server. The same through
submission (AUTH, remote recipients enqueued before the 250): the
envelope's RET, ENVID and ORCPT come back in the DSN, and a submitted
remote sender (sender_login_match off) gets it over SMTP."""

import email
import email.policy
import os
import re
import socket
import threading
import time

import pytest

from conftest import quote, wait_for
from smtp_helpers import Ctl, backends, headers, message, start_smtp
from test_poshtactl_queue import Probe
from test_smtp_enqueue import send, submit_client

SLOW = 30.0  # seconds: waits that span retries and a queue lifetime


class Receiver:
    """A scripted SMTP server on loopback, one thread per connection: RCPT
    gets replies[address] (default 250), DATA is read to its end and
    taken; each transaction is kept (MAIL line, RCPT lines, data)."""

    def __init__(self, replies=None, dsn=True):
        self.replies = dict(replies or {})
        self.dsn = dsn
        self.txns = []
        self.lock = threading.Lock()
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self):
        self.closed = True
        self.sock.close()

    def _accept(self):
        while not self.closed:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,),
                             daemon=True).start()

    def _ehlo(self):
        words = ["rx.test", "PIPELINING", "8BITMIME", "SMTPUTF8",
                 "ENHANCEDSTATUSCODES"] + (["DSN"] if self.dsn else [])
        return "".join("250%s%s\r\n" % ("-" if i < len(words) - 1 else " ",
                                         w) for i, w in enumerate(words))

    def _data(self, f):
        lines = []
        for line in iter(f.readline, b""):
            if line == b".\r\n":
                break
            lines.append(line[1:] if line.startswith(b".") else line)
        return b"".join(lines)

    def _serve(self, conn):
        f = conn.makefile("rb")
        txn = None
        try:
            conn.sendall(b"220 rx.test ESMTP scripted\r\n")
            for raw in iter(f.readline, b""):
                line = raw.decode("utf-8", "replace").rstrip("\r\n")
                verb = line[:4].upper()
                if verb == "EHLO":
                    conn.sendall(self._ehlo().encode())
                elif verb == "MAIL":
                    txn = {"mail": line, "rcpts": [], "ok": 0, "data": b""}
                    conn.sendall(b"250 2.1.0 Ok\r\n")
                elif verb == "RCPT":
                    addr = re.search(r"<([^>]*)>", line).group(1)
                    reply = self.replies.get(addr, "250 2.1.5 Ok")
                    txn["rcpts"].append(line)
                    txn["ok"] += reply.startswith("2")
                    conn.sendall(reply.encode() + b"\r\n")
                elif verb == "DATA":
                    if not txn or not txn["ok"]:
                        conn.sendall(b"554 5.5.1 No valid recipients\r\n")
                        continue
                    conn.sendall(b"354 Go ahead\r\n")
                    txn["data"] = self._data(f)
                    with self.lock:
                        self.txns.append(txn)
                    txn = None
                    conn.sendall(b"250 2.0.0 Ok: taken\r\n")
                elif verb == "QUIT":
                    conn.sendall(b"221 2.0.0 Bye\r\n")
                    return
                else:  # RSET, NOOP, HELO
                    conn.sendall(b"250 2.0.0 Ok\r\n")
        except OSError:
            pass
        finally:
            f.close()
            conn.close()

    def taken(self):
        with self.lock:
            return list(self.txns)


@pytest.fixture
def receiver():
    rx = Receiver()
    yield rx
    rx.close()


class Sender:
    """poshtad with users (example.test), mail, the queue and smtp.so's
    runner; remote.test and far.test routed to port."""

    def __init__(self, poshtad, port, extra=""):
        self.poshtad = poshtad
        qblock = "queue_sqlite {\n\tpath %s;\n}\n" % quote(
            os.path.join(poshtad.state, "queue"))
        # One poshtactl config (Ctl writes one file) for users, mail and
        # the queue.
        self.ctl = Ctl(poshtad, load=("storage_sqlite", "auth_sqlite",
                                      "queue_sqlite"),
                       body=backends(poshtad) + qblock)
        self.ctl.seed()
        smtp = ("smtp {\n\troute remote.test 127.0.0.1:%d;\n"
                "\troute far.test 127.0.0.1:%d;\n\tretry_first 1s;\n"
                "\tretry_max 1s;\n%s}\n" % (port, port, extra))
        poshtad.start(poshtad.config(
            load=("echo", "auth_sqlite", "storage_sqlite", "queue_sqlite",
                  "queue_probe", "smtp"),
            body=backends(poshtad) + qblock + smtp))

    def enqueue(self, *words):
        with self.poshtad.connect() as conn:
            return Probe(conn).enqueue(*words)

    def ids(self):
        out = self.ctl.ok("queue", "list", "--json")
        return {m.split('"id":"', 1)[1][:16] for m in out.splitlines()
                if '"id":"' in m}

    def inbox(self, user):
        return self.ctl.messages(user)

    def wait_inbox(self, user, n, timeout=SLOW):
        wait_for("%d DSN(s) for %s" % (n, user),
                 lambda: len(self.inbox(user)) >= n, timeout=timeout)
        return self.inbox(user)


def parts(msg):
    """The multipart/report's parts (RFC 6522 3): text, status, original."""
    m = email.message_from_bytes(msg.replace(b"\n", b"\r\n"),
                                 policy=email.policy.compat32)
    assert m.get_content_type() == "multipart/report", m["Content-Type"]
    assert m.get_param("report-type") == "delivery-status"
    return m.get_payload()


def field(text, name):
    """The values of field name in text (bytes or str), unfolded."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    text = re.sub(r"\r?\n[ \t]+", " ", text)
    return re.findall(r"(?mi)^%s: ?(.*?)\r?$" % re.escape(name), text)


def test_failed_to_local_sender_with_the_original(poshtad, receiver):
    receiver.replies["bob@remote.test"] = "550 5.1.1 <bob@remote.test>: " \
        "no such user"
    tx = Sender(poshtad, receiver.port)
    qid = tx.enqueue("from=alice@example.test", "ret=full",
                     "envid=QQ314159", "orcpt", "notify=failure",
                     "bob@remote.test")
    (dsn,) = tx.wait_inbox("alice@example.test", 1)
    # RFC 5321 4.4: final delivery of a message with the null sender.
    assert dsn.startswith(b"Return-Path: <>\nReceived: by localhost "
                          b"(Poshta) id %s-" % qid.encode()), dsn[:200]
    assert headers(dsn, "To") == ["To: <alice@example.test>"]
    text, status, original = parts(dsn)
    assert text.get_content_type() == "text/plain"
    assert b"<bob@remote.test>: delivery failed (5.1.1)" in dsn
    assert status.get_content_type() == "message/delivery-status"
    st = dsn.split(b"message/delivery-status", 1)[1]
    assert field(st, "Reporting-MTA") == ["dns; localhost"]
    assert field(st, "Original-Envelope-Id") == ["QQ314159"]
    assert field(st, "Original-Recipient") == ["rfc822; bob@remote.test"]
    assert field(st, "Final-Recipient") == ["rfc822; bob@remote.test"]
    assert field(st, "Action") == ["failed"]
    assert field(st, "Status") == ["5.1.1"]
    assert field(st, "Remote-MTA") == ["dns; 127.0.0.1"]
    assert field(st, "Diagnostic-Code") == [
        "smtp; 550 5.1.1 <bob@remote.test>: no such user"]
    assert field(st, "Last-Attempt-Date")
    # RET=FULL: the whole original.
    assert original.get_content_type() == "message/rfc822"
    assert b"Subject: probe" in dsn and b"\nhello\n" in dsn
    wait_for("the queue to empty", lambda: qid not in tx.ids())
    # Nothing of it went out: the DSN stayed here.
    assert receiver.taken() == []


def test_headers_only_through_an_alias(poshtad, receiver):
    receiver.replies["bob@remote.test"] = "550 5.7.1 refused"
    tx = Sender(poshtad, receiver.port)
    tx.enqueue("from=postmaster@example.test", "ret=hdrs", "bob@remote.test")
    (dsn,) = tx.wait_inbox("alice@example.test", 1)
    assert headers(dsn, "To") == ["To: <postmaster@example.test>"]
    _, _, original = parts(dsn)
    # RFC 3461 4.3 RET=HDRS, RFC 6522 text/rfc822-headers.
    assert original.get_content_type() == "text/rfc822-headers"
    assert b"Subject: probe" in dsn and b"\nhello\n" not in dsn
    assert field(dsn, "Status") == ["5.7.1"]
    assert field(dsn, "Original-Envelope-Id") == []


def test_notify_never_gets_none(poshtad, receiver):
    receiver.replies["bob@remote.test"] = "550 5.1.1 no such user"
    tx = Sender(poshtad, receiver.port)
    never = tx.enqueue("from=alice@example.test", "notify=never",
                       "bob@remote.test")
    wait_for("the first to go", lambda: never not in tx.ids())
    tx.enqueue("from=carol@example.test", "bob@remote.test")
    tx.wait_inbox("carol@example.test", 1)
    assert tx.inbox("alice@example.test") == []


def test_delayed_once_then_expired(poshtad, receiver):
    receiver.replies["bob@remote.test"] = "451 4.3.0 Try again later"
    tx = Sender(poshtad, receiver.port,
                "\tdelay_warning 2s;\n\tqueue_lifetime 5s;\n")
    qid = tx.enqueue("from=alice@example.test", "ret=full",
                     "bob@remote.test")
    delayed, failed = tx.wait_inbox("alice@example.test", 2)
    assert field(delayed, "Action") == ["delayed"]
    assert field(delayed, "Status") == ["4.3.0"]
    assert field(delayed, "Will-Retry-Until")
    assert field(delayed, "Diagnostic-Code") == [
        "smtp; 451 4.3.0 Try again later"]
    # RFC 3461 4.3: no failure, so the header only, whatever RET says.
    assert b"\nhello\n" not in delayed
    assert field(failed, "Action") == ["failed"]
    # RFC 3463 3.5: delivery time expired; the last answer kept.
    assert field(failed, "Status") == ["4.4.7"]
    assert field(failed, "Diagnostic-Code") == [
        "smtp; 451 4.3.0 Try again later"]
    assert b"Delivery time expired" in failed
    assert b"5 seconds" in failed.replace(b"\n    ", b" ")
    assert b"\nhello\n" in failed
    wait_for("the queue to empty", lambda: qid not in tx.ids())
    time.sleep(1.5)
    assert len(tx.inbox("alice@example.test")) == 2


def test_relayed_to_a_server_without_dsn(poshtad):
    rx = Receiver(dsn=False)
    try:
        tx = Sender(poshtad, rx.port)
        tx.enqueue("from=alice@example.test", "notify=success",
                   "bob@remote.test")
        (dsn,) = tx.wait_inbox("alice@example.test", 1)
    finally:
        rx.close()
    assert len(rx.taken()) == 1
    # RFC 3461 6.2.3.2 / RFC 3464 2.3.3: relayed, not delivered.
    assert field(dsn, "Action") == ["relayed"]
    assert field(dsn, "Status") == ["2.0.0"]
    assert b"\nhello\n" not in dsn


def test_remote_sender_gets_it_with_the_null_sender(poshtad, receiver):
    receiver.replies["bob@remote.test"] = "550 5.1.1 no such user"
    tx = Sender(poshtad, receiver.port)
    tx.enqueue("from=sam@far.test", "envid=E1", "bob@remote.test")
    wait_for("the DSN at far.test", lambda: receiver.taken(), timeout=SLOW)
    (txn,) = receiver.taken()
    # RFC 3461 6.1, RFC 5321 4.5.5: the null sender; NOTIFY=NEVER.
    assert txn["mail"].upper().startswith("MAIL FROM:<>"), txn
    (rcpt,) = txn["rcpts"]
    assert rcpt.upper().startswith("RCPT TO:<SAM@FAR.TEST>"), rcpt
    assert "NOTIFY=NEVER" in rcpt.upper(), rcpt
    data = txn["data"]
    assert b"report-type=delivery-status" in data
    assert field(data, "To") == ["<sam@far.test>"]
    assert field(data, "Action") == ["failed"]
    assert field(data, "Status") == ["5.1.1"]
    assert field(data, "Original-Envelope-Id") == ["E1"]
    assert b"hello" in data
    # Nothing reports on the DSN itself.
    wait_for("the queue to empty", lambda: tx.ids() == set())


def submission(poshtad, port, login_match="on"):
    """A server with users, submission and the runner, remote.test and
    far.test routed to port (smtp_opts writes one line per key: the
    second route rides in the first's value)."""
    return start_smtp(poshtad, listeners=("submission",), queue=True,
                      smtp_opts={"route": "remote.test 127.0.0.1:%d;\n"
                                 "\troute far.test 127.0.0.1:%d" % (
                                     port, port),
                                 "retry_first": "1s", "retry_max": "1s",
                                 "sender_login_match": login_match})


def test_submitted_then_bounced_to_the_inbox(poshtad, receiver):
    receiver.replies["bob@remote.test"] = "550 5.1.1 no such user"
    env = submission(poshtad, receiver.port)
    c, _ = submit_client(env)
    send(c, message(sender="alice@example.test", to="bob@remote.test"),
         mail="MAIL FROM:<alice@example.test> RET=HDRS ENVID=SUB+2B1",
         rcpts=("<bob@remote.test> NOTIFY=FAILURE "
                "ORCPT=rfc822;Bob@remote.test",)).check(250)
    wait_for("the DSN", lambda: env.ctl.messages("alice@example.test"),
             timeout=SLOW)
    (dsn,) = env.ctl.messages("alice@example.test")
    assert dsn.startswith(b"Return-Path: <>\n"), dsn[:100]
    _, _, original = parts(dsn)
    assert original.get_content_type() == "text/rfc822-headers"
    assert field(dsn, "Original-Envelope-Id") == ["SUB+1"]
    assert field(dsn, "Original-Recipient") == ["rfc822; Bob@remote.test"]
    assert field(dsn, "Final-Recipient") == ["rfc822; bob@remote.test"]
    assert field(dsn, "Action") == ["failed"]
    assert field(dsn, "Status") == ["5.1.1"]
    assert field(dsn, "Diagnostic-Code") == [
        "smtp; 550 5.1.1 no such user"]
    # The submission's own trace field is in the returned header.
    assert b"Subject: test" in dsn and b"\nHello.\n" not in dsn


def test_submitted_remote_sender_gets_it_over_smtp(poshtad, receiver):
    receiver.replies["bob@remote.test"] = "550 5.1.1 no such user"
    env = submission(poshtad, receiver.port, login_match="off")
    c, _ = submit_client(env)
    send(c, message(sender="sam@far.test", to="bob@remote.test"),
         mail="MAIL FROM:<sam@far.test>", rcpts=("bob@remote.test",)
         ).check(250)
    wait_for("the DSN at far.test", lambda: receiver.taken(), timeout=SLOW)
    (txn,) = receiver.taken()
    assert txn["mail"].upper().startswith("MAIL FROM:<>"), txn
    assert txn["rcpts"][0].upper().startswith("RCPT TO:<SAM@FAR.TEST>")
    assert field(txn["data"], "Status") == ["5.1.1"]
    assert b"\nHello.\r\n" in txn["data"]
