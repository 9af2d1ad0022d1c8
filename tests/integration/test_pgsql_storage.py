"""storage_pgsql behind every protocol (issue #8): poshtad with
storage_pgsql (and auth_sqlite) takes a message by SMTP and serves it over
IMAP (SELECT, FETCH, STORE, COPY, EXPUNGE) and POP3; a message SMTP
acknowledged survives kill -9 of every process; and two front ends
(separate poshtad processes and state dirs) on one database see each
other's changes at once: a delivery on A shows in an IDLE session on B
within a second, flags set on B show in an IDLE session on A."""

import os
import poplib
import re
import smtplib
import time

import pytest

from conftest import SANITIZER_REPORT, TIMEOUT, Poshtad, quote, wait_for
from imap_helpers import ALICE, IMAP_LISTENERS, ImapEnv
from pg_helpers import pg_cluster, pg_db  # noqa: F401 (fixtures)
from pop3_helpers import POP3_LISTENERS
from smtp_helpers import Ctl

LOAD = ("storage_pgsql", "auth_sqlite")


def pgsql_body(poshtad, conninfo):
    return ("storage_pgsql {\n\tconninfo %s;\n\tconnections 4;\n}\n"
            "auth_sqlite {\n\tpath %s;\n}\n"
            % (quote(conninfo),
               quote(os.path.join(poshtad.state, "users.db"))))


def front_end(poshtad, conninfo, workers=1):
    """Start poshtad on the shared database with its own users database
    (the same users: seeded alike) and listeners; an ImapEnv for it."""
    body = pgsql_body(poshtad, conninfo)
    ctl = Ctl(poshtad, load=LOAD, body=body)
    ctl.seed()
    listen = {"imap": IMAP_LISTENERS["imap"], "smtp": IMAP_LISTENERS["smtp"],
              "pop3": POP3_LISTENERS["pop3"]}
    text = poshtad.config(load=LOAD + ("smtp", "imap", "pop3"),
                          listen=listen, workers=workers, tls=True,
                          body=body, top="auth_failure_delay 100ms;")
    poshtad.start(text, workers=workers)
    env = ImapEnv(poshtad, ctl)
    env.config_text = text
    return env


@pytest.fixture
def env(poshtad, pg_db):
    return front_end(poshtad, pg_db)


@pytest.fixture
def second(sdk, certs, tmp_path, pg_db, env):
    """Front end B: another poshtad, its own state dir and ports, on the
    database of env (front end A)."""
    server = Poshtad(sdk, certs, str(tmp_path / "second"))
    yield front_end(server, pg_db, workers=2)
    server.stop()
    report = SANITIZER_REPORT.search(server.log())
    assert not report, "sanitizer report in B's log:\n" + server.log()[
        max(0, report.start() - 200):report.start() + 3000]


def test_smtp_imap_pop3(env):
    env.deliver(ALICE, subject="over smtp")
    env.deliver(ALICE, subject="second one")
    m = env.imaplib(ALICE)
    typ, data = m.select("INBOX")
    assert typ == "OK" and data[0] == b"2"
    typ, data = m.uid("FETCH", "1:*", "(FLAGS BODY.PEEK[HEADER.FIELDS "
                      "(SUBJECT)])")
    assert typ == "OK" and b"over smtp" in data[0][1]
    assert b"second one" in data[2][1]
    typ, data = m.uid("STORE", "1", "+FLAGS", "(\\Flagged $Work)")
    assert typ == "OK" and b"\\Flagged" in data[0] and b"$Work" in data[0]
    typ, data = m.create("Archive")
    assert typ == "OK"
    typ, data = m.uid("COPY", "1:2", "Archive")
    assert typ == "OK"
    # RFC 4315 COPYUID: imaplib files the response code aside.
    typ, data = m.response("COPYUID")
    assert data and data[0].split()[1:] == [b"1:2", b"1:2"], data
    typ, _ = m.uid("STORE", "2", "+FLAGS", "(\\Deleted)")
    typ, data = m.expunge()
    assert typ == "OK" and data == [b"2"]
    typ, data = m.status("Archive", "(MESSAGES UIDNEXT)")
    assert typ == "OK" and b"MESSAGES 2" in data[0], data
    m.select("Archive")
    typ, data = m.uid("FETCH", "1", "(FLAGS BODY[])")
    assert b"\\Flagged" in data[0][0] and b"over smtp" in data[0][1]
    m.logout()
    p = poplib.POP3("127.0.0.1", env.port("pop3"), timeout=TIMEOUT)
    p.user(ALICE)
    p.pass_(env.passwords[ALICE])
    count, _ = p.stat()
    assert count == 1
    assert b"Subject: over smtp" in b"\r\n".join(p.retr(1)[1])
    p.quit()


