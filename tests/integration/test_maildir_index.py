"""storage_maildir's index and foreign files (issue #8): `poshtactl index
rebuild` makes Maildir/poshta-index.db again from the files, keeping
UIDs, UIDVALIDITY, flags and keywords, while a client stays logged in;
a file another MDA wrote with bare LF line ends is served with CRLF
lines, and every size agrees with the bytes served (RFC 5322 2.1, RFC
3501 RFC822.SIZE, RFC 1939 LIST); keyword letters are Dovecot's."""

import glob
import os
import poplib
import re
import time

import pytest

from conftest import TIMEOUT
from imap_helpers import ALICE, IMAP_LISTENERS, ImapEnv
from pop3_helpers import POP3_LISTENERS
from smtp_helpers import Ctl
from test_maildir_smoke import maildir_body


@pytest.fixture
def env(poshtad):
    body = maildir_body(poshtad)
    # poshtactl loads no pop3: its block stays out of the tool's config.
    ctl = Ctl(poshtad, load=("storage_maildir", "auth_sqlite"),
              body=body.split("pop3 {")[0])
    ctl.seed()
    listen = {"imap": IMAP_LISTENERS["imap"], "smtp": IMAP_LISTENERS["smtp"],
              "pop3": POP3_LISTENERS["pop3"]}
    text = poshtad.config(load=("storage_maildir", "auth_sqlite", "smtp",
                                "imap", "pop3"),
                          listen=listen, workers=1, tls=True, body=body,
                          top="auth_failure_delay 100ms;")
    poshtad.start(text, workers=1)
    return ImapEnv(poshtad, ctl)


def maildir(env):
    return os.path.join(env.poshtad.state, "vhosts", "example.test",
                        "alice", "Maildir")


def state(m, mailbox):
    """UIDVALIDITY and each message's UID with its flags, sorted."""
    typ, data = m.select(mailbox)
    assert typ == "OK", data
    uidvalidity = m.response("UIDVALIDITY")[1][0]
    typ, data = m.uid("FETCH", "1:*", "(FLAGS)")
    assert typ == "OK", data
    msgs = []
    for line in data:
        if not line:
            continue
        uid = int(re.search(rb"UID (\d+)", line).group(1))
        flags = re.search(rb"FLAGS \(([^)]*)\)", line).group(1).split()
        msgs.append((uid, sorted(f for f in flags if f != b"\\Recent")))
    return uidvalidity, sorted(msgs)


def setup_mail(env):
    for i in range(4):
        env.deliver(ALICE, subject="message %d" % i)
    m = env.imaplib(ALICE)
    assert m.create("Work")[0] == "OK"
    m.select("INBOX")
    assert m.uid("STORE", "1", "+FLAGS", "(\\Seen \\Flagged)")[0] == "OK"
    assert m.uid("STORE", "2", "+FLAGS", "($Label1 Project)")[0] == "OK"
    assert m.uid("STORE", "3", "+FLAGS", "(\\Deleted)")[0] == "OK"
    assert m.uid("COPY", "1:2", "Work")[0] == "OK"
    return m


def test_index_rebuild_keeps_what_the_files_say(env):
    m = setup_mail(env)
    before = {box: state(m, box) for box in ("INBOX", "Work")}
    m.select("INBOX")
    index = os.path.join(maildir(env), "poshta-index.db")
    assert os.path.exists(index)
    # A damaged index: every call fails until it is rebuilt.
    for f in glob.glob(index + "*"):
        os.unlink(f)
    with open(index, "wb") as f:
        f.write(b"this is not an SQLite database" * 100)
    typ, _ = m.uid("FETCH", "1:*", "(FLAGS)")
    assert typ == "NO"
    out = env.ctl.ok("index", "rebuild", ALICE)
    assert "alice@example.test" in out
    # The session that stayed logged in works again, then new ones.
    typ, data = m.uid("FETCH", "1:*", "(FLAGS)")
    assert typ == "OK" and len([d for d in data if d]) == 4
    m.logout()
    m = env.imaplib(ALICE)
    after = {box: state(m, box) for box in ("INBOX", "Work")}
    assert after == before
    # Changes and deliveries still work on the rebuilt index.
    m.select("INBOX")
    assert m.uid("STORE", "4", "+FLAGS", "(\\Answered)")[0] == "OK"
    env.deliver(ALICE, subject="after the rebuild")
    _, msgs = state(m, "INBOX")
    assert len(msgs) == 5 and msgs[-1][0] == 5
    assert (4, [b"\\Answered"]) in msgs
    m.logout()


def test_index_rebuild_of_a_deleted_index(env):
    m = setup_mail(env)
    before = {box: state(m, box) for box in ("INBOX", "Work")}
    m.logout()
    for f in glob.glob(os.path.join(maildir(env), "poshta-index.db*")):
        os.unlink(f)
    env.ctl.ok("index", "rebuild", ALICE)
    m = env.imaplib(ALICE)
    assert {box: state(m, box) for box in ("INBOX", "Work")} == before
    # HIGHESTMODSEQ went up, not back (RFC 7162 3.1.2.1).
    m.logout()


