"""imap.so's APPEND (RFC 9051 6.3.12) and MULTIAPPEND (RFC 3502): flags
and date-time stored with the exact octets, APPENDUID (RFC 4315 3),
all or nothing across messages, EXISTS in the selected mailbox,
APPENDLIMIT (RFC 7889) enforced before the literal is read, [TRYCREATE]
and [OVERQUOTA] before it too, memory that stays flat for a 20 MB
message, a dropped connection that leaves nothing behind, and pipelined
commands answered in order."""

import datetime
import imaplib
import os
import re

import pytest

from conftest import sanitized, wait_for
from imap_helpers import ALICE, shared_imap, start_imap
from smtp_helpers import parse_mbox

MSG = (b"From: bob@example.test\r\nTo: alice@example.test\r\n"
       b"Subject: hello\r\n\r\nFirst line\r\n.\r\nFrom here on\r\n"
       b"\tindented\r\nlast line without end")


@pytest.fixture(scope="module")
def env(sdk, certs, tmp_path_factory):
    yield from shared_imap(sdk, certs, tmp_path_factory,
                           imap_opts={"append_limit": "100k"})


@pytest.fixture
def user(env):
    return env.new_user()


def uidvalidity(env, user, mailbox="INBOX"):
    r = env.login(user)
    text = b"\n".join(r.ok("EXAMINE " + mailbox))
    r.close()
    return int(re.search(rb"UIDVALIDITY (\d+)", text).group(1))


def exported(env, user, mailbox="INBOX"):
    """[(From_ line, message as parse_mbox gives it)] of the mailbox."""
    data = env.ctl.export(user, mailbox)
    froms = [l for l in data.split(b"\n")
             if l.startswith(b"From MAILER-DAEMON ")]
    msgs = parse_mbox(data)
    assert len(froms) == len(msgs)
    return list(zip(froms, msgs))


def as_exported(msg, status=b""):
    """msg as export-mbox writes it: LF lines, a line end added at the
    end, the flags' Status lines at the end of the header."""
    text = msg.replace(b"\r\n", b"\n")
    if not text.endswith(b"\n"):
        text += b"\n"
    head, body = text.split(b"\n\n", 1)
    return head + b"\n" + status + b"\n" + body


def mailbox_bytes(env, user, mailbox="INBOX"):
    for line in env.ctl.ok("mailbox", "list", user).splitlines():
        f = line.split("\t")
        if f[0] == mailbox:
            return int(f[1]), int(f[3])
    raise AssertionError("no %s" % mailbox)


def test_append_flags_date_and_exact_octets(env, user):
    validity = uidvalidity(env, user)
    m = env.imaplib(user)
    when = datetime.datetime(2024, 3, 5, 13, 4, 5, tzinfo=datetime.timezone(
        datetime.timedelta(hours=2)))
    typ, data = m.append("INBOX", "(\\Seen \\Flagged $Work)",
                         imaplib.Time2Internaldate(when), MSG)
    assert typ == "OK", data
    assert data == [b"[APPENDUID %d 1] Append completed" % validity]
    # No flags, no date: now.
    typ, data = m.append("INBOX", None, None, MSG)
    assert data == [b"[APPENDUID %d 2] Append completed" % validity]
    m.logout()
    [(from1, msg1), (from2, msg2)] = exported(env, user)
    assert from1 == b"From MAILER-DAEMON Tue Mar  5 11:04:05 2024"
    assert msg1 == as_exported(MSG, b"Status: RO\nX-Status: F\n")
    assert msg2 == as_exported(MSG)
    year = datetime.datetime.now(datetime.timezone.utc).year
    assert from2.endswith(b" %d" % year)


def test_multiappend_one_transaction(env, user):
    validity = uidvalidity(env, user)
    one, two, three = MSG, MSG.replace(b"hello", b"two"), b"x\r\n"
    r = env.login(user)
    r.send(b"a APPEND INBOX (\\Seen) {%d}\r\n" % len(one))
    assert r.line().startswith(b"+ ")
    r.send(one + b' (\\Draft) "05-Mar-2024 13:04:05 +0200" {%d}\r\n'
           % len(two))
    assert r.line().startswith(b"+ ")
    # LITERAL+ for the third.
    r.send(two + b" {%d+}\r\n" % len(three) + three + b"\r\n")
    lines, tagged = r.until("a")
    assert tagged == b"a OK [APPENDUID %d 1:3] Append completed" % validity
    got = exported(env, user)
    assert [m for _, m in got] == [
        as_exported(one, b"Status: RO\n"),
        as_exported(two, b"X-Status: T\n"),
        b"x\n"]
    assert got[1][0] == b"From MAILER-DAEMON Tue Mar  5 11:04:05 2024"


