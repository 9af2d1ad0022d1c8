"""smtp.so's receiving side of outbound mail (issue #7): a logged-in
submission's remote recipients go into the queue (queue_sqlite) before
the 250, with the envelope's RET, ENVID, NOTIFY, ORCPT and flags, the
body led by the Received field and without Return-Path; local recipients
of the same message are still delivered; kill -9 after the 250 keeps the
message; an mx never relays; without a queue, the old 451 4.7.1. And
REQUIRETLS (RFC 8689): offered and accepted only on a TLS session.

The queue has no runner here, but tests assert only on what is in the
queue right after the 250: a runner would defer, not change, it."""

import base64
import json
import re
import pytest

from smtp_helpers import PASSWORDS, Ctl, message, start_smtp

ALICE = "alice@example.test"
BOB = "bob@example.test"
FRIEND = "friend@remote.test"


def plain(user, password):
    return base64.b64encode(("\0%s\0%s" % (user, password)).encode()).decode()


def submit_client(env):
    """A raw client on the submission listener: STARTTLS, EHLO, AUTH."""
    c = env.client("submission")
    c.ehlo()
    c.cmd("STARTTLS").check(220, "2.0.0")
    c.starttls(env.tls_context())
    kws = c.ehlo().keywords()
    c.cmd("AUTH PLAIN " + plain(ALICE, PASSWORDS[ALICE])).check(235)
    return c, kws


def send(c, data, mail="MAIL FROM:<%s>" % ALICE, rcpts=(FRIEND,)):
    c.cmd(mail).check(250)
    for r in rcpts:
        c.cmd("RCPT TO:<%s>" % r if "<" not in r else "RCPT TO:" + r).check(
            250, "2.1.5")
    c.cmd("DATA").check(354)
    c.send(data + b".\r\n")
    return c.reply()


def queue_ctl(env):
    return Ctl(env.poshtad, load=("queue_sqlite",), body="")


def queued(env):
    """The queue's messages (queue list --json), oldest first."""
    out = queue_ctl(env).ok("queue", "list", "--json")
    return [json.loads(line) for line in out.splitlines()]


def show(env, qid):
    """queue show: the envelope text, and the body."""
    raw = queue_ctl(env).run("queue", "show", qid, "--body")
    text, body = raw.split(b"\n\n", 1)
    return text.decode(), body


@pytest.fixture
def env(poshtad):
    return start_smtp(poshtad, listeners=("smtp", "submission"), queue=True,
                      extra={"clear": {"protocol": "smtp",
                                       "role": "submission",
                                       "tls": "starttls",
                                       "auth_plaintext": "allow"}})


def test_remote_and_local_recipients(env):
    msg = message(sender=ALICE, to=FRIEND, subject="outbound")
    c, kws = submit_client(env)
    with c:
        assert "REQUIRETLS" in kws, kws
        r = send(c, msg, mail="MAIL FROM:<%s> RET=HDRS ENVID=QQ314159 "
                 "BODY=8BITMIME SMTPUTF8 REQUIRETLS" % ALICE,
                 rcpts=("<%s> NOTIFY=FAILURE,DELAY ORCPT=rfc822;%s"
                        % (FRIEND, FRIEND), BOB))
        r.check(250, "2.0.0")
        c.quit()
    # The local recipient got it as before.
    assert env.count(BOB) == 1
    [m] = queued(env)
    text, body = show(env, m["id"])
    for line in ("sender:         " + ALICE, "ret:            hdrs",
                 "envid:          QQ314159",
                 "flags:          SMTPUTF8 8BITMIME REQUIRETLS",
                 "user:           " + ALICE,
                 "client:         client.test [127.0.0.1]",
                 "recipients:     1", "  address:      " + FRIEND,
                 "  kind:         remote", "  route:        remote.test",
                 "  orcpt:        rfc822;" + FRIEND,
                 "  notify:       FAILURE DELAY"):
        assert "\n" + line + "\n" in text, (line, text)
    # Received first, no Return-Path (final delivery adds it), then the
    # message as sent.
    assert body.startswith(b"Received: from client.test ([127.0.0.1])"), body
    assert b"Return-Path" not in body
    assert body.endswith(msg)


def test_only_remote_plain_envelope(env):
    msg = message(sender=ALICE, to=FRIEND, subject="just out")
    c, _ = submit_client(env)
    with c:
        send(c, msg).check(250, "2.0.0")
    [m] = queued(env)
    text, body = show(env, m["id"])
    for line in ("ret:            none", "envid:          -",
                 "flags:          -", "  orcpt:        -",
                 "  notify:       -"):
        assert "\n" + line + "\n" in text, (line, text)
    assert body.endswith(msg)
    assert "enqueued id=" in env.poshtad.log()


def test_kill9_after_250_keeps_the_message(env):
    msg = message(sender=ALICE, to=FRIEND, subject="durable")
    c, _ = submit_client(env)
    send(c, msg).check(250, "2.0.0")
    env.kill_all()
    c.close()
    [m] = queued(env)
    assert show(env, m["id"])[1].endswith(msg)


def test_mx_never_relays(env):
    with env.client("smtp") as c:
        c.ehlo()
        c.cmd("MAIL FROM:<sender@remote.test>").check(250)
        c.cmd("RCPT TO:<%s>" % FRIEND).check(550, "5.7.1")
        c.cmd("RCPT TO:<%s>" % BOB).check(250)
        c.quit()
    assert queued(env) == []


def test_requiretls_only_on_tls(env):
    with env.client("clear") as c:
        kws = c.ehlo().keywords()
        assert "REQUIRETLS" not in kws, kws
        c.cmd("AUTH PLAIN " + plain(ALICE, PASSWORDS[ALICE])).check(235)
        c.cmd("MAIL FROM:<%s> REQUIRETLS" % ALICE).check(555, "5.5.4")
        # Without it, relaying works in the clear too (auth_plaintext).
        c.cmd("MAIL FROM:<%s>" % ALICE).check(250)
        c.cmd("RSET").check(250)
        c.quit()
    c, kws = submit_client(env)
    with c:
        assert "REQUIRETLS" in kws
        c.cmd("MAIL FROM:<%s> REQUIRETLS=yes" % ALICE).check(501, "5.5.4")
        send(c, message(sender=ALICE), rcpts=(BOB,),
             mail="MAIL FROM:<%s> REQUIRETLS" % ALICE).check(250, "2.0.0")
    # Local delivery of a REQUIRETLS message is fine.
    assert env.count(BOB) == 1


def test_no_queue_keeps_the_temporary_refusal(poshtad):
    env = start_smtp(poshtad, listeners=("submission",))
    c, _ = submit_client(env)
    with c:
        c.cmd("MAIL FROM:<%s>" % ALICE).check(250)
        r = c.cmd("RCPT TO:<%s>" % FRIEND).check(451, "4.7.1")
        assert "no mail queue" in r.texts[-1], r
