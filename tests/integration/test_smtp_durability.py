"""Every accepted message survives kill -9 of the master and every worker
the instant after the final 250 (issue 4): restart on the same state and
the message is in each recipient's INBOX."""

import pytest

from smtp_helpers import dot_stuff, headers, message, start_smtp

ALICE = "alice@example.test"
BOB = "bob@example.test"

ROUNDS = [
    # (recipients, body size, BDAT)
    ([ALICE], 200, False),
    ([ALICE, BOB], 50 * 1024, False),
    ([BOB], 300 * 1024, True),
    (["postmaster@example.test", BOB], 1000, False),
    ([ALICE], 900 * 1024, True),
]


@pytest.mark.parametrize("workers", [1, 2])
def test_kill9_after_250(poshtad, workers):
    env = start_smtp(poshtad, workers=workers)
    want = {ALICE: [], BOB: []}
    for i, (rcpts, size, bdat) in enumerate(ROUNDS):
        subject = "durable %d" % i
        line = b"%d " % i + b"d" * 70 + b"\r\n"
        data = message(subject=subject,
                       body_text=line * max(1, size // len(line)))
        with env.client() as c:
            c.ehlo()
            c.cmd("MAIL FROM:<sender@remote.test>").check(250)
            for r in rcpts:
                c.cmd("RCPT TO:<%s>" % r).check(250)
            if bdat:
                c.send(b"BDAT %d LAST\r\n" % len(data) + data)
            else:
                c.cmd("DATA").check(354)
                c.send(dot_stuff(data))
            r = c.reply()
            env.kill_all()  # the instant the 250 is read
            r.check(250, "2.0.0")
        for u in rcpts:
            u = ALICE if u.startswith("postmaster@") else u
            want[u].append((subject, data))
        for u, msgs in want.items():
            got = env.messages(u)
            assert [headers(m, "Subject") for m in got] == [
                ["Subject: " + s] for s, _ in msgs], (i, u)
            for m, (_, d) in zip(got, msgs):
                assert m.endswith(d.split(b"\r\n\r\n", 1)[1].replace(
                    b"\r\n", b"\n")), (i, u, "body differs")
        env.restart()
        assert len(poshtad.workers()) >= workers


def test_kill9_under_concurrent_load(poshtad):
    """Several sessions deliver at once (what a group commit batches);
    kill -9 everything as soon as some 250s have come back: every
    message that got its 250 is there after the restart."""
    import threading

    env = start_smtp(poshtad, workers=2)
    acked = []          # subjects whose final 250 was read
    lock = threading.Lock()
    enough = threading.Event()
    stop = threading.Event()

    def session(n):
        try:
            with env.client() as c:
                c.ehlo()
                for i in range(1000):
                    if stop.is_set():
                        return
                    subject = "load %d-%d" % (n, i)
                    c.cmd("MAIL FROM:<sender@remote.test>").check(250)
                    c.cmd("RCPT TO:<%s>" % (ALICE if i % 2 else BOB)
                          ).check(250)
                    c.cmd("DATA").check(354)
                    c.send(dot_stuff(message(subject=subject,
                                             body_text=b"x" * 5000)))
                    r = c.reply()
                    if r.code == 250:
                        with lock:
                            acked.append((subject, ALICE if i % 2 else BOB))
                            if len(acked) >= 40:
                                enough.set()
        except (OSError, EOFError, AssertionError):
            pass  # the server was killed under us

    threads = [threading.Thread(target=session, args=(n,), daemon=True)
               for n in range(10)]
    for t in threads:
        t.start()
    assert enough.wait(60), "only %d messages in 60 s" % len(acked)
    env.kill_all()
    with lock:
        snapshot = list(acked)
    stop.set()
    for t in threads:
        t.join(20)
    stored = {u: {tuple(headers(m, "Subject")) for m in env.messages(u)}
              for u in (ALICE, BOB)}
    missing = [s for s, u in snapshot
               if ("Subject: " + s,) not in stored[u]]
    assert not missing, "acknowledged but lost after kill -9: %r" % missing
    env.restart()
    for u in (ALICE, BOB):
        assert {tuple(headers(m, "Subject"))
                for m in env.messages(u)} >= stored[u]
