"""RENAME seen from other sessions and from the subscription list.

A mailbox renamed by another session, itself or through a parent, stays
selected where it was selected (RFC 2180 3.4: the name changes, the
mailbox is the same; commands that do not name it go on working), and
its changes keep reaching the session, in IDLE too (RFC 2177), under
the new name: the store's rename notice names each mailbox moved, old
and new. A rename of INBOX moves its messages, not INBOX (RFC 9051
6.3.6), so a session with INBOX selected sees them expunged.

Subscriptions follow a renamed mailbox and its children, as in Cyrus:
the client asked for the new name, so the old one would only turn up
as \\NonExistent in LSUB and LIST (SUBSCRIBED). A subscribed name that
is no mailbox is left as it is (RFC 9051 6.3.7: the server SHOULD NOT
remove a name from the list on its own), and so is INBOX's subscription
when INBOX is renamed (INBOX stays).

One server for the file; each test has a user of its own."""

import re

import pytest

from imap_helpers import append, shared_imap


@pytest.fixture(scope="module")
def env(sdk, certs, tmp_path_factory):
    yield from shared_imap(sdk, certs, tmp_path_factory)


@pytest.fixture
def user(env):
    return env.new_user()


def idle(r):
    r.send("i1 IDLE\r\n")
    assert r.line().startswith(b"+ ")


def done(r):
    r.send("DONE\r\n")
    lines, tagged = r.until("i1")
    assert tagged.startswith(b"i1 OK"), (lines, tagged)
    return lines


def next_update(r):
    """The next line in IDLE that is not a FETCH of flags."""
    while True:
        line = r.line()
        if b" FETCH " not in line:
            return line


def lsub(r):
    """(attributes, name) of each LSUB line, by name."""
    return sorted((re.match(rb'\* LSUB \(([^)]*)\) "/" (.*)$', line).groups()
                   for line in r.ok('LSUB "" *')), key=lambda a: a[1])


def test_idle_follows_renamed_mailbox(env, user):
    a, b = env.login(user), env.login(user)
    b.ok("CREATE Foo")
    append(b, "Foo", "one")
    a.ok("SELECT Foo")
    idle(a)
    b.ok("RENAME Foo Bar")
    append(b, "Bar", "two")
    assert next_update(a) == b"* 2 EXISTS"
    done(a)
    # RFC 2180 3.4: what does not name the mailbox works as before.
    lines = a.ok("FETCH 2 (BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    assert b"Subject: two" in lines[0]
    append(b, "Bar", "three")
    # STATUS of the selected mailbox, by its new name, reports what
    # changed first (RFC 9051 6.3.11).
    lines = a.ok("STATUS Bar (MESSAGES)")
    assert lines[0] == b"* 3 EXISTS", lines
    assert lines[-1] == b"* STATUS Bar (MESSAGES 3)"
    a.close()
    b.close()


def test_idle_follows_rename_of_a_parent(env, user):
    a, b = env.login(user), env.login(user)
    b.ok("CREATE Proj/Deep/Box")
    a.ok("EXAMINE Proj/Deep/Box")
    idle(a)
    b.ok("RENAME Proj Done")
    append(b, "Done/Deep/Box", "one")
    assert next_update(a) == b"* 1 EXISTS"
    done(a)
    # Renamed again, from its own level this time.
    b.ok("RENAME Done/Deep/Box Box")
    idle(a)
    append(b, "Box", "two")
    assert next_update(a) == b"* 2 EXISTS"
    done(a)
    a.close()
    b.close()


def test_rename_inbox_expunges_in_other_sessions(env, user):
    env.deliver(user, subject="one")
    a, b = env.login(user), env.login(user)
    a.ok("SELECT INBOX")
    idle(a)
    b.ok("RENAME INBOX Old")
    assert next_update(a) == b"* 1 EXPUNGE"
    done(a)
    env.deliver(user, subject="two")
    assert a.ok("NOOP")[0] == b"* 1 EXISTS"
    a.close()
    b.close()


def test_rename_moves_subscriptions(env, user):
    r = env.login(user)
    r.ok("CREATE Old/Kid/Grandkid")
    r.ok("CREATE Old/Unsubscribed")
    r.ok("CREATE Older")
    for name in ("INBOX", "Old", "Old/Kid/Grandkid", "Old/Ghost", "Older",
                 "New/Ghost"):
        r.ok("SUBSCRIBE %s" % name)
    r.ok("RENAME Old New")
    # The mailboxes' subscriptions moved with them; names that are no
    # mailbox, and names that only share a prefix, stayed.
    assert lsub(r) == [
        (b"", b"INBOX"), (b"", b"New"), (b"\\Noselect", b"New/Ghost"),
        (b"", b"New/Kid/Grandkid"), (b"\\Noselect", b"Old/Ghost"),
        (b"", b"Older")]
    lines = r.ok('LIST (SUBSCRIBED) "" "Old*"')
    assert lines == [b'* LIST (\\NonExistent \\Subscribed) "/" Old/Ghost',
                     b'* LIST (\\Subscribed) "/" Older'], lines
    # INBOX stays where it is when renamed, and so does its
    # subscription; the new mailbox is not subscribed.
    r.ok("RENAME INBOX Archive")
    assert (b"", b"INBOX") in lsub(r)
    assert not any(name == b"Archive" for _, name in lsub(r))
    r.close()
