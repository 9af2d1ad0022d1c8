"""imap.so's EXPUNGE and UID EXPUNGE (RFC 9051 6.4.3, RFC 4315 2.1),
COPY and MOVE with their UID forms (RFC 9051 6.4.7-6.4.8, RFC 6851):
EXPUNGE responses numbered from the highest down, another session told
at its next command but not during a FETCH or STORE (RFC 9051 7.4.1),
COPYUID's exact sets (RFC 4315 2.3), MOVE's response order, [TRYCREATE]
and read-only mailboxes."""

import re

import pytest

from imap_helpers import shared_imap
from smtp_helpers import parse_mbox


@pytest.fixture(scope="module")
def env(sdk, certs, tmp_path_factory):
    yield from shared_imap(sdk, certs, tmp_path_factory)


@pytest.fixture
def user(env):
    return env.new_user()


def subjects(env, user, mailbox="INBOX"):
    return [re.search(rb"Subject: (\S+)", m).group(1).decode()
            for m in parse_mbox(env.ctl.export(user, mailbox))]


def selected(env, user, n):
    for i in range(n):
        env.deliver(user, subject="m%d" % (i + 1))
    r = env.login(user)
    assert b"* %d EXISTS" % n in r.ok("SELECT INBOX")
    return r


def make_mailbox(env, user, name, messages=1):
    """A mailbox with messages in it (CREATE is another file's job:
    poshtactl's import creates the mailbox)."""
    path = "%s/seed-%s.mbox" % (env.poshtad.root, user)
    with open(path, "wb") as f:
        for i in range(messages):
            f.write(b"From MAILER-DAEMON Thu Jan  1 00:00:00 2026\n"
                    b"Subject: seed%d\n\nseed\n\n" % i)
    env.ctl.ok("import-mbox", user, path, "--mailbox", name)


def uid_state(env, user, name):
    """(UIDVALIDITY, UIDNEXT) of a mailbox, from another session."""
    r = env.login(user)
    text = b"\n".join(r.ok("EXAMINE " + name))
    r.close()
    return (int(re.search(rb"UIDVALIDITY (\d+)", text).group(1)),
            int(re.search(rb"UIDNEXT (\d+)", text).group(1)))


# ---- EXPUNGE ----------------------------------------------------------------

def test_expunge_responses_from_the_highest_number(env, user):
    r = selected(env, user, 6)
    r.ok("STORE 2:3,5 +FLAGS.SILENT (\\Deleted)")
    lines, tagged = r.command("EXPUNGE")
    assert tagged == b"t4 OK Expunge completed"
    assert lines == [b"* 5 EXPUNGE", b"* 3 EXPUNGE", b"* 2 EXPUNGE"]
    assert subjects(env, user) == ["m1", "m4", "m6"]
    # The numbers moved: 3 is m6 now.
    assert r.ok("STORE 3 +FLAGS (\\Deleted)") == [
        b"* 3 FETCH (FLAGS (\\Deleted \\Recent))"]
    assert r.ok("EXPUNGE") == [b"* 3 EXPUNGE"]
    assert r.ok("EXPUNGE") == []


def test_uid_expunge_only_the_given_ones(env, user):
    r = selected(env, user, 5)
    r.ok("STORE 1:4 +FLAGS.SILENT (\\Deleted)")
    lines, tagged = r.command("UID EXPUNGE 2,4:5")
    assert tagged == b"t4 OK Expunge completed"
    assert lines == [b"* 4 EXPUNGE", b"* 2 EXPUNGE"]
    assert subjects(env, user) == ["m1", "m3", "m5"]
    # UIDs the client never saw are no error, and expunge nothing.
    lines, tagged = r.command("UID EXPUNGE 9:20")
    assert tagged == b"t5 OK Expunge completed" and lines == []
    lines, tagged = r.command("UID EXPUNGE")
    assert tagged.startswith(b"t6 BAD")
    lines, tagged = r.command("EXPUNGE 1")
    assert tagged.startswith(b"t7 BAD")