def test_index_rebuild_errors(env, poshtad):
    r = env.ctl.result("index", "rebuild", "nobody@example.test", code=1)
    assert b"nobody" in r.stderr
    sqlite = Ctl(poshtad)  # storage_sqlite: its database is the mail
    r = sqlite.result("index", "rebuild", ALICE, code=1)
    assert b"storage_sqlite" in r.stderr and b"no index" in r.stderr


BARE_LF = (b"From: someone@example.test\nSubject: bare lf\n\n"
           b"line one\nline two\r\nline three\n\nend\n")
CRLF = BARE_LF.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def drop(env, data):
    name = "%d.M1P1Q2.othermda" % int(time.time())
    tmp = os.path.join(maildir(env), "tmp", name)
    with open(tmp, "wb") as f:
        f.write(data)
    os.rename(tmp, os.path.join(maildir(env), "new", name))


def test_bare_lf_served_as_crlf(env):
    m = env.imaplib(ALICE)
    m.select("INBOX")  # the store exists once its user opened it
    drop(env, BARE_LF)
    m.noop()
    typ, data = m.uid("FETCH", "1", "(RFC822.SIZE BODY.PEEK[])")
    assert typ == "OK", data
    size = int(re.search(rb"RFC822.SIZE (\d+)", data[0][0]).group(1))
    body = data[0][1]
    assert body == CRLF
    assert size == len(body) == len(CRLF)
    # Pieces, as clients and the server read big bodies.
    typ, data = m.uid("FETCH", "1", "(BODY.PEEK[]<40.9>)")
    assert typ == "OK" and data[0][1] == CRLF[40:49]
    typ, data = m.uid("FETCH", "1", "(BODY.PEEK[TEXT])")
    assert data[0][1] == CRLF[CRLF.index(b"\r\n\r\n") + 4:]
    m.logout()
    p = poplib.POP3("127.0.0.1", env.port("pop3"), timeout=TIMEOUT)
    p.user(ALICE)
    p.pass_(env.passwords[ALICE])
    _, listing, _ = p.list()
    octets = int(listing[0].split()[1])
    _, lines, got = p.retr(1)
    assert octets == len(CRLF) == got
    assert b"\r\n".join(lines) + b"\r\n" == CRLF
    p.quit()


def test_keyword_letters_as_dovecot(env):
    env.deliver(ALICE, subject="keywords")
    root = maildir(env)
    # A dovecot-keywords with a gap: Dovecot gives a new keyword the
    # first free letter (b), and keeps letters it does not know (P).
    with open(os.path.join(root, "dovecot-keywords"), "w") as f:
        f.write("0 $Junk\n2 Later\n")
    m = env.imaplib(ALICE)
    m.select("INBOX")
    cur = glob.glob(os.path.join(root, "cur", "*"))
    assert len(cur) == 1
    os.rename(cur[0], cur[0] + "P")  # mutt's "passed"
    assert m.uid("STORE", "1", "+FLAGS", "(\\Seen NewOne later)")[0] == "OK"
    cur = glob.glob(os.path.join(root, "cur", "*"))
    assert cur[0].endswith(":2,PSbc"), cur
    with open(os.path.join(root, "dovecot-keywords")) as f:
        assert f.read() == "0 $Junk\n1 NewOne\n2 Later\n"
    typ, data = m.uid("FETCH", "1", "(FLAGS)")
    flags = re.search(rb"FLAGS \(([^)]*)\)", data[0]).group(1).split()
    flags = [f for f in flags if f != b"\\Recent"]
    assert sorted(flags) == sorted([b"\\Seen", b"NewOne", b"Later"])
    m.logout()


def fetch_flags(m, uid):
    typ, data = m.uid("FETCH", str(uid), "(FLAGS)")
    assert typ == "OK", data
    line = [d for d in data if d][0]
    line = line[0] if isinstance(line, tuple) else line
    flags = re.search(rb"FLAGS \(([^)]*)\)", line).group(1).split()
    return sorted(f for f in flags if f != b"\\Recent")


def test_changes_by_another_mda_show_through_the_cache(env):
    """A handle reuses its scan while its folder's stamps hold: flags
    another MDA changes (a rename in cur/) show at once, after a quiet
    second (the stamp is trusted) and within the same second (it is
    not)."""
    env.deliver(ALICE, subject="cached")
    root = maildir(env)
    m = env.imaplib(ALICE)
    m.select("INBOX")
    time.sleep(1.2)
    index = os.path.join(root, "poshta-index.db")
    before = os.stat(index).st_mtime_ns
    assert fetch_flags(m, 1) == []
    assert fetch_flags(m, 1) == []  # from the stamp, no scan
    # Reads write nothing to the index: its file is part of the stamp.
    assert os.stat(index).st_mtime_ns == before
    cur = glob.glob(os.path.join(root, "cur", "*"))[0]
    os.rename(cur, cur + "F")
    assert fetch_flags(m, 1) == [b"\\Flagged"]
    os.rename(cur + "F", cur + "FS")  # the same second
    assert fetch_flags(m, 1) == [b"\\Flagged", b"\\Seen"]
    typ, data = m.uid("FETCH", "1", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    assert typ == "OK" and b"cached" in data[0][1]
    m.logout()
