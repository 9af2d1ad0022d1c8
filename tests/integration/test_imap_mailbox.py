"""imap.so's mailbox commands: LIST (RFC 9051 6.3.9, RFC 3501 6.3.8) with
patterns, the reference, INBOX in any case, LIST "" "", mUTF-7 names;
LIST-EXTENDED (RFC 5258) selection and return options, several patterns,
RECURSIVEMATCH and CHILDINFO; CHILDREN (RFC 3348); SPECIAL-USE and
CREATE-SPECIAL-USE (RFC 6154); LIST-STATUS (RFC 5819); LSUB (RFC 3501
6.3.9); CREATE, DELETE, RENAME (INBOX too), SUBSCRIBE, UNSUBSCRIBE
(6.3.4-6.3.8) and what they do to a selected mailbox; STATUS (6.3.11,
RFC 8438 SIZE, RFC 7162 HIGHESTMODSEQ, RFC 9208 DELETED-STORAGE, RFC 7889
APPENDLIMIT); and that nothing reaches another user's mailboxes.

One server for the whole file; each test logs in as a user of its own,
so every listing starts from INBOX alone."""

import math
import os
import re

import pytest

from imap_helpers import shared_imap


@pytest.fixture(scope="module")
def env(sdk, certs, tmp_path_factory):
    yield from shared_imap(sdk, certs, tmp_path_factory)


@pytest.fixture
def user(env):
    return env.new_user()


@pytest.fixture
def r(env, user):
    """A raw client logged in as the test's own user."""
    client = env.login(user)
    yield client
    client.close()


def ok(r, cmd):
    """The untagged lines of a command that must succeed."""
    lines, tagged = r.command(cmd)
    assert re.match(rb"t\d+ OK ", tagged), (cmd, lines, tagged)
    return lines


def refused(r, cmd, status="NO", code=None):
    """The tagged line of a command that must fail as said."""
    lines, tagged = r.command(cmd)
    want = status.encode() + (b" [" + code.encode() + b"]" if code else b"")
    assert tagged.split(b" ", 1)[1].startswith(want), (cmd, lines, tagged)
    return lines


def create(r, *names):
    for name in names:
        ok(r, "CREATE %s" % name)


LIST_LINE = re.compile(
    rb'\* (?:LIST|LSUB) \([^)]*\) "/" ("(?:[^"\\]|\\.)*"|[^ ]+)')


def listed(r, cmd):
    """The names a LIST or LSUB returned, in the order it gave them."""
    names = []
    for line in ok(r, cmd):
        m = LIST_LINE.match(line)
        assert m, line
        names.append(m.group(1).strip(b'"').decode())
    return names


def import_mbox(env, user, mailbox, messages):
    """Messages (LF lines, Status:/X-Status: headers allowed) put into
    mailbox through poshtactl import-mbox; returns the octets each is
    stored as (CRLF lines, those headers gone)."""
    path = os.path.join(env.poshtad.root, "import.mbox")
    sizes = []
    with open(path, "w") as f:
        for text in messages:
            f.write("From sender@remote.test Mon Jan  1 00:00:00 2024\n")
            f.write(text + "\n\n")
            kept = [ln for ln in text.split("\n")
                    if not re.match(r"(X-)?Status:", ln)]
            sizes.append(len("\r\n".join(kept)) + 2)
    env.ctl.ok("import-mbox", user, path, "--mailbox", mailbox)
    return sizes


def status(r, mailbox, items):
    """STATUS as a dict of item name to number."""
    lines = ok(r, "STATUS %s (%s)" % (mailbox, items))
    m = re.match(rb"\* STATUS (?:\S+|\"[^\"]*\") \((.*)\)$", lines[-1])
    assert m, lines
    words = m.group(1).decode().split()
    return dict(zip(words[::2], map(int, words[1::2])))


# ---- LIST: patterns, reference, INBOX ------------------------------------

def test_list_delimiter_and_root(r):
    # RFC 9051 6.3.9: the delimiter and the reference's root.
    assert ok(r, 'LIST "" ""') == [b'* LIST (\\Noselect) "/" ""']
    assert ok(r, 'LIST "Work/2024" ""') == [b'* LIST (\\Noselect) "/" Work/']
    assert ok(r, 'LIST Work ""') == [b'* LIST (\\Noselect) "/" ""']
    # RFC 5258 3: an extended LIST matches the empty pattern to nothing.
    assert ok(r, 'LIST () "" ""') == []
    assert ok(r, 'LIST "" ("")') == []
    assert ok(r, 'LIST "" "" RETURN (CHILDREN)') == []