def test_expunge_with_imaplib(env, user):
    for i in range(3):
        env.deliver(user, subject="m%d" % (i + 1))
    m = env.imaplib(user)
    m.select("INBOX")
    m.store("1,3", "+FLAGS.SILENT", "(\\Deleted)")
    typ, data = m.expunge()
    assert typ == "OK" and data == [b"3", b"1"]
    m.logout()
    assert subjects(env, user) == ["m2"]


def test_expunge_read_only_refused(env, user):
    env.deliver(user)
    r = env.login(user)
    r.ok("SELECT INBOX")
    r.ok("STORE 1 +FLAGS.SILENT (\\Deleted)")
    r.ok("EXAMINE INBOX")
    lines, tagged = r.command("EXPUNGE")
    assert tagged == b"t5 NO Mailbox is read-only"
    lines, tagged = r.command("UID EXPUNGE 1")
    assert tagged == b"t6 NO Mailbox is read-only"
    assert len(subjects(env, user)) == 1


def test_other_session_told_at_next_noop_not_during_fetch(env, user):
    """RFC 9051 7.4.1: no EXPUNGE while answering FETCH, STORE or SEARCH,
    so the client's numbers stay valid; the next NOOP tells."""
    r = selected(env, user, 3)
    other = env.login(user)
    other.ok("SELECT INBOX")
    r.ok("STORE 2 +FLAGS.SILENT (\\Deleted)")
    assert r.ok("EXPUNGE") == [b"* 2 EXPUNGE"]
    lines, tagged = other.command("FETCH 1:3 (FLAGS)")
    assert not [l for l in lines if b"EXPUNGE" in l], lines
    lines, tagged = other.command("STORE 1:3 +FLAGS ($Seen3)")
    assert tagged == b"t4 OK Store completed"
    assert not [l for l in lines if b"EXPUNGE" in l], lines
    # Message 2 is gone: only 1 and 3 changed.
    assert sorted(lines) == [b"* 1 FETCH (FLAGS ($Seen3))",
                             b"* 3 FETCH (FLAGS ($Seen3))"]
    assert other.ok("NOOP") == [b"* 2 EXPUNGE"]
    assert other.ok("NOOP") == []
    # Now 2 is the old 3.
    assert other.ok("STORE 2 -FLAGS ($Seen3)") == [
        b"* 2 FETCH (FLAGS ())"]


def test_uid_store_may_tell_of_expunges(env, user):
    r = selected(env, user, 3)
    other = env.login(user)
    other.ok("SELECT INBOX")
    r.ok("STORE 1 +FLAGS.SILENT (\\Deleted)")
    r.ok("EXPUNGE")
    lines, tagged = other.command("UID STORE 3 +FLAGS (\\Seen)")
    assert lines == [b"* 3 FETCH (FLAGS (\\Seen) UID 3)", b"* 1 EXPUNGE"]


# ---- COPY ---------------------------------------------------------------

def test_copyuid_exact(env, user):
    make_mailbox(env, user, "Archive")
    validity, uidnext = uid_state(env, user, "Archive")
    assert uidnext == 2
    r = selected(env, user, 5)
    lines, tagged = r.command("COPY 2,4:5 Archive")
    assert tagged == b"t3 OK [COPYUID %d 2,4:5 2:4] Copy completed" % (
        validity)
    assert lines == []
    lines, tagged = r.command("UID COPY 5,1 Archive")
    assert tagged == b"t4 OK [COPYUID %d 1,5 5:6] Copy completed" % (
        validity)
    # Nothing copied: no COPYUID.
    lines, tagged = r.command("UID COPY 7:9 Archive")
    assert tagged == b"t5 OK Copy completed"
    assert subjects(env, user, "Archive") == ["seed0", "m2", "m4", "m5",
                                              "m1", "m5"]
    assert len(subjects(env, user)) == 5
    # Copying into the selected mailbox shows the copies at once.
    validity_in, _ = uid_state(env, user, "INBOX")
    lines, tagged = r.command("COPY 1 INBOX")
    assert tagged == b"t6 OK [COPYUID %d 1 6] Copy completed" % validity_in
    assert lines[0] == b"* 6 EXISTS"


