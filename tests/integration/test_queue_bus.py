"""A message enqueued in one worker is announced to every worker through
the bus ("queue/new" with its id), and a flush too ("queue/due"): what
delivery runners in any worker will wake on."""

import os
import re

from conftest import quote, wait_for


def test_enqueue_and_flush_are_announced_to_every_worker(poshtad):
    queue = os.path.join(poshtad.state, "queue")
    poshtad.start(workers=2, load=("echo", "queue_sqlite", "queue_probe"),
                  body="queue_sqlite {\n\tpath %s;\n}\n" % quote(queue))
    workers = poshtad.workers()
    assert len(workers) == 2
    with poshtad.connect() as c:
        c.expect("+OK Poshta echo ready")
        c.sendline("enqueue bob@remote.test")
        reply = c.readline()
        m = re.fullmatch(r"-ERR queued id=([0-9a-f]{16})", reply)
        assert m, reply
        qid = m.group(1)
        c.command("flush", "-ERR flushed")

    def announced():
        log = poshtad.log()
        return all("notice topic=queue/new id=%s pid=%d" % (qid, pid) in log
                   and "notice topic=queue/due id= pid=%d" % pid in log
                   for pid in workers)
    wait_for("both workers to hear of the message and the flush", announced)
    assert os.path.exists(os.path.join(queue, "queue.db"))
    assert (os.stat(queue).st_mode & 0o777) == 0o700