def test_list_hierarchy_wildcards(r):
    create(r, "Work/2024/Q1", "Work/2025", "Private", "Private2")
    assert ok(r, 'LIST "" *') == [
        b'* LIST (\\HasNoChildren) "/" INBOX',
        b'* LIST (\\HasNoChildren) "/" Private',
        b'* LIST (\\HasNoChildren) "/" Private2',
        b'* LIST (\\HasChildren) "/" Work',
        b'* LIST (\\HasChildren) "/" Work/2024',
        b'* LIST (\\HasNoChildren) "/" Work/2024/Q1',
        b'* LIST (\\HasNoChildren) "/" Work/2025',
    ]
    # "%" stops at the delimiter; "*" does not.
    assert listed(r, 'LIST "" %') == ["INBOX", "Private", "Private2", "Work"]
    assert listed(r, 'LIST "" Work/%') == ["Work/2024", "Work/2025"]
    assert listed(r, 'LIST "" Work/*') == [
        "Work/2024", "Work/2024/Q1", "Work/2025"]
    assert listed(r, 'LIST "" %/%') == ["Work/2024", "Work/2025"]
    assert listed(r, 'LIST "" */Q%') == ["Work/2024/Q1"]
    assert listed(r, 'LIST "" W%/20%5') == ["Work/2025"]
    assert listed(r, 'LIST "" Pri%') == ["Private", "Private2"]
    assert listed(r, 'LIST "" Private') == ["Private"]
    assert listed(r, 'LIST "" %2') == ["Private2"]
    # The reference is prefixed to the pattern (RFC 9051 6.3.9).
    assert listed(r, 'LIST Work/ %') == ["Work/2024", "Work/2025"]
    assert listed(r, 'LIST Work/2024/ *') == ["Work/2024/Q1"]
    assert listed(r, 'LIST Work /%') == []  # "/%" stands alone
    # Names other than INBOX are case-sensitive.
    assert listed(r, 'LIST "" work') == []
    assert listed(r, 'LIST "" "%%**%"') == listed(r, 'LIST "" *')


def test_list_inbox_any_case(r):
    create(r, "inbox/Sub", "Inboxes")
    # RFC 9051 5.1: INBOX is INBOX in any case, and so is its part of
    # its children's names; "Inboxes" is another name.
    assert listed(r, 'LIST "" *') == ["INBOX", "INBOX/Sub", "Inboxes"]
    assert ok(r, 'LIST "" inbox') == [b'* LIST (\\HasChildren) "/" INBOX']
    assert listed(r, 'LIST "" InBoX') == ["INBOX"]
    assert listed(r, 'LIST "" i%') == ["INBOX"]
    assert listed(r, 'LIST "" inbox/%') == ["INBOX/Sub"]
    assert listed(r, 'LIST inBOX/ *') == ["INBOX/Sub"]
    assert listed(r, 'LIST "" Inbox%') == ["INBOX", "Inboxes"]
    assert listed(r, 'LIST "" inboxes') == []
    status(r, "inbox/Sub", "MESSAGES")


def test_mutf7_names(env, user, r):
    # RFC 3501 5.1.3: "Entwürfe" travels as Entw&APw-rfe.
    create(r, "Entw&APw-rfe", '"A&-B"', "&ZeVnLIqe-/&U,BTFw-")
    assert listed(r, 'LIST "" *') == [
        "A&-B", "Entw&APw-rfe", "INBOX", "&ZeVnLIqe-", "&ZeVnLIqe-/&U,BTFw-"]
    # Patterns are decoded too, wildcards and all.
    assert listed(r, 'LIST "" Entw&APw-*') == ["Entw&APw-rfe"]
    assert listed(r, 'LIST &ZeVnLIqe-/ %') == ["&ZeVnLIqe-/&U,BTFw-"]
    assert listed(r, 'LIST "" *&-*') == ["A&-B"]
    assert status(r, "Entw&APw-rfe", "MESSAGES") == {"MESSAGES": 0}
    # The store holds UTF-8.
    names = env.ctl.ok("mailbox", "list", user)
    assert "Entwürfe" in names and "日本語/台北" in names, names
    # Not modified UTF-7: refused, or (a pattern) matching nothing.
    for bad in ('"Bad&AGE-"', '"Bad&APw"', '"Entw&APw-&APw-"',
                '"&AGEAYgBj-"', '"Entw&APwA-rfe"', '"Bad&"'):
        refused(r, "CREATE %s" % bad, "NO", "CANNOT")
    r.send(b'a1 CREATE "Entw\xc3\xbcrfe"\r\n')
    lines, tagged = r.until("a1")
    assert not tagged.startswith(b"a1 OK"), tagged
    assert ok(r, 'LIST "" "Entw&APw"') == []
    assert "Entwürfe" in env.ctl.ok("mailbox", "list", user)


