"""imap.so's STORE and UID STORE (RFC 9051 6.4.6): FLAGS, +FLAGS, -FLAGS
and .SILENT with system flags and keywords, \\Recent and unknown system
flags refused, the UID in UID STORE's FETCH responses, read-only
mailboxes, flag changes seen by another session, and CONDSTORE's
UNCHANGEDSINCE with [MODIFIED] (RFC 7162 3.1.3)."""

import re

import pytest

from imap_helpers import shared_imap
from smtp_helpers import parse_mbox

MODSEQ = re.compile(rb"^\* (\d+) FETCH \(.*MODSEQ \((\d+)\)")


@pytest.fixture(scope="module")
def env(sdk, certs, tmp_path_factory):
    yield from shared_imap(sdk, certs, tmp_path_factory)


@pytest.fixture
def user(env):
    return env.new_user()


def selected(env, user, n):
    """n messages delivered to user, and a raw session that SELECTed
    INBOX (they are \\Recent to it)."""
    for i in range(n):
        env.deliver(user, subject="m%d" % (i + 1))
    r = env.login(user)
    lines = r.ok("SELECT INBOX")
    assert b"* %d EXISTS" % n in lines
    return r


def status_lines(env, user):
    """The Status:/X-Status: lines export-mbox writes for each message's
    flags, in UID order."""
    out = []
    for msg in parse_mbox(env.ctl.export(user)):
        out.append(sorted(l for l in msg.split(b"\n")
                          if l.startswith((b"Status:", b"X-Status:"))))
    return out


def modseqs(lines):
    return {int(m.group(1)): int(m.group(2))
            for m in map(MODSEQ.match, lines) if m}


def test_flags_round_trip_with_keywords(env, user):
    r = selected(env, user, 2)
    lines, tagged = r.command("STORE 1 +FLAGS (\\Seen $Label1)")
    assert tagged == b"t3 OK Store completed"
    assert lines == [b"* 1 FETCH (FLAGS (\\Seen \\Recent $Label1))"]
    lines, tagged = r.command("STORE 1 +FLAGS \\Answered Work")
    assert lines == [
        b"* 1 FETCH (FLAGS (\\Seen \\Answered \\Recent $Label1 Work))"]
    lines, tagged = r.command("STORE 1 -FLAGS ($label1 \\Seen)")
    assert lines == [b"* 1 FETCH (FLAGS (\\Answered \\Recent Work))"]
    # Nothing to change: no FETCH.
    lines, tagged = r.command("STORE 1 -FLAGS ($Label1)")
    assert tagged == b"t6 OK Store completed" and lines == []
    # FLAGS replaces system flags and keywords alike.
    lines, tagged = r.command("STORE 1:2 FLAGS (\\Flagged $Done)")
    assert lines == [b"* 1 FETCH (FLAGS (\\Flagged \\Recent $Done))",
                     b"* 2 FETCH (FLAGS (\\Flagged \\Recent $Done))"]
    lines, tagged = r.command("STORE 2 FLAGS ()")
    assert lines == [b"* 2 FETCH (FLAGS (\\Recent))"]
    assert status_lines(env, user) == [[b"X-Status: F"], []]
    # Another session finds the keyword in use (SELECT's FLAGS).
    r2 = env.login(user)
    lines = r2.ok("EXAMINE INBOX")
    assert (b"* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft "
            b"$Done)") in lines


def test_store_with_imaplib(env, user):
    for _ in range(3):
        env.deliver(user)
    m = env.imaplib(user)
    m.select("INBOX")
    typ, data = m.store("2:3", "+FLAGS", "(\\Seen \\Deleted)")
    assert typ == "OK"
    assert sorted(data) == [b"2 (FLAGS (\\Seen \\Deleted \\Recent))",
                            b"3 (FLAGS (\\Seen \\Deleted \\Recent))"]
    typ, data = m.store("3", "-FLAGS", "\\Deleted")
    assert data == [b"3 (FLAGS (\\Seen \\Recent))"]
    m.logout()
    assert status_lines(env, user) == [
        [], [b"Status: RO", b"X-Status: D"], [b"Status: RO"]]


