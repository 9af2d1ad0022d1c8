"""Hooks on echo.line (tests/modules/echo_filter.c): verdicts and their
replies, priority order, PENDING resumed from a timer and a job with the
order of pipelined lines kept, and per-connection slots."""

import time

import pytest


@pytest.fixture
def filtered(poshtad):
    poshtad.start(load=("echo", "echo_filter"))
    return poshtad


def test_reject_and_defer(filtered):
    with filtered.connect() as c:
        c.expect("+OK Poshta echo ready")
        c.command("please reject me", "-ERR filtered")
        c.command("please defer me", "-ERR [TEMP] try later")
        c.command("plain line", "plain line")
    filtered.wait_log(r"echo_filter: \[[^]]+\] verdict=reject seen=1")
    filtered.wait_log(r"echo: \[[^]]+\] line rejected reply=\"filtered\"")


def test_first_priority_runs_first(filtered):
    with filtered.connect() as c:
        c.expect("+OK Poshta echo ready")
        # vip_first (PS_HOOK_FIRST) accepts before judge() sees "reject".
        c.command("vip reject", "vip reject")
        c.command("vip defer", "vip defer")
        c.command("reject", "-ERR filtered")


def test_pending_keeps_pipelined_order(filtered):
    with filtered.connect() as c:
        c.expect("+OK Poshta echo ready")
        began = time.monotonic()
        c.send("slow 1\r\nfast 2\r\njob 3\r\nslow 4\r\nreject 5\r\n"
               "fast 6\r\n")
        for want in ("slow 1", "fast 2", "job 3", "slow 4", "-ERR filtered",
                     "fast 6"):
            c.expect(want)
        # Two 200 ms timers, one after the other: the lines were paused.
        assert time.monotonic() - began >= 0.38


def test_pending_then_client_leaves(filtered):
    with filtered.connect() as c:
        c.expect("+OK Poshta echo ready")
        c.send("slow and gone\r\n")
    time.sleep(0.4)  # the timer fires on a closed connection
    with filtered.connect() as c:
        c.expect("+OK Poshta echo ready")
        c.command("still alive", "still alive")


def test_slots_are_per_connection(filtered):
    with filtered.connect() as a, filtered.connect() as b:
        a.expect("+OK Poshta echo ready")
        b.expect("+OK Poshta echo ready")
        a.command("x", "x")
        a.command("y", "y")
        a.command("count", "-ERR seen=3")
        b.command("count", "-ERR seen=1")
        a.command("count", "-ERR seen=4")
    # The filter freed its slot from the core's conn.close event.
    filtered.wait_log(r"echo_filter: \[[^]]+\] closed seen=4")
    filtered.wait_log(r"echo_filter: \[[^]]+\] closed seen=1")