def test_kill9_after_250(env):
    """A message acknowledged with 250 is there after kill -9 of the
    master and every worker the instant the reply is read."""
    for i in range(3):
        s = smtplib.SMTP("127.0.0.1", env.port("smtp"), timeout=TIMEOUT)
        s.sendmail("x@remote.test", [ALICE],
                   ("From: x@remote.test\r\nSubject: durable %d\r\n\r\n%s"
                    % (i, "line\r\n" * (i * 20000 + 1))).encode())
        env.poshtad.kill_all()
        s.close()
        env.poshtad.start(env.config_text, workers=1)
        got = env.ctl.messages(ALICE)
        assert len(got) == i + 1, (i, len(got))
        assert b"Subject: durable %d" % i in got[-1]


def idle(env, user=ALICE, mailbox="INBOX"):
    r = env.login(user)
    r.ok("SELECT %s" % mailbox)
    r.send("i1 IDLE\r\n")
    assert r.line().startswith(b"+ ")
    return r


def wait_line(r, what):
    """The first untagged line holding what, and the seconds it took."""
    start = time.monotonic()
    while True:
        line = r.line()
        if what in line:
            return line, time.monotonic() - start


def test_two_front_ends(env, second):
    # B idles on the INBOX A delivers to.
    b = idle(second)
    env.deliver(ALICE, subject="via A")
    line, took = wait_line(b, b"EXISTS")
    assert line == b"* 1 EXISTS" and took < 1.0, (line, took)
    b.send("DONE\r\n")
    b.until("i1")
    # A idles; B sets a flag; A hears it as a FETCH of the new flags.
    a = idle(env)
    b.ok("UID STORE 1 +FLAGS (\\Flagged)")
    line, took = wait_line(a, b"FETCH")
    assert b"\\Flagged" in line and took < 1.0, (line, took)
    a.send("DONE\r\n")
    a.until("i1")
    # And the other way round: a delivery on B reaches A's IDLE.
    a.send("i2 IDLE\r\n")
    assert a.line().startswith(b"+ ")
    second.deliver(ALICE, subject="via B")
    line, took = wait_line(a, b"EXISTS")
    assert line == b"* 2 EXISTS" and took < 1.0, (line, took)
    a.send("DONE\r\n")
    a.until("i2")
    _, data = a.command("UID FETCH 1:* (FLAGS)")
    assert b"\\Flagged" in data or any(b"\\Flagged" in x for x in _)
    a.close()
    b.close()


def test_connections_come_back(env, second, pg_cluster, pg_db):
    """Every connection of both front ends cut by the server (a restart,
    a failover): the pools reopen theirs at the next call, the LISTEN
    connections come back after their backoff, and a delivery on A
    reaches B's IDLE session again."""
    db = re.search(r"dbname=(\w+)", pg_db).group(1)
    b = idle(second)

    def listeners():
        return int(pg_cluster.psql(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = '%s'"
            " AND query = 'LISTEN poshta_store'" % db))

    wait_for("3 listeners", lambda: listeners() == 3)
    pg_cluster.psql("SELECT count(pg_terminate_backend(pid)) FROM"
                    " pg_stat_activity WHERE datname = '%s'" % db)
    wait_for("listeners back", lambda: listeners() == 3)
    env.deliver(ALICE, subject="after the cut")
    line, took = wait_line(b, b"EXISTS")
    assert line == b"* 1 EXISTS" and took < 1.0, (line, took)
    b.send("DONE\r\n")
    b.until("i1")
    b.close()
    assert "paused" in second.poshtad.log()
