"""storage_maildir behind every protocol (issue #8): poshtad with
storage_maildir, auth_sqlite, smtp, imap and pop3 takes a message by SMTP
and serves it over IMAP and POP3; flags set over IMAP are the ":2,"
info of the file on disk; and a file another MDA drops into new/ shows
over IMAP with a fresh UID."""

import glob
import os
import poplib
import time

import pytest

from conftest import TIMEOUT, quote
from imap_helpers import ALICE, IMAP_LISTENERS, ImapEnv
from pop3_helpers import POP3_LISTENERS
from smtp_helpers import Ctl


def maildir_body(poshtad):
    return ("storage_maildir {\n\tpath %s;\n}\nauth_sqlite {\n\tpath %s;\n}\n"
            "pop3 {\n\tmark_seen on;\n}\n"
            % (quote(os.path.join(poshtad.state, "vhosts")),
               quote(os.path.join(poshtad.state, "users.db"))))


@pytest.fixture
def env(poshtad):
    body = maildir_body(poshtad)
    ctl = Ctl(poshtad, load=("storage_maildir", "auth_sqlite"), body=body)
    ctl.seed()
    listen = {"imap": IMAP_LISTENERS["imap"], "smtp": IMAP_LISTENERS["smtp"],
              "pop3": POP3_LISTENERS["pop3"]}
    text = poshtad.config(load=("storage_maildir", "auth_sqlite", "smtp",
                                "imap", "pop3"),
                          listen=listen, workers=1, tls=True, body=body,
                          top="auth_failure_delay 100ms;")
    poshtad.start(text, workers=1)
    return ImapEnv(poshtad, ctl)


def inbox(env):
    return os.path.join(env.poshtad.state, "vhosts", "example.test",
                        "alice", "Maildir")


def test_smtp_imap_pop3_and_flags_on_disk(env):
    env.deliver(ALICE, subject="over smtp")
    files = glob.glob(os.path.join(inbox(env), "new", "*"))
    assert len(files) == 1
    m = env.imaplib(ALICE)
    typ, data = m.select("INBOX")
    assert typ == "OK" and data[0] == b"1"
    typ, data = m.uid("FETCH", "1:*", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    assert typ == "OK" and b"over smtp" in data[0][1]
    typ, _ = m.uid("STORE", "1:*", "+FLAGS", "(\\Seen \\Flagged)")
    assert typ == "OK"
    cur = glob.glob(os.path.join(inbox(env), "cur", "*"))
    assert len(cur) == 1 and cur[0].endswith(":2,FS"), cur
    m.logout()
    p = poplib.POP3("127.0.0.1", env.port("pop3"), timeout=TIMEOUT)
    p.user(ALICE)
    p.pass_(env.passwords[ALICE])
    count, _ = p.stat()
    assert count == 1
    assert b"Subject: over smtp" in b"\r\n".join(p.retr(1)[1])
    p.quit()


def test_file_dropped_by_another_mda(env):
    env.deliver(ALICE, subject="first")
    m = env.imaplib(ALICE)
    m.select("INBOX")
    typ, data = m.uid("SEARCH", "ALL")
    first = [int(u) for u in data[0].split()]
    name = "%d.M1P1Q1.othermda" % int(time.time())
    tmp = os.path.join(inbox(env), "tmp", name)
    with open(tmp, "wb") as f:
        f.write(b"Subject: dropped\r\n\r\nby hand\r\n")
    os.rename(tmp, os.path.join(inbox(env), "new", name))
    m.noop()
    typ, data = m.uid("SEARCH", "ALL")
    uids = [int(u) for u in data[0].split()]
    assert len(uids) == 2 and uids[-1] > max(first)
    typ, data = m.uid("FETCH", str(uids[-1]), "(BODY.PEEK[HEADER])")
    assert typ == "OK" and b"dropped" in data[0][1]
    m.logout()
