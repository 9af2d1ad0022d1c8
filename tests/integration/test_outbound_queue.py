"""The outbound queue over time (issue #7), end to end on loopback, over
static routes (no DNS): a 451 then a 250 on the retry (retry_first 1s)
delivers once, two sessions seen; a message deferred while the receiver
is down survives the sender's restart and is delivered when both are up
again; two messages waiting for one destination go over one session
(the runner's batches per destination: several messages, RSET between)."""

import time

import pytest

from outbound_helpers import msg, poll, World
from outbound_helpers import scripted  # noqa: F401 (a fixture)

RETRY_MX = "127.0.0.5"
REUSE_MX = "127.0.0.7"
RESTART_MX = "127.0.0.2"


@pytest.fixture(scope="module")
def world(sdk, certs, tmp_path_factory):
    w = World(sdk, certs, str(tmp_path_factory.mktemp("outbound-queue")))
    try:
        w.out = w.sender(dns=False, smtp=[
            "route retry.test %s" % RETRY_MX,
            "route reuse.test %s" % REUSE_MX,
            "route restart.test %s" % RESTART_MX,
        ])
        yield w
    finally:
        w.close()


@pytest.fixture(autouse=True)
def running(world):
    """The sender is up at each test's start, even after a test that
    stopped it failed midway."""
    if world.out.poshtad.proc.poll() is not None:
        world.out.start()


def test_4xx_then_delivered_on_retry(world, scripted):
    mx = scripted(RETRY_MX, world.port, hold_from=1,
                  data_replies=["451 4.3.0 Try again later"])
    to = "bob@retry.test"
    world.out.submit([to], msg("retried", to))
    # The retry is held at its greeting: the first attempt is recorded.
    poll("the retry", lambda: len(mx.sessions) >= 2)
    r = world.out.recipient(to)[1]
    assert r["state"] == "deferred" and r["attempts"] == 1, r
    assert r["diag"] == "%s[%s]: 451 4.3.0 Try again later" % (
        RETRY_MX, RETRY_MX), r
    mx.release.set()
    # Delivered: the recipient leaves the queue.
    world.out.wait_state(to, (None,))
    tries = mx.rcpt_sessions(to)
    assert len(tries) == 2, tries
    assert all(len(s.data) == 1 for s in tries), tries
    assert all(b"Subject: retried\r\n" in s.data[0] for s in tries)
    assert all("<alice@local.test>" in s.mails[0] for s in tries), tries


def test_restart_with_a_deferred_message(world):
    rx = world.receiver(RESTART_MX, ["restart.test"], start=False,
                        name="restart")
    to = "bob@restart.test"
    world.out.submit([to], msg("across a restart", to))
    r = world.out.wait_state(to, ("deferred",))
    assert r["diag"].startswith("%s[%s]: 4" % (RESTART_MX, RESTART_MX)), r
    qid, _ = world.out.recipient(to)
    shown = world.out.show(qid)
    assert "state:        deferred" in shown, shown
    assert "diagnostic:   %s[%s]: 4" % (RESTART_MX, RESTART_MX) in shown, \
        shown
    world.out.stop()
    rx.start()
    try:
        world.out.start()
        rx.wait(to, "across a restart")
        world.out.wait_state(to, (None,))
        assert len(rx.find(to, "across a restart")) == 1
    finally:
        rx.stop()


def test_two_messages_one_session(world, scripted):
    # Nobody at REUSE_MX yet: both messages wait in the queue.
    a, b = "a@reuse.test", "b@reuse.test"
    world.out.submit([a], msg("reuse one", a))
    world.out.submit([b], msg("reuse two", b))
    world.out.wait_attempts(a, 1)
    world.out.wait_attempts(b, 1)
    world.out.stop()
    # Both due before the sender comes back: its first lease takes both.
    poll("both due", lambda: all(
        world.out.recipient(x)[1]["next_attempt"] <= time.time()
        for x in (a, b)))
    mx = scripted(REUSE_MX, world.port)
    world.out.start()
    world.out.wait_state(a, (None,))
    world.out.wait_state(b, (None,))
    (s,) = mx.sessions
    assert len(s.mails) == 2 and len(s.data) == 2, s
    assert sorted(r.split(":", 1)[1] for r in s.rcpts) == [
        "<%s>" % a, "<%s>" % b], s.rcpts