def test_silent_and_seen_by_another_session(env, user):
    r = selected(env, user, 2)
    other = env.login(user)
    other.ok("SELECT INBOX")
    lines, tagged = r.command("STORE 2 +FLAGS.SILENT (\\Deleted $Junk)")
    assert tagged == b"t3 OK Store completed"
    assert lines == []
    lines, tagged = r.command("STORE 1 FLAGS.SILENT (\\Draft)")
    assert lines == []
    assert status_lines(env, user) == [[b"X-Status: T"], [b"X-Status: D"]]
    # The other session learns of both at its next command (not \Recent
    # to it: the first session claimed them).
    lines = other.ok("NOOP")
    assert sorted(lines) == [b"* 1 FETCH (FLAGS (\\Draft))",
                             b"* 2 FETCH (FLAGS (\\Deleted $Junk))"]
    assert other.ok("NOOP") == []


def test_uid_store_includes_uid(env, user):
    r = selected(env, user, 3)
    lines, tagged = r.command("UID STORE 2:3 +FLAGS (\\Flagged)")
    assert tagged == b"t3 OK Store completed"
    assert lines == [b"* 2 FETCH (FLAGS (\\Flagged \\Recent) UID 2)",
                     b"* 3 FETCH (FLAGS (\\Flagged \\Recent) UID 3)"]
    # UIDs not there are no error; a sequence number past the end is.
    lines, tagged = r.command("UID STORE 7:9 +FLAGS (\\Flagged)")
    assert tagged == b"t4 OK Store completed" and lines == []
    lines, tagged = r.command("STORE 4 +FLAGS (\\Flagged)")
    assert tagged.startswith(b"t5 BAD")


def test_bad_flags_and_syntax_refused(env, user):
    r = selected(env, user, 1)
    for flags in ("(\\Recent)", "(\\Seen \\Recent)", "(\\Unknown)",
                  "\\Sen", "(\\Seen", "(\\Seen (nested))", "(\\*)"):
        lines, tagged = r.command("STORE 1 +FLAGS " + flags)
        assert b" BAD " in tagged, (flags, tagged)
        assert lines == []
    for args in ("1 FLAGS", "1 +FLAGS.LOUD (\\Seen)", "1 FLAG (\\Seen)",
                 "1", "1 (UNCHANGEDSINCE) FLAGS (\\Seen)",
                 "1 (CHANGEDSINCE 5) FLAGS (\\Seen)",
                 "1 (UNCHANGEDSINCE 1 UNCHANGEDSINCE 2) FLAGS (\\Seen)",
                 "x FLAGS (\\Seen)"):
        lines, tagged = r.command("STORE " + args)
        assert b" BAD " in tagged, (args, tagged)
    assert status_lines(env, user) == [[]]


def test_store_in_examine_refused(env, user):
    env.deliver(user)
    r = env.login(user)
    r.ok("EXAMINE INBOX")
    lines, tagged = r.command("STORE 1 +FLAGS (\\Seen)")
    assert tagged == b"t3 NO Mailbox is read-only"
    lines, tagged = r.command("UID STORE 1 +FLAGS.SILENT (\\Seen)")
    assert tagged == b"t4 NO Mailbox is read-only"
    assert status_lines(env, user) == [[]]


def test_unchangedsince_modified(env, user):
    r = selected(env, user, 3)
    # Any UNCHANGEDSINCE turns CONDSTORE on: MODSEQ in FETCH from now on.
    lines, tagged = r.command(
        "STORE 1:3 (UNCHANGEDSINCE 9223372036854775807) +FLAGS ($A)")
    assert tagged == b"t3 OK Store completed"
    seqs = modseqs(lines)
    assert sorted(seqs) == [1, 2, 3]
    base = seqs[1]
    assert lines[0] == b"* 1 FETCH (FLAGS (\\Recent $A) MODSEQ (%d))" % base
    # Another session changes message 2 after that.
    other = env.login(user)
    other.ok("SELECT INBOX")
    other.ok("STORE 2 +FLAGS ($B)")
    lines, tagged = r.command("STORE 1:3 (UNCHANGEDSINCE %d) +FLAGS "
                              "(\\Seen)" % base)
    assert tagged == b"t4 OK [MODIFIED 2] Conditional STORE failed"
    now = modseqs(lines)
    assert now[1] == now[3] > base
    # Message 2 shows up with the other session's change, not with \Seen.
    [two] = [l for l in lines if l.startswith(b"* 2 ")]
    assert two.startswith(b"* 2 FETCH (FLAGS (\\Recent $A $B) MODSEQ (")
    assert status_lines(env, user) == [[b"Status: RO"], [], [b"Status: RO"]]
    # UID STORE names UIDs; .SILENT still sends the new MODSEQ.
    other.ok("STORE 2 -FLAGS ($B)")
    lines, tagged = r.command("UID STORE 1:3 (UNCHANGEDSINCE %d) "
                              "+FLAGS.SILENT (\\Flagged)" % now[1])
    assert tagged == b"t5 OK [MODIFIED 2] Conditional STORE failed"
    lines = [l for l in lines if not l.startswith(b"* 2 ")]
    last = modseqs(lines)
    assert sorted(last) == [1, 3]
    assert lines == [b"* 1 FETCH (MODSEQ (%d) UID 1)" % last[1],
                     b"* 3 FETCH (MODSEQ (%d) UID 3)" % last[3]]


