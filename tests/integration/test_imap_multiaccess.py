"""A selected mailbox deleted by another session (RFC 2180 3.3): the
sessions that have it selected, SELECTed or EXAMINEd, idling or not,
get an untagged BYE (RFC 9051 7.1.5) and are disconnected, at their
next command or at once while in IDLE. That holds for a DELETE that
leaves the name \\Noselect because it has children (RFC 9051 6.3.5),
and when the name is created again before the session looks: what it
had selected is gone either way. The deleting session itself is only
taken back to the authenticated state (test_imap_mailbox.py), and
sessions with other mailboxes selected see nothing.

One server for the file; each test has a user of its own."""

import pytest

from imap_helpers import append, shared_imap


@pytest.fixture(scope="module")
def env(sdk, certs, tmp_path_factory):
    yield from shared_imap(sdk, certs, tmp_path_factory)


@pytest.fixture
def user(env):
    return env.new_user()


def gone(r, lines):
    """The session's last words were BYE, and the server hung up."""
    assert lines and lines[-1].startswith(b"* BYE "), lines
    assert b"deleted" in lines[-1], lines
    r.lc.expect_eof()


def until_bye(r, tag):
    """Lines up to a BYE that ends the command tag, instead of its tagged
    reply (RFC 9051 7.1.5, response-fatal in section 9)."""
    lines = []
    while True:
        line = r.line()
        lines.append(line)
        assert not line.startswith(tag.encode() + b" "), lines
        if line.startswith(b"* BYE "):
            return lines


def test_noop_after_delete(env, user):
    a, b = env.login(user), env.login(user)
    b.ok("CREATE Gone")
    append(b, "Gone", "one")
    a.ok("SELECT Gone")
    b.ok("DELETE Gone")
    a.send("n1 NOOP\r\n")
    gone(a, until_bye(a, "n1"))
    # The deleting session goes on, and the name is free again.
    b.ok("CREATE Gone")
    b.close()


def test_examine_and_fetch_after_delete(env, user):
    a, b = env.login(user), env.login(user)
    b.ok("CREATE Gone")
    append(b, "Gone", "one")
    a.ok("EXAMINE Gone")
    b.ok("DELETE Gone")
    a.send("f1 FETCH 1 (FLAGS BODY.PEEK[])\r\n")
    gone(a, until_bye(a, "f1"))
    b.close()


def test_idle_hears_delete_at_once(env, user):
    a, b = env.login(user), env.login(user)
    b.ok("CREATE Gone")
    a.ok("SELECT Gone")
    a.send("i1 IDLE\r\n")
    assert a.line().startswith(b"+ ")
    b.ok("DELETE Gone")
    gone(a, until_bye(a, "i1"))
    b.close()


def test_close_after_delete(env, user):
    a, b = env.login(user), env.login(user)
    b.ok("CREATE Gone")
    append(b, "Gone", "one")
    a.ok("SELECT Gone")
    b.ok("DELETE Gone")
    # CLOSE asks to leave the mailbox, which is what happens: no
    # EXPUNGE to do, no BYE needed, the session goes on.
    assert a.ok("CLOSE") == []
    assert a.ok("LIST \"\" Gone") == []
    a.close()
    b.close()


def test_delete_with_children_leaves_noselect(env, user):
    a, b = env.login(user), env.login(user)
    b.ok("CREATE Parent/Child")
    append(b, "Parent", "one")
    a.ok("SELECT Parent")
    # RFC 9051 6.3.5: the name stays as \Noselect for its child; the
    # mailbox that was selected is gone all the same.
    b.ok("DELETE Parent")
    a.send("n1 NOOP\r\n")
    gone(a, until_bye(a, "n1"))
    b.close()


def test_deleted_and_created_again(env, user):
    a, b, c = env.login(user), env.login(user), env.login(user)
    b.ok("CREATE Again")
    append(b, "Again", "old")
    b.ok("CREATE Kids/Kid")
    a.ok("SELECT Again")
    c.ok("SELECT Kids")
    # A new mailbox of the same name is not the one a session had:
    # RFC 9051 2.3.1.1, a new UIDVALIDITY; so is a \Noselect name made
    # a mailbox again.
    b.ok("DELETE Again")
    b.ok("CREATE Again")
    append(b, "Again", "new")
    b.ok("DELETE Kids")
    b.ok("CREATE Kids")
    append(b, "Kids", "new")
    a.send("n1 NOOP\r\n")
    gone(a, until_bye(a, "n1"))
    c.send("n1 NOOP\r\n")
    gone(c, until_bye(c, "n1"))
    b.close()


def test_other_mailboxes_unaffected(env, user):
    a, b = env.login(user), env.login(user)
    b.ok("CREATE Gone")
    b.ok("CREATE Stays")
    a.ok("SELECT Stays")
    b.ok("SELECT Gone")
    b.ok("DELETE Gone")
    append(b, "Stays", "one")
    assert a.ok("NOOP") == [b"* 1 EXISTS", b"* 1 RECENT"]
    # The deleting session had it selected: back to authenticated,
    # and told so (RFC 9051 7.1, CLOSED), not disconnected.
    lines, tagged = b.command("FETCH 1 FLAGS")
    assert tagged.split(b" ")[1] == b"BAD", (lines, tagged)
    a.close()
    b.close()
