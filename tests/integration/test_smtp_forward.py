"""Aliases that point to other servers (issue #4's delivery through
aliases, with #7's queue): mail an mx accepts for such an alias is
forwarded through the queue with the original envelope sender, its
NOTIFY, and the alias as its ORCPT (RFC 3461 4.2); local targets of the
same alias get their copy; without a queue the alias is 451, never
dropped. A message carrying more Received fields than max_hops is a
mail loop (RFC 5321 6.3): 554 5.4.6, stored nowhere."""

import json
import re

import pytest

from smtp_helpers import ALIASES, Ctl, message, start_smtp

BOB = "bob@example.test"
FRIEND = "friend@remote.test"
FAR = "far@other.test"
SENDER = "sender@sender.test"
FORWARDS = ALIASES + [("fwd@example.test", FRIEND),
                      ("both@example.test", BOB),
                      ("both@example.test", FAR)]


def queued(env):
    ctl = Ctl(env.poshtad, load=("queue_sqlite",), body="")
    out = ctl.ok("queue", "list", "--json")
    msgs = [json.loads(line) for line in out.splitlines()]
    return [ctl.run("queue", "show", m["id"], "--body") for m in msgs]


def send(env, rcpts, data, mail="MAIL FROM:<%s>" % SENDER):
    with env.client("smtp") as c:
        c.ehlo()
        c.cmd(mail).check(250)
        for r in rcpts:
            c.cmd("RCPT TO:" + r).check(250, "2.1.5")
        c.cmd("DATA").check(354)
        c.send(data + b".\r\n")
        r = c.reply()
        c.quit()
    return r


@pytest.fixture
def env(poshtad):
    return start_smtp(poshtad, aliases=FORWARDS, queue=True)


def test_alias_to_remote_is_forwarded(env):
    msg = message(sender=SENDER, to="fwd@example.test", subject="fwd")
    send(env, ["<fwd@example.test> NOTIFY=FAILURE"], msg).check(250, "2.0.0")
    [raw] = queued(env)
    text, body = raw.decode(errors="replace").split("\n\n", 1)
    for line in ("sender:         " + SENDER,
                 "  address:      " + FRIEND, "  kind:         remote",
                 "  orcpt:        rfc822;fwd@example.test",
                 "  notify:       FAILURE"):
        assert "\n" + line + "\n" in text, (line, text)
    assert raw.endswith(msg)


def test_local_and_remote_targets_of_one_alias(env):
    msg = message(sender=SENDER, to="both@example.test", subject="both")
    # The client's ORCPT is kept as it is.
    send(env, ["<both@example.test> ORCPT=rfc822;list@sender.test"],
         msg).check(250, "2.0.0")
    assert env.count(BOB) == 1
    [raw] = queued(env)
    text = raw.decode(errors="replace").split("\n\n", 1)[0]
    assert re.findall(r"\n  address:      (\S+)\n", text) == [FAR], text
    assert "\n  orcpt:        rfc822;list@sender.test\n" in text, text


def test_without_a_queue_the_alias_waits(poshtad):
    env = start_smtp(poshtad, aliases=FORWARDS)
    with env.client("smtp") as c:
        c.ehlo()
        c.cmd("MAIL FROM:<%s>" % SENDER).check(250)
        c.cmd("RCPT TO:<fwd@example.test>").check(451, "4.3.0")
        c.cmd("RCPT TO:<%s>" % BOB).check(250)
        c.quit()


def looped(hops):
    trace = b"".join(b"Received: from hop%d.test by hop%d.test; "
                     b"Sat, 28 Nov 2026 00:00:00 +0000\r\n" % (i, i + 1)
                     for i in range(hops))
    return trace + message(sender=SENDER, to=BOB, subject="hops %d" % hops)


def test_mail_loop_is_refused(env):
    with env.client("smtp") as c:
        c.ehlo()
        c.cmd("MAIL FROM:<%s>" % SENDER).check(250)
        c.cmd("RCPT TO:<fwd@example.test>").check(250)
        c.cmd("DATA").check(354)
        c.send(looped(101) + b".\r\n")
        c.reply().check(554, "5.4.6")
        c.quit()
    # At the limit it is mail like any other.
    send(env, ["<%s>" % BOB], looped(100)).check(250, "2.0.0")
    [got] = env.ctl.messages(BOB)
    assert b"hops 100" in got
    assert queued(env) == []  # (queued() rewrites the ctl's config)