def test_copy_with_imaplib_and_trycreate(env, user):
    make_mailbox(env, user, "Work")
    for i in range(2):
        env.deliver(user, subject="m%d" % (i + 1))
    m = env.imaplib(user)
    m.select("INBOX")
    typ, data = m.copy("1:2", "Work")
    assert typ == "OK"
    assert re.match(rb"\[COPYUID \d+ 1:2 2:3\] Copy completed", data[0])
    typ, data = m.copy("1", "Nowhere")
    assert typ == "NO" and data == [b"[TRYCREATE] Mailbox does not exist"]
    typ, data = m.uid("MOVE", "1", "Nowhere")
    assert typ == "NO" and data == [b"[TRYCREATE] Mailbox does not exist"]
    m.logout()
    assert subjects(env, user, "Work") == ["seed0", "m1", "m2"]
    assert subjects(env, user) == ["m1", "m2"]


def test_copy_over_quota(env):
    user = env.new_user(quota="2k")
    make_mailbox(env, user, "Archive")
    env.deliver(user, body="Subject: big\r\n\r\n" + "x" * 900 + "\r\n")
    r = env.login(user)
    r.ok("SELECT INBOX")
    lines, tagged = r.command("COPY 1 Archive")
    assert tagged == b"t3 NO [OVERQUOTA] Quota exceeded"
    assert subjects(env, user, "Archive") == ["seed0"]


# ---- MOVE -------------------------------------------------------------------

def test_move_responses_in_order(env, user):
    make_mailbox(env, user, "Archive")
    validity, uidnext = uid_state(env, user, "Archive")
    r = selected(env, user, 4)
    lines, tagged = r.command("UID MOVE 2:3 Archive")
    assert lines == [b"* OK [COPYUID %d 2:3 2:3] Moved" % validity,
                     b"* 3 EXPUNGE", b"* 2 EXPUNGE"]
    assert tagged == b"t3 OK Move completed"
    lines, tagged = r.command("MOVE 2 Archive")
    assert lines == [b"* OK [COPYUID %d 4 4] Moved" % validity,
                     b"* 2 EXPUNGE"]
    assert subjects(env, user) == ["m1"]
    assert subjects(env, user, "Archive") == ["seed0", "m2", "m3", "m4"]
    # Nothing to move.
    lines, tagged = r.command("UID MOVE 2:9 Archive")
    assert tagged == b"t5 OK Move completed" and lines == []


def test_move_seen_by_another_session_and_imaplib(env, user):
    make_mailbox(env, user, "Archive")
    for i in range(3):
        env.deliver(user, subject="m%d" % (i + 1))
    other = env.login(user)
    other.ok("SELECT INBOX")
    m = env.imaplib(user)
    m.select("INBOX")
    typ, data = m.uid("MOVE", "1,3", "Archive")
    assert typ == "OK"
    assert m.untagged_responses.get("EXPUNGE") == [b"3", b"1"]
    m.logout()
    assert other.ok("NOOP") == [b"* 3 EXPUNGE", b"* 1 EXPUNGE"]
    assert subjects(env, user) == ["m2"]
    assert subjects(env, user, "Archive") == ["seed0", "m1", "m3"]


def test_move_in_examine_refused_copy_allowed(env, user):
    make_mailbox(env, user, "Archive")
    env.deliver(user)
    r = env.login(user)
    r.ok("EXAMINE INBOX")
    lines, tagged = r.command("MOVE 1 Archive")
    assert tagged == b"t3 NO Mailbox is read-only"
    lines, tagged = r.command("UID MOVE 1 Archive")
    assert tagged == b"t4 NO Mailbox is read-only"
    lines, tagged = r.command("COPY 1 Archive")
    assert tagged.startswith(b"t5 OK [COPYUID ")
    assert len(subjects(env, user)) == 1
    assert len(subjects(env, user, "Archive")) == 2


def test_copy_move_bad_arguments(env, user):
    r = selected(env, user, 1)
    for cmd in ("COPY 1", "MOVE", "COPY 2 Archive", "UID MOVE 1",
                "COPY x Archive", "MOVE 1 Archive Extra"):
        lines, tagged = r.command(cmd)
        assert b" BAD " in tagged, (cmd, tagged)