# ---- Special use -----------------------------------------------------------

def test_special_use_and_create_use(r):
    create(r, r"Drafts (USE (\Drafts))", r"Sent (use (\sent))",
           r"Trash (USE (\Trash))", r"Junk (USE (\Junk))",
           r"Archive/2024 (USE (\Archive))", "Plain (USE ())")
    assert ok(r, 'LIST "" *') == [
        b'* LIST (\\HasChildren) "/" Archive',
        b'* LIST (\\HasNoChildren \\Archive) "/" Archive/2024',
        b'* LIST (\\HasNoChildren \\Drafts) "/" Drafts',
        b'* LIST (\\HasNoChildren) "/" INBOX',
        b'* LIST (\\HasNoChildren \\Junk) "/" Junk',
        b'* LIST (\\HasNoChildren) "/" Plain',
        b'* LIST (\\HasNoChildren \\Sent) "/" Sent',
        b'* LIST (\\HasNoChildren \\Trash) "/" Trash',
    ]
    # RFC 6154 3: the selection option returns only those, with their
    # special use; the return option adds it to whatever is listed.
    assert ok(r, 'LIST (SPECIAL-USE) "" *') == [
        b'* LIST (\\Archive) "/" Archive/2024',
        b'* LIST (\\Drafts) "/" Drafts',
        b'* LIST (\\Junk) "/" Junk',
        b'* LIST (\\Sent) "/" Sent',
        b'* LIST (\\Trash) "/" Trash',
    ]
    assert ok(r, 'LIST "" (Sent Plain) RETURN (SPECIAL-USE)') == [
        b'* LIST () "/" Plain', b'* LIST (\\Sent) "/" Sent']
    assert ok(r, 'LIST "" (Sent) RETURN (CHILDREN)') == [
        b'* LIST (\\HasNoChildren) "/" Sent']
    assert ok(r, 'LIST (SPECIAL-USE RECURSIVEMATCH) "" %') == [
        b'* LIST () "/" Archive ("CHILDINFO" ("SPECIAL-USE"))',
        b'* LIST (\\Drafts) "/" Drafts',
        b'* LIST (\\Junk) "/" Junk',
        b'* LIST (\\Sent) "/" Sent',
        b'* LIST (\\Trash) "/" Trash',
    ]
    # RFC 6154 5.3: a use the server cannot give: NO [USEATTR], and no
    # mailbox. \All and \Flagged would be views of other mailboxes.
    for use in (r"\All", r"\Flagged", r"\Important", r"\Drafts \Bogus"):
        refused(r, "CREATE X (USE (%s))" % use, "NO", "USEATTR")
    assert listed(r, 'LIST "" X') == []
    refused(r, r"CREATE X (USE \Drafts)", "BAD")
    refused(r, r"CREATE X (OTHER (1))", "BAD")
    refused(r, r"CREATE X (USE (Drafts))", "NO", "USEATTR")
    # RENAME keeps the use; a \Noselect mailbox has none.
    ok(r, "RENAME Drafts Entwurf")
    assert ok(r, 'LIST (SPECIAL-USE) "" Entwurf') == [
        b'* LIST (\\Drafts) "/" Entwurf']


# ---- Subscriptions, LIST-EXTENDED, LSUB --------------------------------

def subscribed_tree(r):
    create(r, "Work/2024/Q1", "Work/2025", "Fun")
    for name in ("INBOX", "Work/2024", "Work/2024/Q1", "Gone/Old", "Fun"):
        ok(r, "SUBSCRIBE %s" % name)