def test_multiappend_all_or_nothing(env, user):
    r = env.login(user)
    # A bad date-time in the second message: refused before its octets,
    # and the first is not stored either.
    r.send(b"a APPEND INBOX {%d}\r\n" % len(MSG))
    assert r.line().startswith(b"+ ")
    r.send(MSG + b' "31-Feb-2024 13:04:05 +0200" {%d}\r\n' % len(MSG))
    lines, tagged = r.until("a")
    assert tagged == b"a BAD Invalid date-time" and lines == []
    # The same with non-synchronizing literals: all sent, none stored.
    r.send(b"b APPEND INBOX {%d+}\r\n" % len(MSG) + MSG +
           b" (\\Seen) {%d+}\r\n" % len(MSG) + MSG +
           b' (\\Recent) {%d+}\r\n' % len(MSG) + MSG + b"\r\n")
    lines, tagged = r.until("b")
    assert tagged == b"b BAD Invalid system flag"
    # Trailing garbage after the last message.
    r.send(b"c APPEND INBOX {%d+}\r\n" % len(MSG) + MSG + b" junk\r\n")
    lines, tagged = r.until("c")
    assert tagged.startswith(b"c BAD ")
    lines, tagged = r.command("NOOP")
    assert tagged == b"t2 OK NOOP completed"
    assert exported(env, user) == []
    assert mailbox_bytes(env, user) == (0, 0)


def test_append_to_selected_mailbox_shows_exists(env, user):
    r = env.login(user)
    r.ok("SELECT INBOX")
    r.send(b"a APPEND inbox {%d+}\r\n" % len(MSG) + MSG + b"\r\n")
    lines, tagged = r.until("a")
    assert tagged.startswith(b"a OK [APPENDUID ")
    assert lines[0] == b"* 1 EXISTS"
    assert r.ok("NOOP") == []


def test_refused_before_the_literal(env):
    user = env.new_user(quota="4k")
    r = env.login(user)
    lines = r.ok("CAPABILITY")
    for word in (b"APPENDLIMIT=102400", b"MULTIAPPEND", b"UIDPLUS",
                 b"MOVE"):
        assert word in lines[0].split(), word
    # Each answered at once, with no "+": the client never sends it.
    for cmd, reply in [
            (b"APPEND Nowhere {5}", b"NO [TRYCREATE] Mailbox does not exist"),
            (b"APPEND INBOX {102401}",
             b"NO [TOOBIG] Message larger than APPENDLIMIT"),
            (b"APPEND INBOX {0}", b"NO Empty message"),
            (b"APPEND INBOX {5000}", b"NO [OVERQUOTA] Quota exceeded"),
            (b"APPEND INBOX (\\Recent) {5}", b"BAD Invalid system flag"),
            (b"APPEND INBOX (\\Seen) NIL {5}",
             b"BAD Invalid APPEND arguments"),
            (b'APPEND INBOX "5-Mar-2024 13:04:05 +0200" {5}',
             b"BAD Invalid date-time")]:
        r.send(b"x " + cmd + b"\r\n")
        assert r.line() == b"x " + reply, cmd
    for cmd in ("APPEND INBOX", 'APPEND INBOX "quoted message"',
                "APPEND INBOX (\\Seen)"):
        lines, tagged = r.command(cmd)
        assert b" BAD " in tagged, (cmd, tagged)
    # A message that just fits.
    r.send(b"y APPEND INBOX {3000}\r\n")
    assert r.line().startswith(b"+ ")
    r.send(b"z" * 2998 + b"\r\n\r\n")
    lines, tagged = r.until("y")
    assert tagged.startswith(b"y OK [APPENDUID ")
    assert mailbox_bytes(env, user) == (1, 3000)


