"""A worker that dies is replaced, and the master logs why."""

import os
import signal

from conftest import wait_for


def test_killed_worker_is_replaced(poshtad):
    poshtad.start(workers=2)
    workers = poshtad.workers()
    assert len(workers) == 2
    victim = workers[0]
    with poshtad.connect() as c:
        c.expect("+OK Poshta echo ready")
        os.kill(victim, signal.SIGKILL)
        replaced = wait_for(
            "a new worker",
            lambda: (len(poshtad.workers()) == 2
                     and victim not in poshtad.workers()))
        assert replaced
    poshtad.wait_log(r"(?i)\b%d\b.*(signal 9|sigkill|killed)" % victim)
    for _ in range(4):
        with poshtad.connect() as c:
            c.expect("+OK Poshta echo ready")
            c.command("alive", "alive")
    assert poshtad.proc.poll() is None