def test_list_subscribed(r):
    subscribed_tree(r)
    # RFC 5258 3.1: SUBSCRIBED lists subscriptions, existing or not
    # (\NonExistent), and implies the SUBSCRIBED return option.
    assert ok(r, 'LIST (SUBSCRIBED) "" *') == [
        b'* LIST (\\Subscribed) "/" Fun',
        b'* LIST (\\NonExistent \\Subscribed) "/" Gone/Old',
        b'* LIST (\\Subscribed) "/" INBOX',
        b'* LIST (\\Subscribed) "/" Work/2024',
        b'* LIST (\\Subscribed) "/" Work/2024/Q1',
    ]
    assert ok(r, 'LIST (SUBSCRIBED) "" * RETURN (CHILDREN)') == [
        b'* LIST (\\HasNoChildren \\Subscribed) "/" Fun',
        b'* LIST (\\NonExistent \\HasNoChildren \\Subscribed) "/" Gone/Old',
        b'* LIST (\\HasNoChildren \\Subscribed) "/" INBOX',
        b'* LIST (\\HasChildren \\Subscribed) "/" Work/2024',
        b'* LIST (\\HasNoChildren \\Subscribed) "/" Work/2024/Q1',
    ]
    # The return option marks what exists, and lists nothing more.
    assert ok(r, 'LIST "" * RETURN (SUBSCRIBED)') == [
        b'* LIST (\\Subscribed) "/" Fun',
        b'* LIST (\\Subscribed) "/" INBOX',
        b'* LIST () "/" Work',
        b'* LIST (\\Subscribed) "/" Work/2024',
        b'* LIST (\\Subscribed) "/" Work/2024/Q1',
        b'* LIST () "/" Work/2025',
    ]
    # A plain LIST says nothing of subscriptions.
    assert not [ln for ln in ok(r, 'LIST "" *') if b"Subscribed" in ln]
    # RFC 9051 6.3.8: unsubscribing what is not subscribed is no error.
    ok(r, "UNSUBSCRIBE Gone/Old")
    ok(r, "UNSUBSCRIBE Gone/Old")
    ok(r, "UNSUBSCRIBE Never/Was")
    assert listed(r, 'LIST (SUBSCRIBED) "" G*') == []


def test_list_recursivematch_childinfo(r):
    subscribed_tree(r)
    # RFC 5258 3.5: a name matching the pattern but not the selection is
    # returned, with CHILDINFO, when a descendant meets the selection
    # and is not returned itself.
    assert ok(r, 'LIST (SUBSCRIBED RECURSIVEMATCH) "" %') == [
        b'* LIST (\\Subscribed) "/" Fun',
        b'* LIST (\\NonExistent) "/" Gone ("CHILDINFO" ("SUBSCRIBED"))',
        b'* LIST (\\Subscribed) "/" INBOX',
        b'* LIST () "/" Work ("CHILDINFO" ("SUBSCRIBED"))',
    ]
    assert ok(r, 'LIST (RECURSIVEMATCH SUBSCRIBED) "" Work/% '
                 'RETURN (CHILDREN)') == [
        b'* LIST (\\HasChildren \\Subscribed) "/" Work/2024 '
        b'("CHILDINFO" ("SUBSCRIBED"))',
    ]
    # With "*" every subscribed name is returned itself: no parent is.
    assert listed(r, 'LIST (SUBSCRIBED RECURSIVEMATCH) "" *') == [
        "Fun", "Gone/Old", "INBOX", "Work/2024", "Work/2024/Q1"]
    # RECURSIVEMATCH alone, or with REMOTE alone, is BAD; so are options
    # nobody defined.
    refused(r, 'LIST (RECURSIVEMATCH) "" %', "BAD")
    refused(r, 'LIST (REMOTE RECURSIVEMATCH) "" %', "BAD")
    refused(r, 'LIST (VENDOR.FOO) "" %', "BAD")
    refused(r, 'LIST "" % RETURN (BOGUS)', "BAD")
    # REMOTE: there are no remote mailboxes here.
    assert listed(r, 'LIST (REMOTE) "" %') == listed(r, 'LIST "" %')


def test_list_several_patterns(r):
    create(r, "Work/2024", "Fun")
    # RFC 5258 3: each name once, however many patterns match it.
    assert listed(r, 'LIST "" (INBOX Work/* W* "Work")') == [
        "INBOX", "Work", "Work/2024"]
    assert listed(r, 'LIST Work/ (% "*")') == ["Work/2024"]
    # A pattern that cannot be decoded is ignored, silently.
    assert listed(r, 'LIST "" ("Bad&AGE-" Fun)') == ["Fun"]
    refused(r, 'LIST "" ()', "BAD")
    refused(r, 'LIST "" (INBOX (Fun))', "BAD")


def test_lsub(r):
    subscribed_tree(r)
    ok(r, "DELETE Fun")  # subscriptions outlive their mailboxes
    assert ok(r, 'LSUB "" *') == [
        b'* LSUB (\\Noselect) "/" Fun',
        b'* LSUB (\\Noselect) "/" Gone/Old',
        b'* LSUB () "/" INBOX',
        b'* LSUB () "/" Work/2024',
        b'* LSUB () "/" Work/2024/Q1',
    ]
    # RFC 3501 6.3.9: "%" returns the unsubscribed level above a
    # subscribed name, \Noselect; without "%" at the end it does not.
    assert ok(r, 'LSUB "" %') == [
        b'* LSUB (\\Noselect) "/" Fun',
        b'* LSUB (\\Noselect) "/" Gone',
        b'* LSUB () "/" INBOX',
        b'* LSUB (\\Noselect) "/" Work',
    ]
    assert listed(r, 'LSUB "" W*') == ["Work/2024", "Work/2024/Q1"]
    assert listed(r, 'LSUB Work/ %') == ["Work/2024"]
    refused(r, 'LSUB "" (INBOX)', "BAD")
    refused(r, 'LSUB () "" *', "BAD")


