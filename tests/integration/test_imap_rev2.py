"""IMAP4rev2 without \\Recent: RFC 9051 has no \\Recent among its system
flags (2.3.2) and no RECENT response among its mailbox-size responses
(7.3); its grammar keeps both only as obsolete-flag-recent and
obsolete-recent-response (section 9) for IMAP4rev1 servers. So after
ENABLE IMAP4rev2 no flag list shows \\Recent: not FETCH FLAGS, not the
FETCHes a change by another session causes, not QRESYNC's FETCHes at
SELECT, and no untagged RECENT comes when mail arrives. An IMAP4rev1
session of the same user keeps both (RFC 3501 2.3.2, 7.3.2).

One server for the file; each test has users of its own."""

import re

import pytest

from imap_helpers import shared_imap


@pytest.fixture(scope="module")
def env(sdk, certs, tmp_path_factory):
    yield from shared_imap(sdk, certs, tmp_path_factory)


@pytest.fixture
def user(env):
    return env.new_user()


def session(env, user, rev2):
    r = env.login(user)
    if rev2:
        assert r.ok("ENABLE IMAP4rev2") == [b"* ENABLED IMAP4rev2"]
    return r


def flag_lists(lines):
    """Every FLAGS (...) list in the untagged FETCH lines."""
    return [m.group(1) for line in lines
            for m in [re.search(rb" FETCH \(.*FLAGS \(([^)]*)\)", line)]
            if m]


def test_rev2_fetch_flags_have_no_recent(env, user):
    env.deliver(user, subject="one")
    env.deliver(user, subject="two")
    r = session(env, user, rev2=True)
    lines = r.ok("SELECT INBOX")
    assert not any(b"RECENT" in line for line in lines), lines
    # This session claimed both messages (a read-write SELECT does),
    # yet IMAP4rev2 has no flag to show that with.
    assert flag_lists(r.ok("FETCH 1:* FLAGS")) == [b"", b""]
    assert flag_lists(r.ok("UID FETCH 1:* (FLAGS UID)")) == [b"", b""]
    assert flag_lists(r.ok("FETCH 1 (FLAGS BODY[HEADER.FIELDS (SUBJECT)])")
                      ) == [b"\\Seen"]
    assert flag_lists(r.ok("STORE 2 +FLAGS (\\Flagged)")) == [b"\\Flagged"]
    r.close()


def test_rev2_new_mail_and_other_sessions_changes(env, user):
    r = session(env, user, rev2=True)
    r.ok("SELECT INBOX")
    env.deliver(user, subject="late")
    lines = r.ok("NOOP")
    # RFC 9051 7.3.1: EXISTS alone announces new mail.
    assert lines == [b"* 1 EXISTS"], lines
    assert flag_lists(r.ok("FETCH 1 FLAGS")) == [b""]
    other = env.login(user)
    other.ok("SELECT INBOX")
    other.ok("STORE 1 +FLAGS.SILENT (\\Answered)")
    # The change another session made comes as an unsolicited FETCH.
    assert flag_lists(r.ok("NOOP")) == [b"\\Answered"]
    other.close()
    r.close()


def test_rev2_qresync_select_fetches(env, user):
    env.deliver(user, subject="one")
    r = session(env, user, rev2=True)
    r.ok("ENABLE QRESYNC")
    lines = r.ok("SELECT INBOX")
    validity = re.search(rb"UIDVALIDITY (\d+)", b"\n".join(lines)).group(1)
    r.ok("UNSELECT")
    env.deliver(user, subject="two")
    # RFC 7162 3.2.5.1: what changed since MODSEQ 1 comes as FETCH.
    lines = r.ok("SELECT INBOX (QRESYNC (%s 1))" % validity.decode())
    assert not any(b"RECENT" in line for line in lines), lines
    assert flag_lists(lines) == [b"", b""], lines
    r.close()


def test_rev1_keeps_recent(env, user):
    env.deliver(user, subject="one")
    r = session(env, user, rev2=False)
    lines = r.ok("SELECT INBOX")
    assert b"* 1 RECENT" in lines
    assert flag_lists(r.ok("FETCH 1 FLAGS")) == [b"\\Recent"]
    env.deliver(user, subject="two")
    assert r.ok("NOOP") == [b"* 2 EXISTS", b"* 2 RECENT"]
    assert flag_lists(r.ok("FETCH 1:* FLAGS")) == [b"\\Recent", b"\\Recent"]
    r.close()
