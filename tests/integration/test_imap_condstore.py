"""CONDSTORE and QRESYNC (RFC 7162) across the session: ENABLE, SELECT
(CONDSTORE) with HIGHESTMODSEQ, MODSEQ in unsolicited FETCH after
another session's STORE, SELECT (QRESYNC ...) replaying VANISHED
(EARLIER) and changed flags since a MODSEQ, VANISHED instead of EXPUNGE
once QRESYNC is on, [CLOSED] on a reselect, and UTF8=ACCEPT names."""

import re

import pytest

from imap_helpers import shared_imap


@pytest.fixture(scope="module")
def env(sdk, certs, tmp_path_factory):
    yield from shared_imap(sdk, certs, tmp_path_factory,
                           listeners=("imap", "smtp"))


def highest(lines):
    for l in lines:
        m = re.match(rb"\* OK \[HIGHESTMODSEQ (\d+)\]", l)
        if m:
            return int(m.group(1))
    raise AssertionError("no HIGHESTMODSEQ in %r" % lines)


def uidvalidity(lines):
    for l in lines:
        m = re.match(rb"\* OK \[UIDVALIDITY (\d+)\]", l)
        if m:
            return int(m.group(1))
    raise AssertionError(lines)


def test_enable_and_select_condstore(env):
    user = env.new_user()
    env.deliver(user)
    r = env.login(user)
    lines, tagged = r.command("ENABLE CONDSTORE QRESYNC")
    assert lines == [b"* ENABLED CONDSTORE QRESYNC"]
    lines, tagged = r.command("ENABLE CONDSTORE")
    assert lines == [b"* ENABLED"]
    lines = r.ok("SELECT INBOX")
    assert highest(lines) > 0


def test_select_condstore_parameter(env):
    user = env.new_user()
    env.deliver(user)
    r = env.login(user)
    lines = r.ok("SELECT INBOX")
    assert not [l for l in lines if b"HIGHESTMODSEQ" in l]
    lines = r.ok("SELECT INBOX (CONDSTORE)")
    assert highest(lines) > 0
    assert lines[0] == b"* OK [CLOSED] Previous mailbox closed" or \
        b"* OK [CLOSED] Previous mailbox closed" not in lines[1:]


def test_qresync_needs_enable(env):
    user = env.new_user()
    r = env.login(user)
    lines, tagged = r.command("SELECT INBOX (QRESYNC (1 1))")
    assert tagged == b"t2 BAD ENABLE QRESYNC first"


def test_modseq_in_unsolicited_fetch(env):
    user = env.new_user()
    env.deliver(user)
    a, b = env.login(user), env.login(user)
    a.ok("ENABLE CONDSTORE")
    lines = a.ok("SELECT INBOX")
    before = highest(lines)
    b.ok("SELECT INBOX")
    b.ok("STORE 1 +FLAGS (\\Flagged)")
    lines = a.ok("NOOP")
    m = [l for l in lines if l.startswith(b"* 1 FETCH")]
    assert m, lines
    got = re.search(rb"MODSEQ \((\d+)\)", m[0])
    assert b"\\Flagged" in m[0] and got and int(got.group(1)) > before


def test_qresync_select_replays_changes(env):
    user = env.new_user()
    for i in range(4):
        env.deliver(user, subject="m%d" % i)
    r = env.login(user)
    r.ok("ENABLE QRESYNC")
    lines = r.ok("SELECT INBOX")
    since, validity = highest(lines), uidvalidity(lines)
    r.ok("STORE 2 +FLAGS (\\Seen)")
    r.ok("STORE 3 +FLAGS (\\Deleted)")
    r.ok("EXPUNGE")
    r.ok("UNSELECT")
    lines = r.ok("SELECT INBOX (QRESYNC (%d %d 1:4))" % (validity, since))
    assert b"* VANISHED (EARLIER) 3" in lines
    fetch = [l for l in lines if b"FETCH" in l]
    assert len(fetch) == 1 and b"UID 2 " in fetch[0] and b"\\Seen" in \
        fetch[0] and b"MODSEQ (" in fetch[0], fetch
    # A UIDVALIDITY the client remembers wrong: nothing is replayed.
    lines = r.ok("SELECT INBOX (QRESYNC (%d %d))" % (validity + 1, since))
    assert not [l for l in lines if b"VANISHED" in l or b"FETCH" in l]


def test_vanished_instead_of_expunge(env):
    user = env.new_user()
    for i in range(3):
        env.deliver(user)
    a, b = env.login(user), env.login(user)
    a.ok("ENABLE QRESYNC")
    a.ok("SELECT INBOX")
    b.ok("SELECT INBOX")
    b.ok("STORE 2 +FLAGS (\\Deleted)")
    b.ok("EXPUNGE")
    lines = a.ok("NOOP")
    assert b"* VANISHED 2" in lines
    assert not [l for l in lines if l.endswith(b"EXPUNGE")]


def test_utf8_accept_names(env):
    user = env.new_user()
    r = env.login(user)
    r.ok("ENABLE UTF8=ACCEPT")
    lines, tagged = r.command('CREATE "Вхідні/Чернетки"')
    assert tagged.startswith(b"t3 OK"), tagged
    lines = r.ok('LIST "" "Вхідні*"')
    assert any("Чернетки".encode() in l for l in lines), lines
    lines, tagged = r.command('SELECT "Вхідні/Чернетки"')
    assert tagged.startswith(b"t5 OK")
    # The same mailbox seen by a client without UTF8=ACCEPT: mUTF-7.
    r2 = env.login(user)
    lines = r2.ok('LIST "" "*"')
    assert any(b"&BBIERQRWBDQEPQRW-" in l for l in lines), lines
