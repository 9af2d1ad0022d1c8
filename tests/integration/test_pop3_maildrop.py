"""pop3.so's maildrop (RFC 1939 4-6): a snapshot of INBOX at login that
mail arriving later (SMTP, IMAP APPEND) does not change; deletion only
in the UPDATE state after QUIT, never after a dropped connection, an
idle timeout, a bad-command close or a killed worker; the exclusive
lock of RFC 1939 8 across workers (-ERR [IN-USE], RFC 2449 8.1.2) that
IMAP does not take, released at QUIT and when the worker dies; UIDL
values that survive a restart; \\Seen for messages RETR'd in a session
that QUITs (mark_seen).

One server (two workers) for the module, every test with users of its
own; the restart and mark_seen-off tests start servers of their own."""

import base64
import os
import re
import signal
import time

import pytest

from pop3_helpers import (message, shared_pop3, start_pop3, stuff, unstuff,
                          listing)


@pytest.fixture(scope="module")
def env(sdk, certs, tmp_path_factory):
    yield from shared_pop3(sdk, certs, tmp_path_factory, workers=2,
                           listeners=("pop3", "pop3-idle", "imap", "smtp"))


def msgs(n, tag="m"):
    return [message("%s %d" % (tag, i), body="body %d\n" % i)
            for i in range(1, n + 1)]


def filled(env, n):
    user = env.new_user()
    ms = msgs(n)
    env.append(user, *ms)
    return user, ms