def test_nonsync_over_limit_is_read_and_dropped(env, user):
    r = env.login(user)
    # What the literal holds must not run as commands.
    body = b"b LOGOUT\r\n" * 20000
    r.send(b"a APPEND INBOX {%d+}\r\n" % len(body) + body +
           b"\r\nc NOOP\r\n")
    lines, tagged = r.until("a")
    assert tagged == b"a NO [TOOBIG] Message larger than APPENDLIMIT"
    lines, tagged = r.until("c")
    assert lines == [] and tagged == b"c OK NOOP completed"
    # Past what the server reads to drop: BYE and close.
    r.send(b"d APPEND INBOX {5000000+}\r\n")
    assert r.line() == b"d NO [TOOBIG] Message larger than APPENDLIMIT"
    assert r.line().startswith(b"* BYE ")
    r.lc.expect_eof()
    assert exported(env, user) == []


def vmhwm_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise AssertionError("no VmHWM")


def test_big_append_keeps_memory_flat(poshtad):
    # A server of its own: no APPENDLIMIT.
    env = start_imap(poshtad)
    [worker] = env.poshtad.workers()
    r = env.login()
    # Warm up: the first append opens the store's files.
    r.send(b"w APPEND INBOX {%d+}\r\n" % len(MSG) + MSG + b"\r\n")
    assert r.until("w")[1].startswith(b"w OK")
    # The login's password hash (yescrypt) set the peak high: start it
    # again from here (Linux 4.0, clear_refs 5).
    with open("/proc/%d/clear_refs" % worker, "w") as f:
        f.write("5")
    base = vmhwm_kib(worker)
    size = 20 * 1024 * 1024
    line = b"y" * 1022 + b"\r\n"
    chunk = line * 64
    r.send(b"a APPEND INBOX {%d}\r\n" % size)
    assert r.line().startswith(b"+ ")
    for _ in range(size // len(chunk)):
        r.lc.sock.sendall(chunk)
    r.send(b"\r\n")
    lines, tagged = r.until("a")
    assert re.match(rb"a OK \[APPENDUID \d+ 2\] Append completed", tagged)
    grown = vmhwm_kib(worker) - base
    # AddressSanitizer's quarantine keeps freed memory: the plain build
    # checks the bound.
    if not sanitized():
        assert grown < 6 * 1024, "worker's peak grew by %d KiB" % grown
    assert mailbox_bytes(env, ALICE) == (2, size + len(MSG))


def spool_fds(pid):
    found = []
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            target = os.readlink("/proc/%d/fd/%s" % (pid, fd))
        except OSError:
            continue
        if ".spool-" in target:
            found.append(target)
    return found


def test_dropped_connection_mid_literal_stores_nothing(env, user):
    [worker] = env.poshtad.workers()
    r = env.login(user)
    r.send(b"a APPEND INBOX {90000}\r\n")
    assert r.line().startswith(b"+ ")
    r.lc.sock.sendall(b"z" * 70000)
    # The transaction is open (its spool file)...
    wait_for("a spool file", lambda: spool_fds(worker))
    r.close()
    # ...and aborted once the client is gone.
    wait_for("no spool file", lambda: not spool_fds(worker))
    assert exported(env, user) == []
    assert mailbox_bytes(env, user) == (0, 0)
    # A MULTIAPPEND dropped after its first message: nothing either.
    r = env.login(user)
    r.send(b"b APPEND INBOX {%d+}\r\n" % len(MSG) + MSG + b" {50}\r\n")
    assert r.line().startswith(b"+ ")
    r.close()
    wait_for("no spool file", lambda: not spool_fds(worker))
    assert exported(env, user) == []
    assert "store error user=%s" % user not in env.poshtad.log()


def test_pipelined_append_then_noop_in_order(env, user):
    validity = uidvalidity(env, user)
    r = env.login(user)
    r.ok("SELECT INBOX")
    r.send(b"a APPEND INBOX {%d+}\r\n" % len(MSG) + MSG + b"\r\n"
           b"b NOOP\r\n"
           b"c APPEND INBOX (\\Seen) {%d+}\r\n" % len(MSG) + MSG + b"\r\n"
           b"d STORE 2 +FLAGS ($Done)\r\n"
           b"e NOOP\r\n")
    lines, tagged = r.until("a")
    assert tagged == b"a OK [APPENDUID %d 1] Append completed" % validity
    assert b"* 1 EXISTS" in lines
    assert r.until("b") == ([], b"b OK NOOP completed")
    lines, tagged = r.until("c")
    assert tagged == b"c OK [APPENDUID %d 2] Append completed" % validity
    assert b"* 2 EXISTS" in lines
    lines, tagged = r.until("d")
    assert lines == [b"* 2 FETCH (FLAGS (\\Seen \\Recent $Done))"]
    assert r.until("e") == ([], b"e OK NOOP completed")