# ---- LIST-STATUS ------------------------------------------------------------

def test_list_status(env, user, r):
    env.deliver(user)
    create(r, "Box/Kid")
    ok(r, "DELETE Box")  # \Noselect: it has a child
    ok(r, "SUBSCRIBE Box/Kid")
    lines = ok(r, 'LIST "" * RETURN (STATUS (MESSAGES UNSEEN))')
    # RFC 5819 2: STATUS right after each LIST of a selectable mailbox.
    assert lines == [
        b'* LIST (\\Noselect) "/" Box',
        b'* LIST () "/" Box/Kid',
        b'* STATUS Box/Kid (MESSAGES 0 UNSEEN 0)',
        b'* LIST () "/" INBOX',
        b'* STATUS INBOX (MESSAGES 1 UNSEEN 1)',
    ]
    # A parent returned only for CHILDINFO gets no STATUS.
    assert ok(r, 'LIST (SUBSCRIBED RECURSIVEMATCH) "" % '
                 'RETURN (STATUS (MESSAGES) CHILDREN)') == [
        b'* LIST (\\Noselect \\HasChildren) "/" Box '
        b'("CHILDINFO" ("SUBSCRIBED"))',
    ]
    refused(r, 'LIST "" * RETURN (STATUS ())', "BAD")
    refused(r, 'LIST "" * RETURN (STATUS (BOGUS))', "BAD")
    refused(r, 'LIST "" * RETURN (STATUS)', "BAD")


def test_list_status_long_output(r):
    # More than the 256 KiB a job writes at once: the listing goes out
    # in pieces, in order, whole.
    names = ["Big/%03d-%s" % (i, "x" * 900) for i in range(160)]
    r.send("".join("c%d CREATE %s\r\n" % (i, n) for i, n in
                   enumerate(names)))
    for i in range(len(names)):
        lines, tagged = r.until("c%d" % i)
        assert tagged.startswith(b"c%d OK" % i), tagged
    lines = ok(r, 'LIST "" Big/% RETURN (STATUS (MESSAGES UIDNEXT))')
    assert sum(map(len, lines)) > 256 * 1024
    want = []
    for n in names:
        want += [b'* LIST () "/" ' + n.encode(),
                 b"* STATUS " + n.encode() + b" (MESSAGES 0 UIDNEXT 1)"]
    assert lines == want


# ---- CREATE, DELETE, RENAME -------------------------------------------------

def test_create(env, r):
    # RFC 9051 6.3.4: a trailing delimiter is a declaration, ignored;
    # superiors are created as needed, and can be selected.
    create(r, "Projects/", "Deep/er/est")
    assert ok(r, 'LIST "" *') == [
        b'* LIST (\\HasChildren) "/" Deep',
        b'* LIST (\\HasChildren) "/" Deep/er',
        b'* LIST (\\HasNoChildren) "/" Deep/er/est',
        b'* LIST (\\HasNoChildren) "/" INBOX',
        b'* LIST (\\HasNoChildren) "/" Projects',
    ]
    ok(r, "SELECT Deep/er")
    refused(r, "CREATE INBOX", "NO", "ALREADYEXISTS")
    refused(r, "CREATE inbox", "NO", "ALREADYEXISTS")
    refused(r, "CREATE Projects", "NO", "ALREADYEXISTS")
    refused(r, "CREATE Projects/", "NO", "ALREADYEXISTS")
    for bad in ('"a//b"', '"/lead"', '"x*y"', '"x%y"', '"//"', '"/"'):
        refused(r, "CREATE %s" % bad, "NO", "CANNOT")
    refused(r, 'CREATE ""', "NO")
    refused(r, "CREATE", "BAD")
    refused(r, "CREATE a b c", "BAD")
    # imaplib, as a real client uses it.
    m = env.imaplib(env.new_user())
    assert m.create("Reports/2024")[0] == "OK"
    assert m.create("Reports/2024")[0] == "NO"
    assert m.list('""', "Reports/*") == (
        "OK", [b'(\\HasNoChildren) "/" Reports/2024'])
    m.logout()