def subjects(env, user):
    """The Subject of every message in INBOX, through IMAP."""
    m = env.imaplib(user)
    try:
        typ, data = m.select("INBOX", readonly=True)
        if int(data[0]) == 0:
            return []
        typ, data = m.fetch("1:*", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        return [re.search(rb"Subject: ([^\r\n]*)", d[1]).group(1).decode()
                for d in data if isinstance(d, tuple)]
    finally:
        m.logout()


def login_when_free(env, user, timeout=5.0):
    """Log in, trying again while the maildrop is still [IN-USE] (a
    session the server has not yet seen end); fails after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        c = env.raw()
        c.ok("USER " + user)
        reply = c.cmd("PASS " + env.passwords[user])
        if reply.startswith("+OK"):
            return c
        c.close()
        assert reply.startswith("-ERR [IN-USE]"), reply
        assert time.monotonic() < deadline, "still in use: %r" % reply
        time.sleep(0.05)


def stat(c):
    m = re.match(r"^\+OK (\d+) (\d+)", c.ok("STAT"))
    return int(m.group(1)), int(m.group(2))


# ---- The snapshot -------------------------------------------------------

def test_new_mail_is_not_in_the_session(env):
    user, ms = filled(env, 2)
    c = env.login(user)
    assert stat(c) == (2, sum(len(m) for m in ms))
    status, lines = c.lines("UIDL")
    before = listing(lines)
    env.deliver(user, message("late by smtp"))
    env.append(user, message("late by imap"))
    assert len(subjects(env, user)) == 4
    c.ok("NOOP")
    assert stat(c) == (2, sum(len(m) for m in ms))
    status, lines = c.lines("LIST")
    assert sorted(listing(lines)) == [1, 2]
    status, lines = c.lines("UIDL")
    assert listing(lines) == before
    for cmd in ("RETR 3", "LIST 3", "TOP 3 0", "UIDL 3", "DELE 3"):
        c.err(cmd)
    # Deleting what the session knew leaves the late mail alone.
    c.ok("DELE 1")
    c.ok("DELE 2")
    c.quit()
    assert subjects(env, user) == ["late by smtp", "late by imap"]
    c = env.login(user)
    assert stat(c)[0] == 2
    status, raw = c.multi("RETR 2")
    assert unstuff(raw).startswith(b"From: bob@example.test")
    assert b"Subject: late by imap" in raw
    c.quit()


# ---- UPDATE only after QUIT --------------------------------------------

def test_quit_deletes_and_renumbers(env):
    user, ms = filled(env, 4)
    c = env.login(user)
    status, lines = c.lines("UIDL")
    uidls = listing(lines)
    c.ok("DELE 1")
    c.ok("DELE 3")
    assert c.ok("QUIT").startswith("+OK")
    c.expect_eof()
    assert subjects(env, user) == ["m 2", "m 4"]
    # A new session numbers the rest from 1; their UIDLs stay.
    c = env.login(user)
    status, lines = c.lines("UIDL")
    assert listing(lines) == {1: uidls[2], 2: uidls[4]}
    status, raw = c.multi("RETR 2")
    assert raw == stuff(ms[3])
    c.quit()


def test_dropped_connection_deletes_nothing(env):
    user, ms = filled(env, 3)
    c = env.login(user)
    for n in (1, 2, 3):
        c.ok("DELE %d" % n)
    c.close()
    c = login_when_free(env, user)
    assert stat(c) == (3, sum(len(m) for m in ms))
    c.quit()
    assert len(subjects(env, user)) == 3


def test_rset_then_quit_deletes_nothing(env):
    user, ms = filled(env, 2)
    c = env.login(user)
    c.ok("DELE 1")
    c.ok("DELE 2")
    c.ok("RSET")
    c.quit()
    assert subjects(env, user) == ["m 1", "m 2"]


def test_quit_with_nothing_deleted(env):
    user, ms = filled(env, 2)
    c = env.login(user)
    status, raw = c.multi("RETR 1")
    c.quit()
    assert subjects(env, user) == ["m 1", "m 2"]


# ---- Idle timeout -------------------------------------------------------

def timed_out(c, low=0.7, high=4.0):
    """c (silent from now) gets -ERR, then EOF, between low and high
    seconds from now."""
    began = time.monotonic()
    c.sock.settimeout(high)
    line = c.readline()
    waited = time.monotonic() - began
    assert line.startswith("-ERR"), line
    assert low < waited < high, "timeout reply after %.2f s" % waited
    c.expect_eof(timeout=high)


def test_idle_timeout_deletes_nothing(env):
    user, ms = filled(env, 2)
    c = env.raw("pop3-idle")
    c.login(user, env.passwords[user])
    c.ok("DELE 1")
    c.ok("DELE 2")
    timed_out(c)
    c = login_when_free(env, user)
    assert stat(c)[0] == 2
    c.quit()


def test_idle_timeout_before_login(env):
    c = env.raw("pop3-idle")
    timed_out(c)


def test_traffic_keeps_the_session(env):
    user, ms = filled(env, 1)
    c = env.raw("pop3-idle")
    c.login(user, env.passwords[user])
    began = time.monotonic()
    while time.monotonic() - began < 2.0:
        c.ok("NOOP")
        time.sleep(0.3)
    assert stat(c)[0] == 1
    c.quit()


# ---- A killed worker ----------------------------------------------------

def test_killed_worker_deletes_nothing_and_frees_the_maildrop(env):
    user, ms = filled(env, 2)
    c = env.login(user)
    c.ok("DELE 1")
    c.ok("DELE 2")
    worker = env.worker_of(c)
    env.kill_worker(worker)
    with pytest.raises((EOFError, OSError)):
        c.ok("NOOP")
    c.close()
    c = login_when_free(env, user)
    assert stat(c) == (2, sum(len(m) for m in ms))
    c.quit()
    assert subjects(env, user) == ["m 1", "m 2"]


# ---- The lock (RFC 1939 8, RFC 2449 8.1.2) ------------------------------

def on_worker_other_than(env, busy):
    """A greeted client served by a worker other than busy: busy is
    stopped while the connection is made (as test_auth_limits does)."""
    os.kill(busy, signal.SIGSTOP)
    try:
        c = env.raw()
    finally:
        os.kill(busy, signal.SIGCONT)
    return c


def test_second_session_is_in_use_on_every_worker(env):
    user, ms = filled(env, 1)
    first = env.login(user)
    w1 = env.worker_of(first)
    others = [w for w in env.poshtad.workers() if w != w1]
    assert others, env.poshtad.workers()
    elsewhere = on_worker_other_than(env, w1)
    assert env.worker_of(elsewhere) != w1
    same = on_worker_other_than(env, others[0])
    assert env.worker_of(same) == w1
    more = [env.raw() for _ in range(4)]
    pw = env.passwords[user]
    for c in [elsewhere, same] + more:
        c.ok("USER " + user)
        c.err("PASS " + pw, code="IN-USE")
        c.err("AUTH PLAIN " + base64.b64encode(
            ("\0%s\0%s" % (user, pw)).encode()).decode(), code="IN-USE")
        c.err("STAT")  # still not logged in
    # The first session is untouched.
    assert stat(first) == (1, len(ms[0]))
    for c in [same] + more:
        c.quit()
    # QUIT frees the maildrop at once: the +OK comes after the update.
    first.ok("DELE 1")
    assert first.ok("QUIT").startswith("+OK")
    elsewhere.ok("USER " + user)
    elsewhere.ok("PASS " + pw)
    assert elsewhere.ok("STAT") == "+OK 0 0"
    elsewhere.quit()
    first.expect_eof()


def test_in_use_whatever_the_case_of_the_name(env):
    """The lock is the user's, not the spelling's: a second session that
    logs in as USER@EXAMPLE.TEST still finds the maildrop in use."""
    user, ms = filled(env, 1)
    first = env.login(user)
    c = env.raw()
    c.ok("USER " + user.upper())
    c.err("PASS " + env.passwords[user], code="IN-USE")
    c.quit()
    assert stat(first) == (1, len(ms[0]))
    first.quit()


def test_imap_beside_pop3(env):
    """IMAP takes no POP3 lock: it reads and changes the mailbox while a
    POP3 session holds it, and the POP3 session's snapshot is kept."""
    user, ms = filled(env, 2)
    c = env.login(user)
    m = env.imaplib(user)
    typ, data = m.select("INBOX")
    assert typ == "OK" and data == [b"2"]
    typ, data = m.fetch("2", "(BODY.PEEK[])")
    assert typ == "OK" and data[0][1] == ms[1]
    m.logout()
    assert stat(c) == (2, sum(len(x) for x in ms))
    status, raw = c.multi("RETR 2")
    assert raw == stuff(ms[1])
    c.quit()


def test_message_expunged_by_imap_during_the_session(env):
    """A message of the snapshot that IMAP expunges: RETR answers
    properly (-ERR, or the message while it can still be read) and the
    session, and its QUIT, go on."""
    user, ms = filled(env, 3)
    c = env.login(user)
    m = env.imaplib(user)
    m.select("INBOX")
    m.store("2", "+FLAGS", "(\\Deleted)")
    m.expunge()
    m.logout()
    status = c.cmd("RETR 2")
    if status.startswith("+OK"):
        assert unstuff(c.body()) == ms[1]
    status, raw = c.multi("RETR 3")
    assert raw == stuff(ms[2])
    c.ok("DELE 1")
    assert c.ok("QUIT").startswith("+OK")
    c.expect_eof()
    assert subjects(env, user) == ["m 3"]


# ---- mark_seen ----------------------------------------------------------

def flags(env, user):
    return [f for _, f, _ in env.inbox(user)[1]]


def test_mark_seen_at_quit(env):
    """mark_seen on: what was RETR'd in full gets \\Seen when the session
    QUITs; TOP is not a read; before QUIT nothing changes."""
    user, ms = filled(env, 4)
    c = env.login(user)
    c.multi("RETR 1")
    c.multi("TOP 2 100")
    c.multi("RETR 4")
    c.ok("DELE 4")
    assert ["\\Seen" in f for f in flags(env, user)] == [False] * 4
    c.quit()
    assert ["\\Seen" in f for f in flags(env, user)] == [True, False, False]


def test_mark_seen_not_without_quit(env):
    user, ms = filled(env, 2)
    c = env.login(user)
    c.multi("RETR 1")
    c.multi("RETR 2")
    c.close()
    c = login_when_free(env, user)
    c.quit()
    assert ["\\Seen" in f for f in flags(env, user)] == [False, False]


def test_mark_seen_keeps_other_flags(env):
    user = env.new_user()
    env.append(user, message("flagged"), flags="(\\Flagged $Work)")
    c = env.login(user)
    c.multi("RETR 1")
    c.quit()
    assert flags(env, user)[0] >= {"\\Seen", "\\Flagged", "$Work"}


# ---- Servers of their own -----------------------------------------------

def test_uidl_stable_across_restart_and_kill9_of_everything(poshtad):
    env = start_pop3(poshtad, listeners=("pop3", "imap", "smtp"),
                     workers=2)
    user = env.new_user()
    for i in range(3):
        env.deliver(user, message("r %d" % i))
    c = env.login(user)
    status, lines = c.lines("UIDL")
    before = listing(lines)
    assert [before[n] for n in (1, 2, 3)] == env.uidls(user)
    c.ok("DELE 1")
    env.kill_all()
    env.restart()
    c = env.login(user)
    status, lines = c.lines("UIDL")
    assert listing(lines) == before
    c.ok("DELE 2")
    c.quit()
    env.poshtad.stop()
    env.poshtad.start(open(env.poshtad.conf_path).read(), workers=2)
    c = env.login(user)
    status, lines = c.lines("UIDL")
    assert listing(lines) == {1: before[1], 2: before[3]}
    c.quit()


def test_sigterm_deletes_nothing(poshtad):
    """A server that shuts down (SIGTERM) ends the session outside the
    UPDATE state: the client is told with -ERR (or nothing) and nothing
    it marked is deleted (RFC 1939 6)."""
    env = start_pop3(poshtad, listeners=("pop3", "imap", "smtp"))
    user = env.new_user()
    env.append(user, *msgs(2))
    c = env.login(user)
    c.ok("DELE 1")
    c.ok("DELE 2")
    poshtad.signal(signal.SIGTERM)
    lines = []
    try:
        while True:
            lines.append(c.readline())
    except (EOFError, OSError):
        pass
    assert all(l.startswith("-ERR") for l in lines), lines
    assert poshtad.proc.wait(10) == 0
    poshtad._logf.close()
    env.restart()
    assert subjects(env, user) == ["m 1", "m 2"]


def test_mark_seen_off(poshtad):
    env = start_pop3(poshtad, listeners=("pop3", "imap", "smtp"),
                     pop3_opts={"mark_seen": "off"})
    user = env.new_user()
    env.append(user, message("a"), message("b"))
    c = env.login(user)
    c.multi("RETR 1")
    c.multi("RETR 2")
    c.quit()
    assert [f for _, f, _ in env.inbox(user)[1]] == [set(), set()]
