"""STATUS (DELETED) (RFC 9051 6.3.11) and DELETED-STORAGE (RFC 9208 5.3):
the number of messages with \\Deleted and the storage EXPUNGE would
free, as they are when STATUS runs: after this session's STORE, another
session's, EXPUNGE and MOVE, for the selected mailbox and others,
through LIST-STATUS (RFC 5819) too, in IMAP4rev1 and IMAP4rev2. Asking
for them claims no \\Recent message (RFC 3501 2.3.2: only a read-write
SELECT does).

One server for the file; each test has a user of its own."""

import math
import re

import pytest

from imap_helpers import shared_imap


@pytest.fixture(scope="module")
def env(sdk, certs, tmp_path_factory):
    yield from shared_imap(sdk, certs, tmp_path_factory)


@pytest.fixture
def user(env):
    return env.new_user()


SIZE = 2017  # octets of each message append() makes


def append(r, mailbox, n, flags=""):
    text = "Subject: m%d\r\n\r\n%s\r\n" % (n, "x" * 2000)
    assert len(text) == SIZE
    r.ok("APPEND %s (%s) {%d+}\r\n%s" % (mailbox, flags, len(text), text))


def kib(n):
    """DELETED-STORAGE of n of append()'s messages: units of 1024 octets,
    rounded up."""
    return math.ceil(n * SIZE / 1024)


def status(r, mailbox, items="MESSAGES DELETED DELETED-STORAGE"):
    lines = r.ok("STATUS %s (%s)" % (mailbox, items))
    m = re.match(rb"\* STATUS \S+ \((.*)\)$", lines[-1])
    assert m, lines
    words = m.group(1).decode().split()
    return dict(zip(words[::2], map(int, words[1::2])))


def test_deleted_follows_store_and_expunge(env, user):
    a, b = env.login(user), env.login(user)
    b.ok("CREATE Box")
    for i in range(4):
        append(b, "Box", i, "\\Deleted" if i == 3 else "")
    assert status(a, "Box") == {"MESSAGES": 4, "DELETED": 1,
                                "DELETED-STORAGE": kib(1)}
    # Another session marks two more; a third is marked and unmarked.
    b.ok("SELECT Box")
    b.ok("STORE 1:2 +FLAGS.SILENT (\\Deleted)")
    b.ok("STORE 3 +FLAGS.SILENT (\\Deleted \\Seen)")
    b.ok("STORE 3 -FLAGS.SILENT (\\Deleted)")
    assert status(a, "Box") == {"MESSAGES": 4, "DELETED": 3,
                                "DELETED-STORAGE": kib(3)}
    # This session, with Box selected: its own STORE counts at once.
    a.ok("SELECT Box")
    a.ok("STORE 3 +FLAGS.SILENT (\\Deleted)")
    assert status(a, "Box") == {"MESSAGES": 4, "DELETED": 4,
                                "DELETED-STORAGE": kib(4)}
    a.ok("STORE 1 -FLAGS.SILENT (\\Deleted)")
    a.ok("EXPUNGE")
    assert status(a, "Box") == {"MESSAGES": 1, "DELETED": 0,
                                "DELETED-STORAGE": 0}
    assert status(b, "Box") == {"MESSAGES": 1, "DELETED": 0,
                                "DELETED-STORAGE": 0}
    a.close()
    b.close()


def test_deleted_after_move_and_in_list_status(env, user):
    r = env.login(user)
    r.ok("CREATE Src")
    r.ok("CREATE Dst")
    for i in range(3):
        append(r, "Src", i, "\\Deleted \\Flagged")
    r.ok("SELECT Src")
    r.ok("MOVE 1:2 Dst")
    # Flags travel with a move (RFC 6851 3.3).
    assert status(r, "Src")["DELETED"] == 1
    assert status(r, "Dst")["DELETED"] == 2
    lines = r.ok('LIST "" "*" RETURN (STATUS (DELETED MESSAGES))')
    found = dict(re.match(rb"\* STATUS (\S+) \(DELETED (\d+) MESSAGES \d+\)",
                          line).groups()
                 for line in lines if line.startswith(b"* STATUS"))
    assert found == {b"INBOX": b"0", b"Src": b"1", b"Dst": b"2"}
    r.close()


def test_deleted_in_rev2_and_no_recent_claimed(env, user):
    env.deliver(user, subject="one")
    env.deliver(user, subject="two")
    r = env.login(user)
    # STATUS (DELETED) reads the flags without claiming \Recent.
    assert status(r, "INBOX", "RECENT DELETED") == {"RECENT": 2,
                                                    "DELETED": 0}
    assert status(r, "INBOX", "RECENT DELETED") == {"RECENT": 2,
                                                    "DELETED": 0}
    r.ok("ENABLE IMAP4rev2")
    r.ok("SELECT INBOX")
    r.ok("STORE 2 +FLAGS.SILENT (\\Deleted)")
    assert status(r, "INBOX", "DELETED MESSAGES") == {"DELETED": 1,
                                                      "MESSAGES": 2}
    r.close()


def test_deleted_refusals(env, user):
    r = env.login(user)
    r.ok("CREATE P/C")
    r.ok("DELETE P")
    lines, tagged = r.command("STATUS P (DELETED)")
    assert tagged.split(b" ")[1] == b"NO" and lines == [], (lines, tagged)
    lines, tagged = r.command("STATUS Nothing (DELETED)")
    assert tagged.split(b" ")[1:3] == [b"NO", b"[NONEXISTENT]"], tagged
    r.close()
