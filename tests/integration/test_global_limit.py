"""The top-level max_connections bounds the whole server, whichever worker
accepts: over it a client is closed at once, unanswered, and the log says
why; a client leaving frees its place for the next, in any worker."""

import os
import time

from conftest import wait_for

GREETING = "+OK Poshta echo ready"
TOP = "max_connections 3;\nmax_connections_per_ip 0;"


def refused_at_once(poshtad):
    with poshtad.connect() as c:
        began = time.monotonic()
        c.expect_eof(timeout=5)
        return time.monotonic() - began


def greeted(poshtad):
    """A new client gets the greeting (None: it was refused)."""
    c = poshtad.connect()
    try:
        c.expect(GREETING)
    except (EOFError, ConnectionResetError):
        c.close()
        return None
    return c


def worker_of(poshtad, client):
    """The worker pid holding client's connection: the server end's
    socket inode (from /proc/net/tcp) among the workers' fds."""
    port = client.sock.getsockname()[1]
    want = ":%04X" % port
    inodes = set()
    with open("/proc/net/tcp") as f:
        for row in f.read().splitlines()[1:]:
            fields = row.split()
            if fields[2].endswith(want):  # remote end is our client
                inodes.add(fields[9])
    for pid in poshtad.workers():
        try:
            for fd in os.listdir("/proc/%d/fd" % pid):
                link = os.readlink("/proc/%d/fd/%s" % (pid, fd))
                if link.startswith("socket:[") and link[8:-1] in inodes:
                    return pid
        except FileNotFoundError:
            continue
    return None


def test_server_limit_across_workers(poshtad):
    poshtad.start(workers=2, top=TOP)
    assert len(poshtad.workers()) == 2
    clients = []
    try:
        for i in range(3):
            c = greeted(poshtad)
            assert c is not None, "client %d refused under the limit" % i
            c.command("client %d" % i, "client %d" % i)
            clients.append(c)

        took = refused_at_once(poshtad)
        assert took < 2, "the fourth client waited %.1f s" % took
        poshtad.wait_log(r"connection refused: server connection limit "
                         r"reached peer=127\.0\.0\.1 limit=3 listener=echo")
        # The three in are undisturbed.
        for i, c in enumerate(clients):
            c.command("still %d" % i, "still %d" % i)

        # Which workers hold them: leaving from each of those workers in
        # turn checks that each releases its count (the counters are
        # shared memory, each worker keeps its own share).
        holders = [worker_of(poshtad, c) for c in clients]
        assert all(holders), holders
        for turn, pid in enumerate(sorted(set(holders))):
            i = next(i for i, c in enumerate(clients)
                     if worker_of(poshtad, c) == pid)
            leaving = clients.pop(i)
            leaving.command("QUIT", "+OK bye")
            leaving.expect_eof()
            leaving.close()
            newcomer = wait_for("a free place after a client of worker %d "
                                "left" % pid, lambda: greeted(poshtad))
            newcomer.command("in %d" % turn, "in %d" % turn)
            clients.append(newcomer)
            assert refused_at_once(poshtad) < 2, \
                "a fourth client got in after turn %d" % turn

        # Everyone leaves; three may come back.
        for c in clients:
            c.close()
        clients = []

        def three_in():
            got = []
            for _ in range(3):
                c = greeted(poshtad)
                if c is None:
                    for g in got:
                        g.close()
                    return None
                got.append(c)
            return got
        clients = wait_for("all places free again", three_in)
        assert refused_at_once(poshtad) < 2
    finally:
        for c in clients:
            c.close()


def test_per_ip_zero_means_no_limit(poshtad):
    """max_connections_per_ip 0 switches the per-address bound off: with
    a higher server limit, one address may hold many connections."""
    poshtad.start(workers=2, top="max_connections 0;\n"
                  "max_connections_per_ip 0;")
    clients = []
    try:
        for i in range(120):  # above the default per-address 100
            c = greeted(poshtad)
            assert c is not None, "client %d refused with no limits" % i
            clients.append(c)
        clients[-1].command("last", "last")
    finally:
        for c in clients:
            c.close()