def test_delete(r):
    create(r, "Parent/Child", "Leaf")
    refused(r, "DELETE INBOX", "NO", "CANNOT")
    refused(r, "DELETE inbox", "NO", "CANNOT")
    refused(r, "DELETE Nothing", "NO", "NONEXISTENT")
    ok(r, "DELETE Leaf")
    # RFC 3501 6.3.4: with children, the mailbox stays, \Noselect.
    ok(r, "DELETE Parent")
    assert ok(r, 'LIST "" P*') == [
        b'* LIST (\\Noselect \\HasChildren) "/" Parent',
        b'* LIST (\\HasNoChildren) "/" Parent/Child',
    ]
    refused(r, "SELECT Parent", "NO")
    refused(r, "STATUS Parent (MESSAGES)", "NO")
    # ... and then cannot go while it has children.
    refused(r, "DELETE Parent", "NO", "HASCHILDREN")
    ok(r, "DELETE Parent/Child")
    assert ok(r, 'LIST "" P*') == [
        b'* LIST (\\Noselect \\HasNoChildren) "/" Parent']
    # CREATE makes a \Noselect name a mailbox again.
    ok(r, "CREATE Parent")
    ok(r, "SELECT Parent")
    ok(r, "DELETE Parent")
    assert listed(r, 'LIST "" *') == ["INBOX"]


def test_delete_selected(env, user, r):
    create(r, "Tmp")
    ok(r, "SELECT Tmp")
    # The selected mailbox is gone: the session is back in the
    # authenticated state, and says so (RFC 9051 7.1 CLOSED).
    assert ok(r, "DELETE Tmp") == [b"* OK [CLOSED] Selected mailbox deleted"]
    refused(r, "CLOSE", "BAD")
    # Deleting another one leaves the selection alone.
    create(r, "Keep", "Other")
    ok(r, "SELECT Keep")
    assert ok(r, "DELETE Other") == []
    assert ok(r, "CLOSE") == []


def test_rename(r):
    create(r, r"Old/Sub/Deep", r"Sent (USE (\Sent))", "Taken")
    ok(r, "RENAME Old New")
    # RFC 9051 6.3.6: the children move along.
    assert listed(r, 'LIST "" *') == [
        "INBOX", "New", "New/Sub", "New/Sub/Deep", "Sent", "Taken"]
    # Superiors are made as needed.
    ok(r, "RENAME Taken Some/Where/Taken")
    assert listed(r, 'LIST "" S*') == [
        "Sent", "Some", "Some/Where", "Some/Where/Taken"]
    refused(r, "RENAME Nothing Else", "NO", "NONEXISTENT")
    refused(r, "RENAME New Sent", "NO", "ALREADYEXISTS")
    refused(r, "RENAME New INBOX", "NO", "ALREADYEXISTS")
    refused(r, "RENAME New inbox", "NO", "ALREADYEXISTS")
    refused(r, "RENAME New New/Sub/Below", "NO", "CANNOT")
    refused(r, 'RENAME New "Bad&AGE-"', "NO", "CANNOT")
    refused(r, "RENAME New", "BAD")
    assert listed(r, 'LIST "" New*') == ["New", "New/Sub", "New/Sub/Deep"]


def test_rename_inbox(env, user, r):
    env.deliver(user, subject="one")
    env.deliver(user, subject="two")
    create(r, "INBOX/Kid")
    # RFC 9051 6.3.6: INBOX's messages move to the new mailbox (with
    # UIDs from 1), INBOX stays, empty, and keeps its children.
    ok(r, 'RENAME inbox "Old Mail"')
    assert status(r, "INBOX", "MESSAGES UIDNEXT") == {
        "MESSAGES": 0, "UIDNEXT": 3}
    assert status(r, '"Old Mail"', "MESSAGES UIDNEXT UNSEEN") == {
        "MESSAGES": 2, "UIDNEXT": 3, "UNSEEN": 2}
    assert listed(r, 'LIST "" *') == ["INBOX", "INBOX/Kid", "Old Mail"]
    # Mail still arrives in INBOX.
    env.deliver(user, subject="three")
    assert status(r, "INBOX", "MESSAGES") == {"MESSAGES": 1}
    # imaplib's rename of a child of INBOX.
    m = env.imaplib(user)
    assert m.rename("INBOX/Kid", "Kid")[0] == "OK"
    assert m.list()[1] == [b'(\\HasNoChildren) "/" INBOX',
                           b'(\\HasNoChildren) "/" Kid',
                           b'(\\HasNoChildren) "/" "Old Mail"']
    m.logout()


