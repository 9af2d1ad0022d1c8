"""The bus (tests/modules/bus_probe.c): a message published in one worker
reaches every worker, in the order it was sent; one published locally
(SDK 1.6) reaches only its own worker, before the call returns.
Subscriptions are made in worker_init, so every worker has the same ones
(and a topic none matches is not sent): a later one is refused."""

import re
import time


def test_publish_reaches_every_worker(poshtad):
    poshtad.start(workers=2, load=("echo", "bus_probe"))
    workers = poshtad.workers()
    assert len(workers) == 2
    for pid in workers:
        poshtad.wait_log(r"bus_probe: subscribed prefix=test\. pid=%d\b"
                         % pid)
    with poshtad.connect() as c:
        c.expect("+OK Poshta echo ready")
        for n in range(5):
            c.command("publish m%d" % n, "publish m%d" % n)
    sender = int(poshtad.wait_log(
        r"bus_probe: \[[^]]+\] published topic=test\.m0 pid=(\d+)").group(1))
    assert sender in workers
    for pid in workers:
        poshtad.wait_log(r"bus_probe: got test\.m4 pid=%d from=%d\b"
                         % (pid, sender))
        got = re.findall(r"bus_probe: got test\.(m\d) pid=%d\b" % pid,
                         poshtad.log())
        assert got == ["m0", "m1", "m2", "m3", "m4"], (pid, got)


def test_each_worker_gets_one_copy(poshtad):
    poshtad.start(workers=1, load=("echo", "bus_probe"))
    with poshtad.connect() as c:
        c.expect("+OK Poshta echo ready")
        c.command("publish a.b", "publish a.b")
    poshtad.wait_log(r"bus_probe: got test\.a\.b pid=\d+ from=\d+")
    time.sleep(0.3)
    assert poshtad.log().count("got test.a.b ") == 1


def test_local_publish_stays_in_its_worker(poshtad):
    poshtad.start(workers=2, load=("echo", "bus_probe"))
    workers = poshtad.workers()
    for pid in workers:
        poshtad.wait_log(r"bus_probe: subscribed prefix=test\. pid=%d\b"
                         % pid)
    with poshtad.connect() as c:
        c.expect("+OK Poshta echo ready")
        c.command("local l0", "local l0")
        c.command("publish after", "publish after")
    sender = int(poshtad.wait_log(
        r"bus_probe: \[[^]]+\] published locally topic=test\.l0 "
        r"pid=(\d+)").group(1))
    for pid in workers:
        poshtad.wait_log(r"bus_probe: got test\.after pid=%d\b" % pid)
    log = poshtad.log()
    got = re.findall(r"bus_probe: got test\.l0 pid=(\d+) from=(\d+)", log)
    assert got == [(str(sender), str(sender))]
    # Delivered at once: logged before the publisher's own line.
    assert log.index("got test.l0 ") < log.index("published locally")


def test_subscribe_after_worker_init_is_refused(poshtad):
    poshtad.start(workers=2, load=("echo", "bus_probe"))
    with poshtad.connect() as c:
        c.expect("+OK Poshta echo ready")
        c.command("subscribe late.", "subscribe late.")
        c.command("publish after", "publish after")
    m = poshtad.wait_log(r"bus_probe: \[[^]]+\] late subscribe "
                         r"prefix=late\. r=(-?\d+)")
    assert int(m.group(1)) == -6  # PS_ESTATE
    poshtad.wait_log(r'bus_probe: bus: subscribe to "late\." after '
                     r"worker_init: refused")
    # The bus still works for the subscriptions worker_init made.
    for pid in poshtad.workers():
        poshtad.wait_log(r"bus_probe: got test\.after pid=%d\b" % pid)
