"""poshtactl queue list|show|flush|hold|release|delete against the queue
of a running poshtad. Messages are enqueued, leased and given outcomes
through queue_probe.so (tests/modules/queue_probe.c) on an echo
connection; poshtactl reads and changes the same queue_sqlite database
through its own configuration."""

import json
import os
import re
import time

import pytest

from conftest import quote
from smtp_helpers import Ctl

# What queue_probe's "attempt deferred" records as the diagnostic.
DIAG = "451-4.4.1 Try again later\r\n451 4.4.1 Gr\u00f6\u00dfe\tfull"
ISO = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"
UNKNOWN = "0123456789abcdef"


class Probe:
    """queue_probe's commands on one echo connection."""

    def __init__(self, conn):
        self.conn = conn
        conn.expect("+OK Poshta echo ready")

    def _ask(self, line):
        self.conn.sendline(line)
        reply = self.conn.readline()
        assert reply.startswith("-ERR ") and "failed" not in reply, reply
        return reply[5:]

    def enqueue(self, *words):
        m = re.fullmatch(r"queued id=([0-9a-f]{16})",
                         self._ask("enqueue " + " ".join(words)))
        assert m
        return m.group(1)

    def attempt(self, state, domain):
        """How many recipients of domain were due, and got state."""
        m = re.fullmatch(r"attempted (\d+)",
                         self._ask("attempt %s %s" % (state, domain)))
        assert m
        return int(m.group(1))


@pytest.fixture
def queue(poshtad):
    path = os.path.join(poshtad.state, "queue")
    block = "queue_sqlite {\n\tpath %s;\n}\n" % quote(path)
    poshtad.start(load=("echo", "queue_sqlite", "queue_probe"), body=block)
    ctl = Ctl(poshtad, load=("queue_sqlite",), body=block)
    with poshtad.connect() as conn:
        yield ctl, Probe(conn)


def listed(ctl, *args):
    """queue list --json, parsed: the messages by id."""
    out = ctl.ok("queue", "list", "--json", *args)
    return {m["id"]: m for m in map(json.loads, out.splitlines())}


def test_list_text_and_json(queue):
    ctl, probe = queue
    assert ctl.ok("queue", "list") == "queue is empty\n"
    assert ctl.ok("queue", "list", "--json") == ""

    before = int(time.time())
    a = probe.enqueue("bob@a.test")
    b = probe.enqueue("from=", "carol@b.test", "j\u00fcrgen@c.test",
                      "dave@d.test")
    assert probe.attempt("deferred", "b.test") == 1
    assert probe.attempt("delivered", "c.test") == 1
    assert probe.attempt("failed", "d.test") == 1

    lines = ctl.ok("queue", "list").splitlines()
    assert len(lines) == 7, lines
    assert re.fullmatch(r"%s  %s  25  probe@origin\.test" % (a, ISO),
                        lines[0]), lines[0]
    assert re.fullmatch(r"    bob@a\.test  queued  attempts 0  next %s" % ISO,
                        lines[1]), lines[1]
    assert re.fullmatch(r"%s  %s  25  <>" % (b, ISO), lines[2]), lines[2]
    # The diagnostic cut at its first line; the rest said by " ...".
    assert re.fullmatch(r"    carol@b\.test  deferred  attempts 1  next %s"
                        r"  451-4\.4\.1 Try again later \.\.\." % ISO,
                        lines[3]), lines[3]
    assert lines[4] == ("    j\u00fcrgen@c.test  delivered  attempts 1  next -"
                        "  250 2.0.0 Ok")
    # A byte that is not UTF-8 is shown as "?" too.
    assert lines[5] == ("    dave@d.test  failed  attempts 1  next -  550 "
                        "5.1.1 No such user ?")
    assert lines[6] == "2 messages, 2 recipients pending"

    raw = ctl.run("queue", "list", "--json").splitlines()
    assert len(raw) == 2
    # UTF-8 passes as it is; control characters are escaped.
    assert "j\u00fcrgen".encode() in raw[1] and "\u00df".encode() in raw[1]
    assert b"\\u000d\\u000a" in raw[1] and b"\\u0009" in raw[1]
    msgs = listed(ctl)
    assert msgs[a]["sender"] == "probe@origin.test"
    assert msgs[a]["held"] is False and msgs[a]["nrcpts"] == 1
    assert before <= msgs[a]["arrival"] <= time.time()
    assert msgs[a]["size"] == len(b"Subject: probe\r\n\r\nhello\r\n")
    carol, jurgen, dave = msgs[b]["rcpts"]
    assert msgs[b]["sender"] == ""
    assert [r["state"] for r in msgs[b]["rcpts"]] == [
        "deferred", "delivered", "failed"]
    assert jurgen["address"] == "j\u00fcrgen@c.test"
    assert carol["diag"] == DIAG and carol["attempts"] == 1
    assert dave["diag"] == "550 5.1.1 No such user \ufffd"
    assert carol["next_attempt"] >= before + 3600
    assert carol["route"] == "b.test" and carol["kind"] == "remote"