def test_rename_selected_keeps_following_it(env, user, r):
    create(r, "Proj/A")
    ok(r, "SELECT Proj/A")
    ok(r, "RENAME Proj Done")
    # Still selected, now as Done/A: a change announced under the new
    # name reaches this session while it idles. (poshtactl announces
    # nothing; the SUBSCRIBE does.)
    r.send("i1 IDLE\r\n")
    assert r.line().startswith(b"+ ")
    import_mbox(env, user, "Done/A", ["Subject: moved\n\nbody"])
    other = env.login(user)
    ok(other, "SUBSCRIBE Done/A")  # a change notice for the name
    assert r.line() == b"* 1 EXISTS"
    r.send("DONE\r\n")
    lines, tagged = r.until("i1")
    assert tagged.startswith(b"i1 OK"), (lines, tagged)
    other.close()


# ---- SUBSCRIBE through imaplib ---------------------------------------------

def test_imaplib_subscribe_lsub(env, user):
    m = env.imaplib(user)
    assert m.create("News")[0] == "OK"
    assert m.subscribe("News")[0] == "OK"
    assert m.subscribe("Not/There")[0] == "OK"
    assert m.lsub() == ("OK", [b'() "/" News',
                               b'(\\Noselect) "/" Not/There'])
    assert m.unsubscribe("News")[0] == "OK"
    assert m.lsub() == ("OK", [b'(\\Noselect) "/" Not/There'])
    assert m.delete("News")[0] == "OK"
    assert m.delete("News")[0] == "NO"
    m.logout()


# ---- STATUS -------------------------------------------------------------------

def test_status_items(env, user, r):
    env.deliver(user, subject="one")
    env.deliver(user, subject="two")
    st = status(r, "INBOX", "MESSAGES RECENT UIDNEXT UIDVALIDITY UNSEEN SIZE "
                "DELETED")
    usage = env.ctl.ok("quota", "get", user)
    bytes_used = int(re.search(r": (\d+) bytes", usage).group(1))
    lines = ok(r, "EXAMINE INBOX")
    validity = int(re.search(rb"UIDVALIDITY (\d+)", b"".join(lines)).group(1))
    assert st == {"MESSAGES": 2, "RECENT": 2, "UIDNEXT": 3,
                  "UIDVALIDITY": validity, "UNSEEN": 2, "SIZE": bytes_used,
                  "DELETED": 0}
    assert bytes_used > 200
    # Items come back in the order asked, each once.
    assert ok(r, "STATUS inbox (UNSEEN MESSAGES unseen)") == [
        b"* STATUS INBOX (UNSEEN 2 MESSAGES 2)"]
    # A read-write SELECT claims the \Recent messages.
    ok(r, "SELECT INBOX")
    ok(r, "CLOSE")
    assert status(r, "INBOX", "RECENT") == {"RECENT": 0}


def test_status_flags_and_sizes(env, user, r):
    texts = ["Subject: a\nStatus: RO\n\nread, kept",
             "Subject: b\nX-Status: D\n\ndeleted, not read" + "x" * 3000,
             "Subject: c\nStatus: RO\nX-Status: D\n\nread and deleted"]
    sizes = import_mbox(env, user, "Imported", texts)
    st = status(r, "Imported", "MESSAGES UNSEEN DELETED SIZE DELETED-STORAGE "
                "UIDNEXT HIGHESTMODSEQ APPENDLIMIT")
    # RFC 8438: SIZE is the octets stored; RFC 9208: DELETED-STORAGE is
    # what EXPUNGE would free, in units of 1024 octets.
    assert st["SIZE"] == sum(sizes)
    assert st["DELETED-STORAGE"] == math.ceil((sizes[1] + sizes[2]) / 1024)
    assert st["DELETED-STORAGE"] == 3
    assert (st["MESSAGES"], st["UNSEEN"], st["DELETED"]) == (3, 1, 2)
    assert st["UIDNEXT"] == 4 and st["HIGHESTMODSEQ"] > 0
    assert st["APPENDLIMIT"] == 50 * 1024 * 1024


def test_status_of_selected_mailbox(env, user, r):
    ok(r, "SELECT INBOX")
    env.deliver(user)
    # RFC 9051 6.3.11: allowed; what changed is reported first, so the
    # numbers agree with what the client knows.
    lines = ok(r, "STATUS INBOX (MESSAGES)")
    assert lines[0] == b"* 1 EXISTS"
    assert lines[-1] == b"* STATUS INBOX (MESSAGES 1)"


