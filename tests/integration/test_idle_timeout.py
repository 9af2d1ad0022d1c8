"""idle_timeout: a silent client is told and disconnected; any line the
client sends restarts the clock; the top-level value is the default of a
listener that sets none, and a listener's own value wins over it."""

import time

GREETING = "+OK Poshta echo ready"


def timed_out_within(c, low, high):
    """c (greeted, then silent) gets the idle reply and EOF between low
    and high seconds from now."""
    began = time.monotonic()
    c.expect("-ERR idle timeout")
    waited = time.monotonic() - began
    assert low < waited < high, "idle reply after %.2f s" % waited
    c.expect_eof(timeout=high)


def test_idle_client_is_closed(poshtad):
    poshtad.start(listen={"echo": {"idle_timeout": "1s"}})
    with poshtad.connect() as c:
        c.expect(GREETING)
        timed_out_within(c, 0.7, 4)
    poshtad.wait_log(r"disconnect: idle timeout")


def test_active_client_stays(poshtad):
    poshtad.start(listen={"echo": {"idle_timeout": "1s"}})
    with poshtad.connect() as c:
        c.expect(GREETING)
        began = time.monotonic()
        i = 0
        while time.monotonic() - began < 2.2:
            c.command("tick %d" % i, "tick %d" % i)
            i += 1
            time.sleep(0.3)
        # Twice the timeout has passed since the greeting: only the
        # traffic kept it open.
        c.command("still here", "still here")
        # And once it goes quiet, the clock runs out again.
        timed_out_within(c, 0.7, 4)


def test_top_level_idle_timeout_applies(poshtad):
    poshtad.start(top="idle_timeout 1s;", listen={"echo": {}})
    with poshtad.connect() as c:
        c.expect(GREETING)
        timed_out_within(c, 0.7, 4)


def test_listener_idle_timeout_overrides_top_level(poshtad):
    poshtad.start(top="idle_timeout 1s;",
                  listen={"long": {"idle_timeout": "30s"}, "short": {}})
    with poshtad.connect("long") as slow, poshtad.connect("short") as fast:
        slow.expect(GREETING)
        fast.expect(GREETING)
        timed_out_within(fast, 0.7, 4)
        # The listener with its own 30 s is still open after the 1 s one
        # has closed.
        time.sleep(0.5)
        slow.command("alive", "alive")


def test_top_level_idle_timeout_beats_protocol_default(poshtad):
    """POP3 asks for 10 minutes (RFC 1939 3), IMAP for 30 (RFC 9051 5.4):
    the protocols' own defaults, which a value written at the top level
    still overrides."""
    poshtad.start(load=("pop3", "imap"), top="idle_timeout 1s;",
                  listen={"pop3": {"protocol": "pop3"},
                          "imap": {"protocol": "imap"}})
    with poshtad.connect("pop3") as pop, poshtad.connect("imap") as imap:
        assert pop.readline() == "+OK localhost Poshta POP3 ready"
        assert imap.readline().startswith("* OK ")
        began = time.monotonic()
        assert pop.readline() == "-ERR Autologout; idle for too long"
        assert imap.readline().startswith("* BYE ")
        assert time.monotonic() - began < 4
        pop.expect_eof()
        imap.expect_eof()