def test_show_envelope_recipients_and_body(queue):
    ctl, probe = queue
    qid = probe.enqueue("from=", "lines=5000", "full", "carol@b.test",
                        "dave@d.test")
    assert probe.attempt("deferred", "b.test") == 1

    out = ctl.ok("queue", "show", qid)
    body = b"Subject: probe\r\n\r\n" + b"".join(
        b"line %08d of the probe\r\n" % i for i in range(5000))
    expected = [
        "id:             " + qid,
        "sender:         <>",
        "ret:            hdrs",
        "envid:          QQ314159",
        "flags:          SMTPUTF8 8BITMIME REQUIRETLS",
        "arrival:        TIME",
        "size:           %d" % len(body),
        "user:           alice@example.test",
        "client:         mx.origin.test [192.0.2.1]",
        "held:           no",
        "recipients:     2",
        "recipient 0:",
        "  address:      carol@b.test",
        "  kind:         remote",
        "  user:         -",
        "  route:        b.test",
        "  orcpt:        rfc822;carol@b.test",
        "  notify:       FAILURE DELAY",
        "  state:        deferred",
        "  attempts:     1",
        "  next attempt: TIME",
        "  last attempt: TIME",
        # Every line of the diagnostic, under the first; the tab shown.
        "  diagnostic:   451-4.4.1 Try again later",
        "                451 4.4.1 Gr\u00f6\u00dfe?full",
        "  report:       -",
        "  lease:        -",
        "  lease until:  -",
        "recipient 1:",
        "  address:      dave@d.test",
        "  kind:         remote",
        "  user:         -",
        "  route:        d.test",
        "  orcpt:        rfc822;dave@d.test",
        "  notify:       FAILURE DELAY",
        "  state:        queued",
        "  attempts:     0",
        "  next attempt: TIME",
        "  last attempt: -",
        "  diagnostic:   -",
        "  report:       -",
        "  lease:        -",
        "  lease until:  -",
    ]
    rx = "\n".join(re.escape(line) for line in expected) + "\n"
    assert re.fullmatch(rx.replace("TIME", ISO), out), out

    # The body after an empty line, octet for octet (several chunks).
    full = ctl.run("queue", "show", qid, "--body")
    assert full == out.encode() + b"\n" + body


def test_hold_stops_leases_until_release(queue):
    ctl, probe = queue
    held = probe.enqueue("bob@a.test")
    other = probe.enqueue("carol@b.test")
    assert ctl.ok("queue", "hold", held) == "held 1 message\n"

    assert listed(ctl)[held]["held"] is True
    assert list(listed(ctl, "--held")) == [held]
    text = ctl.ok("queue", "list", "--held").splitlines()
    assert text[0].startswith(held) and text[0].endswith("  held")
    assert text[-1] == "1 message, 1 recipient pending"
    assert "held:           no\n" in ctl.ok("queue", "show", other)
    assert "held:           yes\n" in ctl.ok("queue", "show", held)
    assert probe.attempt("deferred", "a.test") == 0

    assert ctl.ok("queue", "release", held) == "released 1 message\n"
    assert ctl.ok("queue", "list", "--held") == "no held messages\n"
    assert probe.attempt("deferred", "a.test") == 1


def test_flush_makes_deferred_recipients_due(queue):
    ctl, probe = queue
    one = probe.enqueue("bob@a.test")
    two = probe.enqueue("carol@b.test")
    assert probe.attempt("deferred", "a.test") == 1
    assert probe.attempt("deferred", "b.test") == 1
    later = time.time() + 3000
    assert listed(ctl)[one]["rcpts"][0]["next_attempt"] > later
    # Not due: a lease finds nothing.
    assert probe.attempt("deferred", "a.test") == 0

    assert ctl.ok("queue", "flush", one) == "flushed 1 message\n"
    msgs = listed(ctl)
    assert msgs[one]["rcpts"][0]["next_attempt"] <= time.time()
    assert msgs[two]["rcpts"][0]["next_attempt"] > later
    assert probe.attempt("deferred", "a.test") == 1

    assert ctl.ok("queue", "flush") == "flushed the queue\n"
    assert all(m["rcpts"][0]["next_attempt"] <= time.time()
               for m in listed(ctl).values())
    assert probe.attempt("deferred", "b.test") == 1


def test_delete_goes_on_past_an_unknown_id(queue):
    ctl, probe = queue
    one = probe.enqueue("bob@a.test")
    two = probe.enqueue("carol@b.test")
    r = ctl.result("queue", "delete", one, UNKNOWN, two, code=1)
    assert r.stdout == b"deleted 2 messages\n"
    assert r.stderr == (b"poshtactl: %s: no such message in the queue\n"
                        % UNKNOWN.encode())
    assert ctl.ok("queue", "list") == "queue is empty\n"


@pytest.mark.parametrize("words", [
    ("show",), ("hold",), ("release",), ("delete",), ("flush",)])
def test_unknown_id(queue, words):
    ctl, _ = queue
    r = ctl.result("queue", *words, UNKNOWN, code=1)
    assert r.stderr == (b"poshtactl: %s: no such message in the queue\n"
                        % UNKNOWN.encode())


def test_bad_ids_stop_before_any_call(queue):
    ctl, probe = queue
    qid = probe.enqueue("bob@a.test")
    for bad in ("0123456789ABCDEF", "0123456789abcde", "0123456789abcdef0",
                "../../queue.db", ""):
        r = ctl.result("queue", "hold", qid, bad, code=1)
        assert r.stderr == (b"poshtactl: bad queue id '%s': 16 lower-case "
                            b"hex digits\n" % bad.encode()), r.stderr
        assert r.stdout == b""
    assert listed(ctl)[qid]["held"] is False
    r = ctl.result("queue", "show", "x", code=1)
    assert b"bad queue id 'x'" in r.stderr
    # Missing ids are a usage error.
    r = ctl.result("queue", "delete", code=2)
    assert b"usage: poshtactl [-c FILE] queue delete ID..." in r.stderr
    r = ctl.result("queue", "list", "--body", code=2)
    assert b"unknown option" in r.stderr


def test_no_queue_backend(poshtad):
    ctl = Ctl(poshtad)
    r = ctl.result("queue", "list", code=1)
    assert r.stderr == (b"poshtactl: no queue backend loaded (add one, e.g. "
                        b"'load queue_sqlite;', to %s)\n" % ctl.conf.encode())