def test_status_refusals(r):
    create(r, "P/C")
    ok(r, "DELETE P")
    refused(r, "STATUS Nothing (MESSAGES)", "NO", "NONEXISTENT")
    refused(r, "STATUS P (MESSAGES)", "NO")
    refused(r, "STATUS INBOX (BOGUS)", "BAD")
    refused(r, "STATUS INBOX ()", "BAD")
    refused(r, "STATUS INBOX MESSAGES", "BAD")
    refused(r, "STATUS INBOX", "BAD")
    refused(r, 'STATUS "Bad&AGE-" (MESSAGES)', "NO", "CANNOT")
    # RFC 9051 6.3.11: no RECENT in IMAP4rev2; the rest as before, and
    # LSUB is still answered.
    ok(r, "ENABLE IMAP4rev2")
    refused(r, "STATUS INBOX (RECENT)", "BAD")
    refused(r, 'LIST "" * RETURN (STATUS (RECENT))', "BAD")
    assert status(r, "INBOX", "MESSAGES DELETED SIZE") == {
        "MESSAGES": 0, "DELETED": 0, "SIZE": 0}
    ok(r, "SUBSCRIBE INBOX")
    assert ok(r, 'LSUB "" *') == [b'* LSUB () "/" INBOX']
    assert ok(r, 'LIST "" INBOX') == [b'* LIST (\\HasNoChildren) "/" INBOX']


def test_imaplib_status(env, user):
    env.deliver(user)
    m = env.imaplib(user)
    typ, data = m.status("INBOX", "(MESSAGES UNSEEN SIZE)")
    assert typ == "OK"
    assert re.match(rb"INBOX \(MESSAGES 1 UNSEEN 1 SIZE \d+\)$", data[0])
    m.logout()


# ---- Syntax ------------------------------------------------------------------

def test_list_syntax(r):
    refused(r, "LIST", "BAD")
    refused(r, 'LIST ""', "BAD")
    refused(r, 'LIST "" % RETURN', "BAD")
    refused(r, 'LIST "" % RETURN CHILDREN', "BAD")
    refused(r, 'LIST "" % EXTRA (X)', "BAD")
    refused(r, 'LIST (SUBSCRIBED) (X) "" %', "BAD")
    refused(r, 'LIST ("SUBSCRIBED") "" %', "BAD")
    refused(r, "LSUB", "BAD")
    # Options in any case, any order, named twice (RFC 5258 3).
    assert ok(r, 'LIST (subscribed SUBSCRIBED) "" * return (children '
                 'CHILDREN)') == []
    ok(r, "SUBSCRIBE INBOX")
    assert ok(r, 'LIST (subscribed) "" * return (children)') == [
        b'* LIST (\\HasNoChildren \\Subscribed) "/" INBOX']


# ---- Other users ---------------------------------------------------------------

def test_no_way_to_other_users(env, user, r):
    other = env.new_user()
    theirs = env.login(other)
    create(theirs, "Secret/Plans")
    ok(theirs, "SUBSCRIBE Secret")
    local, domain = other.split("@")
    mine = ["INBOX"]
    for cmd in ('LIST "" *', 'LIST "" %', 'LIST ../ *', 'LIST "" ../*',
                'LIST ~%s/ *' % local, 'LIST "" "~%s/*"' % local,
                'LIST "" "%s/*"' % other, 'LIST "#shared/" *',
                'LIST "" "Other Users/*"', 'LIST / *', 'LIST "" /*',
                'LIST "../%s/" *' % other, 'LIST "%s/" *' % domain):
        assert listed(r, cmd) in (mine, []), cmd
    assert listed(r, 'LIST (SUBSCRIBED) "" *') == []
    assert listed(r, 'LSUB "" *') == []
    for name in ("Secret", "Secret/Plans", "../%s/Secret" % other,
                 "~%s/Secret" % local, "%s/Secret" % other):
        refused(r, 'STATUS "%s" (MESSAGES)' % name, "NO")
        refused(r, 'SELECT "%s"' % name, "NO")
        refused(r, 'DELETE "%s"' % name, "NO")
        refused(r, 'RENAME "%s" Mine' % name, "NO")
    # Names that look like paths are just names of this user's own.
    for name in ('"../%s"' % other, '"~%s"' % local, '"%s/Secret"' % other):
        ok(r, "CREATE %s" % name)
    ok(r, 'DELETE "../%s"' % other)
    assert listed(theirs, 'LIST "" *') == ["INBOX", "Secret", "Secret/Plans"]
    assert listed(theirs, 'LSUB "" *') == ["Secret"]
    for wild in ('"*"', '"%"', '"../*"'):
        refused(r, "CREATE %s" % wild, "NO", "CANNOT")
        refused(r, "DELETE %s" % wild, "NO")
    theirs.close()
