"""Failed logins are bounded per client address and per user name within
auth_failure_window, for the server as a whole: past a bound every login
is refused at once with [LIMIT], right password or not, and the log says
so in lines fail2ban can match. A success clears the user's count."""

import base64
import os
import re
import signal
import time

from conftest import quote

USERS = 'auth_static {\n\tuser alice@example.test %s;\n\tuser ' \
    'bob@example.test hunter2;\n}' % quote("correct horse")
ALICE = ("alice@example.test", "correct horse")
BLOCKED = "-ERR [LIMIT] too many failures, try later"
DENIED = "-ERR [AUTH] authentication failed"


def start(poshtad, per_ip=100, per_user=100, window="10m", workers=1):
    poshtad.start(load=("echo", "auth_static"), body=USERS, workers=workers,
                  listen={"echo": {"auth_plaintext": "allow"}},
                  top="auth_failure_delay 100ms;\n"
                  "auth_max_failures_per_ip %d;\n"
                  "auth_max_failures_per_user %d;\n"
                  "auth_failure_window %s;" % (per_ip, per_user, window))


def auth(c, user, password):
    """One AUTH PLAIN; returns the reply and how long it took."""
    msg = base64.b64encode(("\0%s\0%s" % (user, password)).encode())
    began = time.monotonic()
    c.sendline("AUTH PLAIN " + msg.decode())
    return c.readline(), time.monotonic() - began


def greeted(poshtad):
    c = poshtad.connect()
    c.expect("+OK Poshta echo ready")
    return c


def test_per_address(poshtad):
    start(poshtad, per_ip=3)
    with greeted(poshtad) as c:
        for user in ("carol@example.test", "dave@example.test",
                     "alice@example.test"):
            assert auth(c, user, "guess")[0] == DENIED
        # Right or wrong, the answer is the same, and at once.
        for password in (ALICE[1], "guess"):
            reply, took = auth(c, ALICE[0], password)
            assert reply == BLOCKED
            assert took < 0.1
        assert auth(c, "bob@example.test", "hunter2")[0] == BLOCKED
    log = poshtad.log()
    assert len(re.findall(r"auth failed: user=\S+ rip=127\.0\.0\.1 "
                          r"mech=PLAIN reason=denied$", log, re.M)) == 3
    assert re.search(r"auth blocked: rip=127\.0\.0\.1 "
                     r"user=alice@example\.test mech=PLAIN limit=address "
                     r"reason=too many failures$", log, re.M)


def test_per_user(poshtad):
    start(poshtad, per_user=2)
    with greeted(poshtad) as c:
        assert auth(c, "alice@example.test", "guess")[0] == DENIED
        # Names compare without regard to case.
        assert auth(c, "ALICE@example.test", "guess")[0] == DENIED
        assert auth(c, *ALICE)[0] == BLOCKED
        c.command("AUTH LOGIN", "+ " + base64.b64encode(
            b"Username:").decode())
        c.command(base64.b64encode(b"alice@example.test").decode(),
                  "+ " + base64.b64encode(b"Password:").decode())
        c.command(base64.b64encode(ALICE[1].encode()).decode(), BLOCKED)
        # Another user from the same address is not blocked.
        assert auth(c, "bob@example.test", "hunter2")[0] == \
            "+OK authenticated as bob@example.test"
    poshtad.wait_log(r"auth blocked: rip=127\.0\.0\.1 "
                     r"user=alice@example\.test mech=LOGIN limit=user")


def test_success_clears_the_user(poshtad):
    start(poshtad, per_user=2)
    for _ in range(3):
        with greeted(poshtad) as c:
            assert auth(c, ALICE[0], "guess")[0] == DENIED
            assert auth(c, *ALICE)[0] == \
                "+OK authenticated as alice@example.test"


def test_window_closes(poshtad):
    start(poshtad, per_user=1, window="1s")
    with greeted(poshtad) as c:
        assert auth(c, ALICE[0], "guess")[0] == DENIED
        assert auth(c, *ALICE)[0] == BLOCKED
        time.sleep(1.1)
        assert auth(c, *ALICE)[0] == "+OK authenticated as " + ALICE[0]


def serving_pid(poshtad):
    """The pid of the worker that logged the latest connection."""
    found = re.findall(r"worker \d+\[(\d+)\] info: \[[^]]+\] connect from",
                       poshtad.log())
    assert found, poshtad.log()
    return int(found[-1])


def test_counts_are_shared_by_workers(poshtad):
    start(poshtad, per_user=2, workers=2)
    first = greeted(poshtad)
    busy = serving_pid(poshtad)
    # Stop the worker that took the first client, so the other one
    # takes the second.
    os.kill(busy, signal.SIGSTOP)
    try:
        second = greeted(poshtad)
    finally:
        os.kill(busy, signal.SIGCONT)
    with first, second:
        assert serving_pid(poshtad) != busy
        assert auth(first, ALICE[0], "guess")[0] == DENIED
        assert auth(second, ALICE[0], "guess")[0] == DENIED
        assert auth(first, *ALICE)[0] == BLOCKED