def test_unchangedsince_modified_numbers_after_expunge(env, user):
    """MODIFIED holds sequence numbers for STORE, UIDs for UID STORE."""
    r = selected(env, user, 4)
    lines, tagged = r.command("STORE 1:4 (UNCHANGEDSINCE "
                              "9223372036854775807) +FLAGS ($Y)")
    base = modseqs(lines)[4]
    r.ok("STORE 1 +FLAGS.SILENT (\\Deleted)")
    assert r.ok("EXPUNGE") == [b"* 1 EXPUNGE"]
    other = env.login(user)
    other.ok("SELECT INBOX")
    other.ok("UID STORE 3 +FLAGS ($X)")
    # UIDs 2:4 are numbers 1:3 now; UID 3 changed since.
    lines, tagged = r.command("STORE 1:3 (UNCHANGEDSINCE %d) +FLAGS ($Z)"
                              % base)
    assert tagged == b"t6 OK [MODIFIED 2] Conditional STORE failed"
    assert sorted(modseqs(lines)) == [1, 2, 3]
    lines, tagged = r.command("UID STORE 1:* (UNCHANGEDSINCE %d) "
                              "+FLAGS ($W)" % base)
    assert tagged == b"t7 OK [MODIFIED 2:4] Conditional STORE failed"
    assert lines == []


def test_unchangedsince_zero(env, user):
    """RFC 7162 3.1.3: 0 fails wherever the item exists, and a system
    flag always exists; a keyword exists where it is set."""
    r = selected(env, user, 3)
    lines, tagged = r.command("STORE 1:2 (UNCHANGEDSINCE 0) +FLAGS "
                              "(\\Seen)")
    assert tagged == b"t3 OK [MODIFIED 1:2] Conditional STORE failed"
    assert lines == []
    lines, tagged = r.command("STORE 1:3 (UNCHANGEDSINCE 0) FLAGS ($Kw)")
    assert tagged == b"t4 OK [MODIFIED 1:3] Conditional STORE failed"
    r.ok("STORE 2 +FLAGS ($Lock)")
    lines, tagged = r.command("STORE 1:3 (UNCHANGEDSINCE 0) +FLAGS "
                              "($Lock)")
    assert tagged == b"t6 OK [MODIFIED 2] Conditional STORE failed"
    assert sorted(modseqs(lines)) == [1, 3]
    assert [l for l in lines if l.startswith(b"* 1 ")] == [
        b"* 1 FETCH (FLAGS (\\Recent $Lock) MODSEQ (%d))"
        % modseqs(lines)[1]]
    # Now everyone has it: all refused, nothing changes.
    lines, tagged = r.command("UID STORE 1:3 (UNCHANGEDSINCE 0) "
                              "-FLAGS ($Lock)")
    assert tagged == b"t7 OK [MODIFIED 1:3] Conditional STORE failed"
    assert lines == []
    # And a plain STORE still works afterwards.
    lines, tagged = r.command("STORE 1 -FLAGS ($Lock)")
    assert tagged == b"t8 OK Store completed"
    assert lines[0].startswith(b"* 1 FETCH (FLAGS (\\Recent) MODSEQ (")
