"""The top-level max_connections bounds the whole server, whichever worker
accepts: over it a client is closed at once, unanswered, and the log says
why; a client leaving frees its place for the next, in any worker."""

import os
import signal
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
        # Both workers watch the listener, but one tends to win every
        # accept: stop it for a moment so the other takes the second.
        first = greeted(poshtad)
        assert first is not None
        clients.append(first)
        busy = worker_of(poshtad, first)
        assert busy in poshtad.workers()
        os.kill(busy, signal.SIGSTOP)
        try:
            second = greeted(poshtad)
        finally:
            os.kill(busy, signal.SIGCONT)
        assert second is not None, "second client refused under the limit"
        clients.append(second)
        assert worker_of(poshtad, second) not in (None, busy)
        third = greeted(poshtad)
        assert third is not None, "third client refused under the limit"
        clients.append(third)
        for i, c in enumerate(clients):
            c.command("client %d" % i, "client %d" % i)

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
        assert all(holders) and len(set(holders)) == 2, holders
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


def test_server_limit_spans_listeners(poshtad):
    """The top-level bound counts every listener's clients together."""
    poshtad.start(workers=2, top=TOP, listen={"a": {}, "b": {}})
    clients = []
    try:
        for name in ("a", "b", "a"):
            c = poshtad.connect(name)
            c.expect(GREETING)
            clients.append(c)
        for name in ("a", "b"):
            with poshtad.connect(name) as c:
                c.expect_eof(timeout=5)
    finally:
        for c in clients:
            c.close()


def test_listener_limit_counts_its_own_clients(poshtad):
    """A listener's own max_connections bounds that listener's clients:
    clients of another listener do not use up its places."""
    poshtad.start(workers=1, listen={"one": {"max_connections": "1"},
                                     "other": {}})
    with poshtad.connect("other") as b, poshtad.connect("other") as b2:
        b.expect(GREETING)
        b2.expect(GREETING)
        with poshtad.connect("one") as a:
            try:
                a.expect(GREETING)
            except (EOFError, ConnectionResetError):
                raise AssertionError(
                    "listener 'one' (max_connections 1, no client yet) "
                    "refused its first client while 'other' had two:\n"
                    + poshtad.log()[-1000:]) from None
            # Its own bound still holds.
            with poshtad.connect("one") as a2:
                a2.expect_eof(timeout=5)
            poshtad.wait_log(r"listener connection limit reached .*"
                             r"listener=one")


def test_per_ip_limit_is_server_wide_only(poshtad):
    """The per-address bound counts every listener, so a listen block
    does not take it: the config check says where."""
    r = poshtad.check(poshtad.config(
        listen={"one": {"max_connections_per_ip": "1"}}))
    assert r.returncode == 1
    assert "unknown directive 'max_connections_per_ip'" in r.stderr
    assert poshtad.conf_path + ":" in r.stderr
