"""Connection limits: over the limit the core closes the connection at
once, before the protocol greets, and logs it."""

import time

from conftest import wait_for

GREETING = "+OK Poshta echo ready"


def refused(poshtad, name="echo"):
    c = poshtad.connect(name)
    began = time.monotonic()
    c.expect_eof(timeout=5)
    c.close()
    return time.monotonic() - began


def test_per_ip_limit(poshtad):
    poshtad.start(workers=1, top="max_connections_per_ip 2;")
    a = poshtad.connect()
    b = poshtad.connect()
    a.expect(GREETING)
    b.expect(GREETING)
    assert refused(poshtad) < 2
    poshtad.wait_log(
        r"connection refused: too many connections from 127\.0\.0\.1")
    a.command("a still works", "a still works")
    a.command("QUIT", "+OK bye")
    a.expect_eof()
    a.close()

    def third_gets_in():
        with poshtad.connect() as c:
            try:
                return c.readline() == GREETING
            except EOFError:
                return False
    wait_for("a free slot after a closed", third_gets_in)
    b.close()


def test_listener_limit(poshtad):
    poshtad.start(workers=1, listen={"one": {"max_connections": "1"},
                                     "other": {}})
    with poshtad.connect("one") as a:
        a.expect(GREETING)
        assert refused(poshtad, "one") < 2
        poshtad.wait_log(r"connection refused")
        # The bound is the listener's: another listener still takes one.
        with poshtad.connect("other") as b:
            b.expect(GREETING)
